"""datalabour dashboard: move a policy lever, see the reform against the baseline.

Layout only. The scenario editor is generated from the Scenario schema (dashboard.schema),
the view lives in the URL (dashboard.state), runs are cached and run in parallel
(dashboard.runs), every number comes from `sim` and every figure from dashboard.charts.
Start it with `datalabour dashboard`.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if not __package__:  # Streamlit runs this file as a script; its siblings form its package
    __package__ = Path(__file__).resolve().parent.name  # noqa: A001  (PEP 366)

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from sim.compare import Comparison  # noqa: E402
from sim.scenario import SCHEMA_VERSION, Scenario, ScenarioError  # noqa: E402

from . import charts, money_charts, time_charts  # noqa: E402
from .labels import outcome  # noqa: E402
from .runs import Computed, compare_cached  # noqa: E402
from .schema import ADVANCED, LEVERS, RUN_SETTINGS, field_spec, get_path  # noqa: E402
from .state import (  # noqa: E402
    DEFAULT_REPLICATES,
    MAX_REPLICATES,
    MIN_REPLICATES,
    View,
    build,
    cli_command,
    from_query,
    load_file,
    normalise,
    presets,
    read_upload,
    to_query,
    view_from_upload,
)
from .tables import (  # noqa: E402
    calibration_frame,
    country_names,
    parameter_differences,
    weekly_long,
)

HEADLINE_CARDS = [
    "median_effective_hourly_pay_usd",
    "share_under_local_minimum_wage",
    "unpaid_share",
    "tasker_pay_usd",
    "active_taskers",
    "labels_human",
    "quality_adjusted_labels",
    "cost_per_quality_adjusted_label_usd",
    "automation_share",
    "lab_spend_usd",
]
SPOTLIGHT_COUNTRIES = ["KEN", "IND", "PHL", "NGA", "USA"]
FLOOR_HELP = (
    "Which pay-floor setting applies depends on the rule: *absolute* uses the USD/h level, "
    "*local_minimum_wage* the multiple, *ppp_indexed* / *ppp_uniform* the PPP reference."
)


# ---- state --------------------------------------------------------------------------------
def init_state() -> None:
    ss = st.session_state
    if "view" in ss:
        return
    ss.widgets = 0
    ss.messages = []
    ss.computed = None
    view = View()
    params = st.query_params.to_dict()
    if params:
        try:
            parsed, warnings = from_query(params)
            parsed = normalise(parsed)
            build(parsed)
        except ScenarioError as e:
            ss.messages.append(("error", f"This link could not be opened: {e}"))
        else:
            view = parsed
            ss.messages += [("warning", w) for w in warnings]
    ss.view = view


def set_view(view: View, rerun: bool) -> None:
    st.session_state.view = view
    if rerun:
        st.session_state.widgets += 1
        st.rerun()


def widget_key(path: str) -> str:
    return f"w{st.session_state.widgets}:{path}"


# ---- sidebar: the scenario editor ----------------------------------------------------------
def field_widget(path: str, value) -> None:
    """A widget for a schema field: label with unit, bounds, help with description and source."""
    spec = field_spec(path)
    key = widget_key(path)
    if spec.kind == "choice":
        options = list(spec.options)
        st.selectbox(spec.label, options, index=options.index(value), help=spec.help, key=key)
    elif spec.kind == "bool":
        st.toggle(spec.label, value=bool(value), help=spec.help, key=key)
    elif spec.kind == "int":
        big = 2**53 - 1
        lo = None if spec.minimum is None else int(max(spec.minimum, -big))
        hi = None if spec.maximum is None else int(min(spec.maximum, big))
        st.number_input(
            spec.label,
            min_value=lo,
            max_value=hi,
            value=int(value),
            step=1,
            help=spec.help,
            key=key,
        )
    elif spec.minimum == 0 and spec.maximum is not None and spec.maximum <= 1 and not spec.optional:
        st.slider(
            spec.label,
            min_value=0.0,
            max_value=float(spec.maximum),
            value=float(value),
            step=spec.step,
            help=spec.help,
            key=key,
        )
    else:
        decimals = 2 if value is None or round(float(value), 2) == float(value) else 4
        st.number_input(
            spec.label,
            min_value=spec.minimum,
            max_value=spec.maximum,
            value=None if value is None else float(value),
            step=spec.step,
            format=f"%.{decimals}f",
            help=spec.help,
            key=key,
            placeholder="none" if spec.optional else None,
        )


def preset_label(name: str) -> str:
    try:
        scn = load_file(presets()[name])
    except ScenarioError:
        return f"{name} (invalid file)"
    first = scn.description.split(". ")[0].strip()
    return f"{name} — {first[:70]}" if first and name != "baseline" else name


def sidebar(view: View, baseline: Scenario, reform: Scenario) -> None:
    ss = st.session_state
    st.sidebar.title("Scenario")
    st.sidebar.caption(
        "Pick a policy, move the levers, press **Run comparison**. The reform is always "
        "compared with the baseline over the same random seeds."
    )
    shown_reform = reform.to_dict()
    shown_base = baseline.to_dict()
    with st.sidebar.form("scenario"):
        names = list(presets())
        preset = st.selectbox(
            "Policy preset (scenarios/)",
            names,
            index=names.index(view.preset),
            format_func=preset_label,
            key=widget_key("preset"),
            help="Every scenario file in scenarios/. The preset is the reform's starting point; "
            "the levers below change it.",
        )
        st.subheader("Policy levers")
        for path in LEVERS:
            if path == "policy.pay_floor.kind":
                st.caption(FLOOR_HELP)
            if path == "policy.pay_mode":
                st.markdown("**Platform rules**")
            if path == "automation.mode":
                st.markdown("**Automation and AI**")
            field_widget(path, get_path(shown_reform, path))
        st.subheader("Run settings (both runs)")
        st.number_input(
            "Paired replicates",
            min_value=MIN_REPLICATES,
            max_value=MAX_REPLICATES,
            value=view.replicates,
            step=1,
            key=widget_key("replicates"),
            help="Runs of baseline and reform, each pair with the same seed (common random "
            f"numbers). Default {DEFAULT_REPLICATES}.",
        )
        for path in RUN_SETTINGS:
            field_widget(path, get_path(shown_base, path))
        with st.expander("Advanced: behavioural assumptions (both runs)"):
            st.caption("These describe taskers, not policy: they change baseline and reform alike.")
            for path in ADVANCED:
                field_widget(path, get_path(shown_base, path))
        submitted = st.form_submit_button("Run comparison", type="primary", width="stretch")
    if submitted:
        values = {p: ss[widget_key(p)] for p in LEVERS + RUN_SETTINGS + ADVANCED}
        new = edited_view(view, preset, values, int(ss[widget_key("replicates")]), shown_reform)
        try:
            build(new)
        except ScenarioError as e:
            ss.messages = [("error", f"Not run: {e}")]
        else:
            ss.messages = []
            set_view(new, rerun=preset != view.preset)

    with st.sidebar.expander("Scenario file (YAML)"):
        upload = st.file_uploader(
            "Upload a scenario YAML",
            type=["yaml", "yml"],
            key="upload",
            help="A full scenario, or a diff with `extends: baseline.yaml`. It becomes the reform.",
        )
        if upload is not None and upload.file_id != ss.get("upload_done"):
            ss.upload_done = upload.file_id
            try:
                scenario, explicit = read_upload(upload.name, upload.getvalue())
                new = view_from_upload(scenario, explicit, view)
                build(new)
            except ScenarioError as e:
                ss.messages = [("error", f"{upload.name} was not loaded: {e}")]
            else:
                ss.messages = [("success", f"Loaded {upload.name} as the reform.")]
                set_view(new, rerun=True)
        st.download_button(
            "Download reform YAML",
            reform.to_yaml(),
            file_name=f"{reform.name}-reform.yaml",
            mime="application/x-yaml",
            on_click="ignore",
            width="stretch",
        )
    if st.sidebar.button(
        "Reset the reform to the baseline",
        width="stretch",
        help="Back to the baseline preset with no lever moved; run settings stay.",
    ):
        ss.messages = []
        set_view(View(shared=dict(view.shared), replicates=view.replicates), rerun=True)


def edited_view(view: View, preset: str, values: dict, replicates: int, shown: dict) -> View:
    """The view after a form submit. A new preset resets the levers the analyst left alone."""
    changed_preset = preset != view.preset
    reform = {} if changed_preset else {k: v for k, v in view.reform.items() if k not in LEVERS}
    for path in LEVERS:
        if changed_preset and values[path] == get_path(shown, path):
            continue
        reform[path] = values[path]
    shared = {p: values[p] for p in RUN_SETTINGS + ADVANCED}
    return normalise(View(preset, reform, shared, replicates))


# ---- results -------------------------------------------------------------------------------
def compute(view: View, baseline: Scenario, reform: Scenario) -> Computed:
    ss = st.session_state
    if ss.computed is not None and ss.computed_key == view.key():
        return ss.computed
    slot = st.empty()
    bar = slot.progress(0.0, text="Preparing runs…")
    preview = st.empty()

    def progress(done: int, total: int) -> None:
        if total:
            bar.progress(done / total, text=f"Running {total} new simulations… {done}/{total}")

    def provisional(comp: Comparison) -> None:
        """While the rest run: the headline cards from the paired replicates done so far."""
        with preview.container():
            st.info(
                f"**Provisional:** {len(comp.seeds)} of {view.replicates} paired replicates "
                "are done, so the intervals below are wide. The full result replaces this "
                "view when the remaining runs finish."
            )
            headline_cards(comp.table, country_names(reform.countries), reform)

    computed = compare_cached(baseline, reform, view.replicates, progress, provisional)
    slot.empty()
    preview.empty()
    ss.computed, ss.computed_key = computed, view.key()
    return computed


def card(
    table: pd.DataFrame,
    outcome_name: str,
    scope: str = "overall",
    group: str = "all",
    label: str | None = None,
) -> None:
    found = table[(table.scope == scope) & (table.group == group) & (table.outcome == outcome_name)]
    if found.empty:
        return
    r = found.iloc[0]
    out = outcome(outcome_name)
    rel = (
        f" ({r.relative_change:+.1%})" if pd.notna(r.relative_change) and out.kind != "pct" else ""
    )
    colour = {"up": "normal", "down": "inverse"}.get(out.good, "off")
    with st.container(border=True):
        st.metric(
            label or out.title,
            out.fmt(r.reform_mean),
            f"{out.fmt_delta(r.delta)}{rel}",
            delta_color=colour,
            help=f"{out.label} ({out.unit}): the reform's mean over "
            "replicates; the change is the mean paired difference, reform minus baseline.",
        )
        if r.delta == 0 and r.delta_ci_low == r.delta_ci_high:
            verdict = "no change"
        elif r.delta_ci_low <= 0 <= r.delta_ci_high:
            verdict = "within noise (CI spans 0)"
        else:
            verdict = "clear change (CI excludes 0)"
        st.caption(
            f"95% CI {out.fmt_delta(r.delta_ci_low)} to {out.fmt_delta(r.delta_ci_high)}  \n"
            f"baseline {out.fmt(r.baseline_mean)}  \n{verdict}"
        )


def headline_cards(table: pd.DataFrame, names: dict[str, str], reform: Scenario) -> None:
    for start in range(0, len(HEADLINE_CARDS), 5):
        cols = st.columns(5)
        for col, name in zip(cols, HEADLINE_CARDS[start : start + 5], strict=False):
            with col:
                card(table, name)
    spot = [c for c in SPOTLIGHT_COUNTRIES if c in reform.countries]
    if spot:
        st.markdown("**Mean effective hourly pay where taskers live** (USD/h, unpaid time counted)")
        cols = st.columns(len(spot))
        for col, iso in zip(cols, spot, strict=True):
            with col:
                card(table, "mean_effective_hourly_pay_usd", "country", iso, names.get(iso, iso))


def headline_tab(table: pd.DataFrame, names: dict[str, str], reform: Scenario) -> None:
    headline_cards(table, names, reform)
    with st.expander("All headline outcomes as a table"):
        t = table[table.scope == "overall"].copy()
        t.insert(0, "label", [outcome(o).label for o in t.outcome])
        st.dataframe(
            t[
                [
                    "label",
                    "outcome",
                    "baseline_mean",
                    "reform_mean",
                    "delta",
                    "delta_ci_low",
                    "delta_ci_high",
                    "relative_change",
                ]
            ],
            hide_index=True,
            width="stretch",
        )


def country_tab(table: pd.DataFrame, names: dict[str, str]) -> None:
    currency = st.radio(
        "Currency",
        ["USD", "PPP (international $)"],
        horizontal=True,
        key="currency",
        help="PPP divides by each country's price level "
        "(World Bank private-consumption PPP / market exchange rate).",
    )
    ppp = currency != "USD"
    st.plotly_chart(
        charts.country_figure(
            table,
            "mean_effective_hourly_pay_ppp_usd" if ppp else "mean_effective_hourly_pay_usd",
            names,
            ppp=ppp,
            mark_wages=True,
            title=f"Effective hourly pay ({'int$' if ppp else 'USD'}/h), "
            "unpaid time counted, with each country's minimum wage and floor",
        ),
        width="stretch",
    )
    st.plotly_chart(
        charts.country_figure(
            table,
            "tasker_pay_ppp_usd" if ppp else "tasker_pay_usd",
            names,
            title="Income: weekly pay to taskers in each country",
        ),
        width="stretch",
    )
    st.plotly_chart(
        charts.country_figure(
            table,
            "share_under_local_minimum_wage",
            names,
            title="Share of taskers earning under the local minimum wage",
        ),
        width="stretch",
    )


def time_tab(comp, reform: Scenario) -> None:
    b, r = comp.baseline_runs, comp.reform_runs
    opts = dict(burn_in_weeks=reform.burn_in_weeks, start_week=reform.policy.start_week)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
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
            ),
            width="stretch",
        )
        st.plotly_chart(
            time_charts.weekly_figure(
                b,
                r,
                [("active_taskers", "active taskers")],
                "Active taskers",
                unit="taskers",
                **opts,
            ),
            width="stretch",
        )
    with right:
        st.plotly_chart(
            time_charts.weekly_figure(
                b,
                r,
                [("median_effective_hourly_pay_usd", "median effective pay")],
                "Median effective hourly pay (USD/h)",
                unit="USD/h",
                **opts,
            ),
            width="stretch",
        )
        st.plotly_chart(
            time_charts.weekly_figure(
                b,
                r,
                [("automation_share", "automation share")],
                "Automation share",
                pct=True,
                **opts,
            ),
            width="stretch",
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


def share_tab(computed: Computed, view: View, baseline: Scenario, reform: Scenario) -> None:
    comp = computed.comparison
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
    table_csv = comp.table.to_csv(index=False).encode()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.download_button(
        "Results CSV", table_csv, "comparison.csv", "text/csv", on_click="ignore", width="stretch"
    )
    c2.download_button(
        "Results Parquet",
        _parquet(comp.table),
        "comparison.parquet",
        "application/vnd.apache.parquet",
        on_click="ignore",
        width="stretch",
    )
    c3.download_button(
        "Weekly series Parquet",
        _parquet(weekly_long(comp)),
        "weekly.parquet",
        "application/vnd.apache.parquet",
        on_click="ignore",
        width="stretch",
    )
    c4.download_button(
        "Reform YAML",
        reform.to_yaml(),
        f"{reform.name}-reform.yaml",
        "application/x-yaml",
        on_click="ignore",
        width="stretch",
    )
    c5.download_button(
        "CLI command",
        command + "\n",
        "reproduce.sh",
        "text/x-shellscript",
        on_click="ignore",
        width="stretch",
    )
    st.caption(
        f"Scenario schema version {SCHEMA_VERSION} · baseline digest {baseline.digest()} · "
        f"reform digest {reform.digest()} · seeds {comp.seeds}"
    )


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def summary_line(computed: Computed, view: View, baseline: Scenario, reform: Scenario) -> None:
    changes = [f"`{k}` = {v}" for k, v in sorted(view.reform.items())]
    what = ", ".join(changes) if changes else "no lever changed"
    st.markdown(f"**Reform:** {view.preset} preset · {what}")
    st.caption(
        f"{baseline.population.taskers:,} potential taskers · {baseline.weeks} weeks "
        f"(first {baseline.burn_in_weeks} burn-in) · {view.replicates} paired replicates from "
        f"root seed {baseline.seed} · computed in {computed.seconds:.1f} s "
        f"({computed.new_runs} new runs, {computed.cached_runs} from cache)"
    )
    if baseline.canonical_json() == reform.canonical_json():
        st.info(
            "The reform equals the baseline, so every change is zero. Move a lever in the "
            "sidebar and press **Run comparison**."
        )


def main() -> None:
    st.set_page_config(
        page_title="datalabour · reform vs baseline",
        page_icon="⚖️",
        layout="wide",
        initial_sidebar_state="expanded",
    )
    st.set_option("client.toolbarMode", "viewer")
    st.html("<style>[data-testid='stAppDeployButton']{display:none}</style>")
    init_state()
    ss = st.session_state
    view: View = ss.view
    try:
        baseline, reform = build(view)
    except ScenarioError as e:  # e.g. a preset file changed under us
        ss.messages = [("error", f"The current scenario is no longer valid: {e}")]
        view = ss.view = View()
        baseline, reform = build(view)
    sidebar(view, baseline, reform)
    view = ss.view
    baseline, reform = build(view)
    if st.query_params.to_dict() != to_query(view):
        st.query_params.from_dict(to_query(view))

    st.title("AI data-labour markets: reform vs baseline")
    for level, text in ss.messages:
        getattr(st, level)(text)
    computed = compute(view, baseline, reform)
    comp = computed.comparison
    names = country_names(reform.countries)
    summary_line(computed, view, baseline, reform)
    views = {
        "Headline": lambda: headline_tab(comp.table, names, reform),
        "By country": lambda: country_tab(comp.table, names),
        "Distribution": lambda: distribution_tab(comp.table, names),
        "Over time": lambda: time_tab(comp, reform),
        "Money flow": lambda: money_tab(comp.table, names),
        "Method & sources": lambda: method_tab(comp, view, baseline, reform),
        "Share & reproduce": lambda: share_tab(computed, view, baseline, reform),
    }
    # Only the open tab is drawn: a lever change redraws one view, not all seven.
    tabs = st.tabs(list(views), key="tab", on_change="rerun")
    for tab, draw in zip(tabs, views.values(), strict=True):
        if tab.open is not False:
            with tab:
                draw()


def distribution_tab(table: pd.DataFrame, names: dict[str, str]) -> None:
    st.plotly_chart(charts.distribution_figure(table, names), width="stretch")
    st.caption(
        "Bars: 10th to 90th percentile of taskers' effective hourly pay over the summary "
        "window (pay / paid and unpaid hours), mean over replicates; circles: median; red "
        "ticks: local minimum wage. Grey: baseline; blue: reform."
    )


def money_tab(table: pd.DataFrame, names: dict[str, str]) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(money_charts.money_flow_figure(table), width="stretch")
        st.plotly_chart(money_charts.money_change_figure(table), width="stretch")
    with right:
        st.plotly_chart(money_charts.money_sankey(table, names), width="stretch")


# Worker processes re-import this script as `__mp_main__`; only a Streamlit run draws the page.
if __name__ == "__main__":
    main()
