"""`datalabour discover`: scenario discovery (PRIM) on a sweep store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.base import OverwriteOpt, app, check_out, console, fail, save_out
from sim.scenario import ScenarioError


@app.command()
def discover(
    store: Annotated[Path, typer.Argument(help="sweep store (folder with sweep.json)")],
    outcome: Annotated[str, typer.Option(help="outcome of the sweep to classify runs by")],
    above: Annotated[float | None, typer.Option(help="runs of interest: outcome above X")] = None,
    below: Annotated[float | None, typer.Option(help="runs of interest: outcome below X")] = None,
    min_density: Annotated[
        float, typer.Option(help="keep the widest box at least this dense")
    ] = 0.8,
    max_boxes: Annotated[int, typer.Option(min=1, help="boxes to look for at most")] = 3,
    out: Annotated[Path | None, typer.Option(help="folder for boxes.csv and tradeoff.html")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Find boxes of parameters where an outcome is above/below a level (PRIM)."""
    from sim.discover import discover as find

    check_out(out, overwrite)
    try:
        found = find(store, outcome, above, below, min_density=min_density, max_boxes=max_boxes)
    except ScenarioError as e:
        fail(str(e))
    console.print(
        f"{found.condition}: {found.cases_of_interest} of {found.cases} runs", highlight=False
    )
    if found.boxes.empty:
        console.print(f"no box at least {min_density:.0%} dense was found")
    for number, box in found.boxes.groupby("box"):
        first = box.iloc[0]
        view = Table(
            title=f"box {number}: coverage {first.coverage:.2f}, density {first.density:.2f}, "
            f"mass {first.mass:.2f}"
        )
        for col in ("parameter", "low", "high"):
            view.add_column(col, justify="left" if col == "parameter" else "right")
        for _, r in box.iterrows():
            low = r["values"] if r["values"] else f"{r.low:.4g}"
            high = "" if r["values"] else f"{r.high:.4g}"
            view.add_row(r.parameter, low, high)
        console.print(view)
    if out is not None:
        save_out(lambda: found.save(out, overwrite), out)
        console.print(f"written {out}/boxes.csv and tradeoff.html", soft_wrap=True)
