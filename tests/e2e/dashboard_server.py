"""Start and stop `datalabour dashboard` for browser tests and the redraw measurement."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dashboard_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "datalabour"
    if script.exists():
        return [str(script), "dashboard", "--port", str(port)]
    cli = "from sim.cli import main; main()"
    return [sys.executable, "-c", cli, "dashboard", "--port", str(port)]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"dashboard not healthy at {url} after {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its worker processes too), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


SERVER_PIDS: dict[str, int] = {}  # URL -> the server's process id


@contextlib.contextmanager
def running_dashboard(log: Path) -> Iterator[str]:
    """`datalabour dashboard` on a free port; yields its URL and always stops it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            dashboard_command(port),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker processes die with it
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        SERVER_PIDS[url] = proc.pid
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            stop(proc)


# true once the script has finished: no "running" status, no progress bar
SCRIPT_DONE = (
    "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && !document.querySelector('[data-testid=\"stProgress\"]')"
)


def wait_idle(page, timeout_ms: int = 300_000) -> None:
    """Wait until the script has finished and the headline cards are on screen."""
    page.get_by_text("Median pay/hour").first.wait_for(timeout=timeout_ms)
    page.wait_for_function(f"() => {SCRIPT_DONE}", timeout=timeout_ms)


def headline(page) -> dict[str, str]:
    """Headline cards: label -> value, delta and interval text."""
    import re

    cards = page.locator('[data-testid="stMetric"]')
    out = {}
    for i in range(cards.count()):
        label, _, rest = cards.nth(i).inner_text().strip().partition("\n")
        out[label.strip()] = re.sub(r"\s+", " ", rest).strip()
    return out


def set_pay_floor(page, usd_per_hour: float, submit: bool = True) -> None:
    """Choose the absolute pay floor at a level in the sidebar form and submit it."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    rule = sidebar.get_by_role("combobox", name="Pay floor rule")
    if rule.input_value() != "absolute":
        rule.click()
        page.get_by_role("option", name="absolute", exact=True).click()
    level = sidebar.get_by_role("spinbutton", name="Absolute floor, USD per hour")
    level.fill(f"{usd_per_hour:g}")
    level.press("Tab")
    if submit:
        submit_form(page)


def submit_form(page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Run comparison").click()


def _parents() -> dict[int, int]:
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            out[int(stat.parent.name)] = int(fields[1])
    return out


def worker_pids(url: str) -> set[int]:
    """The server's simulation workers: processes forked by its forkserver."""
    parents = _parents()
    server = SERVER_PIDS[url]
    children = {pid for pid, parent in parents.items() if parent == server}
    return {pid for pid, parent in parents.items() if parent in children and parent != server}


def alive(pid: int) -> bool:
    return pid in _parents()
