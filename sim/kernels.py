"""Array kernels of the week's work: whole powers by repeated squaring, and sums of products
over taskers in float64 blocks without BLAS (the same bits whatever the thread settings)."""

from __future__ import annotations

import numpy as np

F32 = np.float32
BLOCK = 1 << 16  # taskers per block of a long float32 sum


def power(x: np.ndarray, exponent: float) -> np.ndarray:
    """`x ** exponent`; a whole exponent up to 64 by repeated squaring (pow is ~20x slower)."""
    n = int(exponent)
    if n != exponent or not 0 <= n <= 64:
        return x ** F32(exponent)
    if n == 0:
        return np.ones_like(x)
    result, base = None, x
    while n:
        if n & 1:
            result = base.copy() if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    return result


def sum_of_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`[i, j]` = sum over taskers of `a[i] * b[j]`, with float64 totals across blocks.

    Pure numpy, no BLAS: the same bits whatever the thread settings (and OpenBLAS threads
    left spinning after a call slow the rest of the step on shared cores).
    """
    out = np.zeros((a.shape[0], b.shape[0]))
    for start in range(0, a.shape[1], BLOCK):
        part = slice(start, start + BLOCK)
        out += np.einsum("im,jm->ij", a[:, part], b[:, part])
    return out
