"""RunResult: weekly, by-country and by-platform frames, the summary and the manifest."""

from __future__ import annotations

import functools
import hashlib
import json
import platform as _platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import metrics, outcomes
from sim.keywords import dotted
from sim.model import LabourMarketModel
from sim.result_folder import OutputError, atomic_output, check_output
from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import load_scenario

__all__ = [
    "OutputError",
    "RunResult",
    "atomic_output",
    "check_output",
    "evaluate",
    "fit_burn_in",
    "flat_summary",
    "manifest",
    "package_version",
    "result_of",
    "run",
    "run_hash",
]


@functools.cache
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datalabour")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class RunResult:
    """Everything one run produced, with its provenance."""

    scenario: Scenario
    seed: int
    weekly: pd.DataFrame
    by_country: pd.DataFrame
    by_platform: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def overall(self) -> dict[str, float]:
        return self.summary["overall"]

    def tidy(self, name: str) -> pd.DataFrame:
        """A frame as saved: the run's id (scenario, seed, run_hash) on every row, and
        `burn_in` true for the weeks the summary leaves out."""
        frame = getattr(self, name)
        ids = {"scenario": self.scenario.name, "seed": self.seed}
        ids["run_hash"] = self.manifest.get("run_hash", "")
        tidy = frame.assign(burn_in=frame["week"] < self.scenario.burn_in_weeks)
        for i, (column, value) in enumerate(ids.items()):
            tidy.insert(i, column, value)
        return tidy

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write summary.json, weekly/by_country/by_platform.parquet and, last, manifest.json
        (provenance and every file's size and SHA-256), whole or not at all.

        A folder holding an older result is replaced only with `overwrite` (else `OutputError`).
        """
        with atomic_output(out, overwrite, self.manifest) as folder:
            (folder / "summary.json").write_text(
                json.dumps(self.summary, indent=2, sort_keys=True)
            )
            for name in ("weekly", "by_country", "by_platform"):  # with units, descriptions
                outcomes.to_parquet(self.tidy(name), folder / f"{name}.parquet")
        return Path(out)


def _frame(records: list[dict[str, np.ndarray]], column: str, names: list[str]) -> pd.DataFrame:
    """One row per week and group from the weekly per-group records."""
    weeks = len(records)
    columns = {"week": np.repeat(np.arange(weeks), len(names)), column: names * weeks}
    for k in records[0] if records else []:
        columns[k] = np.concatenate([np.asarray(r[k], dtype=float) for r in records])
    return pd.DataFrame(columns)


def run_hash(canonical_json: str, seed: int, version: str) -> str:
    """The run's identity: a hash of (resolved scenario, seed, package version).

    The one run hash of the project: a result's manifest and a sweep store's file names use it.
    """
    return hashlib.sha256(f"{canonical_json}|{seed}|{version}".encode()).hexdigest()[:16]


def manifest(scenario: Scenario, seed: int) -> dict[str, Any]:
    version = package_version()
    return {
        "scenario": scenario.to_dict(),
        "scenario_digest": scenario.digest(),
        "seed": seed,
        "package_version": version,
        "run_hash": run_hash(scenario.canonical_json(), seed, version),
        "policy": scenario.policy.model_dump(mode="json"),
        "python": _platform.python_version(),
        "numpy": np.__version__,
    }


def run(scenario: Scenario | str | Path, seed: int | None = None, progress=None) -> RunResult:
    """Run one scenario to its horizon and return its results."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    model = LabourMarketModel(scenario, seed)
    for _ in range(scenario.weeks):
        model.step()
        if progress is not None:
            progress()
    return result_of(model)


def result_of(model: LabourMarketModel) -> RunResult:
    """The results of a model that has run (frames, summary and manifest)."""
    scenario = model.params
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    weekly.insert(0, "week", np.arange(len(weekly)))
    by_country = _frame(model.country_records, "iso3", model.iso3)
    by_platform = _frame(model.platform_records, "platform", [p.spec.name for p in model.platforms])
    summary = metrics.summarise(model, weekly, by_country, by_platform)
    return RunResult(
        scenario=scenario,
        seed=model.seed_used,
        weekly=weekly,
        by_country=by_country,
        by_platform=by_platform,
        summary=summary,
        manifest=manifest(scenario, model.seed_used),
    )


def flat_summary(summary: dict[str, Any]) -> dict[str, float]:
    """summary.json as one mapping: overall keys, and `by_country.IND.x` / `by_platform.P.x`."""
    out = dict(summary["overall"])
    for scope in ("by_country", "by_platform"):
        for group, vals in summary.get(scope, {}).items():
            for k, v in vals.items():
                out[f"{scope}.{group}.{k}"] = v
    return out


def fit_burn_in(base: Scenario, overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides`, plus a burn-in of a quarter of the run where a shorter `weeks` leaves the
    base's burn-in no room (unless the overrides set the burn-in themselves)."""
    weeks = overrides.get("weeks")
    if weeks is None or "burn_in_weeks" in overrides:
        return overrides
    try:
        weeks = int(weeks)
    except (TypeError, ValueError):
        return overrides  # validation names the bad value
    if base.burn_in_weeks < weeks:
        return overrides
    return {**overrides, "burn_in_weeks": weeks // 4}


def evaluate(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    outcomes: list[str] | None = None,
    weekly: list[str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Outcomes of one run as a plain function of parameters (EMA workbench, SALib, loops).

    Parameters
    ----------
    scenario : a Scenario, a path or a bundled scenario's name
    seed : the run's seed; None means the scenario's own `seed` (pass one per replication)
    outcomes : keys to return (default: every overall outcome); per group as
        ``by_country.IND.median_effective_hourly_pay_usd`` or ``by_platform.NAME.KEY``
    weekly : weekly series to add, each a list of floats under ``weekly.NAME``
    overrides : dotted paths with double underscores, ``policy__paid_rejections=True``; a
        `weeks` shorter than the burn-in shrinks the burn-in to a quarter of the run, as the CLI
    """
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    paths = fit_burn_in(base, dotted(overrides))
    scn = load_scenario(base, paths) if paths else base
    result = run(scn, seed)
    flat = flat_summary(result.summary)
    unknown = sorted(set(outcomes or []) - set(flat))
    if unknown:
        raise ScenarioError(
            f"outcomes: {unknown[0]!r} is not allowed; expected an overall outcome or "
            "by_country.ISO3.NAME / by_platform.PLATFORM.NAME (see `datalabour outcomes`)"
        )
    values = {k: flat[k] for k in outcomes} if outcomes else dict(result.overall)
    missing = sorted(set(weekly or []) - set(result.weekly.columns))
    if missing:
        raise ScenarioError(
            f"weekly: {missing[0]!r} is not allowed; expected a column of weekly.parquet"
        )
    for name in weekly or []:
        values[f"weekly.{name}"] = result.weekly[name].astype(float).tolist()
    return values
