"""Commands that run the model: run, validate, compare, policy-report, dashboard."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim import outcomes
from sim.cli.base import (
    BothSetOpt,
    OverwriteOpt,
    ReformSetOpt,
    SetOpt,
    app,
    check_out,
    console,
    fail,
    load,
    progress_bar,
    save_out,
)
from sim.scenario import ScenarioError
from sim.scenario_files import load_scenario


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="bundled scenario name or YAML file")],
    sets: SetOpt = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    taskers: Annotated[int | None, typer.Option(help="potential taskers in the population")] = None,
    weeks: Annotated[int | None, typer.Option(help="weeks to simulate")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for the results")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run one scenario; print the summary and write results to --out."""
    import sim
    from sim.results import fit_burn_in

    scn = load(scenario, sets, {"population.taskers": taskers})
    check_out(out, overwrite)
    if weeks is not None:  # a burn-in as long as the run shrinks to a quarter of it
        try:
            scn = load_scenario(scn, fit_burn_in(scn, {"weeks": weeks}))
        except ScenarioError as e:
            fail(str(e))
    with progress_bar() as bar:
        task = bar.add_task(f"running {scn.name}", total=scn.weeks)
        result = sim.run(scn, seed, progress=lambda: bar.advance(task))
    table = Table(title=f"{scn.name}: seed {result.seed}, weeks {scn.burn_in_weeks}-{scn.weeks}")
    table.add_column("outcome")
    table.add_column("value", justify="right")
    for key in outcomes.SUMMARY_TABLE:
        o = outcomes.BY_NAME[key]
        unit = "" if o.unit == "share" else f" ({o.unit})"
        table.add_row(o.label + unit, o.format(result.overall[key]))
    console.print(table)
    if out is not None:
        save_out(lambda: result.save(out, overwrite), out)
        console.print(f"results written to {out}/")


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="bundled scenario name or YAML file")],
    sets: SetOpt = None,
) -> None:
    """Check a scenario: prints `ok`, or one line naming the bad field (exit 2)."""
    load(scenario, sets, to_run=False)
    console.print("ok")


@app.command()
def compare(
    baseline: Annotated[Path, typer.Argument(help="baseline: bundled name or YAML file")],
    reform: Annotated[Path, typer.Argument(help="reform: bundled name or YAML file")],
    sets: BothSetOpt = None,
    set_reform: ReformSetOpt = None,
    replicates: Annotated[int, typer.Option(min=2, help="paired replicates")] = 10,
    seed: Annotated[int | None, typer.Option(help="root seed of the replicates")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for comparison.csv/json")] = None,
    overwrite: OverwriteOpt = False,
    ensemble: Annotated[
        int | None, typer.Option(min=2, help="also run N draws of the calibration posterior")
    ] = None,
    posterior: Annotated[Path | None, typer.Option(help="posterior for --ensemble")] = None,
) -> None:
    """Reform vs baseline with common random numbers: paired deltas with 95% intervals.

    Size and horizon (population, weeks, burn-in) and the root seed are shared by both sides.
    With --ensemble N, also the spread of the delta over N draws of the calibration posterior.
    """
    from sim.compare import check_comparable
    from sim.compare import compare as run_compare

    base = load(baseline, sets)
    ref = load(reform, [*(sets or []), *(set_reform or [])])
    check_out(out, overwrite)
    try:
        check_comparable(base, ref)
    except ScenarioError as e:
        fail(str(e))
    with progress_bar() as bar:
        total = 2 * (replicates + (ensemble or 0))
        task = bar.add_task(f"{base.name} vs {ref.name}", total=total)
        try:
            comp = run_compare(base, ref, replicates, seed, progress=lambda: bar.advance(task),
                               ensemble=ensemble, posterior=posterior)
        except ScenarioError as e:
            fail(str(e))
    head = comp.headline()
    table = Table(title=f"{ref.name} vs {base.name}: {replicates} paired replicates")
    cols = ["outcome", "group", "baseline", "reform", "delta", "95% CI", "change",
            "CI width paired/unpaired"]
    if ensemble:
        cols += [f"posterior 90% ({ensemble} draws)", "same sign"]
    for col in cols:
        table.add_column(col, justify="right" if col != "outcome" else "left")
    for _, r in head.iterrows():
        ratio = r.paired_ci_halfwidth / r.unpaired_ci_halfwidth if r.unpaired_ci_halfwidth else 0
        extra = (
            [f"[{r.ensemble_low:+.3g}, {r.ensemble_high:+.3g}]", f"{r.share_same_sign:.0%}"]
            if ensemble
            else []
        )
        table.add_row(
            r.outcome, r.group, f"{r.baseline_mean:.4g}", f"{r.reform_mean:.4g}", f"{r.delta:+.3g}",
            f"[{r.delta_ci_low:+.3g}, {r.delta_ci_high:+.3g}]", f"{r.relative_change:+.1%}",
            f"{ratio:.2f}", *extra,
        )
    console.print(table)
    if out is not None:
        save_out(lambda: comp.save(out, overwrite), out)
        console.print(f"written {out}/comparison.csv and comparison.json")


@app.command("policy-report")
def policy_report(
    scenarios: Annotated[
        Path | None, typer.Option(help="folder of scenarios (default: the bundled ones)")
    ] = None,
    doc: Annotated[Path, typer.Option(help="document to update")] = Path("docs/policies.md"),
    replicates: Annotated[int, typer.Option(min=2, help="paired replicates")] = 10,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="override every scenario: PATH=VALUE (repeatable)"),
    ] = None,
    ensemble: Annotated[
        int, typer.Option(min=0, help="posterior draws for the robustness verdicts (0: none)")
    ] = 20,
) -> None:
    """Regenerate docs/policies.md's headline deltas (seed intervals, ensemble ranges, verdicts)."""
    from sim.bundled import scenarios_dir
    from sim.report import policy_scenarios, write_policy_report

    folder = scenarios or scenarios_dir()
    try:
        n = len(policy_scenarios(folder))
        with progress_bar() as bar:
            task = bar.add_task("policy scenarios", total=n * (replicates + ensemble) * 2)
            table = write_policy_report(
                folder, doc, replicates, lambda: bar.advance(task), ensemble or None,
                list(sets or []),
            )
    except ScenarioError as e:
        fail(str(e))
    console.print(table.to_string(index=False))
    console.print(f"updated {doc}")


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="port on localhost")] = 8501,
) -> None:
    """Start the Streamlit dashboard on localhost."""
    from importlib.util import find_spec

    spec = find_spec("datalabour_dashboard")  # the repository's dashboard/, installed
    if spec is None or not spec.origin:
        fail("dashboard: package datalabour_dashboard not installed; reinstall datalabour")
    app_path = Path(spec.origin).parent / "app.py"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.headless", "true", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]
    console.print(f"dashboard on http://127.0.0.1:{port}")
    sys.stdout.flush()
    os.execv(sys.executable, cmd)  # become the server: stopping this process stops Streamlit
