"""Sweep throughput: runs per minute at 1 (in-process) and 2 local Dask workers, parallel
efficiency, and the scheduling overhead per run.

    .venv/bin/python -m benchmarks.sweep_throughput [--runs 8] [--weeks 104] [--taskers 20000]

Throughput is measured on warm workers (cluster start-up is reported separately). The
overhead per run is measured on near-empty runs (10 taskers, 2 weeks): the wall time a run
costs beyond its own computation, per worker slot, in-process and on the 2-worker cluster.
Run it on a quiet machine: other processes on the cores lower the parallel numbers.
"""

from __future__ import annotations

import os

# One BLAS thread per process, as Dask's nanny gives its workers: the 1-worker baseline then
# uses one core, like each worker (set before numpy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

from sim import sweep  # noqa: E402

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def spec_file(folder: Path, name: str, overrides: dict, runs: int) -> Path:
    spec = {
        "name": name,
        "base": str(BASELINE),
        "overrides": overrides,
        "seed": 1,
        "replicates": runs,
        "design": {"kind": "grid", "parameters": {"policy.pay_floor.usd_per_hour": [0]}},
        "outcomes": ["median_effective_hourly_pay_usd", "labels_human"],
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def timed(plan: sweep.Plan, store: Path, **kwargs) -> float:
    t = time.perf_counter()
    report = sweep.run_sweep(plan, store, **kwargs)
    assert report.failed == 0, report.errors
    return time.perf_counter() - t


def compute_only(runs: list[tuple[dict, int]], outcomes: list[str]) -> float:
    """Seconds to execute runs back to back, with no scheduling and no store."""
    t = time.perf_counter()
    for scenario, seed in runs:
        sweep.execute(scenario, seed, outcomes, [])
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8, help="runs per throughput measurement")
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--taskers", type=int, default=20_000)
    ap.add_argument("--tiny-runs", type=int, default=200, help="runs for the overhead measurement")
    args = ap.parse_args()
    from distributed import Client, LocalCluster, get_task_stream

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        size = {"weeks": args.weeks, "population.taskers": args.taskers}
        full = sweep.plan(spec_file(tmp, "full", size, args.runs))
        empty = {"weeks": 2, "burn_in_weeks": 0, "population.taskers": 10}
        tiny = sweep.plan(spec_file(tmp, "tiny", empty, args.tiny_runs))
        tiny_runs = [(r.scenario, r.seed) for r in tiny.runs]
        compute_only(tiny_runs[:5], tiny.spec.outcomes)  # warm this process's imports, caches

        t1 = timed(full, tmp / "s1", workers=1)
        busy = [0.0]
        execute = sweep.execute

        def metered(*args):
            t = time.perf_counter()
            try:
                return execute(*args)
            finally:
                busy[0] += time.perf_counter() - t

        sweep.execute = metered
        tiny_inproc = timed(tiny, tmp / "t1", workers=1)
        sweep.execute = execute

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.run(compute_only, tiny_runs[:5], tiny.spec.outcomes)  # warm each worker
        startup = time.perf_counter() - t0
        try:
            t2 = timed(full, tmp / "s2", client=client)
            with get_task_stream(client) as stream:
                tiny_dask = timed(tiny, tmp / "t2", client=client)
            worker_busy = sum(
                s["stop"] - s["start"]
                for task in stream.data
                for s in task["startstops"]
                if s["action"] == "compute"
            )
        finally:
            client.close()
            cluster.close()

    n, m = args.runs, args.tiny_runs
    thr1, thr2 = n / t1 * 60, n / t2 * 60
    print(f"model: {args.taskers} taskers, {args.weeks} weeks, {t1 / n:.2f} s per run in-process")
    print(f"1 worker (in-process): {thr1:.1f} runs/min ({n} runs in {t1:.1f} s)")
    print(
        f"2 workers (local cluster): {thr2:.1f} runs/min ({n} runs in {t2:.1f} s; "
        f"cluster start-up {startup:.1f} s, not counted)"
    )
    print(f"parallel efficiency at 2 workers: {thr2 / (2 * thr1):.2f}")
    print(
        f"overhead per run, in-process (store write, bookkeeping): "
        f"{(tiny_inproc - busy[0]) / m * 1e3:.1f} ms (a near-empty run computes in "
        f"{busy[0] / m * 1e3:.1f} ms)"
    )
    print(
        "overhead per run, 2-worker cluster (worker time not spent computing: scheduling, "
        f"transfer, waiting on the store write): {(2 * tiny_dask - worker_busy) / m * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
