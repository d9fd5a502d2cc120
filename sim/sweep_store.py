"""The sweep store: a folder with ``sweep.json`` (the manifest: spec, resolved base, design, every
run) and ``runs/<hash>.parquet``, one file per run, named by its run hash (a hash of its resolved
scenario, seed and package version; the run's ``manifest["run_hash"]``).

A file is written under a hidden temporary name and renamed, so a store never holds a partial
file, and its SHA-256 is appended to ``runs.sha256`` (``sha256sum -c runs.sha256`` checks it).
``--resume`` checks every file (bytes as recorded, readable, holding the run of its name, a run
of the plan) and runs again what fails, after setting it aside in ``rejected/``. One sweep writes
a store at a time (``sweep.lock``). ``runs/`` reads directly with
``pandas.read_parquet(STORE + "/runs")`` or DuckDB ``read_parquet('STORE/runs/*.parquet')``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outcomes import field_metadata
from sim.result_folder import file_digest, pid_alive
from sim.results import package_version
from sim.scenario import ScenarioError
from sim.sweep_plan import Plan, RunSpec

RUNS_DIR = "runs"
MANIFEST = "sweep.json"
INDEX = "runs.sha256"
LOCK = "sweep.lock"
REJECTED = "rejected"


def run_schema(plan: Plan):
    """The Arrow schema of a run's file: the run's identity, the plan's parameter columns, its
    outcomes and weekly series, the error and the package version."""
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
    # outcome columns carry their unit and description (the outcome registry)
    fields += [pa.field(k, pa.float64(), metadata=field_metadata(k)) for k in plan.spec.outcomes]
    fields += [pa.field(f"weekly.{k}", pa.list_(pa.float64()), metadata=field_metadata(k))
               for k in plan.spec.weekly]
    fields += [pa.field("error", pa.string()), pa.field("package_version", pa.string())]
    return pa.schema(fields)


def _cell(value: Any, kind: str) -> Any:
    if kind == "string" and not isinstance(value, str):
        return json.dumps(value)
    if kind == "float64":
        return float(value)
    return value


class StoreWriteError(OSError):
    """A run file that could not be written (disk full, folder gone): its message says so."""


def store_folder(store: str | Path, flag: str = "store") -> Path:
    """The store's folder, or one line if the path is a file."""
    store = Path(store)
    if store.exists() and not store.is_dir():
        raise ScenarioError(f"{flag}: {str(store)!r} is a file; expected a sweep store folder")
    return store


def read_manifest(store: str | Path) -> dict[str, Any]:
    """The sweep.json of a store (one line naming the file if it is missing or corrupt)."""
    path = store_folder(store) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(
            f"store: {str(store)!r} has no {MANIFEST}; expected a sweep store"
        ) from None
    except (ValueError, OSError) as e:
        raise ScenarioError(f"{path}: corrupt ({_why(e)}); {_READOPT}") from None
    if not isinstance(manifest, dict) or not {"digest", "runs", "columns", "outcomes"} <= set(
        manifest
    ):
        raise ScenarioError(f"{path}: not a sweep manifest (fields missing); {_READOPT}")
    return manifest


_READOPT = "run its sweep file again with --resume to rewrite it from the plan"


def _why(e: BaseException) -> str:
    return (f"{type(e).__name__}: {e}".splitlines() or ["?"])[0][:160]


# ---- writing ------------------------------------------------------------------------------
def write_run(store: Path, plan: Plan, schema, spec: RunSpec, result: dict) -> None:
    """runs/<hash>.parquet, written under a temporary name and renamed; its SHA-256 recorded."""
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
    name = f"{spec.hash}.parquet"
    tmp = store / RUNS_DIR / f".{spec.hash}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            pq.write_table(table, f)
            f.flush()
            os.fsync(f.fileno())
        digest = file_digest(tmp)
        os.replace(tmp, store / RUNS_DIR / name)
        with open(store / INDEX, "a") as index:  # not synced: a line lost makes a read-check
            index.write(f"{digest}  {RUNS_DIR}/{name}\n")
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise StoreWriteError(
            e.errno,
            f"store {str(store)!r}: cannot write {RUNS_DIR}/{name} ({e.strerror or e}); "
            "the runs written so far are kept: fix this and run again with --resume",
        ) from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(data, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- the lock -----------------------------------------------------------------------------
class StoreLock:
    """One sweep writes a store at a time: an exclusive `flock` on ``sweep.lock``, which
    names its owner (PID, host, start). The kernel drops the lock when its owner dies, so a
    lock file that still names an owner but can be taken is stale (that sweep was killed)."""

    def __init__(self, store: Path) -> None:
        self.path = store / LOCK
        self.stale: str | None = None
        self._fd: int | None = None

    def __enter__(self) -> StoreLock:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ScenarioError(
                f"store {str(self.path.parent)!r}: another sweep is writing it "
                f"({owner_of(self.path)}); wait for it to finish or choose another folder"
            ) from None
        left = os.pread(fd, 4096, 0)
        if left.strip():
            self.stale = owner_of(self.path)
        os.ftruncate(fd, 0)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # emptied, not removed: removing races a waiting locker
            os.close(self._fd)
            self._fd = None


def owner_of(lock: Path) -> str:
    """Who a lock file names, in words."""
    try:
        who = json.loads(lock.read_text())
        return f"PID {who['pid']} on {who['host']} since {who['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "owner unknown"


def lock_state(store: Path) -> str:
    """free, held (by whom) or stale (whose sweep died), without taking the lock."""
    import fcntl

    path = store / LOCK
    if not path.exists() or not path.read_bytes().strip():
        return "free"
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return f"held by {owner_of(path)}"
    finally:
        os.close(fd)
    return f"stale: {owner_of(path)} ended without releasing it; the next sweep takes it over"


def _now() -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _clean_temporary(store: Path) -> int:
    """Remove this process's and dead processes' temporary files; how many were removed."""
    removed = 0
    for tmp in [*(store / RUNS_DIR).glob(".*.tmp"), *store.glob(".*.tmp")]:
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if pid == os.getpid() or not pid_alive(pid):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


# ---- checking -----------------------------------------------------------------------------
@dataclass
class Health:
    """What `verify` found in a store."""

    store: Path
    planned: list[str]
    intact: dict[str, str | None] = field(default_factory=dict)  # run hash -> recorded error
    damaged: dict[str, str] = field(default_factory=dict)  # file -> why
    temporary: int = 0
    lock: str = "free"

    @property
    def missing(self) -> list[str]:
        """Planned runs with no file at all (damaged files are counted apart)."""
        damaged = {Path(n).stem for n in self.damaged}
        return [h for h in self.planned if h not in self.intact and h not in damaged]

    @property
    def failed(self) -> list[str]:
        return [h for h, e in self.intact.items() if e is not None]

    @property
    def healthy(self) -> bool:
        return not self.damaged and not self.missing and not self.lock.startswith("stale")


def _recorded(store: Path) -> dict[str, str]:
    """File -> SHA-256 from runs.sha256 (the last line for a file wins; torn lines ignored)."""
    try:
        text = (store / INDEX).read_text(errors="replace")
    except FileNotFoundError:
        return {}
    out = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name.startswith(f"{RUNS_DIR}/") and name.endswith(".parquet"):
            out[name] = digest
    return out


def check_runs(store: Path, seeds: dict[str, int]) -> Health:
    """Check every run file: its bytes as recorded, readable, holding the run of its name,
    a run of the plan (`seeds`: run hash -> seed)."""
    import pyarrow.parquet as pq

    health = Health(store, list(seeds))
    recorded = _recorded(store)
    for f in sorted((store / RUNS_DIR).glob("*.parquet")):
        name = f"{RUNS_DIR}/{f.name}"
        try:
            rows = pq.read_table(f, columns=["run_hash", "seed", "error"]).to_pylist()
        except Exception as e:  # any unreadable file: truncated, empty, not Parquet
            health.damaged[name] = f"unreadable ({_why(e)})"
            continue
        if len(rows) != 1 or rows[0]["run_hash"] != f.stem:
            found = ", ".join(str(r["run_hash"]) for r in rows) or "no run"
            health.damaged[name] = f"holds {found}, not the run of its name"
        elif name in recorded and file_digest(f) != recorded[name]:
            health.damaged[name] = "its bytes differ from those written (SHA-256)"
        elif f.stem not in seeds or rows[0]["seed"] != seeds[f.stem]:
            health.damaged[name] = "not a run of this sweep's plan"
        else:
            health.intact[f.stem] = rows[0]["error"]
    return health


def verify(store: str | Path) -> Health:
    """The health of a store, changing nothing: intact, damaged and missing runs, the lock."""
    store = store_folder(store)
    manifest = read_manifest(store)
    health = check_runs(store, {r["hash"]: r["seed"] for r in manifest["runs"]})
    health.temporary = len([*(store / RUNS_DIR).glob(".*.tmp"), *store.glob(".*.tmp")])
    health.lock = lock_state(store)
    return health


def _set_aside(store: Path, damaged: dict[str, str]) -> None:
    """Damaged files move to rejected/ (kept for a look, out of the runs)."""
    (store / REJECTED).mkdir(exist_ok=True)
    for name in damaged:
        os.replace(store / name, store / REJECTED / Path(name).name)


def prepare(
    store: Path, plan: Plan, resume: bool, retry_failed: bool = False
) -> tuple[set[str], list[str]]:
    """Check or create the store (its lock held); the run hashes to skip and what was done.

    With `resume` every run file is checked: damaged ones are set aside in rejected/ and run
    again; with `retry_failed` runs that recorded an error run again too. A store whose
    sweep.json is missing or corrupt is re-adopted when its runs are all runs of this plan.
    """
    notes: list[str] = []
    manifest_path = store / MANIFEST
    runs_dir = store / RUNS_DIR
    has_runs = runs_dir.is_dir() and any(runs_dir.glob("*.parquet"))
    if (manifest_path.exists() or has_runs) and not resume:
        held = "a sweep" if manifest_path.exists() else f"runs but no {MANIFEST}"
        raise ScenarioError(
            f"--out: {str(store)!r} already holds {held}; pass --resume to finish it "
            "(with the sweep file that made it) or choose a new folder"
        )
    adopt = False
    if manifest_path.exists():
        try:
            old = read_manifest(store)
        except ScenarioError as e:
            notes.append(f"{e}".split(";")[0] + f"; set aside in {REJECTED}/")
            (store / REJECTED).mkdir(exist_ok=True)
            os.replace(manifest_path, store / REJECTED / MANIFEST)
            adopt = True
        else:
            if old.get("digest") != plan.digest:
                raise ScenarioError(
                    f"--resume: {str(store)!r} holds a different sweep (digest "
                    f"{old.get('digest')}, this one {plan.digest}: design, outcomes or package "
                    "version changed); choose a new folder"
                )
    else:
        adopt = has_runs
    runs_dir.mkdir(parents=True, exist_ok=True)
    removed = _clean_temporary(store)
    if removed:
        notes.append(f"removed {removed} temporary files of sweeps that ended early")
    health = check_runs(store, {r.hash: r.seed for r in plan.runs})
    if adopt:
        foreign = [n for n, why in health.damaged.items() if why.startswith("not a run")]
        if foreign:
            raise ScenarioError(
                f"--resume: {str(store)!r} has no valid {MANIFEST} and holds runs of another "
                f"plan (e.g. {foreign[0]}); choose a new folder"
            )
        notes.append(
            f"re-adopted: {MANIFEST} rewritten from the plan, which regenerates the hashes of "
            f"its {len(health.intact)} intact runs"
        )
    if health.damaged:
        _set_aside(store, health.damaged)
        listed = "; ".join(f"{n}: {why}" for n, why in list(health.damaged.items())[:5])
        notes.append(
            f"{len(health.damaged)} run files failed the check, set aside in {REJECTED}/ and "
            f"run again ({listed})"
        )
    if not manifest_path.exists():
        _write_json(manifest_path, plan.manifest())
    skip = {h for h, error in health.intact.items() if not (retry_failed and error)}
    return skip, notes


def load(store: str | Path) -> pd.DataFrame:
    """All runs of a store as one DataFrame: inputs (point, replicate, seed, parameters),
    outcomes, weekly series and error, one row per run, ordered by point and replicate.
    A damaged run file ends in one line naming it."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    store = store_folder(store)
    manifest = read_manifest(store)
    files = sorted((store / RUNS_DIR).glob("*.parquet"))
    if not files:
        cols = ["run_hash", "point", "replicate", "seed", "scenario", "burn_in_weeks"]
        cols += manifest["columns"]
        return pd.DataFrame(columns=[*cols, *manifest["outcomes"], "error"])
    seeds = {r["hash"]: r["seed"] for r in manifest["runs"]}
    try:
        dataset = ds.dataset([str(f) for f in files], format="parquet")
        table = dataset.to_table(columns=[*dataset.schema.names, "__filename"])
        stems = [Path(f).stem for f in table["__filename"].to_pylist()]
        sound = stems == table["run_hash"].to_pylist() and set(stems) <= seeds.keys()
        table = table.drop_columns(["__filename"])
    except Exception:  # which file: `check_runs` reads them one by one
        sound = False
    if not sound:
        damaged = check_runs(store, seeds).damaged
        if damaged:
            name, why = next(iter(damaged.items()))
            more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
            raise ScenarioError(
                f"{store / name}: {why}{more}; run its sweep file again with --resume to set "
                f"it aside and redo the run (datalabour sweep --verify {store} lists all)"
            )
        try:
            table = pq.read_table(files)
        except Exception as e:  # files that read alone but not together (mixed formats)
            raise ScenarioError(
                f"{store / RUNS_DIR}: its run files do not read as one table ({_why(e)}); "
                f"datalabour sweep --verify {store} checks them one by one"
            ) from None
    frame = table.to_pandas()
    return frame.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
