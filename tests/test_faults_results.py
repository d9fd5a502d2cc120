"""Fault injection on result folders: a reader sees a complete result or none.

Kills are simulated by raising a BaseException at each write step (and once by a real
``os._exit`` in a child process); a full disk by a writer raising ENOSPC.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
import sim.compare
import sim.result_folder as rf
import sim.results
from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = ["--taskers", "300", "--weeks", "8"]
STEPS = ["summary", "weekly", "by_country", "by_platform", "manifest", "move"]


class Killed(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way may swallow it."""


@pytest.fixture(scope="module")
def tiny_run() -> sim.RunResult:
    return sim.run(sim.load_scenario(BASELINE, {"population.taskers": 300, "weeks": 8,
                                                "burn_in_weeks": 2}), seed=3)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def no_simulation(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("simulated although the output folder was unusable")

    monkeypatch.setattr(sim.results, "run", refuse)
    monkeypatch.setattr(sim.compare, "compare", refuse)


def one_line_exit(res, code: int) -> str:
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert len(res.output.strip().splitlines()) == 1, res.output
    return res.output


def inject(monkeypatch, step: str, fault: BaseException) -> None:
    """Make `step` of RunResult.save write half its bytes, then raise `fault`."""
    to_parquet, write_text = pd.DataFrame.to_parquet, Path.write_text

    def parquet(self, path, *args, **kwargs):
        if Path(path).stem == step:
            Path(path).write_bytes(b"PAR1\x00half")
            raise fault
        return to_parquet(self, path, *args, **kwargs)

    def text(self, data, *args, **kwargs):
        if self.stem == step:
            write_text(self, data[: len(data) // 2])
            raise fault
        return write_text(self, data, *args, **kwargs)

    def dump(obj, f, **kwargs):
        f.write(json.dumps(obj)[:100])
        raise fault

    def move(staging, path, overwrite):
        if path.is_dir() and any(path.iterdir()):
            os.rename(path, path.parent / rf._staged(path, "old"))  # first of the two renames
        raise fault

    monkeypatch.setattr(pd.DataFrame, "to_parquet", parquet)
    monkeypatch.setattr(Path, "write_text", text)
    if step == "manifest":
        monkeypatch.setattr(rf.json, "dump", dump)
    if step == "move":
        monkeypatch.setattr(rf, "_move_into_place", move)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("older", [False, True], ids=["new", "over-older"])
def test_kill_at_each_write_step_leaves_a_whole_result_or_none(
    tmp_path, monkeypatch, tiny_run, step, older
) -> None:
    out = tmp_path / "out"
    if older:
        tiny_run.save(out)
    before = snapshot(out)
    with monkeypatch.context() as m:
        inject(m, step, Killed())
        with pytest.raises(Killed):
            tiny_run.save(out, overwrite=True)
    after = snapshot(out)
    if step == "move" and older:  # killed between the renames: none in place, the old set aside
        assert after == {}
        [aside] = [p for p in tmp_path.iterdir() if ".old." in p.name]
        assert snapshot(aside) == before
    else:
        assert after == before  # the older result intact, or still nothing
        assert leftovers(tmp_path) == []
    tiny_run.save(out, overwrite=True)  # the next save completes, and tidies
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3


def test_a_real_kill_leaves_no_result_and_the_next_save_cleans_up(tmp_path, tiny_run) -> None:
    out = tmp_path / "out"
    child = (
        "import os, sys, sim, sim.result_folder as rf\n"
        "rf._seal = lambda folder, manifest: os._exit(9)\n"
        "r = sim.run(sim.load_scenario(sys.argv[1], {'population.taskers': 300, 'weeks': 8,"
        " 'burn_in_weeks': 2}), seed=3)\n"
        "r.save(sys.argv[2])\n"
    )
    proc = subprocess.run([sys.executable, "-c", child, str(BASELINE), str(out)], timeout=120)
    assert proc.returncode == 9
    assert not out.exists()
    [staging] = leftovers(tmp_path)
    assert staging.endswith(".tmp") and ".new" in staging
    tiny_run.save(out)
    assert leftovers(tmp_path) == []  # the dead process's staging folder is gone


@pytest.mark.parametrize("step", ["weekly", "summary"])
def test_disk_full_is_one_line_and_leaves_the_folder_as_it_was(
    tmp_path, monkeypatch, step
) -> None:
    out = tmp_path / "out"
    inject(monkeypatch, step, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    res = CliRunner().invoke(app, ["run", str(BASELINE), *TINY, "--out", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "No space left on device" in res.output and "nothing was written" in res.output
    assert not out.exists() and leftovers(tmp_path) == []


def test_manifest_is_last_and_lists_every_file(tmp_path, tiny_run) -> None:
    out = tiny_run.save(tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    files = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == files == {
        "summary.json", "weekly.parquet", "by_country.parquet", "by_platform.parquet"}
    for name, entry in manifest["files"].items():
        assert entry["bytes"] == (out / name).stat().st_size
        assert entry["sha256"] == rf.file_digest(out / name)
    assert manifest["run_hash"] == tiny_run.manifest["run_hash"]


# ---- the output path is checked before anything is simulated -------------------------------
def commands(out: Path) -> dict[str, list[str]]:
    return {
        "run": ["run", str(BASELINE), *TINY, "--out", str(out)],
        "compare": ["compare", str(BASELINE), str(BASELINE), "--replicates", "2",
                    "--out", str(out)],
        "calibrate": ["calibrate", str(BASELINE), "--replicates", "1", "--out", str(out)],
    }


@pytest.mark.parametrize("command", ["run", "compare", "calibrate"])
def test_an_output_that_is_a_file_is_refused_before_simulating(
    tmp_path, monkeypatch, command
) -> None:
    no_simulation(monkeypatch)
    (tmp_path / "taken").write_text("x")
    res = CliRunner().invoke(app, commands(tmp_path / "taken")[command])
    assert "is a file" in one_line_exit(res, 2)
    assert (tmp_path / "taken").read_text() == "x"


@pytest.mark.parametrize("command", ["run", "compare", "calibrate"])
def test_an_older_result_is_refused_before_simulating(tmp_path, monkeypatch, command) -> None:
    out = tmp_path / "old"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    no_simulation(monkeypatch)
    res = CliRunner().invoke(app, commands(out)[command])
    assert "holds an older result; pass --overwrite" in one_line_exit(res, 2)


def test_an_unwritable_place_is_refused_before_simulating(tmp_path, monkeypatch) -> None:
    no_simulation(monkeypatch)
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(app, commands(tmp_path / "file" / "sub")["run"])
    assert "is a file" in one_line_exit(res, 2)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(rf.tempfile, "mkdtemp", read_only)
    res = CliRunner().invoke(app, commands(tmp_path / "ro")["run"])
    assert "cannot write in" in one_line_exit(res, 2) and "Read-only" in res.output


def test_a_folder_of_other_files_is_never_replaced(tmp_path, monkeypatch) -> None:
    no_simulation(monkeypatch)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    res = CliRunner().invoke(app, [*commands(tmp_path / "mine")["run"], "--overwrite"])
    assert "not a datalabour result" in one_line_exit(res, 2)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_overwrite_replaces_an_older_result_whole(tmp_path, tiny_run) -> None:
    out = tiny_run.save(tmp_path / "out")
    (out / "stale.csv").write_text("from an older version")
    res = CliRunner().invoke(app, [*commands(out)["run"], "--seed", "9", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert not (out / "stale.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["seed"] == 9
    assert leftovers(tmp_path) == []


def test_an_empty_folder_takes_a_result(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(app, commands(tmp_path / "empty")["run"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "empty" / "manifest.json").exists()
