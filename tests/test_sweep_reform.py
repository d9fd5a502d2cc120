"""Sweeps of a policy delta: a reform applied on top of every point, paired by seed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import sim
from sim import sweep
from sim.scenario import ScenarioError
from sim.sweep_plan import scenario_diff

ROOT = Path(__file__).resolve().parent.parent
TINY = {"weeks": 8, "burn_in_weeks": 2, "population.taskers": 400}
OUT = "median_effective_hourly_pay_usd"


def write(tmp_path: Path, **fields) -> Path:
    spec = {
        "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "reform": str(ROOT / "scenarios" / "local_minimum_wage.yaml"),
        "overrides": TINY,
        "seed": 5,
        "replicates": 1,
        "design": {"kind": "grid",
                   "parameters": {"population.hours_available_median": [10.0, 20.0]}},
        "outcomes": [OUT, f"delta.{OUT}", "delta.labels_human", "delta.pay_floor_topup_usd"],
    }
    spec.update(fields)
    path = tmp_path / "reform.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_delta_is_reform_minus_baseline_with_the_same_seed(tmp_path: Path) -> None:
    plan = sweep.plan(write(tmp_path))
    sweep.run_sweep(plan, tmp_path / "store", workers=1)
    runs = sweep.load(tmp_path / "store")
    assert runs["error"].isna().all() and len(runs) == 2
    reform = sim.load_scenario(ROOT / "scenarios" / "local_minimum_wage.yaml")
    for _, row in runs.iterrows():
        params = {**TINY, "population.hours_available_median": row[
            "population.hours_available_median"]}
        base = sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", params), row.seed)
        changed = sim.run(sim.load_scenario(reform, params), row.seed)
        assert row[OUT] == pytest.approx(base.overall[OUT], rel=1e-12)
        assert row[f"delta.{OUT}"] == pytest.approx(
            changed.overall[OUT] - base.overall[OUT], rel=1e-9, abs=1e-12
        )
    # a local minimum wage floor is paid as top-ups (what it does to the median depends on
    # how much work labs still buy at its cost)
    assert (runs["delta.pay_floor_topup_usd"] > 0).all()


def test_reform_changes_the_run_hashes(tmp_path: Path) -> None:
    paired = sweep.plan(write(tmp_path))
    plain = sweep.plan(write(tmp_path, reform=None, outcomes=[OUT]))
    assert {r.hash for r in paired.runs}.isdisjoint(r.hash for r in plain.runs)


def test_delta_outcomes_need_a_reform(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=f"delta.{OUT}' is not allowed"):
        sweep.plan(write(tmp_path, reform=None))


def test_a_reform_that_changes_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="^reform: .* changes nothing"):
        sweep.plan(write(tmp_path, reform=str(ROOT / "scenarios" / "baseline.yaml")))


def test_scenario_diff_gives_leaf_overrides() -> None:
    base = {"name": "a", "policy": {"x": 1, "y": [1, 2]}, "labs": [{"b": 1}, {"b": 2}]}
    other = {"name": "b", "policy": {"x": 1, "y": [1, 2, 3]}, "labs": [{"b": 1}, {"b": 5}]}
    assert scenario_diff(base, other) == {"policy.y": [1, 2, 3], "labs.1.b": 5}


def test_links_set_several_paths_to_a_parameter_value(tmp_path: Path) -> None:
    labs = "labs.frontier_lab.streams"
    path = write(
        tmp_path, reform=None, outcomes=[OUT],
        design={"kind": "grid", "parameters": {f"{labs}.1.pay_norm_usd_per_hour": [2.0, 4.0]}},
        links={f"{labs}.1.pay_norm_usd_per_hour": [f"{labs}.3.pay_norm_usd_per_hour"]},
    )
    plan = sweep.plan(path)
    for run, value in zip(plan.runs, [2.0, 4.0], strict=True):
        streams = run.scenario["labs"][0]["streams"]
        assert streams[1]["pay_norm_usd_per_hour"] == streams[3]["pay_norm_usd_per_hour"] == value
    with pytest.raises(ScenarioError, match="^links.nope: is not allowed"):
        sweep.plan(write(tmp_path, reform=None, outcomes=[OUT], links={"nope": ["weeks"]}))


def test_log_scale_samples_the_logarithm_uniformly(tmp_path: Path) -> None:
    name = "automation.switching_premium"
    path = write(
        tmp_path, reform=None, outcomes=[OUT],
        design={"kind": "lhs", "samples": 400,
                "parameters": {name: {"low": 1.0, "high": 100.0, "scale": "log"}}},
    )
    plan = sweep.plan(path)
    values = [p[name] for p in plan.points]
    assert min(values) >= 1.0 and max(values) <= 100.0
    below_10 = sum(v < 10.0 for v in values) / len(values)
    assert 0.4 < below_10 < 0.6  # half the mass under the geometric midpoint
    assert plan.problem["dists"] == ["logunif"]
    with pytest.raises(ScenarioError, match="scale: 'log' is not allowed"):
        sweep.plan(write(tmp_path, reform=None, outcomes=[OUT], design={
            "kind": "lhs", "samples": 4,
            "parameters": {name: {"low": 0.0, "high": 1.0, "scale": "log"}}}))
