"""Matching and work on one platform: vectorised over the platform's active taskers."""

from __future__ import annotations

import ctypes
import platform
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

F32 = np.float32
BLOCK = 1 << 16  # taskers per block of a long float32 sum


@dataclass
class Crew:
    """A week's active taskers on a run of platforms (`platforms`), platform by platform and
    within one country by country, with what matching needs per tasker; `row` is each
    one's row in the pool."""

    platforms: range
    row: np.ndarray
    bounds: np.ndarray  # the run's i-th platform has taskers [bounds[i], bounds[i + 1])
    groups: np.ndarray  # (platform, country) groups, consecutive: platforms x countries + 1
    country: np.ndarray
    qual: np.ndarray  # unpaid qualification hours this week
    available: np.ndarray  # hours offered for paid work
    skill: np.ndarray
    reputation: np.ndarray  # allocation weight, approval ** power
    accuracy: np.ndarray  # after quality shirking
    local: np.ndarray  # pay localisation multiplier
    floor: np.ndarray | None  # pay floor, USD per hour (None: no floor this week)
    detect: np.ndarray  # per platform (all of them): share of LLM labels detected
    modes: dict  # with an LLM or not: (speed, reject share, LLM use, speed x reputation)
    hours_left: np.ndarray = field(init=False)  # used up job by job
    week: dict[str, np.ndarray] = field(init=False)  # per-tasker totals of the week's work

    def __post_init__(self) -> None:
        self.hours_left = self.available.copy()
        names = ("task_hours", "pay", "paid_hours", "tasks", "accepted", "fake", "topup")
        self.week = {k: np.zeros(self.row.size, F32) for k in names}

    def segment(self, platform: int) -> slice:
        i = platform - self.platforms.start
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def country_bounds(self, platform: int, n_countries: int) -> np.ndarray:
        """Where each country's taskers start within the platform's segment (and the end)."""
        i = platform - self.platforms.start
        bounds = self.groups[i * n_countries : (i + 1) * n_countries + 1]
        return bounds - bounds[0]


def split_platforms(sizes: list[int], parts: int) -> list[range]:
    """Platforms 0..n-1 in `parts` contiguous runs of about equal total size (none empty)."""
    n = len(sizes)
    parts = max(1, min(parts, n))
    ends = np.cumsum(sizes)
    cuts = [0]
    for k in range(1, parts):  # the platform boundary nearest k / parts of the taskers
        cut = int(np.argmin(np.abs(ends[:-1] - ends[-1] * k / parts))) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), n - (parts - k)))
    cuts.append(n)
    return [range(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


@dataclass
class WorkMode:
    """How a platform's taskers do one kind of task: with or without an LLM where usable."""

    speed: np.ndarray  # per tasker, median-speed hours per hour
    reject: np.ndarray  # per tasker, share of tasks rejected
    llm: np.ndarray | None = None  # per tasker, uses an LLM (None: LLMs not usable)
    speed_weight: np.ndarray | None = None  # per tasker, speed x reputation
    jobs: list = field(default_factory=list)  # the jobs done this way, in the order worked
    tasks: np.ndarray | None = None  # [job, tasker] tasks done
    pay_per_rate: np.ndarray | None = None  # under a floor: hourly pay per USD of piece rate
    paid_hours_per_hour: np.ndarray | None = None  # per tasker, paid hours per hour worked


def allocate(
    volume: float, capacity: np.ndarray, weight: np.ndarray, rounds: int = 4
) -> np.ndarray:
    """Share `volume` in proportion to `weight`, capped by `capacity`, excess redistributed."""
    given = np.zeros_like(capacity)
    if volume <= 0 or capacity.size == 0:
        return given
    free = capacity.copy()
    w = np.where(free > 0, weight, F32(0.0))
    left = volume
    for _ in range(rounds):
        total = float(w.sum())
        if total <= 0 or left <= volume * 1e-9:
            break
        add = w * F32(left / total)
        if not (add > free).any():  # nobody capped: the whole remainder is placed
            given += add
            break
        np.minimum(add, free, out=add)
        given += add
        free -= add
        left = volume - float(given.sum())
        w = np.where(free > 0, w, F32(0.0))
    return given


def work_job(
    volume: float,
    tasks_per_hour: float,
    hours_left: np.ndarray,
    speed: np.ndarray,
    weight_per_hour: np.ndarray,
    max_weight_per_hour: float,
    out: np.ndarray,
    speed_weight: np.ndarray | None = None,
) -> None:
    """Share one job's `volume` tasks among taskers; write tasks into `out`, use up hours.

    A tasker's capacity is `hours_left x speed x tasks_per_hour` tasks and their share of
    the job is in proportion to capacity x `weight_per_hour` (reputation, floor screening:
    at most `max_weight_per_hour`), capped by capacity with the excess redistributed
    (`allocate`). `hours_left` is reduced in place by the hours the tasks take.
    `speed_weight` is `speed x weight_per_hour` when the caller has it already.
    """
    if speed_weight is None:
        speed_weight = speed * weight_per_hour
    weight = np.multiply(hours_left, speed_weight, out=out)
    total = float(weight.sum())
    if volume <= 0 or total <= 0:
        out.fill(0.0)
        return
    used = volume / (total * tasks_per_hour)  # share of capacity used per unit of weight
    if max_weight_per_hour * used <= 1.0 - 1e-6:  # excess supply: nobody is capped
        out *= F32(volume / total)
        keep = np.multiply(weight_per_hour, F32(-used))
        keep += 1.0
        hours_left *= keep
        return
    capacity = hours_left * speed * F32(tasks_per_hour)
    out[:] = allocate(volume, capacity, weight * F32(tasks_per_hour))
    hours_left -= out / (speed * F32(tasks_per_hour))
    np.maximum(hours_left, 0.0, out=hours_left)


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


# active taskers from which a week's platforms are worked on two threads, in two runs of
# platforms: below it, thread hand-offs cost more than they save (a speed setting, not a
# model parameter)
THREADED_MIN_TASKERS = 200_000
_THREADS: ThreadPoolExecutor | None = None


def worker_threads() -> ThreadPoolExecutor:
    """Two threads for platforms' work in large populations (created on first use)."""
    global _THREADS
    if _THREADS is None:
        _THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="datalabour")
    return _THREADS


def reuse_freed_memory() -> None:
    """Keep freed memory in the process for the next step's temporaries (glibc only).

    A step allocates and frees many arrays of the population's size. By default glibc
    maps large blocks fresh from the OS and returns them on free, so every step pays for
    zero-filling new pages: about a third of the step time at a million taskers. Without
    mmap and heap trimming, freed blocks are reused instead; the cost is that the process
    keeps its peak heap until it exits (process-wide). Worker threads share the main heap
    (one arena): a thread's own heaps are unmapped when they empty at the end of a week,
    and refilled page by page the next (about 2,000 page faults a week at 1M).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(None)
    m_trim_threshold, m_mmap_max, m_arena_max = -1, -4, -8  # <malloc.h>
    libc.mallopt(m_mmap_max, 0)
    libc.mallopt(m_trim_threshold, 2**31 - 1)
    libc.mallopt(m_arena_max, 1)


# peak memory of one run: the interpreter and libraries, and per potential tasker (measured
# 294-452 B at 1M-10M, benchmarks/README.md; with headroom). An engineering estimate for the
# check below, not a model parameter.
BASE_BYTES = 250 * 2**20
PEAK_BYTES_PER_TASKER = 550


def memory_available(cgroup: str = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory available to new processes now (Linux), None where unknown: the
    machine's available memory, or less under a container's limit (cgroup v2)."""
    free = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open(f"{cgroup}/memory.max") as f:
            limit = f.read().strip()
        with open(f"{cgroup}/memory.current") as f:
            used = int(f.read().strip())
        if limit != "max" and free is not None:
            free = min(free, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit here
    return free


def memory_needed(taskers: int, runs: int = 1) -> int:
    """Estimated peak bytes of `runs` runs of `taskers` potential taskers side by side."""
    return runs * (BASE_BYTES + PEAK_BYTES_PER_TASKER * taskers)


def check_memory(taskers: int, runs: int = 1, available: int | None = None) -> None:
    """Raise ScenarioError if `runs` side-by-side runs of this population cannot fit in memory."""
    from sim.scenario import ScenarioError

    free = memory_available() if available is None else available
    need = memory_needed(taskers, runs)
    if free is None or need <= free:
        return
    fits = max(0, (free // max(runs, 1) - BASE_BYTES) // PEAK_BYTES_PER_TASKER)
    side = "" if runs == 1 else f" ({runs} runs side by side)"
    raise ScenarioError(
        f"population.taskers: {taskers:,} needs about {need / 2**30:.1f} GB of memory{side}, "
        f"about {PEAK_BYTES_PER_TASKER} bytes per potential tasker; {free / 2**30:.1f} GB are "
        f"available, enough for up to {fits:,} taskers"
    )
