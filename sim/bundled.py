"""The scenarios and sweep files shipped with the package, found by name.

In a source checkout they are the repository's ``scenarios/`` folder; an installed wheel
carries the same files as the package data ``sim/scenarios/`` (pyproject maps one onto the
other). A command, `sim.load_scenario` and the dashboard take either a bundled name
(``baseline``, ``local_minimum_wage``) or a path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from sim.scenario import ScenarioError

_HERE = Path(__file__).resolve().parent


def scenarios_dir() -> Path:
    """The folder of bundled scenarios: the wheel's package data, else the source tree's."""
    for folder in (_HERE / "scenarios", _HERE.parent / "scenarios"):
        if (folder / "baseline.yaml").is_file():
            return folder
    raise ScenarioError(f"bundled scenarios: no baseline.yaml beside {_HERE} (broken install)")


def sweeps_dir() -> Path:
    return scenarios_dir() / "sweeps"


def scenario_names() -> list[str]:
    """Bundled scenario names, the baseline first."""
    names = sorted(p.stem for p in scenarios_dir().glob("*.yaml"))
    return sorted(names, key=lambda n: n != "baseline")


def sweep_names() -> list[str]:
    return sorted(p.stem for p in sweeps_dir().glob("*.yaml"))


def _bundled(source: str | Path, folder: Path, kind: str, names: list[str]) -> Path:
    """`source` itself when it is an existing path or looks like one; else the bundled file."""
    path = Path(source)
    if path.is_file() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    found = folder / f"{path.name}.yaml"
    if found.is_file():
        return found
    raise ScenarioError(
        f"{kind}: {str(source)!r} is neither a file nor a bundled name; "
        f"bundled: {', '.join(names)}"
    )


def scenario_path(source: str | Path) -> Path:
    """The file of a scenario given by path or bundled name (``baseline``)."""
    return _bundled(source, scenarios_dir(), "scenario", scenario_names())


def sweep_path(source: str | Path) -> Path:
    """The file of a sweep given by path or bundled name (``floor_x_automation``)."""
    return _bundled(source, sweeps_dir(), "sweep", sweep_names())


def description(path: Path) -> str:
    """A file's `description:` field, else the first line of its leading comment."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("description"), str):
        return " ".join(data["description"].split()).split(". ")[0].split(" (")[0]
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.lstrip("# ").strip() if first.startswith("#") else ""


def extends_chain(path: Path) -> list[Path]:
    """The file and every file it `extends:`, nearest first (what a copy needs to load)."""
    chain = [path.resolve()]
    while True:
        parent = (yaml.safe_load(chain[-1].read_text(encoding="utf-8")) or {}).get("extends")
        if not isinstance(parent, str):
            return chain
        nxt = (chain[-1].parent / parent).resolve()
        if nxt in chain or not nxt.is_file():
            return chain
        chain.append(nxt)


def copy_scenario(name: str, folder: Path) -> list[Path]:
    """Copy a bundled scenario (and the files it extends) into `folder`; never overwrite."""
    source = scenario_path(name)
    if not source.is_relative_to(scenarios_dir()):
        names = ", ".join(scenario_names())
        raise ScenarioError(f"scenario: {name!r} is not a bundled name ({names})")
    root = scenarios_dir()
    targets = [(p, folder / p.relative_to(root)) for p in extends_chain(source)]
    clash = [str(t) for _, t in targets if t.exists()]
    if clash:
        raise ScenarioError(f"copy: {clash[0]!r} exists; not overwritten (choose another folder)")
    for src, dst in targets:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return [t for _, t in targets]
