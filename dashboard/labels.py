"""How outcomes read on cards, charts and in the brief: label, unit, direction, numbers.

`outcome(name)` says how one outcome of the registry `sim.outcomes` is shown; `compact` and
`compact_delta` write values in full but short (1.27M, $4.10, +2.3 pp); `verdict` says in
words whether a paired change is beyond seed noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import outcomes
from sim.compare import (  # noqa: F401  (the verdicts live in the library)
    BEYOND_NOISE,
    NO_CHANGE,
    ROBUST,
    ROBUST_SHARE,
    WITHIN_NOISE,
    seed_verdict,
)
from sim.compare import robustness as robustness_of


def compact(value: float | None, kind: str = "count", sign: bool = False) -> str:
    """A value in full but short: 1.27M, 27.9k, $4.10, $1.27M, 12.3% (points with sign)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    plus = "+" if sign and value > 0 else ""
    minus = "-" if value < 0 else ""
    if kind == "pct":
        return f"{value * 100:+.1f} pp" if sign else f"{value:.1%}"
    size = abs(value)
    dollar = "$" if kind in ("usd", "usd4") and not sign else ""
    if kind == "usd4" and size < 10:
        body = f"{size:,.4f}"
    elif size >= 1e9:
        body = f"{size / 1e9:.3g}B"
    elif size >= 1e6:
        body = f"{size / 1e6:.3g}M"
    elif size >= 1e4:
        body = f"{size / 1e3:.3g}k"
    elif kind in ("usd", "usd4") and size < 1000:
        body = f"{size:,.2f}"
    else:
        body = f"{size:,.0f}"
    return f"{plus}{minus}{dollar}{body}"


@dataclass(frozen=True)
class Outcome:
    """How to show one outcome of `sim.outcomes`."""

    label: str
    unit: str
    kind: str  # "usd", "usd4", "pct", "count"
    good: str  # "up", "down" or "" (no judgement)
    short: str = ""  # a card's title
    description: str = ""

    @property
    def title(self) -> str:
        return self.short or self.label

    @property
    def delta_unit(self) -> str:
        """The unit of a change: percentage points for shares, else the outcome's own unit."""
        if self.kind == "pct":
            return "pp"
        return self.unit.split(",")[0]

    def fmt(self, value: float) -> str:
        return compact(value, self.kind)

    def fmt_delta(self, value: float) -> str:
        """A change with its unit: +0.42 USD/h, +2.3 pp, -1.2k labels/week."""
        text = compact(value, self.kind, sign=True)
        return text if self.kind == "pct" else f"{text} {self.delta_unit}".strip()


GOOD = {outcomes.HIGHER: "up", outcomes.LOWER: "down", outcomes.NEUTRAL: ""}


def outcome(name: str) -> Outcome:
    """How to show outcome `name`: label, unit, direction and description from the outcome
    registry (`sim.outcomes`)."""
    o = outcomes.get(name)
    return Outcome(o.label, o.unit, o.kind, GOOD[o.direction], o.short, o.description)


def verdict(delta: float, low: float, high: float) -> str:
    """Whether a paired change is beyond the seed noise its 95% interval measures."""
    return seed_verdict(delta, low, high)


SEED_NOISE_ONLY = (
    "95% interval over paired replicates: seed noise only, not uncertainty in the model's "
    "assumptions"
)

def robustness(r) -> str | None:
    """The ensemble's verdict on a row, or None without an ensemble."""
    share = r.get("share_same_sign") if hasattr(r, "get") else None
    said = robustness_of(None if share is None or pd.isna(share) else float(share))
    if said is None:
        return None
    if said == ROBUST:
        return f"robust to assumptions ({share:.0%} of draws agree in sign)"
    return f"depends on assumptions (only {share:.0%} of draws agree in sign)"
