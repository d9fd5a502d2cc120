"""The tasker rules written the way a typical Mesa user would: one agent per tasker.

A yardstick for the vectorised model (benchmarks/scaling.py) and a correctness oracle
(tests/test_reference_equivalence.py), not a second product. It shares everything else
with `sim.model.LabourMarketModel`: the scenario, the population draw, the labs and
platforms (Mesa agents), the pay and the outcome definitions in `sim.metrics`; only the
tasker phases (decide, work, learn) are rewritten, tasker by tasker, in plain Python.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim import metrics
from sim.agents import Platform
from sim.model import LabourMarketModel
from sim.taskers import NO_PLATFORM
from sim.work import Job, Settled

STATE = ("platform", "expected_pay", "approval", "approved_tasks", "tenure", "qualification_left")


def share_out(
    volume: float, capacity: list[float], weight: list[float], rounds: int = 4
) -> list[float]:
    """Tasks in proportion to weight, capped by capacity, the excess shared again."""
    given, free, left = [0.0] * len(capacity), list(capacity), volume
    for _ in range(rounds):
        total = sum(w for w, f in zip(weight, free, strict=True) if f > 0)
        if volume <= 0 or total <= 0 or left <= volume * 1e-9:
            break
        for i, (w, f) in enumerate(zip(weight, free, strict=True)):
            if f > 0 and w > 0:
                add = min(f, w * left / total)
                given[i] += add
                free[i] -= add
        left = volume - sum(given)
    return given


class Tasker(mesa.Agent):
    """One potential tasker: traits and state as plain Python numbers."""

    def __init__(self, model: ReferenceModel, row: int) -> None:
        super().__init__(model)
        pool = model.pool
        self.row = row
        for name in (
            "country",
            "skill",
            "accuracy",
            "hours_available",
            "reservation_wage",
            "llm_propensity",
            *STATE,
        ):
            setattr(self, name, getattr(pool, name)[row].item())

    # ---- taskers_decide -------------------------------------------------------------------
    def decide(self) -> None:
        """Inactive: look again now and then. Active: now and then reconsider the platform."""
        b, m = self.model.params.behaviour, self.model
        draw = m.rng.random()
        if self.platform == NO_PLATFORM:
            if draw < b.look_again_probability and self.choose_and_join():
                m.entries += 1
        elif draw < b.platform_switch_probability:
            kept = {name: getattr(self, name) for name in STATE}
            self.platform = NO_PLATFORM
            if self.choose_and_join() and self.platform == kept["platform"]:
                for name, value in kept.items():  # kept their platform: nothing is lost
                    setattr(self, name, value)
                self.qualification_left = 0.0
            elif self.platform != NO_PLATFORM:
                m.entries += 1
            else:
                self.leave()

    def choose_and_join(self) -> bool:
        """Logit choice over going rates net of monitoring stress; join if worth it."""
        m = self.model
        b = m.params.behaviour
        util = []
        for p, plat in enumerate(m.platforms):
            if plat.serves[self.country] and self.skill >= np.float32(plat.spec.skill_threshold):
                rate = max(m.going_rate[p, self.country] / self.stress(p), 1e-9)
                util.append(b.platform_choice_sensitivity * math.log(rate))
            else:
                util.append(-math.inf)
        best = max(util)
        if best == -math.inf:
            return False
        weights = [math.exp(u - best) for u in util]
        draw, cumulative, choice = m.rng.random() * sum(weights), 0.0, 0
        for p, w in enumerate(weights):
            cumulative += w
            choice = p
            if cumulative >= draw:
                break
        rate = m.going_rate[choice, self.country]
        if rate < self.reservation_wage * self.stress(choice):
            return False
        self.platform, self.expected_pay = choice, rate
        self.approval = m.params.population.initial_approval
        self.approved_tasks, self.tenure = 0.0, 0
        self.qualification_left = b.qualification_hours
        return True

    def stress(self, p: int) -> float:
        return (
            1.0
            + self.model.params.behaviour.monitoring_stress * float(self.model.terms.monitoring[p])
        )

    def leave(self) -> None:
        self.platform, self.tenure, self.approved_tasks, self.qualification_left = (
            NO_PLATFORM,
            0,
            0.0,
            0.0,
        )

    # ---- match_and_work -------------------------------------------------------------------
    def start_week(self, plat: Platform, floor: float) -> None:
        """This week's hours, speed, LLM use, accuracy and reputation on platform `plat`."""
        m, b = self.model, self.model.params.behaviour
        mon = float(m.terms.monitoring[plat.index])
        self.qual = min(self.qualification_left, self.hours_available)
        self.qualification_left -= self.qual
        self.available = self.hours_left = self.hours_available - self.qual
        self.speed = self.skill * (1.0 - b.monitoring_output_loss * mon)
        if m.terms.hourly[plat.index]:
            self.speed *= 1.0 - b.hourly_shirking * (1.0 - mon)
        self.uses_llm = m.rng.random() < self.llm_propensity * (1.0 - b.llm_deterrence * mon)
        qc = min(1.0, plat.spec.gold_share * b.quality_control_per_gold_share)
        self.work_accuracy = self.accuracy - b.quality_shirking * (1.0 - mon) * (1.0 - qc)
        self.reputation = self.approval**b.reputation_power
        self.local = float(m.price_level[self.country]) ** plat.spec.pay_localisation
        self.floor = floor
        self.task_hours = self.pay = self.paid_hours = self.accepted = self.rejected = 0.0
        self.fake = self.topup = 0.0

    def end_week(self, plat: Platform) -> None:
        """Unpaid time: qualification, search (more where work is scarce), unpaid task time."""
        b = self.model.params.behaviour
        filled = self.task_hours / self.available if self.available > 0 else 1.0
        search = self.task_hours * (
            b.search_hours_per_paid_hour + b.search_hours_per_paid_hour_excess * (1.0 - filled)
        )
        vain = (
            min(b.vain_search_hours, self.available)
            if self.task_hours <= 0 < self.available
            else 0.0
        )
        self.unpaid = self.qual + search + vain + (self.task_hours - self.paid_hours)

    # ---- learn ----------------------------------------------------------------------------
    def learn(self) -> None:
        """Update expected pay, approval and qualification; leave with a weekly hazard."""
        if self.platform == NO_PLATFORM:
            return
        m, b = self.model, self.model.params.behaviour
        hours = self.paid_hours + self.unpaid
        if hours > 0:
            w = b.expected_pay_weight
            self.expected_pay = (1 - w) * self.expected_pay + w * self.pay / hours
        tasks = self.accepted + self.rejected
        if tasks > 0:
            weight = min(tasks / b.approval_full_weight_tasks, 1.0) * b.approval_learning_rate
            self.approval += weight * (self.accepted / tasks - self.approval)
        self.approved_tasks += self.accepted
        self.tenure += 1
        p = self.platform
        threshold = self.reservation_wage * self.stress(p)
        shortfall = min(max(1.0 - self.expected_pay / max(threshold, 1e-9), 0.0), 1.0)
        hazard = (
            b.exit_hazard_base_per_week
            + b.exit_hazard_underpaid_per_week * shortfall
            + b.exit_hazard_pay_cut * m.offer_cut[p]
            + b.exit_hazard_monitoring_per_week * m.terms.monitoring[p]
        )
        m.active_before_exits += 1
        if m.rng.random() < hazard:
            m.exits += 1
            m.exits_by_group[p, self.country] += 1
            self.leave()


class ReferenceModel(LabourMarketModel):
    """LabourMarketModel with the tasker phases done agent by agent."""

    def _initial_taskers(self) -> None:
        pop = self.params.population
        self.entries = 0
        self.taskers = [Tasker(self, i) for i in range(self.pool.size)]
        for t in self.taskers:
            if t.choose_and_join() and pop.initial_tenure_mean_weeks > 0:
                tenure = self.rng.exponential(pop.initial_tenure_mean_weeks)
                t.tenure = int(tenure)
                t.approved_tasks = tenure * pop.initial_tasks_per_week * t.skill
                t.qualification_left = 0.0
        self._sync()

    def taskers_decide(self) -> None:
        self.entries = 0
        self.agents_by_type[Tasker].shuffle_do("decide")
        self._sync()

    def match_and_work(self, jobs: list[Job]) -> None:
        self._open_week_accounts()
        n_p, n_c = len(self.platforms), len(self.iso3)
        self.flows = np.zeros((n_p, len(metrics.FLOWS), n_c))
        self.effective_pay_sum, self.workers = np.zeros((n_p, n_c)), np.zeros((n_p, n_c))
        floor = self.terms.floor
        for plat in self.platforms:
            self._platform_week(plat, [j for j in jobs if j.platform == plat.index], floor)

    def _platform_week(self, plat: Platform, jobs: list[Job], floor: np.ndarray) -> None:
        b, s = self.params.behaviour, self.params
        members = [t for t in self.taskers if t.platform == plat.index]
        if not members:
            return
        for t in members:
            t.start_week(plat, float(floor[t.country]))
        hourly = bool(self.terms.hourly[plat.index])
        mon = float(self.terms.monitoring[plat.index])
        detect = min(1.0, b.llm_detection_base + b.llm_detection_monitoring * mon)
        tracked = 1.0 - b.tracker_idle_deduction * mon
        share_llm = b.llm_share_of_labels_when_used
        paid_rejections = bool(self.terms.paid_rejections[plat.index])
        settled, job_paid_hours = [], []  # per job: its totals; {tasker: paid hours}
        for job in sorted(jobs, key=lambda j: -j.offer_usd_per_hour):
            task = self.task_types[job.task]
            threshold = max(task.skill_threshold, plat.spec.skill_threshold)
            capacity, weight, minutes, llm_share, reject = [], [], [], [], []
            for t in members:
                # a user has the LLM do a share of usable labels: faster, detected or fake
                phi = share_llm if t.uses_llm and task.llm_usable else 0.0
                human_reject = plat.spec.rejection_strictness * (1 - t.work_accuracy)
                llm_share.append(phi)
                reject.append((1 - phi) * human_reject + phi * detect)
                per_task = (1 - phi) + phi / (1.0 + b.llm_speedup)  # median-speed time share
                minutes.append(job.minutes_per_task * per_task / t.speed)
                ok = (
                    job.allowed[t.country]
                    and t.hours_left > 0
                    and t.skill >= threshold
                    and t.approved_tasks >= task.qualification_approved_tasks
                )
                capacity.append(t.hours_left * 60.0 / minutes[-1] if ok else 0.0)
                w = capacity[-1] * t.reputation
                if t.floor > 0 and not hourly:  # contracted / full cost of the tasker's work
                    pay = job.rate_usd_per_task * t.local * 60.0 / minutes[-1] * (1.0 - reject[-1])
                    w *= min(max(pay / t.floor, 0.0), 1.0) ** b.reputation_power
                weight.append(w)
            done = accepted_sum = genuine = pay_sum = fake = detected = 0.0
            given = share_out(job.tasks, capacity, weight)
            job_paid_hours.append({})
            for t, n, mins, phi, rej in zip(members, given, minutes, llm_share, reject,
                                            strict=True):
                if n <= 0:
                    continue
                hours = n * mins / 60.0
                t.hours_left = max(t.hours_left - hours, 0.0)
                rejected = n * rej
                accepted = n - rejected
                if hourly:
                    pay, paid_hours = (
                        job.offer_usd_per_hour * t.local * hours * tracked,
                        hours * tracked,
                    )
                else:
                    paid = n if paid_rejections else accepted
                    pay, paid_hours = job.rate_usd_per_task * t.local * paid, hours * paid / n
                t.task_hours += hours
                t.pay += pay
                t.paid_hours += paid_hours
                job_paid_hours[-1][t] = paid_hours
                t.accepted += accepted
                t.rejected += rejected
                done += n
                accepted_sum += accepted
                pay_sum += pay
                human_reject = plat.spec.rejection_strictness * (1 - t.work_accuracy)
                t.fake += n * phi * (1 - detect)
                fake += n * phi * (1 - detect)
                detected += n * phi * detect
                genuine += n * (1 - phi) * (1 - human_reject) * t.work_accuracy
            settled.append(Settled(job, done, accepted_sum, genuine, pay_sum, fake, detected))
        compliance = s.policy.pay_floor.compliance
        for t in members:
            t.end_week(plat)
            t.paid_time_pay = t.pay  # pay for paid time (apart under an all-time floor)
            if t.floor > 0 and t.paid_hours > 0:  # pay floor on the platform's measure
                measured = (
                    t.paid_hours
                    if s.policy.pay_floor.measured_on == "paid_time"
                    else t.paid_hours + t.unpaid
                )
                topup = compliance * max(t.floor * measured - t.pay, 0.0)
                # the part lifting paid hours to the floor; the rest pays for unpaid time
                t.paid_time_pay += min(compliance * max(t.floor * t.paid_hours - t.pay, 0.0),
                                       topup)
                t.pay += topup
                t.topup = topup
        for job, paid_hours in zip(settled, job_paid_hours, strict=True):
            # a job's share of a tasker's top-up: its share of their paid hours
            job.topup = sum(t.topup / t.paid_hours * h for t, h in paid_hours.items() if t.topup)
        # the jobs' totals into the labs' accounts by the model's own booking
        self._book(settled)
        self._record(plat, members)

    def _record(self, plat: Platform, members: list[Tasker]) -> None:
        """Write the members' week into the arrays the shared outcome definitions read."""
        members = sorted(members, key=lambda t: t.country)  # outcomes sum country by country
        rows = np.array([t.row for t in members])

        def col(name: str) -> np.ndarray:
            return np.array([getattr(t, name) for t in members], dtype=np.float32)

        pay, paid, unpaid, accepted = col("pay"), col("paid_hours"), col("unpaid"), col("accepted")
        self.week_pay[rows], self.week_paid_hours[rows], self.week_unpaid_hours[rows] = (
            pay,
            paid,
            unpaid,
        )
        self.week_accepted[rows], self.week_rejected[rows] = accepted, col("rejected")
        paid_time_pay = None
        if self.week_paid_time_pay is not None:  # an all-time floor: pay for paid time apart
            paid_time_pay = col("paid_time_pay")
            self.week_paid_time_pay[rows] = paid_time_pay
        country = np.array([t.country for t in members], dtype=np.intp)
        bounds = np.searchsorted(country, np.arange(len(self.iso3) + 1))
        self.flows[plat.index] = metrics.platform_flows(
            bounds,
            pay,
            paid,
            unpaid,
            col("task_hours"),
            col("available"),
            accepted,
            col("skill"),
            self.params.behaviour.want_more_work_threshold,
            col("fake"),
            col("topup"),
        )
        hours = paid + unpaid
        worked = hours > 0
        effective = np.where(worked, pay / np.maximum(hours, 1e-9), 0.0)
        self.effective_pay_sum[plat.index] = np.bincount(
            country, weights=effective, minlength=len(self.iso3)
        )
        self.workers[plat.index] = np.bincount(country, weights=worked, minlength=len(self.iso3))
        if self.week >= self.params.burn_in_weeks:
            self.pool.add_to_windows(rows, plat.index, pay, paid, unpaid, paid_time_pay)

    def learn(self) -> None:
        self.offer_cut = self._offer_cut_by_platform()
        self.exits = self.active_before_exits = 0
        self.exits_by_group = np.zeros((len(self.platforms), len(self.iso3)), dtype=np.intp)
        self.agents_by_type[Tasker].shuffle_do("learn")
        self._sync()
        w = self.params.behaviour.expected_pay_weight
        seen = self.workers > 0
        mean = self.effective_pay_sum / np.maximum(self.workers, 1)
        self.going_rate = np.where(seen, (1 - w) * self.going_rate + w * mean, self.going_rate)
        self.labs_learn()

    def _sync(self) -> None:
        """Agent state into the pool arrays (read by the shared schedule and outcomes)."""
        for name in STATE:
            getattr(self.pool, name)[:] = [getattr(t, name) for t in self.taskers]


def run(scenario, seed: int | None = None):
    """`sim.run` with the reference model: same frames, summary and manifest."""
    from sim.results import result_of

    model = ReferenceModel(scenario, seed)
    for _ in range(scenario.weeks):
        model.step()
    return result_of(model)
