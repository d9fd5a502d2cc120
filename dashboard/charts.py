"""Pure plotly figure builders: a comparison's table or runs in, a figure out.

No figure computes an outcome of the model. They draw the rows of
`sim.compare.Comparison.table` (means, paired deltas and their 95% intervals) and the
weekly series of each replicate run; the only arithmetic is presentation (sorting,
currency conversion with the country's price level from the summary, cents of a dollar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim import outcomes

BASELINE_COLOUR = "#8c8c8c"
REFORM_COLOUR = "#0f6cbd"
DELTA_COLOUR = "#0f6cbd"
MIN_WAGE_COLOUR = "#b42318"
FLOOR_COLOUR = "#e8a33d"
FLOW_COLOURS = {"taskers": "#2f9e44", "platforms": "#e8a33d", "AI": "#7048e8"}
FONT = dict(family="Inter, system-ui, -apple-system, Segoe UI, sans-serif", size=13)


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

    def fmt(self, value: float) -> str:
        if value is None or not np.isfinite(value):
            return "n/a"
        if self.kind == "pct":
            return f"{value:.1%}"
        if self.kind == "usd":
            return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"
        if self.kind == "usd4":
            return f"${value:,.4f}"
        return f"{value:,.0f}"

    def fmt_delta(self, value: float) -> str:
        if value is None or not np.isfinite(value):
            return "n/a"
        if self.kind == "pct":
            return f"{value * 100:+.1f} pp"
        if self.kind == "usd":
            return f"{value:+,.2f}" if abs(value) < 1000 else f"{value:+,.0f}"
        if self.kind == "usd4":
            return f"{value:+,.4f}"
        return f"{value:+,.0f}"


GOOD = {outcomes.HIGHER: "up", outcomes.LOWER: "down", outcomes.NEUTRAL: ""}


def outcome(name: str) -> Outcome:
    """How to show outcome `name`: label, unit and direction from the outcome registry."""
    o = outcomes.get(name)
    return Outcome(o.label, o.unit, o.kind, GOOD[o.direction], o.short, o.description)


def _layout(fig: go.Figure, title: str, height: int, legend: bool = True) -> go.Figure:
    top, bottom = 60, 110 if legend else 50
    plot_height = max(height - top - bottom, 50)
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=16)),
        height=height,
        font=FONT,
        margin=dict(l=10, r=10, t=top, b=bottom),
        legend=dict(orientation="h", yanchor="top", y=-58 / plot_height, xanchor="left", x=0),
        showlegend=legend,
        hoverlabel=dict(font_size=12),
    )
    return fig


def rows(table: pd.DataFrame, scope: str, outcome_name: str) -> pd.DataFrame:
    """The table's rows for one outcome in one scope, indexed by group."""
    t = table[(table.scope == scope) & (table.outcome == outcome_name)]
    return t.set_index("group")


def country_values(table: pd.DataFrame, outcome_name: str) -> pd.DataFrame:
    """A country's baseline/reform means and paired delta with its 95% interval."""
    cols = ["baseline_mean", "reform_mean", "delta", "delta_ci_low", "delta_ci_high"]
    return rows(table, "country", outcome_name)[cols]


def _names(groups, names: dict[str, str] | None) -> list[str]:
    names = names or {}
    return [f"{names.get(g, g)} ({g})" if g in names else g for g in groups]


def country_figure(
    table: pd.DataFrame,
    outcome_name: str,
    names: dict[str, str] | None = None,
    *,
    ppp: bool = False,
    mark_wages: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Per country: baseline vs reform (left) and the paired change with its 95% CI (right).

    `ppp` says the outcome is in international dollars (e.g. `..._ppp_usd` from the run
    summary); the reference marks drawn with `mark_wages` (each country's local minimum wage
    and the reform's pay floor, USD/h) are then shown in the same unit, divided by the
    country's price level ratio (`price_level_ratio` in the run summary).
    """
    out = outcome(outcome_name)
    v = country_values(table, outcome_name).copy()
    scale = pd.Series(1.0, index=v.index)
    if ppp:
        scale = 1.0 / rows(table, "country", "price_level_ratio")["baseline_mean"].reindex(v.index)
    v = v.sort_values("baseline_mean")
    labels = _names(v.index, names)
    currency = "int$" if ppp else "USD"
    unit = out.unit.replace("USD", currency)
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.03,
        subplot_titles=("Baseline and reform", "Change, reform minus baseline (95% CI)"),
    )
    hover = "%{y}<br>%{customdata}<extra>%{fullData.name}</extra>"
    for arm, colour, col in (
        ("baseline", BASELINE_COLOUR, "baseline_mean"),
        ("reform", REFORM_COLOUR, "reform_mean"),
    ):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=v[col],
                name=arm,
                orientation="h",
                marker_color=colour,
                customdata=[
                    out.fmt(x) if out.kind == "pct" else f"{x:,.2f} {unit}" for x in v[col]
                ],
                hovertemplate=hover,
            ),
            row=1,
            col=1,
        )
    if mark_wages:
        for key, name, colour, symbol in (
            ("min_wage_usd_per_hour", "local minimum wage", MIN_WAGE_COLOUR, "line-ns"),
            ("pay_floor_usd_per_hour", "reform pay floor", FLOOR_COLOUR, "diamond"),
        ):
            marks = rows(table, "country", key)["reform_mean"].reindex(v.index) * scale.reindex(
                v.index
            )
            if key == "pay_floor_usd_per_hour" and not (marks > 0).any():
                continue
            fig.add_trace(
                go.Scatter(
                    y=labels,
                    x=marks,
                    mode="markers",
                    name=name,
                    marker=dict(
                        symbol=symbol,
                        size=16 if symbol == "line-ns" else 9,
                        color=colour,
                        line=dict(width=3 if symbol == "line-ns" else 1, color=colour),
                    ),
                    customdata=[f"{x:,.2f} {currency}/h" for x in marks],
                    hovertemplate=hover,
                ),
                row=1,
                col=1,
            )
    err_hi = v["delta_ci_high"] - v["delta"]
    err_lo = v["delta"] - v["delta_ci_low"]
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=v["delta"],
            mode="markers",
            name="change (95% CI)",
            marker=dict(color=DELTA_COLOUR, size=9),
            error_x=dict(
                type="data",
                array=err_hi,
                arrayminus=err_lo,
                color=DELTA_COLOUR,
                thickness=2,
                width=4,
            ),
            customdata=[
                f"{out.fmt_delta(d)} [{out.fmt_delta(lo)}, {out.fmt_delta(hi)}]"
                for d, lo, hi in zip(v["delta"], v["delta_ci_low"], v["delta_ci_high"], strict=True)
            ],
            hovertemplate=hover,
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.add_vline(x=0, line=dict(color="#444", width=1), row=1, col=2)
    if out.kind == "pct":
        fig.update_xaxes(tickformat=".0%", row=1, col=1)
        fig.update_xaxes(tickformat="+.0%", row=1, col=2)
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_xaxes(title_text=unit, row=1, col=1)
    fig.update_xaxes(title_text=f"change, {unit}", row=1, col=2)
    title = title or f"{out.label} by country{' (PPP)' if ppp else ''}"
    return _layout(fig, title, height=190 + 34 * len(v))


def distribution_figure(table: pd.DataFrame, names: dict[str, str] | None = None) -> go.Figure:
    """Taskers' effective hourly pay: 10th-90th percentile range and median, per country.

    Baseline above, reform below each country; the red tick is the local minimum wage.
    """
    groups = list(
        country_values(table, "median_effective_hourly_pay_usd").sort_values("baseline_mean").index
    )
    p10 = {
        "overall": rows(table, "overall", "p10_effective_hourly_pay_usd"),
        "country": rows(table, "country", "p10_effective_hourly_pay_usd"),
    }
    p50 = {
        "overall": rows(table, "overall", "median_effective_hourly_pay_usd"),
        "country": rows(table, "country", "median_effective_hourly_pay_usd"),
    }
    p90 = {
        "overall": rows(table, "overall", "p90_effective_hourly_pay_usd"),
        "country": rows(table, "country", "p90_effective_hourly_pay_usd"),
    }
    mw = rows(table, "country", "min_wage_usd_per_hour")["baseline_mean"]
    entries = [("country", g) for g in groups] + [("overall", "all")]
    labels = _names(groups, names) + ["All countries"]
    fig = go.Figure()
    for arm, colour, offset in (
        ("baseline", BASELINE_COLOUR, 0.17),
        ("reform", REFORM_COLOUR, -0.17),
    ):
        col = f"{arm}_mean"
        xs, ys, mx, my, text = [], [], [], [], []
        for i, (scope, g) in enumerate(entries):
            lo, mid, hi = p10[scope].at[g, col], p50[scope].at[g, col], p90[scope].at[g, col]
            xs += [lo, hi, None]
            ys += [i + offset, i + offset, None]
            mx.append(mid)
            my.append(i + offset)
            text.append(
                f"{labels[i]} · {arm}<br>p10 {lo:.2f} · median {mid:.2f} · p90 {hi:.2f} USD/h"
            )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line=dict(color=colour, width=7),
                name=f"{arm}: 10th-90th percentile",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=mx,
                y=my,
                mode="markers",
                name=f"{arm}: median",
                marker=dict(color="white", size=10, line=dict(color=colour, width=3)),
                text=text,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[mw.get(g) for g in groups],
            y=list(range(len(groups))),
            mode="markers",
            name="local minimum wage",
            marker=dict(
                symbol="line-ns",
                size=26,
                color=MIN_WAGE_COLOUR,
                line=dict(width=3, color=MIN_WAGE_COLOUR),
            ),
            text=[f"{labels[i]}: minimum wage {mw.get(g):.2f} USD/h" for i, g in enumerate(groups)],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    fig.update_yaxes(
        tickvals=list(range(len(entries))), ticktext=labels, range=[-0.7, len(entries) - 0.3]
    )
    ticks = [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
    fig.update_xaxes(
        type="log",
        tickvals=ticks,
        ticktext=[f"{t:g}" for t in ticks],
        title_text="effective hourly pay, USD/h (log scale), unpaid time counted",
    )
    return _layout(
        fig, "Distribution of taskers' effective hourly pay", height=150 + 42 * len(entries)
    )


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
                    fillcolor=_rgba(colour, 0.18),
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


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


FLOWS = [
    ("taskers", "tasker_pay_usd"),
    ("platforms", "platform_revenue_usd"),
    ("AI", "ai_spend_usd"),
]


def money_flow_figure(table: pd.DataFrame) -> go.Figure:
    """Where a lab's dollar goes: cents to taskers, platforms (fees) and AI, both arms."""
    fig = go.Figure()
    amounts = {k: rows(table, "overall", col).iloc[0] for k, col in FLOWS}
    totals = {
        arm: sum(amounts[k][f"{arm}_mean"] for k, _ in FLOWS) for arm in ("baseline", "reform")
    }
    for key, _ in FLOWS:
        cents = [
            100 * amounts[key][f"{arm}_mean"] / totals[arm] if totals[arm] else 0.0
            for arm in ("baseline", "reform")
        ]
        usd = [amounts[key][f"{arm}_mean"] for arm in ("baseline", "reform")]
        fig.add_trace(
            go.Bar(
                y=["baseline", "reform"],
                x=cents,
                name=key,
                orientation="h",
                marker_color=FLOW_COLOURS[key],
                text=[f"{c:.0f}¢" for c in cents],
                textposition="inside",
                insidetextanchor="middle",
                textfont=dict(color="white", size=14),
                customdata=[
                    f"{c:.1f}¢ of each dollar · ${u:,.0f}/week"
                    for c, u in zip(cents, usd, strict=True)
                ],
                hovertemplate="%{y} → " + key + ": %{customdata}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(title_text="cents of each dollar labs spend on feedback", range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Where a lab's dollar goes", height=300)


def money_change_figure(table: pd.DataFrame) -> go.Figure:
    """Weekly USD to taskers, platforms and AI: the paired change with its 95% CI."""
    labels, delta, lo, hi, text = [], [], [], [], []
    for key, col in [*FLOWS, ("all (lab spend)", "lab_spend_usd")]:
        r = rows(table, "overall", col).iloc[0]
        labels.append(key)
        delta.append(r.delta)
        lo.append(r.delta - r.delta_ci_low)
        hi.append(r.delta_ci_high - r.delta)
        text.append(
            f"{r.delta:+,.0f} USD/week [{r.delta_ci_low:+,.0f}, {r.delta_ci_high:+,.0f}]"
            f"<br>baseline {r.baseline_mean:,.0f} → reform {r.reform_mean:,.0f}"
        )
    colours = [FLOW_COLOURS.get(k, "#495057") for k in labels]
    fig = go.Figure(
        go.Bar(
            x=delta,
            y=labels,
            orientation="h",
            marker_color=colours,
            error_x=dict(type="data", array=hi, arrayminus=lo, color="#212529", thickness=1.5),
            customdata=text,
            hovertemplate="%{y}: %{customdata}<extra></extra>",
        )
    )
    fig.add_vline(x=0, line=dict(color="#444", width=1))
    fig.update_xaxes(title_text="change in USD per week, reform minus baseline (95% CI)")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Change in weekly money flows", height=280, legend=False)


def money_sankey(
    table: pd.DataFrame, names: dict[str, str] | None = None, arm: str = "reform"
) -> go.Figure:
    """The reform's weekly lab spend flowing to platforms, AI and taskers by country."""
    col = f"{arm}_mean"
    fees = rows(table, "overall", "platform_revenue_usd")[col].iloc[0]
    ai = rows(table, "overall", "ai_spend_usd")[col].iloc[0]
    pay = rows(table, "country", "tasker_pay_usd")[col].sort_values(ascending=False)
    nodes = ["Labs", "Platforms (fees)", "AI", "Taskers"] + _names(pay.index, names)
    src = [0, 0, 0] + [3] * len(pay)
    dst = [1, 2, 3] + list(range(4, 4 + len(pay)))
    val = [fees, ai, float(pay.sum())] + [float(x) for x in pay]
    colours = ["#495057", FLOW_COLOURS["platforms"], FLOW_COLOURS["AI"], FLOW_COLOURS["taskers"]]
    colours += [_rgba(FLOW_COLOURS["taskers"], 0.6)] * len(pay)
    fig = go.Figure(
        go.Sankey(
            node=dict(label=nodes, color=colours, pad=12, thickness=14),
            link=dict(
                source=src,
                target=dst,
                value=val,
                color="rgba(160,160,160,0.35)",
                hovertemplate="%{source.label} → %{target.label}: "
                "$%{value:,.0f}/week<extra></extra>",
            ),
            valueformat=",.0f",
            valuesuffix=" USD/week",
        )
    )
    return _layout(fig, f"Weekly money flow, {arm} (USD/week)", height=520, legend=False)
