"""Sweeps on real Dask processes: SIGKILL of the CLI then --resume, and a loopback cluster
(a `dask scheduler` and two `dask worker` processes) that loses a worker mid-sweep. Both must
end with every run exactly once and results identical to an in-process sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim import sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = [str(BIN / "datalabour")]


def write_sweep(tmp_path: Path) -> Path:
    spec = {
        "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "overrides": {"weeks": 20, "burn_in_weeks": 5, "population.taskers": 2000,
                      "policy.pay_floor.kind": "absolute"},
        "seed": 5,
        "replicates": 2,
        "design": {"kind": "grid", "parameters": {
            "policy.pay_floor.usd_per_hour": [0, 2, 4, 6],
            "policy.pay_floor.compliance": [0.5, 1.0],
        }},
        "outcomes": ["median_effective_hourly_pay_usd", "labels_human", "gini_weekly_pay"],
        "weekly": ["labels_human"],
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def run_files(store: Path) -> list[Path]:
    return sorted((store / "runs").glob("*.parquet")) if (store / "runs").exists() else []


def wait_for_files(store: Path, n: int, proc: subprocess.Popen, timeout: float = 240) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        k = len(run_files(store))
        if k >= n:
            return k
        time.sleep(0.1)
    raise AssertionError(f"no {n} run files within {timeout} s (exit {proc.poll()})")


def stop(proc: subprocess.Popen) -> None:
    """SIGKILL a process we started and everything in its session."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def assert_complete(store: Path, reference: pd.DataFrame) -> None:
    manifest = json.loads((store / "sweep.json").read_text())
    names = sorted(p.name for p in (store / "runs").iterdir())
    assert names == sorted(f"{r['hash']}.parquet" for r in manifest["runs"])  # once, no tmp
    got = sweep.load(store)
    assert got["error"].isna().all()
    pd.testing.assert_frame_equal(got, reference, check_exact=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("reference")
    report = sweep.run_sweep(write_sweep(tmp), tmp / "store", workers=1)
    assert report.done == 16
    return sweep.load(tmp / "store")


def test_sigkill_then_resume_equals_uninterrupted(tmp_path: Path, reference) -> None:
    spec, store = write_sweep(tmp_path), tmp_path / "store"
    cmd = [*CLI, "sweep", str(spec), "--out", str(store), "--workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_files(store, 3, proc)
    finally:
        stop(proc)
    killed_at = len(run_files(store))
    assert killed_at < 16, "the sweep finished before it could be interrupted"
    for f in run_files(store):  # what is there is whole
        assert len(pd.read_parquet(f)) == 1
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300,
                         start_new_session=True)
    assert res.returncode == 0, res.stderr
    assert f"{killed_at} already in the store" in res.stdout
    assert_complete(store, reference)


def test_loopback_cluster_survives_a_killed_worker(tmp_path: Path, reference) -> None:
    spec, store = write_sweep(tmp_path), tmp_path / "store"
    sched_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        p = subprocess.Popen([str(BIN / "dask"), *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path)
        procs.append(p)
        return p

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(sched_file))
        end = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < end:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        workers = [
            start("worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                  "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}")
            for i in range(2)
        ]
        sweep_proc = subprocess.Popen(
            [*CLI, "sweep", str(spec), "--out", str(store), "--scheduler", address],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        procs.append(sweep_proc)
        wait_for_files(store, 3, sweep_proc)
        stop(workers[0])
        assert len(run_files(store)) < 16, "the sweep finished before a worker was killed"
        out, err = sweep_proc.communicate(timeout=300)
        assert sweep_proc.returncode == 0, err
        assert "16 runs done" in out
    finally:
        for p in procs:
            stop(p)
    assert_complete(store, reference)


def test_workers_2_equals_in_process(tmp_path: Path, reference) -> None:
    report = sweep.run_sweep(write_sweep(tmp_path), tmp_path / "store", workers=2)
    assert (report.done, report.failed) == (16, 0)
    assert_complete(tmp_path / "store", reference)
