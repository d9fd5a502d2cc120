"""The global sensitivity report's pipeline at toy size: screening, selection, Sobol, document."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd
import pytest

from sim import sweep
from sim.priors import load_priors
from sim.sensitivity_report import SCREENING, generate, influential

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", SCREENING)
def test_screening_sweeps_cover_every_prior(name):
    spec = sweep.read_sweep(ROOT / "scenarios" / "sweeps" / name)
    assert spec.design.kind == "morris"
    assert {p.key for p in load_priors()} <= set(spec.design.parameters)
    assert all(p.paths[1:] == tuple(spec.links.get(p.key, ())) for p in load_priors())


def test_influential_ranks_by_normalised_mu_star():
    table = pd.DataFrame({
        "outcome": ["a", "a", "a", "b", "b", "b"],
        "parameter": ["x", "y", "z", "x", "y", "z"],
        "mu_star": [10.0, 1.0, 0.0, 0.001, 0.0, 0.002],  # z leads outcome b on its own scale
    })
    assert influential(table, 2) == ["x", "z"]
    tied = pd.DataFrame({
        "outcome": ["a", "a", "b", "b", "c", "c"],
        "parameter": ["x", "y", "x", "y", "x", "y"],
        "mu_star": [1.0, 0.1, 0.2, 1.0, 0.9, 0.8],  # x and y each lead; x is larger overall
    })
    assert influential(tied, 1) == ["x"]


@pytest.mark.slow
def test_quick_report_runs_the_whole_pipeline(tmp_path: Path):
    doc = tmp_path / "sensitivity.md"
    runner = functools.partial(sweep.run_sweep, workers=1)
    stages = generate(ROOT / "scenarios" / "sweeps", tmp_path / "stores", doc, top=3,
                      quick=True, runner=runner)
    assert [s.method for s in stages] == ["morris", "sobol", "morris", "sobol"]
    for morris, sobol in (stages[:2], stages[2:]):
        assert list(sobol.spec.design.parameters) == [
            p for p in morris.spec.design.parameters
            if p in influential(morris.table, 3)
        ]
        assert (tmp_path / "stores" / f"{sobol.spec.name}.yaml").exists()
    text = doc.read_text()
    assert "QUICK RUN" in text and "delta.median_effective_hourly_pay_usd" in text
    assert len(set(re.findall(r"`([a-z_]+\.[a-z_0-9.]+)`", text))) >= 8
    assert (tmp_path / "sensitivity" / "gsa_sobol_delta.html").exists()
    again = generate(ROOT / "scenarios" / "sweeps", tmp_path / "stores", doc, top=3,
                     quick=True, runner=runner)  # resumes: nothing runs again
    assert [s.table.equals(t.table) for s, t in zip(stages, again, strict=True)] == [True] * 4
