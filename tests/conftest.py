"""Shared fixtures: small, fast scenarios built from the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SMALL = {"population.taskers": 3000, "weeks": 30, "burn_in_weeks": 5}


@pytest.fixture(scope="session")
def small_baseline() -> sim.Scenario:
    return sim.load_scenario(BASELINE, SMALL)


@pytest.fixture(scope="session")
def small_run(small_baseline):
    return sim.run(small_baseline, seed=5)
