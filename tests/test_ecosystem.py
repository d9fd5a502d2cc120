"""The package speaks its ecosystem's conventions: bundled scenarios by name, a symmetric
compare, --version, Mesa's batch_run and SolaraViz, a shadowing `sim` named in one line."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import ScenarioError, load_scenario
from sim.bundled import scenario_names, scenarios_dir, sweep_names
from sim.cli import app
from sim.compare import compare

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "population.taskers=1500", "--set", "weeks=20"]
runner = CliRunner()


def test_a_bundled_name_loads_the_same_scenario_as_its_file():
    assert load_scenario("local_minimum_wage") == load_scenario(
        ROOT / "scenarios" / "local_minimum_wage.yaml"
    )
    assert scenarios_dir() == ROOT / "scenarios"
    assert scenario_names()[0] == "baseline" and "us_federal_floor" in scenario_names()
    assert "floor_x_automation" in sweep_names()


def test_an_unknown_name_is_one_line_listing_the_bundled_ones():
    with pytest.raises(ScenarioError, match="'no_such_policy' is neither a file nor a bundled"):
        load_scenario("no_such_policy")
    result = runner.invoke(app, ["validate", "no_such_policy"])
    assert result.exit_code == 2 and "us_federal_floor" in result.output


def test_scenarios_list_show_and_copy(tmp_path):
    listed = runner.invoke(app, ["scenarios", "list"])
    assert listed.exit_code == 0 and "us_federal_floor" in listed.output
    shown = runner.invoke(app, ["scenarios", "show", "local_minimum_wage"])
    assert shown.output == (ROOT / "scenarios" / "local_minimum_wage.yaml").read_text()
    copied = runner.invoke(app, ["scenarios", "copy", "local_minimum_wage", str(tmp_path)])
    assert copied.exit_code == 0, copied.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["baseline.yaml", "local_minimum_wage.yaml"]
    copy = load_scenario(tmp_path / "local_minimum_wage.yaml")
    assert copy == load_scenario("local_minimum_wage")
    again = runner.invoke(app, ["scenarios", "copy", "local_minimum_wage", str(tmp_path)])
    assert again.exit_code == 2 and "not overwritten" in again.output


def test_version():
    from sim.results import package_version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"datalabour {package_version()}"


def test_compare_set_resizes_both_sides(tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "baseline", "local_minimum_wage", "--replicates", "2", *SMALL]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "comparison.json").read_text())
    for side in ("baseline", "reform"):
        assert payload[side]["population"]["taskers"] == 1500 and payload[side]["weeks"] == 20
    rows = payload["rows"]
    active = [r for r in rows if r["outcome"] == "active_taskers" and r["scope"] == "overall"]
    assert 0 < active[0]["baseline_mean"] <= 1500 and 0 < active[0]["reform_mean"] <= 1500


def test_compare_set_reform_changes_the_reform_only_and_size_must_match():
    args = ["compare", "baseline", "baseline", "--replicates", "2", *SMALL]
    resized = runner.invoke(app, [*args, "--set-reform", "population.taskers=1000"])
    assert resized.exit_code == 2
    assert "population.taskers: baseline 1500, reform 1000" in resized.output
    longer = runner.invoke(app, [*args, "--set-reform", "weeks=30"])
    assert longer.exit_code == 2 and "weeks: baseline 20, reform 30" in longer.output
    base = load_scenario("baseline", ["weeks=20"])
    with pytest.raises(ScenarioError, match="weeks: baseline 20, reform 104"):
        compare(base, load_scenario("local_minimum_wage"), replicates=2)


def test_mesa_batch_run_over_two_floor_values_reads_the_datacollector():
    import mesa

    from sim.model import LabourMarketModel

    params = {
        "scenario": "baseline",
        "population__taskers": 1000,
        "weeks": 6,
        "burn_in_weeks": 2,
        "policy__pay_floor__kind": "absolute",
        "policy__pay_floor__usd_per_hour": [0.5, 6.0],
    }
    rows = mesa.batch_run(
        LabourMarketModel, params, rng=[None], max_steps=1000, display_progress=False
    )
    assert len(rows) == 2
    assert all(r["Step"] == 6 for r in rows)  # `running` stopped each run at its horizon
    low, high = sorted(rows, key=lambda r: r["policy__pay_floor__usd_per_hour"])
    assert high["median_effective_hourly_pay_usd"] > low["median_effective_hourly_pay_usd"]
    assert {"active_taskers", "unpaid_share", "labels_human"} <= set(low)


def test_the_keyword_constructor_matches_the_scenario_object():
    from sim.model import LabourMarketModel

    by_name = LabourMarketModel(
        "baseline", seed=3, population__taskers=800, weeks=5, burn_in_weeks=1
    )
    scn = load_scenario("baseline", {"population.taskers": 800, "weeks": 5, "burn_in_weeks": 1})
    assert by_name.params == scn and by_name.seed_used == 3
    while by_name.running:
        by_name.step()
    assert by_name.week == 5
    with pytest.raises(ScenarioError, match="population.taskers"):
        LabourMarketModel(population__taskers=-1)


def test_solaraviz_sliders_rebuild_the_model(monkeypatch):
    pytest.importorskip("solara")
    import ipyvuetify as v
    import solara
    from mesa.visualization.solara_viz import ModelController, ModelCreator

    monkeypatch.chdir(ROOT)
    example = runpy.run_path(str(ROOT / "docs" / "solara_example.py"))
    model = solara.reactive(example["model"])

    @solara.component
    def Page():  # the controls of SolaraViz's sidebar, as it wires them
        params = solara.use_reactive({})
        ModelCreator(model, example["model_params"], model_parameters=params)
        ModelController(
            model,
            model_parameters=params,
            play_interval=solara.use_reactive(100),
            render_interval=solara.use_reactive(1),
            use_threads=solara.use_reactive(False),
        )

    _, rc = solara.render(Page(), handle_error=False)
    floor = [s for s in rc.find(v.Slider).widgets if "pay floor" in s.label]
    floor[0].v_model = 4.0
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rebuilt = model.value
    assert rebuilt is not example["model"]
    assert rebuilt.params.policy.pay_floor.usd_per_hour == 4.0
    assert rebuilt.params.population.taskers == 3000
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert rebuilt.week == 1 and len(rebuilt.datacollector.get_model_vars_dataframe()) == 1


def test_a_shadowing_sim_module_is_named_in_one_line(tmp_path):
    (tmp_path / "sim.py").write_text("x = 1\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    script = Path(sys.executable).parent / "datalabour"
    result = subprocess.run(
        [str(script), "--version"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert f"`import sim` loads {tmp_path / 'sim.py'}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def tiny_sweep(tmp_path: Path, runs: int) -> Path:
    spec = {
        "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "overrides": {"weeks": 6, "burn_in_weeks": 2, "population.taskers": 600},
        "seed": 3,
        "replicates": 1,
        "design": {
            "kind": "grid",
            "parameters": {"policy.max_monitoring": [0.2 * i for i in range(runs)]},
        },
        "outcomes": ["median_effective_hourly_pay_usd"],
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(spec))
    return path


def test_sweep_logs_a_progress_line_every_n_runs_when_not_a_terminal(tmp_path):
    args = ["sweep", str(tiny_sweep(tmp_path, 4)), "--out", str(tmp_path / "s"), "--workers", "1"]
    result = runner.invoke(app, [*args, "--log-every", "2"])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("tiny: ") and " runs," in x]
    assert [x.split(",")[0] for x in lines] == ["tiny: 2/4 runs", "tiny: 4/4 runs"]


@pytest.mark.slow
def test_run_sweep_uses_the_current_default_client_and_shows_its_dashboard(tmp_path):
    from distributed import Client, LocalCluster

    from sim.sweep import run_sweep

    links = []
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        report = run_sweep(
            tiny_sweep(tmp_path, 2),
            tmp_path / "s",
            progress=lambda status: links.append(status.dashboard_link),
        )
        assert report.done == 2
        assert client.dashboard_link and client.dashboard_link in links  # not a cluster of its own


@pytest.mark.slow
def test_the_embedded_cluster_prints_its_dask_dashboard_link(tmp_path):
    args = ["sweep", str(tiny_sweep(tmp_path, 2)), "--out", str(tmp_path / "s"), "--workers", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Dask dashboard: http://127.0.0.1:" in result.output


def test_dependencies_are_declared_exactly_as_imported():
    import ast
    from importlib.metadata import packages_distributions, requires

    from packaging.requirements import Requirement

    def name(dist: str) -> str:
        return dist.lower().replace("_", "-")

    ours = {"sim", "dashboard", "datalabour", "datalabour_dashboard"}
    modules = set()
    for path in [*ROOT.glob("sim/**/*.py"), *ROOT.glob("dashboard/*.py"), ROOT / "datalabour.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | ours
    dists = packages_distributions()
    imported = {name(d) for m in modules for d in dists.get(m, [m])}
    reqs = [Requirement(r) for r in requires("datalabour")]
    required = {name(r.name) for r in reqs if r.marker is None}
    optional = {name(r.name) for r in reqs if r.marker is not None}
    assert imported - required - optional == set()  # everything imported is declared
    # and nothing else, but for what mesa and distributed load without declaring it
    assert required - imported == {"networkx", "bokeh"}


def test_every_saved_parquet_carries_the_run_id_and_a_burn_in_flag(tmp_path):
    import pandas as pd

    import sim

    scn = load_scenario("baseline", {"population.taskers": 600, "weeks": 8, "burn_in_weeks": 3})
    result = sim.run(scn, seed=4)
    result.save(tmp_path)
    for name in ("weekly", "by_country", "by_platform"):
        frame = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert list(frame.columns[:3]) == ["scenario", "seed", "run_hash"]
        assert set(frame.scenario) == {"baseline"} and set(frame.seed) == {4}
        assert set(frame.run_hash) == {result.manifest["run_hash"]}
        assert (frame.burn_in == (frame.week < 3)).all() and frame.burn_in.any()


def test_progress_is_logged_in_lines_when_not_a_terminal():
    result = runner.invoke(app, ["run", "baseline", "--taskers", "600", "--weeks", "10"])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("running baseline: ")]
    assert lines == [f"running baseline: {w}/10" for w in range(1, 11)]
