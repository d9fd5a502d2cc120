"""The week's matching: the Job record, the crew of active taskers, eligibility, work
(jobs shared among taskers, best-paid first), settlement per job and the week's close
(unpaid time, pay-floor top-ups). Vectorised over a platform's active taskers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim import metrics
from sim.floor import job_topups, paid_time_topups, topups
from sim.kernels import F32, power, sum_of_products


@dataclass
class Crew:
    """A week's active taskers on a run of platforms (`platforms`), platform by platform and
    within one country by country, with what matching needs per tasker; `row` is each
    one's row in the pool."""

    platforms: range
    row: np.ndarray
    bounds: np.ndarray  # the run's i-th platform has taskers [bounds[i], bounds[i + 1])
    groups: np.ndarray  # (platform, country) groups, consecutive: platforms x countries + 1
    country: np.ndarray
    qual: np.ndarray  # unpaid qualification hours this week
    available: np.ndarray  # hours offered for paid work
    skill: np.ndarray
    reputation: np.ndarray  # allocation weight, approval ** power
    accuracy: np.ndarray  # after quality shirking
    pay_localisation: np.ndarray  # pay multiplier, price level ** platform's localisation
    floor: np.ndarray | None  # pay floor, USD per hour (None: no floor this week)
    detect: np.ndarray  # per platform (all of them): share of LLM labels detected
    modes: dict[bool, WorkMode]  # with an LLM or not (whole-crew arrays)
    # an all-time floor this week: keep the top-ups' paid-time part (`paid_time_topup`)
    all_time_floor: bool = False
    hours_left: np.ndarray = field(init=False)  # used up job by job
    week: dict[str, np.ndarray] = field(init=False)  # per-tasker totals of the week's work

    def __post_init__(self) -> None:
        self.hours_left = self.available.copy()
        names = ("task_hours", "pay", "paid_hours", "tasks", "accepted", "fake", "topup")
        names += ("paid_time_topup",) if self.all_time_floor else ()
        self.week = {k: np.zeros(self.row.size, F32) for k in names}

    def segment(self, platform: int) -> slice:
        i = platform - self.platforms.start
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def country_bounds(self, platform: int, n_countries: int) -> np.ndarray:
        """Where each country's taskers start within the platform's segment (and the end)."""
        i = platform - self.platforms.start
        bounds = self.groups[i * n_countries : (i + 1) * n_countries + 1]
        return bounds - bounds[0]


def split_platforms(sizes: list[int], parts: int) -> list[range]:
    """Platforms 0..n-1 in `parts` contiguous runs of about equal total size (none empty)."""
    n = len(sizes)
    parts = max(1, min(parts, n))
    ends = np.cumsum(sizes)
    cuts = [0]
    for k in range(1, parts):  # the platform boundary nearest k / parts of the taskers
        cut = int(np.argmin(np.abs(ends[:-1] - ends[-1] * k / parts))) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), n - (parts - k)))
    cuts.append(n)
    return [range(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


@dataclass
class WorkMode:
    """How a platform's taskers do one kind of task: with or without an LLM where usable."""

    speed: np.ndarray  # per tasker, median-speed hours per hour
    reject: np.ndarray  # per tasker, share of tasks rejected
    llm: np.ndarray | None = None  # per tasker, uses an LLM (None: LLMs not usable)
    speed_weight: np.ndarray | None = None  # per tasker, speed x reputation
    jobs: list = field(default_factory=list)  # the jobs done this way, in the order worked
    tasks: np.ndarray | None = None  # [job, tasker] tasks done
    pay_per_rate: np.ndarray | None = None  # under a floor: hourly pay per USD of piece rate
    paid_hours_per_hour: np.ndarray | None = None  # per tasker, paid hours per hour worked

    def part(self, seg: slice) -> WorkMode:
        """This way of working for one platform's taskers (`seg` of the crew)."""
        llm = None if self.llm is None else self.llm[seg]
        return WorkMode(self.speed[seg], self.reject[seg], llm, self.speed_weight[seg])


def allocate(
    volume: float, capacity: np.ndarray, weight: np.ndarray, rounds: int = 4
) -> np.ndarray:
    """Share `volume` in proportion to `weight`, capped by `capacity`, excess redistributed."""
    given = np.zeros_like(capacity)
    if volume <= 0 or capacity.size == 0:
        return given
    free = capacity.copy()
    w = np.where(free > 0, weight, F32(0.0))
    left = volume
    for _ in range(rounds):
        total = float(w.sum())
        if total <= 0 or left <= volume * 1e-9:
            break
        add = w * F32(left / total)
        if not (add > free).any():  # nobody capped: the whole remainder is placed
            given += add
            break
        np.minimum(add, free, out=add)
        given += add
        free -= add
        left = volume - float(given.sum())
        w = np.where(free > 0, w, F32(0.0))
    return given


def work_job(
    volume: float,
    tasks_per_hour: float,
    hours_left: np.ndarray,
    speed: np.ndarray,
    weight_per_hour: np.ndarray,
    max_weight_per_hour: float,
    out: np.ndarray,
    speed_weight: np.ndarray | None = None,
) -> None:
    """Share one job's `volume` tasks among taskers; write tasks into `out`, use up hours.

    A tasker's capacity is `hours_left x speed x tasks_per_hour` tasks and their share of
    the job is in proportion to capacity x `weight_per_hour` (reputation, floor screening:
    at most `max_weight_per_hour`), capped by capacity with the excess redistributed
    (`allocate`). `hours_left` is reduced in place by the hours the tasks take.
    `speed_weight` is `speed x weight_per_hour` when the caller has it already.
    """
    if speed_weight is None:
        speed_weight = speed * weight_per_hour
    weight = np.multiply(hours_left, speed_weight, out=out)
    total = float(weight.sum())
    if volume <= 0 or total <= 0:
        out.fill(0.0)
        return
    used = volume / (total * tasks_per_hour)  # share of capacity used per unit of weight
    if max_weight_per_hour * used <= 1.0 - 1e-6:  # excess supply: nobody is capped
        out *= F32(volume / total)
        keep = np.multiply(weight_per_hour, F32(-used))
        keep += 1.0
        hours_left *= keep
        return
    capacity = hours_left * speed * F32(tasks_per_hour)
    out[:] = allocate(volume, capacity, weight * F32(tasks_per_hour))
    hours_left -= out / (speed * F32(tasks_per_hour))
    np.maximum(hours_left, 0.0, out=hours_left)


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


@dataclass(slots=True)
class Settled:
    """A job's week, as its platform settles it: tasks done and accepted, quality of the
    genuine human labels, pay (before localisation is undone: USD paid), LLM-made labels
    accepted (`fake`) and detected."""

    job: Job
    done: float
    accepted: float
    genuine: float
    pay: float
    fake: float
    detected: float
    topup: float = 0.0  # the job's share of pay-floor top-ups (`bill_topups`)


def build_crew(market, members: list[np.ndarray], platforms: range, draw: np.ndarray) -> Crew:
    """This week's active taskers on a run of platforms, platform by platform, with their
    hours, speed, LLM use (`draw` against propensity), accuracy, reputation and pay
    localisation (platform settings looked up per tasker). `market` is the model."""
    b, pool, terms = market.params.behaviour, market.pool, market.terms
    specs = [p.spec for p in market.platforms]
    n_c = len(market.iso3)
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
    m = terms.monitoring
    gold = np.array([p.gold_share for p in specs])
    qc = np.minimum(1.0, gold * b.quality_control_per_gold_share)
    detect = np.minimum(1.0, b.llm_detection_base + b.llm_detection_monitoring * m)
    skill = pool.skill[row]
    speed = skill * per_tasker(1.0 - b.monitoring_output_loss * m)
    speed *= per_tasker(np.where(terms.hourly, 1.0 - b.hourly_shirking * (1.0 - m), 1.0))
    uses_llm = draw < (pool.llm_propensity[row] * per_tasker(1.0 - b.llm_deterrence * m))
    accuracy = pool.accuracy[row] - per_tasker(b.quality_shirking * (1.0 - m) * (1.0 - qc))
    reputation = power(pool.approval[row], b.reputation_power)
    localisation = np.stack([market.price_level**p.pay_localisation for p in specs])
    localisation = localisation[platforms.start : platforms.stop]
    floor = terms.floor
    strictness = np.array([p.rejection_strictness for p in specs])
    reject = per_tasker(strictness) * (1.0 - accuracy)
    # with an LLM (where usable and the tasker uses one) tasks go faster and a detected
    # LLM label is rejected; float masks, as arithmetic beats np.where on them
    # an LLM user has the LLM do a share of their usable labels, each in 1/(1 + speedup) the time
    llm = uses_llm.astype(F32) * F32(b.llm_share_of_labels_when_used)
    llm_speed = speed / (1.0 - llm * F32(b.llm_speedup / (1.0 + b.llm_speedup)))
    llm_reject = reject + llm * (per_tasker(detect) - reject)
    per_group = np.diff(groups)
    return Crew(
        platforms=platforms, row=row, bounds=bounds, groups=groups, country=country,
        qual=qual, available=offered - qual, skill=skill, reputation=reputation,
        accuracy=accuracy, pay_localisation=np.repeat(localisation.ravel(), per_group),
        floor=np.repeat(np.tile(floor, len(platforms)), per_group) if floor.any() else None,
        detect=detect,
        all_time_floor=bool(floor.any()) and market.week_paid_time_pay is not None,
        modes={
            False: WorkMode(speed, reject, None, speed * reputation),
            True: WorkMode(llm_speed, llm_reject, llm, llm_speed * reputation),
        },
    )


def work_on(market, platform: int, jobs: list[Job], crew: Crew) -> list[Settled]:
    """One platform's jobs, the best-paid first, each taking what hours the better-paid
    ones left; then the platform settles them (`settle`)."""
    b = market.params.behaviour
    spec = market.platforms[platform].spec
    hourly = bool(market.terms.hourly[platform])
    seg = crew.segment(platform)
    modes = {k: mode.part(seg) for k, mode in crew.modes.items()}
    hours_left, reputation = crew.hours_left[seg], crew.reputation[seg]
    localisation = crew.pay_localisation[seg]
    floor = None if crew.floor is None else crew.floor[seg]
    order = sorted(jobs, key=lambda j: -j.offer_usd_per_hour)
    for job in order:
        modes[market.task_types[job.task].llm_usable].jobs.append(job)
    for mode in modes.values():
        mode.tasks = np.zeros((len(mode.jobs), hours_left.size), F32)
        mode.jobs.clear()
    max_weight = float(reputation.max())
    screen = floor is not None and not hourly
    if screen:  # per tasker and way of working: piece-rate pay per USD of rate, and floor
        for mode in modes.values():
            mode.pay_per_rate = localisation * mode.speed * (1.0 - mode.reject)
        floor_divisor = np.maximum(floor, 1e-9)
        floored = None if floor.all() else floor > 0
    eligible: dict[tuple, np.ndarray | slice | None] = {}
    for job in order:
        task = market.task_types[job.task]
        mode = modes[task.llm_usable]
        row = mode.tasks[len(mode.jobs)]
        mode.jobs.append(job)
        q = task.qualification_approved_tasks
        thr = max(task.skill_threshold, spec.skill_threshold)
        key = (job.allowed.tobytes(), q, thr)
        if key not in eligible:
            eligible[key] = eligible_taskers(market, job.allowed, q, thr, crew, platform)
        sub = eligible[key]
        tasks_per_hour = 60.0 / job.minutes_per_task
        weight, speed_weight = reputation, mode.speed_weight
        if screen:  # under a floor a tasker's work costs the lab its top-up too: the weight
            # falls with contracted / full cost as it does with approval (same power)
            rate = F32(job.rate_usd_per_task * tasks_per_hour)
            ratio = np.minimum(rate * mode.pay_per_rate / floor_divisor, 1.0)  # pay >= 0
            screened = power(ratio, b.reputation_power)
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
    detect = float(crew.detect[platform])
    settled = settle(market, platform, modes, localisation, crew.accuracy[seg], detect, week)
    if floor is not None:  # top-ups per tasker, billed to the jobs that caused them
        unpaid = unpaid_hours(b, week, crew.qual[seg], crew.available[seg])
        rule = market.params.policy.pay_floor
        week["topup"][:] = topups(rule, floor, week["pay"], week["paid_hours"], unpaid)
        if crew.all_time_floor:
            week["paid_time_topup"][:] = paid_time_topups(
                rule, floor, week["pay"], week["paid_hours"], week["topup"]
            )
        bill_topups(modes, week["topup"], week["paid_hours"], settled)
    return settled


def bill_topups(modes: dict[bool, WorkMode], topup: np.ndarray, paid_hours: np.ndarray,
                settled: list[Settled]) -> None:
    """Each settled job's share of the top-ups (`Settled.topup`, from `job_topups`). The
    shares add up to the platform's top-ups."""
    billed = {}
    for mode in modes.values():
        if mode.jobs:
            minutes = [job.minutes_per_task for job in mode.jobs]
            shares = job_topups(topup, paid_hours, mode.tasks, mode.paid_hours_per_hour,
                                mode.speed, minutes)
            billed.update(zip(map(id, mode.jobs), shares, strict=True))
    for entry in settled:
        entry.topup = billed.get(id(entry.job), 0.0)


def unpaid_hours(b, week: dict[str, np.ndarray], qual: np.ndarray,
                 available: np.ndarray) -> np.ndarray:
    """Unpaid hours: qualification, search (more where work is scarce), a week searched in
    vain, unpaid task time (`b`: the scenario's behaviour)."""
    task_hours = week["task_hours"]
    search = task_hours * (
        b.search_hours_per_paid_hour
        + b.search_hours_per_paid_hour_excess * (1.0 - task_hours / np.maximum(available, 1e-9))
    )
    vain = np.minimum(available, F32(b.vain_search_hours)) * (task_hours <= 0)
    return qual + search + vain + (task_hours - week["paid_hours"])


def eligible_taskers(market, allowed: np.ndarray, approvals: float, skill_threshold: float,
                     crew: Crew, platform: int) -> np.ndarray | slice | None:
    """Which of a platform's taskers (`crew[seg]`, sorted by country) may do a job: None
    for all, a slice when they are one run of countries, else their positions."""
    seg = crew.segment(platform)
    bounds = crew.country_bounds(platform, len(market.iso3))
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
        ok &= market.pool.approved_tasks[crew.row[seg]] >= approvals
    if skill_threshold > 0:
        ok &= crew.skill[seg] >= skill_threshold
    return None if ok.all() else np.flatnonzero(ok)


def settle(market, platform: int, modes: dict[bool, WorkMode], localisation: np.ndarray,
           accuracy: np.ndarray, detect: float, week: dict[str, np.ndarray]) -> list[Settled]:
    """Per tasker totals of the week's work (into `week`); per job (returned): tasks done,
    accepted, genuine quality, pay, LLM-made labels and detected ones.

    Each is a product of the [job, tasker] task matrix with per-tasker factors.
    """
    settled: list[Settled] = []
    b, terms = market.params.behaviour, market.terms
    hourly = bool(terms.hourly[platform])
    paid_rejections = bool(terms.paid_rejections[platform])
    tracked = F32(1.0 - b.tracker_idle_deduction * terms.monitoring[platform])
    n = localisation.size
    for mode in modes.values():
        if not mode.jobs:
            continue
        f = np.empty((6 if mode.llm is not None else 4, n), F32)  # factors per task done
        f[0] = 1.0
        accept = np.subtract(1.0, mode.reject, out=f[1])
        np.multiply(accept, accuracy, out=f[2])  # quality of a genuine human label
        if hourly:  # pay per USD of (hourly offer x median-speed hours)
            np.divide(localisation * tracked, mode.speed, out=f[3])
        elif paid_rejections:  # pay per USD of piece rate
            f[3] = localisation
        else:
            np.multiply(localisation, accept, out=f[3])
        if mode.llm is not None:  # of a task done: a share llm by an LLM, the rest human
            np.multiply(np.subtract(1.0, modes[False].reject), accuracy, out=f[2])
            f[2] *= 1.0 - mode.llm
            np.multiply(mode.llm, F32(1.0 - detect), out=f[4])  # undetected LLM labels
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
        mode.paid_hours_per_hour = (
            np.full(n, tracked, F32) if hourly
            else np.ones(n, F32) if paid_rejections else accept.copy()
        )
        hours *= mode.paid_hours_per_hour
        week["paid_hours"] += hours
        for job, totals, job_price in zip(mode.jobs, per_job.tolist(), price.tolist(),
                                          strict=True):  # Python floats: quicker here
            done, accepted, genuine, pay = totals[:4]
            fake, detected = totals[4:] if mode.llm is not None else (0.0, 0.0)
            settled.append(Settled(job, done, accepted, genuine, pay * job_price, fake, detected))
    return settled


@dataclass
class ClosedWeek:
    """A run of platforms' week, closed: flows per (platform, country) group."""

    flows: np.ndarray  # [metrics.FLOWS, group]
    effective_pay_sum: np.ndarray  # per group: sum of effective pay of those who worked
    workers: np.ndarray  # per group: taskers who worked


def close_week(market, crew: Crew) -> ClosedWeek:
    """Unpaid time and pay-floor top-ups of a run of platforms: the week's flows per
    tasker (into the model's week arrays) and per (platform, country) group (returned)."""
    b = market.params.behaviour
    week, available = crew.week, crew.available
    task_hours, pay, paid_hours = week["task_hours"], week["pay"], week["paid_hours"]
    unpaid = unpaid_hours(b, week, crew.qual, available)
    topup = None
    if crew.floor is not None:  # worked out per platform (`work_on`), billed per job
        topup = week["topup"]
        pay = pay + topup
    row = crew.row
    market.week_pay[row] = pay
    if market.week_paid_time_pay is not None:  # an all-time floor: pay for paid time apart
        paid_time_pay = week["pay"]
        if topup is not None:
            paid_time_pay = paid_time_pay + week["paid_time_topup"]
        market.week_paid_time_pay[row] = paid_time_pay
    market.week_paid_hours[row] = paid_hours
    market.week_unpaid_hours[row] = unpaid
    market.week_accepted[row] = week["accepted"]
    market.week_rejected[row] = week["tasks"] - week["accepted"]
    # for the going rate: effective pay of those who worked, per platform and country
    hours = paid_hours + unpaid
    effective = pay / np.maximum(hours, 1e-9)  # 0 without hours: no pay then
    return ClosedWeek(
        flows=metrics.platform_flows(
            crew.groups, pay, paid_hours, unpaid, task_hours, available, week["accepted"],
            crew.skill, b.want_more_work_threshold, week["fake"], topup,
        ),
        effective_pay_sum=metrics.group_sums(effective, crew.groups),
        workers=metrics.group_sums(hours > 0, crew.groups),
    )
