"""Results stay bit-identical under restructuring: small runs against a golden file.

`tests/golden/results.json` holds, per scenario and seed, every summary value and a hash of each
Parquet column at the time it was written. The test compares exactly the keys and columns the
file lists, so outcomes or columns added later do not break it. A deliberate change of the
model's results regenerates the file (and says so in its commit):

    .venv/bin/python tests/test_golden.py        # or: make golden
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import sim  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "results.json"
SCENARIOS = ("baseline", "us_federal_floor", "reform_package")
SEEDS = (1, 2)
SMALL = {"population.taskers": 2000, "weeks": 30, "burn_in_weeks": 6}


def column_hash(values) -> str:
    data = np.asarray(values)
    data = data.astype(str) if data.dtype == object else data.astype(np.float64)
    return hashlib.sha256(data.tobytes()).hexdigest()[:16]


def snapshot(name: str, seed: int) -> dict:
    """Summary values (flattened, repr of floats) and per-column hashes of one small run."""
    scenario = sim.load_scenario(ROOT / "scenarios" / f"{name}.yaml", SMALL)
    result = sim.run(scenario, seed)
    summary = {f"overall.{k}": repr(float(v)) for k, v in result.summary["overall"].items()}
    for scope in ("by_country", "by_platform"):
        for group, values in result.summary[scope].items():
            summary |= {f"{scope}.{group}.{k}": repr(float(v)) for k, v in values.items()}
    frames = {
        frame: {c: column_hash(getattr(result, frame)[c]) for c in getattr(result, frame).columns}
        for frame in ("weekly", "by_country", "by_platform")
    }
    return {"summary": summary, **frames}


def regenerate() -> None:
    runs = {f"{name}/{seed}": snapshot(name, seed) for name in SCENARIOS for seed in SEEDS}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({"size": SMALL, "runs": runs}, indent=1, sort_keys=True) + "\n")


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("seed", SEEDS)
def test_results_match_the_golden_file(name, seed):
    golden = json.loads(GOLDEN.read_text())
    assert golden["size"] == SMALL
    want = golden["runs"][f"{name}/{seed}"]
    got = snapshot(name, seed)
    for part, values in want.items():
        changed = [k for k, v in values.items() if got[part].get(k) != v]
        assert not changed, f"{part} of {name}/{seed} changed: {changed[:5]} (see docstring)"
    assert all(math.isfinite(float(v)) for v in got["summary"].values())


if __name__ == "__main__":
    regenerate()
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
