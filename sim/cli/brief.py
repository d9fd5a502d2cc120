"""`datalabour brief`: the analyst's brief, a self-contained HTML page, made headlessly."""

from __future__ import annotations

import inspect
import os
import shlex
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.base import BothSetOpt, ReformSetOpt, app, console, fail, load, progress_bar
from sim.scenario import ScenarioError


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse, before any simulation, an output path that cannot take the brief."""
    if out.is_dir():
        fail(f"--out: {out} is a folder; expected a file name such as brief.html")
    if out.exists() and not overwrite:
        fail(f"--out: {out} exists; choose another name or pass --overwrite")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        fail(f"--out: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        fail(f"--out: folder {folder} is not writable")


def write_atomically(out: Path, text: str) -> None:
    """Write beside the target, then move into place: a reader sees the whole brief or none."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@app.command()
def brief(
    reform: Annotated[Path, typer.Argument(help="reform: bundled name or YAML file")],
    out: Annotated[Path, typer.Option(help="the brief's HTML file")],
    baseline: Annotated[
        Path, typer.Option(help="baseline: bundled name or YAML file")
    ] = Path("baseline"),
    sets: BothSetOpt = None,
    set_reform: ReformSetOpt = None,
    replicates: Annotated[int, typer.Option(min=2, help="paired replicates")] = 10,
    ensemble: Annotated[
        int, typer.Option(min=0, help="draws of the uncertain assumptions (0: seed noise only)")
    ] = 0,
    seed: Annotated[int | None, typer.Option(help="root seed of the replicates")] = None,
    whole_run: Annotated[
        bool, typer.Option(help="measure the whole run, not only the weeks after the reform starts")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing file")] = False,
) -> None:
    """A self-contained HTML brief: the reform, headline with intervals, charts, sources."""
    from datalabour_dashboard.brief import build_brief
    from datalabour_dashboard.state import measured_after_start

    from sim.compare import check_comparable, compare

    check_out(out, overwrite)
    base = load(baseline, sets)
    ref = load(reform, [*(sets or []), *(set_reform or [])])
    try:
        check_comparable(base, ref)
    except ScenarioError as e:
        fail(str(e))
    if not whole_run:
        base, ref = measured_after_start(base, ref)
    extra = {}
    if ensemble:
        if "ensemble" not in inspect.signature(compare).parameters:
            fail("--ensemble: this version of sim.compare has no ensemble; use --ensemble 0")
        extra["ensemble"] = ensemble
    with progress_bar() as bar:
        task = bar.add_task(f"{base.name} vs {ref.name}", total=2 * replicates)
        comp = compare(base, ref, replicates, seed, progress=lambda: bar.advance(task), **extra)
    words = ["datalabour", "brief", str(reform), "--baseline", str(baseline)]
    words += [f"--set={s}" for s in sets or []]
    words += [f"--set-reform={s}" for s in set_reform or []]
    words += ["--replicates", str(replicates), "--seed", str(base.seed if seed is None else seed)]
    if ensemble:
        words += ["--ensemble", str(ensemble)]
    if whole_run:
        words.append("--whole-run")
    words += ["--out", str(out)]
    html = build_brief(comp, shlex.join(words))
    write_atomically(out, html)
    console.print(f"brief written to {out} ({len(html) // 1024} KB)")
