"""simfleet: a discrete-event simulator of SageMaker-style inference endpoint fleets.

Public API: load an experiment, simulate it, write its run directory.

    >>> from simfleet import load_experiment, simulate
    >>> result = simulate(load_experiment("experiments/quickstart.toml"))
    >>> result.metrics.to_pandas()          # CloudWatch datapoints
"""

from simfleet.engine.simulation import RunResult, simulate
from simfleet.errors import InputError, Problem
from simfleet.outputs.run_directory import run_to_directory
from simfleet.scenario import Scenario, load_experiment, scenario_from_dict

__all__ = ["InputError", "Problem", "RunMetrics", "RunResult", "Scenario", "load_experiment",
           "run_to_directory", "scenario_from_dict", "simulate"]

# Imported on first use (PEP 562), so that `simfleet run` does not pay for the query API's imports.
_LAZY = {"RunMetrics": "simfleet.query"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
