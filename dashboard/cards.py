"""Headline cards: the reform's value, the change with its unit, its interval and verdict.

A change within seed noise gets no arrow and no colour; colours follow the outcome's direction
(up is good for pay, down for the share under the minimum wage). Each card says that its
interval is seed noise only, or, with the ensemble, also gives the range over assumptions.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim import outcomes

from .labels import BEYOND_NOISE, compact, outcome, robustness, verdict

HEADLINE_CARDS = list(outcomes.CARDS)  # which outcomes, from the registry
SPOTLIGHT_COUNTRIES = ["KEN", "IND", "PHL", "NGA", "USA"]


def row_of(table: pd.DataFrame, name: str, scope: str = "overall", group: str = "all"):
    found = table[(table.scope == scope) & (table.group == group) & (table.outcome == name)]
    return None if found.empty else found.iloc[0]


def card(
    table: pd.DataFrame,
    outcome_name: str,
    scope: str = "overall",
    group: str = "all",
    label: str | None = None,
) -> None:
    r = row_of(table, outcome_name, scope, group)
    if r is None:
        return
    out = outcome(outcome_name)
    said = verdict(r.delta, r.delta_ci_low, r.delta_ci_high)
    clear = said == BEYOND_NOISE
    rel = ""
    if pd.notna(r.relative_change) and out.kind != "pct" and clear:
        rel = f" ({r.relative_change:+.1%})"
    unit = "" if out.kind == "pct" else f" {out.delta_unit}"
    colour = {"up": "normal", "down": "inverse"}.get(out.good, "off") if clear else "off"
    with st.container(border=True, height="stretch"):  # cards in a row share a height
        st.metric(
            label or out.title,
            out.fmt(r.reform_mean),
            out.fmt_delta(r.delta),
            delta_color=colour,
            delta_arrow="auto" if clear else "off",
            help=f"{out.label} ({out.unit}): the reform's mean over replicates; the change is "
            "the mean paired difference, reform minus baseline.",
        )
        low, high = (compact(x, out.kind, sign=True) for x in (r.delta_ci_low, r.delta_ci_high))
        lines = [
            f"95% interval {low} to {high}{unit}",
            f"baseline {out.fmt(r.baseline_mean)}{rel} · {said}",
        ]
        robust = robustness(r)
        if robust:
            lines.append(
                f"assumptions: {out.fmt_delta(r.ensemble_low)} to "
                f"{out.fmt_delta(r.ensemble_high)}, {robust}"
            )
        else:
            lines.append("interval from seed noise only, not from the model's assumptions")
        st.caption("  \n".join(lines))


def headline_cards(table: pd.DataFrame, names: dict[str, str], countries: list[str]) -> None:
    for start in range(0, len(HEADLINE_CARDS), 5):
        cols = st.columns(5)
        for col, name in zip(cols, HEADLINE_CARDS[start : start + 5], strict=False):
            with col:
                card(table, name)
    spot = [c for c in SPOTLIGHT_COUNTRIES if c in countries]
    if spot:
        st.markdown("**Mean effective hourly pay where taskers live** (USD/h, unpaid time counted)")
        cols = st.columns(len(spot))
        for col, iso in zip(cols, spot, strict=True):
            with col:
                card(table, "mean_effective_hourly_pay_usd", "country", iso, names.get(iso, iso))


def headline_tab(table: pd.DataFrame, names: dict[str, str], countries: list[str]) -> None:
    headline_cards(table, names, countries)
    with st.expander("All headline outcomes as a table"):
        t = table[table.scope == "overall"].copy()
        t.insert(0, "label", [outcome(o).label for o in t.outcome])
        t.insert(1, "unit", [outcome(o).unit for o in t.outcome])
        columns = ["label", "unit", "outcome", "baseline_mean", "reform_mean", "delta"]
        columns += ["delta_ci_low", "delta_ci_high", "relative_change"]
        columns += [c for c in ("ensemble_low", "ensemble_high", "share_same_sign") if c in t]
        st.dataframe(t[columns], hide_index=True, width="stretch")
