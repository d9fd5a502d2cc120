"""The core simulation: accounting identity, bounds, determinism, outputs."""

from __future__ import annotations

import json
import types
import typing

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sim
from sim import terms

SHARES = [
    "unpaid_share", "share_over_7_25_usd_per_hour", "share_under_local_minimum_wage",
    "share_wanting_more_work", "fill_rate", "automation_share", "tasker_share_of_lab_price",
    "gini_weekly_pay", "declared_share", "share_under_local_minimum_wage_on_net_pay",
    "share_keeping_less_than_nothing",
]
# what a tasker keeps can be less than nothing (fixed monthly contributions)
MAY_BE_NEGATIVE = [
    "tasker_net_pay_usd", "tasker_net_pay_ppp_usd", "net_income_per_active_tasker_usd",
    "median_net_effective_hourly_pay_usd",
]


def check_week_invariants(weekly: pd.DataFrame) -> None:
    lhs = weekly.lab_spend_usd
    rhs = weekly.tasker_pay_usd + weekly.platform_revenue_usd + weekly.ai_spend_usd
    assert ((lhs - rhs).abs() <= 1e-9 * lhs.abs().clip(lower=1e-12)).all()
    # with contributions and taxes as a flow: what taskers keep, what the state receives (from
    # taskers and platforms) and what platforms keep of their fees
    rhs = (weekly.tasker_net_pay_usd + weekly.contributions_and_taxes_usd
           + weekly.platform_revenue_usd - weekly.platform_paid_contributions_usd
           + weekly.ai_spend_usd)
    assert ((lhs - rhs).abs() <= 1e-9 * lhs.abs().clip(lower=1e-12)).all()
    assert (weekly.tasker_net_pay_usd <= weekly.tasker_pay_usd).all()
    assert not weekly.isna().any().any()
    numeric = weekly.select_dtypes("number").drop(columns=MAY_BE_NEGATIVE)
    assert (numeric >= 0).all().all(), numeric.columns[(numeric < 0).any()].tolist()
    assert (weekly.labels_human <= weekly.demand_tasks * (1 + 1e-9)).all()
    assert (weekly.labels_human <= weekly.human_tasks_posted * (1 + 1e-9)).all()
    for k in SHARES:
        assert weekly[k].between(0, 1).all(), k


def test_money_identity_and_bounds_every_week(small_run):
    check_week_invariants(small_run.weekly)
    assert small_run.weekly.lab_spend_usd.gt(0).all()


def test_summary_has_required_keys_and_groups(small_run, small_baseline):
    s = small_run.summary
    for k in ["median_effective_hourly_pay_usd", "tasker_pay_ppp_usd", "median_tenure_weeks",
              "cost_per_quality_adjusted_label_usd", "fake_human_labels", "gini_weekly_pay"]:
        assert k in s["overall"]
    assert set(s["by_country"]) == set(small_baseline.countries)
    assert set(s["by_platform"]) == {p.name for p in small_baseline.platforms}
    for row in s["by_country"].values():
        assert row["pay_floor_usd_per_hour"] == 0.0
        assert row["min_wage_usd_per_hour"] > 0


def test_same_seed_identical_other_seed_differs(small_baseline, tmp_path):
    a = sim.run(small_baseline, seed=7)
    b = sim.run(small_baseline, seed=7)
    c = sim.run(small_baseline, seed=8)
    assert json.dumps(a.summary, sort_keys=True) == json.dumps(b.summary, sort_keys=True)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    pd.testing.assert_frame_equal(a.by_country, b.by_country)
    assert a.summary != c.summary
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    assert (tmp_path / "a/summary.json").read_text() == (tmp_path / "b/summary.json").read_text()
    assert json.loads((tmp_path / "a/manifest.json").read_text())["seed"] == 7


def test_saved_files(small_run, tmp_path):
    out = small_run.save(tmp_path)
    for f in ["summary.json", "weekly.parquet", "by_country.parquet", "by_platform.parquet",
              "manifest.json"]:
        assert (out / f).exists()
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"]["name"] == "baseline" and len(man["run_hash"]) == 16
    assert len(pd.read_parquet(out / "by_country.parquet")) == 30 * 12


def test_effective_pay_below_paid_time_pay(small_run):
    o = small_run.overall
    assert 0 < o["median_effective_hourly_pay_usd"] <= o["p90_effective_hourly_pay_usd"]
    assert o["mean_effective_hourly_pay_usd"] < o["mean_paid_hourly_pay_usd"]


def test_evaluate_is_a_plain_function(small_baseline):
    out = sim.evaluate(small_baseline, seed=3, weeks=12, burn_in_weeks=2)
    assert isinstance(out["labels_human"], float)
    floor = sim.evaluate(
        small_baseline, seed=3, weeks=12, burn_in_weeks=2,
        policy__pay_floor__kind="absolute", policy__pay_floor__usd_per_hour=6.0,
    )
    assert floor["pay_floor_topup_usd"] > 0 == out["pay_floor_topup_usd"]


def lever_values(path: str) -> st.SearchStrategy:
    """The values a policy lever may take, from its schema field: choices, booleans, or
    numbers within its bounds (capped at 50, and week numbers at 10, to stay in the run)."""
    model, field = sim.Scenario, None
    for part in path.split("."):
        field = model.model_fields[part]
        model = field.annotation
    kind = field.annotation
    optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
    if optional:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    if typing.get_origin(kind) is typing.Literal:
        values = st.sampled_from(typing.get_args(kind))
    elif kind is bool:
        values = st.booleans()
    else:
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), 0)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        cap = 10 if kind is int else 50.0
        top = cap if high is None else min(high, cap)
        values = st.integers(low, top) if kind is int else st.floats(low, top)
    return st.one_of(st.none(), values) if optional else values


LEVERS = st.fixed_dictionaries(  # every policy lever of the schema, and one technology lever
    {path: lever_values(path) for path in terms.LEVERS}
    | {"technology.ai_cost_decline_per_year": st.floats(0, 0.95)}
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(levers=LEVERS, seed=st.integers(0, 2**32))
def test_identity_holds_under_any_levers(small_baseline, levers, seed):
    size = {"population.taskers": 800, "weeks": 14, "burn_in_weeks": 2}
    try:
        scn = sim.load_scenario(small_baseline, {**levers, **size})
    except sim.ScenarioError:  # a combination the schema's cross-field rules refuse
        assume(False)
    result = sim.run(scn, seed=seed)
    check_week_invariants(result.weekly)
    assert np.isfinite(list(result.overall.values())).all()


def test_min_human_share_caps_automation(small_baseline):
    scn = sim.load_scenario(small_baseline, {"policy.min_human_share": 0.9, "weeks": 12,
                                             "burn_in_weeks": 2})
    result = sim.run(scn, seed=1)
    assert result.weekly.automation_share.max() <= 0.1 + 1e-9


@pytest.mark.parametrize("n", [50, 500])
def test_tiny_populations_run(small_baseline, n):
    small = {"population.taskers": n, "weeks": 8, "burn_in_weeks": 1}
    result = sim.run(sim.load_scenario(small_baseline, small), seed=2)
    check_week_invariants(result.weekly)


def test_group_exits_llm_labels_and_top_ups_add_up_to_the_market(small_baseline):
    floor = sim.load_scenario(
        small_baseline, ["policy.pay_floor.kind=absolute", "policy.pay_floor.usd_per_hour=4"]
    )
    r = sim.run(floor, seed=3)
    for name in ("exits", "fake_human_labels", "pay_floor_topup_usd"):
        market = r.weekly.set_index("week")[name]
        assert market.sum() > 0, name
        for frame in (r.by_country, r.by_platform):
            groups = frame.groupby("week")[name].sum()
            np.testing.assert_allclose(groups.to_numpy(), market.to_numpy(), rtol=1e-5, atol=1e-6)


def test_platforms_worked_on_threads_give_the_same_bits(small_baseline, monkeypatch):
    import sim.model

    floor = sim.load_scenario(
        small_baseline, ["policy.pay_floor.kind=absolute", "policy.pay_floor.usd_per_hour=4"]
    )
    alone = sim.run(floor, seed=4)
    monkeypatch.setattr(sim.model, "THREADED_MIN_TASKERS", 0)  # thread even a small crew
    threaded = sim.run(floor, seed=4)
    pd.testing.assert_frame_equal(alone.weekly, threaded.weekly, check_exact=True)
    pd.testing.assert_frame_equal(alone.by_country, threaded.by_country, check_exact=True)
    assert alone.summary == threaded.summary


# an all-time floor: windows also keep pay for paid time apart (a fourth total)
ALL_TIME_FLOOR = [
    "policy.pay_floor.kind=local_minimum_wage", "policy.pay_floor.measured_on=all_time"
]


@pytest.mark.parametrize("floor", [[], ALL_TIME_FLOOR], ids=["no_floor", "all_time_floor"])
def test_windows_hold_each_taskers_post_burn_in_pay_per_platform(small_baseline, floor):
    """Closed-spell records plus open spells give the same per-platform totals as adding up
    every post-burn-in week, through switches and exits."""
    from sim.model import LabourMarketModel

    scn = sim.load_scenario(small_baseline, ["behaviour.platform_switch_probability=0.05", *floor])
    model = LabourMarketModel(scn, seed=5)
    n_p, n = len(model.platforms), model.pool.size
    flows = [model.week_pay, model.week_paid_hours, model.week_unpaid_hours]
    if floor:
        flows.append(model.week_paid_time_pay)
    expected = np.zeros((len(flows), n_p, n))
    for _ in range(scn.weeks):
        model.step()
        if model.week - 1 >= scn.burn_in_weeks:
            on = model.week_platform >= 0
            for k, flow in enumerate(flows):
                np.add.at(expected[k], (model.week_platform[on], np.flatnonzero(on)), flow[on])
    assert len(model.pool.closed) > 0  # spells did close after burn-in
    for p in range(n_p):
        window = model.pool.window(p)
        assert (window.paid_time_pay is None) == (not floor)
        for k, got in enumerate(window[: len(flows)]):
            np.testing.assert_allclose(got, expected[k, p], rtol=1e-5, atol=1e-4)
    assert expected[0].sum() > 0
    if floor:  # some pay was for unpaid time
        assert (expected[3] <= expected[0] * (1 + 1e-6) + 1e-6).all()
        assert expected[3].sum() < expected[0].sum()


def test_learning_constants_are_parameters(small_baseline):
    """The approval step and the labs' cost EWMA weight come from the scenario."""
    from sim.model import LabourMarketModel

    frozen = sim.load_scenario(small_baseline, ["behaviour.approval_learning_rate=0", "weeks=6"])
    model = LabourMarketModel(frozen, seed=2)
    for _ in range(6):
        model.step()
    initial = np.float32(frozen.population.initial_approval)
    assert (model.pool.approval == initial).all()
    model = LabourMarketModel(sim.load_scenario(small_baseline, ["weeks=6"]), seed=2)
    for _ in range(6):
        model.step()
    assert (model.pool.approval != initial).any()

    slow = [f"labs.{i}.cost_learning_weight=0.05" for i in range(len(small_baseline.labs))]
    a = sim.run(small_baseline, seed=2).weekly
    b = sim.run(sim.load_scenario(small_baseline, slow), seed=2).weekly
    assert not np.allclose(a.lab_spend_usd, b.lab_spend_usd)


@pytest.mark.parametrize("floor", [[], ALL_TIME_FLOOR], ids=["no_floor", "all_time_floor"])
def test_folding_closed_spell_records_leaves_windows_unchanged(small_baseline, monkeypatch,
                                                               floor):
    """Records are folded into per-platform totals in long runs; the windows keep their bits."""
    from sim.model import LabourMarketModel
    from sim.taskers import TaskerPool

    scn = sim.load_scenario(small_baseline, ["behaviour.platform_switch_probability=0.05", *floor])

    def windows() -> tuple[list, int]:
        model = LabourMarketModel(scn, seed=6)
        for _ in range(scn.weeks):
            model.step()
        pool = model.pool
        return [pool.window(p) for p in range(len(model.platforms))], len(pool.closed)

    kept, n_kept = windows()
    monkeypatch.setattr(TaskerPool, "FOLD_AFTER_RECORDS_PER_TASKER", 0.02)
    folded, n_folded = windows()
    assert n_folded < n_kept  # folding did happen
    for a, b in zip(kept, folded, strict=True):
        assert (a.paid_time_pay is None) == (not floor)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_platforms_split_into_contiguous_runs_of_similar_size():
    from sim.work import split_platforms

    assert split_platforms([400, 410, 17, 30], 2) == [range(0, 1), range(1, 4)]
    assert split_platforms([10, 10, 500, 10], 2) == [range(0, 2), range(2, 4)]
    assert split_platforms([7], 2) == [range(0, 1)]
    for sizes in ([0, 0, 0], [1, 0, 0, 0, 1], [5, 5]):
        runs = split_platforms(sizes, 2)
        assert [p for r in runs for p in r] == list(range(len(sizes)))  # each once, in order
        assert all(len(r) > 0 for r in runs)
