"""The vectorised model and the per-agent Mesa reference (benchmarks/reference_mesa.py)
produce statistically equivalent outcomes: same scenario, 20 seeds each, and for every
headline outcome the two means differ by less than their joint confidence interval."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import outcomes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import reference_mesa  # noqa: E402

SEEDS = range(20)
SMALL = {"population.taskers": 600, "weeks": 24, "burn_in_weeks": 6}
SCENARIOS = {
    "baseline": {},
    "floor_and_hourly": {  # exercises floor screening, top-ups, hourly pay, paid rejections
        "policy.pay_floor.kind": "ppp_indexed",
        "policy.start_week": 4,
        "policy.paid_rejections": True,
        "platforms.crowd_platform.pay_mode": "hourly",
    },
    "all_time_floor": {  # top-ups for unpaid time too: pay for paid time is kept apart
        "policy.pay_floor.kind": "local_minimum_wage",
        "policy.pay_floor.measured_on": "all_time",
        "policy.start_week": 4,
        "platforms.crowd_platform.pay_mode": "hourly",
    },
}
HEADLINE = outcomes.REFERENCE_CHECK
Z = 3.3  # two-sided 99.9%: about a 1.6% chance that one of 17 outcomes fails by chance


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_vectorised_and_per_agent_models_agree(name):
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", SMALL | SCENARIOS[name])
    fast = [sim.run(scenario, seed).overall for seed in SEEDS]
    slow = [reference_mesa.run(scenario, seed).overall for seed in SEEDS]
    failures = []
    for key in HEADLINE:
        a = np.array([o[key] for o in fast])
        b = np.array([o[key] for o in slow])
        half_width = Z * np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        if abs(a.mean() - b.mean()) > max(half_width, 1e-9 * abs(a.mean())):
            failures.append(f"{key}: {a.mean():.6g} vs {b.mean():.6g} (+-{half_width:.3g})")
    assert not failures, "; ".join(failures)
