"""Draws the tasker population from the country table and the scenario."""

from __future__ import annotations

import numpy as np

from sim.scenario import Scenario
from sim.taskers import NO_PLATFORM, TaskerPool


def country_medians(scenario: Scenario, min_wage_usd_per_hour: np.ndarray) -> np.ndarray:
    """Median reservation wage per country, USD per hour."""
    pop = scenario.population
    return np.maximum(
        pop.reservation_wage_share_of_minimum_wage * min_wage_usd_per_hour,
        pop.reservation_wage_floor_usd_per_hour,
    )


def draw_population(
    scenario: Scenario,
    worker_share: np.ndarray,
    min_wage_usd_per_hour: np.ndarray,
    rng: np.random.Generator,
) -> TaskerPool:
    """A vectorised population of `scenario.population.taskers` potential taskers."""
    pop = scenario.population
    n = pop.taskers
    f32 = np.float32
    p = worker_share / worker_share.sum()
    # rows grouped by country (the draw is exchangeable): a platform's members, taken in row
    # order, then come country by country, so per-country totals are sums over slices
    drawn = rng.choice(len(p), size=n, p=p)
    country = np.repeat(np.arange(len(p), dtype=np.int16), np.bincount(drawn, minlength=len(p)))
    skill = np.exp(rng.normal(0.0, pop.skill_sigma, n)).astype(f32)
    accuracy = np.clip(rng.normal(pop.accuracy_mean, pop.accuracy_sd, n), 0.3, 0.995).astype(f32)
    log_hours = np.log(pop.hours_available_median)
    hours = np.exp(log_hours + pop.hours_available_sigma * rng.normal(size=n))
    hours = np.minimum(hours, pop.hours_available_max).astype(f32)
    r_median = country_medians(scenario, min_wage_usd_per_hour)
    spread = np.exp(pop.reservation_wage_sigma * rng.normal(size=n))
    reservation = (r_median[country] * spread).astype(f32)
    m = pop.llm_propensity_mean
    if 0.0 < m < 1.0:
        llm = rng.beta(2.0, 2.0 * (1.0 - m) / m, n).astype(f32)
    else:
        llm = np.full(n, m, dtype=f32)
    # state starts at zero, written now (np.full, not np.zeros): the pages are mapped once,
    # in order, rather than one page fault at a time when scattered writes first reach them
    def zeros(shape, dtype=f32):
        return np.full(shape, 0, dtype=dtype)

    return TaskerPool(
        country=country,
        skill=skill,
        accuracy=accuracy,
        hours_available=hours,
        reservation_wage=reservation,
        llm_propensity=llm,
        platform=np.full(n, NO_PLATFORM, dtype=np.int8),
        expected_pay=zeros(n),
        approval=np.full(n, pop.initial_approval, dtype=f32),
        approved_tasks=zeros(n),
        tenure=zeros(n, np.int32),
        qualification_left=zeros(n),
        spell_pay=zeros(n, np.float64),
        spell_paid_hours=zeros(n),
        spell_unpaid_hours=zeros(n),
    )
