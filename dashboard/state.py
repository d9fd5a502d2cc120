"""The dashboard's view: which preset, which overrides, how many replicates.

A view is plain data. It round-trips through the URL (`st.query_params`) so a link opens the
same comparison, and it turns into the two scenarios the library compares and into the CLI
command that reproduces them.

URL keys: ``v`` (scenario schema version), ``preset`` (a file stem in scenarios/),
``replicates``, ``window`` (after_start or whole), ``tab`` (the open tab), ``currency`` (USD or
PPP), ``side`` (presets shown side by side, comma-separated), reform overrides as dotted paths
(``policy.pay_floor.kind=absolute``) and overrides applied to both runs prefixed ``both.``
(``both.population.taskers=2000``).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.scenario import SCHEMA_VERSION, Scenario, ScenarioError
from sim.scenario_files import load_scenario, load_scenario_text, parse_scenario_text

from .schema import BASELINE, SCENARIOS, SHARED, flatten_diff, get_path

BOTH = "both."
RESERVED = {"v", "preset", "replicates", "window", "tab", "currency", "side", "ensemble"}
DEFAULT_REPLICATES = 10
MIN_REPLICATES, MAX_REPLICATES = 2, 50
TABS = (
    "Headline",
    "Side by side",
    "By country",
    "Distribution",
    "Over time",
    "Money flow",
    "Method & sources",
    "Share & reproduce",
)
CURRENCIES = ("USD", "PPP")
WINDOWS = ("after_start", "whole")
MAX_SIDE_BY_SIDE = 4
DEFAULT_ENSEMBLE, MAX_ENSEMBLE = 20, 100


@dataclass
class View:
    """What the analyst asked for: a preset reform, its overrides, shared run settings."""

    preset: str = "baseline"
    reform: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    replicates: int = DEFAULT_REPLICATES
    window: str = "after_start"
    tab: str = TABS[0]
    currency: str = CURRENCIES[0]
    side: list[str] = field(default_factory=list)
    ensemble: int = 0  # draws of the calibration posterior (0: seed noise only)

    def key(self) -> str:
        """A canonical string of what is computed: equal comparisons give equal keys."""
        return json.dumps(
            [self.preset, self.reform, self.shared, self.replicates, self.window],
            sort_keys=True,
            default=str,
        )

    def size(self) -> float:
        """Tasker-weeks the comparison simulates (both arms, every replicate)."""
        baseline, reform = build(self)
        weeks = baseline.population.taskers * baseline.weeks
        return self.replicates * (weeks + reform.population.taskers * reform.weeks)


def load_file(path: Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """`load_scenario` of a file with overrides, cached until a scenario file changes."""
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(SCENARIOS.glob("*.yaml")))
    return _load_cached(str(path), stamp, json.dumps(overrides or {}, sort_keys=True))


@lru_cache(maxsize=256)
def _load_cached(path: str, stamp: tuple, overrides_json: str) -> Scenario:
    return load_scenario(path, json.loads(overrides_json))


def presets() -> dict[str, Path]:
    """Every scenario file in scenarios/ by stem, the baseline first."""
    files = sorted(SCENARIOS.glob("*.yaml"))
    return {p.stem: p for p in sorted(files, key=lambda p: (p.stem != "baseline", p.stem))}


def preset_path(name: str) -> Path:
    found = presets().get(name)
    if found is None:
        raise ScenarioError(f"preset: {name!r} is not allowed; expected one of {sorted(presets())}")
    return found


def build(view: View) -> tuple[Scenario, Scenario]:
    """(baseline, reform): baseline.yaml + shared; the preset + reform overrides + shared."""
    if not MIN_REPLICATES <= view.replicates <= MAX_REPLICATES:
        raise ScenarioError(
            f"replicates: {view.replicates} is not allowed; expected "
            f"{MIN_REPLICATES} to {MAX_REPLICATES}"
        )
    baseline = load_file(BASELINE, view.shared)
    reform = load_file(preset_path(view.preset), {**view.reform, **view.shared})
    if view.window not in WINDOWS:
        raise ScenarioError(f"window: {view.window!r} is not allowed; expected one of {WINDOWS}")
    if view.window == "after_start":
        baseline, reform = measured_after_start(baseline, reform)
    from sim.resources import check_memory

    from .runs import workers


    taskers = max(baseline.population.taskers, reform.population.taskers)
    check_memory(taskers, runs=min(workers(), view.replicates))  # replicates run side by side
    return baseline, reform


# ---- values in URLs and on the command line --------------------------------------------
def encode_value(value: Any) -> str:
    """A URL-safe text for a value: plain for strings, JSON for everything else."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, separators=(",", ":"))


def decode_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def to_query(view: View) -> dict[str, str]:
    """The URL query parameters of a view (sorted, so equal views give equal URLs)."""
    out = {"v": str(SCHEMA_VERSION), "preset": view.preset, "replicates": str(view.replicates)}
    defaults = View()
    for name in ("window", "tab", "currency"):
        if getattr(view, name) != getattr(defaults, name):
            out[name] = getattr(view, name)
    if view.side:
        out["side"] = ",".join(view.side)
    if view.ensemble:
        out["ensemble"] = str(view.ensemble)
    for path in sorted(view.reform):
        out[path] = encode_value(view.reform[path])
    for path in sorted(view.shared):
        out[BOTH + path] = encode_value(view.shared[path])
    return out


def from_query(params: dict[str, Any]) -> tuple[View, list[str]]:
    """A view from URL query parameters, and warnings (e.g. an older schema version).

    Raises ScenarioError naming the parameter when one cannot be read.
    """
    warnings: list[str] = []

    def one(key: str) -> str:
        value = params[key]
        return value[-1] if isinstance(value, list) else str(value)

    if "v" in params and one("v") != str(SCHEMA_VERSION):
        warnings.append(
            f"This link was made with scenario schema version {one('v')}; this dashboard "
            f"reads version {SCHEMA_VERSION}. The numbers may differ from the sender's."
        )
    view = View()
    if "preset" in params:
        view.preset = one("preset")
        preset_path(view.preset)
    if "replicates" in params:
        try:
            view.replicates = int(one("replicates"))
        except ValueError:
            raise ScenarioError(
                f"replicates: {one('replicates')!r} is not allowed; expected a whole number"
            ) from None
    for name, allowed in (("window", WINDOWS), ("tab", TABS), ("currency", CURRENCIES)):
        if name in params:
            if one(name) not in allowed:
                raise ScenarioError(
                    f"{name}: {one(name)!r} is not allowed; expected one of {', '.join(allowed)}"
                )
            setattr(view, name, one(name))
    if "ensemble" in params:
        text = one("ensemble")
        if not text.isdigit() or not 0 <= int(text) <= MAX_ENSEMBLE:
            raise ScenarioError(
                f"ensemble: {text!r} is not allowed; expected a whole number 0 to {MAX_ENSEMBLE}"
            )
        view.ensemble = int(text)
    if "side" in params:
        view.side = [p for p in one("side").split(",") if p]
        if len(view.side) > MAX_SIDE_BY_SIDE:
            raise ScenarioError(
                f"side: {len(view.side)} presets is not allowed; expected at most "
                f"{MAX_SIDE_BY_SIDE}"
            )
        for name in view.side:
            preset_path(name)
    for key in params:
        if key in RESERVED:
            continue
        if key.startswith(BOTH):
            view.shared[key[len(BOTH) :]] = decode_value(one(key))
        else:
            view.reform[key] = decode_value(one(key))
    return view, warnings


def normalise(view: View) -> View:
    """Drop overrides that equal what they override; move shared paths to `shared`."""
    base_data = load_file(BASELINE).to_dict()
    preset_data = load_file(preset_path(view.preset)).to_dict()
    shared, reform = dict(view.shared), {}
    for k, v in view.reform.items():
        if k in SHARED:
            shared.setdefault(k, v)
        elif _differs(preset_data, k, v):
            reform[k] = v
    shared = {k: v for k, v in shared.items() if _differs(base_data, k, v)}
    return dataclasses.replace(view, reform=reform, shared=shared)


def _differs(data: dict[str, Any], path: str, value: Any) -> bool:
    try:
        current = get_path(data, path)
    except (KeyError, IndexError, ValueError, TypeError):
        return True
    if isinstance(current, int | float) and isinstance(value, int | float):
        return float(current) != float(value) or isinstance(current, bool) != isinstance(
            value, bool
        )
    return current != value


# ---- uploads ------------------------------------------------------------------------------
def read_upload(name: str, content: bytes) -> tuple[Scenario, set[str]]:
    """A scenario from an uploaded YAML file, and the dotted paths the file itself sets.

    Read by the one strict loader (size, UTF-8, nesting, aliases, duplicate keys);
    ``extends:`` may only name a bundled scenario (``baseline`` or ``baseline.yaml``), checked
    against the list of bundled files before any file is opened.
    """
    data = parse_scenario_text(content, name)
    sets = data.get("set")
    explicit = set(_leaves({k: v for k, v in data.items() if k not in ("extends", "set")}))
    explicit |= {str(k) for k in sets} if isinstance(sets, dict) else set()
    return load_scenario_text(content, name, bundled_only=True), explicit


def _leaves(data: Any, prefix: str = "") -> list[str]:
    if isinstance(data, dict):
        out = []
        for k, v in data.items():
            out += _leaves(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return [prefix]


def view_from_upload(scenario: Scenario, explicit: set[str], current: View) -> View:
    """The view whose reform is an uploaded scenario.

    Run settings and behavioural assumptions the file does not set itself stay as the
    analyst had them; everything else is the file's difference from the baseline file.
    """
    base = load_file(BASELINE).to_dict()
    diff = flatten_diff(base, scenario.to_dict())
    diff.pop("schema_version", None)
    shared = {k: v for k, v in current.shared.items() if k not in explicit}
    shared.update({k: v for k, v in diff.items() if k in SHARED and k in explicit})
    reform = {k: v for k, v in diff.items() if k not in SHARED}
    return normalise(dataclasses.replace(current, preset="baseline", reform=reform, shared=shared))


# ---- reproducing a view from the command line -------------------------------------------
def cli_command(view: View, baseline: Scenario) -> str:
    """One shell line, run from any folder, that reproduces the view's numbers.

    Shared settings apply to both runs (`--set`), the reform's levers to the reform only
    (`--set-reform`); the scenarios are named as bundled with the package.
    """
    shared = dict(view.shared)
    if baseline.burn_in_weeks != load_file(BASELINE, view.shared).burn_in_weeks:
        shared["burn_in_weeks"] = baseline.burn_in_weeks  # measured after the reform starts

    def flag(name: str, overrides: dict[str, Any]) -> list[str]:
        return [f"{name} {shlex.quote(f'{k}={_cli_value(v)}')}"
                for k, v in sorted(overrides.items())]

    sets = flag("--set", shared) + flag("--set-reform", view.reform)
    tail = f"--replicates {view.replicates} --seed {baseline.seed}"
    if view.ensemble:
        tail += f" --ensemble {view.ensemble}"
    preset = preset_path(view.preset).stem
    return " ".join(["datalabour compare baseline", preset, *sets, tail])


def _cli_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


# ---- the window the headline measures ----------------------------------------------------

def measured_after_start(baseline: Scenario, reform: Scenario) -> tuple[Scenario, Scenario]:
    """Both runs measured from the week the reform starts (burn-in stretched to it).

    The burn-in only marks where summary statistics begin, so this changes what is measured,
    not what is simulated. Unchanged when the reform starts within the burn-in.
    """
    start = reform.policy.start_week
    if start <= max(baseline.burn_in_weeks, reform.burn_in_weeks) or start >= reform.weeks:
        return baseline, reform
    window = {"burn_in_weeks": start}
    return load_scenario(baseline, window), load_scenario(reform, window)
