"""datalabour: an agent-based model of the economics of AI data labour."""

from typing import TYPE_CHECKING

from sim.scenario import Scenario, ScenarioError
from sim.scenario_files import load_scenario

if TYPE_CHECKING:
    from sim.results import RunResult, evaluate, run

__all__ = ["RunResult", "Scenario", "ScenarioError", "evaluate", "load_scenario", "run"]
_RESULTS = {"RunResult", "evaluate", "package_version", "run"}


def __getattr__(name: str):
    """The model (and with it mesa, scipy, pandas) loads on first use, not on `import sim`."""
    if name in _RESULTS:
        from sim import results

        return getattr(results, name)
    if name == "__version__":
        from sim.results import package_version

        return package_version()
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
