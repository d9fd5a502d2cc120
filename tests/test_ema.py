"""The EMA workbench adapter: priors as uncertainties, schema levers, registry outcomes with
their direction, one explicit seed per replication; the shipped example runs at toy size."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from sim import ema
from sim import outcomes as registry
from sim.priors import load_priors
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
TINY = {"population.taskers": 300, "weeks": 8, "burn_in_weeks": 2}


def test_model_is_built_from_priors_schema_and_registry():
    m = ema.model(ROOT / "scenarios" / "baseline.yaml", seeds=[4, 9], overrides=TINY,
                  outcome_names=["median_effective_hourly_pay_usd", "unpaid_share",
                                 "active_taskers"], countries=["KEN"])
    priors = load_priors()
    assert [u.name for u in m.uncertainties] == [ema.ema_name(p.key) for p in priors]
    assert [(u.lower_bound, u.upper_bound) for u in m.uncertainties] == [
        (p.low, p.high) for p in priors
    ]
    kinds = {o.name: o.kind for o in m.outcomes}
    assert kinds["median_effective_hourly_pay_usd"] == 1  # MAXIMIZE: higher is better
    assert kinds["unpaid_share"] == -1  # MINIMIZE
    assert kinds["active_taskers"] == 0  # INFO: neutral
    assert "by_country__KEN__median_effective_hourly_pay_usd" in kinds
    assert [r["seed"] for r in m.replications] == [4, 9]
    names = {lv.name for lv in m.levers}
    assert {"policy__max_monitoring", "policy__paid_rejections"} <= names


def test_experiment_sets_every_path_of_a_prior_and_uses_its_seed():
    m = ema.model(ROOT / "scenarios" / "baseline.yaml", seeds=[3], overrides=TINY,
                  outcome_names=["median_effective_hourly_pay_usd"])
    constants = {c.name: c.value for c in m.constants}
    prior = next(p for p in load_priors() if len(p.paths) > 1)
    value = (prior.low + prior.high) / 2
    out = ema.experiment(constants["scenario"], constants["paths"], 3,
                         outcome_keys=constants["outcome_keys"],
                         **{ema.ema_name(prior.key): value})
    import sim

    scn = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml",
                            {**TINY, **dict.fromkeys(prior.paths, value)})
    assert out["median_effective_hourly_pay_usd"] == sim.evaluate(scn, 3)[
        "median_effective_hourly_pay_usd"]


def test_bad_levers_seeds_and_outcomes_are_refused_in_one_line():
    with pytest.raises(ScenarioError, match="^levers: 'policy.nope' is not allowed"):
        ema.model(seeds=[1], levers=["policy.nope"])
    with pytest.raises(ScenarioError, match="^seeds: "):
        ema.model(seeds=[])
    with pytest.raises(ScenarioError, match="^outcomes: "):
        ema.outcomes(["gini_weekly_pay_typo"])


def test_registry_directions_map_to_ema_kinds():
    for outcome in ema.outcomes(list(registry.HEADLINE)):
        direction = registry.get(outcome.name).direction
        assert outcome.kind == {registry.HIGHER: 1, registry.LOWER: -1,
                                registry.NEUTRAL: 0}[direction]


@pytest.mark.slow
def test_shipped_example_runs_16_experiments_and_prim(monkeypatch):
    monkeypatch.chdir(ROOT)
    example = runpy.run_path(str(ROOT / "docs" / "examples" / "ema_explore.py"))
    found = example["main"](tiny=True)
    assert len(found["experiments"]) == 16
    pay = np.asarray(found["outcomes"]["median_effective_hourly_pay_usd"], dtype=float)
    assert pay.shape == (16,) and np.isfinite(pay).all()
    assert 0 < found["box"].coverage <= 1 and 0 < found["box"].density <= 1
