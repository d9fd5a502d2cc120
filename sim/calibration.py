"""Calibration targets and the replicate check: the baseline's outputs against published figures."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.results import RunResult
from sim.scenario import Scenario, ScenarioError

TARGETS = Path(__file__).parent / "data" / "targets.yaml"


def load_targets(path: Path = TARGETS) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())


def largest_platform(summary: dict[str, Any]) -> str:
    """The platform with most taskers doing paid work (the surveys' open marketplaces)."""
    by = summary["by_platform"]
    return max(by, key=lambda n: by[n].get("taskers_with_paid_work", 0))


# what the prefix of a target spec ('platform:NAME.x', 'ratio:A/B+C.x', ...) names
NAMED = {"platform": "platform", "platforms": "platform", "country": "country", "ratio": "country"}


def check_statistics(scenario: Scenario, specs: list[str], what: str) -> None:
    """Before any run: every platform and country the target specs name is in the scenario.

    Raises ScenarioError, one line naming the statistic, what is missing and what there is.
    """
    have = {"platform": [p.name for p in scenario.platforms], "country": list(scenario.countries)}
    for spec in specs:
        kind, _, names = spec.split(".", 1)[0].partition(":")
        if kind not in NAMED:
            continue
        dimension = NAMED[kind]
        missing = [n for n in names.replace("/", "+").split("+") if n not in have[dimension]]
        if missing:
            raise ScenarioError(
                f"{what} {spec!r} needs {dimension} {missing[0]!r}, which scenario "
                f"{scenario.name!r} does not have; it has {', '.join(have[dimension])}"
            )


def human_share_change(weekly: Any, week: int) -> float:
    """Relative change of the human share of the labs' feedback tasks from week 0 to `week`."""
    human = 1.0 - weekly["automation_share"].to_numpy(dtype=float)
    week = min(week, len(human) - 1)
    return float(human[week] / human[0] - 1.0) if human[0] > 0 else float("nan")


def statistic(result: RunResult | dict[str, Any], spec: str) -> float:
    """A target statistic: 'overall.x', 'platform:NAME.x', 'platforms:A+B.x' (the platforms'
    values weighted by their taskers with paid work), 'ratio:A/B+C.x', 'country:ISO3.x',
    'largest_platform.x' or 'human_share_change:WEEK' (that one needs a RunResult)."""
    if spec.startswith("human_share_change:"):
        if not isinstance(result, RunResult):
            raise ValueError(f"statistic {spec!r} needs a RunResult, not a summary")
        return human_share_change(result.weekly, int(spec.split(":", 1)[1]))
    summary = result.summary if isinstance(result, RunResult) else result
    part, key = spec.split(".", 1)
    if part == "overall":
        return float(summary["overall"][key])
    if part == "largest_platform":
        return float(summary["by_platform"][largest_platform(summary)][key])
    if part.startswith("country:"):
        return float(summary["by_country"][part.split(":", 1)[1]][key])
    if part.startswith("platform:"):
        return float(summary["by_platform"][part.split(":", 1)[1]][key])
    if part.startswith("platforms:"):
        rows = [summary["by_platform"][n] for n in part.split(":", 1)[1].split("+")]
        weight = np.array([r["taskers_with_paid_work"] for r in rows], dtype=float)
        values = np.array([r[key] for r in rows], dtype=float)
        return float(weight @ values / weight.sum()) if weight.sum() > 0 else 0.0
    if part.startswith("ratio:"):
        num, den = part.split(":", 1)[1].split("/")
        top = np.mean([summary["by_country"][c][key] for c in num.split("+")])
        bottom = np.mean([summary["by_country"][c][key] for c in den.split("+")])
        return float(top / bottom) if bottom > 0 else float("inf")
    raise ValueError(f"unknown statistic {spec!r}")


def calibration_report(results: list[RunResult]) -> dict[str, Any]:
    """Each target with the model's mean and spread over replicates, and pass or fail."""
    rows = []
    for t in load_targets():
        values = [statistic(r, t["statistic"]) for r in results]
        mean = statistics.fmean(values)
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        lo, hi = t["accepted"]
        rows.append(
            {
                "target": t["name"],
                "statistic": t["statistic"],
                "published": t["published"],
                "accepted_low": lo,
                "accepted_high": hi,
                "model_mean": mean,
                "model_sd": sd,
                "model_values": values,
                "source": t["source"],
                "pass": bool(lo <= mean <= hi),
            }
        )
    return {
        "scenario": results[0].scenario.name,
        "seeds": [r.seed for r in results],
        "targets": rows,
        "all_pass": all(r["pass"] for r in rows),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Calibration report: {report['scenario']}",
        "",
        f"Seeds {report['seeds']}; model mean and standard deviation over replicates, after "
        "burn-in. Generated by `datalabour calibrate`.",
        "",
        "| target | published | accepted | model mean | sd | pass | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["targets"]:
        lines.append(
            f"| {r['target']} | {r['published']:g} | {r['accepted_low']:g}-{r['accepted_high']:g}"
            f" | {r['model_mean']:.3g} | {r['model_sd']:.2g} | {'pass' if r['pass'] else 'FAIL'}"
            f" | {r['source']} |"
        )
    return "\n".join(lines) + "\n"
