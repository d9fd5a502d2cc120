"""RunResult: weekly, by-country and by-platform frames, the summary and the manifest."""

from __future__ import annotations

import hashlib
import json
import platform as _platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import metrics
from sim.keywords import dotted
from sim.model import LabourMarketModel
from sim.scenario import Scenario, load_scenario


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

    def save(self, out: str | Path) -> Path:
        """Write summary.json, weekly/by_country/by_platform.parquet and manifest.json."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary, indent=2, sort_keys=True))
        self.weekly.to_parquet(out / "weekly.parquet", index=False)
        self.by_country.to_parquet(out / "by_country.parquet", index=False)
        self.by_platform.to_parquet(out / "by_platform.parquet", index=False)
        (out / "manifest.json").write_text(json.dumps(self.manifest, indent=2, sort_keys=True))
        return out


def _frame(records: list[dict[str, np.ndarray]], column: str, names: list[str]) -> pd.DataFrame:
    """One row per week and group from the weekly per-group records."""
    weeks = len(records)
    columns = {"week": np.repeat(np.arange(weeks), len(names)), column: names * weeks}
    for k in records[0] if records else []:
        columns[k] = np.concatenate([np.asarray(r[k], dtype=float) for r in records])
    return pd.DataFrame(columns)


def manifest(scenario: Scenario, seed: int) -> dict[str, Any]:
    version = package_version()
    key = hashlib.sha256(f"{scenario.canonical_json()}|{seed}|{version}".encode()).hexdigest()
    return {
        "scenario": scenario.to_dict(),
        "scenario_digest": scenario.digest(),
        "seed": seed,
        "package_version": version,
        "run_hash": key[:16],
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
    weekly = pd.DataFrame(model.records)
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


def evaluate(
    scenario: Scenario | str | Path, seed: int | None = None, **overrides: Any
) -> dict[str, float]:
    """The overall summary as a plain function of parameters (EMA workbench, SALib, loops).

    Dotted paths can be passed with double underscores: ``policy__paid_rejections=True``.
    """
    paths = dotted(overrides)
    scn = load_scenario(scenario, paths) if paths else (
        scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    )
    return dict(run(scn, seed).overall)
