"""Sweeps: a design over scenario parameters -> runs -> a resumable Parquet store, on Dask.

The design and its runs come from `sim.sweep_plan` (pure), the store from `sim.sweep_store`;
this module executes the runs, in this process or on a Dask cluster, into the store.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.cluster import current_client, dask_client, default_workers
from sim.resources import check_memory
from sim.scenario_files import load_scenario
from sim.sweep_plan import (
    DELTA,
    Design,
    Plan,
    RunSpec,
    SweepSpec,
    parse_sweep,
    plan,
    read_sweep,
    run_seed,
)
from sim.sweep_store import (
    MANIFEST,
    RUNS_DIR,
    Health,
    StoreLock,
    load,
    prepare,
    read_manifest,
    run_schema,
    store_folder,
    verify,
    write_run,
)

__all__ = [
    "MANIFEST",
    "RUNS_DIR",
    "Design",
    "Health",
    "Plan",
    "RunSpec",
    "SweepReport",
    "SweepSpec",
    "SweepStatus",
    "execute",
    "load",
    "parse_sweep",
    "plan",
    "read_manifest",
    "read_sweep",
    "run_seed",
    "run_sweep",
    "verify",
]


@dataclass
class SweepStatus:
    """Progress of a sweep, passed to the progress callback after every run."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)
    dashboard_link: str | None = None  # Dask's dashboard of the cluster running the sweep

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.done - self.failed


@dataclass
class SweepReport:
    """What a call to `run_sweep` did."""

    store: Path
    total: int
    skipped: int
    done: int
    failed: int
    lost: int
    elapsed_s: float
    errors: dict[str, str]
    notes: list[str] = field(default_factory=list)  # what the store's check found and did


# ---- executing one run (on a worker) --------------------------------------------------------
def execute(
    scenario: dict[str, Any],
    seed: int,
    outcomes: list[str],
    weekly: list[str],
    reform: dict[str, Any] | None = None,
) -> dict:
    """Run one scenario (a plain mapping) with one seed; the outcomes, or the error it raised.
    With a reform, it runs with the same seed too and `delta.KEY` is reform minus baseline."""
    from sim.results import flat_summary, run

    try:
        result = run(load_scenario(scenario), seed)
        flat = flat_summary(result.summary)
        if reform is not None:
            changed = flat_summary(run(load_scenario(reform), seed).summary)
            flat |= {
                f"{DELTA}{k}": changed[k] - v
                for k, v in list(flat.items())
                if f"{DELTA}{k}" in outcomes and v is not None and changed.get(k) is not None
            }
        return {
            "outcomes": {k: float(flat[k]) if flat.get(k) is not None else None for k in outcomes},
            "weekly": {k: result.weekly[k].astype(float).tolist() for k in weekly},
            "error": None,
        }
    except Exception as e:  # a run that raises is recorded, and the sweep goes on
        return {"outcomes": {}, "weekly": {}, "error": f"{type(e).__name__}: {e}"}


# ---- execution ----------------------------------------------------------------------------
def run_sweep(
    spec: SweepSpec | str | Path | Plan,
    store: str | Path,
    client: Any = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: Callable[[SweepStatus], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run a sweep into a store; the Python face of ``datalabour sweep``.

    Parameters
    ----------
    spec : a sweep file, a validated `SweepSpec` or a `Plan`
    store : folder for sweep.json and runs/
    client : a `distributed.Client` to run on (a notebook's own cluster); else
        ``scheduler`` (address of a running cluster), else ``workers`` (1 runs in this
        process; more start an embedded local cluster); with none of the three, the current
        default client (`distributed.default_client`) if there is one, else an embedded
        cluster of one worker per core
    resume : skip runs whose file is intact (else the store must be new)
    retry_failed : with resume, run again the runs that recorded an error
    progress : called with a `SweepStatus` at the start and after every run
    notice : called with each thing the store's check found and did (damaged files set
        aside, a stale lock taken over, a store re-adopted) before any run starts
    """
    p = spec if isinstance(spec, Plan) else plan(spec)
    if client is None and scheduler is None and workers is None:
        client = current_client()
    if scheduler is not None and client is None:  # reach the cluster before touching the store
        with dask_client(None, scheduler, None) as remote:
            return run_sweep(
                p,
                store,
                remote,
                resume=resume,
                retry_failed=retry_failed,
                progress=progress,
                notice=notice,
            )
    if client is None and p.runs:  # runs here or on an embedded cluster on this machine
        largest = max(r.scenario["population"]["taskers"] for r in p.runs)
        check_memory(largest, workers or default_workers())
    store = store_folder(store, "--out")
    store.mkdir(parents=True, exist_ok=True)
    with StoreLock(store) as lock:
        skip, notes = prepare(store, p, resume, retry_failed)
        if lock.stale:
            notes.insert(0, f"took over a stale lock: {lock.stale} ended without releasing it")
        for note in notes:
            if notice:
                notice(note)
        return _execute(p, store, skip, client, workers, progress, notes)


def _execute(
    p: Plan,
    store: Path,
    skip: set[str],
    client: Any,
    workers: int | None,
    progress: Callable[[SweepStatus], None] | None,
    notes: list[str],
) -> SweepReport:
    """Run the runs not in `skip`, writing each into the store as it ends."""
    pending = [r for r in p.runs if r.hash not in skip]
    status = SweepStatus(total=len(p.runs), skipped=len(p.runs) - len(pending))
    if progress:
        progress(status)
    errors: dict[str, str] = {}
    lost = 0
    schema = run_schema(p)

    def record(r: RunSpec, result: dict | None, infrastructure: str | None = None) -> None:
        nonlocal lost
        if result is not None:
            write_run(store, p, schema, r, result)
        if result is None or result["error"]:
            errors[r.hash] = infrastructure or result["error"]
            status.failed += 1
            lost += result is None
        else:
            status.done += 1
        if progress:
            progress(status)

    if pending:
        if client is None and (workers or default_workers()) == 1:
            for r in pending:
                record(r, execute(r.scenario, r.seed, p.spec.outcomes, p.spec.weekly, r.reform))
        else:
            with dask_client(client, None, workers) as c:
                status.dashboard_link = c.dashboard_link or None
                if progress:
                    progress(status)
                for r, result, problem in _on_dask(c, pending, p.spec):
                    record(r, result, problem)
    return SweepReport(
        store,
        status.total,
        status.skipped,
        status.done,
        status.failed,
        lost,
        time.perf_counter() - status.started,
        errors,
        notes,
    )


def _on_dask(client: Any, pending: list[RunSpec], spec: SweepSpec) -> Iterator[tuple]:
    """Submit runs with a bounded window in flight; yield (run, result, infrastructure error)."""
    from distributed import as_completed

    queue = iter(pending)
    flight: dict[str, RunSpec] = {}
    done = as_completed()

    def window() -> int:
        return max(4, 2 * sum(client.nthreads().values()))

    def submit(n: int) -> None:
        for r in itertools.islice(queue, max(0, n)):
            fut = client.submit(
                execute,
                r.scenario,
                r.seed,
                spec.outcomes,
                spec.weekly,
                r.reform,
                key=f"datalabour-run-{r.hash}",
                pure=False,
            )
            flight[fut.key] = r
            done.add(fut)

    submit(window())
    checked = time.monotonic()
    size = window()
    for fut in done:
        r = flight.pop(fut.key)
        if fut.status == "finished":
            yield r, fut.result(), None
        else:  # lost to the cluster (e.g. KilledWorker, cancelled): no file, --resume redoes it
            try:
                exc = fut.exception()
            except (Exception, asyncio.CancelledError) as cancelled:  # a cancelled future
                exc = cancelled
            yield r, None, f"{type(exc).__name__}: {exc}"
        fut.release()
        if time.monotonic() - checked > 5:
            size, checked = window(), time.monotonic()
        submit(size - len(flight))
