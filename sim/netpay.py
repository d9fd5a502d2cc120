"""Net pay: what a tasker keeps of gross platform pay after declaring it (docs/ODD.md 7.12).

Each country's rules for small self-employed platform income (contributions, fixed monthly
minimums, thresholds, income tax, withholding at source) and the share of taskers who declare
come from `sim/data/contributions.csv`. Net pay is accounting only: taskers decide on gross
pay, so no gross outcome depends on what is declared.

A week's pay is treated as a rate: annual income = 52 x the week's gross pay; thresholds and
brackets apply to it, and the annual amount due is charged by the week (1/52). Fixed monthly
minimums are charged for every week a declared tasker is on a platform, worked or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.countries import load_countries
from sim.metrics import SAMPLE, pay_distribution, percentiles

Market = Any  # the model (`sim.model`), read for its week's accounts

DATA = Path(__file__).parent / "data" / "contributions.csv"
WEEKS_PER_YEAR = 52.0
MONTHS_PER_YEAR = 12.0

# weekly flows per country (columns of by_country.parquet, means in summary.json by_country)
GROUP = ["tasker_net_pay_usd", "contributions_and_taxes_usd", "platform_paid_contributions_usd"]
# weekly outcomes for the whole market (columns of weekly.parquet)
WEEKLY = [
    "tasker_net_pay_usd", "tasker_net_pay_ppp_usd", "contributions_and_taxes_usd",
    "platform_paid_contributions_usd", "net_income_per_active_tasker_usd", "declared_share",
    "median_net_effective_hourly_pay_usd", "share_under_local_minimum_wage_on_net_pay",
    "share_keeping_less_than_nothing",
]
# gross pay-distribution key -> its net twin (per tasker, over the summary window)
NET_OF = {
    "median_effective_hourly_pay_usd": "median_net_effective_hourly_pay_usd",
    "mean_effective_hourly_pay_usd": "mean_net_effective_hourly_pay_usd",
    "p10_effective_hourly_pay_usd": "p10_net_effective_hourly_pay_usd",
    "p90_effective_hourly_pay_usd": "p90_net_effective_hourly_pay_usd",
    "share_under_local_minimum_wage": "share_under_local_minimum_wage_on_net_pay",
}
# summary keys computed per tasker over the window (they replace the weekly means)
WINDOW = [*NET_OF.values(), "share_keeping_less_than_nothing",
          "median_net_effective_hourly_pay_ppp_usd"]


def parse_brackets(text: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """`"0:0;14600:0.10"` -> lower bounds and marginal rates (bounds rising from 0)."""
    try:
        pairs = [item.split(":") for item in str(text).split(";")]
        lower = np.array([float(a) for a, _ in pairs])
        rates = np.array([float(b) for _, b in pairs])
    except ValueError as exc:
        raise ValueError(f"{where}: {text!r}; expected 'lower:rate;lower:rate...'") from exc
    if lower[0] != 0 or np.any(np.diff(lower) <= 0) or np.any((rates < 0) | (rates > 1)):
        raise ValueError(f"{where}: {text!r}; bounds must rise from 0, rates lie in [0, 1]")
    return lower, rates


@cache
def load_regimes(path: str | None = None) -> pd.DataFrame:
    """The contribution table indexed by ISO3 (brackets checked)."""
    df = pd.read_csv(path or DATA).set_index("iso3")
    for iso, row in df.iterrows():
        for column in ("contribution_brackets", "income_tax_brackets"):
            parse_brackets(row[column], f"contributions.csv {iso} {column}")
        low, mid, high = (row[f"declaration_share{s}"] for s in ("_low", "", "_high"))
        if not 0 <= low <= mid <= high <= 1:
            raise ValueError(f"contributions.csv {iso}: declaration shares {low}, {mid}, {high}")
    return df


def bracket_tax(income: np.ndarray, lower: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Tax on `income` under marginal `rates` starting at `lower` (same unit)."""
    upper = np.append(lower[1:], np.inf)
    tax = np.zeros_like(income)
    for low, high, rate in zip(lower, upper, rates, strict=True):
        if rate > 0:
            tax += rate * np.clip(income - low, 0.0, high - low)
    return tax


@dataclass(frozen=True)
class Regime:
    """One country's rules for declared platform income, in USD."""

    contribution_base_share: float
    contribution_exempt_below_usd_per_year: float
    contribution_brackets: tuple[np.ndarray, np.ndarray]  # USD a year
    contribution_minimum_usd_per_week: float
    income_tax_base_share: float
    income_tax_exempt_below_usd_per_year: float
    income_tax_brackets: tuple[np.ndarray, np.ndarray]  # USD a year
    withholding_share: float

    @classmethod
    def from_row(cls, row: pd.Series, fx_lcu_per_usd: float) -> Regime:
        def brackets(column: str) -> tuple[np.ndarray, np.ndarray]:
            lower, rates = parse_brackets(row[column], column)
            return lower / fx_lcu_per_usd, rates

        monthly = row["contribution_minimum_local_per_month"] / fx_lcu_per_usd
        return cls(
            contribution_base_share=float(row["contribution_base_share"]),
            contribution_exempt_below_usd_per_year=float(
                row["contribution_exempt_below_local_per_year"] / fx_lcu_per_usd
            ),
            contribution_brackets=brackets("contribution_brackets"),
            contribution_minimum_usd_per_week=float(monthly * MONTHS_PER_YEAR / WEEKS_PER_YEAR),
            income_tax_base_share=float(row["income_tax_base_share"]),
            income_tax_exempt_below_usd_per_year=float(
                row["income_tax_exempt_below_local_per_year"] / fx_lcu_per_usd
            ),
            income_tax_brackets=brackets("income_tax_brackets"),
            withholding_share=float(row["withholding_share"]),
        )

    def weekly_dues(self, gross: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Social contributions and income tax due on a week's gross pay (USD, if declared)."""
        annual = gross * WEEKS_PER_YEAR
        base = self.contribution_base_share * annual
        owed = base >= self.contribution_exempt_below_usd_per_year
        contributions = bracket_tax(base, *self.contribution_brackets) * owed / WEEKS_PER_YEAR
        np.maximum(contributions, self.contribution_minimum_usd_per_week, out=contributions)
        base = self.income_tax_base_share * annual
        owed = base >= self.income_tax_exempt_below_usd_per_year
        tax = bracket_tax(base, *self.income_tax_brackets) * owed / WEEKS_PER_YEAR
        return contributions, tax


class NetPay:
    """Who declares (drawn once per tasker), the week's dues and each tasker's window total."""

    def __init__(self, model: Market) -> None:
        table = load_regimes().loc[model.iso3]
        fx = load_countries().loc[model.iso3, "fx_lcu_per_usd"].to_numpy(dtype=float)
        self.regimes = [Regime.from_row(row, f) for (_, row), f in zip(table.iterrows(), fx,
                                                                      strict=True)]
        self.country_share = table["declaration_share"].to_numpy(dtype=float)
        pool = model.pool
        self.bounds = np.searchsorted(pool.country, np.arange(len(model.iso3) + 1))
        # a child generator: the model's own stream is not advanced, so gross draws are unchanged
        (child,) = model.rng.spawn(1)
        self.propensity = child.random(pool.size, dtype=np.float32)
        self.window_due = np.zeros(pool.size)  # tasker-borne dues after burn-in, USD

    def declared(self, model: Market) -> np.ndarray:
        """Which taskers declare their platform income this week."""
        override = model.terms.contributions
        share = self.country_share
        if override is not None and override.declaration_share is not None:
            share = np.full_like(share, override.declaration_share)
        return self.propensity < share[model.pool.country].astype(np.float32)

    def settle(self, model: Market) -> None:
        """The week's dues per tasker and per country; each tasker's net pay."""
        policy = model.terms.contributions
        exempt = policy.exempt_below_usd_per_month if policy else 0.0
        platform_share = policy.platform_paid_share if policy else 0.0
        # taskers on a platform this week, in pool order (so grouped by country)
        self.who = who = np.flatnonzero(model.week_platform >= 0)
        declared = self.declared(model)[who]
        bounds = np.searchsorted(model.pool.country[who], np.arange(len(self.regimes) + 1))
        n_c = len(self.regimes)
        self.tasker_due_by_country = np.zeros(n_c)
        self.platform_due_by_country = np.zeros(n_c)
        self.gross_by_country = np.zeros(n_c)
        self.declared_active = int(declared.sum())
        self.active = who.size
        gross_all = model.week_pay[who].astype(float)
        tasker_due = np.zeros(who.size)
        for c, regime in enumerate(self.regimes):
            rows = slice(bounds[c], bounds[c + 1])
            gross = gross_all[rows]
            withheld = regime.withholding_share * gross  # whether declared or not
            mine = np.flatnonzero(declared[rows])
            contributions, tax = regime.weekly_dues(gross[mine])
            if exempt > 0:  # small declared platform income owes nothing
                small = gross[mine] * WEEKS_PER_YEAR / MONTHS_PER_YEAR < exempt
                contributions[small] = 0.0
                tax[small] = 0.0
            due = withheld
            due[mine] = (1.0 - platform_share) * contributions + np.maximum(tax, withheld[mine])
            tasker_due[rows] = due
            self.tasker_due_by_country[c] = due.sum()
            self.platform_due_by_country[c] = platform_share * contributions.sum()
            self.gross_by_country[c] = gross.sum()
        self.week_net = gross_all - tasker_due  # of taskers `who`
        if model.week >= model.params.burn_in_weeks:
            self.window_due[who] += tasker_due

    # ---- outcomes --------------------------------------------------------------------------
    def weekly_outcomes(self, model: Market, gross_pay_usd: float) -> dict[str, float]:
        """This week's net outcomes for the whole market (`gross_pay_usd`: as billed)."""
        tasker_due = float(self.tasker_due_by_country.sum())
        platform_due = float(self.platform_due_by_country.sum())
        net = gross_pay_usd - tasker_due
        net_by_country = self.gross_by_country - self.tasker_due_by_country
        out = {
            "tasker_net_pay_usd": net,
            "tasker_net_pay_ppp_usd": float((net_by_country / model.price_level).sum()),
            "contributions_and_taxes_usd": tasker_due + platform_due,
            "platform_paid_contributions_usd": platform_due,
            "net_income_per_active_tasker_usd": net / self.active if self.active else 0.0,
            "declared_share": self.declared_active / self.active if self.active else 0.0,
        }
        who = self.who  # inactive taskers have no paid hours: left out
        out.update(self._distribution(self.week_net, model.week_paid_hours[who],
                                      model.week_unpaid_hours[who], model.tasker_min_wage[who]))
        return {k: out[k] for k in WEEKLY}

    def country_outcomes(self) -> dict[str, np.ndarray]:
        """This week's net flows per country."""
        return {
            "tasker_net_pay_usd": self.gross_by_country - self.tasker_due_by_country,
            "contributions_and_taxes_usd": self.tasker_due_by_country
            + self.platform_due_by_country,
            "platform_paid_contributions_usd": self.platform_due_by_country.copy(),
        }

    @staticmethod
    def _distribution(net: np.ndarray, paid: np.ndarray, unpaid: np.ndarray,
                      min_wage: np.ndarray, price_level: np.ndarray | None = None
                      ) -> dict[str, float]:
        """Net twins of the gross pay distribution; the share keeping less than nothing; the
        median in PPP dollars when `price_level` (per tasker) is given."""
        gross_keys = pay_distribution(net, paid, unpaid, min_wage)
        out = {NET_OF[k]: v for k, v in gross_keys.items() if k in NET_OF}
        worked = paid > 0
        n = int(np.count_nonzero(worked))
        out["share_keeping_less_than_nothing"] = (
            np.count_nonzero((net < 0) & worked) / n if n else 0.0
        )
        if price_level is not None:
            who = np.flatnonzero(worked)
            who = who[:: max(1, who.size // SAMPLE)]
            hourly = net[who] / (paid[who] + unpaid[who]) / price_level[who]
            out["median_net_effective_hourly_pay_ppp_usd"] = (
                float(percentiles(hourly, [50])[0]) if n else 0.0
            )
        return out

    def summarise(self, model: Market, summary: dict[str, Any], weekly: pd.DataFrame,
                  by_country: pd.DataFrame, gross: np.ndarray, paid: np.ndarray,
                  unpaid: np.ndarray) -> None:
        """Add the net outcomes to `summary`: flows as means of the weeks after burn-in, pay
        distributions per tasker over the window (window gross minus window dues)."""
        burn = model.params.burn_in_weeks
        overall = summary["overall"]
        means = weekly.loc[weekly["week"] >= burn, WEEKLY].mean()
        overall.update({k: float(v) for k, v in means.items()})
        net = gross - self.window_due
        min_wage = model.tasker_min_wage
        plr = model.price_level[model.pool.country]
        overall.update(self._distribution(net, paid, unpaid, min_wage, plr))
        means = by_country[by_country["week"] >= burn].groupby("iso3", sort=False)[GROUP].mean()
        for c, (iso, row) in enumerate(summary["by_country"].items()):
            rows = slice(self.bounds[c], self.bounds[c + 1])
            row.update({k: float(means.at[iso, k]) for k in GROUP})
            row.update(self._distribution(net[rows], paid[rows], unpaid[rows], min_wage[rows],
                                          plr[rows]))
            active = row["active_taskers"]
            row["net_income_per_active_tasker_usd"] = (
                row["tasker_net_pay_usd"] / active if active > 0 else 0.0
            )
            # a country's price level is one number: its PPP dollars are USD / plr exactly
            price_level = float(model.price_level[c])
            for key in ("mean_net_effective_hourly_pay_usd", "tasker_net_pay_usd"):
                row[key.replace("_usd", "_ppp_usd")] = row[key] / price_level
