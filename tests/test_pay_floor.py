"""Pay-floor top-ups and paid-time pay: under an all-time floor the part of a top-up that pays
for unpaid time is not pay per paid hour."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import LabourMarketModel
from sim.results import result_of
from sim.scenario_files import load_scenario

FLOOR = ["policy.pay_floor.kind=local_minimum_wage", "policy.pay_floor.compliance=1.0"]


def run_watching_offers(scenario, seed: int):
    """A run, its model, and the most any tasker could earn per paid hour without a top-up:
    the best offer any job made (USD per median-speed hour) x the fastest tasker's speed
    (an LLM's help included) x the highest pay localisation."""
    model = LabourMarketModel(scenario, seed)
    best_offer = 0.0
    decide = model.labs_decide

    def watched():
        nonlocal best_offer
        jobs = decide()
        best_offer = max([best_offer, *(job.offer_usd_per_hour for job in jobs)])
        return jobs

    model.labs_decide = watched
    floor = 0.0
    for _ in range(scenario.weeks):
        model.step()
        floor = max(floor, float(model.terms.floor.max()))
    b = scenario.behaviour
    llm = 1.0 / (1.0 - b.llm_share_of_labels_when_used * b.llm_speedup / (1.0 + b.llm_speedup))
    fastest = max(1.0, float(model.pool.skill.max()) * llm)  # hourly pay does not rise with it
    localisation = max(
        float((model.price_level.astype(float) ** p.spec.pay_localisation).max())
        for p in model.platforms
    )
    return result_of(model), model, max(floor, best_offer * fastest * localisation)


def test_all_time_floor_leaves_paid_time_pay_within_the_best_rate_or_the_floor(small_baseline):
    """A tasker with a sliver of paid work is topped up for all their unpaid hours too; that
    pays for unpaid time, so pay per paid hour stays under max(floor, best task pay)."""
    scenario = load_scenario(small_baseline, [*FLOOR, "policy.pay_floor.measured_on=all_time"])
    result, _, bound = run_watching_offers(scenario, seed=1)
    s = result.summary
    assert s["overall"]["pay_floor_topup_usd"] > 0
    groups = [s["overall"], *s["by_platform"].values(), *s["by_country"].values()]
    for group in groups:
        assert 0 <= group["mean_paid_hourly_pay_usd"] <= bound
    post = result.weekly[result.weekly.week >= scenario.burn_in_weeks]
    assert post.mean_paid_hourly_pay_usd.between(0, bound).all()
    # unpaid time counted, pay per hour is lower: part of the pay is for unpaid hours
    o = s["overall"]
    assert o["mean_effective_hourly_pay_usd"] < o["mean_paid_hourly_pay_usd"]


@pytest.mark.parametrize("measured_on", ["paid_time", "all_time"])
def test_money_flows_carry_every_top_up(small_baseline, measured_on):
    """Pay to taskers is what labs are billed, all top-ups included, whatever the measure."""
    scenario = load_scenario(small_baseline, [*FLOOR, f"policy.pay_floor.measured_on={measured_on}",
                                              "weeks=12", "burn_in_weeks=2"])
    model = LabourMarketModel(scenario, seed=2)
    for _ in range(scenario.weeks):
        model.step()
        billed = float(model.lab_platform_pay.sum())
        paid_out = float(model.week_pay.sum(dtype=np.float64))
        assert billed == pytest.approx(paid_out, rel=1e-5)
        assert model.current["pay_floor_topup_usd"] > 0


def test_paid_time_floor_keeps_pay_per_paid_hour_as_pay_over_paid_hours(small_baseline):
    """Under a paid-time floor all of a top-up is for paid time: the outcome is each tasker's
    pay (top-ups included) over their paid hours, and no extra per-tasker array is kept."""
    scenario = load_scenario(small_baseline, [*FLOOR, "policy.pay_floor.measured_on=paid_time"])
    result, model, _ = run_watching_offers(scenario, seed=1)
    assert model.pool.spell_paid_time_pay is None and model.week_paid_time_pay is None
    windows = [model.pool.window(p) for p in range(len(model.platforms))]

    def mean_pay_per_paid_hour(pay: np.ndarray, paid: np.ndarray) -> float:
        worked = paid > 0
        return float((pay[worked] / paid[worked]).mean())

    s = result.summary
    assert s["overall"]["pay_floor_topup_usd"] > 0
    pay = sum(w.pay for w in windows)
    paid = sum(w.paid_hours for w in windows)
    assert s["overall"]["mean_paid_hourly_pay_usd"] == pytest.approx(
        mean_pay_per_paid_hour(pay, paid), rel=1e-9)
    for name, w in zip(s["by_platform"], windows, strict=True):
        assert s["by_platform"][name]["mean_paid_hourly_pay_usd"] == pytest.approx(
            mean_pay_per_paid_hour(w.pay, w.paid_hours), rel=1e-9)
    last = result.weekly.iloc[-1]  # the last week's, from the model's week arrays
    assert last.mean_paid_hourly_pay_usd == pytest.approx(
        mean_pay_per_paid_hour(model.week_pay.astype(float), model.week_paid_hours), rel=1e-6)
