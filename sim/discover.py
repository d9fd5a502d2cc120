"""Scenario discovery: boxes in parameter space where an outcome meets a condition (PRIM).

The cases are the runs of a sweep store (one row per run, its parameters and outcomes); a case
is "of interest" when its outcome is above (or below) a level. PRIM (Friedman and Fisher 1999,
in the EMA workbench's implementation) peels the parameter space down to boxes that hold many
cases of interest (coverage: the share of all such cases inside the box) and few others
(density: the share of the box's cases that are of interest). Along each peeling trajectory
the box kept is the one with the highest coverage among those at least `min_density` dense.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenario import ScenarioError

BOX_COLUMNS = ["box", "parameter", "low", "high", "values", "coverage", "density", "mass"]


@dataclass
class Discovery:
    """Boxes found (one row per box and restricted parameter) and each box's trajectory."""

    outcome: str
    condition: str
    cases: int
    cases_of_interest: int
    boxes: pd.DataFrame
    trajectories: list[pd.DataFrame] = field(default_factory=list)

    def save(self, out: str | Path, overwrite: bool = False) -> tuple[Path, Path]:
        """boxes.csv and tradeoff.html (coverage against density) in `out`, whole or not at
        all (an older result is replaced only with `overwrite`)."""
        from sim.result_folder import atomic_output

        out = Path(out)
        manifest = {"outcome": self.outcome, "condition": self.condition, "cases": self.cases}
        with atomic_output(out, overwrite, manifest) as folder:
            self.boxes.to_csv(folder / "boxes.csv", index=False)
            tradeoff_figure(self).write_html(folder / "tradeoff.html", include_plotlyjs=True)
        return out / "boxes.csv", out / "tradeoff.html"


def _prim():
    """The EMA workbench's PRIM, imported quietly (its import is slow and chatty)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise ScenarioError(
            "discover: needs the EMA workbench; install it with "
            "`pip install 'datalabour[explore]'` (or `pip install ema-workbench`)"
        ) from None
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


def cases(store: str | Path, outcome: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The parameters (one column per swept dotted path) and the outcome of every good run."""
    from sim.sweep import load, read_manifest

    manifest = read_manifest(store)
    if outcome not in manifest["outcomes"]:
        raise ScenarioError(
            f"--outcome: {outcome!r} is not allowed; the sweep has {manifest['outcomes']}"
        )
    runs = load(store)
    runs = runs[runs["error"].isna()] if "error" in runs else runs
    params = list(manifest["columns"])
    if runs.empty or not params:
        raise ScenarioError(f"store: {str(store)!r} has no finished runs to discover boxes in")
    x = runs[params].reset_index(drop=True)
    for name in params:  # PRIM peels numbers; booleans and text are categories
        if x[name].dtype == bool:
            x[name] = x[name].astype(str)
    return x, runs[outcome].to_numpy(dtype=float)


def discover(
    store: str | Path,
    outcome: str,
    above: float | None = None,
    below: float | None = None,
    min_density: float = 0.8,
    max_boxes: int = 3,
    mass_min: float = 0.05,
) -> Discovery:
    """Boxes where `outcome` is above `above` (or below `below`), found by PRIM.

    Boxes are searched one after another on the cases not yet covered, until a box is less
    than `min_density` dense, `max_boxes` are found or no case of interest is left.
    """
    if (above is None) == (below is None):
        raise ScenarioError("discover: give one of --above X or --below X")
    if not 0 < min_density <= 1:
        raise ScenarioError(f"--min-density: {min_density} is not allowed; expected (0, 1]")
    level = above if above is not None else below
    if not np.isfinite(level):
        flag = "--above" if above is not None else "--below"
        raise ScenarioError(f"{flag}: {level} is not allowed; expected a finite number")
    x, y = cases(store, outcome)
    interest = y > above if above is not None else y < below
    condition = f"{outcome} > {above:g}" if above is not None else f"{outcome} < {below:g}"
    n_interest = int(interest.sum())
    rows: list[dict] = []
    trajectories: list[pd.DataFrame] = []
    if 0 < n_interest < len(y):
        prim = _prim()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algorithm = prim.Prim(x, interest.astype(int), mass_min=mass_min)
        for number in range(1, max_boxes + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                box = algorithm.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory.copy()
            dense = trajectory.index[trajectory["density"] >= min_density]
            if len(dense) == 0:
                break
            chosen = int(trajectory.loc[dense, "coverage"].idxmax())
            box.select(chosen)
            trajectory["box"] = number
            trajectory["chosen"] = trajectory.index == chosen
            trajectories.append(trajectory)
            rows += _restrictions(number, box, x)
            if algorithm.yi_remaining.size == 0 or not interest[algorithm.yi_remaining].any():
                break
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS)
    return Discovery(outcome, condition, len(y), n_interest, boxes, trajectories)


def _restrictions(number: int, box, x: pd.DataFrame) -> list[dict]:
    """One row per parameter the selected box restricts (all of them if it restricts none)."""
    limits, full = box.box_lim, box.box_lims[0]
    stats = {"coverage": float(box.coverage), "density": float(box.density),
             "mass": float(box.mass)}
    rows = []
    for name in x.columns:
        low, high = limits[name].iloc[0], limits[name].iloc[1]
        if isinstance(low, set):
            if low == full[name].iloc[0]:
                continue
            rows.append(dict(box=number, parameter=name, low=np.nan, high=np.nan,
                             values="|".join(sorted(map(str, low))), **stats))
        elif (low, high) != (full[name].iloc[0], full[name].iloc[1]):
            rows.append(dict(box=number, parameter=name, low=float(low), high=float(high),
                             values="", **stats))
    if not rows:
        rows.append(dict(box=number, parameter="(none)", low=np.nan, high=np.nan, values="",
                         **stats))
    return rows


def tradeoff_figure(found: Discovery):
    """Coverage against density along each box's peeling trajectory (plotly)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for trajectory in found.trajectories:
        number = int(trajectory["box"].iloc[0])
        fig.add_trace(go.Scatter(
            x=trajectory["coverage"], y=trajectory["density"], mode="lines+markers",
            name=f"box {number}",
            text=[f"{int(r)} restricted parameters" for r in trajectory["res_dim"]],
            hovertemplate="coverage %{x:.2f}<br>density %{y:.2f}<br>%{text}<extra></extra>",
        ))
        pick = trajectory[trajectory["chosen"]]
        fig.add_trace(go.Scatter(
            x=pick["coverage"], y=pick["density"], mode="markers", showlegend=False,
            marker=dict(size=14, symbol="star"), hoverinfo="skip",
        ))
    fig.update_layout(
        title=f"PRIM trade-off: {found.condition} "
        f"({found.cases_of_interest} of {found.cases} runs)",
        xaxis_title="coverage (share of cases of interest inside the box)",
        yaxis_title="density (share of the box's runs that are of interest)",
        xaxis_range=[0, 1.02], yaxis_range=[0, 1.02], template="plotly_white",
    )
    return fig
