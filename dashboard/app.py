"""datalabour dashboard: move a policy lever, see the reform against the baseline.

Layout only. The scenario editor is generated from the Scenario schema (dashboard.sidebar),
the view lives in the URL (dashboard.state), comparisons run in killable worker processes
(dashboard.runs, dashboard.control), every number comes from `sim` and every figure from the
chart modules. Start it with `datalabour dashboard`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if not __package__:  # Streamlit runs this file as a script; its siblings form its package
    __package__ = Path(__file__).resolve().parent.name  # noqa: A001  (PEP 366)

import streamlit as st  # noqa: E402

from sim.scenario import Scenario, ScenarioError  # noqa: E402

from . import control, tabs  # noqa: E402
from .cards import headline_cards, headline_tab  # noqa: E402
from .runs import Computed  # noqa: E402
from .side_by_side import side_by_side_tab  # noqa: E402
from .sidebar import sidebar  # noqa: E402
from .state import (  # noqa: E402
    DEFAULT_ENSEMBLE,
    TABS,
    WINDOWS,
    View,
    build,
    from_query,
    load_file,
    normalise,
    preset_path,
    to_query,
)
from .tables import country_names  # noqa: E402
from .text import plain  # noqa: E402

# Card titles wrap (Streamlit cuts a metric label with an ellipsis); no deploy button; print.
PAGE_STYLE = """<style>
[data-testid='stAppDeployButton']{display:none}
[data-testid='stMetricLabel'] .stMarkdownEllipsis,[data-testid='stMetricLabel'] p{
white-space:normal!important;overflow:visible!important;text-overflow:clip!important}
@media print{[data-testid='stSidebar'],[data-testid='stHeader'],[data-testid='stToolbar'],
.stButton,.stDownloadButton{display:none!important}
[data-testid='stMain']{margin-left:0!important}
[data-testid='stHorizontalBlock']{flex-direction:column!important}
[data-testid='stColumn']{width:100%!important;flex:1 1 100%!important}}
</style>"""
WINDOW_LABELS = {"after_start": "after the reform starts", "whole": "whole run after burn-in"}


# ---- state --------------------------------------------------------------------------------
def init_state() -> None:
    ss = st.session_state
    if "view" in ss:
        return
    ss.widgets = 0
    ss.messages = []
    ss.computed = None
    ss.keep_url = False
    view = View()
    params = st.query_params.to_dict()
    if params:
        try:
            parsed, warnings = from_query(params)
            parsed = normalise(parsed)
            build(parsed)
        except ScenarioError as e:
            ss.messages.append(
                (
                    "error",
                    f"This link could not be opened: {e}. The address is left as it was; the "
                    "page shows the baseline until you press Run.",
                )
            )
            ss.keep_url = True
        else:
            view = parsed
            ss.messages += [("warning", w) for w in warnings]
    ss.view = view


def default_size() -> float:
    """Tasker-weeks of the default view: what a link may start without a click."""
    return View().size()


def _tab_changed() -> None:
    ss = st.session_state
    ss.view = dataclasses.replace(ss.view, tab=ss.tab)


def _ensemble_changed() -> None:
    ss = st.session_state
    draws = DEFAULT_ENSEMBLE if ss.assumptions else 0
    ss.view = dataclasses.replace(ss.view, ensemble=draws)
    ss.ensemble_ok = ss.view.key() if draws else None


def _ensemble_confirmed() -> None:
    st.session_state.ensemble_ok = st.session_state.view.key()


def _window_changed() -> None:
    ss = st.session_state
    ss.view = dataclasses.replace(ss.view, window=ss.window)
    ss.go_key = ss.view.key()


# ---- context ------------------------------------------------------------------------------
def context(view: View, baseline: Scenario, reform: Scenario) -> None:
    """The preset's full description under the title, the baseline in two lines, the window."""
    if view.preset != "baseline":
        preset = load_file(preset_path(view.preset))
        st.markdown(f"**Reform: {plain(view.preset)}.** {plain(preset.description)}")
    changes = [f"{k} = {v}" for k, v in sorted(view.reform.items())]
    if changes:
        st.markdown("**Levers moved:** " + plain(", ".join(changes)))
    st.caption(f"**Baseline.** {plain(load_file(preset_path('baseline')).description)}")
    st.radio(
        "Measure outcomes",
        list(WINDOWS),
        index=WINDOWS.index(view.window),
        format_func=WINDOW_LABELS.get,
        horizontal=True,
        key="window",
        on_change=_window_changed,
        help="With a later start week, 'after the reform starts' averages only the weeks from "
        "the start on (both runs); 'whole run' averages every week after burn-in.",
    )
    if control.ensemble_available():
        st.toggle(
            "Uncertainty from assumptions",
            value=bool(view.ensemble),
            key="assumptions",
            on_change=_ensemble_changed,
            help=f"Also run both scenarios at {DEFAULT_ENSEMBLE} draws of the calibration "
            "posterior (compare --ensemble): each card then shows the range of the change over "
            "what the calibration targets leave unknown, and whether its sign is robust.",
        )
    start = reform.policy.start_week
    st.caption(
        f"Outcomes are averages over weeks {reform.burn_in_weeks} to {reform.weeks - 1}"
        + (f"; the reform starts in week {start}." if start else ".")
    )


def summary_line(computed: Computed, view: View, baseline: Scenario, reform: Scenario) -> None:
    st.caption(
        f"{baseline.population.taskers:,} potential taskers · {baseline.weeks} weeks · "
        f"{view.replicates} paired replicates from root seed {baseline.seed} · computed in "
        f"{computed.seconds:.1f} s ({computed.new_runs} new runs, {computed.cached_runs} "
        f"from cache) · {dt.date.today().isoformat()}"
    )
    if baseline.canonical_json() == reform.canonical_json():
        st.info(
            "The reform equals the baseline, so every change is zero. Move a lever in the "
            "sidebar and press Run comparison."
        )


def provisional(countries: list[str]):
    def show(comp) -> None:
        st.info(
            f"Provisional: {len(comp.seeds)} paired replicates are done, so the intervals "
            "below are wide. The full result replaces this view when the rest finish."
        )
        headline_cards(comp.table, country_names(countries), countries)

    return show


def main() -> None:
    st.set_page_config(
        page_title="datalabour · reform vs baseline",
        page_icon="⚖️",
        layout="wide",
        initial_sidebar_state="auto",  # collapsed on narrow screens
    )
    st.set_option("client.toolbarMode", "viewer")
    st.html(PAGE_STYLE)
    init_state()
    ss = st.session_state
    view: View = ss.view
    try:
        baseline, reform = build(view)
    except ScenarioError as e:  # e.g. a preset file changed under us
        ss.messages = [("error", f"The current scenario is no longer valid: {e}")]
        view = ss.view = View()
        baseline, reform = build(view)
    new = sidebar(view, baseline, reform)
    if new is not None:
        ss.view, ss.go_key, ss.stopped_key, ss.keep_url = new, new.key(), None, False
        ss.messages = []
        if new.preset != view.preset:
            ss.widgets += 1
            st.rerun()
    view = ss.view
    baseline, reform = build(view)
    if not ss.keep_url and st.query_params.to_dict() != to_query(view):
        st.query_params.from_dict(to_query(view))

    st.title("AI data-labour markets: reform vs baseline")
    for level, text in ss.messages:
        getattr(st, level)(plain(text))
    context(view, baseline, reform)
    countries = list(reform.countries)
    computed = control.compute(view, baseline, reform, default_size(), provisional(countries))
    if computed is None and view.tab != "Side by side":
        return
    names = country_names(countries)
    ensemble_slot = None
    if computed is not None:
        ss.chart_note = (
            f"{reform.name} vs {baseline.name} · {dt.date.today()} · "
            f"{baseline.population.taskers:,} taskers, {baseline.weeks} weeks, "
            f"{view.replicates} replicates",
            f"{reform.name}-vs-{baseline.name}-{dt.date.today()}",
        )
        summary_line(computed, view, baseline, reform)
        comp = computed.comparison
        if view.ensemble and control.ensemble_available():
            if ss.get("ensemble_ok") == view.key():
                ready = control.cached_ensemble(view)
                if ready is not None:
                    comp = ready
                else:  # its progress above the seed-only view, drawn now, not left dimmed
                    ensemble_slot = st.container()
            else:
                st.button(
                    f"Run the uncertainty from assumptions ({view.ensemble} draws)",
                    on_click=_ensemble_confirmed,
                )
    views = {
        "Headline": lambda: headline_tab(comp.table, names, countries),
        "Side by side": lambda: side_by_side_tab(view),
        "By country": lambda: tabs.country_tab(comp.table, names, view),
        "Distribution": lambda: tabs.distribution_tab(comp.table, names),
        "Over time": lambda: tabs.time_tab(comp, reform),
        "Money flow": lambda: tabs.money_tab(comp.table, names),
        "Method & sources": lambda: tabs.method_tab(comp, view, baseline, reform),
        "Share & reproduce": lambda: tabs.share_tab(comp, view, baseline, reform),
    }
    # Only the open tab is drawn: a lever change redraws one view, not all of them.
    shown = st.tabs(list(TABS), default=view.tab, key="tab", on_change=_tab_changed)
    for tab, name in zip(shown, TABS, strict=True):
        if tab.open is not False and (computed is not None or name == "Side by side"):
            with tab:
                views[name]()
    if ensemble_slot is not None:
        with ensemble_slot:
            if control.compute_ensemble(view, computed) is not None:
                st.rerun()  # the complete view, from the session's cache


# Worker processes re-import this script as `__mp_main__`; only a Streamlit run draws the page.
if __name__ == "__main__":
    main()
