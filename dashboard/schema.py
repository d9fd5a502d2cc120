"""Widget specs generated from the Scenario schema, and where each default comes from.

Nothing here decides a number of the model: it reads the pydantic fields of
`sim.scenario.Scenario` (type, bounds, description) and the source comments beside the
values in scenarios/baseline.yaml.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from sim.bundled import scenarios_dir
from sim.scenario import Scenario
from sim.scenario_files import get_path as get_path  # the one dotted-path reader, re-exported
from sim.terms import LEVERS as policy_levers

SCENARIOS = scenarios_dir()
BASELINE = SCENARIOS / "baseline.yaml"

# Reform levers: every policy lever (from the schema; the start week last), and the two
# technology/automation levers reforms are compared on.
LEVERS = [
    *sorted(policy_levers, key=lambda path: path == "policy.start_week"),
    "automation.mode",
    "technology.ai_cost_decline_per_year",
]
# Run size: applied to baseline and reform alike, so the comparison stays paired.
RUN_SETTINGS = ["population.taskers", "weeks", "burn_in_weeks", "seed"]
# Behavioural assumptions in the "advanced" expander: also applied to both runs.
ADVANCED = [
    "behaviour.expected_pay_weight",
    "behaviour.look_again_probability",
    "behaviour.platform_choice_sensitivity",
    "behaviour.monitoring_stress",
    "behaviour.exit_hazard_underpaid_per_week",
    "behaviour.reputation_power",
    "behaviour.search_hours_per_paid_hour",
    "behaviour.hourly_shirking",
    "behaviour.monitoring_output_loss",
    "population.reservation_wage_sigma",
]
SHARED = RUN_SETTINGS + ADVANCED

# Units read from how a field's name ends (the schema puts the unit in the name).
_UNITS = [
    ("_usd_per_hour", "USD/h"),
    ("usd_per_hour", "USD/h"),
    ("_per_year", "share/yr"),
    ("_per_week", "share/wk"),
    ("_per_paid_hour", "h per paid h"),
    ("_weeks", "weeks"),
    ("_week", "week"),
    ("weeks", "weeks"),
    ("_hours", "h"),
    ("fee_share", "x tasker pay"),
    ("_share", "share 0-1"),
    ("share", "share 0-1"),
    ("taskers", "taskers"),
    ("multiple", "x minimum wage"),
    ("sigma", "lognormal sigma"),
]


@dataclass(frozen=True)
class FieldSpec:
    """What a widget needs to know about one scenario parameter."""

    path: str
    kind: str  # "choice", "bool", "int", "float"
    label: str
    help: str
    description: str
    unit: str
    options: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    step: float | None = None


def _field(path: str):
    model: type[BaseModel] = Scenario
    parts = path.split(".")
    for part in parts[:-1]:
        ann = model.model_fields[part].annotation
        model = ann  # nested groups are plain BaseModel classes
    return model.model_fields[parts[-1]]


def _unit(name: str, description: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            if unit == "share 0-1" and "share" not in name and "Share" not in description:
                continue
            return unit
    return ""


def _bounds(field) -> tuple[float | None, float | None, bool, bool]:
    lo = hi = None
    lo_open = hi_open = False
    metas = list(field.metadata)
    ann = field.annotation
    for arg in typing.get_args(ann):
        metas += list(getattr(arg, "__metadata__", ()))
    metas += list(getattr(ann, "__metadata__", ()))
    for m in metas:
        for item in getattr(m, "metadata", [m]):
            if isinstance(item, Ge):
                lo = float(item.ge)
            elif isinstance(item, Gt):
                lo, lo_open = float(item.gt), True
            elif isinstance(item, Le):
                hi = float(item.le)
            elif isinstance(item, Lt):
                hi, hi_open = float(item.lt), True
    return lo, hi, lo_open, hi_open


def _base_type(ann: Any) -> tuple[Any, bool]:
    """(type without None, whether None is allowed)."""
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(ann))
    if origin is typing.Annotated:
        return typing.get_args(ann)[0], False
    return ann, False


def _label(description: str, unit: str) -> str:
    head = re.sub(r"\s*\([^()]*\)$", "", description).strip()
    head = head[0].upper() + head[1:]
    shown = unit.replace("share 0-1", "share")
    if unit and shown.split("/")[0].lower() not in head.lower():
        head = f"{head} [{unit}]"
    return head


@cache
def field_spec(path: str) -> FieldSpec:
    """The widget spec of a dotted scenario path, from the schema alone."""
    field = _field(path)
    name = path.split(".")[-1]
    description = field.description or name.replace("_", " ")
    base, optional = _base_type(field.annotation)
    lo, hi, lo_open, hi_open = _bounds(field)
    unit = _unit(name, description)
    if typing.get_origin(base) is Literal:
        kind, options = "choice", typing.get_args(base)
    elif base is bool:
        kind, options = "bool", ()
    elif base is int:
        kind, options = "int", ()
    else:
        kind, options = "float", ()
        if lo is not None and hi is not None and hi - lo <= 1:
            unit = unit or "share 0-1"
    if kind == "float":
        span = (hi - lo) if lo is not None and hi is not None else None
        step = 0.01 if span is not None and span <= 1 else 0.05 if span and span <= 20 else 0.1
        if lo_open and lo is not None:
            lo = lo + step
        if hi_open and hi is not None:
            hi = hi - step
    else:
        step = 1 if kind == "int" else None
    bounds = ""
    if kind in ("int", "float"):
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        bounds = f" Allowed: {lo_s} to {hi_s}{' (blank = none)' if optional else ''}."
    elif kind == "choice":
        bounds = " Allowed: " + ", ".join(map(str, options)) + "."
    source = default_source(path)
    help_text = (
        f"{description[0].upper()}{description[1:]}.{bounds}\n\nDefault: {source}\n\n"
        f"Parameter: {path}"
    )
    return FieldSpec(
        path=path,
        kind=kind,
        label=_label(description, unit),
        help=help_text,
        description=description,
        unit=unit,
        options=tuple(options),
        minimum=lo,
        maximum=hi,
        optional=optional,
        step=step,
    )


# ---- sources: the comments beside values in scenarios/baseline.yaml -------------------
_KEY = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[A-Za-z_][\w]*):(?P<rest>.*)$")


@cache
def baseline_sources(path: Path = BASELINE) -> dict[str, str]:
    """Dotted path -> the source comment written beside its value in the baseline file.

    List items are addressed by their `name` (``platforms.open_marketplace.fee_share``),
    the same way overrides address them.
    """
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)
        comment = line[1].strip() if len(line) > 1 else ""
        m = _KEY.match(line[0].rstrip())
        if not m:
            continue
        indent = len(m["indent"]) + (2 if m["dash"] else 0)
        key = m["key"]
        if m["dash"]:
            item = m["rest"].strip() if key == "name" else "?"
            stack = [(i, k) for i, k in stack if i < indent - 2]
            stack.append((indent - 1, item))
        stack = [(i, k) for i, k in stack if i < indent]
        dotted = ".".join([k for _, k in stack] + [key])
        if comment:
            out[dotted] = comment
        stack.append((indent, key))
    return out


def default_source(path: str) -> str:
    """Where the baseline value of `path` comes from, in one line."""
    src = baseline_sources().get(path)
    if src:
        return f"{src} (scenarios/baseline.yaml)"
    if path.startswith("policy."):
        return "the status quo: the baseline has no such policy (scenarios/baseline.yaml)"
    return "an assumption of the model, with no published figure behind it (sim/scenario.py)"


# ---- diffs between scenario mappings --------------------------------------------------
def flatten_diff(base: Any, other: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths where `other` differs from `base` (lists item by item when same length)."""
    if isinstance(base, dict) and isinstance(other, dict):
        out: dict[str, Any] = {}
        for k in other:
            sub = f"{prefix}.{k}" if prefix else str(k)
            if k not in base:
                out[sub] = other[k]
            else:
                out.update(flatten_diff(base[k], other[k], sub))
        return out
    if (
        isinstance(base, list)
        and isinstance(other, list)
        and len(base) == len(other)
        and all(isinstance(x, dict) for x in base + other)
    ):
        out = {}
        for i, (b, o) in enumerate(zip(base, other, strict=True)):
            key = o.get("name") if o.get("name") == b.get("name") and o.get("name") else i
            out.update(flatten_diff(b, o, f"{prefix}.{key}"))
        return out
    return {} if base == other else {prefix: other}


def describe(path: str) -> str:
    """The schema description of any dotted path (list items by name or index)."""
    model: Any = Scenario
    description = ""
    for part in path.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            continue  # a list item's name or index, or a key of a mapping
        field = fields[part]
        description = field.description or part.replace("_", " ")
        model = None
        for t in (field.annotation, *typing.get_args(field.annotation)):
            for u in (t, *typing.get_args(t)):
                if isinstance(u, type) and issubclass(u, BaseModel):
                    model = u
    return description
