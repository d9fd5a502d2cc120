"""Reading scenario and sweep files: bounded, strict YAML, `extends:`, `set:` and overrides.

One loader serves the CLI, the API (`sim.load_scenario`), sweep files and dashboard uploads.
A file must be a regular file of at most `MAX_BYTES`, UTF-8 (a BOM is fine), YAML with each
key once per mapping, at most `MAX_DEPTH` levels of nesting and at most `MAX_NODES` values once
aliases are expanded (a "billion laughs" file is refused before it is expanded). Every
refusal is one `ScenarioError` line naming the file or field, the bad value and what is
allowed. Dotted paths (``policy.pay_floor.kind``; list items by index or by ``name``) are read
with `get_path` and written with `apply_overrides`.
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.bundled import scenario_path, scenarios_dir
from sim.scenario import Scenario, ScenarioError, from_dict, model_of_field, show

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 100_000
SCENARIOS = scenarios_dir()  # the repository's scenarios/, or the wheel's sim/scenarios/
_MERGE = "tag:yaml.org,2002:merge"


# ---- bounded, strict YAML -----------------------------------------------------------------
class _Refused(yaml.YAMLError):
    """A limit of the strict loader, with the position it was found at."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class StrictLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a key given twice and nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nesting deeper than {MAX_DEPTH} levels is not allowed; expected at most "
                    f"{MAX_DEPTH} levels of lists and mappings",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue  # `<<: *defaults` then a key of its own: an override, not a repeat
                key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line
                try:
                    repeated = key in seen
                except TypeError:
                    continue  # an unhashable key: SafeLoader refuses it below
                if repeated:
                    raise _Refused(
                        f"key {show(key)} is given twice (first on line {seen[key] + 1}); "
                        "expected each key once in a mapping",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded(node: Any, depth: int, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, levels) of a node with its aliases expanded; refuses past the limits early."""
    if depth > MAX_DEPTH:
        raise _Refused(
            f"nesting deeper than {MAX_DEPTH} levels (through aliases) is not allowed; expected "
            f"at most {MAX_DEPTH} levels of lists and mappings",
            node.start_mark,
        )
    if id(node) in memo:
        count, levels = memo[id(node)]
        if depth + levels - 1 > MAX_DEPTH:
            _expanded(node, MAX_DEPTH + 1, {})
        return count, levels
    count, levels = 1, 1
    children: list[Any] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    for child in children:
        c, lv = _expanded(child, depth + 1, memo)
        count, levels = count + c, max(levels, lv + 1)
        if count > MAX_NODES:
            break
    memo[id(node)] = (count, levels)
    return count, levels


def _check_size(root: Any) -> None:
    pairs = root.value if isinstance(root, yaml.MappingNode) else [(None, root)]
    memo: dict[int, tuple[int, int]] = {}
    total = 0
    for key, value in pairs:
        total += _expanded(value, 1, memo)[0]
        if total > MAX_NODES:
            field = f"{key.value}: " if isinstance(key, yaml.ScalarNode) else ""
            raise _Refused(
                f"{field}more than {MAX_NODES:,} values once aliases are expanded is not "
                f"allowed; expected a file of at most {MAX_NODES:,} values",
                value.start_mark,
            )


def load_yaml(text: str) -> Any:
    """The data of one YAML document, read by StrictLoader within the limits above."""
    loader = StrictLoader(text.removeprefix("\ufeff"))
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_size(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def decode(content: bytes, name: str) -> str:
    """UTF-8 text (a BOM is fine) of a file's bytes, or one ScenarioError line."""
    if len(content) > MAX_BYTES:
        raise ScenarioError(
            f"{name}: {len(content):,} bytes; expected a file of at most {MAX_BYTES:,} bytes"
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(f"{name}: UTF-16 text is not allowed; expected UTF-8 (save as UTF-8)")
    if b"\x00" in content:
        raise ScenarioError(f"{name}: a binary file (NUL bytes) is not allowed; expected text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = content[: e.start].count(b"\n") + 1
        raise ScenarioError(
            f"{name}: byte 0x{content[e.start]:02x} on line {line} is not UTF-8; expected UTF-8 "
            "text (save the file as UTF-8)"
        ) from None


def read_bytes(path: Path, label: str) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; `label` names it in errors."""
    try:  # non-blocking: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ScenarioError(f"{label}: {str(path)!r} does not exist") from None
    except OSError as e:
        raise ScenarioError(f"{label}: {str(path)!r} cannot be read ({e.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ScenarioError(
                f"{label}: {str(path)!r} is {_kind(mode)}; expected a regular file"
            )
        chunks, size = [], 0
        while size <= MAX_BYTES and (chunk := os.read(fd, MAX_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise ScenarioError(f"{label}: {str(path)!r} cannot be read ({e.strerror})") from None
    finally:
        os.close(fd)
    content = b"".join(chunks)
    if len(content) > MAX_BYTES:
        raise ScenarioError(
            f"{label}: {str(path)!r} has more than {MAX_BYTES:,} bytes; expected a file of at "
            f"most {MAX_BYTES:,} bytes"
        )
    return content


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def parse_mapping(content: str | bytes, name: str, what: str = "fields") -> dict[str, Any]:
    """The top-level mapping of a YAML file's content, or one ScenarioError line."""
    text = decode(content, name) if isinstance(content, bytes) else content
    if len(text) > MAX_BYTES:
        raise ScenarioError(
            f"{name}: {len(text):,} characters; expected a file of at most {MAX_BYTES:,} bytes"
        )
    try:
        data = load_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        kind = "" if isinstance(e, _Refused) else "YAML syntax error: "
        raise ScenarioError(f"{name}:{where} {kind}{problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{name}: top level is a {type(data).__name__}; expected a mapping of {what}"
        )
    return data


def read_mapping(path: str | Path, label: str, what: str = "fields") -> dict[str, Any]:
    """The top-level mapping of a YAML file (a scenario or a sweep file)."""
    path = Path(path)
    return parse_mapping(decode(read_bytes(path, label), path.name), path.name, what)


# ---- scenarios ------------------------------------------------------------------------------
def parse_scenario_text(content: str | bytes, name: str) -> dict[str, Any]:
    """The raw mapping of a scenario's YAML text or bytes, or one ScenarioError line."""
    return parse_mapping(content, name, "scenario fields")


def deep_merge(base: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in `diff` replaces what `base` had."""
    out = copy.deepcopy(base)
    for k, v in diff.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def bundled_scenarios() -> dict[str, Path]:
    """The scenario files shipped in scenarios/, by file name."""
    files = sorted(SCENARIOS.glob("*.yaml"), key=lambda p: (p.stem != "baseline", p.stem))
    return {p.name: p for p in files if p.is_file()}


def read_scenario_dict(
    path: str | Path, _seen: tuple[Path, ...] = (), _label: str = "scenario file"
) -> dict[str, Any]:
    """The raw scenario mapping of a file, with `extends:` and `set:` resolved."""
    path = Path(path).resolve()
    if path in _seen:
        raise ScenarioError(
            f"extends: {path.name!r} extends itself (cycle through {_seen[0].name})"
        )
    data = parse_scenario_text(read_bytes(path, _label), path.name)
    return _resolve(data, path.parent, (*_seen, path))


def _resolve(
    data: dict[str, Any], folder: Path | None, seen: tuple[Path, ...]
) -> dict[str, Any]:
    """`extends:` (relative to `folder`; None: only a bundled scenario by name) and `set:`."""
    parent = data.pop("extends", None)
    sets = data.pop("set", None)
    if sets is not None and not isinstance(sets, dict):
        raise ScenarioError(f"set: {show(sets)} is not allowed; expected a mapping PATH: VALUE")
    if parent is not None:
        if not isinstance(parent, str) or not parent:
            raise ScenarioError(f"extends: {show(parent)} is not allowed; expected a file path")
        if folder is None:
            bundled = bundled_scenarios()
            ppath = bundled.get(parent) or bundled.get(f"{parent}.yaml")
            if ppath is None:
                raise ScenarioError(
                    f"extends: {show(parent)} is not allowed; expected the name of a bundled "
                    f"scenario: {', '.join(bundled)}"
                )
        else:
            ppath = (folder / parent).resolve()
            if not ppath.exists():
                raise ScenarioError(f"extends: {parent!r} does not exist (looked for {ppath})")
        data = deep_merge(read_scenario_dict(ppath, seen, "extends"), data)
    return apply_overrides(data, sets)


def load_scenario(
    source: str | Path | dict[str, Any] | Scenario,
    overrides: dict[str, Any] | list[str] | None = None,
) -> Scenario:
    """Load a scenario from a YAML path, a bundled name, a mapping or a Scenario, then
    apply overrides (so ``load_scenario(scenario, {"weeks": 12})`` is a changed copy)."""
    if isinstance(source, Scenario):
        data = source.to_dict()
    elif isinstance(source, dict):
        data = copy.deepcopy(source)
        if "extends" in data:
            raise ScenarioError("extends: only allowed in scenario files")
    else:
        data = read_scenario_dict(scenario_path(source))  # `baseline` resolves like a path
    return from_dict(apply_overrides(data, overrides))


def load_scenario_text(
    content: str | bytes,
    name: str,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    bundled_only: bool = True,
    folder: str | Path | None = None,
) -> Scenario:
    """A scenario from YAML text or bytes (an upload), under the limits of a file.

    With `bundled_only` (the default), `extends:` may only name a bundled scenario
    (``baseline`` or ``baseline.yaml``) and no other file is opened; otherwise it resolves
    against `folder` (default: the working directory).
    """
    base = None if bundled_only else Path(folder or ".").resolve()
    data = _resolve(parse_scenario_text(content, name), base, ())
    return from_dict(apply_overrides(data, overrides))


# ---- dotted paths and overrides --------------------------------------------------------------
def parse_override(text: str) -> tuple[str, Any]:
    """'a.b=value' -> ('a.b', value), the value read as YAML (numbers, bools, lists)."""
    if "=" not in text:
        raise ScenarioError(f"override: {text!r} is not allowed; expected PATH=VALUE")
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path:
        raise ScenarioError(f"override: {text!r} has an empty path; expected PATH=VALUE")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of a scenario mapping (list items by index or name).

    Raises ScenarioError (a ValueError) when the path does not lead to a value.
    """
    node = data
    parts = path.split(".")
    for depth, key in enumerate(parts):
        here = ".".join(parts[:depth]) or "scenario"
        if isinstance(node, list):
            node = node[_list_index(node, key, path, here)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise ScenarioError(f"{path}: {here} has no {key!r}")
    return node


def apply_overrides(
    data: dict[str, Any], overrides: dict[str, Any] | list[str] | None
) -> dict[str, Any]:
    """Apply dotted-path overrides to a raw scenario mapping (checked against the schema)."""
    if not overrides:
        return data
    if isinstance(overrides, list | tuple):
        overrides = dict(parse_override(o) for o in overrides)
    out = copy.deepcopy(data)
    for path, value in overrides.items():
        _set_path(out, str(path), value)
    return out


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    model: Any = Scenario  # None: below a plain mapping or an unknown model, anything goes
    for depth, key in enumerate(parts):
        here = ".".join(parts[:depth]) or "scenario"
        last = depth == len(parts) - 1
        if isinstance(node, list):
            idx = _list_index(node, key, path, here)
            if last:
                node[idx] = value
                return
            node = node[idx]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"override {path}: {here} is a value, not a group of fields")
        field = model.model_fields.get(key) if model is not None else None
        if model is not None and field is None:
            allowed = ", ".join(model.model_fields)
            raise ScenarioError(
                f"override {path}: {key!r} is not a field of {here}; allowed: {allowed}"
            )
        if last:
            node[key] = value
            return
        child = model_of_field(model, key) if model is not None else None
        if key not in node:
            plain = field is None or "dict" in str(field.annotation)
            if child is None and not plain:
                raise ScenarioError(f"override {path}: {here}.{key} is a value, not a group")
            node[key] = {}
        node = node[key]
        model = child


def _list_index(node: list[Any], key: str, path: str, here: str) -> int:
    if key.lstrip("-").isdigit():
        i = int(key)
        if not -len(node) <= i < len(node):
            raise ScenarioError(
                f"override {path}: index {i} is out of range for {here} (0..{len(node) - 1})"
            )
        return i
    names = [x.get("name") if isinstance(x, dict) else None for x in node]
    if key in names:
        return names.index(key)
    raise ScenarioError(
        f"override {path}: {key!r} is not an item of {here}; use an index 0..{len(node) - 1} "
        f"or a name in {[n for n in names if n]}"
    )
