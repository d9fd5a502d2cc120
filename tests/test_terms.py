"""The week's terms: policy levers resolved once per week, from policy.start_week on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import sim
from sim import terms

ROOT = Path(__file__).resolve().parent.parent
REFORM = {
    "policy.start_week": 10,
    "policy.max_fee_share": 0.1,
    "policy.max_monitoring": 0.2,
    "policy.pay_mode": "hourly",
    "policy.paid_rejections": True,
    "policy.min_human_share": 0.3,
    "policy.pay_floor.kind": "absolute",
    "policy.pay_floor.usd_per_hour": 4.0,
}


def _terms(week: int) -> tuple[sim.Scenario, terms.WeekTerms]:
    scn = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", REFORM)
    n = len(scn.countries)
    country = terms.Country(np.ones(n, np.float32), np.ones(n, np.float32), 1.0)
    return scn, terms.resolve(scn, week, country)


def test_before_start_week_the_platforms_own_terms_apply():
    scn, t = _terms(9)
    assert not t.policy_active
    assert list(t.fee_share) == [p.fee_share for p in scn.platforms]
    assert list(t.monitoring) == [p.monitoring for p in scn.platforms]
    assert list(t.hourly) == [p.pay_mode == "hourly" for p in scn.platforms]
    assert list(t.paid_rejections) == [p.paid_rejections for p in scn.platforms]
    assert not t.floor.any() and t.max_automation_share == 1.0


def test_from_start_week_the_levers_apply():
    scn, t = _terms(10)
    assert t.policy_active
    assert list(t.fee_share) == [min(p.fee_share, 0.1) for p in scn.platforms]
    assert list(t.monitoring) == [min(p.monitoring, 0.2) for p in scn.platforms]
    assert t.hourly.all() and t.paid_rejections.all()
    assert (t.floor == np.float32(4.0)).all() and t.floor.dtype == np.float32
    assert t.max_automation_share == 0.7


def test_building_a_model_leaves_the_allocator_alone(monkeypatch):
    """mallopt is opt-in for library use (the CLI and the benchmarks turn it on)."""
    import ctypes

    from sim.model import LabourMarketModel

    def refuse(*args, **kwargs) -> None:
        raise AssertionError("the model changed the process's allocator settings")

    monkeypatch.setattr(ctypes, "CDLL", refuse)  # how mallopt is reached
    scn = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", {"population.taskers": 200})
    LabourMarketModel(scn, seed=1).step()
