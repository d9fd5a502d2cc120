"""`datalabour outcomes`: the outcome registry as a table, JSON or the docs/outcomes.md page."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from sim import outcomes
from sim.cli.base import app, console


@app.command("outcomes")
def list_outcomes(
    as_json: Annotated[bool, typer.Option("--json", help="a JSON list of objects")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="the data dictionary docs/outcomes.md")
    ] = False,
) -> None:
    """Every outcome the model reports: name, label, unit, direction, scopes, description."""
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in outcomes.REGISTRY], indent=2))
        return
    if markdown:
        typer.echo(outcomes.markdown(), nl=False)
        return
    table = Table(title="outcomes (summary.json keys and Parquet columns)")
    for column in ("name", "unit", "direction", "scopes", "description"):
        table.add_column(column, overflow="fold")
    for o in outcomes.REGISTRY:
        table.add_row(o.name, o.unit, o.direction, ", ".join(o.scopes), o.description)
    console.print(table)
