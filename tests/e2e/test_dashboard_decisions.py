"""The analyst's decisions in a real browser: Stop, validation, side by side, the brief, links.

One server for the module; runs are small except the two that must be long enough to stop.
Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from dashboard_server import (
    CHROMIUM,
    SCRIPT_DONE,
    alive,
    running_dashboard,
    set_pay_floor,
    wait_idle,
    worker_pids,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SMALL = "both.population.taskers=2000&both.weeks=30&both.burn_in_weeks=5&replicates=3"
LONG = "both.population.taskers=200000&replicates=4"  # a minute or more here: stoppable

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture(scope="module")
def server():
    with running_dashboard(ARTIFACTS / "decisions-server.log") as url:
        yield url


def wait_until(condition, timeout: float, page=None) -> bool:
    """Poll `condition`; with a page, let Playwright take its events meanwhile (page.url)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)
    return condition()


def start_long(page, server: str) -> set[int]:
    """Open a link to a long comparison, confirm it, and return its worker processes."""
    page.goto(f"{server}/?{LONG}")
    page.get_by_role("button", name=re.compile("Start this comparison")).click()
    assert wait_until(lambda: len(worker_pids(server)) >= 2, 120), worker_pids(server)
    return worker_pids(server)


def test_stop_cancels_the_runs_and_the_next_run_is_fast(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    workers = start_long(page, server)
    page.get_by_role("button", name="Stop runs").click()
    assert wait_until(lambda: not any(alive(p) for p in workers), 5), "workers outlived Stop"
    page.get_by_text("Stopped").first.wait_for(timeout=30_000)
    workers = start_long(page, server)
    page.get_by_test_id("stBaseButton-header").get_by_text("Stop").click()  # Streamlit's own
    assert wait_until(lambda: not any(alive(p) for p in workers), 5), "workers outlived Stop"
    start = time.monotonic()
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page, timeout_ms=120_000)
    assert time.monotonic() - start < 60  # nothing abandoned runs ahead of it
    page.close()


def test_a_closed_session_has_its_runs_cancelled(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    workers = start_long(page, server)
    page.close()
    assert wait_until(lambda: not any(alive(p) for p in workers), 15), "runs outlived the session"


def test_an_invalid_value_shows_a_message_and_blocks_run(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page)
    set_pay_floor(page, 5000, submit=False)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Fix before running").wait_for(timeout=30_000)
    assert "policy.pay_floor.usd_per_hour" in sidebar.inner_text()
    assert sidebar.get_by_role("button", name="Run comparison").is_disabled()
    page.screenshot(path=str(ARTIFACTS / "3-invalid-lever.png"))
    page.close()


def test_three_reforms_side_by_side(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    side = "local_minimum_wage,paid_rejections,us_federal_floor"
    page.goto(f"{server}/?{SMALL}&tab={quote('Side by side')}&side={side}")
    page.get_by_role("button", name=re.compile("Compare side by side")).click()
    table = page.locator('[data-testid="stTable"]')
    table.wait_for(timeout=300_000)
    text = table.inner_text()
    for name in side.split(","):
        assert name in text
    assert len(table.locator("tbody tr").all()) == 3
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "4-side-by-side.png"), full_page=True)
    page.close()


def test_the_brief_downloads_with_the_headline_table(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page.goto(f"{server}/?{SMALL}&preset=local_minimum_wage&tab={quote('Share & reproduce')}")
    button = page.get_by_role("button", name="Brief (HTML)")
    button.wait_for(timeout=300_000)
    with page.expect_download(timeout=120_000) as download:
        button.click()
    assert download.value.suggested_filename.startswith("local_minimum_wage-vs-baseline")
    path = tmp_path / "brief.html"
    download.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert "Headline: reform minus baseline" in html and "Median effective hourly pay" in html
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?://", html, re.I)
    brief = browser.new_page(viewport={"width": 1100, "height": 900})
    brief.goto(path.as_uri())
    brief.wait_for_timeout(1500)
    brief.screenshot(path=str(ARTIFACTS / "5-brief.png"), full_page=True)
    brief.close()
    page.close()


def test_a_shared_url_restores_the_tab_and_currency(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page)
    page.get_by_role("tab", name="By country").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    page.wait_for_function(f"() => {SCRIPT_DONE}", timeout=120_000)
    page.get_by_text("PPP (international $)").click()
    assert wait_until(lambda: "currency=PPP" in page.url and "tab=By" in page.url, 30, page)
    other = browser.new_page(viewport={"width": 1400, "height": 1100})
    other.goto(page.url)
    other.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    selected = other.get_by_role("tab", selected=True)
    assert selected.inner_text().strip() == "By country"
    assert other.get_by_role("radio", name="PPP (international $)").is_checked()
    assert "int$" in other.locator(".js-plotly-plot").first.inner_text()
    other.close()
    page.close()
