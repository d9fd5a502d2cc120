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
    # post-burn-in accumulators, one row per platform: [platform, tasker]
    window_pay: np.ndarray  # float64
    window_paid_hours: np.ndarray  # float32
    window_unpaid_hours: np.ndarray  # float32

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

    def leave(self, who: np.ndarray) -> None:
        """Taskers `who` exit to the inactive pool."""
        self.platform[who] = NO_PLATFORM
        self.tenure[who] = 0
        self.approved_tasks[who] = 0.0
        self.qualification_left[who] = 0.0
