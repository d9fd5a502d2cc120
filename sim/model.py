"""LabourMarketModel: the weekly schedule of docs/ODD.md as short named phases, and the
week's accounts (per tasker, stream, lab and platform). Matching is in `sim.work`, the
week's terms (fees, monitoring, pay mode, floor) in `sim.terms`, outcomes in `sim.metrics`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim import metrics, terms
from sim.agents import Lab, Platform
from sim.countries import load_countries
from sim.keywords import scenario_from_keywords
from sim.netpay import WEEKLY as NET_WEEKLY
from sim.netpay import NetPay
from sim.population import draw_population
from sim.resources import THREADED_MIN_TASKERS, worker_threads
from sim.scenario import Scenario
from sim.taskers import NO_PLATFORM
from sim.work import ClosedWeek, Job, Settled, build_crew, close_week, split_platforms, work_on

F32 = np.float32


class LabourMarketModel(mesa.Model):
    """Labs buy human feedback through platforms from a vectorised tasker population."""

    def __init__(
        self,
        scenario: Scenario | str | Path = "baseline",
        seed: int | None = None,
        **overrides: Any,
    ) -> None:
        """A model of `scenario` (Scenario, bundled name or YAML path) with dotted overrides as
        keywords, ``policy__pay_floor__kind="absolute"``: how Mesa's batch_run and SolaraViz
        build one (sim.keywords)."""
        scenario, seed = scenario_from_keywords(scenario, seed, overrides)
        self.seed_used = scenario.seed if seed is None else int(seed)
        super().__init__(rng=self.seed_used)
        self.params = s = scenario
        self.week = 0
        table = load_countries().loc[s.countries]
        self.iso3 = list(s.countries)
        self.price_level = table["plr"].to_numpy(dtype=F32)
        self.min_wage = table["min_wage_usd_per_hour"].to_numpy(dtype=F32)
        share = table["online_worker_share"].to_numpy(dtype=float)
        self.worker_share = share / share.sum()
        self.mean_price_level = float(self.worker_share @ self.price_level)
        self.task_types = s.task_types
        self.ai_cost = np.array([t.ai_cost_usd_per_label for t in s.task_types])
        self.ai_quality = np.array([t.ai_quality_relative for t in s.task_types])

        self.platforms = [Platform(self, p, i) for i, p in enumerate(s.platforms)]
        self.stream_offset = []
        offset = 0
        for lab in s.labs:
            self.stream_offset.append(offset)
            offset += len(lab.streams)
        self.n_streams = offset
        self.labs = [Lab(self, spec, i) for i, spec in enumerate(s.labs)]

        self.countries = terms.Country(self.min_wage, self.price_level, self.mean_price_level)
        self.terms = terms.resolve(s, self.week, self.countries)
        self.pool = draw_population(s, self.worker_share, self.min_wage, self.rng)
        n = self.pool.size
        if np.any(np.diff(self.pool.country) < 0):
            raise ValueError("the tasker pool must be sorted by country (see population.py)")
        self.tasker_min_wage = self.min_wage[self.pool.country]
        self.week_pay = np.zeros(n, F32)
        self.week_paid_hours = np.zeros(n, F32)
        self.week_unpaid_hours = np.zeros(n, F32)
        # an all-time floor's top-ups pay for unpaid time too: pay for paid time (task pay and
        # the top-ups that lift paid hours to the floor) is then kept apart, else it is pay
        rule = s.policy.pay_floor
        self.week_paid_time_pay = None
        if rule.kind != "none" and rule.measured_on == "all_time":
            self.week_paid_time_pay = np.zeros(n, F32)
            self.pool.track_paid_time_pay()
        self.week_accepted = np.zeros(n, F32)
        self.week_rejected = np.zeros(n, F32)
        self.going_rate = self._initial_going_rate()
        self._initial_taskers()
        self.net_pay = NetPay(self)

        self.country_records: list[dict[str, np.ndarray]] = []
        self.platform_records: list[dict[str, np.ndarray]] = []
        # the weekly outcomes (weekly.parquet) are read from Mesa's DataCollector
        self.datacollector = mesa.DataCollector(
            model_reporters={k: metrics.reporter(k) for k in metrics.WEEKLY + NET_WEEKLY}
        )

    def _initial_going_rate(self) -> np.ndarray:
        """Expected effective pay per platform and country before anyone has worked."""
        offers = [
            stream.pay_norm_usd_per_hour * stream.demand_task_hours_per_tasker
            for lab in self.params.labs
            for stream in lab.streams
        ]
        weights = [
            stream.demand_task_hours_per_tasker
            for lab in self.params.labs
            for stream in lab.streams
        ]
        mean_offer = sum(offers) / max(sum(weights), 1e-12)
        share = self.params.behaviour.initial_expected_pay_share
        rate = np.array(
            [
                mean_offer * share * self.price_level**p.spec.pay_localisation
                for p in self.platforms
            ]
        )
        return rate.astype(float)

    def _initial_taskers(self) -> None:
        """Week 0: everybody looks for a platform; incumbents get tenure and approvals."""
        pool, pop = self.pool, self.params.population
        everyone = np.arange(pool.size)
        joined = self._choose_and_join(everyone)
        if pop.initial_tenure_mean_weeks > 0 and joined.size:
            tenure = self.rng.exponential(pop.initial_tenure_mean_weeks, joined.size)
            pool.tenure[joined] = tenure.astype(np.int32)
            pool.approved_tasks[joined] = (
                tenure * pop.initial_tasks_per_week * pool.skill[joined]
            ).astype(F32)
            pool.qualification_left[joined] = 0.0

    def _choice_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Platform choice probabilities per (country, skill class), from the going rates.

        A tasker's logit choice depends only on their country and the platform skill
        thresholds they pass, so it is computed per group and looked up per tasker.
        Returns the skill levels, the cumulative probabilities [platform, group] and
        whether any platform is open to the group.
        """
        b = self.params.behaviour
        stress = 1.0 + b.monitoring_stress * self.terms.monitoring
        thresholds = np.array([p.spec.skill_threshold for p in self.platforms], dtype=F32)
        levels = np.unique(thresholds)
        n_k = levels.size + 1
        country, passed = np.divmod(np.arange(len(self.iso3) * n_k), n_k)
        util = np.full((country.size, len(self.platforms)), -np.inf)
        for p, plat in enumerate(self.platforms):
            ok = plat.serves[country] & (passed > np.searchsorted(levels, thresholds[p]))
            rate = np.maximum(self.going_rate[p, country] / stress[p], 1e-9)
            util[:, p] = np.where(ok, b.platform_choice_sensitivity * np.log(rate), -np.inf)
        best = util.max(axis=1)
        reachable = np.isfinite(best)
        prob = np.exp(util - np.where(reachable, best, 0.0)[:, None])
        prob /= np.where(reachable, prob.sum(axis=1), 1.0)[:, None]
        return levels, prob.cumsum(axis=1).T.copy(), reachable

    def _choose_and_join(self, who: np.ndarray, table: tuple | None = None) -> np.ndarray:
        """Logit platform choice over going rates net of monitoring stress; join if worth it."""
        if who.size == 0:
            return who
        b = self.params.behaviour
        pool = self.pool
        c = pool.country[who]
        stress = 1.0 + b.monitoring_stress * self.terms.monitoring
        n_p = len(self.platforms)
        levels, cumulative, reachable = table or self._choice_table()
        skill_class = np.searchsorted(levels, pool.skill[who], side="right")
        group = c.astype(np.intp) * (levels.size + 1) + skill_class
        draw = self.rng.random(who.size)
        choice = np.zeros(who.size, np.intp)
        for p in range(n_p):
            choice += cumulative[p][group] < draw
        np.minimum(choice, n_p - 1, out=choice)
        reachable = reachable[group]
        rate = self.going_rate[choice, c]
        joins = reachable & (rate >= pool.reservation_wage[who] * stress[choice])
        joining = who[joins]
        pool.join(
            joining,
            choice[joins].astype(np.int8),
            rate[joins].astype(F32),
            self.params.population.initial_approval,
            b.qualification_hours,
        )
        return joining

    # ---- the weekly schedule --------------------------------------------------------------
    def step(self) -> None:
        """One week, in the order of docs/ODD.md section 3."""
        self.terms = terms.resolve(self.params, self.week, self.countries)
        self.update_technology()
        jobs = self.labs_decide()
        self.taskers_decide()
        self.match_and_work(jobs)
        self.pay()
        self.learn()
        self.collect()
        self.week += 1
        self.running = self.week < self.params.weeks

    def update_technology(self) -> None:
        """AI cost per label falls by a share a year; AI quality approaches its ceiling."""
        tech = self.params.technology
        years = self.week / 52.0
        for k, t in enumerate(self.task_types):
            decline = (1.0 - tech.ai_cost_decline_per_year) ** years
            self.ai_cost[k] = t.ai_cost_usd_per_label * decline
            ceiling = min(tech.ai_quality_ceiling, t.ai_quality_max_relative)
            closed = 1.0 - (1.0 - tech.ai_quality_gain_per_year) ** years
            start = t.ai_quality_relative
            self.ai_quality[k] = start + (max(ceiling, start) - start) * closed

    def labs_decide(self) -> list[Job]:
        """Each lab sets automation shares, pay offers and human volume per platform."""
        return [job for lab in self.labs for job in lab.decide()]

    def taskers_decide(self) -> None:
        """Inactive taskers look again; a few active ones reconsider their platform."""
        b = self.params.behaviour
        pool = self.pool
        draw = self.rng.random(pool.size, dtype=F32)
        inactive = pool.platform == NO_PLATFORM
        looking = np.flatnonzero(inactive & (draw < b.look_again_probability))
        switching = np.flatnonzero(~inactive & (draw < b.platform_switch_probability))
        kept = {
            name: getattr(pool, name)[switching].copy()
            for name in ("platform", "expected_pay", "approval", "approved_tasks", "tenure")
        }
        table = self._choice_table()
        pool.leave(switching)
        self._choose_and_join(switching, table)
        same = pool.platform[switching] == kept["platform"]
        for name, values in kept.items():  # kept their platform: nothing is lost
            getattr(pool, name)[switching[same]] = values[same]
        pool.qualification_left[switching[same]] = 0.0
        switching = switching[~same]
        self.entries = self._choose_and_join(looking, table).size
        self.entries += int((pool.platform[switching] != NO_PLATFORM).sum())

    def _open_week_accounts(self) -> None:
        """Zero this week's flows per tasker, per stream and per lab and platform."""
        for arr in (
            self.week_pay, self.week_paid_hours, self.week_unpaid_hours, self.week_accepted,
            self.week_rejected,
        ):
            arr.fill(0.0)
        if self.week_paid_time_pay is not None:
            self.week_paid_time_pay.fill(0.0)
        self.week_platform = self.pool.platform.copy()
        n_l, n_p, n_s = len(self.labs), len(self.platforms), self.n_streams
        self.stream_accepted = np.zeros(n_s)
        self.stream_done = np.zeros(n_s)
        self.stream_cost = np.zeros(n_s)
        self.stream_quality = np.zeros(n_s)
        self.lab_platform_pay = np.zeros((n_l, n_p))
        self.lab_platform_quality = np.zeros((n_l, n_p))
        self.topup_by_platform = np.zeros(n_p)
        self.fake_labels = 0.0
        self.llm_detected = 0.0
        self.genuine_quality = 0.0
        self.usable_tasks_done = 0.0

    def match_and_work(self, jobs: list[Job]) -> None:
        """Each platform allocates its jobs to its active taskers; they work."""
        self._open_week_accounts()
        pool, n_p = self.pool, len(self.platforms)
        members = [np.flatnonzero(pool.platform == p) for p in range(n_p)]
        sizes = [m.size for m in members]
        uses_llm = self.rng.random(sum(sizes), dtype=F32)  # drawn for the whole crew at once
        starts = np.cumsum([0] + sizes)
        by_platform = [[j for j in jobs if j.platform == p] for p in range(n_p)]

        def work(platforms: range) -> tuple[list[list[Settled]], ClosedWeek]:
            """A run of platforms: its crew, each platform's jobs, the week's close."""
            draw = uses_llm[starts[platforms.start] : starts[platforms.stop]]
            crew = build_crew(self, members, platforms, draw)
            settled = [work_on(self, p, by_platform[p], crew) for p in platforms if sizes[p] > 0]
            return settled, close_week(self, crew)

        if starts[-1] >= THREADED_MIN_TASKERS and n_p > 1:
            # two runs of platforms with disjoint taskers, on two threads (numpy frees the GIL
            # on large arrays); booked below in platform order, so results do not change
            done = list(worker_threads().map(work, split_platforms(sizes, 2)))
        else:
            done = [work(range(n_p))]
        for settled, _ in done:
            for jobs_settled in settled:
                self._book(jobs_settled)
        self._combine_week([closed for _, closed in done])

    def _combine_week(self, closed: list[ClosedWeek]) -> None:
        """The runs of platforms' closes, in platform order: the week's flows (top-ups were
        billed with the jobs that caused them, `_book`)."""
        n_p, n_c = len(self.platforms), len(self.iso3)

        def joined(key: str) -> np.ndarray:
            return np.concatenate([getattr(part, key) for part in closed], axis=-1)

        flows = joined("flows")
        self.flows = flows.reshape(-1, n_p, n_c).transpose(1, 0, 2)  # [platform, flow, country]
        self.effective_pay_sum = joined("effective_pay_sum").reshape(n_p, n_c)
        self.workers = joined("workers").reshape(n_p, n_c)
        if self.week >= self.params.burn_in_weeks:
            self.pool.add_to_spells(self.week_pay, self.week_paid_hours, self.week_unpaid_hours,
                                    self.week_paid_time_pay)

    def _book(self, settled: list[Settled]) -> None:
        """A platform's settled jobs into the streams' and labs' accounts, in job order."""
        llm_quality = self.params.behaviour.llm_label_quality
        for job in settled:
            quality = job.genuine + job.fake * llm_quality
            stream, lab, platform = job.job.stream, job.job.lab, job.job.platform
            pay = job.pay + job.topup  # the job's share of floor top-ups: part of its cost
            self.stream_accepted[stream] += job.accepted
            self.stream_done[stream] += job.done
            self.stream_cost[stream] += pay * (1.0 + self.terms.fee_share[platform])
            self.stream_quality[stream] += quality
            self.lab_platform_pay[lab, platform] += pay
            self.topup_by_platform[platform] += job.topup
            if self.task_types[job.job.task].llm_usable:
                self.usable_tasks_done += job.done
            self.lab_platform_quality[lab, platform] += quality
            self.fake_labels += job.fake
            self.llm_detected += job.detected
            self.genuine_quality += job.genuine

    def pay(self) -> None:
        """Money flows: tasker pay, platform fees, AI spend and lab spend per lab."""
        fees = self.terms.fee_share
        self.platform_revenue_by_platform = (self.lab_platform_pay * fees).sum(axis=0)
        self.lab_ai_spend = np.zeros(len(self.labs))
        self.labels_ai = 0.0
        self.ai_quality_sum = 0.0
        self.demand_tasks = 0.0
        self.automated_tasks = 0.0
        self.human_volume = 0.0
        acc_mean = self.params.population.accuracy_mean
        for lab in self.labs:
            for stream in lab.streams:
                ai_labels = stream["automation"] * stream["demand"]
                self.lab_ai_spend[lab.index] += ai_labels * self.ai_cost[stream["task"]]
                self.labels_ai += ai_labels
                self.ai_quality_sum += ai_labels * self.ai_quality[stream["task"]] * acc_mean
                self.demand_tasks += stream["demand"]
                self.automated_tasks += ai_labels
                self.human_volume += stream["volume"]
        self.lab_spend = (self.lab_platform_pay * (1.0 + fees)).sum(axis=1) + self.lab_ai_spend

    def learn(self) -> None:
        """Taskers update expected pay, approval and qualification; exits; labs read results."""
        b, pool = self.params.behaviour, self.pool
        # dense over the pool: this week's flows are zero for inactive taskers
        hours = self.week_paid_hours + self.week_unpaid_hours
        effective = self.week_pay / np.maximum(hours, 1e-9)
        w = F32(b.expected_pay_weight)
        effective -= pool.expected_pay
        effective *= w * (hours > 0)  # expected pay moves only for those who worked
        pool.expected_pay += effective
        tasks = self.week_accepted + self.week_rejected
        rate = self.week_accepted / np.maximum(tasks, 1e-9)
        weight = np.minimum(tasks / b.approval_full_weight_tasks, 1.0).astype(F32)  # 0: no tasks
        weight *= F32(b.approval_learning_rate)
        pool.approval += weight * (rate - pool.approval)
        pool.approved_tasks += self.week_accepted
        on = pool.platform != NO_PLATFORM
        pool.tenure += on
        # going rate per platform and country: mean effective pay of those who worked
        seen = self.workers > 0
        mean = self.effective_pay_sum / np.maximum(self.workers, 1)
        self.going_rate = np.where(seen, (1 - w) * self.going_rate + w * mean, self.going_rate)
        # exits
        active = np.flatnonzero(on)
        plats = pool.platform[active]
        stress = (1.0 + b.monitoring_stress * self.terms.monitoring).astype(F32)
        threshold = pool.reservation_wage[active] * stress[plats]
        shortfall = np.clip(1.0 - pool.expected_pay[active] / np.maximum(threshold, 1e-9), 0.0, 1.0)
        by_platform = (
            b.exit_hazard_base_per_week
            + b.exit_hazard_pay_cut * self._offer_cut_by_platform()
            + b.exit_hazard_monitoring_per_week * self.terms.monitoring
        ).astype(F32)
        hazard = by_platform[plats] + F32(b.exit_hazard_underpaid_per_week) * shortfall
        leaving = active[self.rng.random(active.size, dtype=F32) < hazard]
        self.exits = leaving.size
        n_c = len(self.iso3)
        group = pool.platform[leaving].astype(np.intp) * n_c + pool.country[leaving]
        self.exits_by_group = np.bincount(group, minlength=len(self.platforms) * n_c).reshape(
            len(self.platforms), n_c
        )
        self.active_before_exits = active.size
        pool.leave(leaving)
        self.labs_learn()

    def labs_learn(self) -> None:
        """Labs read last week's fill rate and cost, per stream and per platform."""
        for lab in self.labs:
            lab.learn(
                self.stream_done,
                self.stream_cost,
                self.stream_quality,
                self.lab_platform_pay[lab.index] * (1.0 + self.terms.fee_share),
                self.lab_platform_quality[lab.index],
                float(self.lab_spend[lab.index]),
            )

    def _offer_cut_by_platform(self) -> np.ndarray:
        cut = np.zeros(len(self.platforms))
        for lab in self.labs:
            worst = max((stream["offer_cut"] for stream in lab.streams), default=0.0)
            cut = np.maximum(cut, worst * (lab.platform_shares > 0))
        return cut

    def collect(self) -> None:
        """Record this week's outcomes (sim.metrics) through Mesa's DataCollector."""
        self.net_pay.settle(self)
        self.current = metrics.weekly_outcomes(self)
        self.current.update(self.net_pay.weekly_outcomes(self, self.current["tasker_pay_usd"]))
        country = metrics.group_outcomes(self, "country")
        self.country_records.append({**country, **self.net_pay.country_outcomes()})
        self.platform_records.append(metrics.group_outcomes(self, "platform"))
        self.datacollector.collect(self)
