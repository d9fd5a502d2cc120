"""The ABC calibration's report: posterior predictive per target, prior vs posterior per parameter.

Writes calibration.json, calibration.md and a plotly chart (HTML) of prior against posterior.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import load_targets, statistic
from sim.calibration_abc import effective_sample_size, weighted_quantile
from sim.cluster import dask_client
from sim.priors import Prior
from sim.scenario import Scenario
from sim.scenario_files import load_scenario

# a parameter whose 90% posterior interval is under this share of its prior's is "identified";
# over STAYS it "stays at its prior" (a reporting convention, said in calibration.md)
IDENTIFIED = 0.6
STAYS = 0.85


def run_draws(
    scenario: Scenario,
    particles: list[dict[str, float]],
    seeds: list[int],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Any]:
    """Run the scenario once per (particle, seed) pair on the project's Dask set-up."""
    from distributed import as_completed

    from sim.results import run

    jobs = [load_scenario(scenario, p) for p in particles]
    with dask_client(None, scheduler, workers) as client:
        futures = {client.submit(run, s, seed, pure=False): i
                   for i, (s, seed) in enumerate(zip(jobs, seeds, strict=True))}
        out: list[Any] = [None] * len(jobs)
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            if progress:
                progress()
    return out


def predictive(results: list[Any], targets: list[dict[str, Any]] | None = None) -> list[dict]:
    """Per target: the posterior predictive mean, 90% interval and pass (mean in range)."""
    rows = []
    for t in targets or load_targets():
        values = np.array([statistic(r, t["statistic"]) for r in results], dtype=float)
        lo, hi = t["accepted"]
        mean = float(values.mean())
        rows.append({
            "target": t["name"], "statistic": t["statistic"], "published": t["published"],
            "accepted_low": lo, "accepted_high": hi, "predictive_mean": mean,
            "predictive_p05": float(np.quantile(values, 0.05)),
            "predictive_p95": float(np.quantile(values, 0.95)),
            "share_of_draws_in_range": float(((values >= lo) & (values <= hi)).mean()),
            "source": t["source"], "pass": bool(lo <= mean <= hi),
        })
    return rows


def parameter_table(posterior: pd.DataFrame, priors: list[Prior]) -> list[dict[str, Any]]:
    """Prior vs posterior of each parameter, and whether the targets identify it."""
    w = posterior["weight"].to_numpy(dtype=float)
    rows = []
    for p in priors:
        x = posterior[p.key].to_numpy(dtype=float)
        dist = p.scipy()
        prior_width = float(dist.ppf(0.95) - dist.ppf(0.05))
        q05, q50, q95 = (weighted_quantile(x, w, q) for q in (0.05, 0.5, 0.95))
        ratio = (q95 - q05) / prior_width if prior_width > 0 else 1.0
        verdict = ("identified" if ratio < IDENTIFIED else
                   "stays at its prior" if ratio > STAYS else "weakly narrowed")
        rows.append({
            "parameter": p.name, "paths": list(p.paths), "prior": p.distribution,
            "prior_low": p.low, "prior_high": p.high, "prior_median": float(dist.ppf(0.5)),
            "posterior_mean": float(np.average(x, weights=w)), "posterior_median": q50,
            "posterior_p05": q05, "posterior_p95": q95,
            "width_ratio_90": round(float(ratio), 3), "verdict": verdict, "source": p.source,
        })
    return rows


def prior_posterior_figure(posterior: pd.DataFrame, priors: list[Prior]) -> Any:
    """One panel per parameter: the prior density and the weighted posterior histogram."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cols = 3
    rows = -(-len(priors) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p.name for p in priors])
    w = posterior["weight"].to_numpy(dtype=float)
    for i, p in enumerate(priors):
        r, c = i // cols + 1, i % cols + 1
        grid = np.linspace(p.low, p.high, 200)
        fig.add_trace(go.Histogram(
            x=posterior[p.key], y=w, histfunc="sum", histnorm="probability density",
            nbinsx=25, name="posterior", marker_color="#1f77b4", opacity=0.7,
            showlegend=i == 0), row=r, col=c)
        fig.add_trace(go.Scatter(
            x=grid, y=p.scipy().pdf(grid), name="prior", line={"color": "#d62728"},
            showlegend=i == 0), row=r, col=c)
    fig.update_layout(height=280 * rows, title="Prior (line) and ABC-SMC posterior (bars)")
    return fig


def write_report(
    out: Path,
    record: dict[str, Any],
    posterior: pd.DataFrame,
    priors: list[Prior],
    predictive_rows: list[dict],
    doc: Path | None = None,
) -> dict[str, Any]:
    """calibration.json, calibration.md and calibration_parameters.html in `out` (and `doc`)."""
    out.mkdir(parents=True, exist_ok=True)
    report = {
        **record,
        "particles": len(posterior),
        "effective_sample_size": effective_sample_size(posterior["weight"].to_numpy()),
        "parameters": parameter_table(posterior, priors),
        "targets": predictive_rows,
        "all_pass": all(r["pass"] for r in predictive_rows),
    }
    (out / "calibration.json").write_text(json.dumps(report, indent=2, default=str))
    fig = prior_posterior_figure(posterior, priors)
    chart = "calibration_parameters.html"
    fig.write_html(out / chart, include_plotlyjs="cdn")
    (out / "calibration.md").write_text(markdown(report, chart))
    if doc is not None:
        doc.parent.mkdir(parents=True, exist_ok=True)
        fig.write_html(doc.parent / chart, include_plotlyjs="cdn")
        doc.write_text(markdown(report, chart))
    return report


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def markdown(report: dict[str, Any], chart: str) -> str:
    """The calibration report as Markdown (generated; see the command at its top)."""
    s = report["settings"]
    gens = report["generations"]
    ident = [p["parameter"] for p in report["parameters"] if p["verdict"] == "identified"]
    weak = [p["parameter"] for p in report["parameters"] if p["verdict"] == "weakly narrowed"]
    stay = [p["parameter"] for p in report["parameters"] if p["verdict"] == "stays at its prior"]
    lines = [
        "# Calibration of the baseline: ABC-SMC posterior",
        "",
        "Generated by `datalabour calibrate --method abc` (see "
        "[How to regenerate](#how-to-regenerate)); do not edit by hand.",
        "",
        "The baseline's free parameters (`sim/data/priors.yaml`) are inferred from the published "
        "targets (`sim/data/targets.yaml`) by approximate Bayesian computation with sequential "
        "Monte Carlo (ABC-SMC, pyabc). A particle is one set of parameter values; it is run as "
        "dotted overrides of `scenarios/baseline.yaml`, and its distance is the root mean square "
        "of each target's deviation from the published figure, divided by the distance from "
        "the figure to the edge of its accepted range on that side (a target counts by its "
        "uncertainty). The first generation accepts prior draws closer than its tolerance "
        "(`--first-epsilon`, else the median distance); each later one accepts particles closer "
        "than the median distance of the previous one.",
        "",
        "pyabc samples each prior's quantile on the probit scale (a uniform quantile is a "
        "standard normal score, so the prior is the same). A new generation's proposals come "
        "from one multivariate normal with the last generation's weighted mean and "
        f"{s.get('proposal_scale', 1.0):g} times its weighted covariance (`sim.abc_proposal`), "
        "not pyabc's default kernel around each particle: with "
        f"{len(report['parameters'])} parameters and a few hundred "
        "particles that mixture made the importance weights collapse (an effective sample size "
        "of 26 of 300 after one generation, 11 with a narrower kernel), while parameters the "
        "targets do not identify stay standard normals that one normal matches.",
        "",
    ]
    fixed = math.isfinite(s.get("first_epsilon", math.inf))  # a set first tolerance
    if len(gens) == 1 and fixed:
        lines += [
            f"**One generation at a fixed tolerance ({s['first_epsilon']:g}): rejection ABC** "
            "(Pritchard et al. 1999), so every particle weighs the same. A fixed tolerance is "
            "less sharp than later SMC generations' but its particles are exact draws from the "
            "ABC posterior at that tolerance.",
            "",
        ]
    lines += [
        "## The run",
        "",
        f"- {report['method']}; population {s['population_size']} particles per generation, "
        f"{len(gens)} generations (at most {s['generations']}; stop at epsilon "
        f"{s['minimum_epsilon']}), {report['total_simulations']} simulations, "
        f"{s['taskers']:,} potential taskers per run (tests/validation/test_calibration.py "
        "shows the targets at this size match 20,000 within seed noise), root seed "
        f"{s['root_seed']}.",
        f"- Wall time {sum(g.get('wall_minutes', 0) for g in gens):.1f} min for the "
        f"generations on this machine (2 cores, shared); history `{report['history']}` run "
        f"{report['run_id']}.",
        f"- Posterior: {report['particles']} particles, effective sample size "
        f"{report['effective_sample_size']:.0f}; shipped as `sim/data/posterior.parquet`.",
        "",
        "| generation | epsilon | simulations | acceptance | ESS |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {g['generation']} | {g['epsilon']:.3g} | {g['simulations']} | "
        f"{g['acceptance_rate']:.2f} | {g['effective_sample_size']:.0f} |" for g in gens
    ]
    lines += [
        "",
        "## Targets: posterior predictive",
        "",
        "Runs at particles drawn by weight, with fresh seeds; a target passes when the predictive "
        "mean is inside its accepted range.",
        "",
        "| target | published | accepted | predictive mean | 90% interval | draws in range "
        "| pass | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['target']} | {r['published']:g} | {r['accepted_low']:g} to {r['accepted_high']:g}"
        f" | {_fmt(r['predictive_mean'])} | {_fmt(r['predictive_p05'])} to "
        f"{_fmt(r['predictive_p95'])} | {r['share_of_draws_in_range']:.0%} | "
        f"{'pass' if r['pass'] else 'FAIL'} | {r['source']} |" for r in report["targets"]
    ]
    lines += [
        "",
        "## Parameters: prior vs posterior",
        "",
        f"Chart: [{chart}]({chart}) (prior density as a line, weighted posterior as bars). "
        f"A parameter is *identified* when its 90% posterior interval is under {IDENTIFIED:.0%} "
        f"of its prior's, *stays at its prior* when over {STAYS:.0%}, and is *weakly narrowed* "
        "in between.",
        "",
        "| parameter | prior | posterior median | posterior 90% | width vs prior | verdict |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {p['parameter']} (`{p['paths'][0]}`{' ...' if len(p['paths']) > 1 else ''}) | "
        f"{p['prior']} {p['prior_low']:g} to {p['prior_high']:g} | "
        f"{_fmt(p['posterior_median'])} | {_fmt(p['posterior_p05'])} to "
        f"{_fmt(p['posterior_p95'])} | {p['width_ratio_90']:.2f} | {p['verdict']} |"
        for p in report["parameters"]
    ]
    lines += [
        "",
        "In plain words: the targets identify " + (", ".join(ident) or "no parameter") + "; "
        + ("they narrow " + ", ".join(weak) + " a little; " if weak else "")
        + "and " + (", ".join(stay) if stay else "no parameter") + " "
        + ("stay" if len(stay) != 1 else "stays") + " at the prior: "
        "the targets carry no information about "
        + ("them" if len(stay) != 1 else "it")
        + ", and results that depend on them rest on the prior's range.",
        "",
        "## The baseline's values",
        "",
        "`scenarios/baseline.yaml` takes each parameter's posterior median (the column "
        "*posterior median* above; a prior with several paths sets them all). "
        "`datalabour compare --ensemble N` runs a policy comparison over N particles drawn from "
        "the posterior, so a reported effect carries this uncertainty, not only seed noise.",
        "",
        "## How to regenerate",
        "",
        "```bash",
        f"datalabour calibrate scenarios/baseline.yaml --method abc --population "
        f"{s['population_size']} --generations {s['generations']} --taskers {s['taskers']} "
        + (f"--first-epsilon {s['first_epsilon']:g} " if fixed else "")
        + f"--min-epsilon {s['minimum_epsilon']:g} "
        + f"--proposal-scale {s.get('proposal_scale', 1.0):g} \\",
        "    --posterior sim/data/posterior.parquet --out results/calibration --doc "
        "docs/calibration.md",
        "datalabour validate-facts --doc docs/validation.md",
        "```",
        "",
        "The history database lets an interrupted run resume: the same command continues from "
        "the last finished generation. `--scheduler ADDR` runs the simulations on a Dask "
        "cluster instead of the local one. pyabc seeds its workers from the operating system, "
        "so which particles are proposed is not reproducible run to run; each simulation is "
        "(its seed is a hash of the particle's values and the root seed), and so is everything "
        "computed from the shipped posterior. `datalabour calibrate --method replicates` still "
        "checks one parameter set (the baseline) against the targets with several seeds.",
    ]
    return "\n".join(lines) + "\n"
