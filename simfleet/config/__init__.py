"""Experiment configuration: the declarative schema and its validating loader."""

from simfleet.config.experiment import Experiment
from simfleet.config.loader import Scenario, apply_overrides, load_experiment, scenario_from_dict

__all__ = ["Experiment", "Scenario", "apply_overrides", "load_experiment", "scenario_from_dict"]
