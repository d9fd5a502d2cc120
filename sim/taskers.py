"""TaskerPool: the tasker population as one numpy array per state variable."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def add_to_spells(
        self, pay: np.ndarray, paid_hours: np.ndarray, unpaid_hours: np.ndarray
    ) -> None:
        """A post-burn-in week's pay and hours (arrays over the pool; 0 when inactive)."""
        self.spell_pay += pay
        self.spell_paid_hours += paid_hours
        self.spell_unpaid_hours += unpaid_hours

    def close_spells(self, who: np.ndarray) -> None:
        """Keep the open spells of taskers `who` as closed-spell records; start new ones."""
        platform = self.platform[who]
        pay, paid = self.spell_pay[who], self.spell_paid_hours[who]
        unpaid = self.spell_unpaid_hours[who]
        keep = (platform != NO_PLATFORM) & _any_nonzero(pay, paid, unpaid)
        if keep.any():  # (before burn-in spells are empty: nothing to keep)
            self.add_to_windows(who[keep], platform[keep], pay[keep], paid[keep], unpaid[keep])
        self.spell_pay[who] = 0.0
        self.spell_paid_hours[who] = 0.0
        self.spell_unpaid_hours[who] = 0.0

    def add_to_windows(self, who: np.ndarray, platform: np.ndarray, pay: np.ndarray,
                       paid_hours: np.ndarray, unpaid_hours: np.ndarray) -> None:
        """Post-burn-in pay and hours of taskers `who` on `platform` (a record, summed later)."""
        platform = np.broadcast_to(platform, who.shape)
        self.closed.append((who, platform, pay, paid_hours, unpaid_hours))
        if sum(rec[0].size for rec in self.closed) > self.FOLD_AFTER_RECORDS_PER_TASKER * self.size:
            self._fold_records()

    def _closed_totals(self, p: int) -> list[np.ndarray]:
        """Closed spells' pay (float64) and paid and unpaid hours (float32) per tasker on
        platform `p`, summed in the order they closed, as running totals would be."""
        n = self.size
        totals = [np.zeros(n), np.zeros(n, np.float32), np.zeros(n, np.float32)]
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
            pay, paid, unpaid = self._closed_totals(int(p))
            who = np.flatnonzero(_any_nonzero(pay, paid, unpaid))
            folded.append((who, np.broadcast_to(p, who.shape), pay[who], paid[who], unpaid[who]))
        self.closed = folded

    def window(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Post-burn-in pay, paid and unpaid hours per tasker on platform `p` (open spells too)."""
        pay, paid, unpaid = self._closed_totals(p)
        on = self.platform == p
        return (
            pay + self.spell_pay * on,
            paid.astype(np.float64) + self.spell_paid_hours * on,
            unpaid.astype(np.float64) + self.spell_unpaid_hours * on,
        )

    def leave(self, who: np.ndarray) -> None:
        """Taskers `who` exit to the inactive pool."""
        self.close_spells(who)
        self.platform[who] = NO_PLATFORM
        self.tenure[who] = 0
        self.approved_tasks[who] = 0.0
        self.qualification_left[who] = 0.0


def _any_nonzero(*values: np.ndarray) -> np.ndarray:
    """Per tasker: any of the spell totals is not zero (a record worth keeping)."""
    return np.logical_or.reduce([v != 0 for v in values])
