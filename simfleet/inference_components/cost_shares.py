"""What each inference component costs: the fleet's instance cost split by the reservations of
the copies that ran on each instance, plus the unreserved remainder as idle capacity.

Pure and exact (`fractions.Fraction`, floats read as the decimals they are written as; it imports
only the placement's `Capacity`): given when each instance was billed
and when each copy occupied it, the shares and the idle part sum to the fleet's cost exactly,
which the tests check as a property. The engine records the intervals; the metrics and the
summary call `cost_shares` (once for the run, or per period with `cost_shares_by_period`).

AWS's rule is only "calculate and associate cost per model by tracking GPU allocation at the
inference component level" (AWS ML blog, Enhanced metrics for Amazon SageMaker AI endpoints,
2026). simfleet's exact rule, for each instance and each stretch of time in which the set of its
copies does not change:

* the instance's cost over the stretch is price_per_hour x seconds / 3600;
* on an instance with accelerators, a copy's share is that cost x the copy's reserved
  accelerators / the instance's accelerators (CPU cores and memory do not count there);
* on an instance without accelerators, the share is that cost x (w x reserved cores / the
  instance's cores + (1 - w) x reserved memory / the instance's memory), w = `cpu_weight`
  (`inference_component_settings.cpu_cost_weight`, default 1/2);
* what no copy reserved is idle: the cost x (1 - the sum of the copies' fractions), and the whole
  cost of any time the instance is billed with no copy on it (launching, draining, empty).

A copy's fraction on its instance is constant, so a component's share is linear in time and the
per-period split adds up to the whole-run split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Hashable, Iterable, Sequence

from simfleet.inference_components.placement import Capacity, exact

__all__ = ["InstanceInterval", "CopyInterval", "CostShares", "cost_shares", "cost_shares_by_period",
           "reserved_fraction", "SECONDS_PER_HOUR"]

SECONDS_PER_HOUR = 3600


def _exact(value, what: str) -> Fraction:
    """`exact`, with a ValueError naming `what` for anything that is not a number."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return exact(value)


@dataclass(frozen=True)
class InstanceInterval:
    """An instance billed over [start_s, end_s), with its reservable capacity and price."""

    instance_id: Hashable
    capacity: Capacity
    price_per_hour: float | Fraction
    start_s: float | Fraction
    end_s: float | Fraction


@dataclass(frozen=True)
class CopyInterval:
    """A copy of `component` reserving `reservation` on `instance_id` over [start_s, end_s)."""

    component: str
    instance_id: Hashable
    reservation: Capacity
    start_s: float | Fraction
    end_s: float | Fraction


@dataclass(frozen=True)
class CostShares:
    """Cost in USD over a window: per component, idle, and the fleet's total (all exact)."""

    by_component: dict[str, Fraction] = field(default_factory=dict)
    idle: Fraction = Fraction(0)
    total: Fraction = Fraction(0)

    def as_floats(self) -> dict:
        """{component: USD, ...} with "idle" and "total", as floats for output."""
        return {"by_component": {k: float(v) for k, v in self.by_component.items()},
                "idle": float(self.idle), "total": float(self.total)}


def reserved_fraction(reservation: Capacity, capacity: Capacity, cpu_weight: Fraction = Fraction(1, 2)) -> Fraction:
    """The fraction of an instance's cost a copy's reservation carries (the module's rule)."""
    if capacity.accelerators > 0:
        return Fraction(reservation.accelerators, capacity.accelerators)
    if capacity.cpu_cores <= 0 or capacity.memory_mb <= 0:
        raise ValueError(f"an instance without accelerators needs CPU cores and memory to share its cost: {capacity}")
    return cpu_weight * reservation.cpu_cores / capacity.cpu_cores + (1 - cpu_weight) * reservation.memory_mb / capacity.memory_mb


def cost_shares(instances: Iterable[InstanceInterval], copies: Iterable[CopyInterval], start_s=None, end_s=None,
                cpu_weight=Fraction(1, 2)) -> CostShares:
    """Split the cost of `instances` over [start_s, end_s) (default: all of it) among the
    components of `copies`, the rest idle. Raises ValueError on an instance without a price, a copy
    on an unknown instance or outside its instance's interval, and copies that together reserve
    more of any resource than their instance has at some instant."""
    instances = list(instances)
    weight = _exact(cpu_weight, "cpu_weight")
    if not 0 <= weight <= 1:
        raise ValueError(f"cpu_weight must be within [0, 1], got {cpu_weight}")
    by_instance: dict[Hashable, list[CopyInterval]] = {i.instance_id: [] for i in instances}
    if len(by_instance) != len(instances):
        raise ValueError("instance ids must be unique")
    for copy in copies:
        if copy.instance_id not in by_instance:
            raise ValueError(f"copy of {copy.component!r} on unknown instance {copy.instance_id!r}")
        by_instance[copy.instance_id].append(copy)
    lo_window = None if start_s is None else _exact(start_s, "start_s")
    hi_window = None if end_s is None else _exact(end_s, "end_s")
    shares: dict[str, Fraction] = {}
    idle = total = Fraction(0)
    for instance in instances:
        part_shares, part_idle, part_total = _instance_shares(instance, by_instance[instance.instance_id],
                                                              lo_window, hi_window, weight)
        for component, value in part_shares.items():
            shares[component] = shares.get(component, Fraction(0)) + value
        idle += part_idle
        total += part_total
    return CostShares(dict(sorted(shares.items())), idle, total)


def cost_shares_by_period(instances: Sequence[InstanceInterval], copies: Sequence[CopyInterval],
                          boundaries_s: Sequence, cpu_weight=Fraction(1, 2)) -> list[CostShares]:
    """`cost_shares` over each [boundaries_s[k], boundaries_s[k + 1])."""
    return [cost_shares(instances, copies, a, b, cpu_weight) for a, b in zip(boundaries_s, boundaries_s[1:])]


def _instance_shares(instance: InstanceInterval, copies: list[CopyInterval], lo_window, hi_window,
                     weight: Fraction) -> tuple[dict[str, Fraction], Fraction, Fraction]:
    """One instance's (shares, idle, total) within the window."""
    if instance.price_per_hour is None:
        raise ValueError(f"instance {instance.instance_id!r} has no price: its cost cannot be shared")
    price = _exact(instance.price_per_hour, "price_per_hour")
    start, end = _exact(instance.start_s, "start_s"), _exact(instance.end_s, "end_s")
    if end < start or price < 0:
        raise ValueError(f"instance {instance.instance_id!r}: an interval ends after it starts, a price is not negative")
    spans = []
    for copy in copies:
        a, b = _exact(copy.start_s, "start_s"), _exact(copy.end_s, "end_s")
        if not start <= a <= b <= end:
            raise ValueError(f"copy of {copy.component!r} on instance {copy.instance_id!r} over [{float(a)}, {float(b)}) "
                             f"lies outside the instance's [{float(start)}, {float(end)})")
        spans.append((a, b, copy))
    lo = start if lo_window is None else max(start, lo_window)
    hi = end if hi_window is None else min(end, hi_window)
    if hi <= lo:
        return {}, Fraction(0), Fraction(0)
    rate = price / SECONDS_PER_HOUR
    shares: dict[str, Fraction] = {}
    idle = Fraction(0)
    cuts = sorted({lo, hi} | {t for a, b, _ in spans for t in (a, b) if lo < t < hi})
    for a, b in zip(cuts, cuts[1:]):
        active = [copy for s, e, copy in spans if s <= a and b <= e and s < e]
        reserved = sum((c.reservation for c in active), Capacity())
        if not reserved.fits_in(instance.capacity):
            raise ValueError(f"instance {instance.instance_id!r} is over-committed over [{float(a)}, {float(b)}): its "
                             f"copies reserve {reserved}, it has {instance.capacity}")
        cost = rate * (b - a)
        used = Fraction(0)
        for copy in active:
            fraction = reserved_fraction(copy.reservation, instance.capacity, weight)
            shares[copy.component] = shares.get(copy.component, Fraction(0)) + cost * fraction
            used += fraction
        idle += cost * (1 - used)
    return shares, idle, rate * (hi - lo)
