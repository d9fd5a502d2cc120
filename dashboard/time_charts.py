"""Weekly paths of baseline and reform runs: mean over replicates and their range."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .charts import BASELINE_COLOUR, REFORM_COLOUR, _layout, rgba


def _stack(runs, column: str) -> np.ndarray:
    return np.vstack([r.weekly[column].to_numpy(dtype=float) for r in runs])


SERIES_COLOURS = ["#2f9e44", "#7048e8", "#e8590c", "#1098ad"]


def weekly_figure(
    baseline_runs,
    reform_runs,
    series: list[tuple[str, str]],
    title: str,
    *,
    unit: str = "",
    pct: bool = False,
    burn_in_weeks: int = 0,
    start_week: int = 0,
) -> go.Figure:
    """Weekly series: mean over replicates (line) and the range over replicates (band).

    `series` lists (weekly column, label). One series: baseline grey, reform blue. Several:
    a colour per series, baseline dotted and reform solid.
    """
    fig = go.Figure()
    for arm, runs in (("baseline", baseline_runs), ("reform", reform_runs)):
        weeks = runs[0].weekly["week"].to_numpy()
        for i, (column, label) in enumerate(series):
            if len(series) == 1:
                colour = BASELINE_COLOUR if arm == "baseline" else REFORM_COLOUR
                dash, name = "solid", arm
            else:
                colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
                dash, name = ("dot" if arm == "baseline" else "solid"), f"{label}, {arm}"
            values = _stack(runs, column)
            lo, hi, mean = values.min(axis=0), values.max(axis=0), values.mean(axis=0)
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([weeks, weeks[::-1]]),
                    y=np.concatenate([hi, lo[::-1]]),
                    fill="toself",
                    fillcolor=rgba(colour, 0.18),
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                )
            )
            number = ".1%" if pct else ",.2f"
            fig.add_trace(
                go.Scatter(
                    x=weeks,
                    y=mean,
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    line=dict(color=colour, width=2.2, dash=dash),
                    hovertemplate=f"week %{{x}}: %{{y:{number}}}<extra>{name}</extra>",
                )
            )
    if burn_in_weeks:
        fig.add_vrect(
            x0=0,
            x1=burn_in_weeks,
            fillcolor="#f1f3f5",
            line_width=0,
            layer="below",
            annotation_text="burn-in",
            annotation_position="bottom left",
        )
    if start_week:
        fig.add_vline(
            x=start_week,
            line=dict(color="#444", dash="dot", width=1),
            annotation_text="policy starts",
            annotation_position="bottom right",
        )
    fig.update_xaxes(title_text="week")
    fig.update_yaxes(title_text=unit, tickformat=".0%" if pct else None, rangemode="tozero")
    return _layout(fig, title, height=400)
