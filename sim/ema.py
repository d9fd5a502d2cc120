"""The EMA workbench over `sim.evaluate`: exploratory modelling with no hand-kept lists.

`model()` builds a `ReplicatorModel` whose uncertainties are the calibration's priors
(sim/data/priors.yaml), whose levers are the policy fields of the scenario schema with their
bounds, whose outcomes come from the outcome registry (direction -> `ScalarOutcome` kind) and
whose replications carry an explicit seed each. EMA names must be Python identifiers, so a
dotted path is written with double underscores (`policy__pay_floor__usd_per_hour`), as
`sim.evaluate` accepts it; a per-country outcome is `by_country__IND__median_...`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from sim.priors import load_priors
from sim.scenario import Policy, Scenario, ScenarioError
from sim.scenario_files import load_scenario


def _ema():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        raise ScenarioError(
            "sim.ema: needs the EMA workbench; `pip install 'datalabour[explore]'`"
        ) from None
    return ema_workbench


def ema_name(path: str) -> str:
    """An EMA name (a Python identifier) for a dotted path or summary key."""
    return path.replace(".", "__")


def dotted(name: str) -> str:
    """The dotted path or summary key of an EMA name."""
    return name.replace("__", ".")


def uncertainties() -> tuple[list, dict[str, list[str]]]:
    """One `RealParameter` per prior of the calibration, and the paths each one sets."""
    ema = _ema()
    params, paths = [], {}
    for prior in load_priors():
        name = ema_name(prior.key)
        params.append(ema.RealParameter(name, prior.low, prior.high))
        paths[name] = list(prior.paths)
    return params, paths


def _bounds(field: Any) -> tuple[float | None, float | None]:
    low = high = None
    for rule in field.metadata:
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", getattr(rule, "lt", high))
    return low, high


def policy_levers(model: type = Policy, prefix: str = "policy.") -> list:
    """EMA levers for every policy field with a range: numbers within their schema bounds,
    switches as booleans, kinds as categories (fields without an upper bound are left out)."""
    ema = _ema()
    levers = []
    for key, field in model.model_fields.items():
        path, kind = f"{prefix}{key}", field.annotation
        if isinstance(kind, type) and hasattr(kind, "model_fields"):
            levers += policy_levers(kind, f"{path}.")
        elif kind is bool:
            levers.append(ema.BooleanParameter(ema_name(path)))
        elif get_origin(kind) is Literal:
            levers.append(ema.CategoricalParameter(ema_name(path), list(get_args(kind))))
        elif kind in (int, float):
            low, high = _bounds(field)
            if low is None or high is None:
                continue
            cls = ema.IntegerParameter if kind is int else ema.RealParameter
            levers.append(cls(ema_name(path), low, high))
    return levers


def _mean(values: list[float]) -> float:
    """An outcome over the replications (seeds) of one experiment: their mean."""
    return float(sum(values) / len(values))


def outcomes(names: list[str] | None = None, countries: list[str] = ()) -> list:
    """`ScalarOutcome`s from the registry: MAXIMIZE for higher-is-better, MINIMIZE for
    lower-is-better, INFO for neutral; per-country copies for each of `countries`. Each is the
    mean over the experiment's replications (seeds)."""
    from sim import outcomes as registry

    ema = _ema()
    kind = {registry.HIGHER: ema.ScalarOutcome.MAXIMIZE,
            registry.LOWER: ema.ScalarOutcome.MINIMIZE,
            registry.NEUTRAL: ema.ScalarOutcome.INFO}
    chosen = [registry.get(n) for n in (names or registry.HEADLINE)]
    found = [o for o in chosen if "overall" in o.scopes]
    if len(found) < len(chosen):
        missing = next(o.name for o in chosen if o not in found)
        raise ScenarioError(f"outcomes: {missing!r} is not allowed; see `datalabour outcomes`")
    out = [ema.ScalarOutcome(o.name, kind=kind[o.direction], function=_mean) for o in found]
    for iso3 in countries:
        out += [
            ema.ScalarOutcome(
                ema_name(f"by_country.{iso3}.{o.name}"), kind=kind[o.direction], function=_mean
            )
            for o in found if "country" in o.scopes
        ]
    return out


def experiment(scenario: dict, paths: dict, seed: int, **values: Any) -> dict[str, float]:
    """One EMA experiment: the scenario with its values set, run with `seed`."""
    from sim.results import evaluate

    wanted = values.pop("outcome_keys")
    overrides = {}
    for name, value in values.items():
        for path in paths.get(name, [dotted(name)]):
            overrides[path.replace(".", "__")] = value
    got = evaluate(load_scenario(scenario), seed, outcomes=[dotted(k) for k in wanted],
                   **overrides)
    return {k: got[dotted(k)] for k in wanted}


def model(
    scenario: Scenario | str | Path = "scenarios/baseline.yaml",
    seeds: list[int] = (1, 2, 3),
    levers: list[str] | None = None,
    outcome_names: list[str] | None = None,
    countries: list[str] = (),
    overrides: dict[str, Any] | None = None,
    name: str = "datalabour",
):
    """A `ReplicatorModel` over `sim.evaluate` with an explicit seed per replication.

    Parameters
    ----------
    scenario : base scenario (path, bundled name or Scenario); `overrides` apply to it
    seeds : one replication per seed (a missing seed never defaults silently)
    levers : dotted paths of the policy levers to explore (default: every policy field with a
        range in the schema; their ranges are the schema's bounds, so narrow them for a study)
    outcome_names : registry outcomes (default: the headline ones)
    countries : ISO3 codes for per-country copies of the outcomes
    """
    ema = _ema()
    if not seeds:
        raise ScenarioError("seeds: [] is not allowed; expected one seed per replication")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if overrides:
        base = load_scenario(base, overrides)
    m = ema.ReplicatorModel(name, function=experiment)
    uncertain, paths = uncertainties()
    m.uncertainties = uncertain
    every = policy_levers()
    if levers is not None:
        known = {dotted(lv.name): lv for lv in every}
        bad = [p for p in levers if p not in known]
        if bad:
            raise ScenarioError(
                f"levers: {bad[0]!r} is not allowed; expected one of {', '.join(known)}"
            )
        every = [known[p] for p in levers]
    m.levers = every
    m.outcomes = outcomes(outcome_names, countries)
    m.constants = [
        ema.Constant("scenario", base.to_dict()),
        ema.Constant("paths", paths),
        ema.Constant("outcome_keys", [o.name for o in m.outcomes]),
    ]
    m.replications = [{"seed": int(s)} for s in seeds]
    return m
