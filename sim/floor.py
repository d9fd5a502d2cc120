"""Pay-floor top-ups: per tasker on a platform's measure of hourly pay, and billed to the jobs
that caused them, so that each stream's and lab's full cost carries them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenario import PayFloor
    from sim.work import Settled, WorkMode

F32 = np.float32


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


def bill_to_jobs(modes: dict[bool, WorkMode], topup: np.ndarray, paid_hours: np.ndarray,
                 settled: list[Settled]) -> None:
    """Each settled job's share of the top-ups (`Settled.topup`): a tasker's top-up per paid
    hour x the paid hours the job took of them. The shares add up to the platform's top-ups."""
    from sim.work import sum_of_products  # sim.work calls this module

    per_paid_hour = topup / np.maximum(paid_hours, F32(1e-9))
    billed = {}
    for mode in modes.values():
        if not mode.jobs:
            continue
        factor = (per_paid_hour * mode.paid_hours_per_hour / mode.speed)[None, :]
        hours = sum_of_products(mode.tasks, factor)[:, 0]  # per job, per 60/minutes
        for job, h in zip(mode.jobs, hours.tolist(), strict=True):
            billed[id(job)] = h * job.minutes_per_task / 60.0
    for entry in settled:
        entry.topup = billed.get(id(entry.job), 0.0)
