"""The calibration's free parameters: the priors of sim/data/priors.yaml, each with the scenario
paths it sets, its distribution, its range and its source; read and checked here, used by the
ABC calibration, the sweeps' `priors:` designs and the EMA workbench's uncertainties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import load_scenario

PRIORS = Path(__file__).parent / "data" / "priors.yaml"
DISTRIBUTIONS = ("uniform", "loguniform")


@dataclass(frozen=True)
class Prior:
    """One free parameter: the scenario fields it sets and its prior distribution."""

    name: str
    paths: tuple[str, ...]
    distribution: str
    low: float
    high: float
    source: str

    @property
    def key(self) -> str:
        """The column of the posterior that stands for this prior (its first path)."""
        return self.paths[0]

    def at_quantile(self, q: float) -> float:
        """The value at prior quantile `q` (0-1): exactly uniform or log-uniform in `q`."""
        if self.distribution == "loguniform":
            return float(self.low * (self.high / self.low) ** q)
        return float(self.low + (self.high - self.low) * q)

    def scipy(self) -> Any:
        from scipy import stats

        if self.distribution == "loguniform":
            return stats.loguniform(self.low, self.high)
        return stats.uniform(self.low, self.high - self.low)


def load_priors(path: Path = PRIORS, scenario: Scenario | None = None) -> list[Prior]:
    """The priors of a YAML file; each is checked, and so are its paths if a scenario is given."""
    raw = yaml.safe_load(Path(path).read_text())
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"priors {path}: expected a list of priors")
    priors = []
    for i, p in enumerate(raw):
        try:
            prior = Prior(
                str(p["name"]), tuple(str(x) for x in p["paths"]), str(p["distribution"]),
                float(p["low"]), float(p["high"]), str(p["source"]),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ScenarioError(
                f"priors.{i}: {e!s} is missing or bad; expected name, paths, distribution, "
                "low, high, source"
            ) from None
        if prior.distribution not in DISTRIBUTIONS:
            raise ScenarioError(
                f"priors.{i}.distribution: {prior.distribution!r} is not allowed; "
                f"expected one of {list(DISTRIBUTIONS)}"
            )
        if not prior.low < prior.high or (prior.distribution == "loguniform" and prior.low <= 0):
            raise ScenarioError(
                f"priors.{i}: low {prior.low} / high {prior.high} is not allowed; expected "
                "low < high (and low > 0 for loguniform)"
            )
        priors.append(prior)
    if scenario is not None:
        for prior in priors:  # every path must exist and accept both ends of the range
            for value in (prior.low, prior.high):
                load_scenario(scenario, dict.fromkeys(prior.paths, value))
    return priors


def overrides_of(priors: list[Prior], values: dict[str, float]) -> dict[str, float]:
    """Dotted overrides from one particle (keyed by prior key) for every path of each prior."""
    return {path: float(values[p.key]) for p in priors for path in p.paths}
