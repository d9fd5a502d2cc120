"""The dashboard cannot be turned against its host, and says plainly what is wrong (AppTest).

A link never starts a large comparison without a click; text from a link or an upload is
shown escaped; an upload may extend only a bundled scenario; an invalid lever blocks Run; the
URL holds the tab, currency and window.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.state import read_upload
from sim.scenario import ScenarioError

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
    monkeypatch.setenv("DATALABOUR_DASHBOARD_WORKERS", "1")


def start(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run(timeout=TIMEOUT)
    return at


def shown(element) -> str:
    return re.sub(r"\\(.)", r"\1", element.value)


def widget(at: AppTest, kind: str, path: str):
    return getattr(at, kind)(key=f"w{at.session_state['widgets']}:{path}")


def run_button(at: AppTest):
    [button] = [b for b in at.button if b.label == "Run comparison"]
    return button


def test_a_link_to_a_huge_comparison_starts_nothing_without_a_click():
    from dashboard.runs import POOL

    at = start({"both.weeks": "5200", "replicates": "50"})
    assert not at.exception
    assert POOL.active() == 0 and not at.metric
    assert any("limit without confirmation" in shown(w) for w in at.warning)
    assert [b for b in at.button if b.label.startswith("Start this comparison")]


def test_text_from_a_link_is_shown_escaped_never_as_markdown():
    link = "[click](http://evil.example) ![img](http://evil.example/i.png) <b>x</b>"
    at = start({**SMALL, "preset": link})
    assert not at.exception
    [error] = at.error
    assert "[click](http" not in error.value and "![img](" not in error.value
    assert "<b>" not in error.value
    assert link in shown(error)  # the reader sees exactly what the link said
    at = start({**SMALL, "v": link})  # an older schema version: a warning quoting the link
    assert all("](http" not in w.value for w in at.warning)
    assert any(link in shown(w) for w in at.warning)


@pytest.mark.parametrize("parent", ["../../etc/passwd", "/etc/hostname", "../README.md"])
def test_an_upload_may_extend_only_a_bundled_scenario(parent, monkeypatch):
    opened = []
    real_open = Path.open

    def spy(self, *args, **kwargs):
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(ScenarioError, match="expected the name of a bundled scenario") as info:
        read_upload("r.yaml", f"extends: {parent}\n".encode())
    assert not any(parent.split("/")[-1] in str(p) for p in opened)
    other = "../../etc/no-such-file"
    with pytest.raises(ScenarioError) as missing:
        read_upload("r.yaml", f"extends: {other}\n".encode())
    # the same message whether the file exists or not: nothing is revealed about the server
    assert str(info.value).replace(parent, "X") == str(missing.value).replace(other, "X")
    scenario, _ = read_upload("r.yaml", b"extends: baseline\npolicy: {paid_rejections: true}\n")
    assert scenario.policy.paid_rejections


def test_an_invalid_lever_is_named_beside_run_and_blocks_it():
    at = start(SMALL)
    before = {m.label: m.value for m in at.metric}
    widget(at, "selectbox", "policy.pay_floor.kind").set_value("absolute")
    widget(at, "number_input", "policy.pay_floor.usd_per_hour").set_value(5000.0)
    at.run(timeout=TIMEOUT)
    assert not at.exception
    [error] = at.error
    assert "policy.pay_floor.usd_per_hour: 5000" in shown(error)
    assert run_button(at).disabled
    assert {m.label: m.value for m in at.metric} == before


def test_a_value_outside_the_observed_range_runs_with_a_warning():
    at = start(SMALL)
    widget(at, "selectbox", "policy.pay_floor.kind").set_value("absolute")
    widget(at, "number_input", "policy.pay_floor.usd_per_hour").set_value(900.0)
    at.run(timeout=TIMEOUT)
    assert not at.error
    assert any("outside the observed range" in shown(w) for w in at.warning)
    assert not run_button(at).disabled


def test_the_url_holds_the_tab_currency_and_window():
    at = start({**SMALL, "tab": "By country", "currency": "PPP", "window": "whole"})
    assert not at.exception and not at.error
    assert not at.metric  # the headline tab is not the open one
    assert at.get("plotly_chart")
    assert at.radio(key="currency").value == "PPP"
    assert at.radio(key="window").value == "whole"
    assert at.query_params["tab"] == "By country" and at.query_params["currency"] == "PPP"
    at.radio(key="currency").set_value("USD")
    at.run(timeout=TIMEOUT)
    assert "currency" not in at.query_params  # back to the default
