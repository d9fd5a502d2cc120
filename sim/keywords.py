"""A scenario from keyword arguments: how Mesa's batch_run and SolaraViz build a model.

Dotted parameter paths are spelled with double underscores in keyword arguments:
``policy__pay_floor__kind="absolute"`` sets ``policy.pay_floor.kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mesa.experimental.scenarios import Scenario as MesaScenario

from sim.scenario import Scenario
from sim.scenario_files import load_scenario


def dotted(keywords: dict[str, Any]) -> dict[str, Any]:
    """``{"policy__pay_floor__kind": v}`` -> ``{"policy.pay_floor.kind": v}``."""
    return {k.replace("__", "."): v for k, v in keywords.items()}


def scenario_from_keywords(
    scenario: Scenario | str | Path | MesaScenario, seed: int | None, keywords: dict[str, Any]
) -> tuple[Scenario, int | None]:
    """The scenario and seed of a model built from keyword arguments.

    `scenario` is a Scenario, a bundled name or a YAML path. SolaraViz's reset passes
    Mesa's own Scenario object in its place: its ``rng`` is then the seed and its other
    fields are overrides of the baseline.
    """
    if isinstance(scenario, MesaScenario):
        fields = dict(scenario)
        rng = fields.pop("rng", None)
        if seed is None and isinstance(rng, int):
            seed = rng
        scenario, keywords = "baseline", {**fields, **keywords}
    overrides = dotted(keywords)
    if isinstance(scenario, Scenario) and not overrides:
        return scenario, seed
    return load_scenario(scenario, overrides or None), seed
