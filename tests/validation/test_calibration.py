"""The baseline meets every published target of sim/data/targets.yaml (outputs, never inputs)."""

from __future__ import annotations

import pytest

import sim
from sim.calibration import calibration_report, load_targets
from sim.compare import replicate_seeds
from tests.conftest import BASELINE


@pytest.mark.slow
def test_calibration_targets_met_with_five_replicates():
    scn = sim.load_scenario(BASELINE)
    results = [sim.run(scn, s) for s in replicate_seeds(scn.seed, 5)]
    report = calibration_report(results)
    failed = [
        f"{r['target']}: {r['model_mean']:.3g} not in [{r['accepted_low']}, {r['accepted_high']}]"
        for r in report["targets"]
        if not r["pass"]
    ]
    assert not failed, failed
    assert len(report["targets"]) == len(load_targets()) >= 9


def test_targets_are_not_parameters():
    """No target statistic is a scenario parameter: they can only come out of the model."""
    names = set(sim.load_scenario(BASELINE).to_dict().keys())
    for t in load_targets():
        assert t["statistic"].split(".")[-1] not in names
