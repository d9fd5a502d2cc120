"""Sweeps: a design over scenario parameters -> runs -> a resumable Parquet store, on Dask.

A sweep file names a base scenario, overrides, a seed, replicates, a design (grid, LHS,
Sobol or Morris over dotted parameter paths) and the summary outcomes to keep. Every run is
a pure function of its resolved scenario and its seed, and its seed comes from
``SeedSequence(sweep seed, spawn_key=(point, replicate))``, so results depend neither on
the number of workers nor on the order in which runs finish.

The store is a folder: ``sweep.json`` (the manifest: spec, resolved base, design, every
run) and ``runs/<hash>.parquet``, one file per run, named by a hash of its resolved
scenario, seed and package version (the run's ``manifest["run_hash"]``). A file is
written under a hidden temporary name and renamed, so a store never holds a partial
file and ``resume`` can skip every run whose file exists. ``runs/`` reads directly with
``pandas.read_parquet(STORE + "/runs")`` or DuckDB ``read_parquet('STORE/runs/*.parquet')``.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.bundled import sweep_path
from sim.results import package_version
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.work import check_memory

FORMAT = 1
MAX_RUNS = 200_000
SAMPLED = ("lhs", "sobol", "morris")
RUNS_DIR = "runs"
MANIFEST = "sweep.json"


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Design(_Base):
    """Which points of parameter space to run."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field(description="sampling design")
    parameters: dict[str, Any] = Field(
        min_length=1,
        description="grid: {path: [values]}; lhs/sobol/morris: {path: {low: L, high: H}}",
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
        if d.kind == "grid":
            return None
        names = list(d.parameters)
        return {
            "num_vars": len(names),
            "names": names,
            "bounds": [[d.parameters[n]["low"], d.parameters[n]["high"]] for n in names],
        }

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


@dataclass
class SweepStatus:
    """Progress of a sweep, passed to the progress callback after every run."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.done - self.failed


@dataclass
class SweepReport:
    """What a call to `run_sweep` did."""

    store: Path
    total: int
    skipped: int
    done: int
    failed: int
    lost: int
    elapsed_s: float
    errors: dict[str, str]


# ---- loading and validating ---------------------------------------------------------------
def _format(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        model = Design if loc.startswith("design.") else SweepSpec
        allowed = ", ".join(model.model_fields)
        return f"{loc}: unknown field of a sweep file; allowed: {allowed}"
    if err["type"] == "missing":
        return f"{loc}: required field is missing"
    if err["type"] == "value_error":
        return f"{loc}: {msg}"
    text = repr(err.get("input"))
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{loc or 'sweep'}: {text} is not allowed; {msg[0].lower()}{msg[1:]}"


def _get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of a scenario mapping (list items by index or name)."""
    node = data
    for key in path.split("."):
        if isinstance(node, list):
            names = [x.get("name") if isinstance(x, dict) else None for x in node]
            node = node[int(key)] if key.lstrip("-").isdigit() else node[names.index(key)]
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


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
            if not isinstance(values, dict) or set(values) != {"low", "high"}:
                raise ScenarioError(
                    f"{where}: {values!r} is not allowed; {d.kind} expects bounds "
                    "{low: L, high: H}"
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
            current = _try(lambda p=path: _get_path(data, p))
            if current is not None and not _number(current):
                raise ScenarioError(
                    f"{where}: {d.kind} needs a numeric parameter; {path} is {current!r}"
                )
            values = [low, high]
        for v in values:
            try:
                base.with_overrides({path: v})
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
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"sweep file: {str(path)!r} does not exist") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path.name}:{where}: YAML syntax error") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path.name}: top level is not a mapping; expected sweep fields")
    raw.setdefault("name", path.stem)
    base = raw.get("base")
    if isinstance(base, str) and base:
        raw["base"] = str((path.resolve().parent / base).resolve())
    return parse_sweep(raw)


def parse_sweep(raw: dict[str, Any]) -> SweepSpec:
    """Validate a sweep mapping (paths relative to the working directory)."""
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(_format(e)) from None


def _flat_summary(summary: dict[str, Any]) -> dict[str, float]:
    out = dict(summary["overall"])
    for scope in ("by_country", "by_platform"):
        for group, vals in summary.get(scope, {}).items():
            for k, v in vals.items():
                out[f"{scope}.{group}.{k}"] = v
    return out


def _known_keys(base: Scenario) -> tuple[set[str], set[str]]:
    """Summary and weekly keys the model reports, from a tiny run of the base scenario."""
    from sim.results import run

    tiny = base.with_overrides({"population.taskers": 10, "weeks": 2, "burn_in_weeks": 0})
    result = run(tiny, 0)
    return set(_flat_summary(result.summary)), set(result.weekly.columns) - {"week"}


def _check_outcomes(spec: SweepSpec, base: Scenario) -> None:
    try:
        summary, weekly = _known_keys(base)
    except Exception:  # the runs themselves will record the error
        return
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


def run_seed(seed: int, point: int, replicate: int) -> int:
    """The seed of one run: SeedSequence(seed, spawn_key=(point, replicate)), as an int < 2**63."""
    state = np.random.SeedSequence(seed, spawn_key=(point, replicate)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def run_hash(canonical_json: str, seed: int, version: str) -> str:
    """Hash of (resolved scenario, seed, package version): the run's file name."""
    return hashlib.sha256(f"{canonical_json}|{seed}|{version}".encode()).hexdigest()[:16]


def _sample(d: Design, seed: int) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    names = list(d.parameters)
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[d.parameters[n]["low"], d.parameters[n]["high"]] for n in names],
    }
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
    integer = {n: isinstance(_try(lambda n=n: _get_path(data, n)), int) for n in names}
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
        base = base.with_overrides(spec.overrides)
    except ScenarioError as e:
        raise ScenarioError(f"overrides: {e}") from None
    _check_design(spec.design, base)
    points, matrix = _points(spec, base)
    version = package_version()
    runs = []
    for i, params in enumerate(points):
        try:
            scn = base.with_overrides(params)
        except ScenarioError as e:
            shown = ", ".join(f"{k}={v}" for k, v in params.items())
            raise ScenarioError(f"design point {i} ({shown}): {e}") from None
        canonical = scn.canonical_json()
        scenario = json.loads(canonical)
        for r in range(spec.replicates):
            seed = run_seed(spec.seed, i, r)
            runs.append(RunSpec(i, r, seed, run_hash(canonical, seed, version), scenario))
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


# ---- executing one run (on a worker) --------------------------------------------------------
def execute(scenario: dict[str, Any], seed: int, outcomes: list[str], weekly: list[str]) -> dict:
    """Run one scenario (a plain mapping) with one seed; the outcomes, or the error it raised."""
    from sim.results import run

    try:
        result = run(load_scenario(scenario), seed)
        flat = _flat_summary(result.summary)
        return {
            "outcomes": {k: float(flat[k]) if flat.get(k) is not None else None for k in outcomes},
            "weekly": {k: result.weekly[k].astype(float).tolist() for k in weekly},
            "error": None,
        }
    except Exception as e:  # a run that raises is recorded, and the sweep goes on
        return {"outcomes": {}, "weekly": {}, "error": f"{type(e).__name__}: {e}"}


# ---- the store ----------------------------------------------------------------------------
def _schema(plan: Plan):
    import pyarrow as pa

    kinds = {
        "bool": pa.bool_(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "string": pa.string(),
    }
    fields = [
        pa.field("run_hash", pa.string()),
        pa.field("point", pa.int64()),
        pa.field("replicate", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(n, kinds[t]) for n, t in plan.columns.items()]
    fields += [pa.field(k, pa.float64()) for k in plan.spec.outcomes]
    fields += [pa.field(f"weekly.{k}", pa.list_(pa.float64())) for k in plan.spec.weekly]
    fields += [pa.field("error", pa.string()), pa.field("package_version", pa.string())]
    return pa.schema(fields)


def _cell(value: Any, kind: str) -> Any:
    if kind == "string" and not isinstance(value, str):
        return json.dumps(value)
    if kind == "float64":
        return float(value)
    return value


def _write(runs_dir: Path, plan: Plan, schema, spec: RunSpec, result: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    params = plan.points[spec.point]
    row: dict[str, Any] = {
        "run_hash": spec.hash,
        "point": spec.point,
        "replicate": spec.replicate,
        "seed": spec.seed,
    }
    row.update({n: _cell(params[n], t) for n, t in plan.columns.items()})
    row.update({k: result["outcomes"].get(k) for k in plan.spec.outcomes})
    row.update({f"weekly.{k}": result["weekly"].get(k) for k in plan.spec.weekly})
    row["error"] = result["error"]
    row["package_version"] = package_version()
    table = pa.Table.from_pylist([row], schema=schema)
    tmp = runs_dir / f".{spec.hash}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pq.write_table(table, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, runs_dir / f"{spec.hash}.parquet")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def read_manifest(store: str | Path) -> dict[str, Any]:
    """The sweep.json of a store."""
    path = Path(store) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(
            f"store: {str(store)!r} has no {MANIFEST}; expected a sweep store"
        ) from None


def _prepare_store(store: Path, plan: Plan, resume: bool, retry_failed: bool = False) -> set[str]:
    """Create or check the store; the hashes of runs already done (with `retry_failed`,
    not those that recorded an error: their files are replaced when they run again)."""
    runs_dir = store / RUNS_DIR
    manifest_path = store / MANIFEST
    if manifest_path.exists():
        if not resume:
            raise ScenarioError(
                f"--out: {str(store)!r} already holds a sweep; pass --resume to finish it "
                "or choose a new folder"
            )
        old = read_manifest(store)
        if old.get("digest") != plan.digest:
            raise ScenarioError(
                f"--resume: {str(store)!r} holds a different sweep (digest {old.get('digest')}, "
                f"this one {plan.digest}: design, outcomes or package version changed); "
                "choose a new folder"
            )
    elif runs_dir.exists() and any(runs_dir.glob("*.parquet")):
        raise ScenarioError(
            f"--out: {str(store)!r} holds runs but no {MANIFEST}; choose a new folder"
        )
    runs_dir.mkdir(parents=True, exist_ok=True)
    for tmp in runs_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    if not manifest_path.exists():
        _write_json(manifest_path, plan.manifest())
    files = sorted(runs_dir.glob("*.parquet"))
    if not (retry_failed and files):
        return {p.stem for p in files}
    import pyarrow.parquet as pq

    table = pq.read_table(files, columns=["run_hash", "error"]).to_pandas()
    return set(table.run_hash[table.error.isna()])


def load(store: str | Path) -> pd.DataFrame:
    """All runs of a store as one DataFrame: inputs (point, replicate, seed, parameters),
    outcomes, weekly series and error, one row per run, ordered by point and replicate."""
    import pyarrow.parquet as pq

    manifest = read_manifest(store)
    runs_dir = Path(store) / RUNS_DIR
    files = sorted(runs_dir.glob("*.parquet"))
    if not files:
        cols = [
            "run_hash",
            "point",
            "replicate",
            "seed",
            *manifest["columns"],
            *manifest["outcomes"],
            "error",
        ]
        return pd.DataFrame(columns=cols)
    frame = pq.read_table(files).to_pandas()
    return frame.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)


# ---- execution ----------------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes of the embedded local cluster: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_sweep(
    spec: SweepSpec | str | Path | Plan,
    store: str | Path,
    client: Any = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: Callable[[SweepStatus], None] | None = None,
) -> SweepReport:
    """Run a sweep into a store; the Python face of ``datalabour sweep``.

    Parameters
    ----------
    spec : a sweep file, a validated `SweepSpec` or a `Plan`
    store : folder for sweep.json and runs/
    client : a `distributed.Client` to run on (a notebook's own cluster); else
        ``scheduler`` (address of a running cluster), else ``workers`` (1 runs in this
        process; more, or None for one per core, start an embedded local cluster)
    resume : skip runs whose file exists (else the store must be new)
    retry_failed : with resume, run again the runs that recorded an error
    progress : called with a `SweepStatus` at the start and after every run
    """
    p = spec if isinstance(spec, Plan) else plan(spec)
    if scheduler is not None and client is None:  # reach the cluster before touching the store
        with _client(None, scheduler, None) as remote:
            return run_sweep(
                p, store, remote, resume=resume, retry_failed=retry_failed, progress=progress
            )
    if client is None and p.runs:  # runs here or on an embedded cluster on this machine
        largest = max(r.scenario["population"]["taskers"] for r in p.runs)
        check_memory(largest, workers or default_workers())
    store = Path(store)
    existing = _prepare_store(store, p, resume, retry_failed)
    pending = [r for r in p.runs if r.hash not in existing]
    status = SweepStatus(total=len(p.runs), skipped=len(p.runs) - len(pending))
    if progress:
        progress(status)
    errors: dict[str, str] = {}
    lost = 0
    schema = _schema(p)
    runs_dir = store / RUNS_DIR

    def record(r: RunSpec, result: dict | None, infrastructure: str | None = None) -> None:
        nonlocal lost
        if result is not None:
            _write(runs_dir, p, schema, r, result)
        if result is None or result["error"]:
            errors[r.hash] = infrastructure or result["error"]
            status.failed += 1
            lost += result is None
        else:
            status.done += 1
        if progress:
            progress(status)

    if pending:
        if client is None and (workers or default_workers()) == 1:
            for r in pending:
                record(r, execute(r.scenario, r.seed, p.spec.outcomes, p.spec.weekly))
        else:
            with _client(client, None, workers) as c:
                for r, result, problem in _on_dask(c, pending, p.spec):
                    record(r, result, problem)
    return SweepReport(
        store,
        status.total,
        status.skipped,
        status.done,
        status.failed,
        lost,
        time.perf_counter() - status.started,
        errors,
    )


class _client:
    """The given client, one connected to `scheduler`, or an embedded local cluster."""

    def __init__(self, client: Any, scheduler: str | None, workers: int | None) -> None:
        self.given, self.scheduler, self.workers = client, scheduler, workers
        self.owned: list[Any] = []

    def __enter__(self) -> Any:
        import logging

        from distributed import Client, LocalCluster

        if self.given is not None:
            return self.given
        if self.scheduler is not None:
            c = Client(self.scheduler, timeout="20s")
            self.owned.append(c)
            return c
        cluster = LocalCluster(
            n_workers=self.workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        c = Client(cluster)
        self.owned += [c, cluster]
        return c

    def __exit__(self, *exc: object) -> None:
        for x in self.owned:
            x.close()


def _on_dask(client: Any, pending: list[RunSpec], spec: SweepSpec) -> Iterator[tuple]:
    """Submit runs with a bounded window in flight; yield (run, result, infrastructure error)."""
    from distributed import as_completed

    queue = iter(pending)
    flight: dict[str, RunSpec] = {}
    done = as_completed()

    def window() -> int:
        return max(4, 2 * sum(client.nthreads().values()))

    def submit(n: int) -> None:
        for r in itertools.islice(queue, max(0, n)):
            fut = client.submit(
                execute,
                r.scenario,
                r.seed,
                spec.outcomes,
                spec.weekly,
                key=f"datalabour-run-{r.hash}",
                pure=False,
            )
            flight[fut.key] = r
            done.add(fut)

    submit(window())
    checked = time.monotonic()
    size = window()
    for fut in done:
        r = flight.pop(fut.key)
        if fut.status == "finished":
            yield r, fut.result(), None
        else:  # lost to the cluster (e.g. KilledWorker, cancelled): no file, --resume redoes it
            try:
                exc = fut.exception()
            except (Exception, asyncio.CancelledError) as cancelled:  # a cancelled future
                exc = cancelled
            yield r, None, f"{type(exc).__name__}: {exc}"
        fut.release()
        if time.monotonic() - checked > 5:
            size, checked = window(), time.monotonic()
        submit(size - len(flight))
