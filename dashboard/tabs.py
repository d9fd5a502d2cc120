"""The dashboard's tabs after the headline: by country, distribution, time, money, method, share.

Each draws rows of the comparison with dashboard.charts and reads labels from dashboard.labels;
none computes an outcome.
"""

from __future__ import annotations

import dataclasses
import io
import json
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from sim.scenario import SCHEMA_VERSION, Scenario

from . import charts, money_charts, time_charts
from .brief import build_brief
from .labels import outcome
from .state import CURRENCIES, View, cli_command, to_query
from .tables import calibration_frame, parameter_differences, weekly_long


def show(fig, note: str | None = None) -> None:
    """A chart whose exported PNG says what it shows: reform, size and date in the subtitle
    (`note`, by default the main comparison's)."""
    main_note, stem = st.session_state.get("chart_note", ("", "chart"))
    charts.with_note(fig, main_note if note is None else note)
    config = {"toImageButtonOptions": {"filename": stem, "scale": 2}, "displaylogo": False}
    st.plotly_chart(fig, width="stretch", config=config)


def show_panels(figures) -> None:
    """A chart's panels in columns: side by side on a wide screen, one above the other on a
    phone (Streamlit stacks columns under 640 px)."""
    for column, fig in zip(st.columns([3, 2]), figures, strict=True):
        with column:
            show(fig)


def country_tab(table: pd.DataFrame, names: dict[str, str], view: View) -> None:
    currency = st.radio(
        "Currency",
        list(CURRENCIES),
        index=CURRENCIES.index(view.currency),
        format_func=lambda c: "PPP (international $)" if c == "PPP" else c,
        horizontal=True,
        key="currency",
        help="PPP divides by each country's price level "
        "(World Bank private-consumption PPP / market exchange rate).",
    )
    if currency != view.currency:
        st.session_state.view = dataclasses.replace(view, currency=currency)
        st.rerun()
    ppp = currency == "PPP"
    net = st.radio(
        "Pay", ["gross", "net"], horizontal=True, key="pay_basis",
        help="Net: what taskers keep after the contributions and income tax due on declared "
        "platform income (sim/data/contributions.csv; most taskers do not declare).",
    ) == "net"
    hourly = "mean_net_effective_hourly_pay_usd" if net else "mean_effective_hourly_pay_usd"
    income = "tasker_net_pay_usd" if net else "tasker_pay_usd"
    basis = "net " if net else ""
    show_panels(
        charts.country_panels(
            table,
            hourly.replace("_usd", "_ppp_usd") if ppp else hourly,
            names,
            ppp=ppp,
            mark_wages=True,
            title=f"Effective hourly {basis}pay ({'int$' if ppp else 'USD'}/h), "
            "unpaid time counted, with each country's minimum wage and floor",
        )
    )
    show_panels(
        charts.country_panels(
            table,
            income.replace("_usd", "_ppp_usd") if ppp else income,
            names,
            ppp=ppp,
            title=f"Income: weekly {basis}pay to taskers in each country "
            f"({'int$' if ppp else 'USD'})",
        )
    )
    show_panels(
        charts.country_panels(
            table,
            "share_under_local_minimum_wage" + ("_on_net_pay" if net else ""),
            names,
            title=f"Share of taskers earning under the local minimum wage ({basis or 'gross '}pay)",
        )
    )


def time_tab(comp, reform: Scenario) -> None:
    """Weekly paths, with the burn-in and the reform's start marked."""
    b, r = comp.baseline_runs, comp.reform_runs
    opts = dict(burn_in_weeks=reform.burn_in_weeks, start_week=reform.policy.start_week)
    left, right = st.columns(2)
    with left:
        show(
            time_charts.weekly_figure(
                b,
                r,
                [
                    ("labels_human", "human"),
                    ("labels_ai", "AI"),
                    ("fake_human_labels", "fake-human"),
                ],
                "Labels per week",
                unit="labels",
                **opts,
            )
        )
        show(
            time_charts.weekly_figure(
                b,
                r,
                [("active_taskers", "active taskers")],
                "Active taskers",
                unit="taskers",
                **opts,
            )
        )
    with right:
        show(
            time_charts.weekly_figure(
                b,
                r,
                [("median_effective_hourly_pay_usd", "median effective pay")],
                "Median effective hourly pay (USD/h)",
                unit="USD/h",
                **opts,
            )
        )
        show(
            time_charts.weekly_figure(
                b,
                r,
                [("automation_share", "automation share")],
                "Automation share",
                pct=True,
                **opts,
            )
        )
    st.caption(
        f"Lines: mean over {len(b)} replicates; bands: range over replicates. Grey: baseline; "
        "blue: reform. Labels chart: dotted lines are the baseline, solid lines the reform."
    )


def method_tab(comp, view: View, baseline: Scenario, reform: Scenario) -> None:
    st.markdown(
        """
**The model in brief.** An agent-based model of the market for AI training data labour.
A few **labs** buy human feedback (preference comparisons, classification, image annotation,
data collection, expert evaluation) through **platforms** (open marketplace, crowd platform,
managed vendor, expert network) from a population of **taskers** in twelve countries. Each
week: AI gets cheaper and better; labs set automation shares, piece rates and volumes per
platform; taskers join, leave or switch platforms by comparing expected pay with their
reservation wage; platforms allocate work by reputation; taskers work, search and qualify
(unpaid), may pass LLM output off as their own, are paid, rejected or topped up to a pay
floor; then everyone learns. Outcomes are averaged over the weeks after burn-in.
Country wages, PPP and exchange rates come from `sim/data/countries.csv` (sources in
`sim/data/SOURCES.md`); the full description is `docs/ODD.md`.

**Uncertainty.** Baseline and reform run with the same seeds (common random numbers); a
change is the mean of the paired differences and its 95% interval is a t-interval over
replicates. It covers simulation noise only, not uncertainty in the parameters.
"""
    )
    st.markdown("#### Calibration of the baseline")
    st.caption(
        "The baseline runs of this view against the published targets (`datalabour "
        "calibrate`). The targets were set for 20,000 taskers over 104 weeks; a smaller view "
        "may miss some."
    )
    st.dataframe(calibration_frame(comp.baseline_runs), hide_index=True, width="stretch")
    st.markdown("#### Parameters that differ from their cited default")
    diffs = parameter_differences(baseline, reform)
    if diffs.empty:
        st.info("None: both runs use scenarios/baseline.yaml as it is.")
    else:
        st.dataframe(diffs, hide_index=True, width="stretch")


def share_tab(comp, view: View, baseline: Scenario, reform: Scenario) -> None:
    query = urlencode(to_query(view))
    try:
        base_url = st.context.url.split("?")[0]
    except Exception:  # noqa: BLE001 - no browser context (tests)
        base_url = ""
    st.markdown("**Link to this view** (opens the same scenario and the same numbers)")
    st.code(f"{base_url or 'http://127.0.0.1:8501/'}?{query}", language=None, wrap_lines=True)
    st.markdown("**Reproduce from the command line** (from the repository root)")
    command = cli_command(view, baseline)
    st.code(command, language="bash", wrap_lines=True)
    stem = f"{reform.name}-vs-{baseline.name}-{view.replicates}rep"
    meta = metadata(comp, view)
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    c1.download_button(
        "Brief (HTML)",
        lambda: build_brief(comp, command, preset=view.preset).encode(),
        f"{stem}-brief.html",
        "text/html",
        on_click="ignore",
        width="stretch",
        help="A self-contained page to hand on: reform, headline with intervals, charts, "
        "sources and this command. Prints to PDF in one column.",
    )
    c2.download_button(
        "Results CSV",
        lambda: results_csv(comp.table, meta),
        f"{stem}.csv",
        "text/csv",
        on_click="ignore",
        width="stretch",
    )
    c3.download_button(
        "Results Parquet",
        lambda: _parquet(with_units(comp.table), meta),
        f"{stem}.parquet",
        "application/vnd.apache.parquet",
        on_click="ignore",
        width="stretch",
    )
    c4.download_button(
        "Weekly series Parquet",
        lambda: _parquet(weekly_long(comp), meta),
        f"{stem}-weekly.parquet",
        "application/vnd.apache.parquet",
        on_click="ignore",
        width="stretch",
    )
    c5.download_button(
        "Reform YAML",
        reform.to_yaml(),
        f"{reform.name}-reform.yaml",
        "application/x-yaml",
        on_click="ignore",
        width="stretch",
    )
    c6.download_button(
        "CLI command",
        command + "\n",
        f"{stem}-reproduce.sh",
        "text/x-shellscript",
        on_click="ignore",
        width="stretch",
    )
    st.caption(
        f"Scenario schema version {SCHEMA_VERSION} · baseline digest {baseline.digest()} · "
        f"reform digest {reform.digest()} · seeds {comp.seeds}"
    )


def metadata(comp, view: View) -> dict[str, str]:
    """What a downloaded table needs to be read alone: the scenarios, seeds, window."""
    return {
        "reform": comp.reform.canonical_json(),
        "baseline": comp.baseline.canonical_json(),
        "seeds": json.dumps(comp.seeds),
        "window": view.window,
        "schema_version": str(SCHEMA_VERSION),
        "units": "see the unit column; shares are 0-1, changes in shares are 0-1 (x100 = pp)",
    }


def with_units(table: pd.DataFrame) -> pd.DataFrame:
    frame = table.copy()
    frame.insert(3, "unit", [outcome(o).unit for o in frame.outcome])
    return frame


def results_csv(table: pd.DataFrame, meta: dict[str, str]) -> bytes:
    """The comparison table with a unit column, the scenarios in `#` comment lines on top."""
    head = "".join(f"# {k}: {v}\n" for k, v in meta.items())
    return (head + with_units(table).to_csv(index=False)).encode()


def _parquet(frame: pd.DataFrame, meta: dict[str, str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), **{f"datalabour.{k}": v for k, v in meta.items()}}
    )
    buf = io.BytesIO()
    pq.write_table(arrow, buf)
    return buf.getvalue()


def distribution_tab(table: pd.DataFrame, names: dict[str, str]) -> None:
    show(charts.distribution_figure(table, names))
    st.caption(
        "Bars: 10th to 90th percentile of taskers' effective hourly pay over the summary "
        "window (pay / paid and unpaid hours), mean over replicates; circles: median; red "
        "ticks: local minimum wage. Grey: baseline; blue: reform."
    )


def money_tab(table: pd.DataFrame, names: dict[str, str]) -> None:
    left, right = st.columns([3, 2])
    with left:
        show(money_charts.money_flow_figure(table))
        show(money_charts.money_change_figure(table))
    with right:
        show(money_charts.money_sankey(table, names))
