"""`datalabour`: the library's functions plus argument parsing and printing, nothing more."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.work import check_memory

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="datalabour: an agent-based model of the economics of AI data labour.",
)
console = Console()
err = Console(stderr=True)

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a parameter: PATH=VALUE (repeatable)"),
]

SUMMARY_ROWS = [
    ("median effective hourly pay (USD, all time)", "median_effective_hourly_pay_usd", "{:.2f}"),
    ("mean effective hourly pay (USD, all time)", "mean_effective_hourly_pay_usd", "{:.2f}"),
    ("mean hourly pay, paid time (USD)", "mean_paid_hourly_pay_usd", "{:.2f}"),
    ("unpaid share of working time", "unpaid_share", "{:.1%}"),
    ("share under local minimum wage", "share_under_local_minimum_wage", "{:.1%}"),
    ("share wanting more work", "share_wanting_more_work", "{:.1%}"),
    ("active taskers", "active_taskers", "{:,.0f}"),
    ("human labels / week", "labels_human", "{:,.0f}"),
    ("AI labels / week", "labels_ai", "{:,.0f}"),
    ("automation share", "automation_share", "{:.1%}"),
    ("lab spend (USD / week)", "lab_spend_usd", "{:,.0f}"),
    ("cost per quality-adjusted label (USD)", "cost_per_quality_adjusted_label_usd", "{:.4f}"),
    ("share of lab price reaching taskers", "tasker_share_of_lab_price", "{:.1%}"),
]


def fail(message: str) -> None:
    """One line on stderr and exit code 2: how every user error ends."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _load(
    path: Path, sets: list[str] | None, extra: dict | None = None, *, to_run: bool = True
) -> Scenario:
    """The scenario with its overrides; one to run here must also fit in memory."""
    try:
        overrides = list(sets or [])
        overrides += [f"{k}={v}" for k, v in (extra or {}).items() if v is not None]
        scenario = load_scenario(path, overrides)
        if to_run:
            check_memory(scenario.population.taskers)
        return scenario
    except ScenarioError as e:
        fail(str(e))
        raise  # unreachable


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    sets: SetOpt = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    taskers: Annotated[int | None, typer.Option(help="potential taskers in the population")] = None,
    weeks: Annotated[int | None, typer.Option(help="weeks to simulate")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the results")] = None,
) -> None:
    """Run one scenario; print the summary and write results to --out."""
    import sim

    scn = _load(scenario, sets, {"population.taskers": taskers})
    if weeks is not None:  # a burn-in as long as the run shrinks to a quarter of it
        short = {"burn_in_weeks": weeks // 4} if scn.burn_in_weeks >= weeks else {}
        try:
            scn = scn.with_overrides({"weeks": weeks, **short})
        except ScenarioError as e:
            fail(str(e))
    with _progress() as bar:
        task = bar.add_task(f"running {scn.name}", total=scn.weeks)
        result = sim.run(scn, seed, progress=lambda: bar.advance(task))
    table = Table(title=f"{scn.name}: seed {result.seed}, weeks {scn.burn_in_weeks}-{scn.weeks}")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for label, key, fmt in SUMMARY_ROWS:
        table.add_row(label, fmt.format(result.overall[key]))
    console.print(table)
    if out is not None:
        result.save(out)
        console.print(f"results written to {out}/")


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    sets: SetOpt = None,
) -> None:
    """Check a scenario: prints `ok`, or one line naming the bad field (exit 2)."""
    _load(scenario, sets, to_run=False)
    console.print("ok")


@app.command()
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML")] = Path(
        "scenarios/baseline.yaml"
    ),
    sets: SetOpt = None,
    replicates: Annotated[int, typer.Option(min=1, help="runs with different seeds")] = 5,
    out: Annotated[Path | None, typer.Option(help="folder for calibration.json and .md")] = None,
) -> None:
    """Run the baseline R times and check every published target of MODEL.md s.9."""
    import sim
    from sim.calibration import calibration_report, markdown
    from sim.compare import replicate_seeds

    scn = _load(scenario, sets)
    results = []
    with _progress() as bar:
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
            r["target"],
            f"{r['accepted_low']:g}-{r['accepted_high']:g}",
            f"{r['model_mean']:.3g}",
            f"{r['model_sd']:.2g}",
            "[green]pass[/]" if r["pass"] else "[red]FAIL[/]",
            r["source"],
        )
    console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "calibration.json").write_text(json.dumps(report, indent=2))
        (out / "calibration.md").write_text(markdown(report))
        console.print(f"written {out}/calibration.json and calibration.md")
    if not report["all_pass"]:
        raise typer.Exit(1)


@app.command()
def compare(
    baseline: Annotated[Path, typer.Argument(help="baseline scenario YAML")],
    reform: Annotated[Path, typer.Argument(help="reform scenario YAML")],
    sets: SetOpt = None,
    replicates: Annotated[int, typer.Option(min=2, help="paired replicates")] = 10,
    seed: Annotated[int | None, typer.Option(help="root seed of the replicates")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for comparison.csv/json")] = None,
) -> None:
    """Reform vs baseline with common random numbers: paired deltas with 95% intervals."""
    from sim.compare import compare as run_compare

    base = _load(baseline, None)
    ref = _load(reform, sets)
    with _progress() as bar:
        task = bar.add_task(f"{base.name} vs {ref.name}", total=2 * replicates)
        comp = run_compare(base, ref, replicates, seed, progress=lambda: bar.advance(task))
    head = comp.headline()
    table = Table(title=f"{ref.name} vs {base.name}: {replicates} paired replicates")
    for col in ("outcome", "group", "baseline", "reform", "delta", "95% CI", "change",
                "CI width paired/unpaired"):
        table.add_column(col, justify="right" if col != "outcome" else "left")
    for _, r in head.iterrows():
        ratio = r.paired_ci_halfwidth / r.unpaired_ci_halfwidth if r.unpaired_ci_halfwidth else 0
        table.add_row(
            r.outcome, r.group, f"{r.baseline_mean:.4g}", f"{r.reform_mean:.4g}", f"{r.delta:+.3g}",
            f"[{r.delta_ci_low:+.3g}, {r.delta_ci_high:+.3g}]", f"{r.relative_change:+.1%}",
            f"{ratio:.2f}",
        )
    console.print(table)
    if out is not None:
        comp.save(out)
        console.print(f"written {out}/comparison.csv and comparison.json")


@app.command("policy-report")
def policy_report(
    scenarios: Annotated[Path, typer.Option(help="folder of scenarios")] = Path("scenarios"),
    doc: Annotated[Path, typer.Option(help="document to update")] = Path("docs/policies.md"),
    replicates: Annotated[int, typer.Option(min=2, help="paired replicates")] = 10,
) -> None:
    """Regenerate the headline-delta table of docs/policies.md from the shipped scenarios."""
    from sim.report import policy_scenarios, write_policy_report

    try:
        n = len(policy_scenarios(scenarios))
        with _progress() as bar:
            task = bar.add_task("policy scenarios", total=n * replicates * 2)
            table = write_policy_report(scenarios, doc, replicates, lambda: bar.advance(task))
    except ScenarioError as e:
        fail(str(e))
    console.print(table.to_string(index=False))
    console.print(f"updated {doc}")


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="port on localhost")] = 8501,
) -> None:
    """Start the Streamlit dashboard on localhost."""
    app_path = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
    if not app_path.exists():
        fail(f"dashboard: {app_path} not found; install datalabour from its source tree")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]
    console.print(f"dashboard on http://127.0.0.1:{port}")
    sys.stdout.flush()
    os.execv(sys.executable, cmd)  # become the server: stopping this process stops Streamlit


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(metavar="SWEEP", help="sweep YAML file")],
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

    def progress(s) -> None:
        if s.done + s.failed == 0:
            start.update(t=time.perf_counter(), n=s.skipped)
        minutes = (time.perf_counter() - start["t"]) / 60
        rate = f"{(s.done + s.failed) / minutes:.1f} runs/min" if s.done + s.failed else ""
        bar.update(task, completed=s.skipped + s.done + s.failed, failed=s.failed, rate=rate)

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


def main() -> None:  # pragma: no cover
    app()
