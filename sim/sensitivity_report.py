"""docs/sensitivity.md: Morris screening, then Sobol indices of the influential parameters.

Two shipped screening sweeps (`scenarios/sweeps/gsa_morris_outcomes.yaml`: every prior and the
main levers, headline outcomes; `gsa_morris_delta.yaml`: every prior, the headline policy deltas
of a reform under common random numbers) are run and analysed; the `top` parameters of each by
normalised mu* go on to a Sobol design of the same sweep (written beside its store, so
`datalabour sweep` reruns it); the indices, a paragraph per outcome naming its drivers and the
charts make the document. Stores resume, so an interrupted report picks up where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.sweep_plan import DELTA, Design, SweepSpec, read_sweep

SCREENING = ("gsa_morris_outcomes.yaml", "gsa_morris_delta.yaml")
QUICK = {"population.taskers": 300, "weeks": 10, "burn_in_weeks": 2}  # the pipeline, not results


@dataclass
class Stage:
    """One sweep of the report: its spec, store, indices and what it cost."""

    spec: SweepSpec
    store: Path
    table: pd.DataFrame
    runs: int
    seconds: float

    @property
    def method(self) -> str:
        return self.spec.design.kind


def influential(table: pd.DataFrame, top: int) -> list[str]:
    """The `top` parameters by mu* relative to the largest mu* of each outcome, at their most
    influential outcome (Campolongo et al. 2007 screen on mu*)."""
    scale = table.groupby("outcome")["mu_star"].transform("max").where(lambda s: s > 0)
    relative = (table["mu_star"] / scale).fillna(0.0).groupby(table["parameter"])
    # ties (each leading one outcome) are broken by the influence summed over all outcomes
    score = pd.DataFrame({"best": relative.max(), "total": relative.sum()})
    ranked = score.sort_values(["best", "total"], ascending=False, kind="stable")
    return list(ranked.index[:top])


def sobol_spec(screen: SweepSpec, chosen: list[str], samples: int, replicates: int) -> SweepSpec:
    """The screening sweep narrowed to `chosen` parameters on a Sobol (Saltelli) design."""
    params = {k: v for k, v in screen.design.parameters.items() if k in chosen}
    return screen.model_copy(update={
        "name": screen.name.replace("morris", "sobol"),
        "replicates": replicates,
        "design": Design(kind="sobol", samples=samples, parameters=params),
        "links": {k: v for k, v in screen.links.items() if k in chosen},
    })


def _quick(spec: SweepSpec, samples: int) -> SweepSpec:
    design = spec.design.model_copy(update={"samples": samples})
    return spec.model_copy(update={"overrides": {**spec.overrides, **QUICK}, "design": design,
                                   "replicates": 1})


def run_stage(spec: SweepSpec, store: Path, runner: Callable[..., Any]) -> Stage:
    """Run (or resume) one sweep into its store and analyse it."""
    from sim.sensitivity import analyse
    from sim.sweep import plan

    p = plan(spec)
    start = time.perf_counter()
    report = runner(p, store, resume=store.exists())
    if report.failed:
        from sim.scenario import ScenarioError

        raise ScenarioError(
            f"{spec.name}: {report.failed} runs failed; see the error column of {store} and "
            "run the report again (it resumes)"
        )
    return Stage(spec, store, analyse(store), len(p.runs), time.perf_counter() - start)


def generate(
    sweeps: Path = Path("scenarios/sweeps"),
    stores: Path = Path("results/sensitivity"),
    doc: Path = Path("docs/sensitivity.md"),
    top: int = 3,
    sobol_samples: int = 512,
    sobol_replicates: int = 2,
    quick: bool = False,
    runner: Callable[..., Any] | None = None,
) -> list[Stage]:
    """Run the screening sweeps, the Sobol sweeps of their influential parameters, and write
    `doc` with its charts (in a folder named like it). `quick` shrinks every run and design to
    check the pipeline; its numbers mean nothing."""
    from sim.sweep import run_sweep

    runner = runner or run_sweep
    stages = []
    for name in SCREENING:
        screen = read_sweep(sweeps / name)
        if quick:
            screen = _quick(screen, 2)
        morris = run_stage(screen, stores / screen.name, runner)
        chosen = influential(morris.table, top)
        spec = sobol_spec(screen, chosen, 4 if quick else sobol_samples,
                          1 if quick else sobol_replicates)
        stores.mkdir(parents=True, exist_ok=True)
        (stores / f"{spec.name}.yaml").write_text(
            yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
        )
        stages += [morris, run_stage(spec, stores / spec.name, runner)]
    write_doc(stages, doc, quick)
    return stages


# ---- the document -------------------------------------------------------------------------
def _label(outcome: str) -> str:
    from sim.outcomes import get

    label = get(outcome.removeprefix(DELTA)).label
    return f"change in {label.lower()} under the reform" if outcome.startswith(DELTA) else label


def _paragraph(outcome: str, part: pd.DataFrame, sobol: bool) -> str:
    """What drives one outcome, in a sentence or two, from its indices."""
    if sobol:
        lead = part.sort_values("ST", ascending=False)
        strong = lead[lead["ST"] >= 0.1]
        named = strong if len(strong) else lead.head(1)
        drivers = ", ".join(
            f"`{r.parameter}` (ST {r.ST:.2f} ± {r.ST_conf:.2f}, S1 {r.S1:.2f})"
            for r in named.itertuples()
        )
        weak = lead[lead["ST"] < 0.05]["parameter"].tolist()
        gap = float(lead["ST"].sum() - lead["S1"].clip(lower=0).sum())
        text = f"**{_label(outcome)}** (`{outcome}`) is driven by {drivers}."
        if weak:
            text += f" Of the screened-in parameters, {', '.join(f'`{w}`' for w in weak)} " \
                    "explain less than 5% of its variance each."
        text += (f" Interactions and noise: the total-order indices exceed the first-order ones "
                 f"by {gap:.2f} in sum.")
        unstable = lead[(lead["S1"] < -0.05) | (lead["S1"] > 1) | (lead["ST_conf"] > 0.5)]
        if len(unstable):
            text += " Some intervals are wide (small sample or seed noise): read them as ranks."
        return text
    lead = part.sort_values("mu_star", ascending=False)
    best = lead["mu_star"].iloc[0]
    strong = lead[lead["mu_star"] >= 0.25 * best] if best > 0 else lead.head(0)
    drivers = ", ".join(
        f"`{r.parameter}` (mu* {r.mu_star:.3g} ± {r.mu_star_conf:.2g}, sigma {r.sigma:.3g})"
        for r in strong.itertuples()
    )
    if not drivers:
        return f"**{_label(outcome)}** (`{outcome}`) does not move with any screened parameter."
    return (f"**{_label(outcome)}** (`{outcome}`) moves most with {drivers}; "
            f"{len(lead) - len(strong)} other parameters have mu* under a quarter of the largest.")


def _table(part: pd.DataFrame, sobol: bool) -> str:
    if sobol:
        head = "| parameter | S1 | 95% interval | ST | 95% interval |\n|---|---:|---:|---:|---:|\n"
        ranked = part.sort_values("ST", ascending=False).itertuples()
        rows = [f"| `{r.parameter}` | {r.S1:.3f} | ± {r.S1_conf:.3f} | {r.ST:.3f} | "
                f"± {r.ST_conf:.3f} |" for r in ranked]
    else:
        head = "| parameter | mu* | 95% interval | mu | sigma |\n|---|---:|---:|---:|---:|\n"
        rows = [f"| `{r.parameter}` | {r.mu_star:.4g} | ± {r.mu_star_conf:.3g} | {r.mu:.4g} | "
                f"{r.sigma:.4g} |"
                for r in part.sort_values("mu_star", ascending=False).itertuples()]
    return head + "\n".join(rows)


def write_doc(stages: list[Stage], doc: Path, quick: bool = False) -> Path:
    """docs/sensitivity.md and its charts (docs/sensitivity/*.html)."""
    from sim.sensitivity import figure

    charts = doc.parent / doc.stem
    charts.mkdir(parents=True, exist_ok=True)
    total = sum(s.seconds for s in stages)
    runs = sum(s.runs for s in stages)
    costs = ", ".join(f"{s.spec.name} {s.runs:,} runs {s.seconds / 60:.1f} min" for s in stages)
    lines = [
        "# Global sensitivity: what drives the headline outcomes and policy deltas",
        "",
        "Generated by `datalabour sensitivity-report` (do not edit by hand). "
        + ("**QUICK RUN: tiny runs and designs that check the pipeline; the numbers below mean "
           "nothing.** " if quick else "")
        + f"{runs:,} runs; {total / 60:.1f} minutes in the invocation that wrote this page "
        f"({costs}; a stage whose store was resumed counts only the time spent on it then).",
        "",
        "Method: Morris screening (elementary effects, Campolongo et al. 2007) of every prior of "
        "the calibration (`sim/data/priors.yaml`, over its prior range; loguniform priors on a "
        "log scale) and the main policy levers; then Sobol first- and total-order indices "
        "(Saltelli sampling, bootstrap 95% intervals) of the most influential parameters by "
        "normalised mu*. Each design point is run with the sweep's replicates (seeds); policy "
        "deltas are reform minus baseline with the same seed (common random numbers).",
        "",
    ]
    for stage in stages:
        sobol = stage.method == "sobol"
        chart = charts / f"{stage.spec.name}.html"
        figure(stage.table).write_html(chart, include_plotlyjs="cdn")
        reform = f"; reform `{Path(stage.spec.reform).name}`" if stage.spec.reform else ""
        size = ", ".join(f"`{k}` = {v}" for k, v in stage.spec.overrides.items())
        lines += [
            f"## {stage.spec.name}: {'Sobol indices' if sobol else 'Morris screening'}",
            "",
            f"{len(stage.spec.design.parameters)} parameters, {stage.runs:,} runs "
            f"({stage.spec.replicates} replicate(s) a point){reform}; runs of {size}; "
            f"chart: [{chart.name}]({charts.name}/{chart.name}); store `{stage.store}`.",
            "",
        ]
        for outcome, part in stage.table.groupby("outcome", sort=False):
            lines += [_paragraph(outcome, part, sobol), "", _table(part, sobol), ""]
    doc.write_text("\n".join(lines))
    return doc
