"""sim.evaluate for exploratory use: group outcomes, weekly series, short runs, bad keys."""

from __future__ import annotations

import pytest

import sim
from sim.scenario import ScenarioError


def test_evaluate_returns_country_and_platform_outcomes(small_baseline):
    run = sim.run(sim.load_scenario(small_baseline, {"weeks": 12, "burn_in_weeks": 2}), seed=4)
    platform = next(iter(run.summary["by_platform"]))
    keys = [
        "median_effective_hourly_pay_usd",
        "by_country.IND.median_effective_hourly_pay_usd",
        f"by_platform.{platform}.active_taskers",
    ]
    out = sim.evaluate(small_baseline, seed=4, outcomes=keys, weeks=12, burn_in_weeks=2)
    assert list(out) == keys
    assert out[keys[1]] == run.summary["by_country"]["IND"]["median_effective_hourly_pay_usd"]
    assert out[keys[2]] == run.summary["by_platform"][platform]["active_taskers"]


def test_evaluate_adds_weekly_series(small_baseline):
    out = sim.evaluate(small_baseline, seed=4, weekly=["labels_human"], weeks=10, burn_in_weeks=2)
    series = out["weekly.labels_human"]
    assert len(series) == 10 and all(isinstance(v, float) for v in series)
    assert "median_effective_hourly_pay_usd" in out  # the overall outcomes come too


def test_evaluate_shrinks_the_burn_in_of_a_short_run(small_baseline):
    assert small_baseline.burn_in_weeks >= 4
    weeks = small_baseline.burn_in_weeks  # no room for the scenario's own burn-in
    out = sim.evaluate(small_baseline, seed=2, weeks=weeks)
    same = sim.evaluate(small_baseline, seed=2, weeks=weeks, burn_in_weeks=weeks // 4)
    assert out == same


@pytest.mark.parametrize(
    "kwargs, field",
    [({"outcomes": ["by_country.XXX.labels_human"]}, "outcomes"), ({"weekly": ["nope"]}, "weekly")],
)
def test_evaluate_refuses_unknown_keys_in_one_line(small_baseline, kwargs, field):
    with pytest.raises(ScenarioError, match=f"^{field}: .* is not allowed"):
        sim.evaluate(small_baseline, seed=1, weeks=8, burn_in_weeks=2, **kwargs)
