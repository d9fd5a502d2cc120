"""Fault injection on sweep stores: damaged, swapped and half-written run files, a kill at each
write step, a full disk, two sweeps at once, a lost or corrupt sweep.json, stores that are files.

The model is replaced by a quick analytic stand-in, so every sweep here takes well under a
second; what is under test is the store, not the model.
"""

from __future__ import annotations

import errno
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import sim.results
import sim.sweep_plan
import sim.sweep_store as store_mod
from sim import sensitivity, sweep
from sim.cli import app
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


class Killed(BaseException):
    """Stands for a kill at a write step."""


@pytest.fixture(autouse=True)
def quick_model(monkeypatch):
    """A model of two behaviour parameters that answers at once."""

    def run(scenario, seed=None, progress=None):
        b = scenario.behaviour
        y = math.sin(6 * b.monitoring_stress) + b.llm_deterrence**2 + (seed % 7) / 100
        return SimpleNamespace(summary={"overall": {"y": y, "z": b.llm_deterrence}},
                               weekly=pd.DataFrame({"week": [0], "y": [y]}))

    monkeypatch.setattr(sim.results, "run", run)
    monkeypatch.setattr(sim.sweep_plan, "_known_keys", lambda base: ({"y", "z"}, {"y"}))


def spec_file(tmp_path: Path, name: str = "s.yaml", **fields) -> Path:
    spec = {
        "base": str(BASELINE),
        "seed": 4,
        "replicates": 2,
        "design": {"kind": "grid", "parameters": {"behaviour.monitoring_stress": [0.1, 0.5, 0.9],
                                                  "behaviour.llm_deterrence": [0.2, 0.8]}},
        "outcomes": ["y", "z"],
    }
    spec.update(fields)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture
def made(tmp_path):
    """A finished 12-run store and the frame it loads to."""
    spec = spec_file(tmp_path)
    store = tmp_path / "store"
    sweep.run_sweep(spec, store, workers=1)
    return spec, store, sweep.load(store)


def runs(store: Path) -> list[Path]:
    return sorted((store / "runs").glob("*.parquet"))


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) == b["run_hash"].nunique() and a.equals(b)


def cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(res, code: int) -> str:
    """The error: one line, the last (after a sweep's plan line), no traceback; progress
    lines (logged when stderr is not a terminal) aside."""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    lines = [x for x in res.output.strip().splitlines() if not re.match(r"\S+: \d+/\d+ runs", x)]
    assert lines[-1].startswith("error:") and len(lines) <= 2, res.output
    return lines[-1]


# ---- damaged run files: --resume checks every file and redoes what fails -------------------
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "bit flip"])
def test_resume_redoes_a_damaged_run_file(made, damage) -> None:
    spec, store, ref = made
    victim = runs(store)[3]
    data = victim.read_bytes()
    victim.write_bytes({"truncated": data[:100], "empty": b"", "garbage": b"x" * 500,
                        "bit flip": data[:-9] + bytes([data[-9] ^ 1]) + data[-8:]}[damage])
    notes = []
    report = sweep.run_sweep(spec, store, workers=1, resume=True, notice=notes.append)
    assert (report.done, report.skipped) == (1, 11)
    assert any(victim.name in n and "failed the check" in n for n in notes)
    assert (store / "rejected" / victim.name).exists()  # kept for a look, out of the runs
    assert same(ref, sweep.load(store))


def test_swapped_run_files_are_found_and_redone(made) -> None:
    spec, store, ref = made
    a, b, c = runs(store)[:3]
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)  # a true swap
    c.write_bytes(da)  # and one run twice, one missing
    with pytest.raises(ScenarioError, match=r"not the run of its name.*--resume") as e:
        sweep.load(store)
    assert "\n" not in str(e.value)
    report = sweep.run_sweep(spec, store, workers=1, resume=True)
    assert report.done == 3
    assert same(ref, sweep.load(store))


def test_a_swap_is_found_without_the_recorded_hashes(made) -> None:
    spec, store, ref = made
    (store / "runs.sha256").unlink()
    a, b = runs(store)[:2]
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    assert not sweep.verify(store).healthy
    assert sweep.run_sweep(spec, store, workers=1, resume=True).done == 2
    assert same(ref, sweep.load(store))


# ---- a kill at each write step, and a full disk ------------------------------------------
def kill_at(monkeypatch, step: str, fault: BaseException, after: int = 4) -> None:
    """Let `after` runs be written whole, then fail the next one at `step`."""
    count = {"n": 0}
    write_table, replace = pq.write_table, os.replace

    def table(t, where, *args, **kwargs):
        count["n"] += 1
        if step == "parquet" and count["n"] > after:
            where.write(b"PAR1\x00half a file")
            raise fault
        return write_table(t, where, *args, **kwargs)

    def rename(src, dst):
        if step == "rename" and count["n"] > after and str(dst).endswith(".parquet"):
            raise fault
        return replace(src, dst)

    class Index:  # the line in runs.sha256, torn halfway
        def __init__(self, path, mode="r", *args, **kwargs):
            self.f = open(path, mode, *args, **kwargs)  # noqa: SIM115

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def __getattr__(self, name):
            return getattr(self.f, name)

        def write(self, line):
            if step == "index" and count["n"] > after and self.f.name.endswith(".sha256"):
                self.f.write(line[:20])
                raise fault
            return self.f.write(line)

    monkeypatch.setattr(pq, "write_table", table)
    monkeypatch.setattr(store_mod.os, "replace", rename)
    monkeypatch.setitem(store_mod.__dict__, "open", Index)


@pytest.mark.parametrize("step", ["parquet", "rename", "index"])
def test_a_kill_at_each_write_step_is_repaired_by_resume(tmp_path, monkeypatch, step) -> None:
    spec = spec_file(tmp_path)
    ref = tmp_path / "ref"
    sweep.run_sweep(spec, ref, workers=1)
    store = tmp_path / "store"
    with monkeypatch.context() as m:
        kill_at(m, step, Killed())
        with pytest.raises(Killed):
            sweep.run_sweep(spec, store, workers=1)
    assert len(runs(store)) == (5 if step == "index" else 4)
    report = sweep.run_sweep(spec, store, workers=1, resume=True)
    assert report.skipped == len(runs(ref)) - report.done
    assert same(sweep.load(ref), sweep.load(store))
    assert not list((store / "runs").glob(".*.tmp"))  # its own temporary file, removed
    assert sweep.verify(store).healthy


def test_disk_full_ends_in_one_line_and_resume_finishes(tmp_path, monkeypatch) -> None:
    spec = spec_file(tmp_path)
    store = tmp_path / "store"
    with monkeypatch.context() as m:
        kill_at(m, "parquet", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        res = cli("sweep", spec, "--out", store, "--workers", "1")
        assert "No space left on device" in one_line(res, 1).replace("\n", "")
        assert "--resume" in res.output
    assert len(runs(store)) == 4 and not list((store / "runs").glob(".*.tmp"))
    assert cli("sweep", spec, "--out", store, "--workers", "1", "--resume").exit_code == 0
    assert len(sweep.load(store)) == 12


# ---- two sweeps at once: the lock ----------------------------------------------------------
HOLD = (
    "import sys, time; from pathlib import Path; from sim.sweep_store import StoreLock\n"
    "Path(sys.argv[1]).mkdir(exist_ok=True)\n"
    "with StoreLock(Path(sys.argv[1])):\n"
    "    print('locked', flush=True); time.sleep(60)\n"
)


def test_a_second_sweep_is_kept_out_while_one_writes(tmp_path) -> None:
    store = tmp_path / "store"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = cli("sweep", spec_file(tmp_path), "--out", store, "--workers", "1")
        out = one_line(res, 2)
        assert "another sweep is writing it" in out and f"PID {holder.pid}" in out
        assert not (store / "sweep.json").exists() and not (store / "runs").exists()
        assert f"held by PID {holder.pid}" in store_mod.lock_state(store)
    finally:
        holder.kill()
        holder.wait()
    notes = []
    sweep.run_sweep(spec_file(tmp_path), store, workers=1, notice=notes.append)
    assert any(f"stale lock: PID {holder.pid}" in n for n in notes)
    assert store_mod.lock_state(store) == "free"


def test_two_different_sweeps_into_one_store_never_mix(tmp_path) -> None:
    a, b = spec_file(tmp_path, "a.yaml"), spec_file(tmp_path, "b.yaml", seed=5)
    store = tmp_path / "store"
    store.mkdir()
    with (
        store_mod.StoreLock(store),  # a is writing
        pytest.raises(ScenarioError, match="another sweep is writing it"),
    ):
        sweep.run_sweep(b, store, workers=1)
    sweep.run_sweep(a, store, workers=1)
    with pytest.raises(ScenarioError, match="already holds a sweep"):
        sweep.run_sweep(b, store, workers=1)
    with pytest.raises(ScenarioError, match="holds a different sweep"):
        sweep.run_sweep(b, store, workers=1, resume=True)
    assert len(sweep.load(store)) == 12


def test_start_up_removes_only_its_own_or_dead_processes_temporary_files(made) -> None:
    spec, store, _ = made
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = store / "runs" / f".aaaa.{os.getpid()}.tmp"
        gone = store / "runs" / f".bbbb.{dead}.tmp"
        busy = store / "runs" / f".cccc.{alive.pid}.tmp"
        for f in (mine, gone, busy):
            f.write_bytes(b"half")
        notes = []
        sweep.run_sweep(spec, store, workers=1, resume=True, notice=notes.append)
        assert not mine.exists() and not gone.exists() and busy.exists()
        assert any("removed 2 temporary files" in n for n in notes)
    finally:
        alive.kill()
        alive.wait()


# ---- sweep.json lost or corrupt; stores that are files --------------------------------------
def test_a_store_without_sweep_json_is_re_adopted(made) -> None:
    spec, store, ref = made
    (store / "sweep.json").unlink()
    res = cli("sweep", spec, "--out", store, "--workers", "1")
    assert "runs but no sweep.json; pass --resume" in one_line(res, 2)
    notes = []
    report = sweep.run_sweep(spec, store, workers=1, resume=True, notice=notes.append)
    assert (report.done, report.skipped) == (0, 12)
    assert any("re-adopted" in n for n in notes)
    assert same(ref, sweep.load(store))


def test_runs_of_another_plan_are_not_adopted(made, tmp_path) -> None:
    _, store, _ = made
    (store / "sweep.json").unlink()
    other = spec_file(tmp_path, "other.yaml", seed=99)
    with pytest.raises(ScenarioError, match="holds runs of another plan"):
        sweep.run_sweep(other, store, workers=1, resume=True)


def test_a_corrupt_sweep_json_is_one_line_and_resume_rewrites_it(made) -> None:
    spec, store, ref = made
    text = (store / "sweep.json").read_text()
    (store / "sweep.json").write_text(text[: len(text) // 2])
    with pytest.raises(ScenarioError, match=r"sweep.json: corrupt .*--resume") as e:
        sweep.load(store)
    assert "\n" not in str(e.value)
    res = cli("sensitivity", store)
    assert "sweep.json: corrupt" in one_line(res, 2)
    res = cli("sweep", "--verify", store)
    assert "sweep.json: corrupt" in one_line(res, 2)
    notes = []
    assert sweep.run_sweep(spec, store, workers=1, resume=True, notice=notes.append).done == 0
    assert any("corrupt" in n for n in notes) and (store / "rejected" / "sweep.json").exists()
    assert same(ref, sweep.load(store))


def test_a_store_that_is_a_file_is_one_line_everywhere(tmp_path) -> None:
    f = tmp_path / "store"
    f.write_text("not a store")
    res = cli("sweep", spec_file(tmp_path), "--out", f, "--workers", "1")
    assert "is a file" in one_line(res, 2)
    assert "is a file" in one_line(cli("sensitivity", f), 2)
    assert "is a file" in one_line(cli("sweep", "--verify", f), 2)
    with pytest.raises(ScenarioError, match="is a file"):
        sweep.load(f)
    assert f.read_text() == "not a store"


# ---- --verify ------------------------------------------------------------------------------
def test_verify_reports_a_healthy_and_a_damaged_store(made) -> None:
    _, store, _ = made
    res = cli("sweep", "--verify", store)
    assert res.exit_code == 0 and "12 run files intact" in res.output and "healthy" in res.output
    victim = runs(store)[0]
    victim.write_bytes(victim.read_bytes()[:50])
    runs(store)[1].unlink()
    before = sorted(p.name for p in store.rglob("*"))
    res = cli("sweep", "--verify", store)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"damaged: runs/{victim.name}" in res.output and "1 runs missing (no file)" in res.output
    assert sorted(p.name for p in store.rglob("*")) == before  # it changes nothing


# ---- sensitivity: damaged files and small samples -----------------------------------------
def sobol_store(tmp_path: Path, samples: int) -> Path:
    spec = spec_file(tmp_path, replicates=1, design={
        "kind": "sobol", "samples": samples,
        "parameters": {"behaviour.monitoring_stress": {"low": 0.0, "high": 1.0},
                       "behaviour.llm_deterrence": {"low": 0.0, "high": 1.0}}})
    store = tmp_path / f"sobol{samples}"
    sweep.run_sweep(spec, store, workers=1)
    return store


def test_sensitivity_on_a_damaged_run_file_names_it_in_one_line(tmp_path) -> None:
    store = sobol_store(tmp_path, 4)
    victim = runs(store)[2]
    victim.write_bytes(b"")
    out = one_line(cli("sensitivity", store), 2).replace("\n", "")
    assert victim.name in out and "unreadable" in out and "--resume" in out


def test_sensitivity_warns_when_the_sample_is_too_small(tmp_path) -> None:
    small = cli("sensitivity", sobol_store(tmp_path, 2), "--resamples", "50")
    assert small.exit_code == 0, small.output
    assert "warning:" in small.output and "too small for stable indices" in small.output
    table = pd.DataFrame({"outcome": "y", "parameter": ["a", "b"], "method": "sobol",
                          "S1": [0.5, 0.3], "S1_conf": [0.05, 0.1], "ST": [0.6, 0.4],
                          "ST_conf": [0.05, 0.1]})
    assert sensitivity.stability_warnings(table) == []
    table.loc[1, "S1"] = 2.1
    table.loc[0, "ST_conf"] = 0.3
    [warning] = sensitivity.stability_warnings(table)
    assert "S1 outside [0, 1] for b" in warning and "wider than 0.5 for a" in warning


def test_sensitivity_output_is_checked_before_analysing(tmp_path) -> None:
    store = sobol_store(tmp_path, 4)
    assert cli("sensitivity", store).exit_code == 0
    assert "holds an older result" in one_line(cli("sensitivity", store), 2)
    assert cli("sensitivity", store, "--overwrite").exit_code == 0
