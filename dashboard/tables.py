"""Tables the dashboard shows or offers for download, read from `sim` results as they are."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from sim.calibration import calibration_report
from sim.compare import Comparison
from sim.countries import load_countries
from sim.results import RunResult
from sim.scenario import Scenario

from .schema import BASELINE, default_source, describe, flatten_diff, get_path
from .state import load_file


def country_names(iso3: list[str]) -> dict[str, str]:
    """ISO3 -> country name, from sim/data/countries.csv."""
    table = load_countries()
    return {c: str(table.at[c, "country"]) for c in iso3 if c in table.index}


def calibration_frame(runs: list[RunResult]) -> pd.DataFrame:
    """`sim.calibration.calibration_report` of the baseline runs, one row per target."""
    report = calibration_report(runs)
    return pd.DataFrame(
        [
            {
                "target": r["target"],
                "published": r["published"],
                "accepted": f"{r['accepted_low']:g} to {r['accepted_high']:g}",
                "model mean": round(r["model_mean"], 3),
                "model sd": round(r["model_sd"], 3),
                "result": "pass" if r["pass"] else "FAIL",
                "source": r["source"],
            }
            for r in report["targets"]
        ]
    )


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def parameter_differences(baseline: Scenario, reform: Scenario) -> pd.DataFrame:
    """Every parameter of either run that differs from scenarios/baseline.yaml, with sources."""
    cited = load_file(BASELINE).to_dict()
    b, r = baseline.to_dict(), reform.to_dict()
    in_base = flatten_diff(cited, b)
    in_reform = flatten_diff(cited, r)
    records = []
    for path in sorted(set(in_base) | set(in_reform)):
        if path in ("name", "description", "schema_version"):
            continue
        records.append(
            {
                "parameter": path,
                "cited default": _value(cited, path),
                "baseline run": _value(b, path),
                "reform run": _value(r, path),
                "applies to": "both runs" if path in in_base else "reform",
                "description": describe(path),
                "source of the default": default_source(path),
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "parameter",
            "cited default",
            "baseline run",
            "reform run",
            "applies to",
            "description",
            "source of the default",
        ],
    )


def _value(data: dict[str, Any], path: str) -> str:
    try:
        return _show(get_path(data, path))
    except (KeyError, IndexError, ValueError, TypeError):
        return "(absent)"


def weekly_long(comp: Comparison) -> pd.DataFrame:
    """Every replicate's weekly series, long: arm, seed, then the sim.metrics columns."""
    parts = []
    for arm, runs in (("baseline", comp.baseline_runs), ("reform", comp.reform_runs)):
        for run in runs:
            frame = run.weekly.copy()
            frame.insert(0, "seed", run.seed)
            frame.insert(0, "arm", arm)
            parts.append(frame)
    return pd.concat(parts, ignore_index=True)
