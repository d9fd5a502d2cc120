"""Bad scenarios and overrides: one line naming the field, the value and what is allowed; exit 2."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
BASE = (ROOT / "scenarios" / "baseline.yaml").as_posix()
runner = CliRunner()

# (overrides, words the message must contain)
BAD_OVERRIDES = [
    (["policy.pay_floor.compliance=1.5"], "policy.pay_floor.compliance"),
    (["policy.pay_floor.compliance=-0.1"], "compliance"),
    (["policy.pay_floor.kind=maximum"], "policy.pay_floor.kind"),
    (["policy.max_monitoring=2"], "policy.max_monitoring"),
    (["policy.min_human_share=abc"], "policy.min_human_share"),
    (["policy.paid_rejections=maybe"], "policy.paid_rejections"),
    (["policy.pay_mode=daily"], "policy.pay_mode"),
    (["policy.start_week=-3"], "policy.start_week"),
    (["policy.pay_floor.usd_per_hour=-5"], "usd_per_hour"),
    (["labs.0.weekly_budget_usd=-100"], "labs.0.weekly_budget_usd"),
    (["labs.0.weekly_budget_usd=lots"], "labs.0.weekly_budget_usd"),
    (["labs.7.weekly_budget_usd=1"], "index 7"),
    (["labs.nolab.weekly_budget_usd=1"], "nolab"),
    (["labs.0.streams.0.pay_norm_usd_per_hour=0"], "pay_norm_usd_per_hour"),
    (["labs.0.streams.0.task_type=poetry"], "task_type"),
    (["labs.0.streams.0.eligible_countries=[XYZ]"], "XYZ"),
    (["labs.0.platform_shares.nowhere=0.5"], "nowhere"),
    (["platforms.open_marketplace.fee=0.3"], "'fee'"),
    (["platforms.open_marketplace.monitoring=1.2"], "monitoring"),
    (["platforms.open_marketplace.pay_mode=barter"], "pay_mode"),
    (["platforms.open_marketplace.countries_served=[ZZZ]"], "ZZZ"),
    (["platforms=[]"], "platforms"),
    (["labs=[]"], "labs"),
    (["countries=[USA, ATL]"], "ATL"),
    (["countries=[]"], "countries"),
    (["population.taskers=0"], "population.taskers"),
    (["population.taskers=many"], "population.taskers"),
    (["weeks=0"], "weeks"),
    (["burn_in_weeks=500"], "burn_in_weeks"),
    (["foo.bar=1"], "'foo'"),
    (["policy.pay_floor.colour=red"], "'colour'"),
    (["policy"], "PATH=VALUE"),
    (["=3"], "empty path"),
    (["automation.mode=scheduled"], "automation.schedule"),
    (["automation.mode=scheduled", "automation.schedule.poetry=[[0, 0.5]]"], "poetry"),
    (["policy.pay_floor.kind=ppp_indexed", "policy.pay_floor.reference_usd_per_hour=null"],
     "reference_usd_per_hour"),
    (["technology.ai_cost_decline_per_year=1.0"], "ai_cost_decline_per_year"),
    (["task_types.0.minutes_per_task=-1"], "minutes_per_task"),
    (["behaviour.look_again_probability=3"], "look_again_probability"),
    (["seed=-1"], "seed"),
]

BAD_FILES = {
    "yaml_syntax": ("name: x\npolicy: {{pay_floor: [\n", "YAML syntax error"),
    "top_level_list": ("- a\n- b\n", "expected a mapping"),
    "unknown_key": ("extends: {base}\nbogus_key: 1\n", "bogus_key"),
    "bad_extends": ("extends: no_such_file.yaml\n", "no_such_file.yaml"),
    "extends_not_string": ("extends: [1, 2]\n", "extends"),
    "wrong_type": ("extends: {base}\nweeks: fifty\n", "weeks"),
    "share_above_one": ("extends: {base}\npolicy: {{min_human_share: 1.7}}\n", "min_human_share"),
    "negative_wage": (
        "extends: {base}\npolicy: {{pay_floor: {{kind: absolute, usd_per_hour: -2}}}}\n",
        "usd_per_hour",
    ),
    "empty_platforms": ("extends: {base}\nplatforms: []\n", "platforms"),
    "unknown_country": ("extends: {base}\ncountries: [USA, NARNIA]\n", "NARNIA"),
}


def _run(args):
    result = runner.invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.parametrize(("overrides", "words"), BAD_OVERRIDES)
def test_bad_override_one_line_exit_2(overrides, words):
    args = ["validate", BASE]
    for o in overrides:
        args += ["--set", o]
    code, out = _run(args)
    assert code == 2, out
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert words in lines[0], out
    assert "Traceback" not in out


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_one_line_exit_2(case, tmp_path):
    text, words = BAD_FILES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text.format(base=BASE))
    for command in ("validate", "run"):
        code, out = _run([command, str(path)])
        assert code == 2, out
        lines = [ln for ln in out.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and words in lines[0], out


def test_missing_file_exit_2():
    code, out = _run(["validate", "does/not/exist.yaml"])
    assert code == 2 and "does not exist" in out


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    code, out = _run(["validate", str(tmp_path / "a.yaml")])
    assert code == 2 and "cycle" in out


def test_good_scenario_ok():
    code, out = _run(["validate", BASE, "--set", "platforms.managed_vendor.monitoring=0"])
    assert code == 0 and out.strip() == "ok"


def test_real_process_has_no_traceback(tmp_path):
    exe = Path(sys.executable).with_name("datalabour")
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent(f"extends: {BASE}\nweeks: -4\n"))
    proc = subprocess.run([str(exe), "run", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert "weeks" in proc.stderr and "Traceback" not in proc.stderr


def test_population_too_large_for_memory_one_line_exit_2(monkeypatch, tmp_path):
    """A population that cannot fit in this machine's memory stops before any run starts."""
    import sim.resources

    monkeypatch.setattr(sim.resources, "memory_available", lambda: 4 * 2**30)  # a 4 GB machine
    code, out = _run(["run", BASE, "--taskers", "20000000", "--weeks", "2", "--out", str(tmp_path)])
    assert code == 2, out
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "population.taskers: 20,000,000" in lines[0], out
    assert "enough for up to" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing written
    sweep = tmp_path.parent / "big_sweep.yaml"
    sweep.write_text(textwrap.dedent(f"""
        name: big
        base: {BASE}
        overrides: {{population.taskers: 5000000, weeks: 2, burn_in_weeks: 0}}
        replicates: 1
        design: {{kind: grid, parameters: {{policy.max_monitoring: [0.0, 1.0]}}}}
        outcomes: [median_effective_hourly_pay_usd]
        """))
    code, out = _run(["sweep", str(sweep), "--out", str(tmp_path / "store"), "--workers", "2"])
    assert code == 2 and "2 runs side by side" in out, out
    assert not (tmp_path / "store").exists()


def test_memory_check_passes_what_fits():
    from sim.resources import check_memory, memory_needed
    from sim.scenario import ScenarioError

    check_memory(1_000_000, available=memory_needed(1_000_000))
    with pytest.raises(ScenarioError, match="population.taskers: 1,000,001"):
        check_memory(1_000_001, available=memory_needed(1_000_000))


def test_memory_available_respects_a_container_limit(tmp_path):
    from sim.resources import memory_available

    machine = memory_available(cgroup=str(tmp_path / "none"))
    assert machine is not None and machine > 0
    (tmp_path / "memory.max").write_text(f"{3 * 2**30}\n")
    (tmp_path / "memory.current").write_text(f"{2**30}\n")
    assert machine > 2 * 2**30  # (this test needs a machine with more than 2 GB free)
    assert memory_available(cgroup=str(tmp_path)) == 2 * 2**30  # limit - used
    (tmp_path / "memory.max").write_text("max\n")  # no limit: the machine's (it moves a little)
    assert abs(memory_available(cgroup=str(tmp_path)) - machine) < 2**28


def test_calibrate_a_scenario_without_a_target_platform_one_line_exit_2(tmp_path):
    """The targets pool named platforms: a scenario that renamed one is told so before any run."""
    path = tmp_path / "renamed.yaml"
    path.write_text(Path(BASE).read_text().replace("crowd_platform", "crowd_two"))
    code, out = _run(["calibrate", str(path), "--replicates", "1"])
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, out
    assert "'crowd_platform'" in lines[0] and "crowd_two" in lines[0], out
