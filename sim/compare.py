"""Reform vs baseline with common random numbers: paired differences with 95% intervals."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.outcomes import HEADLINE
from sim.result_folder import atomic_output
from sim.results import RunResult, run
from sim.scenario import Scenario, ScenarioError

SIZE_AND_HORIZON = ("population.taskers", "weeks", "burn_in_weeks")


def check_comparable(baseline: Scenario, reform: Scenario) -> None:
    """Refuse, in one ScenarioError line, two scenarios of different size or horizon."""
    for path in SIZE_AND_HORIZON:
        ours, theirs = baseline, reform
        for key in path.split("."):
            ours, theirs = getattr(ours, key), getattr(theirs, key)
        if ours != theirs:
            raise ScenarioError(
                f"{path}: baseline {ours!r}, reform {theirs!r}; a comparison needs both the "
                "same size and horizon (overrides given with --set apply to both)"
            )

NO_CHANGE, WITHIN_NOISE, BEYOND_NOISE = "no change", "within seed noise", "beyond seed noise"
ROBUST_SHARE = 0.9  # an effect is robust when at least 90% of assumption draws agree in sign
ROBUST, DEPENDS = "robust", "depends on assumptions"


def seed_verdict(delta: float, low: float, high: float) -> str:
    """Whether a paired change is beyond the seed noise its 95% interval measures."""
    if delta == 0 and low == high:
        return NO_CHANGE
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
        return WITHIN_NOISE
    return BEYOND_NOISE


def robustness(share_same_sign: float | None) -> str | None:
    """The ensemble's verdict on a delta's sign (None without an ensemble): robust when at
    least `ROBUST_SHARE` of the posterior draws agree with the mean's sign."""
    if share_same_sign is None or not np.isfinite(share_same_sign):
        return None
    return ROBUST if share_same_sign >= ROBUST_SHARE else DEPENDS


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """Independent seeds for replicates, from one root seed (numpy SeedSequence)."""
    state = np.random.SeedSequence(seed).generate_state(replicates, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


def summary_rows(result: RunResult) -> dict[tuple[str, str, str], float]:
    """One run's summary as flat (scope, group, outcome) -> value: the rows a comparison pairs."""
    out = {}
    for k, v in result.summary["overall"].items():
        out[("overall", "all", k)] = v
    for scope in ("by_country", "by_platform"):
        for group, vals in result.summary[scope].items():
            for k, v in vals.items():
                if v is not None:
                    out[(scope.removeprefix("by_"), group, k)] = v
    return out


@dataclass
class Comparison:
    """Paired reform-minus-baseline differences over replicates run with the same seeds."""

    baseline: Scenario
    reform: Scenario
    seeds: list[int]
    baseline_runs: list[RunResult]
    reform_runs: list[RunResult]
    table: pd.DataFrame
    ensemble: dict | None = None  # draws, posterior and particles of compare(ensemble=N)

    def headline(self) -> pd.DataFrame:
        t = self.table
        head = t[(t.scope == "overall") & t.outcome.isin(HEADLINE)].copy()
        head["order"] = head.outcome.map(HEADLINE.index)
        income = t[(t.scope == "country") & (t.outcome == "mean_effective_hourly_pay_usd")]
        return pd.concat([head.sort_values("order").drop(columns="order"), income])

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """comparison.csv and comparison.json, whole or not at all (see `atomic_output`)."""
        with atomic_output(out, overwrite) as folder:
            self._write(folder)
        return Path(out)

    def _write(self, out: Path) -> None:
        self.table.to_csv(out / "comparison.csv", index=False)
        payload = {
            "baseline": self.baseline.to_dict(),
            "reform": self.reform.to_dict(),
            "seeds": self.seeds,
            "replicates": len(self.seeds),
            "rows": json.loads(self.table.to_json(orient="records")),
        }
        if self.ensemble is not None:
            payload["ensemble"] = self.ensemble
        (out / "comparison.json").write_text(json.dumps(payload, indent=2))


def paired_table(base: list[RunResult], reform: list[RunResult]) -> pd.DataFrame:
    """One row per outcome and group: means, paired delta, its 95% CI, unpaired CI width."""
    b_rows = [summary_rows(r) for r in base]
    r_rows = [summary_rows(r) for r in reform]
    keys = [k for k in b_rows[0] if all(k in x for x in b_rows + r_rows)]
    b = np.array([[x[k] for k in keys] for x in b_rows], dtype=float).reshape(-1, len(keys))
    r = np.array([[x[k] for k in keys] for x in r_rows], dtype=float).reshape(-1, len(keys))
    d = r - b  # [replicate, row]
    n = b.shape[0]
    delta, bm = d.mean(axis=0), b.mean(axis=0)
    if n > 1:
        half = stats.t.ppf(0.975, n - 1) * d.std(axis=0, ddof=1) / np.sqrt(n)
        spread = np.sqrt(b.var(axis=0, ddof=1) / n + r.var(axis=0, ddof=1) / n)
        unpaired = stats.t.ppf(0.975, 2 * n - 2) * spread
    else:
        half = unpaired = np.full(len(keys), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(bm != 0, delta / np.where(bm != 0, bm, 1.0), np.nan)
    scope, group, outcome = zip(*keys, strict=True) if keys else ((), (), ())
    return pd.DataFrame(
        {
            "scope": list(scope),
            "group": list(group),
            "outcome": list(outcome),
            "baseline_mean": bm,
            "reform_mean": r.mean(axis=0),
            "delta": delta,
            "delta_ci_low": delta - half,
            "delta_ci_high": delta + half,
            "relative_change": relative,
            "paired_ci_halfwidth": half,
            "unpaired_ci_halfwidth": unpaired,
        }
    )


def compare(
    baseline: Scenario,
    reform: Scenario,
    replicates: int = 10,
    seed: int | None = None,
    progress: Callable[[], None] | None = None,
    runner: Callable[[Scenario, int], RunResult] = run,
    ensemble: int | None = None,
    posterior: str | Path | None = None,
) -> Comparison:
    """Run baseline and reform with the same seeds per replicate and pair the differences.

    With `ensemble=N`, also run both at N particles of the calibration posterior (drawn by
    weight, one common seed per draw) and add ensemble_low/high (5th/95th percentile of the
    per-draw deltas) and share_same_sign to the table. Both sides share size and horizon
    (else ScenarioError) and the root seed: ``seed``, else the baseline's.
    """
    check_comparable(baseline, reform)
    root = baseline.seed if seed is None else seed
    seeds = replicate_seeds(root, replicates)
    if ensemble:  # a bad posterior fails before any run
        from sim.calibration_ensemble import ensemble_particles

        particles = ensemble_particles(baseline, ensemble, root, posterior)
    base_runs, reform_runs = [], []
    for s in seeds:
        base_runs.append(runner(baseline, s))
        if progress:
            progress()
        reform_runs.append(runner(reform, s))
        if progress:
            progress()
    table = paired_table(base_runs, reform_runs)
    comp = Comparison(baseline, reform, seeds, base_runs, reform_runs, table)
    if ensemble:
        from sim.calibration_ensemble import POSTERIOR, ensemble_columns, ensemble_deltas

        deltas = ensemble_deltas(baseline, reform, particles, replicate_seeds(root + 1, ensemble),
                                 summary_rows, runner, progress)
        comp.table = table.merge(ensemble_columns(deltas), on=["scope", "group", "outcome"],
                                 how="left")
        comp.ensemble = {"draws": ensemble, "posterior": str(posterior or POSTERIOR),
                         "particles": particles}
    return comp
