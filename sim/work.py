"""Matching and work on one platform: vectorised over the platform's active taskers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def allocate(volume: float, capacity: np.ndarray, weight: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Share `volume` in proportion to `weight`, capped by `capacity`, excess redistributed."""
    given = np.zeros_like(capacity)
    if volume <= 0 or capacity.size == 0:
        return given
    free = capacity.copy()
    left = volume
    for _ in range(rounds):
        w = np.where(free > 0, weight, 0.0)
        total = w.sum()
        if total <= 0 or left <= volume * 1e-9:
            break
        add = np.minimum(free, w * (left / total))
        given += add
        free -= add
        left = volume - given.sum()
    return given


@dataclass
class WeekOnPlatform:
    """What the platform's active taskers did this week (arrays over its members)."""

    pay: np.ndarray
    paid_hours: np.ndarray
    unpaid_hours: np.ndarray
    task_hours: np.ndarray
    offered_hours: np.ndarray
    accepted: np.ndarray
    rejected: np.ndarray
    llm_detected: np.ndarray
    fake: np.ndarray
    topup: np.ndarray
