"""simfleet: a discrete-event simulator of SageMaker-style inference endpoint fleets.

Public API: load an experiment, simulate it, write its run directory.

    >>> from simfleet import load_experiment, simulate
    >>> result = simulate(load_experiment("experiments/quickstart.toml"))
    >>> result.metrics.to_pandas()          # CloudWatch datapoints
"""

from simfleet.config.loader import Scenario, load_experiment, scenario_from_dict
from simfleet.engine.simulation import RunResult, simulate
from simfleet.errors import InputError, Problem
from simfleet.outputs.run_directory import run_to_directory
from simfleet.query import RunMetrics

__all__ = ["InputError", "Problem", "RunMetrics", "RunResult", "Scenario", "load_experiment",
           "run_to_directory", "scenario_from_dict", "simulate"]
