"""Labs and platforms: few, rich Mesa agents. Taskers live in `sim.taskers.TaskerPool`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.model import LabourMarketModel
    from sim.scenario import Lab as LabSpec
    from sim.scenario import Platform as PlatformSpec


def logistic(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Job:
    """One lab's human work of one task type posted on one platform this week."""

    stream: int  # global stream index
    lab: int
    platform: int
    task: int
    tasks: float  # volume posted, tasks
    rate_usd_per_task: float  # piece rate before localisation
    offer_usd_per_hour: float  # pay per median-speed hour before localisation
    minutes_per_task: float  # for a median tasker, after hardening
    allowed: np.ndarray  # bool per country


class Lab(mesa.Agent):
    """An AI lab: demand per task type, automation, pay offers, platform split."""

    def __init__(self, model: LabourMarketModel, spec: LabSpec, index: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        s = model.params
        n_platforms = len(s.platforms)
        names = [p.name for p in s.platforms]
        base = np.array([spec.platform_shares.get(n, 0.0) for n in names], dtype=float)
        self.base_platform_shares = base / base.sum()
        self.platform_shares = self.base_platform_shares.copy()
        self.streams = []
        for st in spec.streams:
            k = s.task_index(st.task_type)
            allowed = model.country_mask(st.eligible_countries)
            self.streams.append(
                {
                    "spec": st,
                    "task": k,
                    "allowed": allowed,
                    "automation": st.automation_share_initial,
                    "offer": st.pay_norm_usd_per_hour,
                    "fill": 1.0,
                    "minutes": s.task_types[k].minutes_per_task,
                    "cost_per_task": None,
                    "volume": 0.0,
                    "demand": 0.0,
                    "offer_cut": 0.0,
                }
            )
        self.platform_cost = np.full(n_platforms, np.nan)
        self.budget_scale = 1.0

    # ---- labs_decide --------------------------------------------------------------------
    def decide(self) -> list[Job]:
        """Automation share, pay offer and human volume per stream; split over platforms."""
        m = self.model
        s = m.params
        years = m.week / 52.0
        scale = s.population.taskers / s.population.reference_taskers
        fee = m.platform_fees
        mean_fee = float(self.platform_shares @ fee)
        cap_policy = 1.0 - m.policy_value("min_human_share", 0.0)
        for st in self.streams:
            task = s.task_types[st["task"]]
            spec = st["spec"]
            st["demand"] = (
                spec.demand_task_hours_per_tasker
                * s.population.taskers
                * 60.0
                / task.minutes_per_task
                * (1.0 + self.spec.demand_growth_per_year) ** years
            )
            cap = min(task.ai_feasibility_cap, 1.0 - self.spec.human_anchor_share, cap_policy)
            if s.automation.mode == "scheduled" and task.name in s.automation.schedule:
                pts = s.automation.schedule[task.name]
                target = float(np.interp(m.week, [w for w, _ in pts], [a for _, a in pts]))
                st["automation"] = min(target, cap_policy)
            elif s.automation.mode == "endogenous":
                human_cost = st["cost_per_task"] or (
                    st["offer"] * st["minutes"] / 60.0 * (1.0 + mean_fee)
                )
                ai_cost = max(m.ai_cost[st["task"]], 1e-12)
                ratio = human_cost * m.ai_quality[st["task"]] / ai_cost
                a = s.automation
                target = cap * logistic(
                    a.logit_slope * (np.log(ratio) - np.log(1.0 + a.switching_premium))
                )
                share = st["automation"] + a.adoption_speed_per_week * (target - st["automation"])
                st["automation"] = min(share, cap)
            else:
                st["automation"] = min(st["automation"], cap_policy)
            hardening = s.automation.hardening * st["automation"]
            st["minutes"] = task.minutes_per_task * (1.0 + hardening)
            old = st["offer"]
            if st["fill"] < self.spec.fill_rate_target:
                ceiling = spec.pay_norm_usd_per_hour * self.spec.pay_ceiling_multiple_of_norm
                st["offer"] = min(old * (1.0 + self.spec.pay_raise_per_week), max(ceiling, old))
            else:
                cut = old * (1.0 - self.spec.pay_cut_per_week)
                st["offer"] = max(spec.pay_norm_usd_per_hour, cut)
            st["offer_cut"] = max(0.0, 1.0 - st["offer"] / old)
        # human volume, cut to what the budget buys
        planned = []
        spend = 0.0
        for st in self.streams:
            rate = st["offer"] * st["minutes"] / 60.0
            per_task = st["cost_per_task"] or rate * (1.0 + mean_fee)
            human = (1.0 - st["automation"]) * st["demand"]
            ai = st["automation"] * st["demand"] * m.ai_cost[st["task"]]
            planned.append((human, rate))
            spend += human * per_task + ai
        budget = self.spec.weekly_budget_usd * scale
        self.budget_scale = min(1.0, budget / spend) if spend > 0 else 1.0
        self._update_platform_split()
        jobs = []
        for i, (st, (human, rate)) in enumerate(zip(self.streams, planned, strict=True)):
            st["volume"] = human * self.budget_scale
            shares = self.platform_shares * m.platform_reach(st["allowed"])
            if shares.sum() <= 0:
                continue
            shares = shares / shares.sum()
            for p, sh in enumerate(shares):
                if sh > 0:
                    jobs.append(
                        Job(
                            stream=m.stream_offset[self.index] + i,
                            lab=self.index,
                            platform=p,
                            task=st["task"],
                            tasks=st["volume"] * sh,
                            rate_usd_per_task=rate,
                            offer_usd_per_hour=st["offer"],
                            minutes_per_task=st["minutes"],
                            allowed=st["allowed"],
                        )
                    )
        return jobs

    def _update_platform_split(self) -> None:
        known = np.isfinite(self.platform_cost)
        if not known.any() or self.spec.platform_cost_sensitivity == 0:
            return
        cost = np.where(known, self.platform_cost, self.platform_cost[known].mean())
        util = np.log(np.maximum(self.base_platform_shares, 1e-12)) - (
            self.spec.platform_cost_sensitivity * np.log(cost / np.exp(np.log(cost).mean()))
        )
        util[self.base_platform_shares <= 0] = -np.inf
        target = np.exp(util - util.max())
        target /= target.sum()
        w = self.spec.platform_inertia
        self.platform_shares = w * self.platform_shares + (1.0 - w) * target

    # ---- learn --------------------------------------------------------------------------
    def learn(self, done: np.ndarray, accepted: np.ndarray, cost: np.ndarray, quality: np.ndarray,
              cost_by_platform: np.ndarray, quality_by_platform: np.ndarray) -> None:
        """Read last week's fill rate and cost per task, per stream and per platform."""
        w = self.spec.cost_learning_weight
        for i, st in enumerate(self.streams):
            g = self.model.stream_offset[self.index] + i
            st["fill"] = done[g] / st["volume"] if st["volume"] > 0 else 1.0
            if accepted[g] > 0:
                c = cost[g] / accepted[g]
                prev = st["cost_per_task"]
                st["cost_per_task"] = c if prev is None else (1.0 - w) * prev + w * c
        ok = quality_by_platform > 0
        per_label = np.where(ok, cost_by_platform / np.where(ok, quality_by_platform, 1), np.nan)
        upd = np.isfinite(per_label)
        old = self.platform_cost
        self.platform_cost = np.where(
            upd, np.where(np.isfinite(old), (1.0 - w) * old + w * per_label, per_label), old
        )


class Platform(mesa.Agent):
    """A platform: pay mode, commission, localisation, monitoring and quality control."""

    def __init__(self, model: LabourMarketModel, spec: PlatformSpec, index: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.serves = model.country_mask(spec.countries_served)

    @property
    def pay_mode(self) -> str:
        forced = self.model.policy_value("pay_mode", "platform_default")
        return self.spec.pay_mode if forced == "platform_default" else forced

    @property
    def monitoring(self) -> float:
        return min(self.spec.monitoring, self.model.policy_value("max_monitoring", 1.0))

    @property
    def fee_share(self) -> float:
        cap = self.model.policy_value("max_fee_share", None)
        return self.spec.fee_share if cap is None else min(self.spec.fee_share, cap)

    @property
    def paid_rejections(self) -> bool:
        return self.spec.paid_rejections or self.model.policy_value("paid_rejections", False)

    def localise(self, country: np.ndarray) -> np.ndarray:
        """Pay multiplier per tasker: price level ** pay_localisation."""
        return (self.model.price_level ** self.spec.pay_localisation)[country]
