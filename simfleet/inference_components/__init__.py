"""Inference components as pure computations, no SimPy: where copies go (`placement`) and what
each model costs (`cost_shares`).

Below `simfleet.config` in the data flow's sense only by meaning: these modules import nothing of
simfleet, so the engine (copy scaling, managed instance scaling) and the metrics (cost per model)
can both use them. `simfleet.config.inference_components` declares what they work on.
"""

from simfleet.inference_components.cost_shares import CopyInterval, CostShares, InstanceInterval, cost_shares
from simfleet.inference_components.placement import Capacity, Copy, Placement, place

__all__ = ["Capacity", "Copy", "Placement", "place", "CopyInterval", "InstanceInterval", "CostShares", "cost_shares"]
