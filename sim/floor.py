"""Pay-floor top-ups: per tasker on a platform's measure of hourly pay, and billed to the jobs
that caused them, so that each stream's and lab's full cost carries them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.kernels import F32, sum_of_products

if TYPE_CHECKING:
    from sim.scenario import PayFloor


def topups(rule: PayFloor, floor: np.ndarray, pay: np.ndarray, paid_hours: np.ndarray,
           unpaid: np.ndarray) -> np.ndarray:
    """Top-up per tasker: `compliance` x the shortfall of pay under floor x measured hours
    (paid time, or all working time), for taskers with paid hours."""
    measured = paid_hours if rule.measured_on == "paid_time" else paid_hours + unpaid
    return _shortfall(rule, floor * measured - pay, paid_hours)


def paid_time_topups(rule: PayFloor, floor: np.ndarray, pay: np.ndarray,
                     paid_hours: np.ndarray, topup: np.ndarray) -> np.ndarray:
    """The part of each tasker's `topup` that is pay for paid time: `compliance` x the
    shortfall of pay under floor x paid hours (all of a paid-time floor's top-up; the rest
    of an all-time floor's top-up pays for unpaid time)."""
    return np.minimum(_shortfall(rule, floor * paid_hours - pay, paid_hours), topup)


def _shortfall(rule: PayFloor, due: np.ndarray, paid_hours: np.ndarray) -> np.ndarray:
    """`compliance` x the positive part of `due`, for taskers with paid hours."""
    due = np.where(paid_hours > 0, due, 0.0)
    return (rule.compliance * np.maximum(due, 0.0)).astype(F32)


def job_topups(topup: np.ndarray, paid_hours: np.ndarray, tasks: np.ndarray,
               paid_hours_per_hour: np.ndarray, speed: np.ndarray,
               minutes_per_task: list[float]) -> list[float]:
    """Each job's share of the top-ups, for jobs done one way (`tasks` is [job, tasker]): a
    tasker's top-up per paid hour x the paid hours the job took of them."""
    per_paid_hour = topup / np.maximum(paid_hours, F32(1e-9))
    factor = (per_paid_hour * paid_hours_per_hour / speed)[None, :]
    hours = sum_of_products(tasks, factor)[:, 0]  # per job, per 60/minutes
    return [h * m / 60.0 for h, m in zip(hours.tolist(), minutes_per_task, strict=True)]
