"""Commands over many runs: sweep, sensitivity."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.cli.base import app, console, err, fail
from sim.scenario import ScenarioError


@app.command()
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(metavar="SWEEP", help="bundled sweep name or YAML file")
    ],
    out: Annotated[Path, typer.Option(help="store folder: sweep.json + runs/*.parquet")],
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="local worker processes (1 = in this process; default: cores)"),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    resume: Annotated[bool, typer.Option(help="skip runs already in the store")] = False,
    retry_failed: Annotated[
        bool, typer.Option(help="with --resume: run again the runs that recorded an error")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="validate and count runs; run nothing")] = False,
    log_every: Annotated[
        int | None,
        typer.Option(
            min=1, help="when stderr is not a terminal, a progress line every N runs (default: 5%)"
        ),
    ] = None,
) -> None:
    """Run a parameter sweep (grid, LHS, Sobol, Morris) into a resumable Parquet store."""
    import time

    from sim.sweep import plan, run_sweep

    if workers is not None and scheduler is not None:
        fail("--workers and --scheduler: give one; workers of a cluster are set where it runs")
    if retry_failed and not resume:
        fail("--retry-failed: only with --resume (it reruns failed runs of an existing store)")
    try:
        p = plan(sweep_file)
    except ScenarioError as e:
        fail(str(e))
    d = p.spec.design
    console.print(
        f"{p.spec.name}: {d.kind} design, {len(p.points)} points x {p.spec.replicates} "
        f"replicates = {len(p.runs)} runs"
    )
    if dry_run:
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed[/]"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    )
    task = bar.add_task(p.spec.name, total=len(p.runs), failed=0, rate="")
    start = {"t": time.perf_counter(), "n": 0}
    every = log_every or max(1, len(p.runs) // 20)
    shown: dict[str, object] = {"link": None, "logged": None}

    def progress(s) -> None:
        if s.done + s.failed == 0:
            start.update(t=time.perf_counter(), n=s.skipped)
        minutes = (time.perf_counter() - start["t"]) / 60
        rate = f"{(s.done + s.failed) / minutes:.1f} runs/min" if s.done + s.failed else ""
        finished = s.skipped + s.done + s.failed
        bar.update(task, completed=finished, failed=s.failed, rate=rate)
        if s.dashboard_link and s.dashboard_link != shown["link"]:
            shown["link"] = s.dashboard_link
            err.print(f"Dask dashboard: {s.dashboard_link}", highlight=False, soft_wrap=True)
        if bar.disable and finished and finished != shown["logged"] and (
            finished % every == 0 or finished == s.total
        ):  # logs and CI: a plain line now and then instead of a live bar
            shown["logged"] = finished
            line = f"{p.spec.name}: {finished}/{s.total} runs, {s.failed} failed"
            err.print(f"{line}{', ' + rate if rate else ''}", highlight=False, soft_wrap=True)

    try:
        with bar:
            report = run_sweep(
                p, out, workers=workers, scheduler=scheduler, resume=resume,
                retry_failed=retry_failed, progress=progress,
            )
    except ScenarioError as e:
        fail(str(e))
    except OSError as e:
        fail(f"--scheduler: cannot reach {scheduler} ({e})" if scheduler else str(e))
    rate = report.done / (report.elapsed_s / 60) if report.elapsed_s > 0 else 0.0
    console.print(
        f"{report.done} runs done, {report.skipped} already in the store, {report.failed} failed "
        f"in {report.elapsed_s:.1f} s ({rate:.1f} runs/min); store: {out}/",
        soft_wrap=True,
    )
    if report.failed:
        for h, msg in list(report.errors.items())[:5]:
            err.print(f"run {h}: {msg}", highlight=False, soft_wrap=True)
        hint = (
            "; run again with --resume to retry lost runs" if report.lost
            else "; after a fix, --resume --retry-failed runs them again"
        )
        err.print(f"{report.failed} runs failed (see the error column of the store){hint}")
        raise typer.Exit(1)


@app.command()
def sensitivity(
    store: Annotated[Path, typer.Argument(help="store of a sobol or morris sweep")],
    outcome: Annotated[
        list[str] | None, typer.Option(help="outcome to analyse (repeatable; default: all)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the table and chart")] = None,
    resamples: Annotated[int, typer.Option(min=10, help="bootstrap resamples")] = 1000,
) -> None:
    """Sobol (S1, ST with intervals) or Morris indices of a sweep, as a table and an HTML chart."""
    from sim import sensitivity as sens

    try:
        table = sens.analyse(store, outcome or None, num_resamples=resamples)
    except ScenarioError as e:
        fail(str(e))
    sobol = table["method"].iloc[0] == "sobol"
    cols = sens.SOBOL if sobol else sens.MORRIS
    view = Table(title=f"{'Sobol' if sobol else 'Morris'} indices of {store}")
    for col in ("outcome", "parameter", *cols):
        left = col in ("outcome", "parameter")
        view.add_column(col, justify="left" if left else "right", overflow="fold")
    for _, r in table.iterrows():
        view.add_row(r.outcome, r.parameter, *(f"{r[c]:.3g}" for c in cols))
    console.print(view)
    csv, html = sens.write(table, out or store / "sensitivity")
    console.print(f"written {csv} and {html}", soft_wrap=True)
