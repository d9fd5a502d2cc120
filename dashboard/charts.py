"""Pure plotly figure builders: a comparison's table or runs in, a figure out.

No figure computes an outcome of the model. They draw the rows of
`sim.compare.Comparison.table` (means, paired deltas and their 95% intervals) and the
weekly series of each replicate run; the only arithmetic is presentation (sorting,
currency conversion with the country's price level from the summary, cents of a dollar).
"""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .labels import outcome

BASELINE_COLOUR = "#8c8c8c"
REFORM_COLOUR = "#0f6cbd"
DELTA_COLOUR = "#0f6cbd"
MIN_WAGE_COLOUR = "#b42318"
FLOOR_COLOUR = "#e8a33d"
FLOW_COLOURS = {"taskers": "#2f9e44", "platforms": "#e8a33d", "AI": "#7048e8"}
FONT = dict(family="Inter, system-ui, -apple-system, Segoe UI, sans-serif", size=13)
# Plotly does not wrap text: titles are broken into lines that fit the narrowest chart, one
# column on a 390 px phone (about 358 px of chart, 7-8 px per character of 16 px type).
TITLE_CHARS = 40
NOTE_CHARS = 44  # the subtitle, in 12 px type, fits a third of a 1400 px page
TITLE_LINE, NOTE_LINE = 21, 16  # px per line of title and subtitle
TITLE_PAD = 25  # px above the title (plotly lifts it by a line when it has a subtitle)


def wrap(text: str, width: int = TITLE_CHARS, sep: str = " ") -> str:
    """`text` in lines of at most `width` characters (plotly's `<br>`), broken at `sep`."""
    lines: list[str] = []
    for part in text.split(sep):
        pieces = textwrap.wrap(part, width) or [""]
        if lines and len(lines[-1]) + len(sep) + len(pieces[0]) <= width:
            lines[-1] += sep + pieces.pop(0)
        lines += pieces
    return "<br>".join(lines)


def lines_of(text: str) -> int:
    return text.count("<br>") + 1


def _layout(
    fig: go.Figure,
    title: str,
    height: int,
    legend: bool = True,
    *,
    chars: int = TITLE_CHARS,
    title_lines: int = 1,
    top: int = 60,
) -> go.Figure:
    """Title (wrapped to `chars`, at least `title_lines` lines), margins and legend.

    `height` is the figure's height with a one-line title and a `top` margin of 60 px; a
    taller title block makes it taller, so the plot keeps its size and panels with equal
    `title_lines` line up.
    """
    text = wrap(title, chars)
    lines = max(lines_of(text), title_lines)
    top, bottom = top + TITLE_LINE * (lines - 1), 110 if legend else 50
    height += top - 60
    plot_height = max(height - top - bottom, 50)
    fig.update_layout(
        title=dict(
            text=text,
            x=0,
            xanchor="left",
            y=1,
            yref="container",
            yanchor="top",
            pad=dict(t=TITLE_PAD),
            font=dict(size=16),
        ),
        height=height,
        font=FONT,
        margin=dict(l=10, r=10, t=top, b=bottom),
        legend=dict(orientation="h", yanchor="top", y=-58 / plot_height, xanchor="left", x=0),
        showlegend=legend,
        hoverlabel=dict(font_size=12),
    )
    return fig


def with_note(fig: go.Figure, note: str) -> go.Figure:
    """The subtitle under the title (what the exported PNG shows), the figure taller by it."""
    if not note:
        return fig
    text = wrap(note, NOTE_CHARS, sep=" · ")
    extra = NOTE_LINE * lines_of(text) + 4
    fig.update_layout(
        title_subtitle=dict(text=text, font=dict(size=12)),
        margin_t=fig.layout.margin.t + extra,
        height=fig.layout.height + extra,
    )
    return fig


def rows(table: pd.DataFrame, scope: str, outcome_name: str) -> pd.DataFrame:
    """The table's rows for one outcome in one scope, indexed by group."""
    t = table[(table.scope == scope) & (table.outcome == outcome_name)]
    return t.set_index("group")


def country_values(table: pd.DataFrame, outcome_name: str) -> pd.DataFrame:
    """A country's baseline/reform means and paired delta with its 95% interval."""
    cols = ["baseline_mean", "reform_mean", "delta", "delta_ci_low", "delta_ci_high"]
    cols += [c for c in ("ensemble_low", "ensemble_high") if c in table]
    return rows(table, "country", outcome_name)[cols]


def _names(groups, names: dict[str, str] | None) -> list[str]:
    names = names or {}
    return [f"{names.get(g, g)} ({g})" if g in names else g for g in groups]


class CountryPanels:
    """What both panels of a by-country chart draw: one outcome per country, in chart order."""

    def __init__(self, table: pd.DataFrame, outcome_name: str, names, ppp: bool) -> None:
        self.out = out = outcome(outcome_name)
        v = country_values(table, outcome_name).copy()
        scale = pd.Series(1.0, index=v.index)
        if ppp:
            ratio = rows(table, "country", "price_level_ratio")["baseline_mean"]
            scale = 1.0 / ratio.reindex(v.index)
        self.v = v.reindex([c for c in country_order(table) if c in v.index])
        self.scale = scale.reindex(self.v.index)
        self.table = table
        self.labels = _names(self.v.index, names)
        self.currency = "int$" if ppp else "USD"
        self.unit = out.unit.replace("USD", self.currency)
        change_unit = "percentage points" if out.kind == "pct" else out.delta_unit
        self.change_axis = f"change, {change_unit.replace('USD', self.currency)}"
        self.height = 190 + 34 * len(self.v)

    HOVER = "%{y}<br>%{customdata}<extra>%{fullData.name}</extra>"

    def levels(self, mark_wages: bool) -> list:
        """Baseline and reform bars, with each country's minimum wage and the floor marked."""
        out, v, unit, currency = self.out, self.v, self.unit, self.currency
        traces = [
            go.Bar(
                y=self.labels,
                x=v[col],
                name=arm,
                orientation="h",
                marker_color=colour,
                customdata=[
                    out.fmt(x) if out.kind == "pct" else f"{x:,.2f} {unit}" for x in v[col]
                ],
                hovertemplate=self.HOVER,
            )
            for arm, colour, col in (
                ("baseline", BASELINE_COLOUR, "baseline_mean"),
                ("reform", REFORM_COLOUR, "reform_mean"),
            )
        ]
        if not mark_wages:
            return traces
        for key, name, colour, symbol in (
            ("min_wage_usd_per_hour", "local minimum wage", MIN_WAGE_COLOUR, "line-ns"),
            ("pay_floor_usd_per_hour", "reform pay floor", FLOOR_COLOUR, "diamond"),
        ):
            marks = rows(self.table, "country", key)["reform_mean"].reindex(v.index) * self.scale
            if key == "pay_floor_usd_per_hour" and not (marks > 0).any():
                continue
            traces.append(
                go.Scatter(
                    y=self.labels,
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
                    hovertemplate=self.HOVER,
                )
            )
        return traces

    def changes(self) -> list:
        """The paired change with its 95% CI, and the range over assumptions behind it."""
        out, v = self.out, self.v
        points = 100.0 if out.kind == "pct" else 1.0  # a change in a share is drawn in points
        traces = [
            go.Scatter(
                y=self.labels,
                x=v["delta"] * points,
                mode="markers",
                name="change (95% CI)",
                marker=dict(color=DELTA_COLOUR, size=9),
                error_x=dict(
                    type="data",
                    array=(v["delta_ci_high"] - v["delta"]) * points,
                    arrayminus=(v["delta"] - v["delta_ci_low"]) * points,
                    color=DELTA_COLOUR,
                    thickness=2,
                    width=4,
                ),
                customdata=[
                    f"{out.fmt_delta(d)} [{out.fmt_delta(lo)}, {out.fmt_delta(hi)}]"
                    for d, lo, hi in zip(
                        v["delta"], v["delta_ci_low"], v["delta_ci_high"], strict=True
                    )
                ],
                hovertemplate=self.HOVER,
                showlegend=False,
            )
        ]
        if "ensemble_low" in v:  # the range over assumptions, behind the seed interval
            traces.append(
                go.Scatter(
                    y=self.labels,
                    x=v["delta"] * points,
                    mode="markers",
                    name="range over assumptions (5-95%)",
                    marker=dict(color="rgba(0,0,0,0)", size=1),
                    error_x=dict(
                        type="data",
                        array=(v["ensemble_high"] - v["delta"]).clip(lower=0) * points,
                        arrayminus=(v["delta"] - v["ensemble_low"]).clip(lower=0) * points,
                        color="rgba(112,72,232,0.45)",
                        thickness=8,
                        width=0,
                    ),
                    hoverinfo="skip",
                )
            )
        return traces

    def title(self, ppp: bool) -> str:
        return f"{self.out.label} by country{' (PPP)' if ppp else ''}"


def country_figure(
    table: pd.DataFrame,
    outcome_name: str,
    names: dict[str, str] | None = None,
    *,
    ppp: bool = False,
    mark_wages: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Per country: baseline vs reform (left) and the paired change with its 95% CI (right),
    in one figure of fixed width (the brief's); the dashboard draws `country_panels`.

    `ppp` says the outcome is in international dollars (e.g. `..._ppp_usd` from the run
    summary); the reference marks drawn with `mark_wages` (each country's local minimum wage
    and the reform's pay floor, USD/h) are then shown in the same unit, divided by the
    country's price level ratio (`price_level_ratio` in the run summary).
    """
    p = CountryPanels(table, outcome_name, names, ppp)
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.03,
        subplot_titles=("Baseline and reform", "Change, reform minus baseline (95% CI)"),
    )
    for trace in p.levels(mark_wages):
        fig.add_trace(trace, row=1, col=1)
    for trace in p.changes():
        fig.add_trace(trace, row=1, col=2)
    _axes(fig, p, dict(row=1, col=1), dict(row=1, col=2))
    fig.update_layout(barmode="group", bargap=0.25)
    # one title line at the brief's fixed width, clear of the subplot titles under it
    return _layout(fig, title or p.title(ppp), height=p.height, chars=200, top=72)


def _axes(
    levels: go.Figure,
    p: CountryPanels,
    at_levels: dict,
    at_change: dict,
    change: go.Figure | None = None,
) -> None:
    """Axis titles and formats of both panels (one figure with subplots, or two figures)."""
    change = change or levels
    change.add_vline(x=0, line=dict(color="#444", width=1), **at_change)
    if p.out.kind == "pct":
        levels.update_xaxes(tickformat=".0%", **at_levels)
        change.update_xaxes(tickformat="+", **at_change)
    levels.update_xaxes(title_text=p.unit, **at_levels)
    change.update_xaxes(title_text=p.change_axis, **at_change)


def country_panels(
    table: pd.DataFrame,
    outcome_name: str,
    names: dict[str, str] | None = None,
    *,
    ppp: bool = False,
    mark_wages: bool = False,
    title: str | None = None,
) -> tuple[go.Figure, go.Figure]:
    """`country_figure`'s two panels as two figures, for two columns that stack on a phone.

    Both have the same height and title block, so side by side their plots line up; the
    change panel's title names the outcome, so each exported PNG says what it shows.
    """
    p = CountryPanels(table, outcome_name, names, ppp)
    levels = go.Figure(p.levels(mark_wages))
    change = go.Figure(p.changes())
    _axes(levels, p, {}, {}, change)
    levels.update_layout(barmode="group", bargap=0.25)
    titles = (title or p.title(ppp), f"{p.out.label}: change, reform minus baseline (95% CI)")
    lines = max(lines_of(wrap(t)) for t in titles)
    return (
        _layout(levels, titles[0], height=p.height, title_lines=lines),
        _layout(change, titles[1], height=p.height, title_lines=lines),
    )


def distribution_figure(table: pd.DataFrame, names: dict[str, str] | None = None) -> go.Figure:
    """Taskers' effective hourly pay: 10th-90th percentile range and median, per country.

    Baseline above, reform below each country; the red tick is the local minimum wage.
    """
    groups = country_order(table)
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




def country_order(table: pd.DataFrame) -> list[str]:
    """The one country order of every chart: baseline median effective pay, lowest first."""
    return list(
        country_values(table, "median_effective_hourly_pay_usd").sort_values("baseline_mean").index
    )


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
