"""End to end in a real browser: `datalabour dashboard`, Debian's chromium, Playwright.

Start the server, change the pay floor, submit, see the headline change, open the page's
URL in a new page and see the same numbers. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_server import (
    CHROMIUM,
    headline,
    running_dashboard,
    set_pay_floor,
    wait_idle,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SMALL = "both.population.taskers=2000&both.weeks=30&both.burn_in_weeks=5&replicates=3"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium; "
        ".ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def server():
    with running_dashboard(ARTIFACTS / "server.log") as url:
        yield url


def test_change_the_pay_floor_and_share_the_link(server, browser):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page)
    before = headline(page)
    assert "0.00 USD/h" in before["Median pay/hour"], before

    set_pay_floor(page, 4)
    page.get_by_text("= absolute").first.wait_for(timeout=300_000)
    wait_idle(page)
    after = headline(page)
    assert after["Median pay/hour"] != before["Median pay/hour"]
    assert after["Median pay/hour"].split(" ")[1].startswith("+"), after
    assert "policy.pay_floor.kind=absolute" in page.url
    page.screenshot(path=str(ARTIFACTS / "1-headline-after-pay-floor.png"), full_page=True)

    shared_url = page.url
    other = browser.new_page(viewport={"width": 1500, "height": 1800})
    other.goto(shared_url)
    wait_idle(other)
    assert headline(other) == after
    other.get_by_role("tab", name="By country").click()  # drawn when opened
    other.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
    other.wait_for_timeout(1500)  # let plotly finish laying out
    other.screenshot(path=str(ARTIFACTS / "2-by-country-from-shared-link.png"), full_page=True)
    other.close()
    page.close()


# While the ensemble runs: its progress bar is on screen, and how many headline cards are
# drawn and how many of them are stale (left over from the last run, greyed out)
CARDS_WHILE_RUNNING = """() => {
  if (!document.querySelector('[data-testid="stProgress"]')) return null;
  const cards = [...document.querySelectorAll('[data-testid="stMetric"]')];
  return {cards: cards.length,
          stale: cards.filter(m => m.closest('[data-stale="true"]')).length};
}"""


def test_the_seed_view_is_live_while_the_ensemble_runs(server, browser):
    """The cards with seed intervals are drawn first and stay usable (not greyed as stale)
    while the posterior draws run; then every card carries the range over assumptions."""
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    page.goto(f"{server}/?{SMALL}&policy.pay_floor.kind=absolute&ensemble=3")
    wait_idle(page)
    page.get_by_role("button", name="Run the uncertainty from assumptions (3 draws)").click()
    during = page.wait_for_function(CARDS_WHILE_RUNNING, polling=50, timeout=300_000)
    seen = during.json_value()
    assert seen["cards"] >= 10 and seen["stale"] == 0, seen
    page.get_by_text("of draws agree in sign").first.wait_for(timeout=300_000)
    wait_idle(page)
    page.close()
