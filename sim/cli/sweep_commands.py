"""Commands over many runs: sweep, sensitivity."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.cli.base import OverwriteOpt, app, check_out, console, err, fail, save_out
from sim.scenario import ScenarioError


@app.command()
def sweep(
    sweep_file: Annotated[
        Path | None,
        typer.Argument(metavar="SWEEP", help="bundled sweep name or YAML file", show_default=False),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="store folder: sweep.json + runs/*.parquet")
    ] = None,
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
    verify: Annotated[
        Path | None,
        typer.Option(metavar="STORE", help="report a store's health (changes nothing); no SWEEP"),
    ] = None,
) -> None:
    """Run a parameter sweep (grid, LHS, Sobol, Morris) into a resumable Parquet store."""
    import time

    from sim.sweep import plan, run_sweep
    from sim.sweep_store import StoreWriteError

    if verify is not None:
        if sweep_file is not None or out is not None:
            fail("--verify STORE: give no SWEEP file and no --out (it only reads the store)")
        report_health(verify)
        return
    if sweep_file is None or out is None:
        fail("sweep: expected a SWEEP file and --out STORE (or --verify STORE)")
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

    def say(note: str) -> None:
        err.print(f"[bold yellow]note:[/] {note}", highlight=False, soft_wrap=True)

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
                retry_failed=retry_failed, progress=progress, notice=say,
            )
    except ScenarioError as e:
        fail(str(e))
    except StoreWriteError as e:
        err.print(f"[bold red]error:[/] {e.strerror}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
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


def report_health(store: Path) -> None:
    """`sweep --verify`: one line per finding; exit 1 when the store needs a --resume."""
    from sim.sweep import verify

    try:
        health = verify(store)
    except ScenarioError as e:
        fail(str(e))
    runs = len(health.planned)
    console.print(f"store {store}: {runs} runs planned", highlight=False, soft_wrap=True)
    console.print(
        f"  {len(health.intact)} run files intact ({len(health.failed)} recorded an error)",
        highlight=False,
    )
    for name, why in health.damaged.items():
        console.print(f"  damaged: {name}: {why}", highlight=False, soft_wrap=True)
    console.print(f"  {len(health.missing)} runs missing (no file)", highlight=False)
    console.print(f"  lock: {health.lock}", highlight=False, soft_wrap=True)
    console.print(f"  temporary files: {health.temporary}", highlight=False)
    if health.healthy:
        console.print("healthy")
        return
    console.print(
        "not healthy: run its sweep file again with --resume to redo damaged and missing runs",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


@app.command()
def sensitivity(
    store: Annotated[Path, typer.Argument(help="store of a sobol or morris sweep")],
    outcome: Annotated[
        list[str] | None, typer.Option(help="outcome to analyse (repeatable; default: all)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the table and chart")] = None,
    resamples: Annotated[int, typer.Option(min=10, help="bootstrap resamples")] = 1000,
    overwrite: OverwriteOpt = False,
) -> None:
    """Sobol (S1, ST with intervals) or Morris indices of a sweep, as a table and an HTML chart."""
    from sim import sensitivity as sens

    target = out or store / "sensitivity"
    if store.is_dir():
        check_out(target, overwrite)
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
    for warning in sens.stability_warnings(table):
        err.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    save_out(lambda: sens.write(table, target, overwrite), target)
    console.print(f"written {target / 'sensitivity.csv'} and .html", soft_wrap=True)
