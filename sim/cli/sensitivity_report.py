"""`datalabour sensitivity-report`: docs/sensitivity.md from the shipped screening sweeps."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import app, console, err, fail
from sim.scenario import ScenarioError


@app.command("sensitivity-report")
def sensitivity_report(
    sweeps: Annotated[Path, typer.Option(help="folder of the screening sweeps")] = Path(
        "scenarios/sweeps"
    ),
    stores: Annotated[Path, typer.Option(help="folder for the sweep stores")] = Path(
        "results/sensitivity"
    ),
    doc: Annotated[Path, typer.Option(help="document to write")] = Path("docs/sensitivity.md"),
    top: Annotated[int, typer.Option(min=2, help="parameters kept for Sobol")] = 3,
    sobol_samples: Annotated[int, typer.Option(min=2, help="Sobol base samples N")] = 512,
    sobol_replicates: Annotated[int, typer.Option(min=1, help="runs per Sobol point")] = 2,
    workers: Annotated[int | None, typer.Option(min=1, help="local worker processes")] = None,
    scheduler: Annotated[str | None, typer.Option(help="address of a Dask scheduler")] = None,
    quick: Annotated[bool, typer.Option(help="tiny runs: checks the pipeline only")] = False,
) -> None:
    """Morris screening, then Sobol indices of the influential parameters: docs/sensitivity.md."""
    from sim.sensitivity_report import generate
    from sim.sweep import run_sweep

    def progress(status) -> None:
        finished = status.done + status.failed
        if finished and (finished % 100 == 0 or status.remaining == 0):
            err.print(f"  {finished + status.skipped}/{status.total} runs", highlight=False)

    runner = functools.partial(run_sweep, workers=workers, scheduler=scheduler, progress=progress)
    try:
        stages = generate(sweeps, stores, doc, top, sobol_samples, sobol_replicates, quick, runner)
    except ScenarioError as e:
        fail(str(e))
    for s in stages:
        console.print(f"{s.spec.name}: {s.runs:,} runs, {s.seconds / 60:.1f} min", highlight=False)
    console.print(f"written {doc}")
