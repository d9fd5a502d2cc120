"""Result folders written whole or not at all.

A command that writes results checks its output folder before it simulates (`check_output`),
writes into a staging folder beside the target and moves it into place at the end
(`atomic_output`), so a reader sees a complete result or none. The folder's ``manifest.json``
is written last and lists every file with its size and SHA-256. A folder holding an older
result is replaced whole only when the caller says so (``--overwrite``); a folder holding
anything else is never touched.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.scenario import ScenarioError

MANIFEST = "manifest.json"


class OutputError(ScenarioError):
    """An output folder that cannot take a result: one line naming it and what to do."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _existing_ancestor(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def check_output(path: str | Path, overwrite: bool = False, flag: str = "--out") -> Path:
    """The output folder, if a result can be written there; else an `OutputError`.

    New or empty folders are fine; one holding an older result (a ``manifest.json``) only
    with `overwrite`; a file, a folder holding other files or an unwritable place never.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{flag}: {str(path)!r} is a file; expected a folder for the results")
    if path.is_dir() and any(path.iterdir()):
        if not (path / MANIFEST).is_file():
            raise OutputError(
                f"{flag}: {str(path)!r} holds files that are not a datalabour result; "
                "choose a new or empty folder"
            )
        if not overwrite:
            raise OutputError(
                f"{flag}: {str(path)!r} holds an older result; pass --overwrite to replace it "
                "whole, or choose a new folder"
            )
    parent = _existing_ancestor(path)
    if not parent.is_dir():
        raise OutputError(f"{flag}: {str(parent)!r} is a file; expected a folder")
    try:  # a real try, not os.access: read-only mounts, /proc, root ignoring permissions
        os.rmdir(tempfile.mkdtemp(f".{os.getpid()}.tmp", ".probe.", dir=parent))
    except OSError as e:
        raise OutputError(
            f"{flag}: cannot write in {str(parent)!r} ({e.strerror or e}); "
            "choose a folder you can write to"
        ) from None
    return path


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _seal(folder: Path, manifest: dict[str, Any]) -> None:
    """Flush every file, then write the manifest listing them (bytes, SHA-256), last."""
    files = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        _fsync(f)
        files[f.relative_to(folder).as_posix()] = {
            "bytes": f.stat().st_size,
            "sha256": file_digest(f),
        }
    with open(folder / MANIFEST, "w") as out:
        json.dump({**manifest, "files": files}, out, indent=2, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    _fsync(folder)


def _staged(path: Path, kind: str) -> str:
    return f".{path.name}.{kind}.{os.getpid()}.tmp"


def _clean_stale(path: Path) -> None:
    """Staging folders of processes that died before moving theirs into place."""
    for left in path.parent.glob(f".{glob.escape(path.name)}.*.*.tmp"):
        try:
            pid = int(left.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        set_aside = left.name.startswith(f".{path.name}.old.")
        if pid_alive(pid) or (set_aside and not path.is_dir()):
            continue  # an older result set aside by a killed run is kept until one replaces it
        shutil.rmtree(left, ignore_errors=True)


def _move_into_place(staging: Path, path: Path, overwrite: bool) -> None:
    check_output(path, overwrite)  # again: another process may have written there meanwhile
    if path.is_dir() and any(path.iterdir()):
        aside = path.parent / _staged(path, "old")
        os.rename(path, aside)
        os.rename(staging, path)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staging, path)  # over an empty folder, or none
    _fsync(path.parent)


@contextmanager
def atomic_output(
    path: str | Path, overwrite: bool = False, manifest: dict[str, Any] | None = None
) -> Iterator[Path]:
    """A staging folder to write a result into; moved to `path` with its manifest at the end.

    On any error (or a kill) the target is left as it was and nothing half-written is seen.

    Examples
    --------
    >>> with atomic_output("out", manifest={"seed": 1}) as folder:  # doctest: +SKIP
    ...     table.to_csv(folder / "table.csv")
    """
    path = check_output(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(path)
    suffix = f".{os.getpid()}.tmp"
    staging = Path(tempfile.mkdtemp(suffix, prefix=f".{path.name}.new", dir=path.parent))
    try:
        yield staging
        _seal(staging, manifest or {})
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        _move_into_place(staging, path, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
