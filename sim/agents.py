"""Labs and platforms: few, rich Mesa agents. Taskers live in `sim.taskers.TaskerPool`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.countries import country_mask
from sim.work import Job

if TYPE_CHECKING:
    from sim.scenario import Lab as LabSpec
    from sim.scenario import Platform as PlatformSpec


def logistic(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


class Lab(mesa.Agent):
    """An AI lab: demand per task type, automation, pay offers, platform split."""

    def __init__(self, model: mesa.Model, spec: LabSpec, index: int) -> None:
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
        for stream in spec.streams:
            k = s.task_index(stream.task_type)
            allowed = country_mask(model.iso3, stream.eligible_countries)
            self.streams.append(
                {
                    "spec": stream,
                    "task": k,
                    "allowed": allowed,
                    # 1.0 for each platform that serves at least one allowed country
                    "reach": np.array(
                        [float((p.serves & allowed).any()) for p in model.platforms]
                    ),
                    "automation": stream.automation_share_initial,
                    "offer": stream.pay_norm_usd_per_hour,
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
        fee = m.terms.fee_share
        mean_fee = float(self.platform_shares @ fee)
        cap_policy = m.terms.max_automation_share
        for stream in self.streams:
            task = s.task_types[stream["task"]]
            spec = stream["spec"]
            stream["demand"] = (
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
                stream["automation"] = min(target, cap_policy)
            elif s.automation.mode == "endogenous":
                human_cost = stream["cost_per_task"] or (
                    stream["offer"] * stream["minutes"] / 60.0 * (1.0 + mean_fee)
                )
                ai_cost = max(m.ai_cost[stream["task"]], 1e-12)
                ratio = human_cost * m.ai_quality[stream["task"]] / ai_cost
                a = s.automation
                target = cap * logistic(
                    a.logit_slope * (np.log(ratio) - np.log(1.0 + a.switching_premium))
                )
                now = stream["automation"]
                stream["automation"] = min(now + a.adoption_speed_per_week * (target - now), cap)
            else:
                stream["automation"] = min(stream["automation"], cap_policy)
            hardening = s.automation.hardening * stream["automation"]
            stream["minutes"] = task.minutes_per_task * (1.0 + hardening)
            old = stream["offer"]
            if stream["fill"] < self.spec.fill_rate_target:
                ceiling = spec.pay_norm_usd_per_hour * self.spec.pay_ceiling_multiple_of_norm
                stream["offer"] = min(old * (1.0 + self.spec.pay_raise_per_week), max(ceiling, old))
            else:
                cut = old * (1.0 - self.spec.pay_cut_per_week)
                stream["offer"] = max(spec.pay_norm_usd_per_hour, cut)
            stream["offer_cut"] = max(0.0, 1.0 - stream["offer"] / old)
        # human volume, cut to what the budget buys
        planned = []
        spend = 0.0
        for stream in self.streams:
            rate = stream["offer"] * stream["minutes"] / 60.0
            per_task = stream["cost_per_task"] or rate * (1.0 + mean_fee)
            human = (1.0 - stream["automation"]) * stream["demand"]
            ai = stream["automation"] * stream["demand"] * m.ai_cost[stream["task"]]
            planned.append((human, rate))
            spend += human * per_task + ai
        budget = self.spec.weekly_budget_usd * scale
        self.budget_scale = min(1.0, budget / spend) if spend > 0 else 1.0
        self._update_platform_split()
        jobs = []
        for i, (stream, (human, rate)) in enumerate(zip(self.streams, planned, strict=True)):
            stream["volume"] = human * self.budget_scale
            shares = self.platform_shares * stream["reach"]
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
                            task=stream["task"],
                            tasks=stream["volume"] * sh,
                            rate_usd_per_task=rate,
                            offer_usd_per_hour=stream["offer"],
                            minutes_per_task=stream["minutes"],
                            allowed=stream["allowed"],
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
        for i, stream in enumerate(self.streams):
            g = self.model.stream_offset[self.index] + i
            stream["fill"] = done[g] / stream["volume"] if stream["volume"] > 0 else 1.0
            if accepted[g] > 0:
                c = cost[g] / accepted[g]
                prev = stream["cost_per_task"]
                stream["cost_per_task"] = c if prev is None else (1.0 - w) * prev + w * c
        ok = quality_by_platform > 0
        per_label = np.where(ok, cost_by_platform / np.where(ok, quality_by_platform, 1), np.nan)
        upd = np.isfinite(per_label)
        old = self.platform_cost
        self.platform_cost = np.where(
            upd, np.where(np.isfinite(old), (1.0 - w) * old + w * per_label, per_label), old
        )


class Platform(mesa.Agent):
    """A platform: pay mode, commission, localisation, monitoring and quality control, as its
    `spec` sets them; what applies in a week under the policy is in the model's `terms`
    (`sim.terms.WeekTerms`)."""

    def __init__(self, model: mesa.Model, spec: PlatformSpec, index: int) -> None:
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.serves = country_mask(model.iso3, spec.countries_served)
