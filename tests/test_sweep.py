"""Sweeps and sensitivity: validation, designs, seeds, the store, resume, failures, SALib.

Everything here runs in-process on tiny models (or an analytic stand-in for the model);
the Dask cluster tests live in test_sweep_dask.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim.results
import sim.sweep_plan
from sim import sensitivity, sweep
from sim.cli import app
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = {"weeks": 8, "burn_in_weeks": 2, "population.taskers": 300}


def write_sweep(tmp_path: Path, name: str = "s.yaml", **fields) -> Path:
    spec = {
        "base": str(BASELINE),
        "overrides": dict(TINY, **{"policy.pay_floor.kind": "absolute"}),
        "seed": 11,
        "replicates": 2,
        "design": {"kind": "grid", "parameters": {"policy.pay_floor.usd_per_hour": [0, 3]}},
        "outcomes": ["median_effective_hourly_pay_usd", "labels_human"],
    }
    spec.update(fields)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")))
def test_shipped_sweeps_are_valid(path: Path) -> None:
    p = sweep.plan(path)
    assert p.runs and len({r.hash for r in p.runs}) == len(p.runs)


def test_floor_x_automation_is_shipped() -> None:
    spec = sweep.read_sweep(ROOT / "scenarios" / "sweeps" / "floor_x_automation.yaml")
    params = set(spec.design.parameters)
    assert "policy.pay_floor.usd_per_hour" in params
    assert "technology.ai_cost_decline_per_year" in params
    assert any("monitoring" in p for p in params)
    sobol = [sweep.read_sweep(p) for p in (ROOT / "scenarios" / "sweeps").glob("*.yaml")]
    assert any(s.design.kind == "sobol" for s in sobol)


BAD = [
    ({"design": {"kind": "grid", "parameters": {"policy.pay_flor.usd_per_hour": [1]}}},
     "'pay_flor' is not a field of policy"),
    ({"design": {"kind": "grid", "parameters": {"policy.pay_floor.compliance": [0.5, 1.5]}}},
     "policy.pay_floor.compliance: 1.5 is not allowed"),
    ({"design": {"kind": "grid", "parameters": {"weeks": []}}}, "non-empty list"),
    ({"design": {"kind": "lhs", "samples": 4,
                 "parameters": {"behaviour.monitoring_stress": {"low": 0.5, "high": 0.1}}}},
     "low 0.5 >= high 0.1 is not allowed; expected low < high"),
    ({"design": {"kind": "sobol", "samples": 8,
                 "parameters": {"behaviour.monitoring_stress": [0.1, 0.2]}}},
     "sobol expects bounds {low: L, high: H}"),
    ({"design": {"kind": "sobol", "samples": 0,
                 "parameters": {"behaviour.monitoring_stress": {"low": 0.1, "high": 0.2}}}},
     "design.samples: 0 is not allowed"),
    ({"design": {"kind": "sobol",
                 "parameters": {"behaviour.monitoring_stress": {"low": 0.1, "high": 0.2}}}},
     "design.samples: required"),
    ({"design": {"kind": "sobol", "samples": 10,
                 "parameters": {"behaviour.monitoring_stress": {"low": 0.1, "high": 0.2}}}},
     "power of 2"),
    ({"design": {"kind": "morris", "samples": 4,
                 "parameters": {"policy.pay_floor.kind": {"low": 0, "high": 1}}}},
     "needs a numeric parameter"),
    ({"design": {"kind": "grid", "parameters": {"behaviour.monitoring_stress": {"low": 0,
                                                                                "high": 1}}}},
     "a grid expects a non-empty list"),
    ({"design": {"kind": "factorial", "parameters": {"weeks": [4]}}}, "design.kind"),
    ({"overrides": {"policy.pay_floor.kindd": "absolute"}}, "overrides:"),
    ({"outcomes": ["no_such_outcome"]}, "outcomes.0: 'no_such_outcome' is not allowed"),
    ({"weekly": ["labels_humans"]}, "weekly.0: 'labels_humans' is not allowed"),
    ({"replicates": 0}, "replicates: 0 is not allowed"),
    ({"base": "missing.yaml"}, "base: scenario file"),
    ({"design": {"kind": "grid", "parameters": {"burn_in_weeks": [1, 50]}}},
     "burn_in_weeks: 50 is not allowed"),
    ({"colour": "red"}, "colour: unknown field 'colour' in sweep file"),
]


@pytest.mark.parametrize(("fields", "message"), BAD)
def test_bad_sweep_files_raise_one_line(tmp_path: Path, fields: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        sweep.plan(write_sweep(tmp_path, **fields))
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_cli_bad_sweep_exits_2_before_anything_runs(tmp_path: Path) -> None:
    bad = write_sweep(tmp_path, design={"kind": "sobol", "samples": 0, "parameters": {
        "behaviour.monitoring_stress": {"low": 0.1, "high": 0.2}}})
    out = tmp_path / "store"
    res = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    assert "design.samples: 0 is not allowed" in res.output
    assert not out.exists()


def test_seeds_come_from_sweep_seed_point_and_replicate(tmp_path: Path) -> None:
    p = sweep.plan(write_sweep(tmp_path))
    assert [(r.point, r.replicate) for r in p.runs] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(r.seed == sweep.run_seed(11, r.point, r.replicate) for r in p.runs)
    assert len({r.seed for r in p.runs}) == 4
    again = sweep.plan(write_sweep(tmp_path, name="t.yaml"))
    assert [r.hash for r in again.runs] == [r.hash for r in p.runs]
    assert again.digest == p.digest
    expected = sim.results.manifest(sim.load_scenario(p.runs[0].scenario), p.runs[0].seed)
    assert p.runs[0].hash == expected["run_hash"]


@pytest.mark.parametrize(("kind", "samples", "points"), [
    ("lhs", 7, 7), ("sobol", 8, 8 * (3 + 2)), ("morris", 3, 3 * (3 + 1)),
])
def test_sampled_designs(tmp_path: Path, kind: str, samples: int, points: int) -> None:
    params = {
        "behaviour.monitoring_stress": {"low": 0.0, "high": 0.5},
        "policy.max_monitoring": {"low": 0.2, "high": 1.0},
        "population.taskers": {"low": 200, "high": 400},
    }
    p = sweep.plan(write_sweep(tmp_path, replicates=1,
                               design={"kind": kind, "samples": samples, "parameters": params}))
    assert len(p.points) == points == len(p.matrix)
    assert p.columns == {"behaviour.monitoring_stress": "float64",
                         "policy.max_monitoring": "float64", "population.taskers": "int64"}
    for pt in p.points:
        assert isinstance(pt["population.taskers"], int) and 200 <= pt["population.taskers"] <= 400
        assert 0.0 <= pt["behaviour.monitoring_stress"] <= 0.5
    assert p.manifest()["design"]["problem"]["names"] == list(params)


def test_sweep_store_load_and_resume(tmp_path: Path) -> None:
    spec = write_sweep(tmp_path, weekly=["labels_human"])
    store = tmp_path / "store"
    seen = []
    report = sweep.run_sweep(spec, store, workers=1, progress=lambda s: seen.append(s.done))
    assert (report.done, report.failed, report.skipped) == (4, 0, 0)
    assert seen == [0, 1, 2, 3, 4]
    df = sweep.load(store)
    assert len(df) == 4
    assert list(df[["point", "replicate"]].itertuples(index=False, name=None)) == [
        (0, 0), (0, 1), (1, 0), (1, 1)]
    assert df["policy.pay_floor.usd_per_hour"].tolist() == [0, 0, 3, 3]
    assert df["error"].isna().all()
    assert df["labels_human"].gt(0).all()
    assert all(len(w) == TINY["weeks"] for w in df["weekly.labels_human"])
    manifest = json.loads((store / "sweep.json").read_text())
    assert {r["hash"] for r in manifest["runs"]} == {p.stem for p in (store / "runs").iterdir()}

    with pytest.raises(ScenarioError, match="already holds a sweep"):
        sweep.run_sweep(spec, store, workers=1)
    # a lost file and a stale temporary file: resume redoes exactly that run and cleans up
    victim = store / "runs" / f"{df.run_hash[2]}.parquet"
    victim.unlink()
    (store / "runs" / f".{df.run_hash[2]}.123.tmp").write_bytes(b"partial")
    again = sweep.run_sweep(spec, store, workers=1, resume=True)
    assert (again.done, again.skipped) == (1, 3)
    assert sorted(p.name for p in (store / "runs").iterdir()) == sorted(
        f"{h}.parquet" for h in df.run_hash)
    pd.testing.assert_frame_equal(sweep.load(store), df, check_exact=True)

    changed = write_sweep(tmp_path, name="changed.yaml", seed=12)
    with pytest.raises(ScenarioError, match="holds a different sweep"):
        sweep.run_sweep(changed, store, workers=1, resume=True)


def test_store_reads_with_duckdb_and_pandas(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    store = tmp_path / "store"
    sweep.run_sweep(write_sweep(tmp_path), store, workers=1)
    direct = pd.read_parquet(store / "runs")
    assert len(direct) == 4 and "labels_human" in direct
    query = (
        f"select count(*), avg(labels_human) from read_parquet('{store}/runs/*.parquet') "
        'where "policy.pay_floor.usd_per_hour" = 3'
    )
    [(n, mean)] = duckdb.connect().execute(query).fetchall()
    loaded = sweep.load(store)
    assert n == 2
    floor3 = loaded[loaded["policy.pay_floor.usd_per_hour"] == 3]
    assert math.isclose(mean, floor3.labels_human.mean())


def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch) -> None:
    p = sweep.plan(write_sweep(tmp_path))
    real = sim.results.run
    bad_seed = p.runs[1].seed

    def flaky(scenario, seed=None, progress=None):
        if seed == bad_seed:
            raise FloatingPointError("the model diverged")
        return real(scenario, seed)

    monkeypatch.setattr(sim.results, "run", flaky)
    report = sweep.run_sweep(p, tmp_path / "store", workers=1)
    assert (report.done, report.failed, report.lost) == (3, 1, 0)
    df = sweep.load(tmp_path / "store")
    assert len(df) == 4
    row = df[df.seed == bad_seed].iloc[0]
    assert row.error == "FloatingPointError: the model diverged"
    assert math.isnan(row.labels_human)
    assert df[df.seed != bad_seed].error.isna().all()


def test_resume_retry_failed_reruns_only_the_runs_that_raised(tmp_path, monkeypatch) -> None:
    p = sweep.plan(write_sweep(tmp_path))
    real = sim.results.run
    bad_seed = p.runs[2].seed
    calls = []

    def flaky(scenario, seed=None, progress=None):
        calls.append(seed)
        if seed == bad_seed:
            raise MemoryError("out of memory")
        return real(scenario, seed)

    monkeypatch.setattr(sim.results, "run", flaky)
    sweep.run_sweep(p, tmp_path / "store", workers=1)
    again = sweep.run_sweep(p, tmp_path / "store", workers=1, resume=True)
    assert (again.skipped, again.done, again.failed) == (4, 0, 0)  # plain resume: all kept
    monkeypatch.setattr(sim.results, "run", real)
    fixed = sweep.run_sweep(p, tmp_path / "store", workers=1, resume=True, retry_failed=True)
    assert (fixed.skipped, fixed.done, fixed.failed) == (3, 1, 0)
    df = sweep.load(tmp_path / "store")
    assert len(df) == 4 and df.error.isna().all()
    assert calls.count(bad_seed) == 1


def test_cli_retry_failed_needs_resume(tmp_path) -> None:
    res = CliRunner().invoke(app, ["sweep", str(write_sweep(tmp_path)), "--out",
                                   str(tmp_path / "s"), "--retry-failed"])
    assert res.exit_code == 2
    assert "--retry-failed" in res.output and "--resume" in res.output


def test_cli_failed_runs_exit_1(tmp_path, monkeypatch) -> None:
    def broken(scenario, seed=None, progress=None):
        raise RuntimeError("boom")

    spec = write_sweep(tmp_path)
    sweep.plan(spec)  # learn the outcome keys with the real model first
    monkeypatch.setattr(sim.results, "run", broken)
    res = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "s"),
                                   "--workers", "1"])
    assert res.exit_code == 1, res.output
    assert "4 failed" in res.output


# ---- sensitivity on an analytic model (Ishigami) -------------------------------------------
ISHIGAMI = {
    "behaviour.monitoring_stress": {"low": 0.0, "high": 1.0},
    "behaviour.llm_deterrence": {"low": 0.0, "high": 1.0},
    "behaviour.hourly_shirking": {"low": 0.0, "high": 1.0},
}


@pytest.fixture
def ishigami(monkeypatch):
    """Replace the model by the Ishigami function of three [0, 1] behaviour parameters."""

    def run(scenario, seed=None, progress=None):
        b = scenario.behaviour
        x1, x2, x3 = (-math.pi + 2 * math.pi * u for u in (
            b.monitoring_stress, b.llm_deterrence, b.hourly_shirking))
        y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
        return SimpleNamespace(summary={"overall": {"y": y, "x3": x3}},
                               weekly=pd.DataFrame({"week": [0], "y": [y]}))

    monkeypatch.setattr(sim.results, "run", run)
    monkeypatch.setattr(sim.sweep_plan, "_known_keys", lambda base: ({"y", "x3"}, {"y"}))


def test_sobol_indices_of_ishigami(tmp_path: Path, ishigami) -> None:
    spec = write_sweep(tmp_path, replicates=1, outcomes=["y"],
                       design={"kind": "sobol", "samples": 256, "parameters": ISHIGAMI})
    sweep.run_sweep(spec, tmp_path / "store", workers=1)
    table = sensitivity.analyse(tmp_path / "store", num_resamples=100).set_index("parameter")
    st, s1 = table["ST"], table["S1"]
    # analytic: ST = 0.56, 0.44, 0.24 and S1 = 0.31, 0.44, 0.00
    assert st.idxmax() == "behaviour.monitoring_stress"
    assert abs(st["behaviour.llm_deterrence"] - 0.44) < 0.1
    assert abs(s1["behaviour.hourly_shirking"]) < 0.1 < st["behaviour.hourly_shirking"]
    assert (table["ST_conf"] > 0).all()
    csv, html = sensitivity.write(table.reset_index(), tmp_path / "out")
    assert "plotly" in html.read_text()[:100_000]
    assert len(pd.read_csv(csv)) == 3


def test_cli_sensitivity_morris(tmp_path: Path, ishigami) -> None:
    spec = write_sweep(tmp_path, replicates=2, outcomes=["y", "x3"],
                       design={"kind": "morris", "samples": 20, "parameters": ISHIGAMI})
    store = tmp_path / "store"
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(spec), "--out", str(store), "--workers", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["sensitivity", str(store), "--outcome", "x3"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(store / "sensitivity" / "sensitivity.csv").set_index("parameter")
    assert table["mu_star"].idxmax() == "behaviour.hourly_shirking"
    assert np.allclose(table.loc[["behaviour.monitoring_stress", "behaviour.llm_deterrence"],
                                 "mu_star"], 0)
    assert (store / "sensitivity" / "sensitivity.html").exists()
    res = runner.invoke(app, ["sensitivity", str(store), "--outcome", "nope", "--overwrite"])
    assert res.exit_code == 2 and "--outcome: 'nope' is not allowed" in res.output


def test_sensitivity_needs_a_sobol_or_morris_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    sweep.run_sweep(write_sweep(tmp_path), store, workers=1)
    with pytest.raises(ScenarioError, match="needs a sobol or morris sweep"):
        sensitivity.analyse(store)
