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
    """An AI lab: what it buys per task type (human and AI labels), pay offers, platform
    split, all from its full cost per quality-adjusted label and within its budget."""

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
                    "cost_per_task": None,  # full cost per task done (EWMA), USD
                    "quality_per_task": None,  # quality-adjusted labels per task done (EWMA)
                    "volume": 0.0,
                    "demand": 0.0,
                    "offer_cut": 0.0,
                }
            )
        self.platform_cost = np.full(n_platforms, np.nan)
        self.budget_scale = 1.0
        self.budget_usd = 0.0  # this week's budget after last week's overshoot
        self.planned_spend_usd = 0.0
        self.overshoot_usd = 0.0  # last week's spend over its budget, taken off this week's

    # ---- labs_decide --------------------------------------------------------------------
    def decide(self) -> list[Job]:
        """Automation share, pay offer and human volume per stream; split over platforms."""
        m = self.model
        mean_fee = float(self.platform_shares @ m.terms.fee_share)
        for stream in self.streams:
            stream["demand"] = self._demand(stream)
            self._automate(stream, mean_fee)
            self._set_offer(stream)
        self._buy_within_budget(mean_fee)
        self._update_platform_split()
        jobs = []
        for i, stream in enumerate(self.streams):
            shares = self.platform_shares * stream["reach"]
            if shares.sum() <= 0:
                continue
            shares = shares / shares.sum()
            rate = stream["offer"] * stream["minutes"] / 60.0
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

    def _demand(self, stream: dict) -> float:
        """Labels wanted at the reference cost: D, in tasks a week."""
        s = self.model.params
        task = s.task_types[stream["task"]]
        return (
            stream["spec"].demand_task_hours_per_tasker
            * s.population.taskers
            * 60.0
            / task.minutes_per_task
            * (1.0 + self.spec.demand_growth_per_year) ** (self.model.week / 52.0)
        )

    def human_cost_per_label(self, stream: dict, mean_fee: float) -> float:
        """Expected full cost of a quality-adjusted human label: learned (pay, fees, floor
        top-ups with their fee, paid rejections), or the posted rate before any is seen."""
        if stream["cost_per_task"] is not None and stream["quality_per_task"]:
            return stream["cost_per_task"] / stream["quality_per_task"]
        accuracy = self.model.params.population.accuracy_mean
        return stream["offer"] * stream["minutes"] / 60.0 * (1.0 + mean_fee) / accuracy

    def reference_cost_per_label(self, stream: dict) -> float:
        """The lab's value of the D-th quality-adjusted label: the pay norm's piece pay at
        today's minutes x `label_value_multiple_of_pay`, per label of mean accuracy. At this
        full cost the lab wants D; it is the same under every policy."""
        s = self.model.params
        rate = stream["spec"].pay_norm_usd_per_hour * stream["minutes"] / 60.0
        return rate * self.spec.label_value_multiple_of_pay / s.population.accuracy_mean

    def _automate(self, stream: dict, mean_fee: float) -> None:
        """Automation share toward its cost-driven target (or the schedule); hardening."""
        m, s = self.model, self.model.params
        task = s.task_types[stream["task"]]
        cap_policy = m.terms.max_automation_share
        cap = min(task.ai_feasibility_cap, 1.0 - self.spec.human_anchor_share, cap_policy)
        a = s.automation
        if a.mode == "scheduled" and task.name in a.schedule:
            pts = a.schedule[task.name]
            target = float(np.interp(m.week, [w for w, _ in pts], [x for _, x in pts]))
            stream["automation"] = min(target, cap_policy)
        elif a.mode == "endogenous":
            # AI cost per quality-adjusted label: AI quality is relative to a human label
            ai_cost = max(m.ai_cost[stream["task"]], 1e-12) / (
                m.ai_quality[stream["task"]] * s.population.accuracy_mean
            )
            ratio = self.human_cost_per_label(stream, mean_fee) / ai_cost
            target = cap * logistic(
                a.logit_slope * (np.log(ratio) - np.log(1.0 + a.switching_premium))
            )
            now = stream["automation"]
            stream["automation"] = min(now + a.adoption_speed_per_week * (target - now), cap)
        else:
            stream["automation"] = min(stream["automation"], cap_policy)
        stream["minutes"] = task.minutes_per_task * (1.0 + a.hardening * stream["automation"])

    def _set_offer(self, stream: dict) -> None:
        """Raise pay while the stream does not fill, cut it back toward the norm when it does."""
        old, spec = stream["offer"], stream["spec"]
        if stream["fill"] < self.spec.fill_rate_target:
            ceiling = spec.pay_norm_usd_per_hour * self.spec.pay_ceiling_multiple_of_norm
            stream["offer"] = min(old * (1.0 + self.spec.pay_raise_per_week), max(ceiling, old))
        else:
            cut = old * (1.0 - self.spec.pay_cut_per_week)
            stream["offer"] = max(spec.pay_norm_usd_per_hour, cut)
        stream["offer_cut"] = max(0.0, 1.0 - stream["offer"] / old)

    def _buy_within_budget(self, mean_fee: float) -> None:
        """Human volume per stream: the anchor need, plus the rest of (1 - a) x D priced with
        the task type's demand elasticity; then the whole plan cut to this week's budget."""
        m, s = self.model, self.model.params
        need_share = max(self.spec.human_anchor_share, 1.0 - m.terms.max_automation_share)
        wanted, cost_per_task, ai_spend = [], [], 0.0
        for stream in self.streams:
            elasticity = s.task_types[stream["task"]].demand_elasticity
            human = (1.0 - stream["automation"]) * stream["demand"]
            need = min(need_share * stream["demand"], human)
            cost = self.human_cost_per_label(stream, mean_fee)
            price = cost / self.reference_cost_per_label(stream)
            wanted.append(need + (human - need) * price ** (-elasticity))
            quality = stream["quality_per_task"] or s.population.accuracy_mean
            cost_per_task.append(cost * quality)
            ai_spend += stream["automation"] * stream["demand"] * m.ai_cost[stream["task"]]
        scale = s.population.taskers / s.population.reference_taskers
        self.budget_usd = max(0.0, self.spec.weekly_budget_usd * scale - self.overshoot_usd)
        human_spend = float(np.dot(wanted, cost_per_task))
        room = max(0.0, self.budget_usd - ai_spend)
        self.budget_scale = min(1.0, room / human_spend) if human_spend > 0 else 1.0
        for stream, volume in zip(self.streams, wanted, strict=True):
            stream["volume"] = volume * self.budget_scale
        self.planned_spend_usd = ai_spend + human_spend * self.budget_scale

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
    def learn(self, done: np.ndarray, cost: np.ndarray, quality: np.ndarray,
              cost_by_platform: np.ndarray, quality_by_platform: np.ndarray,
              spend: float) -> None:
        """Read last week's fill rate, full cost and quality per stream and per platform,
        and its spend against the budget (an overshoot comes off next week's budget)."""
        w = self.spec.cost_learning_weight

        def ewma(old: float | None, new: float) -> float:
            return new if old is None else (1.0 - w) * old + w * new

        for i, stream in enumerate(self.streams):
            g = self.model.stream_offset[self.index] + i
            stream["fill"] = done[g] / stream["volume"] if stream["volume"] > 0 else 1.0
            if done[g] > 0 and quality[g] > 0:
                stream["cost_per_task"] = ewma(stream["cost_per_task"], cost[g] / done[g])
                stream["quality_per_task"] = ewma(stream["quality_per_task"], quality[g] / done[g])
        self.overshoot_usd = max(0.0, spend - self.budget_usd)
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
