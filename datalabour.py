"""The `datalabour` command: the CLI of the `sim` package installed beside this module.

A file or folder named ``sim`` earlier on the import path (a user's own ``sim.py``) would
shadow the package; the command then says so in one line instead of failing in an import.
"""

import sys
from importlib.util import find_spec
from pathlib import Path


def shadowing_sim() -> str | None:
    """What `import sim` would load, when it is not the package beside this module."""
    ours = Path(__file__).resolve().parent / "sim" / "__init__.py"
    spec = find_spec("sim")
    found = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    return None if found == ours else str(found or "nothing")


def main() -> None:
    other = shadowing_sim()
    if other is not None:
        print(
            f"error: `import sim` loads {other}, not datalabour's package; "
            "rename that file or folder, or run from another folder",
            file=sys.stderr,
        )
        sys.exit(2)
    from sim.cli import app

    app()
