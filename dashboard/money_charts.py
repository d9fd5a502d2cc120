"""Where the labs' money goes: shares of a dollar, weekly changes, and a Sankey diagram."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .charts import FLOW_COLOURS, _layout, _names, country_order, rgba, rows

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
    pay = rows(table, "country", "tasker_pay_usd")[col].reindex(country_order(table)).dropna()
    nodes = ["Labs", "Platforms (fees)", "AI", "Taskers"] + _names(pay.index, names)
    src = [0, 0, 0] + [3] * len(pay)
    dst = [1, 2, 3] + list(range(4, 4 + len(pay)))
    val = [fees, ai, float(pay.sum())] + [float(x) for x in pay]
    colours = ["#495057", FLOW_COLOURS["platforms"], FLOW_COLOURS["AI"], FLOW_COLOURS["taskers"]]
    colours += [rgba(FLOW_COLOURS["taskers"], 0.6)] * len(pay)
    fig = go.Figure(
        go.Sankey(
            node=dict(label=nodes, color=colours, pad=22, thickness=14),
            arrangement="snap",
            textfont=dict(size=12),
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
