"""Layout in a real browser at a desktop (1400 px) and a phone (390 px) width.

Card titles are whole (not cut with an ellipsis); chart titles, subtitles and any subplot
titles neither overlap each other nor run past their chart or into its plot area. Small runs;
screenshots of the whole page go to tests/e2e/artifacts/ (or $DASH_SHOTS).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from dashboard_server import CHROMIUM, SCRIPT_DONE, running_dashboard, wait_idle
from datalabour_dashboard.cards import HEADLINE_CARDS, SPOTLIGHT_COUNTRIES
from datalabour_dashboard.labels import outcome

SHOTS = Path(os.environ.get("DASH_SHOTS") or Path(__file__).resolve().parent / "artifacts")
SMALL = "both.population.taskers=2000&both.weeks=30&both.burn_in_weeks=5&replicates=2"
SIDE = "local_minimum_wage,paid_rejections,us_federal_floor"
WIDTHS = [1400, 390]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]

# Each card title: its text and whether it is cut (the text wider than its box).
CARD_TITLES = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]')]
  .map(e => ({text: e.innerText.trim(), cut: e.scrollWidth > e.clientWidth + 1}))"""

# Per chart: its width, the boxes of its titles (title, subtitle, and annotations: subplot
# titles, labels such as "burn-in") and of its plot areas, relative to the chart.
CHART_BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(chart => {
  const c = chart.getBoundingClientRect();
  const box = (e, text) => {
    const b = e.getBoundingClientRect();
    return {text, left: b.left - c.left, right: b.right - c.left,
            top: b.top - c.top, bottom: b.bottom - c.top,
            annotation: e.matches('g.annotation')};
  };
  const titles = [...chart.querySelectorAll('.gtitle, .gtitle-subtitle, g.annotation')]
    .filter(e => e.textContent.trim()).map(e => box(e, e.textContent.trim()));
  const plots = [...chart.querySelectorAll('.nsewdrag')].map(e => box(e, 'plot area'));
  return {width: c.width, titles, plots};
})"""


# Heights of the bordered boxes holding the headline cards, in page order.
CARD_HEIGHTS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
  .map(m => m.closest('[data-testid="stVerticalBlockBorderWrapper"]')
            || m.closest('[data-testid="stVerticalBlock"]'))
  .map(e => e.getBoundingClientRect().height)"""

# The side-by-side table: its header cells' text, whether each can be scrolled into view
# inside the table's box, and whether that box stays within the page's width.
TABLE_FIT = """() => {
  const t = document.querySelector('[data-testid="stTable"]');
  const box = t.getBoundingClientRect();
  const scroller = [t, ...t.querySelectorAll('*')].find(
    e => e.scrollWidth > e.clientWidth + 1
      && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX));
  const cells = [...t.querySelectorAll('thead th')].map(th => {
    const b = th.getBoundingClientRect();
    return {text: th.innerText.trim(), visible: b.right <= box.right + 1 || !!scroller};
  });
  return {right: box.right, page: document.documentElement.clientWidth, cells};
}"""


def overlap(a: dict, b: dict) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1
    )


def layout_faults(charts: list[dict]) -> list[str]:
    """Titles that overlap each other or run past their chart's edges; the chart's title and
    subtitle must also keep off its plot areas (annotations may label a plot from inside)."""
    faults = []
    for chart in charts:
        titles = chart["titles"]
        for i, a in enumerate(titles):
            if a["left"] < -1 or a["right"] > chart["width"] + 1:
                faults.append(f"{a['text']!r} runs past its chart ({chart['width']:.0f} px)")
            faults += [
                f"{a['text']!r} overlaps {b['text']!r}" for b in titles[i + 1 :] if overlap(a, b)
            ]
            if not a.get("annotation"):
                faults += [
                    f"{a['text']!r} overlaps a plot" for p in chart["plots"] if overlap(a, p)
                ]
    return faults


def settled(page) -> None:
    page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
    page.wait_for_function(f"() => {SCRIPT_DONE}", timeout=300_000)
    page.wait_for_timeout(1500)  # let plotly finish laying out


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to it."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.wait_for_timeout(1000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))
    page.set_viewport_size(size)


@pytest.fixture(scope="module")
def server():
    with running_dashboard(SHOTS / "layout-server.log") as url:
        yield url


@pytest.mark.parametrize("width", WIDTHS)
def test_card_titles_are_whole(server, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page)
    cards = len(HEADLINE_CARDS) + len(SPOTLIGHT_COUNTRIES)  # the baseline has all five
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stMetricLabel\"]').length >= {cards}"
    )
    titles = page.evaluate(CARD_TITLES)
    shown = [t["text"] for t in titles]
    assert shown[: len(HEADLINE_CARDS)] == [outcome(name).title for name in HEADLINE_CARDS]
    assert "Philippines" in shown  # the spotlight countries' cards are checked too
    assert not [t["text"] for t in titles if t["cut"]], titles
    screenshot(page, f"layout-{width}-headline.png")
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_titles_do_not_overlap(server, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server}/?{SMALL}&tab={quote('By country')}")
    settled(page)
    charts = page.evaluate(CHART_BOXES)
    assert not layout_faults(charts), layout_faults(charts)
    assert all(c["titles"] and c["plots"] for c in charts), charts
    assert len(charts) == 6, charts  # three charts of two panels, each panel its own chart
    screenshot(page, f"layout-{width}-by-country.png")

    page.goto(f"{server}/?{SMALL}&tab={quote('Side by side')}&side={SIDE}")
    page.get_by_role("button", name=re.compile("Compare side by side")).click()
    settled(page)
    charts = page.evaluate(CHART_BOXES)
    assert not layout_faults(charts), layout_faults(charts)
    assert len(charts) == 6, charts  # one chart per outcome
    table = page.evaluate(TABLE_FIT)  # every column reachable, none cut off at the edge
    assert table["right"] <= table["page"] + 1, table
    assert len(table["cells"]) >= 6 and all(c["visible"] for c in table["cells"]), table
    screenshot(page, f"layout-{width}-side-by-side.png")
    page.close()


def test_headline_cards_in_a_row_share_a_height(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/?{SMALL}")
    wait_idle(page)
    heights = page.evaluate(CARD_HEIGHTS)[:5]  # the first row of five
    assert len(heights) == 5 and max(heights) - min(heights) <= 1, heights
    page.close()


def test_the_fault_finder_sees_overlapping_titles():
    """The check above can fail: two boxes sharing pixels, and a title past the edge."""
    a = {"text": "a", "left": 0, "right": 100, "top": 0, "bottom": 20}
    b = {"text": "b", "left": 90, "right": 200, "top": 5, "bottom": 25}
    far = {"text": "c", "left": 300, "right": 420, "top": 0, "bottom": 20}
    assert layout_faults([{"width": 400, "titles": [a, b], "plots": []}]) == ["'a' overlaps 'b'"]
    assert layout_faults([{"width": 400, "titles": [a, far], "plots": []}]) == [
        "'c' runs past its chart (400 px)"
    ]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("tab", ["Distribution", "Over time", "Money flow"])
def test_the_other_charts_titles_fit(server, browser, width, tab):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server}/?{SMALL}&tab={quote(tab)}")
    settled(page)
    charts = page.evaluate(CHART_BOXES)
    assert charts and all(c["titles"] for c in charts), charts
    assert not layout_faults(charts), layout_faults(charts)
    page.close()
