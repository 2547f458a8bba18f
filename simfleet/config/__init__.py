"""The experiment file's schema (`experiment`) and the publish periods it implies (`publish_periods`).

Above the schema toolkit (`simfleet.schema`) and the instance catalog, below the traffic and
autoscaling documents that read its sections and below `simfleet.scenario`, which validates an
experiment file into a `Scenario` (DESIGN §2.2).
"""

from simfleet.config.experiment import Experiment

__all__ = ["Experiment"]
