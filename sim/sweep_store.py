"""The sweep store: a folder with ``sweep.json`` (the manifest: spec, resolved base, design, every
run) and ``runs/<hash>.parquet``, one file per run, named by its run hash (a hash of its resolved
scenario, seed and package version; the run's ``manifest["run_hash"]``).

A file is written under a hidden temporary name and renamed, so a store never holds a partial
file. ``runs/`` reads directly with ``pandas.read_parquet(STORE + "/runs")`` or DuckDB
``read_parquet('STORE/runs/*.parquet')``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results import package_version
from sim.scenario import ScenarioError
from sim.sweep_plan import Plan, RunSpec

RUNS_DIR = "runs"
MANIFEST = "sweep.json"


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
        pa.field("scenario", pa.string()),
        pa.field("burn_in_weeks", pa.int64()),  # the first entries of weekly.* lists
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
        "scenario": spec.scenario["name"],
        "burn_in_weeks": spec.scenario["burn_in_weeks"],
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
            "scenario",
            "burn_in_weeks",
            *manifest["columns"],
            *manifest["outcomes"],
            "error",
        ]
        return pd.DataFrame(columns=cols)
    frame = pq.read_table(files).to_pandas()
    return frame.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
