"""Calibration as inference: ABC-SMC (pyabc) over the priors of sim/data/priors.yaml.

The model is run at each particle's parameters (as dotted overrides of the baseline) and its
target statistics are compared with the published figures of sim/data/targets.yaml; the
distance is the root mean square of each deviation divided by its target's uncertainty on that
side. pyabc samples on a Dask cluster and keeps its history in SQLite, so a run resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import load_targets, statistic
from sim.cluster import dask_client
from sim.priors import PRIORS, Prior, load_priors, overrides_of
from sim.scenario import Scenario, ScenarioError, from_dict
from sim.scenario_files import load_scenario

POSTERIOR = Path(__file__).parent / "data" / "posterior.parquet"
# potential taskers per ABC run: targets at this size match 20,000 within seed noise
# (tests/validation/test_calibration.py), at a fraction of the cost
CALIBRATION_TASKERS = 2000


def particle_seed(values: dict[str, float], root: int) -> int:
    """The model seed of a particle: a hash of its parameter values and the root seed."""
    text = json.dumps({k: float(v) for k, v in sorted(values.items())}) + f"|{root}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


@dataclass
class TargetModel:
    """A picklable model for pyabc: particle -> target statistics (one run of the model)."""

    base: dict[str, Any]
    priors: list[Prior]
    targets: list[dict[str, Any]]
    root_seed: int

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        return self.at_values(values_of(self.priors, parameters))

    def at_values(self, values: dict[str, float]) -> dict[str, float]:
        """The target statistics of one run at parameter values keyed by prior key."""
        from sim.results import run

        scenario = load_scenario(from_dict(self.base), overrides_of(self.priors, values))
        result = run(scenario, particle_seed(values, self.root_seed))
        return {t["statistic"]: _finite(statistic(result, t["statistic"])) for t in self.targets}


def values_of(priors: list[Prior], parameters: Any) -> dict[str, float]:
    """A pyabc particle (probit scores, standard normal a priori) as parameter values by key.

    pyabc samples each prior's quantile q on the probit scale z = Phi^-1(q): a uniform q is a
    standard normal z, so the prior is unchanged, and a parameter the targets do not identify
    stays a normal that the normal proposal (sim.abc_proposal) matches, which keeps the
    importance weights even.
    """
    from scipy.special import ndtr

    return {
        p.key: p.at_quantile(float(ndtr(float(parameters[_pyabc_name(i)]))))
        for i, p in enumerate(priors)
    }


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 1e6


def _pyabc_name(i: int) -> str:
    return f"p{i:02d}"


@dataclass
class TargetDistance:
    """Root mean square of (model - published) / (published - range edge on that side)."""

    targets: list[dict[str, Any]]

    def scaled(self, x: dict[str, float]) -> dict[str, float]:
        out = {}
        for t in self.targets:
            lo, hi = t["accepted"]
            dev = x[t["statistic"]] - t["published"]
            edge = (hi - t["published"]) if dev > 0 else (t["published"] - lo)
            out[t["statistic"]] = dev / edge
        return out

    def __call__(self, x: dict[str, float], x0: dict[str, float] | None = None) -> float:
        z = np.array(list(self.scaled(x).values()))
        return float(np.sqrt(np.mean(z**2)))


@dataclass
class AbcSettings:
    """What an ABC-SMC calibration does; all of it goes into calibration.json."""

    population_size: int = 300
    generations: int = 6
    minimum_epsilon: float = 0.7
    taskers: int = CALIBRATION_TASKERS
    workers: int | None = None
    scheduler: str | None = None
    root_seed: int = 1
    max_minutes: float = 55.0
    history: str = "results/abc/abc.db"
    first_epsilon: float = math.inf  # inf: the first generation accepts its best half
    # proposals: one normal with the last generation's weighted mean and this multiple of its
    # covariance (sim.abc_proposal)
    proposal_scale: float = 1.2


def _config_digest(base: dict, priors: list[Prior], targets: list[dict], s: AbcSettings) -> str:
    text = json.dumps(
        ["probit", base, [p.__dict__ for p in priors], targets, s.population_size, s.taskers,
         s.root_seed, s.first_epsilon, s.proposal_scale],
        sort_keys=True, default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_abc(
    scenario: Scenario,
    settings: AbcSettings,
    priors: list[Prior] | None = None,
    targets: list[dict[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) ABC-SMC; returns the posterior frame and a record of the run.

    The history is a SQLite database at `settings.history`; a run with the same scenario, priors,
    targets, population and seed found there is continued from its last generation.
    """
    import pyabc

    from sim.abc_proposal import GlobalNormalTransition

    priors = priors or load_priors(PRIORS, scenario)
    targets = targets or load_targets()
    base = load_scenario(scenario, {"population.taskers": settings.taskers}).to_dict()
    digest = _config_digest(base, priors, targets, settings)
    db_path = Path(settings.history)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    runs_file = db_path.with_suffix(".runs.json")
    known = json.loads(runs_file.read_text()) if runs_file.exists() else {}

    prior = pyabc.Distribution(
        **{_pyabc_name(i): pyabc.RV("norm", 0, 1) for i in range(len(priors))}
    )
    model = TargetModel(base, priors, targets, settings.root_seed)
    distance = TargetDistance(targets)
    started = time.monotonic()
    resumed = digest in known
    # a resumed run's next tolerance is the median distance of its last generation, as it
    # would have been had the run not stopped: the first tolerance is for generation 0 only
    first_epsilon = "from_sample" if resumed else settings.first_epsilon
    with dask_client(None, settings.scheduler, settings.workers) as client:
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
        abc = pyabc.ABCSMC(
            model, prior, distance, population_size=settings.population_size, sampler=sampler,
            transitions=GlobalNormalTransition(settings.proposal_scale),
            eps=pyabc.QuantileEpsilon(initial_epsilon=first_epsilon, alpha=0.5),
        )
        db = f"sqlite:///{db_path.resolve()}"
        if resumed:
            history = abc.load(db, known[digest])
        else:
            observed = {t["statistic"]: float(t["published"]) for t in targets}
            history = abc.new(db, observed)
            known[digest] = history.id
            runs_file.write_text(json.dumps(known, indent=2))
        left_generations = settings.generations - (history.max_t + 1)
        done = history.max_t >= 0 and _last_epsilon(history) <= settings.minimum_epsilon
        if left_generations > 0 and not done:
            with _pyabc_log(progress):
                abc.run(
                    minimum_epsilon=settings.minimum_epsilon,
                    max_nr_populations=left_generations,
                    max_walltime=timedelta(minutes=settings.max_minutes),
                )
    t = history.max_t
    frame, weights = history.get_distribution(m=0, t=t)
    keyed = [values_of(priors, row) for _, row in frame.iterrows()]
    posterior = expand_paths(pd.DataFrame(keyed), priors)
    posterior["weight"] = np.asarray(weights, dtype=float) / np.sum(weights)
    generations = [_generation_row(history, g) for g in range(t + 1)]
    return {
        "posterior": posterior,
        "record": {
            "method": f"ABC-SMC (pyabc {pyabc.__version__}), Dask sampler, SQLite history",
            "history": str(db_path),
            "run_id": history.id,
            "resumed": resumed,
            "settings": dict(settings.__dict__),
            "wall_minutes_this_session": round((time.monotonic() - started) / 60, 2),
            "generations": generations,
            "total_simulations": int(sum(g["simulations"] for g in generations)),
            "particles": len(posterior),
            "effective_sample_size": effective_sample_size(posterior["weight"].to_numpy()),
            "config_digest": digest,
        },
    }


@contextmanager
def _pyabc_log(progress: Callable[[str], None] | None) -> Iterator[None]:
    """Forward pyabc's per-generation log lines (epsilon, acceptance, ESS) to `progress`."""
    logger = logging.getLogger("ABC")
    old_level, old_handlers = logger.level, logger.handlers
    logger.setLevel(logging.INFO)
    logger.handlers = [_Forward(progress) if progress else logging.NullHandler()]
    try:
        yield
    finally:
        logger.handlers = old_handlers
        logger.setLevel(old_level)


class _Forward(logging.Handler):
    def __init__(self, progress: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress(record.getMessage())


def _last_epsilon(history: Any) -> float:
    pops = history.get_all_populations()
    pops = pops[pops.t >= 0]
    return float(pops.epsilon.iloc[-1]) if len(pops) else math.inf


def _generation_row(history: Any, t: int) -> dict[str, Any]:
    pops = history.get_all_populations().set_index("t")
    _, w = history.get_distribution(m=0, t=t)
    sims = int(pops.loc[t, "samples"])
    return {
        "generation": int(t),
        "epsilon": float(pops.loc[t, "epsilon"]),
        "simulations": sims,
        "acceptance_rate": round(history.get_nr_particles_per_population()[t] / max(sims, 1), 4),
        "effective_sample_size": effective_sample_size(np.asarray(w)),
        "wall_minutes": round(float(pops.loc[t, "wall_time"]) / 60, 2),
    }


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of normalised or unnormalised weights."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum()) if w.size and (w**2).sum() > 0 else 0.0


def expand_paths(frame: pd.DataFrame, priors: list[Prior]) -> pd.DataFrame:
    """One column per dotted path: a prior with several paths repeats its value in each."""
    return pd.DataFrame({path: frame[p.key].to_numpy() for p in priors for path in p.paths})


def parameter_columns(posterior: pd.DataFrame) -> list[str]:
    return [c for c in posterior.columns if "." in c]


def load_posterior(path: Path = POSTERIOR) -> pd.DataFrame:
    """The shipped posterior: one row per particle, dotted-path columns and `weight`."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as e:
        raise ScenarioError(f"posterior: {str(path)!r} cannot be read ({e})") from None
    if "weight" not in frame or not parameter_columns(frame):
        raise ScenarioError(
            f"posterior: {str(path)!r} has no weight or parameter columns; expected dotted "
            "paths and weight"
        )
    return frame


def draw_particles(posterior: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """N particles drawn by weight (with replacement) as dotted overrides."""
    rng = np.random.default_rng(seed)
    w = posterior["weight"].to_numpy(dtype=float)
    rows = rng.choice(len(posterior), size=n, replace=True, p=w / w.sum())
    cols = parameter_columns(posterior)
    return [{c: float(posterior[c].iloc[r]) for c in cols} for r in rows]


def central_values(posterior: pd.DataFrame) -> dict[str, float]:
    """The weighted median of each parameter column."""
    w = posterior["weight"].to_numpy(dtype=float)
    return {c: weighted_quantile(posterior[c].to_numpy(dtype=float), w, 0.5)
            for c in parameter_columns(posterior)}


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cum = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(np.searchsorted(cum, q), len(x) - 1)])
