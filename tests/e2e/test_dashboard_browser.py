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
