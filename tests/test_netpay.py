"""Net pay: the contribution table, declaration, dues, and net outcomes against gross."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sim
from sim import metrics, netpay
from sim.countries import load_countries
from sim.model import LabourMarketModel
from sim.netpay import NET_OF, Regime, bracket_tax, load_regimes, parse_brackets

UNDECLARED = {"policy.contributions.declaration_share": 0.0}
EVERYONE = {"policy.contributions.declaration_share": 1.0}


@pytest.fixture(scope="module")
def declared_run(small_baseline):
    return sim.run(sim.load_scenario(small_baseline, EVERYONE), seed=5)


@pytest.fixture(scope="module")
def undeclared_run(small_baseline):
    return sim.run(sim.load_scenario(small_baseline, UNDECLARED), seed=5)


def is_net(key: str) -> bool:
    """An outcome of sim.netpay (every other outcome is gross)."""
    return "net" in key.split("_") or "contributions" in key or key in (
        "declared_share", "share_keeping_less_than_nothing")


def gross_columns(frame):
    return frame[[c for c in frame.columns if not is_net(c)]]


def gross_summary(summary):
    return {
        "overall": {k: v for k, v in summary["overall"].items() if not is_net(k)},
        "by_country": {c: {k: v for k, v in row.items() if not is_net(k)}
                       for c, row in summary["by_country"].items()},
        "by_platform": summary["by_platform"],
    }


def test_every_country_has_a_sourced_regime():
    regimes = load_regimes()
    assert set(load_countries().index) <= set(regimes.index)
    for iso, row in regimes.iterrows():
        assert len(row["source"]) > 40 and len(row["declaration_source"]) > 20, iso
        assert row["confidence"] in ("A", "B", "C"), iso
        assert row["declaration_share_low"] <= row["declaration_share"] <= row[
            "declaration_share_high"], iso


def test_bad_brackets_are_refused():
    for text in ("5:0.1", "0:0.1;0:0.2", "0:1.5", "0:x"):
        with pytest.raises(ValueError, match="contributions"):
            parse_brackets(text, "contributions.csv XXX income_tax_brackets")


def test_brackets_tax_only_the_part_of_income_inside_each():
    lower, rates = parse_brackets("0:0;100:0.1;200:0.5", "t")
    got = bracket_tax(np.array([50.0, 150.0, 300.0]), lower, rates)
    assert got == pytest.approx([0.0, 5.0, 10.0 + 50.0])


def regime(iso: str) -> Regime:
    fx = float(load_countries().at[iso, "fx_lcu_per_usd"])
    return Regime.from_row(load_regimes().loc[iso], fx)


def test_fixed_monthly_minimum_is_due_without_pay_and_thresholds_hold():
    ukr = regime("UKR")
    contributions, tax = ukr.weekly_dues(np.array([0.0, 100.0]))
    fx = float(load_countries().at["UKR", "fx_lcu_per_usd"])
    assert contributions[0] == pytest.approx(1760 / fx * 12 / 52)  # UAH 1,760 a month
    assert tax == pytest.approx([0.0, 5.0])  # 5% single tax
    usa = regime("USA")  # SE tax only from USD 400 a year of net earnings
    contributions, tax = usa.weekly_dues(np.array([400 / 0.9235 / 52 * 0.99, 100.0]))
    assert contributions[0] == 0.0
    assert contributions[1] == pytest.approx(100 * 0.9235 * 0.153)
    assert tax[1] == 0.0  # USD 5,200 a year: under the standard deduction


@settings(max_examples=60, deadline=None)
@given(
    iso=st.sampled_from(sorted(load_regimes().index)),
    gross=arrays(np.float64, 20, elements=st.floats(0, 5000)),
)
def test_dues_are_never_negative_so_net_never_exceeds_gross(iso, gross):
    contributions, tax = regime(iso).weekly_dues(gross)
    assert (contributions >= 0).all() and (tax >= 0).all()
    assert (gross - contributions - tax <= gross).all()


def test_gross_outcomes_unchanged_when_every_tasker_is_undeclared(small_run, undeclared_run,
                                                                  declared_run):
    for run in (undeclared_run, declared_run):  # net pay is accounting: gross bit-identical
        for frame in ("weekly", "by_country", "by_platform"):
            assert gross_columns(getattr(run, frame)).equals(gross_columns(getattr(small_run,
                                                                                   frame)))
        assert gross_summary(run.summary) == gross_summary(small_run.summary)
    # nobody declares (and nothing is withheld at source in the table): net is gross
    weekly = undeclared_run.weekly
    assert (weekly.contributions_and_taxes_usd == 0).all()
    assert (weekly.tasker_net_pay_usd == weekly.tasker_pay_usd).all()
    for scope in [undeclared_run.overall, *undeclared_run.summary["by_country"].values()]:
        for gross, net in NET_OF.items():
            assert scope[net] == scope[gross], net
        assert scope["share_keeping_less_than_nothing"] == 0.0


def test_net_never_exceeds_gross_and_declaring_costs(small_run, declared_run):
    for run in (small_run, declared_run):
        for scope in [run.overall, *run.summary["by_country"].values()]:
            for gross, net in NET_OF.items():
                if gross.startswith("share_"):
                    assert scope[net] >= scope[gross], net  # more under the minimum wage
                else:
                    assert scope[net] <= scope[gross] + 1e-12, net
        for row in run.summary["by_country"].values():
            assert row["median_net_effective_hourly_pay_ppp_usd"] <= (
                row["median_effective_hourly_pay_ppp_usd"] + 1e-12)
    assert declared_run.overall["contributions_and_taxes_usd"] > small_run.overall[
        "contributions_and_taxes_usd"] > 0
    assert declared_run.overall["declared_share"] == 1.0
    # Ukraine's fixed minimum ESV: some declared taskers with few hours keep less than nothing
    assert declared_run.summary["by_country"]["UKR"]["share_keeping_less_than_nothing"] > 0
    # Bangladesh exempts IT freelancing income: declaring costs nothing
    bgd = declared_run.summary["by_country"]["BGD"]
    assert bgd["tasker_net_pay_usd"] == pytest.approx(bgd["tasker_pay_usd"])


def test_country_flows_add_up_to_the_market(declared_run):
    weekly = declared_run.weekly.set_index("week")
    by_week = declared_run.by_country.groupby("week")
    for key in ("contributions_and_taxes_usd", "platform_paid_contributions_usd"):
        assert np.allclose(by_week[key].sum(), weekly[key], rtol=1e-12, atol=1e-9)
    assert np.allclose(by_week["tasker_net_pay_usd"].sum(), weekly["tasker_net_pay_usd"],
                       rtol=1e-5)


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(share=st.floats(0, 1))
def test_platform_paid_share_moves_contributions_to_the_platform(small_baseline, share):
    scn = sim.load_scenario(small_baseline, {**EVERYONE, "population.taskers": 600, "weeks": 8,
                                             "burn_in_weeks": 2,
                                             "policy.contributions.platform_paid_share": share})
    unpaid = sim.load_scenario(scn, {"policy.contributions.platform_paid_share": 0.0})
    base = sim.run(unpaid, seed=3)
    reform = sim.run(scn, seed=3)
    paid = reform.weekly.platform_paid_contributions_usd
    gained = reform.weekly.tasker_net_pay_usd - base.weekly.tasker_net_pay_usd
    assert np.allclose(gained, paid, rtol=1e-9, atol=1e-9)  # the taskers keep what it pays
    assert np.allclose(reform.weekly.contributions_and_taxes_usd,
                       base.weekly.contributions_and_taxes_usd, rtol=1e-9)  # the state the same


def test_exempting_small_income_removes_dues_below_the_threshold(small_baseline):
    scn = sim.load_scenario(small_baseline, {
        **EVERYONE, "population.taskers": 600, "weeks": 8, "burn_in_weeks": 2,
        "policy.contributions.exempt_below_usd_per_month": 10_000,
    })
    run = sim.run(scn, seed=3)
    assert (run.weekly.contributions_and_taxes_usd == 0).all()
    assert (run.weekly.tasker_net_pay_usd == run.weekly.tasker_pay_usd).all()


def test_declaration_is_drawn_once_per_tasker_from_a_child_generator(small_baseline):
    scn = sim.load_scenario(small_baseline, {"population.taskers": 2000})
    model = LabourMarketModel(scn)
    propensity = model.net_pay.propensity.copy()
    twin = np.random.default_rng(scn.seed)
    assert not np.array_equal(propensity, twin.random(propensity.size, dtype=np.float32))
    declared = model.net_pay.declared(model)
    share = load_regimes().loc[model.iso3, "declaration_share"].to_numpy()
    for c in range(len(model.iso3)):
        members = model.pool.country == c
        if members.sum() > 150:
            assert abs(declared[members].mean() - share[c]) < 0.12, model.iso3[c]
    for _ in range(3):
        model.step()
    assert np.array_equal(model.net_pay.propensity, propensity)


def test_weekly_net_keys_are_outcomes_of_the_run(small_run):
    assert set(netpay.WEEKLY) <= set(small_run.weekly.columns)
    assert set(netpay.GROUP) <= set(small_run.by_country.columns)
    assert set(netpay.WINDOW) <= set(small_run.overall)
    assert all(is_net(k) for k in netpay.WEEKLY + netpay.GROUP + netpay.WINDOW)
    assert not set(netpay.WEEKLY) & set(metrics.WEEKLY)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    declaration=st.one_of(st.none(), st.floats(0, 1)),
    platform_paid=st.floats(0, 1),
    exempt=st.floats(0, 300),
    seed=st.integers(0, 2**32),
)
def test_no_tasker_keeps_more_than_gross_in_any_week(small_baseline, declaration, platform_paid,
                                                     exempt, seed):
    scn = sim.load_scenario(small_baseline, {
        "population.taskers": 500, "weeks": 6, "burn_in_weeks": 1,
        "policy.contributions.declaration_share": declaration,
        "policy.contributions.platform_paid_share": platform_paid,
        "policy.contributions.exempt_below_usd_per_month": exempt,
    })
    model = LabourMarketModel(scn, seed)
    for _ in range(scn.weeks):
        model.step()
        net = model.net_pay
        assert (net.week_net <= model.week_pay[net.who]).all()
        assert (net.window_due >= 0).all()
