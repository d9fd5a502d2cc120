"""datalabour: an agent-based model of the economics of AI data labour."""

from sim.results import RunResult, evaluate, package_version, run
from sim.scenario import Scenario, ScenarioError, load_scenario

__version__ = package_version()
__all__ = ["RunResult", "Scenario", "ScenarioError", "evaluate", "load_scenario", "run"]
