"""The terms of a week: scenario + policy + week turned, in one place, into what each platform
applies this week (fee, monitoring, pay mode, paid rejections), each country's pay floor and
the labs' automation cap. Labs, platforms, matching and metrics read these terms.

Policy levers (`policy.*`) apply from `policy.start_week` on; before it, every lever has its
no-policy value, so the terms are the platforms' own. To add a policy lever: declare it in
`sim.scenario.Policy`, resolve it here, and read it from the terms where it acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.scenario import Policy, Scenario

F32 = np.float32


def lever_paths(model: type[BaseModel] = Policy, prefix: str = "policy") -> list[str]:
    """The dotted path of every policy lever, from the schema (groups expanded, in order)."""
    paths = []
    for name, field in model.model_fields.items():
        group = field.annotation
        if isinstance(group, type) and issubclass(group, BaseModel):
            paths += lever_paths(group, f"{prefix}.{name}")
        else:
            paths.append(f"{prefix}.{name}")
    return paths


LEVERS = lever_paths()  # the dashboard's reform levers and the tests' lever strategies


@dataclass(frozen=True)
class WeekTerms:
    """What applies in one week, per platform (arrays in scenario order) and per country."""

    week: int
    policy_active: bool
    fee_share: np.ndarray  # per platform: commission, share of tasker pay
    monitoring: np.ndarray  # per platform, 0-1
    hourly: np.ndarray  # per platform: pays by the hour (else piece rate)
    paid_rejections: np.ndarray  # per platform: rejected piece-rate tasks are paid
    floor: np.ndarray  # per country: pay floor, USD per hour (0 where none), float32
    max_automation_share: float  # labs' automation cap set by policy (1: none)
    contributions: Any  # policy.contributions from start_week on, else None (sim.netpay)


@dataclass(frozen=True)
class Country:
    """The country data the terms need: minimum wage and price level per country."""

    min_wage: np.ndarray  # USD per hour, float32
    price_level: np.ndarray  # PPP / exchange rate, float32
    mean_price_level: float  # weighted by where online workers live


def resolve(scenario: Scenario, week: int, country: Country) -> WeekTerms:
    """The terms of `week` under `scenario`."""
    policy = scenario.policy
    active = week >= policy.start_week
    specs = scenario.platforms
    forced = policy.pay_mode if active else "platform_default"
    modes = [p.pay_mode if forced == "platform_default" else forced for p in specs]
    cap = policy.max_fee_share if active else None
    max_monitoring = policy.max_monitoring if active else 1.0
    return WeekTerms(
        week=week,
        policy_active=active,
        fee_share=np.array([p.fee_share if cap is None else min(p.fee_share, cap) for p in specs]),
        monitoring=np.array([min(p.monitoring, max_monitoring) for p in specs]),
        hourly=np.array([m == "hourly" for m in modes]),
        paid_rejections=np.array(
            [p.paid_rejections or (active and policy.paid_rejections) for p in specs]
        ),
        floor=pay_floor(scenario, active, country),
        max_automation_share=1.0 - (policy.min_human_share if active else 0.0),
        contributions=policy.contributions if active else None,
    )


def pay_floor(scenario: Scenario, active: bool, country: Country) -> np.ndarray:
    """Pay floor per country, USD per hour (0 where none)."""
    floor = scenario.policy.pay_floor
    c = country.min_wage.size
    if not active or floor.kind == "none":
        return np.zeros(c, F32)
    if floor.kind == "absolute":
        return np.full(c, floor.usd_per_hour, F32)
    if floor.kind == "local_minimum_wage":
        return (floor.multiple * country.min_wage).astype(F32)
    if floor.kind == "ppp_indexed":
        return (floor.reference_usd_per_hour * country.price_level).astype(F32)
    return np.full(c, floor.reference_usd_per_hour * country.mean_price_level, F32)
