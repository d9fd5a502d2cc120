"""Can any parameter set in the priors meet every calibration target at once? A direct search.

    .venv/bin/python scripts/target_search.py [--generations 25] [--population 48]
        [--free population.skill_sigma=0.2:0.6 ...] [--out results/target_search.json]

Differential evolution (scipy), started from the best of `--screen` random draws, over the
priors of sim/data/priors.yaml (on their quantile scale, as the ABC samples them), plus any
`--free PATH=LOW:HIGH` uniform ranges, minimising the largest scaled deviation over the
targets of sim/data/targets.yaml: a target's deviation is (model - published) over the
distance from the published figure to its accepted range's edge on that side, so a value at
most 1 means every target is in its range. Each run is one
model run at the ABC's size (2,000 potential taskers) with the ABC's per-particle seed.

This is a diagnostic, not a calibration: it looks for the best case, and because every
evaluation draws its own seed the best value found is optimistic. A best value above 1 says
the targets pull against each other inside the model as specified. Two processes.
"""

from __future__ import annotations

import argparse
import json
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import differential_evolution

from sim.calibration import load_targets
from sim.calibration_abc import CALIBRATION_TASKERS, TargetDistance, TargetModel
from sim.priors import Prior, load_priors

ROOT = Path(__file__).resolve().parents[1]


def _free(spec: str) -> Prior:
    path, _, bounds = spec.partition("=")
    low, _, high = bounds.partition(":")
    return Prior(path, (path,), "uniform", float(low), float(high), "--free")


class Objective:
    """Largest scaled deviation of one model run at prior quantiles `q`."""

    def __init__(self, model: TargetModel) -> None:
        self.model = model
        self.distance = TargetDistance(model.targets)

    def stats(self, q: np.ndarray) -> dict[str, float]:
        priors = self.model.priors
        return self.model.at_values(
            {p.key: p.at_quantile(float(np.clip(x, 0, 1))) for p, x in zip(priors, q, strict=True)}
        )

    def __call__(self, q: np.ndarray) -> float:
        return float(np.abs(list(self.distance.scaled(self.stats(q)).values())).max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generations", type=int, default=25)
    ap.add_argument("--population", type=int, default=48)
    ap.add_argument("--free", action="append", default=[], metavar="PATH=LOW:HIGH")
    ap.add_argument("--screen", type=int, default=300,
                    help="random prior draws run first; the best --population start the search")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "target_search.json")
    args = ap.parse_args()

    base = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    base["population"]["taskers"] = CALIBRATION_TASKERS
    priors = load_priors() + [_free(s) for s in args.free]
    objective = Objective(TargetModel(base, priors, load_targets(), args.seed))
    rng = np.random.default_rng(args.seed)
    draws = rng.uniform(size=(max(args.screen, args.population), len(priors)))
    start = time.time()
    with Pool(2) as pool:
        init = draws[np.argsort(pool.map(objective, draws))[: args.population]]
        found = differential_evolution(
            objective, [(0.0, 1.0)] * len(priors), init=init, maxiter=args.generations,
            workers=pool.map, updating="deferred", polish=False, seed=args.seed, tol=0,
        )
    stats = objective.stats(found.x)
    scaled = objective.distance.scaled(stats)
    report = {
        "largest_scaled_deviation": found.fun,
        "every_target_met": bool(found.fun <= 1.0),
        "runs": int(found.nfev) + len(draws),
        "minutes": round((time.time() - start) / 60, 1),
        "parameters": {
            p.key: p.at_quantile(float(x)) for p, x in zip(priors, found.x, strict=True)
        },
        "targets": {k: {"model": stats[k], "scaled_deviation": scaled[k]} for k in stats},
        "free": [p.key for p in priors if p.source == "--free"],
        "screened": args.screen,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"largest scaled deviation {found.fun:.3f} after {report['runs']} runs "
          f"({report['minutes']} min); every target met: {report['every_target_met']}")
    for k, v in report["targets"].items():
        print(f"  {k}: {v['model']:.3f} (scaled {v['scaled_deviation']:+.2f})")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
