"""The built wheel stands on its own: installed in a fresh venv and used from an empty folder,
away from the repository, every command finds its scenarios, data and dashboard."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "population.taskers=1500", "--set", "weeks=20"]


def sh(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(bin folder of a fresh venv with the wheel installed, an empty working folder)."""
    tmp = tmp_path_factory.mktemp("wheel")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    for name in files:  # build from a copy: the work tree gets no build/ folder
        if (ROOT / name).is_file():
            (tmp / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp / "src" / name)
    pip = [sys.executable, "-m", "pip"]
    built = sh(*pip, "wheel", "-q", "--no-deps", "-w", tmp / "dist", tmp / "src", cwd=tmp)
    assert built.returncode == 0, built.stderr[-2000:]
    assert sh(sys.executable, "-m", "venv", tmp / "venv", cwd=tmp).returncode == 0
    bindir = tmp / "venv" / "bin"
    wheel = next((tmp / "dist").glob("datalabour-*.whl"))
    done = sh(bindir / "pip", "install", "-q", "--no-deps", "--no-compile", wheel, cwd=tmp)
    assert done.returncode == 0, done.stderr[-2000:]
    # The dependencies come from this test's environment (a fresh download of all of them
    # takes minutes; test_ecosystem checks the declared list against the imports, and the
    # acceptance check installs them afresh). A .pth path line adds no editable finder.
    ours = sh(
        bindir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp
    ).stdout.strip()
    (Path(ours) / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    return bindir, work


def test_version_list_and_imports(installed):
    bindir, work = installed
    version = sh(bindir / "datalabour", "--version", cwd=work)
    assert version.returncode == 0 and version.stdout.startswith("datalabour 0.")
    listed = sh(bindir / "datalabour", "scenarios", "list", cwd=work)
    assert listed.returncode == 0 and "us_federal_floor" in listed.stdout
    where = sh(bindir / "python", "-c", "import sim; print(sim.__file__)", cwd=work)
    assert "site-packages" in where.stdout, where.stderr
    assert sh(bindir / "python", "-c", "import dashboard", cwd=work).returncode != 0
    assert sh(bindir / "python", "-c", "import datalabour_dashboard", cwd=work).returncode == 0


def test_run_calibrate_compare_and_policy_report_by_name(installed):
    bindir, work = installed
    dl = bindir / "datalabour"
    run = sh(dl, "run", "baseline", "--taskers", "2000", "--weeks", "20", "--out", "r", cwd=work)
    assert run.returncode == 0, run.stderr
    assert json.loads((work / "r" / "summary.json").read_text())["overall"]["active_taskers"] > 0
    calibrated = sh(
        dl, "calibrate", "baseline", "--replicates", "2", *SMALL, "--out", "c", cwd=work
    )
    assert calibrated.returncode in (0, 1), calibrated.stderr  # 1: a target missed at this size
    assert json.loads((work / "c" / "calibration.json").read_text())["targets"]
    compared = sh(
        dl,
        "compare",
        "baseline",
        "local_minimum_wage",
        "--replicates",
        "2",
        *SMALL,
        "--out",
        "cmp",
        cwd=work,
    )
    assert compared.returncode == 0, compared.stderr
    assert (work / "cmp" / "comparison.csv").is_file()
    report = sh(
        dl,
        "policy-report",
        "--replicates",
        "2",
        "--set",
        "population.taskers=600",
        "--set",
        "weeks=6",
        "--set",
        "burn_in_weeks=2",
        "--doc",
        "policies.md",
        cwd=work,
        timeout=900,  # 26 short runs, each paying a process's start-up; slow on a loaded host
    )
    assert report.returncode == 0, report.stderr
    assert "us_federal_floor" in (work / "policies.md").read_text()


def test_the_dashboard_is_healthy(installed):
    bindir, work = installed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(bindir / "datalabour"), "dashboard", "--port", str(port)],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        health = ""
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None and health != "ok":
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}/_stcore/health"
                health = urllib.request.urlopen(url, timeout=2).read().decode()
            time.sleep(0.5)
        assert health == "ok", f"exit {proc.poll()}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
