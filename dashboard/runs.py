"""Running comparisons for the dashboard: cached runs, replicates in parallel processes.

Every number still comes from `sim.run` and `sim.compare.compare`; this module only decides
where and when runs happen. A run is cached by (canonical scenario JSON, seed), so the
baseline is run once and a lever change only runs the reform. Runs are deterministic in
scenario and seed, so a run done in a worker process equals one done here.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from sim.compare import Comparison, compare, paired_table, replicate_seeds
from sim.results import RunResult, run
from sim.scenario import Scenario

RunKey = tuple[str, int]


class RunCache:
    """A thread-safe LRU of RunResults keyed by (canonical scenario JSON, seed)."""

    def __init__(self, maxsize: int = 400) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[RunKey, RunResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: RunKey) -> RunResult | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: RunKey, value: RunResult) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


CACHE = RunCache()
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def workers() -> int:
    """Worker processes: DATALABOUR_DASHBOARD_WORKERS, else one per core (at most 4)."""
    env = os.environ.get("DATALABOUR_DASHBOARD_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def _pool() -> ProcessPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            # One BLAS thread per worker: the workers already use every core between them.
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["sim.results", "dashboard.runs"])
            _POOL = ProcessPoolExecutor(max_workers=workers(), mp_context=ctx)
        return _POOL


def _drop_pool() -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
            _POOL = None


atexit.register(_drop_pool)


def run_key(scenario: Scenario, seed: int) -> RunKey:
    return (scenario.canonical_json(), int(seed))


def _run_in_worker(scenario: Scenario, seed: int) -> RunResult:
    return run(scenario, seed)


def ensure_runs(
    jobs: list[tuple[Scenario, int]],
    progress: Callable[[int, int], None] | None = None,
    arrived: Callable[[dict[RunKey, RunResult]], None] | None = None,
) -> dict[RunKey, RunResult]:
    """The results of every (scenario, seed), from the cache or run (in parallel if useful).

    `progress(done, total)` follows the new runs; `arrived(got)` is called with the results
    so far each time new ones arrive.
    """
    got: dict[RunKey, RunResult] = {}
    todo: dict[RunKey, tuple[Scenario, int]] = {}
    for scenario, seed in jobs:
        key = run_key(scenario, seed)
        hit = CACHE.get(key)
        if hit is not None:
            got[key] = hit
        else:
            todo.setdefault(key, (scenario, seed))
    total = len(todo)
    if progress:
        progress(0, total)
    if total == 0:
        return got
    if workers() == 1 or total == 1:
        for i, (key, (scenario, seed)) in enumerate(todo.items(), start=1):
            got[key] = run(scenario, seed)
            CACHE.put(key, got[key])
            if progress:
                progress(i, total)
            if arrived:
                arrived(got)
        return got
    try:
        pool = _pool()
        futures = {pool.submit(_run_in_worker, s, seed): key for key, (s, seed) in todo.items()}
        pending, done_count = set(futures), 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key = futures[fut]
                got[key] = fut.result()
                CACHE.put(key, got[key])
                done_count += 1
            if progress:
                progress(done_count, total)
            if arrived and pending:
                arrived(got)
    except BrokenProcessPool:
        _drop_pool()
        for key, (scenario, seed) in todo.items():
            if key not in got:
                got[key] = run(scenario, seed)
                CACHE.put(key, got[key])
    return got


@dataclass
class Computed:
    """A comparison with how it was obtained."""

    comparison: Comparison
    seconds: float
    new_runs: int
    cached_runs: int


def provisional_at(replicates: int) -> int:
    """Paired replicates after which a provisional comparison is shown (0: none)."""
    return 4 if replicates >= 8 else 0


def compare_cached(
    baseline: Scenario,
    reform: Scenario,
    replicates: int,
    progress: Callable[[int, int], None] | None = None,
    provisional: Callable[[Comparison], None] | None = None,
) -> Computed:
    """`sim.compare.compare` with common random numbers, runs cached and run in parallel.

    With `provisional`, once `provisional_at(replicates)` paired replicates are done (and
    more are still running) it is called once with the comparison over those replicates.
    """
    start = time.perf_counter()
    seeds = replicate_seeds(baseline.seed, replicates)
    jobs = [(s, seed) for seed in seeds for s in (baseline, reform)]
    before = {run_key(s, seed) for s, seed in jobs if CACHE.get(run_key(s, seed)) is not None}
    shown = not provisional or provisional_at(replicates) == 0

    def arrived(got: dict[RunKey, RunResult]) -> None:
        nonlocal shown
        pairs = [
            seed for seed in seeds
            if run_key(baseline, seed) in got and run_key(reform, seed) in got
        ]
        if shown or len(pairs) < provisional_at(replicates) or len(pairs) == replicates:
            return
        shown = True
        b = [got[run_key(baseline, seed)] for seed in pairs]
        r = [got[run_key(reform, seed)] for seed in pairs]
        provisional(Comparison(baseline, reform, pairs, b, r, paired_table(b, r)))

    got = ensure_runs(jobs, progress, arrived)
    comparison = compare(baseline, reform, replicates, runner=lambda s, seed: got[run_key(s, seed)])
    unique = {run_key(s, seed) for s, seed in jobs}
    return Computed(
        comparison=comparison,
        seconds=time.perf_counter() - start,
        new_runs=len(unique - before),
        cached_runs=len(unique & before),
    )
