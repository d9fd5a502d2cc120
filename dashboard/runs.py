"""Running comparisons for the dashboard: cached runs, one killable process per run.

Every number still comes from `sim.run` and `sim.compare`; this module only decides where and
when runs happen. A run is cached by (canonical scenario JSON, seed), so the baseline is run
once and a lever change only runs the reform. Each run is a process of its own, started from
a forkserver, so a comparison that is stopped (or whose browser session ended) has its
pending runs dropped and its running ones killed at once. Worker processes ask the kernel to
kill them when their parent dies (Linux parent-death signal), and the forkserver exits when
the server does, so no run outlives the server, whether it ends by SIGTERM or SIGKILL.
"""

from __future__ import annotations

import atexit
import ctypes
import multiprocessing
import os
import select
import signal
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field

from sim.compare import Comparison, compare, paired_table, replicate_seeds
from sim.results import RunResult, run
from sim.scenario import Scenario
from sim.scenario_files import load_scenario

RunKey = tuple[str, int]
# Speed before any run has been timed here, in tasker-weeks per second per worker: the
# 20,000-tasker, 104-week baseline in 0.81 s (benchmarks/README.md, this host). Replaced by the
# speed measured on this server as soon as a run finishes.
PRIOR_TASKER_WEEKS_PER_SECOND = 20_000 * 104 / 0.81
RUN_OVERHEAD_SECONDS = 0.3  # a worker's start and the result's transfer, per run


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


def workers() -> int:
    """Runs side by side: DATALABOUR_DASHBOARD_WORKERS, else one per core (at most 4).

    With 1, runs happen in a thread of this process (AppTest) and cannot be killed.
    """
    env = os.environ.get("DATALABOUR_DASHBOARD_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def run_key(scenario: Scenario, seed: int) -> RunKey:
    return (scenario.canonical_json(), int(seed))


# ---- speed and estimates ---------------------------------------------------------------
_SPEED = {"tasker_weeks_per_second": PRIOR_TASKER_WEEKS_PER_SECOND}


def _tasker_weeks(scenario: Scenario) -> float:
    return float(scenario.population.taskers) * scenario.weeks


def record_speed(scenario: Scenario, seconds: float) -> None:
    """Fold a finished run's speed into the estimate (exponentially weighted)."""
    if seconds > 0:
        measured = _tasker_weeks(scenario) / seconds
        old = _SPEED["tasker_weeks_per_second"]
        _SPEED["tasker_weeks_per_second"] = 0.5 * old + 0.5 * measured


def estimate_seconds(jobs: list[tuple[Scenario, int]]) -> float:
    """Wall time for the runs not yet cached, run `workers()` at a time."""
    todo = {run_key(s, seed): s for s, seed in jobs if CACHE.get(run_key(s, seed)) is None}
    if not todo:
        return 0.0
    work = sum(_tasker_weeks(s) / _SPEED["tasker_weeks_per_second"] for s in todo.values())
    return (work + RUN_OVERHEAD_SECONDS * len(todo)) / min(workers(), len(todo))


# ---- worker processes --------------------------------------------------------------------
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent (the forkserver) exits."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the server watch below still applies
        return


def _exit_with(server: int) -> None:
    """End this process as soon as the server process `server` is gone."""
    try:
        handle = os.pidfd_open(server)
    except ProcessLookupError:
        os._exit(1)
    except (OSError, AttributeError):  # no pidfd: look every second
        while True:
            time.sleep(1)
            try:
                os.kill(server, 0)
            except ProcessLookupError:
                os._exit(1)
    select.select([handle], [], [])
    os._exit(1)


def _child(conn, scenario: Scenario, seed: int, server: int) -> None:
    """A worker process: one run, its result sent back; it never outlives the server."""
    _die_with_parent()
    threading.Thread(target=_exit_with, args=(server,), daemon=True).start()
    start = time.perf_counter()
    try:
        conn.send((run(scenario, seed), time.perf_counter() - start))
    except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
        conn.send((e, 0.0))
    conn.close()


class RunCancelled(CancelledError):
    """The run was dropped or killed because nobody wants it any more."""


@dataclass
class _Task:
    key: RunKey
    scenario: Scenario
    seed: int
    future: Future = field(default_factory=Future)
    owners: set[str] = field(default_factory=set)
    process: multiprocessing.Process | None = None


class RunPool:
    """Runs at most `workers()` at a time, each in its own process, cancellable by owner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[RunKey, _Task] = {}
        self._free = threading.Condition()
        self._running = 0
        self._queue: deque[_Task] = deque()  # first submitted, first started
        self._ctx = None

    def _context(self):
        if self._ctx is None and workers() > 1:
            # One BLAS thread per worker: the workers already use every core between them.
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["sim.results", __name__])
            self._ctx = ctx
        return self._ctx

    def submit(self, scenario: Scenario, seed: int, owner: str) -> Future:
        """The future of a run; a run already under way for another owner is shared."""
        key = run_key(scenario, seed)
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _Task(key, scenario, seed)
                with self._free:
                    self._queue.append(task)
                threading.Thread(target=self._supervise, args=(task,), daemon=True).start()
            task.owners.add(owner)
            return task.future

    def _supervise(self, task: _Task) -> None:
        here = workers() == 1
        ctx = None if here else self._context()
        with self._free:  # wait for a free worker and this task's turn
            while self._running >= workers() or self._queue[0] is not task:
                self._free.wait()
            self._queue.popleft()
            self._running += 1
            self._free.notify_all()
        try:
            with self._lock:
                wanted = bool(task.owners)
            if not wanted:
                outcome, seconds = None, 0.0
            elif here:
                outcome, seconds = self._run_here(task)
            else:
                outcome, seconds = self._run_in_process(ctx, task)
        finally:
            with self._free:
                self._running -= 1
                self._free.notify_all()
        if isinstance(outcome, RunResult):
            record_speed(task.scenario, seconds)
        self._finish(task, outcome)

    def _run_in_process(self, ctx, task: _Task) -> tuple[RunResult | BaseException | None, float]:
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_child, args=(send, task.scenario, task.seed, os.getpid()), daemon=True
        )
        process.start()
        with self._lock:
            task.process = process
            if not task.owners:  # cancelled while it started
                process.kill()
        send.close()
        try:
            outcome, seconds = receive.recv()
        except (EOFError, OSError):  # killed
            outcome, seconds = None, 0.0
        receive.close()
        process.join()
        return outcome, seconds

    @staticmethod
    def _run_here(task: _Task) -> tuple[RunResult | BaseException, float]:
        start = time.perf_counter()
        try:
            return run(task.scenario, task.seed), time.perf_counter() - start
        except BaseException as e:  # noqa: BLE001 - handed to the waiting script
            return e, 0.0

    def _finish(self, task: _Task, outcome: RunResult | BaseException | None) -> None:
        with self._lock:
            self._tasks.pop(task.key, None)
        if isinstance(outcome, RunResult):
            CACHE.put(task.key, outcome)
            task.future.set_result(outcome)
        elif isinstance(outcome, BaseException):
            task.future.set_exception(outcome)
        else:
            task.future.set_exception(RunCancelled(f"run {task.seed} cancelled"))

    def cancel(self, owner: str) -> int:
        """Drop `owner` from its runs; runs nobody else wants stop now. Returns runs killed."""
        killed = 0
        with self._lock:
            for task in self._tasks.values():
                task.owners.discard(owner)
                if not task.owners and task.process is not None and task.process.is_alive():
                    task.process.kill()
                    killed += 1
        return killed

    def kill_all(self) -> None:
        with self._lock:
            for task in self._tasks.values():
                task.owners.clear()
                if task.process is not None and task.process.is_alive():
                    task.process.kill()

    def active(self) -> int:
        """Runs pending or running."""
        with self._lock:
            return len(self._tasks)

    def running_pids(self) -> list[int]:
        with self._lock:
            return [
                t.process.pid
                for t in self._tasks.values()
                if t.process is not None and t.process.pid is not None
            ]


POOL = RunPool()
atexit.register(POOL.kill_all)


# ---- comparisons -------------------------------------------------------------------------
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


class ComparisonJob:
    """The runs of one comparison under way for one owner (a browser session)."""

    def __init__(
        self, key: str, baseline: Scenario, reform: Scenario, replicates: int, owner: str
    ) -> None:
        self.key, self.owner = key, owner
        self.baseline, self.reform, self.replicates = baseline, reform, replicates
        self.seeds = replicate_seeds(baseline.seed, replicates)
        self.jobs = [(s, seed) for seed in self.seeds for s in (baseline, reform)]
        unique = {run_key(s, seed): (s, seed) for s, seed in self.jobs}
        self.started = time.perf_counter()
        self.cached: set[RunKey] = set()
        self.futures: dict[RunKey, Future] = {}
        for k, (s, seed) in unique.items():
            hit = CACHE.get(k)
            if hit is None:
                self.futures[k] = POOL.submit(s, seed, owner)
            else:
                self.cached.add(k)
                self.futures[k] = Future()
                self.futures[k].set_result(hit)

    @property
    def total_new(self) -> int:
        return len(self.futures) - len(self.cached)

    def done_new(self) -> int:
        return sum(f.done() for k, f in self.futures.items() if k not in self.cached)

    def finished(self) -> bool:
        return all(f.done() for f in self.futures.values())

    def cancel(self) -> None:
        POOL.cancel(self.owner)

    def pairs(self) -> list[int]:
        """Seeds whose baseline and reform runs are both done."""
        return [
            seed
            for seed in self.seeds
            if all(
                self.futures[run_key(s, seed)].done()
                and not self.futures[run_key(s, seed)].exception()
                for s in (self.baseline, self.reform)
            )
        ]

    def partial(self) -> Comparison | None:
        """The comparison over the paired replicates done so far (None below the threshold)."""
        pairs = self.pairs()
        if len(pairs) < max(provisional_at(self.replicates), 2) or len(pairs) == self.replicates:
            return None
        b = [self.futures[run_key(self.baseline, s)].result() for s in pairs]
        r = [self.futures[run_key(self.reform, s)].result() for s in pairs]
        return Comparison(self.baseline, self.reform, pairs, b, r, paired_table(b, r))

    def result(self) -> Computed:
        """The finished comparison (raises RunCancelled if a run was cancelled)."""
        got = {k: f.result() for k, f in self.futures.items()}
        comparison = compare(
            self.baseline,
            self.reform,
            self.replicates,
            runner=lambda s, seed: got[run_key(s, seed)],
        )
        return Computed(
            comparison,
            time.perf_counter() - self.started,
            self.total_new,
            len(self.cached),
        )


def compare_cached(
    baseline: Scenario,
    reform: Scenario,
    replicates: int,
    progress: Callable[[int, int], None] | None = None,
    provisional: Callable[[Comparison], None] | None = None,
    owner: str = "library",
) -> Computed:
    """`sim.compare.compare` with common random numbers, runs cached and run in parallel.

    With `provisional`, once `provisional_at(replicates)` paired replicates are done (and
    more are still running) it is called once with the comparison over those replicates.
    """
    job = ComparisonJob("", baseline, reform, replicates, owner)
    shown = not provisional or provisional_at(replicates) == 0
    while not job.finished():
        time.sleep(0.05)
        if progress:
            progress(job.done_new(), job.total_new)
        if not shown:
            early = job.partial()
            if early is not None:
                shown = True
                provisional(early)
    if progress:
        progress(job.total_new, job.total_new)
    return job.result()


class EnsembleJob:
    """The reform's effect over draws of the calibration posterior (`compare --ensemble`).

    Each draw's baseline and reform runs go through the pool (in parallel, cancellable); the
    deltas and their spread are `sim.calibration_ensemble`'s, as in `sim.compare.compare`.
    """

    def __init__(self, comparison: Comparison, draws: int, owner: str) -> None:
        from sim.calibration_ensemble import ensemble_particles, particle_for

        self.comparison, self.draws, self.owner = comparison, draws, owner
        base, reform = comparison.baseline, comparison.reform
        self.particles = ensemble_particles(base, draws, base.seed)
        self.seeds = replicate_seeds(base.seed + 1, draws)
        self.runs: list[tuple[Scenario, int]] = []
        for particle, seed in zip(self.particles, self.seeds, strict=True):
            self.runs.append((load_scenario(base, particle), seed))
            self.runs.append((load_scenario(reform, particle_for(base, reform, particle)), seed))
        self.started = time.perf_counter()
        self.futures = {run_key(s, seed): POOL.submit(s, seed, owner) for s, seed in self.runs}

    def done(self) -> int:
        return sum(f.done() for f in self.futures.values())

    def finished(self) -> bool:
        return all(f.done() for f in self.futures.values())

    def table(self):
        """The comparison's table with ensemble_low/high/mean and share_same_sign added."""
        from sim.calibration_ensemble import ensemble_columns, ensemble_deltas
        from sim.compare import summary_rows

        comp = self.comparison
        deltas = ensemble_deltas(
            comp.baseline,
            comp.reform,
            self.particles,
            self.seeds,
            summary_rows,
            lambda s, seed: self.futures[run_key(s, seed)].result(),
        )
        return comp.table.merge(
            ensemble_columns(deltas), on=["scope", "group", "outcome"], how="left"
        )
