"""`calibrate` (replicate check or ABC-SMC posterior) and `validate-facts` (held-out facts)."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.base import (
    OverwriteOpt,
    SetOpt,
    app,
    check_out,
    console,
    err,
    fail,
    load,
    progress_bar,
    save_out,
)
from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import load_scenario


class Method(StrEnum):
    replicates = "replicates"
    abc = "abc"


@app.command()
def calibrate(
    scenario: Annotated[
        Path, typer.Argument(help="bundled scenario name or YAML file")
    ] = Path("baseline"),
    sets: SetOpt = None,
    method: Annotated[
        Method, typer.Option(help="replicates: check one parameter set; abc: ABC-SMC posterior")
    ] = Method.replicates,
    replicates: Annotated[int, typer.Option(min=1, help="replicates: seeds")] = 5,
    out: Annotated[Path | None, typer.Option(help="folder for calibration.json and .md")] = None,
    overwrite: OverwriteOpt = False,
    population: Annotated[int, typer.Option(min=2, help="abc: particles per generation")] = 300,
    generations: Annotated[int, typer.Option(min=1, help="abc: most generations")] = 6,
    min_epsilon: Annotated[float, typer.Option(min=0, help="abc: stop at this distance")] = 0.7,
    first_epsilon: Annotated[float | None, typer.Option(
        min=0, help="abc: tolerance of the first generation (default: its median distance); "
        "with --generations 1 this is rejection ABC: equal weights")] = None,
    proposal_scale: Annotated[float, typer.Option(
        min=0.5, max=4.0, help="abc: proposals' covariance as a multiple of the last "
        "generation's")] = 1.2,
    taskers: Annotated[int, typer.Option(min=10, help="abc: potential taskers per run")] = 2000,
    max_minutes: Annotated[float, typer.Option(min=0.1, help="abc: wall-time limit")] = 55.0,
    workers: Annotated[int | None, typer.Option(min=1, help="abc: local Dask workers")] = None,
    scheduler: Annotated[str | None, typer.Option(help="abc: Dask scheduler address")] = None,
    history: Annotated[Path, typer.Option(help="abc: SQLite history (resumes a run)")] = Path(
        "results/abc/abc.db"
    ),
    posterior: Annotated[Path | None, typer.Option(help="abc: posterior file")] = None,
    draws: Annotated[int, typer.Option(min=2, help="abc: posterior predictive runs")] = 40,
    doc: Annotated[Path | None, typer.Option(help="abc: also write the report here")] = None,
    seed: Annotated[int, typer.Option(min=0, help="abc: root seed of the simulations")] = 1,
) -> None:
    """Check the published targets: with replicates of one parameter set, or by ABC-SMC."""
    from sim.calibration import check_statistics, load_targets

    scn = load(scenario, sets)
    try:
        check_statistics(scn, [t["statistic"] for t in load_targets()], "calibration target")
    except ScenarioError as e:
        fail(str(e))
    if method is Method.replicates:
        check_out(out, overwrite)
        _replicates(scn, replicates, out, overwrite)
        return
    out = out or Path("results/calibration")
    check_out(out, overwrite)
    _abc(scn, out, locals())


def _replicates(scn: Scenario, replicates: int, out: Path | None, overwrite: bool) -> None:
    import sim
    from sim.calibration import calibration_report, markdown
    from sim.compare import replicate_seeds
    from sim.result_folder import atomic_output

    results = []
    with progress_bar() as bar:
        task = bar.add_task("calibration runs", total=replicates)
        for s in replicate_seeds(scn.seed, replicates):
            results.append(sim.run(scn, s))
            bar.advance(task)
    report = calibration_report(results)
    table = Table(title=f"calibration of {scn.name} ({replicates} replicates)")
    for col in ("target", "accepted", "model mean", "sd", "result", "source"):
        table.add_column(col, overflow="fold")
    for r in report["targets"]:
        table.add_row(
            r["target"], f"{r['accepted_low']:g}-{r['accepted_high']:g}",
            f"{r['model_mean']:.3g}", f"{r['model_sd']:.2g}",
            "[green]pass[/]" if r["pass"] else "[red]FAIL[/]", r["source"],
        )
    console.print(table)
    if out is not None:

        def write() -> None:
            with atomic_output(out, overwrite) as folder:
                (folder / "calibration.json").write_text(json.dumps(report, indent=2))
                (folder / "calibration.md").write_text(markdown(report))

        save_out(write, out)
        console.print(f"written {out}/calibration.json and calibration.md")
    if not report["all_pass"]:
        raise typer.Exit(1)


def _abc(scn: Scenario, out: Path, o: dict) -> None:
    from sim.calibration_abc import AbcSettings, draw_particles, run_abc
    from sim.calibration_report import predictive, run_draws, write_report
    from sim.compare import replicate_seeds
    from sim.priors import load_priors
    from sim.result_folder import atomic_output

    try:
        priors = load_priors(scenario=scn)
    except ScenarioError as e:
        fail(str(e))
    settings = AbcSettings(
        population_size=o["population"], generations=o["generations"],
        minimum_epsilon=o["min_epsilon"], taskers=o["taskers"], workers=o["workers"],
        scheduler=o["scheduler"], root_seed=o["seed"], max_minutes=o["max_minutes"],
        history=str(o["history"]),
        first_epsilon=math.inf if o["first_epsilon"] is None else o["first_epsilon"],
        proposal_scale=o["proposal_scale"],
    )
    console.print(f"ABC-SMC: {len(priors)} parameters, population {settings.population_size}, "
                  f"at most {settings.generations} generations, history {settings.history}")
    done = run_abc(scn, settings, priors, progress=lambda line: err.print(line, highlight=False))
    frame, record = done["posterior"], done["record"]
    if o["posterior"] is not None:
        o["posterior"].parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(o["posterior"], index=False)
    console.print(f"posterior: {len(frame)} particles, ESS "
                  f"{record['effective_sample_size']:.0f}")
    small = load_scenario(scn, {"population.taskers": settings.taskers})
    particles = draw_particles(frame, o["draws"], settings.root_seed)
    with progress_bar() as bar:
        task = bar.add_task("posterior predictive", total=len(particles))
        results = run_draws(small, particles, replicate_seeds(settings.root_seed, len(particles)),
                            settings.workers, settings.scheduler, lambda: bar.advance(task))
    rows = predictive(results)
    report: dict = {}

    def write() -> None:
        with atomic_output(out, o["overwrite"]) as folder:
            frame.to_parquet(folder / "posterior.parquet", index=False)
            report.update(write_report(folder, record, frame, priors, rows, o["doc"]))

    save_out(write, out)
    table = Table(title="posterior predictive per target")
    for col in ("target", "accepted", "mean", "90% interval", "result"):
        table.add_column(col, overflow="fold")
    for r in report["targets"]:
        table.add_row(
            r["target"], f"{r['accepted_low']:g} to {r['accepted_high']:g}",
            f"{r['predictive_mean']:.3g}",
            f"{r['predictive_p05']:.3g} to {r['predictive_p95']:.3g}",
            "[green]pass[/]" if r["pass"] else "[red]FAIL[/]",
        )
    console.print(table)
    console.print(f"written {out}/ (posterior.parquet, calibration.json, calibration.md, "
                  "calibration_parameters.html)" + (f", {o['doc']}" if o["doc"] else "")
                  + (f", {o['posterior']}" if o["posterior"] else ""))
    if not report["all_pass"]:
        raise typer.Exit(1)


@app.command("validate-facts")
def validate_facts(
    scenario: Annotated[
        Path, typer.Argument(help="bundled scenario name or YAML file")
    ] = Path("baseline"),
    posterior: Annotated[Path | None, typer.Option(help="posterior (default: shipped)")] = None,
    draws: Annotated[int, typer.Option(min=2, help="particles drawn by weight")] = 30,
    taskers: Annotated[int, typer.Option(min=10, help="potential taskers per run")] = 2000,
    seed: Annotated[int, typer.Option(min=0, help="root seed")] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="local Dask workers")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address")] = None,
    doc: Annotated[Path, typer.Option(help="report to write")] = Path("docs/validation.md"),
) -> None:
    """Held-out facts (never targets) against the posterior predictive: docs/validation.md."""
    from sim.calibration import check_statistics
    from sim.calibration_abc import POSTERIOR, draw_particles, load_posterior
    from sim.calibration_report import run_draws
    from sim.calibration_validation import load_facts, target_specs, validate, write
    from sim.compare import replicate_seeds

    scn = load(scenario, [f"population.taskers={taskers}"])
    try:
        specs = [s for f in load_facts() for s in target_specs(f["statistic"])]
        check_statistics(scn, specs, "held-out fact")
        particles = draw_particles(load_posterior(posterior or POSTERIOR), draws, seed)
        for p in particles:
            load_scenario(scn, p)
    except ScenarioError as e:
        fail(str(e))
    with progress_bar() as bar:
        task = bar.add_task("posterior predictive", total=draws)
        results = run_draws(scn, particles, replicate_seeds(seed, draws), workers, scheduler,
                            lambda: bar.advance(task))
    rows = validate(results)
    settings = {"draws": draws, "taskers": taskers, "seed": seed,
                "posterior": str(posterior or "sim/data/posterior.parquet")}
    write(doc, rows, settings)
    table = Table(title="held-out facts")
    for col in ("fact", "accepted", "model mean", "90% interval", "result"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["fact"], f"{r['accepted_low']:g} to {r['accepted_high']:g}",
                      f"{r['predictive_mean']:.3g}",
                      f"{r['predictive_p05']:.3g} to {r['predictive_p95']:.3g}",
                      "[green]pass[/]" if r["pass"] else "[red]FAIL[/]")
    console.print(table)
    console.print(f"written {doc}")
