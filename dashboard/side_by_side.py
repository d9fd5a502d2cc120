"""Several reforms side by side: up to four presets against the same baseline and seeds.

Each reform is compared with the one baseline under common random numbers (the same
replicate seeds), so the baseline runs are shared and the reforms' changes are comparable.
A table ranks them on a chosen headline outcome; one chart per outcome shows each change with
its interval.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sim import outcomes
from sim.compare import Comparison

from .charts import REFORM_COLOUR, _layout, lines_of, wrap
from .control import (
    JOBS,
    LIMIT_SECONDS,
    describe_time,
    jobs_of,
    run_jobs,
    session_id,
    start_button,
)
from .labels import BEYOND_NOISE, compact, outcome, verdict
from .runs import ComparisonJob, Computed, estimate_seconds
from .state import MAX_SIDE_BY_SIDE, View, build, presets
from .tabs import show

SIDE_OUTCOMES = list(outcomes.SIDE_BY_SIDE)  # which outcomes, from the registry


def side_view(view: View, preset: str) -> View:
    """The view of one preset with the analyst's run settings (no lever overrides)."""
    return dataclasses.replace(view, preset=preset, reform={}, side=[])


def side_table(comparisons: dict[str, Comparison], rank_by: str) -> pd.DataFrame:
    """One row per reform: each headline change with its interval, ranked on `rank_by`."""
    records = []
    for name, comp in comparisons.items():
        t = comp.table[(comp.table.scope == "overall") & (comp.table.group == "all")]
        t = t.set_index("outcome")
        row: dict[str, object] = {"reform": name}
        for key in SIDE_OUTCOMES:
            r, out = t.loc[key], outcome(key)
            star = "*" if verdict(r.delta, r.delta_ci_low, r.delta_ci_high) == BEYOND_NOISE else ""
            low, mid, high = (
                compact(x, out.kind, sign=True) for x in (r.delta_ci_low, r.delta, r.delta_ci_high)
            )
            row[f"{out.label} ({out.delta_unit})"] = f"{mid}{star} [{low}, {high}]"
        row["_rank"] = t.loc[rank_by].delta
        records.append(row)
    frame = pd.DataFrame.from_records(records)
    good = outcome(rank_by).good
    frame = frame.sort_values("_rank", ascending=good == "down").drop(columns="_rank")
    frame["reform"] = [f"{i}. {name}" for i, name in enumerate(frame.reform, start=1)]
    return frame


SIDE_TITLE_CHARS = 30  # a panel is a third of the page: about 300 px wide at 1400 px


def side_figures(comparisons: dict[str, Comparison], order: list[str]) -> list[go.Figure]:
    """Each headline change (dot) with its 95% interval over seeds, one figure per outcome,
    reforms in `order` from the top. Equal title blocks, so a row of panels lines up."""
    titles = {
        k: f"{outcome(k).label}, change ({outcome(k).delta_unit})"
        for k in SIDE_OUTCOMES
    }
    lines = max(lines_of(wrap(t, SIDE_TITLE_CHARS)) for t in titles.values())
    figures = []
    for key in SIDE_OUTCOMES:
        out = outcome(key)
        scale = 100.0 if out.kind == "pct" else 1.0
        rows = [
            comparisons[name]
            .table.set_index(["scope", "group", "outcome"])
            .loc[("overall", "all", key)]
            for name in order
        ]
        fig = go.Figure(
            go.Scatter(
                x=[r.delta * scale for r in rows],
                y=order,
                mode="markers",
                marker=dict(color=REFORM_COLOUR, size=9),
                error_x=dict(
                    type="data",
                    array=[(r.delta_ci_high - r.delta) * scale for r in rows],
                    arrayminus=[(r.delta - r.delta_ci_low) * scale for r in rows],
                    color=REFORM_COLOUR,
                ),
                customdata=[out.fmt_delta(r.delta) for r in rows],
                hovertemplate="%{y}: %{customdata}<extra></extra>",
                showlegend=False,
            )
        )
        fig.add_vline(x=0, line=dict(color="#444", width=1))
        fig.update_yaxes(autorange="reversed")
        figures.append(
            _layout(
                fig,
                titles[key],
                height=170 + 36 * len(order),
                legend=False,
                chars=SIDE_TITLE_CHARS,
                title_lines=lines,
            )
        )
    return figures


def side_by_side_tab(view: View) -> None:
    ss = st.session_state
    st.markdown(
        "Pick up to four presets. Each is run against the **same baseline with the same seeds** "
        "(common random numbers) and this view's run settings; levers moved in the sidebar "
        "apply to the main comparison only."
    )
    choices = [p for p in presets() if p != "baseline"]
    chosen = st.multiselect(
        "Reforms side by side",
        choices,
        default=[p for p in view.side if p in choices],
        max_selections=MAX_SIDE_BY_SIDE,
        key="side",
    )
    if chosen != view.side:
        ss.view = dataclasses.replace(view, side=list(chosen))
        st.rerun()
    if not chosen:
        return
    rank_by = st.selectbox(
        "Rank by", SIDE_OUTCOMES, format_func=lambda k: outcome(k).label, key="rank_by"
    )
    views = {p: side_view(view, p) for p in chosen}
    built = {p: build(v) for p, v in views.items()}
    key = "|".join(v.key() for v in views.values())
    computed: dict[str, Computed] | None = ss.get("side_computed", {}).get(key)
    if computed is None:
        estimate = estimate_seconds(
            [j for b, r in built.values() for j in jobs_of(b, r, view.replicates)]
        )
        group = View(preset=",".join(chosen), replicates=view.replicates, shared=view.shared)
        if st.button(f"Compare side by side ({describe_time(estimate)})", type="primary"):
            ss.go_key = group.key()
        if ss.get("go_key") != group.key():
            return
        if estimate > LIMIT_SECONDS and ss.get("confirmed_key") != group.key():
            start_button(f"These comparisons take {describe_time(estimate)} here.", group, estimate)
            return
        sid = session_id()
        jobs = [ComparisonJob(v.key(), *built[p], view.replicates, sid) for p, v in views.items()]
        JOBS.setdefault(sid, {}).update({j.key: j for j in jobs})
        done = run_jobs(jobs)
        if done is None:
            return
        computed = dict(zip(chosen, done, strict=True))
        ss.setdefault("side_computed", {})[key] = computed
    comparisons = {p: c.comparison for p, c in computed.items()}
    table = side_table(comparisons, rank_by)
    st.table(table.set_index("reform"))
    st.caption(
        "Changes are means of paired differences with their 95% intervals over seeds "
        "(seed noise only); * the interval excludes zero. Rank 1 is the best on the chosen "
        "outcome."
    )
    order = [name.split(". ", 1)[1] for name in table.reform]
    base = next(iter(built.values()))[0]
    st.markdown("**Change against the same baseline, reform minus baseline**")
    note = (
        f"each vs {base.name} · {dt.date.today()} · {base.population.taskers:,} taskers, "
        f"{base.weeks} weeks, {view.replicates} replicates"
    )
    figures = side_figures(comparisons, order)
    for start in range(0, len(figures), 3):  # three a row; one a row on a phone
        for column, fig in zip(st.columns(3), figures[start : start + 3], strict=False):
            with column:
                show(fig, note)
