"""The country table: minimum wages, PPP factors and exchange rates, each with its source.

Derived figures (price-level ratio, minimum wage in USD per hour) are computed here, never
typed into the data file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data" / "countries.csv"


@cache
def load_countries(path: str | None = None) -> pd.DataFrame:
    """Country table indexed by ISO3, with `plr` and `min_wage_usd_per_hour` derived."""
    df = pd.read_csv(path or DATA).set_index("iso3")
    hours = {
        "hour": 1.0,
        "day": None,
        "month": None,
    }
    per_hour = []
    for _, row in df.iterrows():
        period = row["min_wage_period"]
        if period not in hours:
            raise ValueError(f"countries.csv: min_wage_period {period!r}; expected hour|day|month")
        if period == "hour":
            h = 1.0
        elif period == "day":
            h = float(row["legal_daily_hours"])
        else:
            h = float(row["legal_weekly_hours"]) * 52.0 / 12.0
        per_hour.append(float(row["min_wage_local"]) / h)
    df["min_wage_local_per_hour"] = per_hour
    df["min_wage_usd_per_hour"] = df["min_wage_local_per_hour"] / df["fx_lcu_per_usd"]
    df["plr"] = df["ppp_lcu_per_intl_dollar"] / df["fx_lcu_per_usd"]
    return df


def country_mask(iso3: list[str], spec: list[str] | str) -> np.ndarray:
    """True for each of the scenario's countries `iso3` that `spec` ("all" or a list) names."""
    if spec == "all":
        return np.ones(len(iso3), dtype=bool)
    return np.isin(np.array(iso3), spec)
