"""The sidebar: the scenario editor, generated from the schema, and the Run button.

Widgets are not in a form: every change is checked at once, an invalid lever is named beside
Run and Run is disabled until it is fixed; a value outside the observed range runs with a
warning that names the range. Nothing runs until Run is pressed.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from sim.countries import load_countries
from sim.scenario import Scenario, ScenarioError

from .schema import ADVANCED, LEVERS, RUN_SETTINGS, field_spec, get_path
from .state import (
    DEFAULT_REPLICATES,
    MAX_REPLICATES,
    MIN_REPLICATES,
    View,
    build,
    load_file,
    normalise,
    preset_path,
    presets,
    read_upload,
    view_from_upload,
)
from .text import plain

FLOOR_HELP = (
    "Which pay-floor setting applies depends on the rule: *absolute* uses the USD/h level, "
    "*local_minimum_wage* the multiple, *ppp_indexed* / *ppp_uniform* the PPP reference."
)


def widget_key(path: str) -> str:
    return f"w{st.session_state.widgets}:{path}"


def observed_ranges() -> dict[str, tuple[float, float, str]]:
    """Lever -> (low, high, where the range comes from): what has been seen in the world."""
    wages = load_countries()["min_wage_usd_per_hour"]
    where = "the local minimum wages of sim/data/countries.csv, USD/h"
    return {"policy.pay_floor.usd_per_hour": (float(wages.min()), float(wages.max()), where)}


def range_warnings(values: dict) -> list[str]:
    """Warnings for levers in use whose value lies outside what has been observed."""
    out = []
    for path, (low, high, where) in observed_ranges().items():
        value = values.get(path)
        if path.startswith("policy.pay_floor.") and values.get("policy.pay_floor.kind") != (
            "absolute"
        ):
            continue
        if isinstance(value, int | float) and not low <= value <= high:
            out.append(
                f"{field_spec(path).label} = {value:g} is outside the observed range "
                f"{low:.2f} to {high:.2f} ({where}). It runs, but the model was not checked there."
            )
    return out


def field_widget(path: str, value) -> None:
    """A widget for a schema field: label with unit, help with description and source.

    Numbers are typed freely (no browser-side bounds that silently drop a value); the schema
    checks them and the message appears beside Run.
    """
    spec = field_spec(path)
    key = widget_key(path)
    if spec.kind == "choice":
        options = list(spec.options)
        st.selectbox(spec.label, options, index=options.index(value), help=spec.help, key=key)
    elif spec.kind == "bool":
        st.toggle(spec.label, value=bool(value), help=spec.help, key=key)
    elif spec.kind == "int":
        st.number_input(spec.label, value=int(value), step=1, help=spec.help, key=key)
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
            value=None if value is None else float(value),
            step=spec.step,
            format=f"%.{decimals}f",
            help=spec.help,
            key=key,
            placeholder="none" if spec.optional else None,
        )


def edited_view(view: View, preset: str, values: dict, replicates: int, shown: dict) -> View:
    """The view after Run. A new preset resets the levers the analyst left alone."""
    changed_preset = preset != view.preset
    reform = {} if changed_preset else {k: v for k, v in view.reform.items() if k not in LEVERS}
    for path in LEVERS:
        if changed_preset and values[path] == get_path(shown, path):
            continue
        reform[path] = values[path]
    shared = {p: values[p] for p in RUN_SETTINGS + ADVANCED}
    edited = dataclasses.replace(
        view, preset=preset, reform=reform, shared=shared, replicates=replicates
    )
    return normalise(edited)


def _preset_changed() -> None:
    ss = st.session_state
    ss.draft_preset = ss[widget_key("preset")]
    ss.widgets += 1


def sidebar(view: View, baseline: Scenario, reform: Scenario) -> View | None:
    """Draw the editor; returns the view to run when Run is pressed with valid levers."""
    ss = st.session_state
    draft_preset = ss.get("draft_preset") or view.preset
    if draft_preset != view.preset:
        shown_reform = load_file(preset_path(draft_preset), view.shared).to_dict()
    else:
        shown_reform = reform.to_dict()
    shown_base = baseline.to_dict()
    bar = st.sidebar
    bar.title("Scenario")
    names = list(presets())
    preset = bar.selectbox(
        "Policy preset (scenarios/)",
        names,
        index=names.index(draft_preset),
        key=widget_key("preset"),
        on_change=_preset_changed,
        help="Every scenario file in scenarios/. The preset is the reform's starting point; "
        "the levers below change it. Its full description is shown below.",
    )
    bar.caption(plain(load_file(preset_path(preset)).description))
    run_box = bar.container()
    bar.subheader("Policy levers")
    for path in LEVERS:
        if path == "policy.pay_floor.kind":
            bar.caption(FLOOR_HELP)
        if path == "policy.pay_mode":
            bar.markdown("**Platform rules**")
        if path == "automation.mode":
            bar.markdown("**Automation and AI**")
        with bar:
            field_widget(path, get_path(shown_reform, path))
    bar.subheader("Run settings (both runs)")
    bar.number_input(
        "Paired replicates",
        value=view.replicates,
        step=1,
        key=widget_key("replicates"),
        help="Runs of baseline and reform, each pair with the same seed (common random "
        f"numbers). Default {DEFAULT_REPLICATES}; allowed {MIN_REPLICATES} to {MAX_REPLICATES}.",
    )
    for path in RUN_SETTINGS:
        with bar:
            field_widget(path, get_path(shown_base, path))
    with bar.expander("Advanced: behavioural assumptions (both runs)"):
        st.caption("These describe taskers, not policy: they change baseline and reform alike.")
        for path in ADVANCED:
            field_widget(path, get_path(shown_base, path))

    values = {p: ss[widget_key(p)] for p in LEVERS + RUN_SETTINGS + ADVANCED}
    replicates = ss[widget_key("replicates")]
    problem, new = None, None
    try:
        if replicates is None:
            raise ScenarioError("replicates: a whole number is needed")
        new = edited_view(view, preset, values, int(replicates), shown_reform)
        build(new)
    except ScenarioError as e:
        problem = str(e)
    with run_box:
        if problem:
            st.error(f"Fix before running: {plain(problem)}", icon="⛔")
        for warning in range_warnings(values) if not problem else []:
            st.warning(plain(warning))
        pressed = st.button(
            "Run comparison",
            type="primary",
            width="stretch",
            disabled=problem is not None,
            key="run",
            help="Run baseline and reform with these levers (disabled while a lever is invalid).",
        )
    upload_and_reset(view, reform)
    if pressed and new is not None:
        ss.draft_preset = None
        return new
    return None


def upload_and_reset(view: View, reform: Scenario) -> None:
    ss = st.session_state
    with st.sidebar.expander("Scenario file (YAML)"):
        upload = st.file_uploader(
            "Upload a scenario YAML",
            type=["yaml", "yml"],
            key="upload",
            help="A full scenario, or a diff with `extends: baseline` (a bundled scenario's "
            "name). It becomes the reform.",
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
                ss.view = new
                ss.widgets += 1
                st.rerun()
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
        ss.view = View(shared=dict(view.shared), replicates=view.replicates)
        ss.widgets += 1
        st.rerun()
