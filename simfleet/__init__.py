"""simfleet: a discrete-event simulator of SageMaker-style inference endpoint fleets.

Public API: load an experiment, simulate it, write its run directory.

    >>> from simfleet import load_experiment, simulate
    >>> result = simulate(load_experiment("experiments/quickstart.toml"))
    >>> result.metrics.to_pandas()          # CloudWatch datapoints

Every name is imported on first use (PEP 562): `import simfleet` (and so `simfleet --help` and
`simfleet validate`) does not load the engine, numba or pandas until something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["InputError", "Problem", "RunMetrics", "RunResult", "Scenario", "load_experiment",
           "run_to_directory", "scenario_from_dict", "simulate"]

_LAZY = {
    "InputError": "simfleet.errors",
    "Problem": "simfleet.errors",
    "RunMetrics": "simfleet.query",
    "RunResult": "simfleet.engine.simulation",
    "simulate": "simfleet.engine.simulation",
    "Scenario": "simfleet.scenario",
    "load_experiment": "simfleet.scenario",
    "scenario_from_dict": "simfleet.scenario",
    "run_to_directory": "simfleet.outputs.run_directory",
}

if TYPE_CHECKING:  # for type checkers and editors; never executed
    from simfleet.engine.simulation import RunResult, simulate
    from simfleet.errors import InputError, Problem
    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.query import RunMetrics
    from simfleet.scenario import Scenario, load_experiment, scenario_from_dict


def __getattr__(name: str):
    if name == "__version__":
        from simfleet.version import simfleet_version

        value = globals()["__version__"] = simfleet_version() or "unknown"
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
