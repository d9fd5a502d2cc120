"""TaskerPool: the tasker population as one numpy array per state variable."""

from __future__ import annotations

from dataclasses import dataclass, fields

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
    # post-burn-in accumulators, one row per platform: [platform, tasker]; the current
    # spell on a platform is kept per tasker (cheap to add to weekly) until it closes
    window_pay: np.ndarray  # float64
    window_paid_hours: np.ndarray  # float32
    window_unpaid_hours: np.ndarray  # float32
    spell_pay: np.ndarray  # float64
    spell_paid_hours: np.ndarray  # float32
    spell_unpaid_hours: np.ndarray  # float32

    @property
    def size(self) -> int:
        return self.country.shape[0]

    @property
    def active(self) -> np.ndarray:
        return self.platform != NO_PLATFORM

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

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
        """Add the open spells of taskers `who` to their platform's window accumulators."""
        platform = self.platform[who]
        for p in np.unique(platform[platform != NO_PLATFORM]):
            sel = who[platform == p]
            self.window_pay[p][sel] += self.spell_pay[sel]
            self.window_paid_hours[p][sel] += self.spell_paid_hours[sel]
            self.window_unpaid_hours[p][sel] += self.spell_unpaid_hours[sel]
        self.spell_pay[who] = 0.0
        self.spell_paid_hours[who] = 0.0
        self.spell_unpaid_hours[who] = 0.0

    def window(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Post-burn-in pay, paid and unpaid hours per tasker on platform `p` (open spells too)."""
        on = self.platform == p
        return (
            self.window_pay[p] + self.spell_pay * on,
            self.window_paid_hours[p].astype(np.float64) + self.spell_paid_hours * on,
            self.window_unpaid_hours[p].astype(np.float64) + self.spell_unpaid_hours * on,
        )

    def leave(self, who: np.ndarray) -> None:
        """Taskers `who` exit to the inactive pool."""
        self.close_spells(who)
        self.platform[who] = NO_PLATFORM
        self.tenure[who] = 0
        self.approved_tasks[who] = 0.0
        self.qualification_left[who] = 0.0
