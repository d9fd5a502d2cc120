"""TaskerPool: the tasker population as one numpy array per state variable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

NO_PLATFORM = -1


@dataclass
class TaskerPool:
    """One row per potential tasker. Traits are fixed; state changes weekly."""

    # traits
    country: np.ndarray  # int16 index into the scenario's countries
    skill: np.ndarray  # float32 theta: speed multiplier (median 1)
    accuracy: np.ndarray  # float32 base accuracy of a label
    hours_available: np.ndarray  # float32 hours offered per week when active
    reservation_wage: np.ndarray  # float32 USD per hour
    llm_propensity: np.ndarray  # float32 weekly chance of using an LLM where possible
    # state
    platform: np.ndarray  # int8, NO_PLATFORM when inactive
    expected_pay: np.ndarray  # float32 expected effective hourly pay, USD
    approval: np.ndarray  # float32 approval rate (reputation)
    approved_tasks: np.ndarray  # float32 approved-task count on the current platform
    tenure: np.ndarray  # int32 weeks on the current platform
    qualification_left: np.ndarray  # float32 unpaid qualification hours still to do
    # post-burn-in accumulators: the current spell on a platform is kept per tasker (cheap
    # to add to weekly); when it closes it is kept as a record (`closed`) of who, on which
    # platform, and its totals: few taskers leave in a week, so records beat a dense
    # [platform, tasker] table (16 bytes per platform per potential tasker)
    spell_pay: np.ndarray  # float64
    spell_paid_hours: np.ndarray  # float32
    spell_unpaid_hours: np.ndarray  # float32
    # only under an all-time pay floor (`track_paid_time_pay`): pay for paid time, float64;
    # elsewhere it is spell_pay, and records and windows leave it out
    spell_paid_time_pay: np.ndarray | None = None
    closed: list[tuple[np.ndarray, ...]] = field(default_factory=list)

    # records are folded into one per platform once they hold this many (tasker, spell) rows
    # per potential tasker: memory stays bounded in long runs
    FOLD_AFTER_RECORDS_PER_TASKER = 2

    @property
    def size(self) -> int:
        return self.country.shape[0]

    def join(self, who: np.ndarray, platform: np.ndarray, expected_pay: np.ndarray,
             approval: float, qualification_hours: float) -> None:
        """Taskers `who` start on `platform` as newcomers."""
        self.platform[who] = platform
        self.expected_pay[who] = expected_pay
        self.approval[who] = approval
        self.approved_tasks[who] = 0.0
        self.tenure[who] = 0
        self.qualification_left[who] = qualification_hours

    def track_paid_time_pay(self) -> None:
        """Keep pay for paid time apart from pay (an all-time floor's top-ups pay for unpaid
        time too): spells, records and windows carry it from now on."""
        self.spell_paid_time_pay = np.zeros(self.size)

    def _spells(self) -> list[np.ndarray]:
        """The open spells' totals: pay, paid and unpaid hours[, pay for paid time]."""
        spells = [self.spell_pay, self.spell_paid_hours, self.spell_unpaid_hours]
        return spells if self.spell_paid_time_pay is None else [*spells, self.spell_paid_time_pay]

    def add_to_spells(self, pay: np.ndarray, paid_hours: np.ndarray, unpaid_hours: np.ndarray,
                      paid_time_pay: np.ndarray | None = None) -> None:
        """A post-burn-in week's pay and hours (arrays over the pool; 0 when inactive), and
        pay for paid time where it is kept apart."""
        self.spell_pay += pay
        self.spell_paid_hours += paid_hours
        self.spell_unpaid_hours += unpaid_hours
        if self.spell_paid_time_pay is not None:
            self.spell_paid_time_pay += paid_time_pay

    def close_spells(self, who: np.ndarray) -> None:
        """Keep the open spells of taskers `who` as closed-spell records; start new ones."""
        platform = self.platform[who]
        spells = self._spells()
        values = [spell[who] for spell in spells]
        keep = (platform != NO_PLATFORM) & _any_nonzero(*values)
        if keep.any():  # (before burn-in spells are empty: nothing to keep)
            self.add_to_windows(who[keep], platform[keep], *(v[keep] for v in values))
        for spell in spells:
            spell[who] = 0.0

    def add_to_windows(self, who: np.ndarray, platform: np.ndarray, pay: np.ndarray,
                       paid_hours: np.ndarray, unpaid_hours: np.ndarray,
                       paid_time_pay: np.ndarray | None = None) -> None:
        """Post-burn-in pay and hours of taskers `who` on `platform` (a record, summed later),
        and pay for paid time where it is kept apart."""
        platform = np.broadcast_to(platform, who.shape)
        record = (who, platform, pay, paid_hours, unpaid_hours)
        self.closed.append(record if self.spell_paid_time_pay is None else (*record, paid_time_pay))
        if sum(rec[0].size for rec in self.closed) > self.FOLD_AFTER_RECORDS_PER_TASKER * self.size:
            self._fold_records()

    def _closed_totals(self, p: int) -> list[np.ndarray]:
        """Closed spells' pay (float64), paid and unpaid hours (float32)[, pay for paid time
        (float64)] per tasker on platform `p`, summed in the order they closed, as running
        totals would be."""
        n = self.size
        totals = [np.zeros(n), np.zeros(n, np.float32), np.zeros(n, np.float32)]
        if self.spell_paid_time_pay is not None:
            totals.append(np.zeros(n))
        for who, platform, *values in self.closed:
            on_p = platform == p
            if on_p.any():
                sel = who[on_p]  # a tasker appears at most once in a record
                for total, v in zip(totals, values, strict=True):
                    total[sel] += v[on_p]
        return totals

    def _fold_records(self) -> None:
        """Replace the records by one per platform: each tasker's totals so far (later
        spells add to them in order, so windows do not change)."""
        platforms = np.unique(np.concatenate([rec[1] for rec in self.closed]))
        folded = []
        for p in platforms:
            totals = self._closed_totals(int(p))
            who = np.flatnonzero(_any_nonzero(*totals))
            folded.append((who, np.broadcast_to(p, who.shape), *(t[who] for t in totals)))
        self.closed = folded

    def window(self, p: int) -> Window:
        """Post-burn-in pay and hours per tasker on platform `p` (open spells too)."""
        pay, paid, unpaid, *paid_time_pay = self._closed_totals(p)
        on = self.platform == p
        return Window(
            pay + self.spell_pay * on,
            paid.astype(np.float64) + self.spell_paid_hours * on,
            unpaid.astype(np.float64) + self.spell_unpaid_hours * on,
            paid_time_pay[0] + self.spell_paid_time_pay * on if paid_time_pay else None,
        )

    def leave(self, who: np.ndarray) -> None:
        """Taskers `who` exit to the inactive pool."""
        self.close_spells(who)
        self.platform[who] = NO_PLATFORM
        self.tenure[who] = 0
        self.approved_tasks[who] = 0.0
        self.qualification_left[who] = 0.0


class Window(NamedTuple):
    """Per tasker over the summary window (float64): pay, paid and unpaid hours, and pay for
    paid time (task pay and the top-ups that lift paid hours to the floor) where an all-time
    floor's top-ups also pay for unpaid time (None elsewhere: it is `pay`)."""

    pay: np.ndarray
    paid_hours: np.ndarray
    unpaid_hours: np.ndarray
    paid_time_pay: np.ndarray | None = None


def _any_nonzero(*values: np.ndarray) -> np.ndarray:
    """Per tasker: any of the spell totals is not zero (a record worth keeping)."""
    return np.logical_or.reduce([v != 0 for v in values])
