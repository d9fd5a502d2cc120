"""Measure the dashboard's redraw time after a lever change, in a real browser.

    .venv/bin/python tests/e2e/measure_redraw.py [--replicates 10] [--query EXTRA]
        [--ensemble 20 | --skip-ensemble]

Starts `datalabour dashboard`, opens the baseline (full size unless --query shrinks it, e.g.
--query "both.population.taskers=2000&both.weeks=30"), waits for it, then sets an absolute pay
floor and times from the click on "Run comparison" to the new headline on screen (baseline runs
cached, reform runs new), and to the provisional headline shown while runs are still going.
Repeats with a second floor level, then the first again (all from cache).

Then the ensemble view (`compare --ensemble` over N posterior draws, 2N more runs): times from
switching on "Uncertainty from assumptions" to the provisional view (the seed cards, left on
screen, with the ensemble's progress bar) and to the complete view (every card with its range
over assumptions and robustness verdict, the dashboard idle). The switch runs the dashboard's
default number of draws, --ensemble's default; any other N opens the link with `ensemble=N`
and clicks its "Run the uncertainty from assumptions (N draws)" button instead (the same run
after the click). --skip-ensemble leaves it out. Prints the seconds; the dashboard's own
"computed in" line too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SCRIPT_DONE,
    running_dashboard,
    set_pay_floor,
    submit_form,
    wait_idle,
)

sys.path.insert(0, str(ROOT))
from dashboard.state import DEFAULT_ENSEMBLE, MAX_ENSEMBLE

# The script done and none of its previous run's elements left on screen: just after a click,
# before the status widget shows, the old page (its "computed in" line too) is still there.
DONE = f"{SCRIPT_DONE} && !document.querySelector('[data-stale=\"true\"]')"


def computed_line(page) -> str:
    text = page.inner_text("body")
    found = re.search(r"computed in [^\n]*", text)
    return found.group(0) if found else "(no 'computed in' line found)"


def has_text(text: str) -> str:
    """A cheap browser-side check (textContent needs no layout) that the page shows text."""
    return f"document.body.textContent.includes({text!r})"


def wait_until(page, done: str, on_poll: Callable[[], None]) -> None:
    """Poll from Python every 100 ms until `done` holds: Playwright's own waits poll on every
    animation frame, which keeps a headless browser repainting and takes CPU from the
    simulation workers on 2 cores."""
    while not page.evaluate(f"() => {done}"):
        on_poll()
        time.sleep(0.1)


def lever_change(page, level: float) -> None:
    """Time a pay floor change: provisional headline and complete redraw."""
    set_pay_floor(page, level, submit=False)
    start = time.perf_counter()
    submit_form(page)
    early, asked = "no provisional view, ", ""

    def on_poll() -> None:
        nonlocal early, asked
        if not asked and page.evaluate(f"() => {has_text('Start this comparison')}"):
            # estimated above a minute here
            page.get_by_role("button", name=re.compile("Start this comparison")).click()
            asked = "confirmation asked (estimate above a minute), "
        if early.startswith("no") and page.evaluate(f"() => {has_text('Provisional:')}"):
            early = f"provisional headline after {time.perf_counter() - start:.1f} s, "

    done = f"{DONE} && {has_text(f'usd_per_hour = {level:.1f}')}"
    wait_until(page, f"{done} && {has_text('computed in')}", on_poll)
    print(
        f"redraw after pay floor {level} USD/h: {asked}{early}complete "
        f"{time.perf_counter() - start:.1f} s; {computed_line(page)}"
    )


def ensemble_view(page, draws: int, by_switch: bool) -> None:
    """Time the ensemble view from switching it on: provisional view and complete view."""
    if by_switch:
        how = "switch on"
        control = page.get_by_text("Uncertainty from assumptions", exact=True)
    else:
        how = f"link with ensemble={draws}, button"
        name = f"Run the uncertainty from assumptions ({draws} draws)"
        control = page.get_by_role("button", name=name)
    start = time.perf_counter()
    control.click()
    early = "no provisional view, "

    def on_poll() -> None:
        nonlocal early
        shown = f"{has_text('posterior draws, ')} && {has_text('Median pay/hour')}"
        if early.startswith("no") and page.evaluate(f"() => {shown}"):
            early = f"provisional view after {time.perf_counter() - start:.1f} s, "

    wait_until(page, f"{DONE} && {has_text('of draws agree in sign')}", on_poll)
    print(
        f"ensemble view ({draws} posterior draws, {2 * draws} runs; {how}): {early}complete "
        f"{time.perf_counter() - start:.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--query", default="", help="extra URL parameters, e.g. both.weeks=30")
    ap.add_argument(
        "--ensemble",
        type=int,
        default=DEFAULT_ENSEMBLE,
        help=f"posterior draws (default {DEFAULT_ENSEMBLE}, the switch's)",
    )
    ap.add_argument("--skip-ensemble", action="store_true", help="do not time the ensemble view")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if not args.skip_ensemble and not 1 <= args.ensemble <= MAX_ENSEMBLE:
        ap.exit(2, f"--ensemble: {args.ensemble} is not allowed; expected 1 to {MAX_ENSEMBLE}\n")
    by_switch = args.ensemble == DEFAULT_ENSEMBLE
    query = f"replicates={args.replicates}"
    if not args.skip_ensemble and not by_switch:
        query += f"&ensemble={args.ensemble}"  # the switch on, the ensemble waiting for a click
    query += f"&{args.query}" if args.query else ""
    log = Path(__file__).resolve().parent / "artifacts" / "redraw-server.log"
    with running_dashboard(log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        start = time.perf_counter()
        page.goto(f"{url}/?{query}")
        wait_idle(page, timeout_ms=1_800_000)
        print(
            f"first load (baseline runs): {time.perf_counter() - start:.1f} s; "
            f"{computed_line(page)}"
        )
        for level in (4, 5, 4):  # the last one all from cache: the drawing alone
            lever_change(page, level)
        if not args.skip_ensemble:
            ensemble_view(page, args.ensemble, by_switch)
        browser.close()


if __name__ == "__main__":
    main()
