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
    """An AI lab: what it buys per task type (human and AI labels), pay offers, platform
    split, all from its full cost per quality-adjusted label and within its budget."""

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
        mean_fee = float(self.platform_shares @ m.platform_fees)
        for st in self.streams:
            st["demand"] = self._demand(st)
            self._automate(st, mean_fee)
            self._set_offer(st)
        self._buy_within_budget(mean_fee)
        self._update_platform_split()
        jobs = []
        for i, st in enumerate(self.streams):
            shares = self.platform_shares * m.platform_reach(st["allowed"])
            if shares.sum() <= 0:
                continue
            shares = shares / shares.sum()
            rate = st["offer"] * st["minutes"] / 60.0
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

    def _demand(self, st: dict) -> float:
        """Labels wanted at the reference cost: D, in tasks a week."""
        s = self.model.params
        task = s.task_types[st["task"]]
        return (
            st["spec"].demand_task_hours_per_tasker
            * s.population.taskers
            * 60.0
            / task.minutes_per_task
            * (1.0 + self.spec.demand_growth_per_year) ** (self.model.week / 52.0)
        )

    def human_cost_per_label(self, st: dict, mean_fee: float) -> float:
        """Expected full cost of a quality-adjusted human label: learned (pay, fees, floor
        top-ups with their fee, paid rejections), or the posted rate before any is seen."""
        if st["cost_per_task"] is not None and st["quality_per_task"]:
            return st["cost_per_task"] / st["quality_per_task"]
        accuracy = self.model.params.population.accuracy_mean
        return st["offer"] * st["minutes"] / 60.0 * (1.0 + mean_fee) / accuracy

    def reference_cost_per_label(self, st: dict) -> float:
        """The lab's value of the D-th quality-adjusted label: the pay norm's piece pay at
        today's minutes x `label_value_multiple_of_pay`, per label of mean accuracy. At this
        full cost the lab wants D; it is the same under every policy."""
        s = self.model.params
        rate = st["spec"].pay_norm_usd_per_hour * st["minutes"] / 60.0
        return rate * self.spec.label_value_multiple_of_pay / s.population.accuracy_mean

    def _automate(self, st: dict, mean_fee: float) -> None:
        """Automation share toward its cost-driven target (or the schedule); hardening."""
        m, s = self.model, self.model.params
        task = s.task_types[st["task"]]
        cap_policy = 1.0 - m.policy_value("min_human_share", 0.0)
        cap = min(task.ai_feasibility_cap, 1.0 - self.spec.human_anchor_share, cap_policy)
        a = s.automation
        if a.mode == "scheduled" and task.name in a.schedule:
            pts = a.schedule[task.name]
            target = float(np.interp(m.week, [w for w, _ in pts], [x for _, x in pts]))
            st["automation"] = min(target, cap_policy)
        elif a.mode == "endogenous":
            # AI cost per quality-adjusted label: AI quality is relative to a human label
            ai_cost = max(m.ai_cost[st["task"]], 1e-12) / (
                m.ai_quality[st["task"]] * s.population.accuracy_mean
            )
            ratio = self.human_cost_per_label(st, mean_fee) / ai_cost
            target = cap * logistic(
                a.logit_slope * (np.log(ratio) - np.log(1.0 + a.switching_premium))
            )
            share = st["automation"] + a.adoption_speed_per_week * (target - st["automation"])
            st["automation"] = min(share, cap)
        else:
            st["automation"] = min(st["automation"], cap_policy)
        st["minutes"] = task.minutes_per_task * (1.0 + a.hardening * st["automation"])

    def _set_offer(self, st: dict) -> None:
        """Raise pay while the stream does not fill, cut it back toward the norm when it does."""
        old, spec = st["offer"], st["spec"]
        if st["fill"] < self.spec.fill_rate_target:
            ceiling = spec.pay_norm_usd_per_hour * self.spec.pay_ceiling_multiple_of_norm
            st["offer"] = min(old * (1.0 + self.spec.pay_raise_per_week), max(ceiling, old))
        else:
            cut = old * (1.0 - self.spec.pay_cut_per_week)
            st["offer"] = max(spec.pay_norm_usd_per_hour, cut)
        st["offer_cut"] = max(0.0, 1.0 - st["offer"] / old)

    def _buy_within_budget(self, mean_fee: float) -> None:
        """Human volume per stream: the anchor need, plus the rest of (1 - a) x D priced with
        the task type's demand elasticity; then the whole plan cut to this week's budget."""
        m, s = self.model, self.model.params
        need_share = max(self.spec.human_anchor_share, m.policy_value("min_human_share", 0.0))
        wanted, cost_per_task, ai_spend = [], [], 0.0
        for st in self.streams:
            elasticity = s.task_types[st["task"]].demand_elasticity
            human = (1.0 - st["automation"]) * st["demand"]
            need = min(need_share * st["demand"], human)
            price = self.human_cost_per_label(st, mean_fee) / self.reference_cost_per_label(st)
            wanted.append(need + (human - need) * price ** (-elasticity))
            quality = st["quality_per_task"] or s.population.accuracy_mean
            cost_per_task.append(self.human_cost_per_label(st, mean_fee) * quality)
            ai_spend += st["automation"] * st["demand"] * m.ai_cost[st["task"]]
        scale = s.population.taskers / s.population.reference_taskers
        self.budget_usd = max(0.0, self.spec.weekly_budget_usd * scale - self.overshoot_usd)
        human_spend = float(np.dot(wanted, cost_per_task))
        room = max(0.0, self.budget_usd - ai_spend)
        self.budget_scale = min(1.0, room / human_spend) if human_spend > 0 else 1.0
        for st, volume in zip(self.streams, wanted, strict=True):
            st["volume"] = volume * self.budget_scale
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

        for i, st in enumerate(self.streams):
            g = self.model.stream_offset[self.index] + i
            st["fill"] = done[g] / st["volume"] if st["volume"] > 0 else 1.0
            if done[g] > 0 and quality[g] > 0:
                st["cost_per_task"] = ewma(st["cost_per_task"], cost[g] / done[g])
                st["quality_per_task"] = ewma(st["quality_per_task"], quality[g] / done[g])
        self.overshoot_usd = max(0.0, spend - self.budget_usd)
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
