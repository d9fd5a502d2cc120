"""`datalabour scenarios list | show NAME | copy NAME [DIR]`: the bundled scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.bundled import (
    copy_scenario,
    description,
    scenario_names,
    scenario_path,
    scenarios_dir,
    sweep_names,
    sweeps_dir,
)
from sim.cli.base import app, console, fail
from sim.scenario import ScenarioError

scenarios = typer.Typer(
    no_args_is_help=True,
    help="The scenarios shipped with datalabour: every command takes their names as paths.",
)
app.add_typer(scenarios, name="scenarios")


@scenarios.command("list")
def list_scenarios() -> None:
    """Bundled scenarios and sweep files, with their descriptions."""
    table = Table(title=f"bundled scenarios ({scenarios_dir()})", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("description", overflow="fold")
    for name in scenario_names():
        table.add_row(name, description(scenarios_dir() / f"{name}.yaml"))
    for name in sweep_names():
        table.add_row(f"sweep: {name}", description(sweeps_dir() / f"{name}.yaml"))
    console.print(table)


@scenarios.command()
def show(name: Annotated[str, typer.Argument(help="bundled scenario name, e.g. baseline")]) -> None:
    """Print a bundled scenario's YAML as shipped (its diff against what it extends)."""
    try:
        path = scenario_path(name)
        if not path.is_file():
            raise ScenarioError(f"scenario: {name!r} is not a bundled name")
    except ScenarioError as e:
        fail(str(e))
    print(path.read_text(encoding="utf-8"), end="")


@scenarios.command()
def copy(
    name: Annotated[str, typer.Argument(help="bundled scenario name")],
    folder: Annotated[Path, typer.Argument(help="where to copy it")] = Path("."),
) -> None:
    """Copy a bundled scenario (with the files it extends) to edit it; never overwrites."""
    try:
        written = copy_scenario(name, folder)
    except ScenarioError as e:
        fail(str(e))
    for path in written:
        console.print(f"written {path}")
