"""LabourMarketModel: the weekly schedule of docs/ODD.md as short named phases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim import metrics
from sim.agents import Job, Lab, Platform
from sim.countries import load_countries
from sim.keywords import scenario_from_keywords
from sim.netpay import WEEKLY as NET_WEEKLY
from sim.netpay import NetPay
from sim.population import draw_population
from sim.scenario import Scenario
from sim.taskers import NO_PLATFORM
from sim.work import (
    THREADED_MIN_TASKERS,
    Crew,
    WorkMode,
    power,
    reuse_freed_memory,
    split_platforms,
    sum_of_products,
    work_job,
    worker_threads,
)

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
        self._reach: dict[bytes, np.ndarray] = {}
        self.stream_offset = []
        offset = 0
        for lab in s.labs:
            self.stream_offset.append(offset)
            offset += len(lab.streams)
        self.n_streams = offset
        self.labs = [Lab(self, spec, i) for i, spec in enumerate(s.labs)]

        reuse_freed_memory()
        self.pool = draw_population(s, self.worker_share, self.min_wage, self.rng)
        n = self.pool.size
        if np.any(np.diff(self.pool.country) < 0):
            raise ValueError("the tasker pool must be sorted by country (see population.py)")
        self.tasker_min_wage = self.min_wage[self.pool.country]
        self.week_pay = np.zeros(n, F32)
        self.week_paid_hours = np.zeros(n, F32)
        self.week_unpaid_hours = np.zeros(n, F32)
        self.week_accepted = np.zeros(n, F32)
        self.week_rejected = np.zeros(n, F32)
        self.going_rate = self._initial_going_rate()
        self.pay_cut = np.zeros(len(self.platforms))
        self._initial_taskers()
        self.net_pay = NetPay(self)

        self.records: list[dict[str, float]] = []
        self.country_records: list[dict[str, np.ndarray]] = []
        self.platform_records: list[dict[str, np.ndarray]] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={k: metrics.reporter(k) for k in metrics.WEEKLY + NET_WEEKLY}
        )

    # ---- helpers ------------------------------------------------------------------------
    def country_mask(self, spec: list[str] | str) -> np.ndarray:
        if spec == "all":
            return np.ones(len(self.iso3), dtype=bool)
        return np.isin(np.array(self.iso3), spec)

    def platform_reach(self, allowed: np.ndarray) -> np.ndarray:
        """1.0 for each platform that serves at least one allowed country (fixed: cached)."""
        key = allowed.tobytes()
        if key not in self._reach:
            self._reach[key] = np.array([float((p.serves & allowed).any()) for p in self.platforms])
        return self._reach[key]

    @property
    def policy_active(self) -> bool:
        return self.week >= self.params.policy.start_week

    def policy_value(self, name: str, default: Any) -> Any:
        """A policy lever's value this week (its no-policy default before start_week)."""
        return getattr(self.params.policy, name) if self.policy_active else default

    @property
    def platform_fees(self) -> np.ndarray:
        return np.array([p.fee_share for p in self.platforms])

    @property
    def monitoring(self) -> np.ndarray:
        return np.array([p.monitoring for p in self.platforms])

    @property
    def final_floor(self) -> np.ndarray:
        return self.pay_floor()

    def pay_floor(self) -> np.ndarray:
        """Pay floor per country this week, USD per hour (0 where none)."""
        floor = self.params.policy.pay_floor
        c = len(self.iso3)
        if not self.policy_active or floor.kind == "none":
            return np.zeros(c, F32)
        if floor.kind == "absolute":
            return np.full(c, floor.usd_per_hour, F32)
        if floor.kind == "local_minimum_wage":
            return (floor.multiple * self.min_wage).astype(F32)
        if floor.kind == "ppp_indexed":
            return (floor.reference_usd_per_hour * self.price_level).astype(F32)
        return np.full(c, floor.reference_usd_per_hour * self.mean_price_level, F32)

    def _initial_going_rate(self) -> np.ndarray:
        """Expected effective pay per platform and country before anyone has worked."""
        offers = [
            st.pay_norm_usd_per_hour * st.demand_task_hours_per_tasker
            for lab in self.params.labs
            for st in lab.streams
        ]
        weights = [
            st.demand_task_hours_per_tasker for lab in self.params.labs for st in lab.streams
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
        stress = 1.0 + b.monitoring_stress * self.monitoring
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
        stress = 1.0 + b.monitoring_stress * self.monitoring
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

    def match_and_work(self, jobs: list[Job]) -> None:
        """Each platform allocates its jobs to its active taskers; they work."""
        self._open_week_accounts()
        pool, n_p = self.pool, len(self.platforms)
        members = [np.flatnonzero(pool.platform == p) for p in range(n_p)]
        sizes = [m.size for m in members]
        uses_llm = self.rng.random(sum(sizes), dtype=F32)  # drawn for the whole crew at once
        starts = np.cumsum([0] + sizes)
        by_platform = [[j for j in jobs if j.platform == p] for p in range(n_p)]

        def work(platforms: range) -> tuple[list, dict]:
            """A run of platforms: its crew, each platform's jobs, the week's close."""
            draw = uses_llm[starts[platforms.start] : starts[platforms.stop]]
            crew = self._crew(members, platforms, draw)
            booked = [
                (self.platforms[p], self._work_on(self.platforms[p], by_platform[p], crew))
                for p in platforms
                if sizes[p] > 0
            ]
            return booked, self._close_week(crew)

        if starts[-1] >= THREADED_MIN_TASKERS and n_p > 1:
            # two runs of platforms with disjoint taskers, on two threads (numpy frees the GIL
            # on large arrays); booked below in platform order, so results do not change
            done = list(worker_threads().map(work, split_platforms(sizes, 2)))
        else:
            done = [work(range(n_p))]
        for booked, _ in done:
            for plat, settled in booked:
                self._book(plat, settled)
        self._combine_week([closed for _, closed in done])

    def _crew(self, members: list[np.ndarray], platforms: range, draw: np.ndarray) -> Crew:
        """This week's active taskers on a run of platforms, platform by platform, with their
        hours, speed, LLM use (`draw` against propensity), accuracy, reputation and pay
        localisation (platform settings looked up per tasker)."""
        b, pool = self.params.behaviour, self.pool
        n_c = len(self.iso3)
        runs = [members[p] for p in platforms]
        row = np.concatenate(runs)
        per_platform = np.array([m.size for m in runs])
        bounds = np.cumsum(np.concatenate([[0], per_platform]))
        platform = np.repeat(np.arange(platforms.start, platforms.stop), per_platform)

        def per_tasker(setting: np.ndarray) -> np.ndarray:
            """A float32 setting per platform, one value per tasker of the run."""
            return np.repeat(setting.astype(F32)[platforms.start : platforms.stop], per_platform)

        country = pool.country[row]
        # within a platform, members come country by country (population.py)
        groups = np.searchsorted(
            platform * n_c + country, np.arange(platforms.start * n_c, platforms.stop * n_c + 1)
        )
        offered = pool.hours_available[row]
        left = pool.qualification_left[row]
        qual = np.minimum(left, offered)
        pool.qualification_left[row] = left - qual
        m = self.monitoring
        hourly = np.array([p.pay_mode == "hourly" for p in self.platforms])
        gold = np.array([p.spec.gold_share for p in self.platforms])
        qc = np.minimum(1.0, gold * b.quality_control_per_gold_share)
        detect = np.minimum(1.0, b.llm_detection_base + b.llm_detection_monitoring * m)
        skill = pool.skill[row]
        speed = skill * per_tasker(1.0 - b.monitoring_output_loss * m)
        speed *= per_tasker(np.where(hourly, 1.0 - b.hourly_shirking * (1.0 - m), 1.0))
        uses_llm = draw < (pool.llm_propensity[row] * per_tasker(1.0 - b.llm_deterrence * m))
        accuracy = pool.accuracy[row] - per_tasker(b.quality_shirking * (1.0 - m) * (1.0 - qc))
        reputation = power(pool.approval[row], b.reputation_power)
        local = np.stack([self.price_level**p.spec.pay_localisation for p in self.platforms])
        local = local[platforms.start : platforms.stop]
        floor = self.pay_floor()
        strictness = np.array([p.spec.rejection_strictness for p in self.platforms])
        reject = per_tasker(strictness) * (1.0 - accuracy)
        # with an LLM (where usable and the tasker uses one) tasks go faster and a detected
        # LLM label is rejected; float masks, as arithmetic beats np.where on them
        llm = uses_llm.astype(F32)
        llm_speed = speed * (1.0 + F32(b.llm_speedup) * llm)
        llm_reject = reject + llm * (per_tasker(detect) - reject)
        per_group = np.diff(groups)
        return Crew(
            platforms=platforms, row=row, bounds=bounds, groups=groups, country=country,
            qual=qual, available=offered - qual, skill=skill, reputation=reputation,
            accuracy=accuracy, local=np.repeat(local.ravel(), per_group),
            floor=np.repeat(np.tile(floor, len(platforms)), per_group) if floor.any() else None,
            detect=detect,
            modes={
                False: (speed, reject, None, speed * reputation),
                True: (llm_speed, llm_reject, llm, llm_speed * reputation),
            },
        )

    def _work_on(self, plat: Platform, jobs: list[Job], crew: Crew) -> list[tuple]:
        """One platform's jobs, the best-paid first, each taking what hours the better-paid
        ones left; then the platform settles them (`_settle`)."""
        b = self.params.behaviour
        seg = crew.segment(plat.index)
        modes = {
            k: WorkMode(*(None if x is None else x[seg] for x in v)) for k, v in crew.modes.items()
        }
        hours_left, reputation = crew.hours_left[seg], crew.reputation[seg]
        local, floor = crew.local[seg], None if crew.floor is None else crew.floor[seg]
        order = sorted(jobs, key=lambda j: -j.offer_usd_per_hour)
        for job in order:
            modes[self.task_types[job.task].llm_usable].jobs.append(job)
        for mode in modes.values():
            mode.tasks = np.zeros((len(mode.jobs), hours_left.size), F32)
            mode.jobs.clear()
        max_weight = float(reputation.max())
        screen = floor is not None and plat.pay_mode != "hourly"
        if screen:  # per tasker and way of working: piece-rate pay per USD of rate, and floor
            for mode in modes.values():
                mode.pay_per_rate = local * mode.speed * (1.0 - mode.reject)
            floor_over = np.maximum(floor, 1e-9)
            floored = None if floor.all() else floor > 0
        eligible: dict[tuple, np.ndarray | slice | None] = {}
        for job in order:
            task = self.task_types[job.task]
            mode = modes[task.llm_usable]
            row = mode.tasks[len(mode.jobs)]
            mode.jobs.append(job)
            q = task.qualification_approved_tasks
            thr = max(task.skill_threshold, plat.spec.skill_threshold)
            key = (job.allowed.tobytes(), q, thr)
            if key not in eligible:
                eligible[key] = self._eligible(job.allowed, q, thr, crew, plat.index)
            sub = eligible[key]
            tasks_per_hour = 60.0 / job.minutes_per_task
            weight, speed_weight = reputation, mode.speed_weight
            if screen:  # under a floor, less work for taskers whose piece-rate pay is under it
                rate = F32(job.rate_usd_per_task * tasks_per_hour)
                ratio = np.minimum(rate * mode.pay_per_rate / floor_over, 1.0)  # pay >= 0
                screened = power(ratio, b.floor_screening)
                if floored is not None:
                    screened[~floored] = 1.0
                weight = reputation * screened
                speed_weight = mode.speed * weight
                max_weight = float(weight.max())  # a tighter bound: the fast path more often
            if sub is None:
                work_job(job.tasks, tasks_per_hour, hours_left, mode.speed, weight, max_weight, row,
                         speed_weight)
            elif isinstance(sub, slice):  # one run of countries: views, worked in place
                work_job(job.tasks, tasks_per_hour, hours_left[sub], mode.speed[sub], weight[sub],
                         max_weight, row[sub], speed_weight[sub])
            else:
                h, t = hours_left[sub], np.empty(sub.size, F32)
                work_job(job.tasks, tasks_per_hour, h, mode.speed[sub], weight[sub], max_weight, t,
                         speed_weight[sub])
                row[sub], hours_left[sub] = t, h
        week = {k: v[seg] for k, v in crew.week.items()}
        detect = float(crew.detect[plat.index])
        return self._settle(plat, modes, local, crew.accuracy[seg], detect, week)

    def _close_week(self, crew: Crew) -> dict[str, Any]:
        """Unpaid time and pay-floor top-ups of a run of platforms: the week's flows per
        tasker (into the week's arrays) and per (platform, country) group (returned)."""
        s, b = self.params, self.params.behaviour
        week, available, bounds = crew.week, crew.available, crew.bounds
        # unpaid time: qualification, search (more where work is scarce), unpaid task time
        task_hours, pay, paid_hours = week["task_hours"], week["pay"], week["paid_hours"]
        search = task_hours * (
            b.search_hours_per_paid_hour
            + b.search_hours_per_paid_hour_excess * (1.0 - task_hours / np.maximum(available, 1e-9))
        )
        vain = np.minimum(available, F32(b.vain_search_hours)) * (task_hours <= 0)
        unpaid = crew.qual + search + vain + (task_hours - paid_hours)
        topup, topups = None, [0.0] * len(crew.platforms)
        # pay floor: the platform tops up pay under the floor on its measure of hourly pay
        if crew.floor is not None:
            on_paid_time = s.policy.pay_floor.measured_on == "paid_time"
            measured = paid_hours if on_paid_time else paid_hours + unpaid
            due = np.where(paid_hours > 0, crew.floor * measured - pay, 0.0)
            topup = s.policy.pay_floor.compliance * np.maximum(due, 0.0)
            pay = pay + topup
            topups = [float(topup[bounds[i] : bounds[i + 1]].sum()) for i in range(bounds.size - 1)]
        row = crew.row
        self.week_pay[row] = pay
        self.week_paid_hours[row] = paid_hours
        self.week_unpaid_hours[row] = unpaid
        self.week_accepted[row] = week["accepted"]
        self.week_rejected[row] = week["tasks"] - week["accepted"]
        # for the going rate: effective pay of those who worked, per platform and country
        hours = paid_hours + unpaid
        effective = pay / np.maximum(hours, 1e-9)  # 0 without hours: no pay then
        return {
            "flows": metrics.platform_flows(
                crew.groups, pay, paid_hours, unpaid, task_hours, available, week["accepted"],
                crew.skill, b.want_more_work_threshold, week["fake"], topup,
            ),
            "topups": topups,
            "effective_pay_sum": metrics.group_sums(effective, crew.groups),
            "workers": metrics.group_sums(hours > 0, crew.groups),
        }

    def _combine_week(self, closed: list[dict[str, Any]]) -> None:
        """The runs of platforms' closes, in platform order: top-ups billed to labs, flows."""
        n_l, n_p, n_c = len(self.labs), len(self.platforms), len(self.iso3)
        topups = [t for part in closed for t in part["topups"]]
        for p, total_topup in enumerate(topups):
            if total_topup > 0:
                lab_pay = self.lab_platform_pay[:, p]
                share = lab_pay / lab_pay.sum() if lab_pay.sum() > 0 else np.full(n_l, 1 / n_l)
                self.lab_platform_pay[:, p] += total_topup * share
                self.topup_by_platform[p] += total_topup

        def joined(key: str) -> np.ndarray:
            return np.concatenate([part[key] for part in closed], axis=-1)

        flows = joined("flows")
        self.flows = flows.reshape(-1, n_p, n_c).transpose(1, 0, 2)  # [platform, flow, country]
        self.effective_pay_sum = joined("effective_pay_sum").reshape(n_p, n_c)
        self.workers = joined("workers").reshape(n_p, n_c)
        if self.week >= self.params.burn_in_weeks:
            self.pool.add_to_spells(self.week_pay, self.week_paid_hours, self.week_unpaid_hours)

    def _eligible(self, allowed: np.ndarray, approvals: float, skill_threshold: float,
                  crew: Crew, platform: int) -> np.ndarray | slice | None:
        """Which of a platform's taskers (`crew[seg]`, sorted by country) may do a job: None
        for all, a slice when they are one run of countries, else their positions."""
        seg = crew.segment(platform)
        bounds = crew.country_bounds(platform, len(self.iso3))
        if approvals <= 0 and skill_threshold <= 0:
            if allowed.all():
                return None
            countries = np.flatnonzero(allowed)
            if countries.size == 0:
                return slice(0, 0)
            starts, stops = bounds[countries], bounds[countries + 1]
            if np.array_equal(stops[:-1], starts[1:]):
                return slice(int(starts[0]), int(stops[-1]))
        ok = np.repeat(allowed, np.diff(bounds))
        if approvals > 0:
            ok &= self.pool.approved_tasks[crew.row[seg]] >= approvals
        if skill_threshold > 0:
            ok &= crew.skill[seg] >= skill_threshold
        return None if ok.all() else np.flatnonzero(ok)

    def _settle(self, plat: Platform, modes: dict[bool, WorkMode], local: np.ndarray,
                accuracy: np.ndarray, detect: float, week: dict[str, np.ndarray]) -> list[tuple]:
        """Per tasker totals of the week's work; per job (returned, for `_book`): tasks done,
        accepted, genuine quality, pay, LLM-made labels and detected ones.

        Each is a product of the [job, tasker] task matrix with per-tasker factors.
        """
        booked: list[tuple] = []
        b = self.params.behaviour
        hourly = plat.pay_mode == "hourly"
        tracked = F32(1.0 - b.tracker_idle_deduction * plat.monitoring)
        n = local.size
        for mode in modes.values():
            if not mode.jobs:
                continue
            f = np.empty((6 if mode.llm is not None else 4, n), F32)  # factors per task done
            f[0] = 1.0
            accept = np.subtract(1.0, mode.reject, out=f[1])
            np.multiply(accept, accuracy, out=f[2])  # quality of a genuine human label
            if hourly:  # pay per USD of (hourly offer x median-speed hours)
                np.divide(local * tracked, mode.speed, out=f[3])
            elif plat.paid_rejections:  # pay per USD of piece rate
                f[3] = local
            else:
                np.multiply(local, accept, out=f[3])
            if mode.llm is not None:
                f[2] *= 1.0 - mode.llm
                np.multiply(accept, mode.llm, out=f[4])  # undetected LLM labels
                np.multiply(mode.llm, F32(detect), out=f[5])  # detected ones
            per_job = sum_of_products(mode.tasks, f)  # [job, factor]
            minutes = np.array([j.minutes_per_task for j in mode.jobs])
            price = np.array(
                [j.offer_usd_per_hour * j.minutes_per_task / 60.0 if hourly else j.rate_usd_per_task
                 for j in mode.jobs]
            )
            coef = np.stack([np.ones_like(price), minutes / 60.0, price]).astype(F32)
            tasks, hours, priced = np.einsum("kj,jm->km", coef, mode.tasks)
            hours /= mode.speed
            week["task_hours"] += hours
            week["tasks"] += tasks
            if mode.llm is not None:  # accepted LLM-made labels per tasker
                week["fake"] += tasks * f[4]
            tasks *= accept
            week["accepted"] += tasks
            priced *= f[3]
            week["pay"] += priced
            if hourly:
                hours *= tracked
            elif not plat.paid_rejections:
                hours *= accept
            week["paid_hours"] += hours
            for job, totals, job_price in zip(mode.jobs, per_job.tolist(), price.tolist(),
                                              strict=True):  # Python floats: quicker here
                done, accepted, genuine, pay = totals[:4]
                fake, detected = totals[4:] if mode.llm is not None else (0.0, 0.0)
                booked.append((job, done, accepted, genuine, pay * job_price, fake, detected))
        return booked

    def _book(self, plat: Platform, booked: list[tuple]) -> None:
        """A platform's settled jobs into the streams' and labs' accounts, in job order."""
        llm_quality = self.params.behaviour.llm_label_quality
        for job, done, accepted, genuine, pay, fake, detected in booked:
            quality = genuine + fake * llm_quality
            self.stream_accepted[job.stream] += accepted
            self.stream_done[job.stream] += done
            self.stream_cost[job.stream] += pay * (1.0 + plat.fee_share)
            self.stream_quality[job.stream] += quality
            self.lab_platform_pay[job.lab, plat.index] += pay
            self.lab_platform_quality[job.lab, plat.index] += quality
            self.fake_labels += fake
            self.llm_detected += detected
            self.genuine_quality += genuine

    def pay(self) -> None:
        """Money flows: tasker pay, platform fees, AI spend and lab spend per lab."""
        fees = self.platform_fees
        self.platform_revenue_by_platform = (self.lab_platform_pay * fees).sum(axis=0)
        self.lab_ai_spend = np.zeros(len(self.labs))
        self.labels_ai = 0.0
        self.ai_quality_sum = 0.0
        self.demand_tasks = 0.0
        self.automated_tasks = 0.0
        self.human_volume = 0.0
        acc_mean = self.params.population.accuracy_mean
        for lab in self.labs:
            for st in lab.streams:
                ai_labels = st["automation"] * st["demand"]
                self.lab_ai_spend[lab.index] += ai_labels * self.ai_cost[st["task"]]
                self.labels_ai += ai_labels
                self.ai_quality_sum += ai_labels * self.ai_quality[st["task"]] * acc_mean
                self.demand_tasks += st["demand"]
                self.automated_tasks += ai_labels
                self.human_volume += st["volume"]
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
        stress = (1.0 + b.monitoring_stress * self.monitoring).astype(F32)
        threshold = pool.reservation_wage[active] * stress[plats]
        shortfall = np.clip(1.0 - pool.expected_pay[active] / np.maximum(threshold, 1e-9), 0.0, 1.0)
        by_platform = (
            b.exit_hazard_base_per_week
            + b.exit_hazard_pay_cut * self._offer_cut_by_platform()
            + b.exit_hazard_monitoring_per_week * self.monitoring
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
                self.stream_accepted,
                self.stream_cost,
                self.stream_quality,
                self.lab_platform_pay[lab.index] * (1.0 + self.platform_fees),
                self.lab_platform_quality[lab.index],
            )

    def _offer_cut_by_platform(self) -> np.ndarray:
        cut = np.zeros(len(self.platforms))
        for lab in self.labs:
            worst = max((st["offer_cut"] for st in lab.streams), default=0.0)
            cut = np.maximum(cut, worst * (lab.platform_shares > 0))
        return cut

    def collect(self) -> None:
        """Record this week's outcomes (sim.metrics) through Mesa's DataCollector."""
        self.net_pay.settle(self)
        self.current = metrics.weekly_outcomes(self)
        self.current.update(self.net_pay.weekly_outcomes(self, self.current["tasker_pay_usd"]))
        self.records.append(self.current)
        country = metrics.group_outcomes(self, "country")
        self.country_records.append({**country, **self.net_pay.country_outcomes()})
        self.platform_records.append(metrics.group_outcomes(self, "platform"))
        self.datacollector.collect(self)
