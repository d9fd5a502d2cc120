"""The small sweep of docs/ODD.md section 10: where the market leaves rationing.

    .venv/bin/python scripts/rationing_sweep.py [SCENARIO.yaml]

One input changed at a time from the scenario (default scenarios/baseline.yaml): the median of
hours available, every stream's demand, every platform's monitoring intensity with and without
an output loss. Two seeds each, 4,000 potential taskers, 80 weeks (12 burn-in). Prints the
markdown table that section 10 shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import sim

ROOT = Path(__file__).resolve().parents[1]
SIZE = {"population.taskers": 4000, "weeks": 80, "burn_in_weeks": 12}
SEEDS = (1, 2)
COLUMNS = {
    "share_wanting_more_work": ("wanting more work", "{:.2f}"),
    "median_effective_hourly_pay_usd": ("median pay (USD/h)", "{:.2f}"),
    "unpaid_share": ("unpaid share", "{:.3f}"),
    "fill_rate": ("fill rate", "{:.3f}"),
    "labels_human": ("human labels (M)", "{:.2f}"),
    "tasks_per_task_hour": ("tasks per task hour", "{:.1f}"),
}


def cases(base: sim.Scenario) -> dict[str, dict[str, float]]:
    """Case name -> dotted overrides."""
    hours = base.population.hours_available_median
    out: dict[str, dict[str, float]] = {f"baseline (hours available {hours:g})": {}}
    for h in (8, 10, 12, 15, 25):
        out[f"hours available {h}"] = {"population.hours_available_median": h}
    for k in (0.7, 1.3, 1.6):
        out[f"demand x {k}"] = {
            f"labs.{i}.streams.{j}.demand_task_hours_per_tasker": s.demand_task_hours_per_tasker * k
            for i, lab in enumerate(base.labs) for j, s in enumerate(lab.streams)
        }
    for m, loss, label in ((1.0, 0.0, "(default)"), (1.0, 0.1, "(Bernstein)"), (0.5, 0.1, "")):
        name = f"monitoring {m:g}, output loss {loss:g} {label}".strip()
        out[name] = {f"platforms.{i}.monitoring": m for i in range(len(base.platforms))}
        out[name]["behaviour.monitoring_output_loss"] = loss
    return out


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "scenarios" / "baseline.yaml"
    base = sim.load_scenario(path, SIZE)
    print("| case | " + " | ".join(c for c, _ in COLUMNS.values()) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for name, overrides in cases(base).items():
        scenario = sim.load_scenario(base, overrides)
        runs = [sim.run(scenario, seed=s).summary["overall"] for s in SEEDS]
        cells = []
        for key, (_, fmt) in COLUMNS.items():
            value = float(np.mean([r[key] for r in runs]))
            cells.append(fmt.format(value / 1e6 if key == "labels_human" else value))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
