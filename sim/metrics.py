"""Every outcome of the model, computed as `sim.outcomes` declares it.

The model calls `weekly_outcomes` and `group_outcomes` each week; `summarise` turns a run
into summary.json. The CLI, sweeps and dashboard only read these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import outcomes, terms

Market = Any  # the model (`sim.model`), read for its week's accounts

US_FEDERAL_MINIMUM_USD = 7.25  # Hara et al. 2018 threshold for "share earning over 7.25 USD/h"
SAMPLE = 200_000  # distribution statistics use an evenly strided sample of at most this size

# the outcomes computed here (sim.netpay computes the net-pay ones)
WEEKLY = outcomes.names("weekly", module="metrics")  # weekly.parquet's columns
WINDOW = outcomes.names("overall", "window", module="metrics")  # per tasker over the window
GROUP = outcomes.names("country", "mean", module="metrics")  # weekly per group, then averaged


def reporter(name: str):
    """A DataCollector model reporter reading outcome `name` of the current week."""

    def read(model: Market) -> float:
        return model.current[name]

    read.__name__ = name
    return read


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else 0.0


def _sample(x: np.ndarray) -> np.ndarray:
    step = max(1, x.size // SAMPLE)
    return x[::step]


def percentiles(x: np.ndarray, q: list[float]) -> np.ndarray:
    """`np.percentile(x, q)` (linear interpolation) from one sort: numpy's SIMD sort is
    about 3x faster than a partition at several ranks."""
    position = np.asarray(q, dtype=float) / 100.0 * (x.size - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, x.size - 1)
    ordered = np.sort(x)
    a, b, t = ordered[low].astype(float), ordered[high].astype(float), position - low
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values."""
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    s = np.sort(x).astype(np.float64)
    n = s.size
    return float(((2.0 * np.arange(1, n + 1) - n - 1) * s).sum() / (n * s.sum()))


def _share(yes: np.ndarray, n: int) -> float:
    return np.count_nonzero(yes) / n


def pay_distribution(
    pay: np.ndarray, paid_hours: np.ndarray, unpaid_hours: np.ndarray, min_wage: np.ndarray,
    paid_time_pay: np.ndarray | None = None,
) -> dict[str, float]:
    """Effective hourly pay (pay over all working time) and paid-time hourly pay of taskers
    who did paid work: `paid_time_pay` (task pay and the top-ups that lift paid hours to the
    floor) per paid hour. None: all of `pay` is for paid time (no all-time floor)."""
    worked = paid_hours > 0
    n = np.count_nonzero(worked)
    if n == 0:
        return {k: 0.0 for k in WINDOW}
    if n < worked.size // 2:  # few worked: select them first
        who = np.flatnonzero(worked)
        pay, paid_hours, unpaid_hours, min_wage = (
            x[who] for x in (pay, paid_hours, unpaid_hours, min_wage)
        )
        if paid_time_pay is not None:
            paid_time_pay = paid_time_pay[who]
        worked = np.ones(n, bool)
    if paid_time_pay is None:
        paid_time_pay = pay
    # else dense over everyone, masked in the sums: cheaper than selecting those who worked
    hours = paid_hours + unpaid_hours
    # 0 where there are no hours (pay without paid hours would overflow, then NaN in the sums)
    effective = np.divide(pay, hours, out=np.zeros_like(pay), where=hours > 0)
    paid_rate = np.divide(paid_time_pay, paid_hours, out=np.zeros_like(paid_time_pay),
                          where=paid_hours > 0)
    sample = effective[_sample(np.flatnonzero(worked))]
    p10, p50, p90 = percentiles(sample, [10, 50, 90])
    return {
        "median_effective_hourly_pay_usd": float(p50),
        "mean_effective_hourly_pay_usd": float((effective * worked).sum() / n),
        "p10_effective_hourly_pay_usd": float(p10),
        "p90_effective_hourly_pay_usd": float(p90),
        "mean_paid_hourly_pay_usd": float((paid_rate * worked).sum() / n),
        "share_over_7_25_usd_per_hour": _share((effective > US_FEDERAL_MINIMUM_USD) & worked, n),
        "share_under_local_minimum_wage": _share((effective < min_wage) & worked, n),
    }


def group_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sums of `values` over the consecutive groups `values[bounds[i]:bounds[i + 1]]`."""
    out = np.zeros(bounds.size - 1)
    filled = bounds[:-1] < bounds[1:]  # reduceat needs the empty groups left out
    if filled.any():
        out[filled] = np.add.reduceat(values, bounds[:-1][filled], dtype=np.float64)
    return out


def platform_flows(
    bounds: np.ndarray, pay: np.ndarray, paid_hours: np.ndarray, unpaid_hours: np.ndarray,
    task_hours: np.ndarray, offered_hours: np.ndarray, accepted: np.ndarray, skill: np.ndarray,
    want_more_threshold: float, fake: np.ndarray, topup: np.ndarray | None,
) -> np.ndarray:
    """Weekly flows [FLOWS, group] of active taskers held in consecutive groups (`bounds`)."""
    looking = offered_hours > 0
    wants = (task_hours < want_more_threshold * offered_hours) & looking
    values = [paid_hours > 0, paid_hours, unpaid_hours, pay, looking, wants, accepted,
              skill * paid_hours, task_hours, fake]
    sums = [np.diff(bounds).astype(float), *(group_sums(v, bounds) for v in values)]
    sums.append(np.zeros(bounds.size - 1) if topup is None else group_sums(topup, bounds))
    return np.stack(sums)


# the flows `platform_flows` sums per platform and country (model.flows[platform, flow, country])
FLOWS = [
    "active_taskers", "taskers_with_paid_work", "paid_hours", "unpaid_hours", "tasker_pay_usd",
    "looking_for_work", "wanting_more_work", "labels_human", "skill_x_paid_hours", "task_hours",
    "fake_human_labels", "pay_floor_topup_usd",
]


def weekly_outcomes(model: Market) -> dict[str, float]:
    """This week's outcomes for the whole market."""
    pool = model.pool
    flow = dict(zip(FLOWS, model.flows.sum(axis=0), strict=True))  # per country
    total = {k: float(v.sum()) for k, v in flow.items()}
    pay, paid, unpaid = model.week_pay, model.week_paid_hours, model.week_unpaid_hours
    paid_total, unpaid_total = total["paid_hours"], total["unpaid_hours"]
    tasker_pay = float(model.lab_platform_pay.sum())  # the money flow, as billed to labs
    out: dict[str, float] = {
        "active_taskers": total["active_taskers"],
        "taskers_with_paid_work": total["taskers_with_paid_work"],
        "paid_hours": paid_total,
        "unpaid_hours": unpaid_total,
        "unpaid_share": _ratio(unpaid_total, paid_total + unpaid_total),
        "tasker_pay_usd": tasker_pay,
        "tasker_pay_ppp_usd": float((flow["tasker_pay_usd"] / model.price_level).sum()),
    }
    out.update(pay_distribution(pay, paid, unpaid, model.tasker_min_wage,
                                model.week_paid_time_pay))
    out["share_wanting_more_work"] = _ratio(total["wanting_more_work"], total["looking_for_work"])
    on = np.flatnonzero(model.week_platform >= 0)
    sample = on[:: max(1, on.size // SAMPLE)]
    out["gini_weekly_pay"] = gini(pay[sample])
    tenure = pool.tenure[sample]
    out["median_tenure_weeks"] = float(percentiles(tenure, [50])[0]) if on.size else 0.0
    out["mean_skill_of_working_taskers"] = _ratio(total["skill_x_paid_hours"], paid_total)
    labels_human = float(model.stream_accepted.sum())
    llm_quality = model.params.behaviour.llm_label_quality
    human_quality = model.genuine_quality + model.fake_labels * llm_quality
    quality = human_quality + model.ai_quality_sum
    minutes = sum(
        st["minutes"] * st["volume"] for lab in model.labs for st in lab.streams
    )
    revenue = float(model.platform_revenue_by_platform.sum())
    ai_spend = float(model.lab_ai_spend.sum())
    lab_spend = float(model.lab_spend.sum())
    out.update(
        {
            "labels_human": labels_human,
            "labels_ai": model.labels_ai,
            "labels_total": labels_human + model.labels_ai,
            "fake_human_labels": model.fake_labels,
            "llm_detected_labels": model.llm_detected,
            "quality_adjusted_labels": quality,
            "demand_tasks": model.demand_tasks,
            "human_tasks_posted": model.human_volume,
            "fill_rate": min(1.0, _ratio(float(model.stream_done.sum()), model.human_volume)),
            "automation_share": _ratio(model.automated_tasks, model.demand_tasks),
            "mean_minutes_per_human_task": _ratio(minutes, model.human_volume),
            "pay_per_human_label_usd": _ratio(tasker_pay, labels_human),
            "lab_spend_usd": lab_spend,
            "platform_revenue_usd": revenue,
            "ai_spend_usd": ai_spend,
            "pay_floor_topup_usd": float(model.topup_by_platform.sum()),
            "cost_per_quality_adjusted_label_usd": _ratio(lab_spend, quality),
            "tasker_share_of_lab_price": _ratio(tasker_pay, tasker_pay + revenue),
            "exits": float(model.exits),
            "entries": float(model.entries),
            "exit_hazard_per_week": _ratio(model.exits, model.active_before_exits),
            "tasks_per_task_hour": _ratio(
                float(model.stream_done.sum()), total["task_hours"]
            ),
            "llm_detection_rate": _ratio(
                model.llm_detected, model.llm_detected + model.fake_labels
            ),
            "human_cost_per_quality_adjusted_label_usd": _ratio(
                lab_spend - ai_spend, human_quality
            ),
            "llm_label_share": _ratio(
                model.fake_labels + model.llm_detected, model.usable_tasks_done
            ),
        }
    )
    return out


def group_outcomes(model: Market, by: str) -> dict[str, np.ndarray]:
    """This week's flows per country or per platform (arrays over the groups)."""
    flows = model.flows  # [platform, flow, country]
    fee = model.terms.fee_share[:, None]
    pay = flows[:, FLOWS.index("tasker_pay_usd")]  # [platform, country]
    if by == "country":
        flow = dict(zip(FLOWS, flows.sum(axis=0), strict=True))
        revenue = (pay * fee).sum(axis=0)
        pay_ppp = pay.sum(axis=0) / model.price_level
    else:
        flow = dict(zip(FLOWS, flows.sum(axis=2).T, strict=True))
        revenue = (pay * fee).sum(axis=1)
        pay_ppp = (pay / model.price_level).sum(axis=1)
    paid_sum, unpaid_sum, pay_sum = flow["paid_hours"], flow["unpaid_hours"], flow["tasker_pay_usd"]
    out = {
        "active_taskers": flow["active_taskers"],
        "taskers_with_paid_work": flow["taskers_with_paid_work"],
        "paid_hours": paid_sum,
        "unpaid_hours": unpaid_sum,
        "unpaid_share": _safe_div(unpaid_sum, paid_sum + unpaid_sum),
        "tasker_pay_usd": pay_sum,
        "tasker_pay_ppp_usd": pay_ppp,
        "share_wanting_more_work": _safe_div(flow["wanting_more_work"], flow["looking_for_work"]),
        "labels_human": flow["labels_human"],
        "fake_human_labels": flow["fake_human_labels"],
        "mean_skill_of_working_taskers": _safe_div(flow["skill_x_paid_hours"], paid_sum),
        "lab_spend_usd": pay_sum + revenue,
        "platform_revenue_usd": revenue,
        "pay_floor_topup_usd": flow["pay_floor_topup_usd"],
        "tasker_share_of_lab_price": _safe_div(pay_sum, pay_sum + revenue),
        "exits": model.exits_by_group.sum(axis=0 if by == "country" else 1).astype(float),
    }
    if by == "platform":  # as billed to labs (the same sums, in the labs' accounts)
        out["pay_floor_topup_usd"] = model.topup_by_platform.copy()
    return out


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def half_life_weeks(exit_hazard_per_week: float) -> float:
    """Weeks until half of a cohort has left, at a constant weekly exit hazard."""
    if exit_hazard_per_week <= 0:
        return float("inf")
    return float(np.log(0.5) / np.log(1.0 - exit_hazard_per_week))


def summarise(model: Market, weekly, by_country, by_platform) -> dict[str, Any]:
    """summary.json: flows averaged over post-burn-in weeks, pay per tasker over the window."""
    burn = model.params.burn_in_weeks
    pool = model.pool
    post = weekly[weekly["week"] >= burn]
    overall = {k: float(post[k].mean()) for k in WEEKLY}
    mw = model.min_wage[pool.country]
    # per-tasker window totals, one platform at a time (a platform's arrays are freed after
    # its pay distribution: at 10M taskers each holds 240 MB, 320 MB under an all-time floor)
    by_platform_pay, totals = [], None
    for p in range(len(model.platforms)):
        window = pool.window(p)  # pay, paid, unpaid[, paid-time pay]
        by_platform_pay.append(pay_distribution(*window[:3], mw, window.paid_time_pay))
        totals = window if totals is None else [
            None if t is None else t + w for t, w in zip(totals, window, strict=True)
        ]
    pay, paid, unpaid, paid_time_pay = totals
    overall.update(pay_distribution(pay, paid, unpaid, mw, paid_time_pay))
    overall["half_life_weeks"] = half_life_weeks(overall["exit_hazard_per_week"])
    if not np.isfinite(overall["half_life_weeks"]):
        overall["half_life_weeks"] = float(model.params.weeks * 100)

    def group(frame, column: str, names: list[str], distribution) -> dict[str, dict[str, float]]:
        means = frame[frame["week"] >= burn].groupby(column, sort=False)[GROUP].mean()
        out = {}
        for i, name in enumerate(names):
            vals = {k: float(means.at[name, k]) for k in GROUP}
            vals.update(distribution(i))
            out[name] = vals
        return out

    bounds = np.searchsorted(pool.country, np.arange(len(model.iso3) + 1))  # sorted by country

    def by_c(i: int) -> dict[str, float]:
        rows = slice(bounds[i], bounds[i + 1])
        return pay_distribution(
            *(x[rows] for x in (pay, paid, unpaid, mw)),
            None if paid_time_pay is None else paid_time_pay[rows],
        )

    countries = group(by_country, "iso3", model.iso3, by_c)
    floor_at_end = terms.resolve(model.params, model.week, model.countries).floor
    names = [p.spec.name for p in model.platforms]
    platforms = group(by_platform, "platform", names, by_platform_pay.__getitem__)
    for iso, row in zip(model.iso3, countries.values(), strict=True):
        row["pay_floor_usd_per_hour"] = float(floor_at_end[model.iso3.index(iso)])
        row["min_wage_usd_per_hour"] = float(model.min_wage[model.iso3.index(iso)])
        plr = float(model.price_level[model.iso3.index(iso)])
        row["price_level_ratio"] = plr
        # a country's price level is one number, so pay in PPP dollars is pay / plr exactly
        for key in ("median_effective_hourly_pay_usd", "mean_effective_hourly_pay_usd"):
            row[key.replace("_usd", "_ppp_usd")] = row[key] / plr
        row["income_per_active_tasker_usd"] = (
            row["tasker_pay_usd"] / row["active_taskers"] if row["active_taskers"] > 0 else 0.0
        )
    summary = {"overall": overall, "by_platform": platforms, "by_country": countries}
    model.net_pay.summarise(model, summary, weekly, by_country, pay, paid, unpaid)
    return summary
