"""Measure the dashboard's redraw time after a lever change, in a real browser.

    .venv/bin/python tests/e2e/measure_redraw.py [--replicates 10] [--query EXTRA]

Starts `datalabour dashboard`, opens the baseline (full size unless --query shrinks it),
waits for it, then sets an absolute pay floor and times from the click on "Run comparison"
to the new headline on screen (baseline runs cached, reform runs new), and to the provisional
headline shown while runs are still going. Repeats with a second floor level. Prints the
seconds; the dashboard's own "computed in" line is printed too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCRIPT_DONE,
    running_dashboard,
    set_pay_floor,
    submit_form,
    wait_idle,
)


def computed_line(page) -> str:
    text = page.inner_text("body")
    found = re.search(r"computed in [^\n]*", text)
    return found.group(0) if found else "(no 'computed in' line found)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--query", default="", help="extra URL parameters, e.g. both.weeks=30")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    query = f"replicates={args.replicates}" + (f"&{args.query}" if args.query else "")
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
            set_pay_floor(page, level, submit=False)
            start = time.perf_counter()
            submit_form(page)
            early = "no provisional view, "
            # Poll from Python every 100 ms with a cheap check (textContent needs no layout):
            # Playwright's own waits poll on every animation frame, which keeps a headless
            # browser repainting and takes CPU from the simulation workers on 2 cores.
            done = (
                f"() => {SCRIPT_DONE}"
                f" && document.body.textContent.includes('usd_per_hour = {level:.1f}')"
                " && document.body.textContent.includes('computed in')"
            )
            confirm = "() => document.body.textContent.includes('Start this comparison')"
            provisional = "() => document.body.textContent.includes('Provisional:')"
            asked = ""
            while not page.evaluate(done):
                if not asked and page.evaluate(confirm):  # estimated above a minute here
                    page.get_by_role("button", name=re.compile("Start this comparison")).click()
                    asked = "confirmation asked (estimate above a minute), "
                if early.startswith("no") and page.evaluate(provisional):
                    early = f"provisional headline after {time.perf_counter() - start:.1f} s, "
                time.sleep(0.1)
            print(
                f"redraw after pay floor {level} USD/h: {asked}{early}complete "
                f"{time.perf_counter() - start:.1f} s; {computed_line(page)}"
            )
        browser.close()


if __name__ == "__main__":
    main()
