"""A reform's effect over the calibration posterior: per-draw paired deltas and their spread.

Each draw is one particle of the posterior (drawn by weight) applied to both scenarios, run with
one common seed; the spread of the per-draw deltas says how much a conclusion depends on what
the targets leave unknown, beside the seed interval of the ordinary comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration_abc import POSTERIOR, draw_particles, load_posterior
from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import get_path, load_scenario


def particle_for(baseline: Scenario, reform: Scenario, particle: dict[str, float]) -> dict:
    """The particle's overrides that apply to the reform: those the reform does not change.

    A reform that sets a calibrated parameter itself (e.g. a faster AI cost decline) keeps its
    own value; the particle is applied everywhere else.
    """
    b, r = baseline.to_dict(), reform.to_dict()
    out = {}
    for path, value in particle.items():
        try:
            same = get_path(b, path) == get_path(r, path)
        except ScenarioError:  # a path one of them lacks
            same = False
        if same:
            out[path] = value
    return out


def ensemble_particles(
    baseline: Scenario, draws: int, root_seed: int, posterior: str | Path | None = None
) -> list[dict[str, float]]:
    """`draws` particles of the posterior drawn by weight, checked to load on the baseline."""
    particles = draw_particles(load_posterior(Path(posterior or POSTERIOR)), draws, root_seed)
    for particle in particles:
        load_scenario(baseline, particle)
    return particles


def ensemble_deltas(
    baseline: Scenario,
    reform: Scenario,
    particles: list[dict[str, float]],
    seeds: list[int],
    keys_of: Callable[[Any], dict[tuple[str, str, str], float]],
    runner: Callable[[Scenario, int], Any],
    progress: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Reform minus baseline for each particle (rows) and outcome key (columns)."""
    rows = []
    for particle, seed in zip(particles, seeds, strict=True):
        base = load_scenario(baseline, particle)
        ref = load_scenario(reform, particle_for(baseline, reform, particle))
        b = keys_of(runner(base, seed))
        if progress:
            progress()
        r = keys_of(runner(ref, seed))
        if progress:
            progress()
        rows.append({k: r[k] - b[k] for k in b if k in r})
    return pd.DataFrame(rows)


def ensemble_columns(deltas: pd.DataFrame) -> pd.DataFrame:
    """Per outcome key: mean, 5th and 95th percentile and share of draws with the mean's sign."""
    d = deltas.to_numpy(dtype=float)
    mean = np.nanmean(d, axis=0)
    same = (np.sign(d) == np.sign(mean)) & (mean != 0)
    index = pd.MultiIndex.from_tuples(list(deltas.columns), names=["scope", "group", "outcome"])
    return pd.DataFrame(
        {
            "ensemble_mean": mean,
            "ensemble_low": np.nanpercentile(d, 5, axis=0),
            "ensemble_high": np.nanpercentile(d, 95, axis=0),
            "share_same_sign": same.mean(axis=0),
        },
        index=index,
    ).reset_index()
