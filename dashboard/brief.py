"""The brief: one self-contained HTML page to hand on (reform, headline, charts, sources, command).

Made by the dashboard's "Download brief" and by `datalabour brief`. Everything it shows comes
from a `sim.compare.Comparison` (and, with an ensemble, its ensemble table); plotly.js is
inlined, so the page loads nothing from the network, and its print style gives one column
without the dashboard's sidebar.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import pandas as pd
from plotly.offline import get_plotlyjs

from sim.compare import Comparison
from sim.outcomes import HEADLINE
from sim.results import package_version
from sim.scenario import SCHEMA_VERSION

from .cards import robustness
from .charts import country_figure
from .labels import SEED_NOISE_ONLY, outcome, verdict
from .tables import country_names, parameter_differences
from .time_charts import weekly_figure

STYLE = """
body{font-family:Inter,system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;
margin:2rem auto;padding:0 1rem;color:#212529;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #dee2e6}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e9ecef;padding:.3rem .4rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}td.text{text-align:left}
.muted{color:#6c757d;font-size:.9rem}.beyond{font-weight:600}
pre{background:#f1f3f5;padding:.6rem;white-space:pre-wrap;word-break:break-all}
.chart{page-break-inside:avoid;break-inside:avoid}
@media print{body{max-width:none;margin:0}h2{page-break-after:avoid}
.chart{width:100%}}
"""


def headline_rows(comparison: Comparison) -> pd.DataFrame:
    """The brief's headline table: label, unit, means, change, interval and verdicts (with
    the range over assumptions when the table has ensemble columns)."""
    t = comparison.table
    records = []
    for name in HEADLINE:
        found = t[(t.scope == "overall") & (t.group == "all") & (t.outcome == name)]
        if found.empty:
            continue
        r = found.iloc[0]
        out = outcome(name)
        row = {
            "outcome": out.label,
            "unit": out.unit,
            "baseline": out.fmt(r.baseline_mean),
            "reform": out.fmt(r.reform_mean),
            "change": out.fmt_delta(r.delta),
            "95% interval (seed noise)": f"{out.fmt_delta(r.delta_ci_low)} to "
            f"{out.fmt_delta(r.delta_ci_high)}",
            "verdict": verdict(r.delta, r.delta_ci_low, r.delta_ci_high),
        }
        if "share_same_sign" in t and pd.notna(r.share_same_sign):
            row["range over assumptions (5-95%)"] = (
                f"{out.fmt_delta(r.ensemble_low)} to {out.fmt_delta(r.ensemble_high)}"
            )
            row["robust?"] = robustness(r)
        records.append(row)
    return pd.DataFrame.from_records(records)


def _table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            cls = []
            if col in text_columns:
                cls.append("text")
            if col == "verdict" and value == "beyond seed noise":
                cls.append("beyond")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(fig) -> str:
    fig.update_layout(width=960)
    html = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
    return f'<div class="chart">{html}</div>'


def window_text(comparison: Comparison) -> str:
    """Which weeks the headline measures, in words."""
    reform = comparison.reform
    start, weeks = reform.burn_in_weeks, reform.weeks
    text = f"Outcomes are averages over weeks {start} to {weeks - 1} of {weeks}"
    policy_start = reform.policy.start_week
    if policy_start and policy_start > start:
        return (
            text + f"; the reform starts in week {policy_start}, so the window includes weeks "
            "before it."
        )
    if policy_start:
        return text + f", all after the reform starts (week {policy_start})."
    return text + f" (the first {start} weeks are burn-in)."


def build_brief(
    comparison: Comparison,
    command: str,
    *,
    preset: str | None = None,
) -> str:
    """The brief as one HTML page. `command` is the shell command that reproduces it."""
    base, reform = comparison.baseline, comparison.reform
    names = country_names(reform.countries)
    title = f"Brief: {reform.name} vs {base.name}"
    diffs = parameter_differences(base, reform)
    levers = (
        _table(diffs, text_columns=("parameter", "description", "source of the default"))
        if not diffs.empty
        else "<p>None: both runs use scenarios/baseline.yaml as it is.</p>"
    )
    draws = (comparison.ensemble or {}).get("draws") if hasattr(comparison, "ensemble") else None
    uncertainty = (
        f"<p><strong>Two uncertainties.</strong> The 95% interval is seed noise only; the range "
        f"over assumptions is the 5th to 95th percentile of the change over {draws} draws of "
        "the calibration posterior (each run with both scenarios and one common seed).</p>"
        if "share_same_sign" in comparison.table
        else f"<p><strong>{escape(SEED_NOISE_ONLY)}.</strong> Run with <code>--ensemble N</code> "
        "to add the range over draws of the model's uncertain assumptions.</p>"
    )
    size = (
        f"{base.population.taskers:,} potential taskers, {base.weeks} weeks, "
        f"{len(comparison.seeds)} paired replicates (common random numbers) from root seed "
        f"{base.seed}"
    )
    by_country = country_figure(
        comparison.table,
        "mean_effective_hourly_pay_usd",
        names,
        mark_wages=True,
        title="Mean effective hourly pay by country (USD/h, unpaid time counted)",
    )
    time_path = weekly_figure(
        comparison.baseline_runs,
        comparison.reform_runs,
        [("median_effective_hourly_pay_usd", "median effective pay")],
        "Median effective hourly pay over time (USD/h)",
        unit="USD/h",
        burn_in_weeks=reform.burn_in_weeks,
        start_week=reform.policy.start_week,
    )
    today = dt.date.today().isoformat()
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>datalabour {escape(package_version())} · {today} · {escape(size)}</p>",
        "<h2>The reform</h2>",
        f"<p><strong>{escape(reform.name)}</strong>"
        + (f" (preset {escape(preset)})" if preset and preset != reform.name else "")
        + f": {escape(reform.description)}</p>",
        f"<p><strong>Baseline ({escape(base.name)}):</strong> {escape(base.description)}</p>",
        "<h3>Levers: parameters that differ from the cited baseline</h3>",
        levers,
        "<h2>Headline: reform minus baseline</h2>",
        f"<p>{escape(window_text(comparison))}</p>",
        uncertainty,
        _table(
            headline_rows(comparison),
            text_columns=("outcome", "unit", "verdict", "robust?"),
        ),
        "<h2>By country</h2>",
        _figure(by_country),
        "<h2>Over time</h2>",
        _figure(time_path),
        "<h2>Assumptions and sources</h2>",
        "<p>An agent-based model of the market for AI training-data labour: labs buy human "
        "feedback through platforms from taskers in twelve countries; each week AI gets cheaper, "
        "labs set automation, piece rates and volumes, taskers join, leave, work, search and are "
        "paid. Country wages, PPP and exchange rates come from sim/data/countries.csv (sources in "
        "sim/data/SOURCES.md); every parameter's default and its source is in "
        "scenarios/baseline.yaml; the model is described in docs/ODD.md.</p>",
        "<p>Baseline and reform run with the same seeds; a change is the mean of the paired "
        "differences and its 95% interval a t-interval over replicates.</p>",
        "<h2>Reproduce</h2>",
        f"<pre>{escape(command)}</pre>",
        f"<p class='muted'>Scenario schema version {SCHEMA_VERSION} · baseline digest "
        f"{escape(base.digest())} · reform digest {escape(reform.digest())} · seeds "
        f"{escape(str(comparison.seeds))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
