"""`datalabour`: the library's functions plus argument parsing and printing, nothing more.

Each module of this package registers its commands on the one Typer `app` of `sim.cli.base`;
a new command goes in a module of its own, imported here.
"""

from sim.cli import (  # noqa: F401  (each registers its commands)
    brief,
    calibration_commands,
    discover,
    model_commands,
    outcomes,
    scenarios,
    sensitivity_report,
    sweep_commands,
)
from sim.cli.base import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()
