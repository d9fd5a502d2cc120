"""Sensitivity indices of a sweep's outcomes: SALib Sobol or Morris on the sweep's own design.

A Sobol sweep gives first- and total-order indices (S1, ST) with bootstrap confidence
intervals; a Morris sweep gives elementary-effect statistics (mu*, its interval, mu, sigma).
The design matrix comes from the store's sweep.json; each point's output is the mean over
its replicates. The analysis is a pure function of the store.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.result_folder import atomic_output
from sim.scenario import ScenarioError
from sim.sweep import load, read_manifest

SOBOL = ["S1", "S1_conf", "ST", "ST_conf"]
MORRIS = ["mu_star", "mu_star_conf", "mu", "sigma"]


def _outputs(store: str | Path, manifest: dict, outcome: str) -> np.ndarray:
    runs = load(store)
    if outcome not in runs.columns:
        raise ScenarioError(
            f"--outcome: {outcome!r} is not allowed; expected one of {manifest['outcomes']}"
        )
    n_points = len(manifest["points"])
    ok = runs[runs["error"].isna()]
    y = ok.groupby("point")[outcome].mean().reindex(range(n_points))
    missing = int(y.isna().sum())
    if missing:
        raise ScenarioError(
            f"{outcome}: {missing} of {n_points} design points have no result; "
            "finish the sweep with --resume (or look at the error column of failed runs)"
        )
    return y.to_numpy(dtype=float)


def analyse(
    store: str | Path,
    outcomes: list[str] | None = None,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """One row per (outcome, parameter): Sobol S1/ST with intervals, or Morris mu*/sigma.

    Parameters
    ----------
    store : a sweep store made from a sobol or morris design
    outcomes : outcome keys (default: every outcome of the sweep)
    num_resamples, conf_level : bootstrap of the confidence intervals
    """
    from SALib.analyze import morris, sobol

    manifest = read_manifest(store)
    design = manifest["design"]
    if design["kind"] not in ("sobol", "morris"):
        raise ScenarioError(
            f"design.kind: {design['kind']!r} is not allowed; sensitivity needs a sobol or "
            "morris sweep"
        )
    problem = design["problem"]
    x = np.asarray(design["matrix"], dtype=float)
    seed = manifest["spec"]["seed"] % 2**32
    rows = []
    for outcome in outcomes or manifest["outcomes"]:
        y = _outputs(store, manifest, outcome)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if design["kind"] == "sobol":
                res = sobol.analyze(
                    problem,
                    y,
                    calc_second_order=design["second_order"],
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
                keys = SOBOL
            else:
                res = morris.analyze(
                    problem,
                    x,
                    y,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    num_levels=design["levels"],
                    seed=seed,
                )
                keys = MORRIS
        for i, name in enumerate(problem["names"]):
            row = {"outcome": outcome, "parameter": name, "method": design["kind"]}
            row.update({k: float(np.asarray(res[k])[i]) for k in keys})
            rows.append(row)
    table = pd.DataFrame(rows)
    main = "ST" if design["kind"] == "sobol" else "mu_star"
    order = table.groupby("outcome", sort=False)[main].rank(ascending=False, method="first")
    return (
        table.assign(rank=order.astype(int))
        .sort_values(["outcome", "rank"], key=_outcome_order(table))
        .reset_index(drop=True)
    )


def stability_warnings(table: pd.DataFrame, widest: float = 0.5) -> list[str]:
    """Why Sobol indices may not be stable: S1 outside [0, 1] or 95% intervals wider than
    `widest`, per outcome (a sample too small for its indices; a larger design.samples helps)."""
    if table.empty or table["method"].iloc[0] != "sobol":
        return []
    out = []
    for outcome, part in table.groupby("outcome", sort=False):
        outside = part[(part["S1"] < 0) | (part["S1"] > 1)]
        wide = part[2 * part[["S1_conf", "ST_conf"]].max(axis=1) > widest]
        if len(outside) or len(wide):
            what = []
            if len(outside):
                what.append(f"S1 outside [0, 1] for {', '.join(outside['parameter'])}")
            if len(wide):
                what.append(f"intervals wider than {widest} for {', '.join(wide['parameter'])}")
            out.append(
                f"{outcome}: {'; '.join(what)}: the sample is too small for stable indices; "
                "run the sweep with a larger design.samples"
            )
    return out


def _outcome_order(table: pd.DataFrame):
    first = {o: i for i, o in enumerate(dict.fromkeys(table["outcome"]))}

    def key(col: pd.Series) -> pd.Series:
        return col.map(first) if col.name == "outcome" else col

    return key


def figure(table: pd.DataFrame):
    """Tornado chart: one panel per outcome, parameters sorted by influence, with intervals."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    outcomes = list(dict.fromkeys(table["outcome"]))
    sobol = table["method"].iloc[0] == "sobol"
    bars = (
        [("ST", "ST_conf", "total order (ST)"), ("S1", "S1_conf", "first order (S1)")]
        if sobol
        else [
            ("mu_star", "mu_star_conf", "mean |elementary effect| (mu*)"),
            ("sigma", None, "spread of effects (sigma)"),
        ]
    )
    fig = make_subplots(
        rows=len(outcomes),
        cols=1,
        subplot_titles=outcomes,
        vertical_spacing=0.3 / max(1, len(outcomes)),
    )
    colours = ["#1f77b4", "#ff7f0e"]
    for r, outcome in enumerate(outcomes, start=1):
        part = table[table["outcome"] == outcome].sort_values("rank", ascending=False)
        for (col, conf, label), colour in zip(bars, colours, strict=True):
            fig.add_trace(
                go.Bar(
                    y=part["parameter"],
                    x=part[col],
                    orientation="h",
                    name=label,
                    marker_color=colour,
                    legendgroup=label,
                    showlegend=r == 1,
                    error_x=dict(type="data", array=part[conf]) if conf else None,
                ),
                row=r,
                col=1,
            )
    method = "Sobol indices (95% bootstrap intervals)" if sobol else "Morris screening"
    fig.update_layout(
        title=method,
        barmode="group",
        height=max(400, 90 + 60 * len(table)),
        legend=dict(orientation="h", y=1.02, yanchor="bottom"),
        template="plotly_white",
    )
    return fig


def write(table: pd.DataFrame, out: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
    """sensitivity.csv and sensitivity.html (self-contained) in `out`, whole or not at all."""
    out = Path(out)
    with atomic_output(out, overwrite) as folder:
        table.to_csv(folder / "sensitivity.csv", index=False)
        figure(table).write_html(folder / "sensitivity.html", include_plotlyjs=True)
    return out / "sensitivity.csv", out / "sensitivity.html"
