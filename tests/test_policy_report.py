"""docs/policies.md's robustness section: seed interval, ensemble range and verdict per delta."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.compare import BEYOND_NOISE, DEPENDS, ROBUST, WITHIN_NOISE, robustness, seed_verdict
from sim.outcomes import POLICY_REPORT
from sim.report import delta_verdict, write_policy_report

ROOT = Path(__file__).resolve().parent.parent


def test_verdicts_need_noise_and_sign_agreement():
    assert seed_verdict(0.3, 0.1, 0.5) == BEYOND_NOISE
    assert seed_verdict(0.3, -0.1, 0.5) == WITHIN_NOISE
    assert robustness(0.95) == ROBUST and robustness(0.6) == DEPENDS and robustness(None) is None
    row = pd.Series({"delta": 0.3, "delta_ci_low": 0.1, "delta_ci_high": 0.5,
                     "share_same_sign": 0.6})
    assert delta_verdict(row).startswith(DEPENDS)
    assert delta_verdict(row.replace(0.6, 0.95)).startswith(ROBUST)
    assert delta_verdict(row.replace(0.1, -0.2)) == WITHIN_NOISE  # noise first


def test_policy_report_carries_ensemble_ranges_and_verdicts(tmp_path: Path):
    (tmp_path / "baseline.yaml").write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: baseline\n"
        "set: {population.taskers: 500, weeks: 12, burn_in_weeks: 3}\n"
    )
    (tmp_path / "floor.yaml").write_text(
        "extends: baseline.yaml\nname: floor\npolicy: {pay_floor: {kind: local_minimum_wage}}\n"
    )
    doc = tmp_path / "policies.md"
    table = write_policy_report(tmp_path, doc, replicates=2, ensemble=3)
    assert list(table["scenario"]) == ["floor"]
    text = doc.read_text()
    assert "### Robustness of each headline delta" in text and "over 3 draws" in text
    section = text.split("### Robustness of each headline delta")[1]
    rows = [line for line in section.splitlines() if line.startswith("| floor |")]
    assert len(rows) == len(POLICY_REPORT)
    verdicts = {line.split("|")[-2].strip() for line in rows}
    allowed = (ROBUST, DEPENDS, WITHIN_NOISE, "no change")
    assert all(v.startswith(allowed) for v in verdicts)
    assert all(line.split("|")[5].strip().startswith("[") for line in rows)  # ensemble range
