"""Scaling benchmark: wall time, tasker-weeks per second and peak memory by population size.

    python -m benchmarks.scaling                  # 10k, 100k, 1M, 10M taskers x 52 weeks
    python -m benchmarks.scaling --sizes 10000 100000 --no-readme

Each size runs in a fresh process (so its peak RSS is its own) on scenarios/baseline.yaml
with the population resized; the per-agent Mesa reference (benchmarks/reference_mesa.py)
runs beside the vectorised model at 10k and 100k, for `--reference-weeks` weeks both, and
the ratio of their tasker-weeks per second (steps only) is reported. The baseline scenario itself is
timed after import and through the CLI. The table goes into benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- scaling:begin -->", "<!-- scaling:end -->"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _time_model(model_class, scenario, weeks: int) -> float:
    """Seconds for `weeks` steps (construction excluded)."""
    model = model_class(scenario, scenario.seed)
    start = time.perf_counter()
    for _ in range(weeks):
        model.step()
    return time.perf_counter() - start


def measure(taskers: int, weeks: int, reference_weeks: int) -> dict:
    """One size, in this process: the vectorised model (and the reference, if asked)."""
    import sim
    from sim.model import LabourMarketModel
    from sim.resources import reuse_freed_memory

    reuse_freed_memory()  # as the CLI does
    overrides = {
        "population.taskers": taskers,
        "weeks": weeks,
        "burn_in_weeks": min(12, weeks // 4),
    }
    scenario = sim.load_scenario(BASELINE, overrides)
    wall = _time_model(LabourMarketModel, scenario, weeks)
    row = {"taskers": taskers, "weeks": weeks, "wall_s": wall, "rss_mb": _peak_rss_mb()}
    if reference_weeks:
        from benchmarks.reference_mesa import ReferenceModel

        short = sim.load_scenario(scenario, {"weeks": reference_weeks})
        fast = _time_model(LabourMarketModel, short, reference_weeks)
        slow = _time_model(ReferenceModel, short, reference_weeks)
        row.update(reference_weeks=reference_weeks, vectorised_s=fast, reference_s=slow)
    return row


def baseline_after_import() -> dict:
    """The baseline scenario (sim.run, frames and summary included), timed after import."""
    import sim
    from sim.resources import reuse_freed_memory
    from sim.results import run  # the model and its libraries load here, before the clock

    reuse_freed_memory()  # as the CLI does
    scenario = sim.load_scenario(BASELINE)
    start = time.perf_counter()
    run(scenario)
    return {
        "wall_s": time.perf_counter() - start,
        "taskers": scenario.population.taskers,
        "weeks": scenario.weeks,
    }


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.scaling", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cli_wall(*args: str) -> float:
    exe = Path(sys.executable).with_name("datalabour")
    start = time.perf_counter()
    subprocess.run(
        [str(exe), "run", str(BASELINE), *args], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - start


def table(rows: list[dict], baseline: dict, cli: float, cli_1m: float) -> str:
    lines = [
        "| potential taskers | weeks | wall (s) | tasker-weeks/s | peak RSS (MB) | RSS per tasker "
        "| vs per-agent Mesa |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rate = r["taskers"] * r["weeks"] / r["wall_s"]
        ratio = ""
        if "reference_s" in r:
            ratio = f"{r['reference_s'] / r['vectorised_s']:.0f}x ({r['reference_weeks']} weeks)"
        lines.append(
            f"| {r['taskers']:,} | {r['weeks']} | {r['wall_s']:.2f} | {rate / 1e6:.2f} M "
            f"| {r['rss_mb']:,.0f} | {r['rss_mb'] * 2**20 / r['taskers']:,.0f} B | {ratio} |"
        )
    lines += [
        "",
        f"Baseline scenario ({baseline['taskers']:,} taskers, {baseline['weeks']} weeks, "
        f"`sim.run` after import): {baseline['wall_s']:.2f} s. "
        f"`datalabour run scenarios/baseline.yaml` (CLI start-up included): {cli:.2f} s wall. "
        f"`datalabour run ... --taskers 1000000 --weeks 20`: {cli_1m:.2f} s wall "
        f"({20e6 / cli_1m / 1e6:.2f} M tasker-weeks/s including start-up).",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores "
        f"(shared), Python {platform.python_version()}; single process.",
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    block = f"{BEGIN}\n{text}\n{END}"
    old = README.read_text() if README.exists() else "# Benchmarks\n"
    if BEGIN in old:
        new = re.sub(f"{re.escape(BEGIN)}.*?{re.escape(END)}", lambda _: block, old, flags=re.S)
    else:
        new = (
            old.rstrip("\n") + "\n\n## Scaling (`python -m benchmarks.scaling`)\n\n" + block + "\n"
        )
    README.write_text(new)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    p.add_argument("--weeks", type=int, default=52)
    p.add_argument("--reference-sizes", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--reference-weeks", type=int, default=26)
    p.add_argument("--no-readme", action="store_true", help="print the table only")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    p.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)  # child
    a = p.parse_args()
    if a.one:
        ref = a.reference_weeks if a.one in a.reference_sizes else 0
        print(json.dumps(measure(a.one, a.weeks, ref)))
        return
    if a.baseline:
        print(json.dumps(baseline_after_import()))
        return
    rows = []
    for n in a.sizes:
        extra = ["--reference-sizes", *map(str, a.reference_sizes)]
        rows.append(
            _child(
                [
                    "--one",
                    str(n),
                    "--weeks",
                    str(a.weeks),
                    "--reference-weeks",
                    str(a.reference_weeks),
                    *extra,
                ]
            )
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    baseline = _child(["--baseline"])
    cli = _cli_wall("--out", "/tmp/datalabour-scaling-baseline")
    cli_1m = _cli_wall(
        "--taskers", "1000000", "--weeks", "20", "--out", "/tmp/datalabour-scaling-1m"
    )
    text = table(rows, baseline, cli, cli_1m)
    print(text)
    if not a.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
