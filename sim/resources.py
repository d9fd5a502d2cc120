"""What a run takes from the machine: memory (the guard against runs that cannot fit), worker
threads and the C allocator's settings. No model logic: the CLI, sweeps and the dashboard
import this, not the matching code."""

from __future__ import annotations

import ctypes
import platform
from concurrent.futures import ThreadPoolExecutor

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

    Opt-in: the CLI and the benchmarks call it; a library user (a notebook, an EMA process)
    may, knowing that it changes the memory behaviour of their whole process.

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


# address space a run maps beyond its data (interpreter, libraries, thread stacks): a run of
# 2,000 taskers starts here under `ulimit -v` 650 MB but not 500 MB, and 1M taskers under
# 1,000 MB (1.5M do not); with headroom. An engineering estimate, not a model parameter.
ADDRESS_SPACE_BASE = 768 * 2**20


def address_space_limit() -> int | None:
    """This process's address-space limit in bytes (RLIMIT_AS, `ulimit -v`); None if none."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def memory_needed(taskers: int, runs: int = 1) -> int:
    """Estimated peak bytes of `runs` runs of `taskers` potential taskers side by side."""
    return runs * (BASE_BYTES + PEAK_BYTES_PER_TASKER * taskers)


def check_memory(
    taskers: int, runs: int = 1, available: int | None = None, address_space: int | None = None
) -> None:
    """Raise ScenarioError if `runs` side-by-side runs of this population cannot fit in memory,
    or one run not within the process's address-space limit (each worker process has it)."""
    from sim.scenario import ScenarioError

    limit = address_space_limit() if address_space is None else address_space
    need = ADDRESS_SPACE_BASE + PEAK_BYTES_PER_TASKER * taskers
    if limit is not None and need > limit:
        fits = max(0, (limit - ADDRESS_SPACE_BASE) // PEAK_BYTES_PER_TASKER)
        raise ScenarioError(
            f"population.taskers: {taskers:,} needs about {need / 2**30:.1f} GB of address "
            f"space; this process's limit (ulimit -v) is {limit / 2**30:.1f} GB, enough for up "
            f"to {fits:,} taskers"
        )
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
