"""The dashboard's parts without Streamlit: schema widgets, views, chart builders, the CLI line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from dashboard import charts, money_charts, time_charts
from dashboard.runs import CACHE, compare_cached, run_key
from dashboard.schema import (
    ADVANCED,
    BASELINE,
    LEVERS,
    RUN_SETTINGS,
    baseline_sources,
    field_spec,
    flatten_diff,
    get_path,
)
from dashboard.side_by_side import SIDE_OUTCOMES, side_figures
from dashboard.state import View, build, cli_command, normalise, read_upload, view_from_upload
from dashboard.tables import calibration_frame, parameter_differences, weekly_long
from sim.compare import paired_table
from sim.scenario import ScenarioError
from sim.scenario_files import apply_overrides

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"population.taskers": 2000, "weeks": 30, "burn_in_weeks": 5}


@pytest.fixture(scope="module")
def computed(monkeypatch_module):
    view = View(reform={"policy.pay_floor.kind": "local_minimum_wage"}, shared=SMALL, replicates=2)
    baseline, reform = build(view)
    return view, baseline, reform, compare_cached(baseline, reform, view.replicates)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("DATALABOUR_DASHBOARD_WORKERS", "1")
    yield mp
    mp.undo()


@pytest.mark.parametrize("path", LEVERS + RUN_SETTINGS + ADVANCED)
def test_every_widget_comes_from_the_schema_with_description_bounds_and_source(path):
    spec = field_spec(path)
    assert spec.label and spec.description
    assert path in spec.help and "Default: " in spec.help and "no source given" not in spec.help
    value = get_path(sim.load_scenario(BASELINE).to_dict(), path)
    if spec.kind == "choice":
        assert value in spec.options
    elif spec.kind in ("int", "float") and value is not None:
        assert spec.minimum is None or value >= spec.minimum
        assert spec.maximum is None or value <= spec.maximum


def test_widget_labels_carry_units_and_bounds():
    assert "USD per hour" in field_spec("policy.pay_floor.usd_per_hour").label
    monitoring = field_spec("policy.max_monitoring")
    assert (monitoring.minimum, monitoring.maximum) == (0.0, 1.0)
    assert field_spec("policy.max_fee_share").optional
    assert field_spec("policy.pay_floor.kind").options == (
        "none",
        "absolute",
        "local_minimum_wage",
        "ppp_indexed",
        "ppp_uniform",
    )
    assert "Siegel" in field_spec("behaviour.monitoring_stress").help


def test_sources_are_read_from_the_comments_of_the_baseline_file():
    sources = baseline_sources()
    assert "Horton & Chilton" in sources["population.reservation_wage_sigma"]
    assert "mturk.com" in sources["platforms.open_marketplace.fee_share"]


def test_a_diff_applied_as_overrides_gives_back_the_scenario():
    base = sim.load_scenario(BASELINE)
    other = sim.load_scenario(
        base,
        {
            "platforms.crowd_platform.monitoring": 0.7,
            "policy.pay_mode": "hourly",
            "countries": ["USA", "GBR", "IND", "KEN"],
            "platforms.managed_vendor.countries_served": "all",
        },
    )
    diff = flatten_diff(base.to_dict(), other.to_dict())
    assert diff["platforms.crowd_platform.monitoring"] == 0.7
    assert sim.load_scenario(apply_overrides(base.to_dict(), diff)) == other


def test_normalise_drops_no_op_overrides_and_moves_run_settings_to_both_runs():
    view = normalise(
        View(reform={"policy.pay_floor.kind": "none", "weeks": 30, "policy.paid_rejections": True})
    )
    assert view.reform == {"policy.paid_rejections": True}
    assert view.shared == {"weeks": 30}


def test_an_upload_keeps_the_run_settings_it_does_not_set():
    current = View(shared=SMALL, replicates=3)
    scenario, explicit = read_upload(
        "r.yaml", b"extends: baseline.yaml\nweeks: 40\npolicy: {paid_rejections: true}\n"
    )
    view = view_from_upload(scenario, explicit, current)
    assert view.shared == {**SMALL, "weeks": 40}
    assert view.reform == {"policy.paid_rejections": True}
    with pytest.raises(ScenarioError, match="line 2, column 1: YAML syntax error"):
        read_upload("bad.yaml", b"policy: [\n")


def test_runs_are_cached_by_scenario_and_seed(computed):
    _, baseline, reform, result = computed
    comp = result.comparison
    for run, seed in zip(comp.baseline_runs, comp.seeds, strict=True):
        assert CACHE.get(run_key(baseline, seed)) is run
    again = compare_cached(baseline, reform, 2)
    assert again.new_runs == 0 and again.cached_runs == 4
    pd.testing.assert_frame_equal(again.comparison.table, comp.table)


def test_parallel_runs_equal_runs_in_this_process(computed, monkeypatch):
    _, baseline, _, result = computed
    monkeypatch.setenv("DATALABOUR_DASHBOARD_WORKERS", "2")
    scenario = sim.load_scenario(baseline, {"behaviour.look_again_probability": 0.2})
    from dashboard.runs import POOL

    seeds = result.comparison.seeds
    parallel = {s: POOL.submit(scenario, s, "test") for s in seeds}
    for s in seeds:
        alone = sim.run(scenario, s)
        pd.testing.assert_frame_equal(parallel[s].result().weekly, alone.weekly)


def test_a_provisional_comparison_comes_once_from_the_first_paired_replicates(computed):
    _, baseline, _, _ = computed
    base = sim.load_scenario(baseline, {"weeks": 12, "population.taskers": 1000})
    reform = sim.load_scenario(base, {"policy.paid_rejections": True})
    seen = []
    full = compare_cached(base, reform, 8, provisional=seen.append).comparison
    [early] = seen
    assert early.seeds == full.seeds[:4]  # runs in this process finish in seed order
    pd.testing.assert_frame_equal(
        early.table, paired_table(full.baseline_runs[:4], full.reform_runs[:4])
    )
    assert len(full.seeds) == 8
    seen.clear()
    compare_cached(base, reform, 8, provisional=seen.append)  # all cached: nothing provisional
    assert not seen


def test_chart_builders_draw_the_comparison(computed):
    view, baseline, reform, result = computed
    comp = result.comparison
    t = comp.table
    names = {"KEN": "Kenya"}
    fig = charts.country_figure(t, "mean_effective_hourly_pay_usd", names, mark_wages=True)
    trace_names = [tr.name for tr in fig.data]
    assert {"baseline", "reform", "local minimum wage", "reform pay floor"} <= set(trace_names)
    reform_bar = next(tr for tr in fig.data if tr.name == "reform")
    ken = list(reform_bar.y).index("Kenya (KEN)")
    row = t[(t.scope == "country") & (t.group == "KEN")]
    mean = row[row.outcome == "mean_effective_hourly_pay_usd"].reform_mean.iloc[0]
    plr = row[row.outcome == "price_level_ratio"].baseline_mean.iloc[0]
    assert reform_bar.x[ken] == pytest.approx(mean)
    ppp = charts.country_figure(t, "mean_effective_hourly_pay_ppp_usd", names, ppp=True)
    reform_ppp = next(tr for tr in ppp.data if tr.name == "reform")
    assert reform_ppp.x[list(reform_ppp.y).index("Kenya (KEN)")] == pytest.approx(mean / plr)
    assert charts.distribution_figure(t, names).data
    weekly = time_charts.weekly_figure(
        comp.baseline_runs,
        comp.reform_runs,
        [("labels_human", "human"), ("labels_ai", "AI")],
        "labels",
        burn_in_weeks=5,
    )
    assert len(weekly.data) == 8  # 2 arms x 2 series x (band + line)
    flow = money_charts.money_flow_figure(t)
    cents = np.add.reduce([np.array(tr.x) for tr in flow.data])
    assert cents == pytest.approx([100, 100])
    assert money_charts.money_change_figure(t).data and money_charts.money_sankey(t, names).data


def test_panels_for_narrow_screens_draw_what_the_one_figure_draws(computed):
    """The dashboard's two by-country panels carry the brief's figure's traces; panels side
    by side share a title block and height; no title line is wider than a phone's chart."""
    comp = computed[3].comparison
    names = {"KEN": "Kenya"}
    key = "mean_effective_hourly_pay_usd"
    whole = charts.country_figure(comp.table, key, names, mark_wages=True)
    levels, change = charts.country_panels(
        comp.table, key, names, mark_wages=True, title="A title long enough to need three "
        "lines on a phone, with each country's minimum wage and floor"
    )
    assert [t.name for t in levels.data + change.data] == [t.name for t in whole.data]
    for mine, theirs in zip(levels.data + change.data, whole.data, strict=True):
        assert list(mine.x) == list(theirs.x) and list(mine.y) == list(theirs.y)
    assert levels.layout.title.text.count("<br>") == 2  # wrapped, 3 lines
    assert change.layout.margin.t == levels.layout.margin.t > whole.layout.margin.t
    assert change.layout.height == levels.layout.height
    for fig in (levels, change):
        charts.with_note(fig, "local_minimum_wage vs baseline · 2026-01-01 · 2,000 taskers, "
                              "30 weeks, 2 replicates")
        lines = fig.layout.title.text.split("<br>")
        notes = fig.layout.title.subtitle.text.split("<br>")
        assert max(map(len, lines)) <= charts.TITLE_CHARS and len(notes) == 2
        assert max(map(len, notes)) <= charts.NOTE_CHARS
    assert levels.layout.margin.t == change.layout.margin.t
    side = side_figures({"a": comp, "b": comp}, ["a", "b"])
    assert len(side) == len(SIDE_OUTCOMES)
    assert len({(f.layout.margin.t, f.layout.height) for f in side}) == 1  # rows line up
    assert all(list(f.data[0].y) == ["a", "b"] for f in side)


def test_wrap_breaks_at_the_separator_and_keeps_every_word():
    text = "one two three four five six seven eight nine ten eleven twelve"
    wrapped = charts.wrap(text, 15)
    assert all(len(line) <= 15 for line in wrapped.split("<br>"))
    assert wrapped.replace("<br>", " ") == text
    assert charts.wrap("a b · c d · e", 9, sep=" · ") == "a b · c d<br>e"
    assert charts.wrap("a b · c d · e", 8, sep=" · ") == "a b<br>c d · e"


def test_tables_for_method_and_downloads(computed):
    view, baseline, reform, result = computed
    comp = result.comparison
    diffs = parameter_differences(baseline, reform)
    assert set(diffs.parameter) == {"policy.pay_floor.kind", *SMALL}
    assert diffs.set_index("parameter").at["weeks", "applies to"] == "both runs"
    assert diffs.set_index("parameter").at["policy.pay_floor.kind", "applies to"] == "reform"
    assert len(calibration_frame(comp.baseline_runs)) >= 5
    long = weekly_long(comp)
    assert set(long.arm) == {"baseline", "reform"} and len(long) == 4 * baseline.weeks


def test_the_cli_command_reproduces_the_numbers(computed, tmp_path):
    view, baseline, _, result = computed
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    command = cli_command(view, baseline) + " --out out"
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600
    )
    cli = pd.read_csv(tmp_path / "out" / "comparison.csv", keep_default_na=False, na_values=[""])
    ours = result.comparison.table
    assert len(cli) == len(ours)
    np.testing.assert_allclose(cli.delta.to_numpy(), ours.delta.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cli.reform_mean.to_numpy(), ours.reform_mean.to_numpy(), rtol=1e-9)


def test_a_population_too_large_for_memory_is_refused_before_running(monkeypatch):
    import sim.resources

    monkeypatch.setattr(sim.resources, "memory_available", lambda: 2 * 2**30)  # a 2 GB machine
    with pytest.raises(ScenarioError, match="population.taskers: 5,000,000"):
        build(View(shared={"population.taskers": 5_000_000}, replicates=2))
    build(View(shared=SMALL, replicates=2))  # a small one still builds
