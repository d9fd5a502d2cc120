"""Exploratory modelling of datalabour with the EMA workbench: 16 experiments, then PRIM.

    python docs/examples/ema_explore.py              # 8 scenarios x 2 policies, 2 seeds each
    python docs/examples/ema_explore.py --tiny       # the same at toy size (what CI runs)

Uncertainties are the calibration's priors, levers the schema's policy fields, outcomes the
registry's (MAXIMIZE/MINIMIZE from each outcome's direction); every replication has its seed.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from sim import ema

SIZE = {"population.taskers": 5000, "weeks": 52, "burn_in_weeks": 13}
TINY = {"population.taskers": 300, "weeks": 10, "burn_in_weeks": 2}


def main(tiny: bool = False, scenarios: int = 8, policies: int = 2) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import SequentialEvaluator, perform_experiments
        from ema_workbench.analysis import prim

    model = ema.model(
        "scenarios/baseline.yaml",
        seeds=[1, 2],
        overrides=TINY if tiny else SIZE,
        outcome_names=["median_effective_hourly_pay_usd", "labels_human", "automation_share"],
        countries=["IND"],
        levers=["policy.max_monitoring", "policy.min_human_share", "policy.paid_rejections"],
    )
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(
            model, scenarios=scenarios, policies=policies, evaluator=evaluator
        )
    pay = np.asarray(outcomes["median_effective_hourly_pay_usd"], dtype=float)  # seeds' mean
    low = pay < np.median(pay)  # cases of interest: the lower half of median pay
    x = experiments[[u.name for u in model.uncertainties] + [lv.name for lv in model.levers]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x, low.astype(int), mass_min=0.1).find_box()
    print(f"{len(experiments)} experiments; median pay {pay.min():.2f}-{pay.max():.2f} USD/h")
    print(f"PRIM box for low pay: coverage {box.coverage:.2f}, density {box.density:.2f}")
    print(box.box_lim.T.to_string())
    return {"experiments": experiments, "outcomes": outcomes, "box": box}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="toy-size runs (CI)")
    main(parser.parse_args().tiny)
