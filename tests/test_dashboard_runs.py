"""The dashboard's runs: Stop kills them at once, and none outlives the server (checked by PID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
LONG = {"population.taskers": 400_000, "weeks": 104}  # tens of seconds per run here


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setenv("DATALABOUR_DASHBOARD_WORKERS", "2")
    from dashboard.runs import POOL

    yield POOL
    POOL.kill_all()


def test_stop_kills_the_running_runs_and_drops_the_pending_ones(pool):
    from dashboard.runs import RunCancelled

    long = sim.load_scenario(BASELINE, LONG)
    futures = [pool.submit(long, seed, "analyst") for seed in range(5)]
    assert wait_for(lambda: len(pool.running_pids()) == 2, 60)
    pids = pool.running_pids()
    start = time.monotonic()
    assert pool.cancel("analyst") == 2
    assert wait_for(lambda: all(f.done() for f in futures), 5)
    assert time.monotonic() - start < 5
    assert not any(alive(pid) for pid in pids)
    for f in futures:
        with pytest.raises(RunCancelled):
            f.result()
    small = sim.load_scenario(BASELINE, {"population.taskers": 1000, "weeks": 14})
    start = time.monotonic()
    assert pool.submit(small, 1, "analyst").result(timeout=60).seed == 1
    assert time.monotonic() - start < 30  # nothing abandoned runs ahead of it


def test_a_run_wanted_by_another_session_goes_on(pool):
    long = sim.load_scenario(BASELINE, {**LONG, "seed": 7})
    mine, theirs = pool.submit(long, 3, "me"), pool.submit(long, 3, "them")
    assert mine is theirs
    assert wait_for(lambda: len(pool.running_pids()) == 1, 60)
    assert pool.cancel("me") == 0
    assert not mine.done() and pool.running_pids()


SERVER = """
import sys, time
sys.path.insert(0, {root!r})
import sim
from dashboard.runs import POOL
long = sim.load_scenario({baseline!r}, {long!r})
POOL.submit(long, 1, "s")
while not POOL.running_pids():
    time.sleep(0.05)
print(POOL.running_pids()[0], flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_worker_processes_die_with_the_server(how):
    code = SERVER.format(root=str(ROOT), baseline=str(BASELINE), long=LONG)
    env = {**os.environ, "DATALABOUR_DASHBOARD_WORKERS": "2"}
    server = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        worker = int(server.stdout.readline())
        assert alive(worker)
        server.send_signal(how)
        server.wait(timeout=30)
        assert wait_for(lambda: not alive(worker), 10), f"worker {worker} outlived the server"
    finally:
        if server.poll() is None:
            server.kill()


def test_the_dashboard_ensemble_equals_compare_ensemble(monkeypatch):
    pytest.importorskip("sim.calibration_ensemble", reason="compare --ensemble not in this tree")
    monkeypatch.setenv("DATALABOUR_DASHBOARD_WORKERS", "1")
    from dashboard.runs import EnsembleJob
    from sim.compare import compare

    small = {"population.taskers": 1000, "weeks": 14, "burn_in_weeks": 2}
    base = sim.load_scenario(BASELINE, small)
    reform = sim.load_scenario(base, {"policy.paid_rejections": True})
    library = compare(base, reform, 2, ensemble=3)
    job = EnsembleJob(compare(base, reform, 2), 3, "test")
    assert wait_for(job.finished, 300)
    columns = ["scope", "group", "outcome", "ensemble_low", "ensemble_high", "share_same_sign"]
    import pandas as pd

    pd.testing.assert_frame_equal(job.table()[columns], library.table[columns])
