"""ABC-SMC calibration: priors, a tiny two-generation run that resumes, the shipped posterior,
and `compare --ensemble` over it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
from sim.calibration import load_targets, statistic
from sim.calibration_abc import (
    POSTERIOR,
    AbcSettings,
    TargetDistance,
    effective_sample_size,
    load_posterior,
    parameter_columns,
    run_abc,
)
from sim.calibration_ensemble import particle_for
from sim.cli import app
from sim.compare import compare
from sim.priors import load_priors
from sim.scenario import ScenarioError
from tests.conftest import BASELINE, ROOT


def test_priors_cover_the_free_parameters_and_load_against_the_baseline():
    scn = sim.load_scenario(BASELINE)
    priors = load_priors(scenario=scn)
    assert len(priors) >= 8
    assert all(p.source.strip() and p.low < p.high for p in priors)
    paths = [path for p in priors for path in p.paths]
    assert len(paths) == len(set(paths))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"distribution": "normal"}, "distribution"),
        ({"low": 5, "high": 1}, "low < high"),
        ({"paths": ["behaviour.no_such_field"]}, "no_such_field"),
    ],
)
def test_bad_prior_is_one_clear_error(tmp_path, change, words):
    raw = yaml.safe_load((ROOT / "sim" / "data" / "priors.yaml").read_text())
    raw[0].update(change)
    path = tmp_path / "priors.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ScenarioError) as e:
        load_priors(path, sim.load_scenario(BASELINE))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_targets_are_honest():
    targets = load_targets()
    stats = [t["statistic"] for t in targets]
    assert not any("tasker_share_of_lab_price" in s for s in stats)  # an identity of fee_share
    assert any(s.startswith("human_share_change") for s in stats)  # constrains automation
    for t in targets:
        lo, hi = t["accepted"]
        assert lo < t["published"] < hi and t["uncertainty"].strip()


def test_pooled_platforms_weigh_each_platform_by_its_taskers_with_paid_work():
    row = {"taskers_with_paid_work": 0.0, "mean_effective_hourly_pay_usd": 0.0}
    summary = {"by_platform": {
        "a": {**row, "taskers_with_paid_work": 300.0, "mean_effective_hourly_pay_usd": 2.0},
        "b": {**row, "taskers_with_paid_work": 100.0, "mean_effective_hourly_pay_usd": 6.0},
        "c": {**row, "taskers_with_paid_work": 900.0, "mean_effective_hourly_pay_usd": 9.0},
    }}
    assert statistic(summary, "platforms:a+b.mean_effective_hourly_pay_usd") == 3.0
    assert statistic(summary, "platforms:a.mean_effective_hourly_pay_usd") == 2.0


def test_ilo_figures_pool_the_microtask_platforms_the_survey_covered():
    """The ILO surveyed five microtask platforms: its means are not one platform's. Its
    paid-time mean is a target; its all-time mean, a function of the targets' figures, is
    a check among the validation facts."""
    from sim.calibration_validation import load_facts

    names = {p.name for p in sim.load_scenario(BASELINE).platforms}
    ilo = [t for t in load_targets() + load_facts() if t["source"].startswith("ILO 2018 (Berg")
           and t["statistic"].startswith("platforms:")]
    assert {t["published"] for t in ilo} == {4.43, 3.31}
    for t in ilo:
        pooled = t["statistic"].split(".")[0].split(":", 1)[1].split("+")
        assert set(pooled) == {"open_marketplace", "crowd_platform"} <= names


def test_the_ilo_all_time_mean_is_not_scored_again():
    """The ILO's all-time mean (3.31 = 4.43 x (1 - 0.25)) is carried by the paid-time and
    unpaid-share targets, so it is not scored a second time."""
    published = {t["published"] for t in load_targets()}
    assert 4.43 in published and 3.31 not in published


def test_distance_scales_by_the_uncertainty_on_each_side():
    t = [{"statistic": "x", "published": 2.0, "accepted": [1.0, 6.0]}]
    d = TargetDistance(t)
    assert d({"x": 1.0}) == pytest.approx(1.0) == d({"x": 6.0})
    assert d({"x": 2.0}) == 0.0


@pytest.mark.slow
def test_tiny_abc_runs_two_generations_and_resumes(tmp_path):
    scn = sim.load_scenario(BASELINE, {"weeks": 30, "burn_in_weeks": 5})
    settings = AbcSettings(population_size=6, generations=2, taskers=300, workers=2,
                           history=str(tmp_path / "abc.db"), minimum_epsilon=0.0)
    lines: list[str] = []
    first = run_abc(scn, settings, progress=lines.append)
    post, record = first["posterior"], first["record"]
    priors = load_priors(scenario=scn)
    assert len(post) == 6 and len(record["generations"]) == 2 and not record["resumed"]
    assert post["weight"].sum() == pytest.approx(1.0)
    assert set(parameter_columns(post)) == {path for p in priors for path in p.paths}
    assert any("eps" in line for line in lines)  # progress is reported per generation
    for p in priors:  # every particle lies in its prior's support
        assert post[p.key].between(p.low, p.high).all()
    settings.generations = 3
    again = run_abc(scn, settings)
    assert again["record"]["resumed"] and len(again["record"]["generations"]) == 3
    # the resumed generation continues the tolerance schedule (the median distance of the
    # last generation), not the first generation's tolerance again (here infinite)
    eps = [g["epsilon"] for g in again["record"]["generations"]]
    assert eps[2] <= eps[1] < math.inf


def test_shipped_posterior_is_an_ensemble_of_the_baseline():
    post = load_posterior(POSTERIOR)
    w = post["weight"].to_numpy()
    assert len(post) >= 200 and effective_sample_size(w) >= 50
    assert w.sum() == pytest.approx(1.0)
    cols = parameter_columns(post)
    first = {c: post[c].iloc[0].item() for c in cols}
    scn = sim.load_scenario(BASELINE, first)
    assert all(post[c].std() > 0 for c in cols)
    assert scn.behaviour.reputation_power == pytest.approx(first["behaviour.reputation_power"])


def test_a_reform_keeps_its_own_value_of_a_calibrated_parameter():
    base = sim.load_scenario(BASELINE)
    reform = sim.load_scenario(base, {"automation.switching_premium": 99.0})
    particle = {"automation.switching_premium": 5.0, "behaviour.reputation_power": 3.0}
    assert particle_for(base, reform, particle) == {"behaviour.reputation_power": 3.0}


def test_compare_ensemble_adds_the_posterior_spread(small_baseline):
    reform = sim.load_scenario(
        small_baseline,
        {"policy.pay_floor.kind": "absolute", "policy.pay_floor.usd_per_hour": 7.25},
    )
    comp = compare(small_baseline, reform, replicates=2, ensemble=3)
    t = comp.table
    assert {"ensemble_low", "ensemble_high", "share_same_sign"} <= set(t.columns)
    head = t[(t.scope == "overall") & (t.outcome == "median_effective_hourly_pay_usd")].iloc[0]
    assert head.ensemble_low <= head.ensemble_high and 0 <= head.share_same_sign <= 1
    assert head.ensemble_low > 0  # a 7.25 USD floor raises the median in every draw
    assert len(comp.ensemble["particles"]) == 3


def test_compare_ensemble_bad_posterior_is_one_line(tmp_path):
    bad = tmp_path / "posterior.parquet"
    pd.DataFrame({"x": [1.0]}).to_parquet(bad)
    result = CliRunner().invoke(app, [
        "compare", str(BASELINE), str(ROOT / "scenarios" / "us_federal_floor.yaml"),
        "--replicates", "2", "--ensemble", "2", "--posterior", str(bad),
    ])
    assert result.exit_code == 2
    assert "posterior" in result.output and "Traceback" not in result.output


def test_effective_sample_size():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 0, 0])) == pytest.approx(1)


def test_proposals_differ_after_the_trip_to_a_worker():
    """Each task gets a fresh unpickled proposal (as sent to a Dask worker); each must draw a new
    point from numpy's generator, not replay a random state pickled with it."""
    import pickle

    from sim.abc_proposal import GlobalNormalTransition

    rng = np.random.default_rng(0)
    particles = pd.DataFrame(rng.normal(size=(40, 3)), columns=["p00", "p01", "p02"])
    proposal = GlobalNormalTransition(1.2)
    proposal.fit(particles, np.full(40, 1 / 40))
    blob = pickle.dumps(proposal)
    draws = {tuple(pickle.loads(blob).rvs_single().values()) for _ in range(5)}
    assert len(draws) == 5
    shipped = pickle.loads(blob)
    assert shipped.pdf(particles).shape == (40,) and (shipped.pdf(particles) > 0).all()
