"""Fault injection on inputs: each bad scenario, sweep file or upload ends in one line, fast.

Through the CLI (exit 2, one line on stderr, no traceback) and the API (`sim.load_scenario`,
`sim.sweep.read_sweep`, `load_scenario_text` for dashboard uploads): files that are not
UTF-8, too large, too deeply nested, alias bombs, duplicate keys, `extends:` of something
that is not a regular file, infinite numbers; and the memory guard under ``ulimit -v``.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "scenarios" / "baseline.yaml").as_posix()
EXE = Path(sys.executable).with_name("datalabour")
runner = CliRunner()

LAUGHS = ", ".join(
    ["&l0 lol"] + [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
)  # a list whose last item alone expands to 9 ** 9 = 387,420,489 values
BOMB = f"laughs: [{LAUGHS}]\n"


def _deep_block(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels)) + "  " * levels + "a: 1\n"


# name -> (file bytes, words the one line must contain)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "latin1": (f"extends: {BASE}\nname: Bogotá\n".encode("latin-1"), "byte 0xe1 on line 2"),
    "utf16": (f"extends: {BASE}\nname: x\n".encode("utf-16"), "UTF-16"),
    "binary": (bytes(range(256)) * 8, "binary file"),
    "binary_without_nul": (bytes(range(1, 256)) * 8, "is not UTF-8"),
    "deep_flow": (("weeks: " + "[" * 20_000 + "]" * 20_000).encode(), "nesting deeper than"),
    "deep_block": (_deep_block(400).encode(), "nesting deeper than"),
    "alias_cycle": (f"extends: {BASE}\ncountries: &a [USA, *a]\n".encode(), "nesting deeper"),
    "duplicate_key": (f"extends: {BASE}\nweeks: 30\nweeks: 40\n".encode(), "'weeks' is given"),
    "duplicate_nested": (
        f"extends: {BASE}\npolicy:\n  max_monitoring: 0.5\n  max_monitoring: 0.2\n".encode(),
        "'max_monitoring' is given twice (first on line 3)",
    ),
    "duplicate_flow": (f"extends: {BASE}\npolicy: {{paid_rejections: true, paid_rejections: "
                       "false}\n".encode(), "'paid_rejections' is given twice"),
    "infinite_budget": (
        f"extends: {BASE}\nset:\n  labs.0.weekly_budget_usd: .inf\n".encode(),
        "labs.0.weekly_budget_usd: inf is not allowed; input should be a finite number",
    ),
    "nan_budget": (
        f"extends: {BASE}\nset:\n  labs.0.weekly_budget_usd: .nan\n".encode(),
        "labs.0.weekly_budget_usd",
    ),
    "too_large": (
        f"extends: {BASE}\ndescription: {'x' * 1_100_000}\n".encode(),
        "; expected a file of at most 1,000,000 bytes",
    ),
}
BOMBS = {
    "bomb_in_name": (f"extends: {BASE}\nname: [{LAUGHS}]\n", "name: more than 100,000 values"),
    "bomb_in_countries": (f"extends: {BASE}\ncountries: [{LAUGHS}]\n", "countries: more than"),
    "bomb_beside": (f"extends: {BASE}\n{BOMB}name: *l9\n", "laughs: more than 100,000"),
}


@contextmanager
def deadline(seconds: float):
    """Fail (rather than hang) when the block runs longer than `seconds`."""

    def boom(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _cli(args: list[str]) -> tuple[int, list[str], str]:
    with deadline(20):
        result = runner.invoke(app, args)
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    return result.exit_code, lines, result.output


def _one_line(code: int, lines: list[str], out: str, words: str) -> None:
    assert code == 2, out
    assert len(lines) == 1, out
    assert words in lines[0], out
    assert "Traceback" not in out


def _limited(gigabytes: float):
    def limit() -> None:
        size = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return limit


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_cli_and_api(case: str, tmp_path: Path) -> None:
    content, words = BAD_FILES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    for command in ("validate", "run"):
        _one_line(*_cli([command, str(path)]), words)
    with deadline(20), pytest.raises(ScenarioError) as e:
        sim.load_scenario(path)
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_alias_bomb_refused_well_under_a_second(case: str, tmp_path: Path) -> None:
    """A billion laughs in `name` or `countries`: refused before anything expands it.

    In a child process with a time and memory limit, so that a regression cannot hang the
    suite or take the machine's memory.
    """
    text, words = BOMBS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    probe = textwrap.dedent(f"""
        import time, sim
        t = time.perf_counter()
        try:
            sim.load_scenario({str(path)!r})
        except sim.ScenarioError as e:
            print(f"{{time.perf_counter() - t:.3f}}")
            print(e)
    """)
    limits = {"capture_output": True, "text": True, "timeout": 60, "preexec_fn": _limited(4)}
    api = subprocess.run([sys.executable, "-c", probe], **limits)
    seconds, message = api.stdout.splitlines()
    assert float(seconds) < 0.5 and words in message, api.stdout + api.stderr
    cli = subprocess.run([str(EXE), "validate", str(path)], **limits)
    assert cli.returncode == 2 and cli.stdout == "", cli.stdout + cli.stderr
    assert cli.stderr.count("\n") == 1 and words in cli.stderr, cli.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "directory", "fifo"])
def test_extends_accepts_regular_files_only(target: str, tmp_path: Path) -> None:
    if target == "directory":
        target = str(tmp_path)
    elif target == "fifo":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)  # nobody writes to it: opening it must not wait
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {target}\n")
    words = f"extends: {target!r} is a"
    _one_line(*_cli(["validate", str(path)]), words)
    with deadline(10), pytest.raises(ScenarioError, match="expected a regular file"):
        sim.load_scenario(path)


def test_a_scenario_that_is_not_a_regular_file(tmp_path: Path) -> None:
    _one_line(*_cli(["run", "/dev/zero"]), "'/dev/zero' is a character device")
    _one_line(*_cli(["validate", str(tmp_path)]), "is a directory; expected a regular file")


@pytest.mark.parametrize(
    "value", [".inf", "-.inf", ".nan", "inf", "1e999", "1.0e+999", "nan", "-1e400"]
)
def test_overrides_refuse_infinities_and_nan(value: str) -> None:
    words = "labs.0.weekly_budget_usd"
    _one_line(*_cli(["validate", BASE, "--set", f"labs.0.weekly_budget_usd={value}"]), words)


def test_finite_numbers_wherever_a_number_is_meant() -> None:
    base = sim.load_scenario(BASE)
    for path in ("labs.0.weekly_budget_usd", "policy.pay_floor.usd_per_hour",
                 "population.initial_tenure_mean_weeks", "policy.max_fee_share"):
        for bad in (float("inf"), float("nan")):
            with pytest.raises(ScenarioError, match=path):
                sim.load_scenario(base, {path: bad})


def test_good_files_still_load(tmp_path: Path) -> None:
    """A BOM, anchors and merge keys used sensibly, a key overriding a merged one: all fine."""
    path = tmp_path / "ok.yaml"
    text = f"extends: {BASE}\nname: Bogotá reform\npolicy: &p {{paid_rejections: true}}\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    scn = sim.load_scenario(path)
    assert scn.name == "Bogotá reform" and scn.policy.paid_rejections
    merged = tmp_path / "merged.yaml"
    merged.write_text(textwrap.dedent(f"""
        extends: {BASE}
        policy:
          <<: {{paid_rejections: true, max_monitoring: 0.5}}
          max_monitoring: 0.2
        """))
    scn = sim.load_scenario(merged)
    assert scn.policy.paid_rejections and scn.policy.max_monitoring == 0.2


# ---- sweep files ---------------------------------------------------------------------------
SWEEP = f"""base: {BASE}
overrides: {{weeks: 8, burn_in_weeks: 2, population.taskers: 300}}
design: {{kind: grid, parameters: {{policy.max_monitoring: [0.0, 1.0]}}}}
outcomes: [median_effective_hourly_pay_usd]
"""
BAD_SWEEPS = {
    "latin1": ((SWEEP + "name: Bogotá\n").encode("latin-1"), "is not UTF-8"),
    "utf16": (SWEEP.encode("utf-16"), "UTF-16"),
    "binary": (bytes(range(256)) * 8, "binary file"),
    "duplicate_key": ((SWEEP + "seed: 1\nseed: 2\n").encode(), "'seed' is given twice"),
    "deep": ((SWEEP + "name: " + "[" * 5000 + "]" * 5000).encode(), "nesting deeper"),
    "bomb": ((SWEEP + f"name: [{LAUGHS}]\n").encode(), "name: more than 100,000 values"),
    "too_large": ((SWEEP + "name: " + "x" * 1_100_000).encode(), "at most 1,000,000 bytes"),
    "base_dev_zero": (SWEEP.replace(BASE, "/dev/zero").encode(), "is a character device"),
    "infinite_bound": (
        SWEEP.replace("kind: grid, parameters: {policy.max_monitoring: [0.0, 1.0]}",
                      "kind: lhs, samples: 4, parameters: "
                      "{labs.0.weekly_budget_usd: {low: 1, high: .inf}}").encode(),
        "labs.0.weekly_budget_usd",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_file_cli_and_api(case: str, tmp_path: Path) -> None:
    from sim.sweep import plan

    content, words = BAD_SWEEPS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(content)
    store = tmp_path / "store"
    _one_line(*_cli(["sweep", str(path), "--out", str(store), "--dry-run"]), words)
    with deadline(20), pytest.raises(ScenarioError) as e:
        plan(path)
    assert words in str(e.value)
    assert not store.exists()


def test_sweep_file_that_is_not_a_regular_file(tmp_path: Path) -> None:
    out = str(tmp_path / "store")
    _one_line(*_cli(["sweep", "/dev/zero", "--out", out, "--dry-run"]), "a character device")
    _one_line(*_cli(["sweep", str(tmp_path), "--out", out, "--dry-run"]), "a directory")


# ---- dashboard uploads ---------------------------------------------------------------------
def test_upload_extends_only_a_bundled_scenario_by_name(tmp_path: Path) -> None:
    from sim.scenario import show
    from sim.scenario_files import load_scenario_text

    scn = load_scenario_text(b"extends: baseline\nname: mine\n", "up.yaml")
    assert scn.name == "mine" and scn.weeks == sim.load_scenario(BASE).weeks
    assert load_scenario_text("extends: baseline.yaml\n", "up.yaml").labs
    (tmp_path / "secret.yaml").write_text(f"extends: {BASE}\n")
    messages = set()
    for parent in ("../../etc/passwd", "/etc/passwd", "../README.md", str(tmp_path / "secret.yaml"),
                   "no_such_file.yaml", "/dev/zero", "sweeps"):
        with pytest.raises(ScenarioError) as e:
            load_scenario_text(f"extends: {parent}\n", "up.yaml")
        messages.add(str(e.value).replace(show(parent), "PARENT"))
    assert len(messages) == 1, messages  # the same words whether the file exists or not
    assert "expected the name of a bundled scenario: baseline.yaml" in messages.pop()


@pytest.mark.parametrize("case", ["latin1", "utf16", "binary", "duplicate_key", "too_large"])
def test_upload_bad_bytes_one_line(case: str) -> None:
    from sim.scenario_files import load_scenario_text

    content, words = BAD_FILES[case]
    content = content.replace(BASE.encode(), b"baseline")
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(content, "up.yaml")
    assert words in str(e.value) and str(e.value).startswith("up.yaml")


def test_upload_alias_bomb_refused_fast() -> None:
    from sim.scenario_files import load_scenario_text

    with deadline(5), pytest.raises(ScenarioError, match="more than 100,000 values"):
        load_scenario_text(f"extends: baseline\ncountries: [{LAUGHS}]\n", "up.yaml")


# ---- the memory guard under ulimit -v --------------------------------------------------------
def test_memory_guard_honours_the_address_space_limit(tmp_path: Path) -> None:
    """Under ``ulimit -v`` (RLIMIT_AS) a run too large for it is refused before it starts."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(EXE), "run", BASE, "--taskers", "10000000", "--weeks", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=_limited(3),
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "population.taskers: 10,000,000" in proc.stderr and "ulimit -v" in proc.stderr
    assert not out.exists()


def test_address_space_check_passes_what_fits() -> None:
    from sim.resources import ADDRESS_SPACE_BASE, PEAK_BYTES_PER_TASKER, check_memory

    limit = ADDRESS_SPACE_BASE + PEAK_BYTES_PER_TASKER * 1_000_000
    check_memory(1_000_000, available=2**50, address_space=limit)
    with pytest.raises(ScenarioError, match=r"1,000,001 .*\(ulimit -v\).* up to 1,000,000 taskers"):
        check_memory(1_000_001, available=2**50, address_space=limit)
