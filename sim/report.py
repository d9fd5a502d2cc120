"""docs/policies.md: the headline deltas of every shipped scenario against the baseline."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd

from sim.compare import compare
from sim.outcomes import BY_NAME, POLICY_REPORT, Outcome
from sim.results import RunResult, run
from sim.scenario import Scenario, load_scenario

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


def headline_deltas(
    baseline: Scenario,
    reforms: list[Scenario],
    replicates: int,
    progress: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """One row per reform: paired deltas of the headline outcomes (overall)."""

    @cache
    def base_run(seed: int) -> RunResult:
        return run(baseline, seed)

    def runner(scn: Scenario, seed: int) -> RunResult:
        return base_run(seed) if scn is baseline else run(scn, seed)

    rows = []
    for reform in reforms:
        comp = compare(baseline, reform, replicates, progress=progress, runner=runner)
        t = comp.table[comp.table.scope == "overall"].set_index("outcome")
        row = {"scenario": reform.name}
        for key in POLICY_REPORT:
            o = BY_NAME[key]
            row[f"{o.title} ({o.unit})"] = _cell(t.loc[key], o)
        rows.append(row)
    return pd.DataFrame(rows)


def render(table: pd.DataFrame, replicates: int, baseline: Scenario) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "---|" * len(table.columns)
    lines = [
        BEGIN,
        "",
        f"Paired differences, reform minus baseline, mean of {replicates} replicates with common "
        f"random numbers ({baseline.population.taskers:,} potential taskers, {baseline.weeks} "
        f"weeks, after {baseline.burn_in_weeks} weeks of burn-in). Pay and shares in absolute "
        "points; counts and costs as relative change. `*`: the paired 95% interval excludes zero.",
        "",
        header,
        rule,
    ]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in table.itertuples(index=False)]
    lines += ["", END]
    return "\n".join(lines)


def write_policy_report(
    scenarios: Path,
    doc: Path,
    replicates: int,
    progress: Callable[[], None] | None = None,
    overrides: list[str] | None = None,
) -> pd.DataFrame:
    """Regenerate the generated section of `doc` (created if missing); overrides apply to all."""
    baseline = load_scenario(scenarios / "baseline.yaml", overrides)
    reforms = [load_scenario(p, overrides) for p in policy_scenarios(scenarios)]
    table = headline_deltas(baseline, reforms, replicates, progress)
    block = render(table, replicates, baseline)
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
