"""Set a scenario file's calibrated parameters to the posterior's central values, in place.

    .venv/bin/python scripts/apply_posterior.py [POSTERIOR.parquet] [SCENARIO.yaml]

Each prior's paths (sim/data/priors.yaml) get the weighted median of its posterior column; the
line keeps its place and gets the comment "posterior median (docs/calibration.md)". The file is
then loaded to check that every value arrived.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sim
from sim.calibration_abc import POSTERIOR, central_values, load_posterior
from sim.priors import PRIORS, load_priors
from sim.scenario_files import get_path

COMMENT = "posterior median (docs/calibration.md); prior and its source: sim/data/priors.yaml"


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def apply(text: str, values: dict[str, float]) -> str:
    """The scenario text with each dotted path's value replaced (block or flow-style lines)."""
    lines = text.splitlines()
    section, item, in_streams, stream = None, None, False, -1
    for n, line in enumerate(lines):
        top = re.match(r"^([a-z_]+):", line)
        if top:
            section, item, in_streams, stream = top.group(1), None, False, -1
            continue
        named = re.match(r"^  - name: ([a-z_]+)", line)
        if named:
            item, in_streams, stream = named.group(1), False, -1
            continue
        if re.match(r"^    streams:", line):
            in_streams = True
            continue
        if in_streams and re.match(r"^      - \{", line):
            stream += 1
            for key in re.findall(r"([a-z_]+): [^,}]+", line):
                path = f"{section}.{item}.streams.{stream}.{key}"
                if path in values:
                    line = re.sub(rf"({key}: )[^,}}]+", rf"\g<1>{_fmt(values.pop(path))}", line)
            lines[n] = line
            continue
        field = re.match(r"^(\s+)([a-z_0-9]+):(\s*)([^#\s][^#]*?)(\s*)(#.*)?$", line)
        if not field:
            continue
        indent, key = field.group(1), field.group(2)
        path = f"{section}.{key}" if len(indent) == 2 else f"{section}.{item}.{key}"
        if path in values:
            value = _fmt(values.pop(path))
            lines[n] = f"{indent}{key}:{field.group(3)}{value}{field.group(5) or ' '}# {COMMENT}"
    ends = {}  # a top-level section's last indented line: where a missing field goes
    section = None
    for n, line in enumerate(lines):
        top = re.match(r"^([a-z_]+):", line)
        section = top.group(1) if top else section
        if section and line.startswith("  ") and line.strip():
            ends[section] = n
    for path in sorted(values, key=lambda p: -ends.get(p.split(".")[0], -1)):
        parts = path.split(".")
        if len(parts) == 2 and parts[0] in ends:  # a schema default: written out
            lines.insert(ends[parts[0]] + 1, f"  {parts[1]}: {_fmt(values.pop(path))} # {COMMENT}")
    if values:
        raise SystemExit(f"not found in the scenario file: {sorted(values)}")
    return "\n".join(lines) + "\n"


def main(posterior: str = str(POSTERIOR), scenario: str = "scenarios/baseline.yaml") -> None:
    base = sim.load_scenario(scenario)
    priors = load_priors(PRIORS, base)
    central = central_values(load_posterior(Path(posterior)))
    values = {p: central[prior.key] for prior in priors for p in prior.paths}
    Path(scenario).write_text(apply(Path(scenario).read_text(), dict(values)))
    loaded = sim.load_scenario(scenario).to_dict()
    for path, value in values.items():
        assert abs(get_path(loaded, path) - float(_fmt(value))) < 1e-12, path
    print(f"{scenario}: {len(values)} values set to the posterior's weighted medians")


if __name__ == "__main__":
    main(*sys.argv[1:])
