"""What every command shares: the Typer app, consoles, one-line errors, loading, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.resources import check_memory, reuse_freed_memory
from sim.result_folder import OutputError, check_output
from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="datalabour: an agent-based model of the economics of AI data labour.",
)
console = Console()
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from sim.results import package_version

        console.print(f"datalabour {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """datalabour: an agent-based model of the economics of AI data labour."""

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a parameter: PATH=VALUE (repeatable)"),
]

BothSetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override both sides: PATH=VALUE (repeatable)"),
]
ReformSetOpt = Annotated[
    list[str] | None,
    typer.Option("--set-reform", help="override the reform only: PATH=VALUE (repeatable)"),
]
OverwriteOpt = Annotated[
    bool, typer.Option(help="replace an older result in --out, whole (else it is refused)")
]


def fail(message: str) -> None:
    """One line on stderr and exit code 2: how every user error ends."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def load(
    path: Path, sets: list[str] | None, extra: dict | None = None, *, to_run: bool = True
) -> Scenario:
    """The scenario with its overrides; one to run here must also fit in memory."""
    try:
        overrides = list(sets or [])
        overrides += [f"{k}={v}" for k, v in (extra or {}).items() if v is not None]
        scenario = load_scenario(path, overrides)
        if to_run:
            check_memory(scenario.population.taskers)
            reuse_freed_memory()  # this process exists to run the model
        return scenario
    except ScenarioError as e:
        fail(str(e))
        raise  # unreachable


class _Progress(Progress):
    """A live bar on a terminal; elsewhere (logs, CI) a plain line every tenth of the work."""

    def advance(self, task_id, advance: float = 1) -> None:
        super().advance(task_id, advance)
        if not self.disable:
            return
        task = next(t for t in self.tasks if t.id == task_id)
        every = max(1, int(task.total or 1) // 10)
        if int(task.completed) % every == 0 or task.completed == task.total:
            err.print(f"{task.description}: {task.completed:.0f}/{task.total:.0f}", highlight=False)


def check_out(out: Path | None, overwrite: bool) -> None:
    """Before any simulating: --out can take a result (exit 2 if not)."""
    if out is not None:
        try:
            check_output(out, overwrite)
        except OutputError as e:
            fail(str(e))


def save_out(write: Callable[[], object], out: Path) -> None:
    """Write a result with `write` (atomic); a failure ends in one line, the folder untouched."""
    try:
        write()
    except OutputError as e:
        fail(str(e))
    except OSError as e:
        err.print(
            f"[bold red]error:[/] --out: cannot write {str(out)!r} ({e.strerror or e}); "
            "nothing was written and the folder is as it was",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


def progress_bar() -> Progress:
    return _Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
