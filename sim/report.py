"""docs/policies.md: the headline deltas of every shipped scenario against the baseline."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd

from sim.compare import BEYOND_NOISE, compare, robustness, seed_verdict
from sim.outcomes import BY_NAME, POLICY_REPORT, Outcome
from sim.results import RunResult, run
from sim.scenario import Scenario
from sim.scenario_files import load_scenario

BEGIN = "<!-- BEGIN GENERATED: datalabour policy-report -->"
END = "<!-- END GENERATED -->"

def policy_scenarios(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.stem != "baseline")


def _cell(row: pd.Series, outcome: Outcome) -> str:
    relative = outcome.relative
    fmt = "{:+.1%}" if relative or outcome.kind == "pct" else "{:+.2f}"
    value = row.relative_change if relative else row.delta
    low = row.delta_ci_low / row.baseline_mean if relative else row.delta_ci_low
    high = row.delta_ci_high / row.baseline_mean if relative else row.delta_ci_high
    sure = "" if low <= 0 <= high else "*"
    return f"{fmt.format(value)}{sure}"


def delta_verdict(r: pd.Series) -> str:
    """Seed noise first; beyond it, whether the sign holds over the posterior's draws."""
    said = seed_verdict(r.delta, r.delta_ci_low, r.delta_ci_high)
    robust = robustness(r.get("share_same_sign"))
    if said != BEYOND_NOISE or robust is None:
        return said
    return f"{robust} ({r.share_same_sign:.0%} of draws agree)"


def _robustness_rows(reform: str, t: pd.DataFrame) -> list[dict]:
    """Per headline delta: the seed interval, the ensemble range and the verdict."""
    rows = []
    for key in POLICY_REPORT:
        o, r = BY_NAME[key], t.loc[key]
        fmt = "{:+.3g}"
        rows.append({
            "scenario": reform,
            "outcome": f"{o.title} ({o.unit})",
            "delta": fmt.format(r.delta),
            "seed 95% interval": f"[{fmt.format(r.delta_ci_low)}, {fmt.format(r.delta_ci_high)}]",
            "ensemble 5-95%": (
                f"[{fmt.format(r.ensemble_low)}, {fmt.format(r.ensemble_high)}]"
                if "ensemble_low" in r and pd.notna(r.ensemble_low) else ""
            ),
            "verdict": delta_verdict(r),
        })
    return rows


def headline_deltas(
    baseline: Scenario,
    reforms: list[Scenario],
    replicates: int,
    progress: Callable[[], None] | None = None,
    ensemble: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per reform: paired deltas of the headline outcomes (overall); and one row per
    reform and headline outcome with its seed interval, ensemble range and verdict."""

    @cache
    def base_run(seed: int) -> RunResult:
        return run(baseline, seed)

    def runner(scn: Scenario, seed: int) -> RunResult:
        return base_run(seed) if scn is baseline else run(scn, seed)

    rows, robust = [], []
    for reform in reforms:
        comp = compare(baseline, reform, replicates, progress=progress, runner=runner,
                       ensemble=ensemble)
        t = comp.table[comp.table.scope == "overall"].set_index("outcome")
        row = {"scenario": reform.name}
        for key in POLICY_REPORT:
            o = BY_NAME[key]
            row[f"{o.title} ({o.unit})"] = _cell(t.loc[key], o)
        rows.append(row)
        robust += _robustness_rows(reform.name, t)
    return pd.DataFrame(rows), pd.DataFrame(robust)


def _markdown(table: pd.DataFrame) -> list[str]:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    return [header, rule] + [
        "| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)
    ]


def render(
    table: pd.DataFrame,
    replicates: int,
    baseline: Scenario,
    robust: pd.DataFrame | None = None,
    ensemble: int | None = None,
) -> str:
    lines = [
        BEGIN,
        "",
        f"Paired differences, reform minus baseline, mean of {replicates} replicates with common "
        f"random numbers ({baseline.population.taskers:,} potential taskers, {baseline.weeks} "
        f"weeks, after {baseline.burn_in_weeks} weeks of burn-in). Pay and shares in absolute "
        "points; counts and costs as relative change. `*`: the paired 95% interval excludes zero "
        "(seed noise only; see the robustness table for the assumptions).",
        "",
        *_markdown(table),
        "",
    ]
    if robust is not None and len(robust):
        over = (
            f"over {ensemble} draws of the calibration posterior (`sim/data/posterior.parquet`: "
            "each draw's parameters in both scenarios, one common seed a draw); the ensemble "
            "range is the 5th-95th percentile of the per-draw deltas"
            if ensemble else "without an ensemble (seed noise only)"
        )
        lines += [
            "### Robustness of each headline delta",
            "",
            f"Absolute deltas. Seed interval: paired 95% interval over the {replicates} "
            f"replicates. Verdict {over}: *robust* when the change is beyond seed noise and at "
            "least 90% of the draws agree in sign, *depends on assumptions* when fewer do.",
            "",
            *_markdown(robust),
            "",
        ]
    lines += [END]
    return "\n".join(lines)


def write_policy_report(
    scenarios: Path,
    doc: Path,
    replicates: int,
    progress: Callable[[], None] | None = None,
    ensemble: int | None = None,
    overrides: list[str] | None = None,
) -> pd.DataFrame:
    """Regenerate the generated section of `doc` (created if missing); `overrides` apply to
    every scenario; with `ensemble`, each delta's range over that many posterior draws and its
    robustness verdict."""
    baseline = load_scenario(scenarios / "baseline.yaml", overrides)
    reforms = [load_scenario(p, overrides) for p in policy_scenarios(scenarios)]
    table, robust = headline_deltas(baseline, reforms, replicates, progress, ensemble)
    block = render(table, replicates, baseline, robust, ensemble)
    text = doc.read_text() if doc.exists() else f"# Policy levers\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
    return table
