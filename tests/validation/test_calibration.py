"""The baseline against the published targets of sim/data/targets.yaml (outputs, never inputs)."""

from __future__ import annotations

import pytest

import sim
from sim.calibration import calibration_report, load_targets
from sim.compare import replicate_seeds
from tests.conftest import BASELINE

# Targets the calibrated baseline misses (none: with five seeds at 20,000 taskers it meets all
# of them, as its posterior predictive does; docs/calibration.md). A miss is reported as
# failing, never tuned away; the test fails when a target starts to fail (add it here and say
# so in the docs) or a listed one starts to pass.
KNOWN_MISSES: set[str] = set()


@pytest.mark.slow
def test_calibration_targets_met_with_five_replicates():
    scn = sim.load_scenario(BASELINE)
    results = [sim.run(scn, s) for s in replicate_seeds(scn.seed, 5)]
    report = calibration_report(results)
    failed = {
        r["target"]: f"{r['model_mean']:.3g} not in [{r['accepted_low']}, {r['accepted_high']}]"
        for r in report["targets"]
        if not r["pass"]
    }
    assert set(failed) == KNOWN_MISSES, failed
    assert len(report["targets"]) == len(load_targets()) >= 8


def test_targets_are_not_parameters():
    """No target statistic is a scenario parameter: they can only come out of the model."""
    names = set(sim.load_scenario(BASELINE).to_dict().keys())
    for t in load_targets():
        assert t["statistic"].split(".")[-1] not in names


@pytest.mark.slow
def test_calibration_population_matches_20k_within_noise():
    """ABC runs at CALIBRATION_TASKERS: each target's mean over seeds matches 20,000 taskers
    within three standard errors of the difference (or a tenth of the target's range)."""
    import numpy as np

    from sim.calibration import statistic
    from sim.calibration_abc import CALIBRATION_TASKERS

    scn = sim.load_scenario(BASELINE)
    seeds = replicate_seeds(7, 3)
    values = {}
    for n in (CALIBRATION_TASKERS, 20_000):
        runs = [sim.run(sim.load_scenario(scn, {"population.taskers": n}), s) for s in seeds]
        values[n] = np.array([[statistic(r, t["statistic"]) for t in load_targets()] for r in runs])
    small, full = values[CALIBRATION_TASKERS], values[20_000]
    se = np.sqrt(small.var(axis=0, ddof=1) / 3 + full.var(axis=0, ddof=1) / 3)
    gap = np.abs(small.mean(axis=0) - full.mean(axis=0))
    for i, t in enumerate(load_targets()):
        lo, hi = t["accepted"]
        assert gap[i] <= max(3 * se[i], 0.1 * (hi - lo)), (t["name"], gap[i], se[i])
