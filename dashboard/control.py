"""When comparisons run: the estimate, the confirmation, Stop, and the end of a session.

A comparison starts only after a click, except one no larger than the default view's whose
estimated time is under the limit (so opening a link never starts more). Stop cancels the
session's pending and running simulations at once; a session that ends (its browser tab
closed) has its runs cancelled within a second or two.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from sim.compare import Comparison, replicate_seeds
from sim.scenario import Scenario, ScenarioError

from .runs import (
    POOL,
    ComparisonJob,
    Computed,
    EnsembleJob,
    RunCancelled,
    estimate_seconds,
    workers,
)
from .state import View
from .text import plain

LIMIT_SECONDS = 60.0  # above this a comparison needs a confirmation click
JOBS: dict[str, dict[str, ComparisonJob]] = {}  # session -> its comparisons under way
_WATCH: dict[str, threading.Thread] = {}


def session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "local"


def _watch_sessions() -> None:
    """Cancel the runs of sessions that have ended (browser closed or gone)."""
    from streamlit.runtime import Runtime

    while True:
        time.sleep(1.0)
        if not Runtime.exists():
            continue
        runtime = Runtime.instance()
        for sid in list(JOBS):
            if not runtime.is_active_session(sid):
                POOL.cancel(sid)
                JOBS.pop(sid, None)


def ensure_watcher() -> None:
    if "thread" not in _WATCH:
        _WATCH["thread"] = threading.Thread(target=_watch_sessions, daemon=True)
        _WATCH["thread"].start()


def stop(sid: str) -> None:
    """Stop button: every run of the session is dropped or killed now."""
    POOL.cancel(sid)
    JOBS.pop(sid, None)
    ss = st.session_state
    ss.stopped_key = ss.view.key()
    ss.go_key = None
    ss.messages = [("info", "Stopped: the comparison's runs were cancelled. Press Run to start.")]


def describe_time(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(seconds, 1):.0f} s"
    return f"about {seconds / 60:.0f} min"


def jobs_of(baseline: Scenario, reform: Scenario, replicates: int) -> list[tuple[Scenario, int]]:
    seeds = replicate_seeds(baseline.seed, replicates)
    return [(s, seed) for seed in seeds for s in (baseline, reform)]


def gate(view: View, estimate: float, default_size: float) -> str | None:
    """Why this comparison may not start without a click now (None: it may)."""
    ss = st.session_state
    clicked = ss.get("go_key") == view.key()
    confirmed = ss.get("confirmed_key") == view.key()
    if estimate > LIMIT_SECONDS and not confirmed:
        return (
            f"This comparison needs new runs estimated at {describe_time(estimate)} here "
            f"(limit without confirmation {LIMIT_SECONDS:.0f} s)."
        )
    if clicked or confirmed:
        return None
    if ss.get("stopped_key") == view.key():
        return "Stopped."
    if view.size() > default_size:
        return (
            "This link asks for a larger comparison than the default view "
            f"({describe_time(estimate)} here); it starts only when you ask."
        )
    return None


def start_button(reason: str, view: View, estimate: float) -> None:
    st.warning(plain(reason))

    def confirm() -> None:
        st.session_state.confirmed_key = view.key()
        st.session_state.go_key = view.key()
        st.session_state.stopped_key = None

    st.button(
        f"Start this comparison ({describe_time(estimate)})",
        type="primary",
        on_click=confirm,
        key="confirm",
    )


def run_jobs(
    jobs: list[ComparisonJob], provisional: Callable[[Comparison], None] | None = None
) -> list[Computed] | None:
    """Wait for the jobs with a progress bar and a Stop button; None if they were stopped."""
    sid = session_id()
    left, right = st.columns([1, 6])
    stop_slot = left.empty()
    stop_slot.button("Stop runs", on_click=stop, args=(sid,), key="stop", icon="⏹")
    total = sum(j.total_new for j in jobs)
    estimate = estimate_seconds([(s, seed) for j in jobs for s, seed in j.jobs])
    bar = right.progress(0.0, text=f"Running {total} new simulations ({describe_time(estimate)})")
    preview = st.empty()
    shown = provisional is None
    try:
        while not all(j.finished() for j in jobs):
            time.sleep(0.25)
            done = sum(j.done_new() for j in jobs)
            bar.progress(
                done / max(total, 1),
                text=f"Running {total} new simulations on {workers()} workers… {done}/{total}",
            )
            if not shown:
                early = jobs[0].partial()
                if early is not None:
                    shown = True
                    with preview.container():
                        provisional(early)
    except StopException:  # Streamlit's own Stop (page header): the runs stop too
        POOL.cancel(sid)
        JOBS.pop(sid, None)
        raise
    bar.empty()
    stop_slot.empty()
    preview.empty()
    try:
        return [j.result() for j in jobs]
    except RunCancelled:
        return None


def compute(
    view: View,
    baseline: Scenario,
    reform: Scenario,
    default_size: float,
    provisional: Callable[[Comparison], None] | None = None,
) -> Computed | None:
    """The view's comparison: cached, under way (waited for), or started if allowed."""
    ss = st.session_state
    if ss.get("computed") is not None and ss.get("computed_key") == view.key():
        return ss.computed
    ensure_watcher()
    sid = session_id()
    mine = JOBS.setdefault(sid, {})
    job = mine.get(view.key())
    if job is None:
        estimate = estimate_seconds(jobs_of(baseline, reform, view.replicates))
        reason = gate(view, estimate, default_size)
        if reason is not None:
            if reason != "Stopped.":
                start_button(reason, view, estimate)
            return None
        POOL.cancel(sid)  # a new comparison never waits behind an abandoned one
        mine.clear()
        job = mine[view.key()] = ComparisonJob(
            view.key(), baseline, reform, view.replicates, sid
        )
    done = run_jobs([job], provisional)
    mine.pop(view.key(), None)
    if done is None:
        return None
    ss.computed, ss.computed_key = done[0], view.key()
    return done[0]


def ensemble_available() -> bool:
    """Whether this version has `compare --ensemble` (a calibration posterior to draw from)."""
    try:
        from sim.calibration_ensemble import ensemble_particles  # noqa: F401
    except ImportError:
        return False
    return True


def cached_ensemble(view: View) -> Comparison | None:
    """This view's ensemble comparison if it has run in this session."""
    return st.session_state.setdefault("ensembles", {}).get(_ensemble_key(view))


def _ensemble_key(view: View) -> str:
    return f"{view.key()}|{view.ensemble}"


def compute_ensemble(view: View, computed: Computed) -> Comparison | None:
    """The comparison with the range over assumptions added, run after the seed comparison
    (which is shown meanwhile, as the provisional view)."""
    ss = st.session_state
    found = cached_ensemble(view)
    if found is not None:
        return found
    sid = session_id()
    try:
        job = EnsembleJob(computed.comparison, view.ensemble, sid)
    except ScenarioError as e:
        st.error(f"The ensemble could not start: {plain(e)}")
        return None
    left, right = st.columns([1, 6])
    stop_slot = left.empty()
    stop_slot.button("Stop runs", on_click=stop, args=(sid,), key="stop_ensemble", icon="⏹")
    bar = right.progress(0.0, text="Uncertainty from assumptions…")
    total = len(job.futures)
    try:
        while not job.finished():
            time.sleep(0.25)
            bar.progress(
                job.done() / total,
                text=f"Uncertainty from assumptions: {view.ensemble} posterior draws, "
                f"{job.done()}/{total} runs (the view below shows seed noise only until then)",
            )
    except StopException:
        POOL.cancel(sid)
        raise
    bar.empty()
    stop_slot.empty()
    try:
        table = job.table()
    except RunCancelled:
        return None
    comparison = dataclasses.replace(computed.comparison, table=table)
    comparison.ensemble = {"draws": view.ensemble, "seconds": time.perf_counter() - job.started}
    ss.ensembles[_ensemble_key(view)] = comparison
    return comparison
