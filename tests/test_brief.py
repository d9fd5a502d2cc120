"""`datalabour brief`: a self-contained HTML page with the reform, headline and command."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "population.taskers=1000", "--set", "weeks=14", "--set", "burn_in_weeks=2"]


def test_the_brief_is_self_contained_and_holds_the_headline(tmp_path):
    out = tmp_path / "brief.html"
    result = CliRunner().invoke(
        app,
        ["brief", str(ROOT / "scenarios/local_minimum_wage.yaml"), *SMALL,
         "--replicates", "2", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=[\"']https?://", html, re.I)
    assert "Brief: local_minimum_wage vs baseline" in html
    assert "Median effective hourly pay" in html and "95% interval" in html
    assert "datalabour brief" in html and "--replicates 2" in html
    assert "seed noise only" in html
    assert "@media print" in html


def test_a_bad_out_path_is_refused_before_any_simulation(tmp_path):
    runner = CliRunner()
    scenario = str(ROOT / "scenarios/local_minimum_wage.yaml")
    for out, words in (
        (tmp_path, "is a folder"),
        (tmp_path / "missing" / "b.html", "does not exist"),
    ):
        result = runner.invoke(app, ["brief", scenario, "--out", str(out)])
        assert result.exit_code == 2 and words in result.output, result.output
    existing = tmp_path / "old.html"
    existing.write_text("old")
    result = runner.invoke(app, ["brief", scenario, "--out", str(existing)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert existing.read_text() == "old"


def test_the_headline_measures_after_a_late_reform_start():
    import sim
    from dashboard.state import measured_after_start

    base = sim.load_scenario(ROOT / "scenarios/baseline.yaml")
    reform = sim.load_scenario(base, {"policy.start_week": 52, "policy.paid_rejections": True})
    b, r = measured_after_start(base, reform)
    assert b.burn_in_weeks == r.burn_in_weeks == 52
    assert measured_after_start(base, base) == (base, base)
