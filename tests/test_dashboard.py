"""The dashboard in Streamlit's AppTest: starts, reacts to levers, survives bad input, shares."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.state import View, build, from_query, to_query

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
SMALL = {
    "both.population.taskers": "2000",
    "both.weeks": "30",
    "both.burn_in_weeks": "5",
    "replicates": "3",
}
TIMEOUT = 600


@pytest.fixture(autouse=True)
def _in_process_runs(monkeypatch):
    # AppTest runs the script in this process: run replicates here, not in worker processes.
    monkeypatch.setenv("DATALABOUR_DASHBOARD_WORKERS", "1")


def start(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(SMALL if params is None else params)
    at.run(timeout=TIMEOUT)
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def submit(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Run comparison"]
    button.click()
    return at.run(timeout=TIMEOUT)


def shown(element) -> str:
    """An element's text as the reader sees it (Markdown escapes removed)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def run_button(at: AppTest):
    [button] = [b for b in at.button if b.label == "Run comparison"]
    return button


def widget(at: AppTest, kind: str, path: str):
    """The widget of a schema path in the current widget generation."""
    return getattr(at, kind)(key=f"w{at.session_state['widgets']}:{path}")


def test_app_starts_on_the_baseline_without_exceptions():
    at = start()
    assert not at.exception
    assert not at.error
    shown = metrics(at)
    assert "Median pay/hour" in shown
    assert shown["Median pay/hour"][1].startswith("0.00 USD/h")
    assert any("reform equals the baseline" in i.value for i in at.info)
    assert at.query_params["both.population.taskers"] == "2000"


def test_changing_a_lever_and_submitting_changes_the_headline_deltas():
    at = start()
    before = metrics(at)
    widget(at, "selectbox", "policy.pay_floor.kind").set_value("absolute")
    widget(at, "number_input", "policy.pay_floor.usd_per_hour").set_value(4.0)
    submit(at)
    assert not at.exception
    assert not at.error
    after = metrics(at)
    assert after["Median pay/hour"][1] != before["Median pay/hour"][1]
    assert after["Median pay/hour"][1].startswith("+")
    assert after["Under minimum wage"][1] != before["Under minimum wage"][1]
    assert at.query_params["policy.pay_floor.kind"] == "absolute"
    assert at.query_params["policy.pay_floor.usd_per_hour"] == "4.0"


def test_a_bad_combination_shows_the_field_and_keeps_the_results():
    at = start()
    before = metrics(at)
    widget(at, "number_input", "weeks").set_value(4)  # burn-in is 5 weeks
    at.run(timeout=TIMEOUT)
    assert not at.exception
    [error] = at.error
    assert "burn_in_weeks: 5 is not allowed" in shown(error)
    assert run_button(at).disabled
    assert metrics(at) == before


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"extends: baseline.yaml\npolicy: {pay_floor: {kind: max}}\n", "policy.pay_floor.kind"),
        (b"extends: baseline.yaml\npolicy: {max_monitoring: 1.5}\n", "policy.max_monitoring"),
        (b"name: partial\npolicy: {paid_rejections: true}\n", "countries: required field"),
        (b"policy: [unclosed\n", "YAML syntax error"),
        (b"- just\n- a list\n", "top level is a list"),
        (b"extends: nowhere.yaml\n", "extends"),
    ],
)
def test_a_bad_upload_shows_an_error_not_an_exception(content, field):
    at = start()
    before = metrics(at)
    at.file_uploader[0].set_value(("reform.yaml", content, "application/x-yaml"))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert any(field in shown(e) for e in at.error), [shown(e) for e in at.error]
    assert metrics(at) == before


def test_a_good_upload_becomes_the_reform_and_the_url():
    at = start()
    upload = b"extends: baseline.yaml\npolicy:\n  paid_rejections: true\n  max_monitoring: 0.5\n"
    at.file_uploader[0].set_value(("paid.yaml", upload, "application/x-yaml"))
    at.run(timeout=TIMEOUT)
    assert not at.exception
    assert not at.error
    assert at.query_params["policy.paid_rejections"] == "true"
    assert at.query_params["policy.max_monitoring"] == "0.5"
    assert at.query_params["both.population.taskers"] == "2000"
    assert widget(at, "toggle", "policy.paid_rejections").value is True


def test_query_params_round_trip_to_the_same_numbers():
    params = {**SMALL, "v": "1", "preset": "baseline", "policy.pay_floor.kind": "ppp_uniform"}
    first = start(params)
    assert not first.exception and not first.error
    url = {k: v for k, v in first.query_params.items()}
    assert url["policy.pay_floor.kind"] == "ppp_uniform"
    assert widget(first, "selectbox", "policy.pay_floor.kind").value == "ppp_uniform"
    second = start(url)
    assert not second.exception and not second.error
    assert metrics(second) == metrics(first)
    assert dict(second.query_params.items()) == url


def test_a_bad_link_says_what_is_wrong_and_keeps_the_address():
    at = start({**SMALL, "policy.pay_floor.kind": "maximum"})
    assert not at.exception
    assert any("policy.pay_floor.kind: 'maximum'" in shown(e) for e in at.error)
    assert at.query_params["policy.pay_floor.kind"] == "maximum"  # the link is not rewritten
    at = start({**SMALL, "tab": "Nowhere"})
    assert any("tab: 'Nowhere' is not allowed" in shown(e) for e in at.error)
    assert at.query_params["tab"] == "Nowhere"


def test_views_round_trip_through_the_url():
    view = View(
        preset="baseline",
        reform={
            "policy.pay_floor.kind": "absolute",
            "policy.pay_floor.usd_per_hour": 2.5,
            "policy.paid_rejections": True,
            "policy.max_fee_share": None,
            "platforms.open_marketplace.countries_served": ["USA", "IND"],
            "name": "null",
        },
        shared={"population.taskers": 2000, "seed": 7},
        replicates=4,
    )
    back, warnings = from_query(to_query(view))
    assert back == view
    assert not warnings
    _, warnings = from_query({**to_query(view), "v": "99"})
    assert warnings and "schema version 99" in warnings[0]


def test_the_url_view_builds_the_scenarios_it_names():
    view, _ = from_query({**SMALL, "policy.pay_floor.kind": "absolute"})
    baseline, reform = build(view)
    assert baseline.population.taskers == reform.population.taskers == 2000
    assert baseline.policy.pay_floor.kind == "none"
    assert reform.policy.pay_floor.kind == "absolute"


def test_every_preset_is_offered_and_picking_one_sets_the_levers():
    from dashboard.state import presets

    at = start()
    picker = widget(at, "selectbox", "preset")
    assert set(picker.options) >= {"baseline"} and len(picker.options) == len(presets())
    assert picker.options[0].startswith("baseline")
    if "us_federal_floor" not in presets():
        pytest.skip("scenarios/us_federal_floor.yaml is not in this checkout")
    picker.set_value("us_federal_floor")
    submit(at)
    assert not at.exception and not at.error
    assert at.query_params["preset"] == "us_federal_floor"
    assert widget(at, "selectbox", "policy.pay_floor.kind").value == "absolute"
    assert widget(at, "number_input", "policy.pay_floor.usd_per_hour").value == 7.25
    assert metrics(at)["Median pay/hour"][1].startswith("+")
    [reset] = [b for b in at.button if b.label == "Reset the reform to the baseline"]
    reset.click()
    at.run(timeout=TIMEOUT)
    assert at.query_params["preset"] == "baseline"
    assert "policy.pay_floor.kind" not in at.query_params
    assert at.query_params["both.population.taskers"] == "2000"  # run settings stay
    assert metrics(at)["Median pay/hour"][1].startswith("0.00 USD/h")


@pytest.mark.parametrize(
    "tab, expect",
    [
        ("By country", "plotly"),
        ("Distribution", "plotly"),
        ("Over time", "plotly"),
        ("Money flow", "plotly"),
        ("Method & sources", "dataframe"),
        ("Share & reproduce", "download"),
    ],
)
def test_each_tab_draws_when_opened_and_only_then(tab, expect):
    at = start()
    assert at.metric  # the headline tab is open first
    at.session_state["tab"] = tab
    at.run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    assert not at.metric  # the headline cards are not drawn behind another tab
    kinds = {el.type for el in at.main}
    drawn = {
        "plotly": lambda: at.get("plotly_chart"),
        "dataframe": lambda: at.dataframe,
        "download": lambda: at.get("download_button"),
    }[expect]()
    assert drawn, (tab, kinds)


def test_country_tab_switches_between_gross_and_net_pay():
    at = start()
    at.session_state["tab"] = "By country"
    at.run(timeout=TIMEOUT)
    assert at.radio(key="pay_basis").value == "gross"
    gross = [c.proto.spec for c in at.get("plotly_chart")]
    at.radio(key="pay_basis").set_value("net").run(timeout=TIMEOUT)
    assert not at.exception and not at.error
    net = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(net) == len(gross) == 6  # three charts, each in two panels
    titles = [json.loads(spec)["layout"]["title"]["text"].lower() for spec in net]
    assert all("net" in t for t in titles), titles
    assert not any("net" in json.loads(s)["layout"]["title"]["text"].lower() for s in gross)
