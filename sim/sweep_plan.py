"""Sweep designs -> run specs (pure): a sweep file is validated against its base scenario and
expanded into runs, each a plain mapping (resolved scenario) with its seed and run hash.

A sweep file names a base scenario, overrides, a seed, replicates, a design (grid, LHS,
Sobol or Morris over dotted parameter paths) and the summary outcomes to keep. Every run is
a pure function of its resolved scenario and its seed, and its seed comes from
``SeedSequence(sweep seed, spawn_key=(point, replicate))``, so results depend neither on
the number of workers nor on the order in which runs finish.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim import outcomes
from sim.bundled import sweep_path
from sim.priors import load_priors
from sim.results import package_version, run_hash
from sim.scenario import Scenario, ScenarioError, format_validation
from sim.scenario_files import get_path, load_scenario, read_mapping

FORMAT = 1
MAX_RUNS = 200_000
SCALES = {"linear": "unif", "log": "logunif"}  # SALib distribution of each scale
DELTA = "delta."  # outcome prefix: reform minus baseline, same seed


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Design(_Base):
    """Which points of parameter space to run."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field(description="sampling design")
    parameters: dict[str, Any] = Field(
        min_length=1,
        description="grid: {path: [values]}; lhs/sobol/morris: {path: {low: L, high: H}}, "
        "optionally with scale: log (sampled uniformly in the logarithm; low > 0)",
    )
    samples: int | None = Field(
        None, description="lhs: points; sobol: base samples N (N(D+2) points); morris: trajectories"
    )
    levels: int = Field(4, ge=2, le=100, description="morris: grid levels of each parameter")
    second_order: bool = Field(False, description="sobol: also sample second-order indices")


class SweepSpec(_Base):
    """A validated sweep file."""

    name: str = Field("sweep", description="sweep name")
    base: str = Field(min_length=1, description="base scenario file, relative to the sweep file")
    overrides: dict[str, Any] = Field({}, description="dotted-path overrides of the base")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="root seed of every run")
    replicates: int = Field(1, ge=1, le=10_000, description="runs per design point")
    design: Design
    outcomes: list[str] = Field(min_length=1, description="summary keys kept per run")
    weekly: list[str] = Field([], description="weekly series kept per run (list columns)")
    links: dict[str, list[str]] = Field(
        {},
        description="paths that take the value of a design parameter: {parameter: [path, ...]} "
        "(one assumption that sets several fields, e.g. a pay norm of several streams)",
    )
    reform: str | None = Field(
        None,
        description="reform scenario file (relative to the sweep file): what it changes in the "
        "base is applied on top of every point, and outcomes named delta.KEY are reform minus "
        "baseline under common random numbers (the same seed)",
    )

    @field_validator("outcomes", "weekly")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"{v!r} is not allowed; expected each key once")
        return v


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: plain data a worker can execute (no model objects)."""

    point: int
    replicate: int
    seed: int
    hash: str
    scenario: dict[str, Any]
    reform: dict[str, Any] | None = None


@dataclass
class Plan:
    """A validated sweep expanded into runs, ready to execute."""

    spec: SweepSpec
    base: Scenario
    base_path: Path
    points: list[dict[str, Any]]
    matrix: list[list[float]] | None
    runs: list[RunSpec]
    columns: dict[str, str]
    digest: str

    @property
    def problem(self) -> dict[str, Any] | None:
        d = self.spec.design
        return None if d.kind == "grid" else salib_problem(d)

    def manifest(self) -> dict[str, Any]:
        d = self.spec.design
        return {
            "format": FORMAT,
            "name": self.spec.name,
            "digest": self.digest,
            "package_version": package_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "spec": self.spec.model_dump(mode="json"),
            "base_path": str(self.base_path),
            "base_scenario": self.base.to_dict(),
            "design": {
                "kind": d.kind,
                "parameters": list(d.parameters),
                "samples": d.samples,
                "levels": d.levels,
                "second_order": d.second_order,
                "problem": self.problem,
                "matrix": self.matrix,
            },
            "columns": self.columns,
            "outcomes": self.spec.outcomes,
            "weekly": self.spec.weekly,
            "points": self.points,
            "runs": [
                {"hash": r.hash, "point": r.point, "replicate": r.replicate, "seed": r.seed}
                for r in self.runs
            ],
        }


# ---- loading and validating ---------------------------------------------------------------
def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_design(d: Design, base: Scenario) -> None:
    data = base.to_dict()
    for path, values in d.parameters.items():
        where = f"design.parameters.{path}"
        if d.kind == "grid":
            if not isinstance(values, list) or not values:
                raise ScenarioError(
                    f"{where}: {values!r} is not allowed; a grid expects a non-empty list of values"
                )
        else:
            if not isinstance(values, dict) or not {"low", "high"} <= set(values) <= {
                "low", "high", "scale"
            }:
                raise ScenarioError(
                    f"{where}: {values!r} is not allowed; {d.kind} expects bounds "
                    "{low: L, high: H} (and optionally scale: linear or log)"
                )
            scale = values.get("scale", "linear")
            if scale not in SCALES or (scale == "log" and not (
                _number(values["low"]) and values["low"] > 0
            )):
                raise ScenarioError(
                    f"{where}.scale: {scale!r} is not allowed; expected linear or log "
                    "(log needs low > 0)"
                )
            low, high = values["low"], values["high"]
            if not (_number(low) and _number(high) and math.isfinite(low) and math.isfinite(high)):
                raise ScenarioError(
                    f"{where}: {values!r} is not allowed; expected finite numbers low and high"
                )
            if not low < high:
                raise ScenarioError(
                    f"{where}: low {low} >= high {high} is not allowed; expected low < high"
                )
            current = _try(lambda p=path: get_path(data, p))
            if current is not None and not _number(current):
                raise ScenarioError(
                    f"{where}: {d.kind} needs a numeric parameter; {path} is {current!r}"
                )
            values = [low, high]
        for v in values:
            try:
                load_scenario(base, {path: v})
            except ScenarioError as e:
                raise ScenarioError(f"design.parameters: {e}") from None
    if d.kind == "grid":
        for key in ("samples",):
            if getattr(d, key) is not None:
                raise ScenarioError(f"design.{key}: is not used by a grid design; remove it")
        return
    if d.samples is None:
        raise ScenarioError(f"design.samples: required for a {d.kind} design; expected N >= 1")
    if d.samples < 1:
        raise ScenarioError(f"design.samples: {d.samples} is not allowed; expected N >= 1")
    if d.kind == "sobol" and d.samples & (d.samples - 1):
        raise ScenarioError(
            f"design.samples: {d.samples} is not allowed; sobol expects a power of 2 (e.g. 64, 128)"
        )
    if d.kind == "morris" and d.samples < 2:
        raise ScenarioError(
            f"design.samples: {d.samples} is not allowed; morris expects at least 2 trajectories"
        )


def _try(f: Callable[[], Any]) -> Any:
    try:
        return f()
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def read_sweep(path: str | Path) -> SweepSpec:
    """Read and validate the fields of a sweep file (not yet against its base scenario)."""
    path = sweep_path(path)
    raw = read_mapping(path, "sweep file", "sweep fields")
    raw.setdefault("name", path.stem)
    for key in ("base", "reform"):
        value = raw.get(key)
        if isinstance(value, str) and value:
            raw[key] = str((path.resolve().parent / value).resolve())
    return parse_sweep(raw)


def _with_priors(raw: dict[str, Any]) -> dict[str, Any]:
    """A sampling design's `priors: all` (or a list of prior names) as parameters over the
    ranges of sim/data/priors.yaml (log scale for loguniform priors), and links for the other
    paths each prior sets; explicit parameters and links win."""
    design = raw.get("design")
    if not isinstance(design, dict) or "priors" not in design:
        return raw
    design = dict(design)
    wanted = design.pop("priors")
    priors = load_priors()
    names = [p.name for p in priors]
    if wanted != "all" and (
        not isinstance(wanted, list) or any(w not in names for w in wanted)
    ):
        raise ScenarioError(
            f"design.priors: {wanted!r} is not allowed; expected all or a list of {names}"
        )
    chosen = [p for p in priors if wanted == "all" or p.name in wanted]
    params = {
        p.key: {"low": p.low, "high": p.high}
        | ({"scale": "log"} if p.distribution == "loguniform" else {})
        for p in chosen
    }
    design["parameters"] = params | dict(design.get("parameters") or {})
    links = {p.key: list(p.paths[1:]) for p in chosen if len(p.paths) > 1}
    return {**raw, "design": design, "links": links | dict(raw.get("links") or {})}


def parse_sweep(raw: dict[str, Any]) -> SweepSpec:
    """Validate a sweep mapping (paths relative to the working directory)."""
    raw = _with_priors(raw)
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(format_validation(e, SweepSpec, "sweep file")) from None


def _known_keys(base: Scenario) -> tuple[set[str], set[str]]:
    """Summary and weekly keys the model reports, from the outcome registry."""
    summary = set(outcomes.names("overall"))
    platforms = [p.name for p in base.platforms]
    for scope, groups in (("country", base.countries), ("platform", platforms)):
        summary |= {f"by_{scope}.{g}.{k}" for g in groups for k in outcomes.names(scope)}
    return summary, set(outcomes.names("weekly"))


def _check_outcomes(spec: SweepSpec, base: Scenario) -> None:
    summary, weekly = _known_keys(base)
    if spec.reform is not None:
        summary |= {f"{DELTA}{k}" for k in summary}
    for what, asked, known in (
        ("outcomes", spec.outcomes, summary),
        ("weekly", spec.weekly, weekly),
    ):
        for i, key in enumerate(asked):
            if key not in known:
                overall = sorted(k for k in known if "." not in k)
                raise ScenarioError(
                    f"{what}.{i}: {key!r} is not allowed; expected one of {', '.join(overall)}"
                    + (
                        " (or by_country.ISO3.KEY / by_platform.NAME.KEY)"
                        if what == "outcomes"
                        else ""
                    )
                )


def scenario_diff(base: Any, other: Any, prefix: str = "") -> dict[str, Any]:
    """The dotted-path overrides that turn scenario mapping `base` into `other` (leaves only;
    a list of another length is replaced whole)."""
    if isinstance(base, dict) and isinstance(other, dict):
        out: dict[str, Any] = {}
        for key, value in other.items():
            if key in ("name", "description") and not prefix:
                continue
            out |= scenario_diff(base.get(key), value, f"{prefix}{key}.")
        return out
    if isinstance(base, list) and isinstance(other, list) and len(base) == len(other):
        out = {}
        for i, (a, b) in enumerate(zip(base, other, strict=True)):
            out |= scenario_diff(a, b, f"{prefix}{i}.")
        return out
    return {} if base == other else {prefix.rstrip("."): other}


def _reform_diff(spec: SweepSpec) -> dict[str, Any]:
    """What the sweep's reform changes in its base scenario, as dotted-path overrides."""
    try:
        reform = load_scenario(Path(spec.reform))
    except ScenarioError as e:
        raise ScenarioError(f"reform: {e}") from None
    base = load_scenario(Path(spec.base))
    diff = scenario_diff(base.to_dict(), reform.to_dict())
    if not diff:
        raise ScenarioError(
            f"reform: {Path(spec.reform).name!r} changes nothing in the base scenario; "
            "expected a policy scenario that extends it"
        )
    return diff


def run_seed(seed: int, point: int, replicate: int) -> int:
    """The seed of one run: SeedSequence(seed, spawn_key=(point, replicate)), as an int < 2**63."""
    state = np.random.SeedSequence(seed, spawn_key=(point, replicate)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def salib_problem(d: Design) -> dict[str, Any]:
    """SALib's problem of a sampling design: names, bounds and, where a parameter is sampled
    in the logarithm, its distribution."""
    names = list(d.parameters)
    problem: dict[str, Any] = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[d.parameters[n]["low"], d.parameters[n]["high"]] for n in names],
    }
    dists = [SCALES[d.parameters[n].get("scale", "linear")] for n in names]
    if any(x != "unif" for x in dists):
        problem["dists"] = dists
    return problem


def _sample(d: Design, seed: int) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    problem = salib_problem(d)
    s = seed % 2**32
    if d.kind == "lhs":
        return latin.sample(problem, d.samples, seed=s)
    if d.kind == "sobol":
        return sobol.sample(problem, d.samples, calc_second_order=d.second_order, seed=s)
    return morris.sample(problem, d.samples, num_levels=d.levels, seed=s)


def _points(
    spec: SweepSpec, base: Scenario
) -> tuple[list[dict[str, Any]], list[list[float]] | None]:
    d = spec.design
    names = list(d.parameters)
    if d.kind == "grid":
        n = math.prod(len(v) for v in d.parameters.values())
        if n * spec.replicates > MAX_RUNS:
            raise ScenarioError(
                f"design: {n * spec.replicates} runs is too many; at most {MAX_RUNS}"
            )
        combos = itertools.product(*(d.parameters[k] for k in names))
        return [dict(zip(names, c, strict=True)) for c in combos], None
    x = _sample(d, spec.seed)
    if len(x) * spec.replicates > MAX_RUNS:
        raise ScenarioError(
            f"design: {len(x) * spec.replicates} runs is too many; at most {MAX_RUNS}"
        )
    data = base.to_dict()
    integer = {n: isinstance(_try(lambda n=n: get_path(data, n)), int) for n in names}
    points = [
        {
            n: int(round(float(v))) if integer[n] else float(v)
            for n, v in zip(names, row, strict=True)
        }
        for row in x
    ]
    return points, x.tolist()


def _column_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(_number(v) for v in values):
        return "float64"
    return "string"


def plan(spec: SweepSpec | str | Path) -> Plan:
    """Validate a sweep against its base scenario and expand it into runs (nothing runs)."""
    if not isinstance(spec, SweepSpec):
        spec = read_sweep(spec)
    base_path = Path(spec.base)
    try:
        base = load_scenario(base_path)
    except ScenarioError as e:
        raise ScenarioError(f"base: {e}") from None
    try:
        base = load_scenario(base, spec.overrides)
    except ScenarioError as e:
        raise ScenarioError(f"overrides: {e}") from None
    _check_design(spec.design, base)
    for name in spec.links:
        if name not in spec.design.parameters:
            raise ScenarioError(
                f"links.{name}: is not allowed; expected a parameter of the design "
                f"({', '.join(spec.design.parameters)})"
            )
    points, matrix = _points(spec, base)
    changes = _reform_diff(spec) if spec.reform is not None else None
    version = package_version()
    runs = []
    for i, point in enumerate(points):
        params = {**point, **{p: point[k] for k, paths in spec.links.items() for p in paths}}
        try:
            scn = load_scenario(base, params)
            reform = None if changes is None else load_scenario(base, {**changes, **params})
        except ScenarioError as e:
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            raise ScenarioError(f"design point {i} ({shown}): {e}") from None
        canonical = scn.canonical_json()
        scenario = json.loads(canonical)
        if reform is not None:  # a run is the pair: its hash covers both sides
            canonical += reform.canonical_json()
        reform_data = None if reform is None else json.loads(reform.canonical_json())
        for r in range(spec.replicates):
            seed = run_seed(spec.seed, i, r)
            runs.append(
                RunSpec(i, r, seed, run_hash(canonical, seed, version), scenario, reform_data)
            )
    _check_outcomes(spec, base)
    columns = {n: _column_type([p[n] for p in points]) for n in spec.design.parameters}
    digest = hashlib.sha256(
        json.dumps(
            {
                "runs": [r.hash for r in runs],
                "outcomes": spec.outcomes,
                "weekly": spec.weekly,
                "columns": columns,
                "format": FORMAT,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    return Plan(spec, base, base_path, points, matrix, runs, columns, digest)
