"""What each inference component costs in a run: the hosting instances' cost split by the copies'
reservations (`simfleet.inference_components.cost_shares`, exact), per hosting variant, with the
unreserved remainder as idle capacity.

The summary (`metrics.summary`) reads it: each component's row carries its share as its `cost`,
the hosting variant's row the idle part, so the rows still add up to the run's cost; the
`inference_components` table lists shares, idle and total per hosting variant. An instance type
without a price makes its variant's shares unknown (null), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from simfleet.fleet import Fleet
from simfleet.inference_components.cost_shares import CopyInterval, InstanceInterval, cost_shares

__all__ = ["HostCosts", "component_costs"]


@dataclass(frozen=True)
class HostCosts:
    """One hosting variant's cost over the run, split (all None when its price is unknown)."""

    by_component: dict[str, float] | None   # InferenceComponentName -> USD
    idle: float | None                      # USD of what no copy reserved (and of empty instances)
    total: float | None                     # USD of its instances


def component_costs(fleet: Fleet, intervals: dict[int, tuple[list[InstanceInterval], list[CopyInterval]]]
                    ) -> dict[int, HostCosts]:
    """Hosting variant index -> its `HostCosts`, from the intervals `ComponentCopies.intervals` gives."""
    out = {}
    for index, (instances, copies) in intervals.items():
        host = fleet.variants[index]
        names = [fleet.variants[k].component.name for k in host.hosting.components]
        if host.instance_type.price_per_hour is None:
            out[index] = HostCosts(None, None, None)
            continue
        shares = cost_shares(instances, copies, cpu_weight=Fraction(repr(host.hosting.cpu_cost_weight)))
        by_component = {name: float(shares.by_component.get(name, Fraction(0))) for name in names}
        out[index] = HostCosts(by_component, float(shares.idle), float(shares.total))
    return out
