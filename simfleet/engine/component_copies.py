"""Inference component copies in a run: placed on their host's instances, loaded, serving,
removed; and the host's managed instance scaling, which launches instances for copies that fit
nowhere and releases instances that host none.

The control plane's side of inference components (DESIGN §2). A component is a fleet variant whose
request-plane instances are its copies (`simfleet.inference_components.runtime`); a copy's row is
added when the copy is placed, enters routing when its model is loaded and leaves it when the copy
is removed or its instance leaves service (the requests it accepted still finish there). Where
copies go is `simfleet.inference_components.placement`'s rule, one `Placement` per hosting variant,
whose instances are the host's instances in service.

    PENDING --(placed on an instance)--> LOADING --(load_time)--> IN_SERVICE --(removed)--> REMOVED
       ^                                    |                          |
       +---------(its instance left service: placed again elsewhere, or pending)------------+

`reconcile(variant, desired)` sets a component's copy count (Application Auto Scaling's
`DesiredCopyCount`); removing copies follows the placement's scale-in rule.

simfleet's choices where AWS is silent (the fields are AWS's, `ProductionVariantManagedInstanceScaling`):

* copies of a run's initial instances are in service from time 0 (the endpoint as deployed);
* scale-out: when copies are pending, managed instance scaling launches the fewest instances on
  which every pending copy would fit (empty instances of the variant's type, the launching ones
  counted), never above `MaxInstanceCount`; `MaximumStepSize` and `CooldownInMinutes` belong to
  the scale-in policy and do not limit it;
* scale-in, checked every `CHECK_S` seconds: when at least `CooldownInMinutes` have passed since
  the host's last managed scaling action (either direction), IDLE_RELEASE releases up to
  `MaximumStepSize` instances that host no copy, the earliest idle first, never below
  `MinInstanceCount`; CONSOLIDATION does the same, and when no instance is idle it empties the
  instance with the fewest copies (the newest among equals) if each of its copies fits on the
  others: the copies are placed there anew (loading their model again), then it is released;
* a removed copy frees its reservation at once; the requests it accepted finish;
* a copy's `ContainerId` (enhanced metrics) is ``{component}-{n}``, n counting the copies ever
  asked for on the hosting variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from simfleet.engine.events import EventLog
from simfleet.engine.instances import IN_SERVICE, PENDING, InstanceManager
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.timing import at_time
from simfleet.fleet import Fleet, VariantRuntime, instance_id
from simfleet.inference_components.cost_shares import CopyInterval, InstanceInterval
from simfleet.inference_components.placement import Capacity, Copy, Placement

__all__ = ["ComponentCopies", "COPY_GAUGES", "CHECK_S", "LOADING", "SERVING"]

#: How often managed instance scaling looks for instances to release (simfleet's choice).
CHECK_S = 60.0

LOADING, SERVING = "Loading", "InService"

#: simfleet's copy-count gauges of a component: metric name -> what it counts.
COPY_GAUGES = {
    "DesiredCopyCount": "the component's desired copy count (RuntimeConfig.CopyCount, then autoscaling's)",
    "InServiceCopies": "copies serving requests",
    "LoadingCopies": "copies placed on an instance, loading their model",
    "PendingCopies": "copies that fit on no instance in service, waiting for room",
}


@dataclass
class _Placed:
    """A placed copy: its request-plane row, where it runs and since when."""

    copy: Copy
    variant: int            # the component's fleet variant
    host_instance: int      # request-plane index of its instance
    row: int                # its own request-plane row
    placed_s: float
    state: str = LOADING


class ComponentCopies:
    """Every inference component's copies and every hosting variant's managed instance scaling."""

    def __init__(self, env, plane: RequestPlane, fleet: Fleet, instances: InstanceManager, events: EventLog,
                 advance_to, run_over=lambda: False):
        self.env = env
        self.plane = plane
        self.fleet = fleet
        self.instances = instances
        self.events = events
        self.advance_to = advance_to
        self.run_over = run_over
        self.hosts = [v for v in fleet.variants if v.hosting is not None]
        self._placement = {h.index: Placement(h.hosting.scale_in_copy_order) for h in self.hosts}
        self.desired = {v.index: v.component.initial_copies for v in fleet.variants if v.component is not None}
        self._by_name = {v.component.name: v for v in fleet.variants if v.component is not None}
        self._placed: dict[tuple[int, int], _Placed] = {}     # (host variant, copy id) -> placed copy
        self._tally = {v: [0, 0] for v in self.desired}       # component -> [its copies in _placed, serving]
        self.copy_of_row: dict[int, _Placed] = {}              # request-plane row -> placed copy
        self._identity: dict[int, tuple[int, str]] = {}        # row -> (host instance, ContainerId), kept
        self.copy_intervals: list[CopyInterval] = []           # closed intervals of copies on instances
        self._idle_since: dict[int, float] = {}                # host instance -> since when it hosts no copy
        self._last_action = {h.index: 0.0 for h in self.hosts}
        self._starting = True
        # copy counts over time per component: change times and (desired, serving, loading, pending)
        self._times = {v: [0.0] for v in self.desired}
        self._counts = {v: [(d, 0, 0, 0)] for v, d in self.desired.items()}
        instances.on_in_service.append(self._instance_in_service)
        instances.on_out_of_service.append(self._instance_out_of_service)

    # -- queries ------------------------------------------------------------------------------------
    def counts_at(self, variant: int, times: np.ndarray) -> dict[str, np.ndarray]:
        """Each gauge of `COPY_GAUGES` at `times`."""
        position = np.searchsorted(np.asarray(self._times[variant]), times, side="right") - 1
        table = np.asarray(self._counts[variant], dtype=np.float64)[np.maximum(position, 0)]
        return dict(zip(COPY_GAUGES, table.T))

    def mean_serving(self, variant: int, begin: float, end: float) -> float:
        """Time-weighted mean number of the component's copies in service over [begin, end)."""
        times = np.asarray(self._times[variant])
        counts = np.asarray([c[1] for c in self._counts[variant]], dtype=np.float64)
        if end <= begin:
            return float(counts[np.searchsorted(times, begin, side="right") - 1])
        edges = np.clip(np.append(times, np.inf), begin, end)
        return float(np.sum(np.diff(edges) * counts) / (end - begin))

    def serving_seconds(self, variant: int, until_s: float) -> float:
        """Copy-seconds in service in [0, until_s)."""
        return self.mean_serving(variant, 0.0, until_s) * until_s if until_s > 0 else 0.0

    def peak_serving(self, variant: int) -> int:
        return max(c[1] for c in self._counts[variant])

    def container_id(self, row: int) -> str:
        """The ContainerId of the copy a request-plane row is (or was)."""
        return self._identity[row][1]

    def host_of_row(self, row: int) -> int:
        """The request-plane index of the instance a copy's row runs (or ran) on."""
        return self._identity[row][0]

    def reserved_on(self, instance: int):
        """The `Capacity` the copies on a host instance reserve (zero when it hosts none)."""
        variant = int(self.plane.instance_variant[instance])
        placement = self._placement[variant]
        return placement.used(instance) if instance in placement.instance_ids else None

    def intervals(self, until_s: float) -> dict[int, tuple[list[InstanceInterval], list[CopyInterval]]]:
        """Per hosting variant: the billed intervals of its instances and the intervals of the copies
        on them over [0, until_s), for `simfleet.inference_components.cost_shares`."""
        out = {h.index: ([], []) for h in self.hosts}
        for instance in self.instances.instances:
            variant = self.fleet.variants[instance.variant]
            if variant.hosting is None or instance.billed_from_s is None or instance.billed_from_s >= until_s:
                continue
            end = until_s if instance.billed_until_s is None else min(instance.billed_until_s, until_s)
            out[variant.index][0].append(InstanceInterval(instance.index, variant.hosting.capacity,
                                                          variant.instance_type.price_per_hour,
                                                          instance.billed_from_s, end))
        copies = self.copy_intervals + [
            CopyInterval(p.copy.component, p.host_instance, p.copy.reservation, p.placed_s, until_s)
            for p in self._placed.values()]
        for c in copies:
            if c.start_s < until_s:
                host = int(self.plane.instance_variant[c.instance_id])
                out[host][1].append(c if c.end_s <= until_s else
                                    CopyInterval(c.component, c.instance_id, c.reservation, c.start_s, until_s))
        return out

    # -- changes ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the managed scaling checks (before the initial instances enter service)."""
        for host in self.hosts:
            if host.hosting.scaling is not None:
                self.env.process(self._scale_in_checks(host))

    def started(self) -> None:
        """The initial instances are in service: place every component's initial copies on them
        (in service at once, the endpoint as deployed); copies that fit nowhere make managed instance
        scaling launch instances, and copies placed from now on load before serving."""
        for variant, count in self.desired.items():
            self._add(variant, count, "initial copy count")
        self._starting = False
        for variant, count in self.desired.items():
            component = self.fleet.variants[variant].component
            for copy in self._placement[component.host].pending:
                if copy.component == component.name:
                    host = self.fleet.variants[component.host]
                    self.events.add(0.0, "CopyPending", host.endpoint_name, host.variant_name,
                                    inference_component=copy.component, copy=f"{copy.component}-{copy.copy_id}",
                                    reason="initial copy count")
        for host in self.hosts:
            self._scale_out(host)
        for variant in self.desired:
            self._record(variant)

    def reconcile(self, variant: int, desired: int, reason: str) -> None:
        """Add or remove copies of a component so that it has `desired` (placed or pending)."""
        self.advance_to(self.env.now)
        self.desired[variant] = desired
        component = self.fleet.variants[variant].component
        current = len(self._placement[component.host].copies_of(component.name))
        if desired > current:
            self._add(variant, desired - current, reason)
            self._scale_out(self.fleet.variants[component.host])
        elif desired < current:
            removed, placed = self._placement[component.host].remove_copies(component.name, current - desired)
            for copy in removed:
                self._retire(component.host, copy, reason)
            self._took(placed, "room freed by a removed copy")
        self._record(variant)

    def _add(self, variant: int, count: int, reason: str) -> None:
        component = self.fleet.variants[variant].component
        made, placed = self._placement[component.host].add_copies(component.name, component.reservation, count,
                                                                  component.strategy)
        self._took(placed, reason)
        where = self.fleet.variants[component.host]
        for copy in made:
            if not self._starting and (component.host, copy.copy_id) not in self._placed:
                self.events.add(self.env.now, "CopyPending", where.endpoint_name, where.variant_name,
                                inference_component=component.name, copy=f"{component.name}-{copy.copy_id}",
                                reason=reason)

    def _took(self, placed: list, reason: str) -> None:
        """Start each newly placed copy: its row, its load, its interval."""
        now = float(self.env.now)
        touched = set()
        for copy, host_instance in placed:
            variant = self._by_name[copy.component]
            _, workers, queue_limits = variant.stations()
            row = self.plane.add_instance(variant.index, workers, queue_limits, in_service=False)
            record = _Placed(copy, variant.index, host_instance, row, now)
            self._unplace(self._placed.get((variant.component.host, copy.copy_id)))
            self._placed[(variant.component.host, copy.copy_id)] = record
            self._tally[variant.index][0] += 1
            self.copy_of_row[row] = record
            self._identity[row] = (host_instance, f"{copy.component}-{copy.copy_id}")
            self._idle_since.pop(host_instance, None)
            host = self.fleet.variants[variant.component.host]
            load_s = 0.0 if self._starting else variant.component.load_time_s
            self.events.add(now, "CopyPlaced", host.endpoint_name, host.variant_name, instance_id(host_instance + 1),
                            inference_component=variant.component.name, copy=self.container_id(row), load_s=load_s,
                            reason=reason)
            if load_s == 0.0:
                self._serve(record)
            else:
                self.env.process(self._load(record, load_s))
            touched.add(variant.index)
        for variant in touched:
            self._record(variant)

    def _load(self, record: _Placed, load_s: float):
        yield self.env.timeout(load_s)
        if record.state == LOADING and self.copy_of_row.get(record.row) is record:
            self.advance_to(self.env.now)
            self._serve(record)
            self._record(record.variant)

    def _serve(self, record: _Placed) -> None:
        if record.state != SERVING:
            self._tally[record.variant][1] += 1
        record.state = SERVING
        self.plane.set_in_service(record.row, True)
        host = self.fleet.variants[self.fleet.variants[record.variant].component.host]
        self.events.add(self.env.now, "CopyInService", host.endpoint_name, host.variant_name,
                        instance_id(record.host_instance + 1), inference_component=record.copy.component,
                        copy=self.container_id(record.row), placed_s=record.placed_s)

    def _retire(self, host_variant: int, copy: Copy, reason: str) -> None:
        """A copy leaves: out of routing (its accepted requests finish), its interval closed."""
        record = self._placed.pop((host_variant, copy.copy_id), None)
        self._unplace(record)
        host = self.fleet.variants[host_variant]
        name = f"{copy.component}-{copy.copy_id}"
        if record is None:  # it was pending
            self.events.add(self.env.now, "CopyRemoved", host.endpoint_name, host.variant_name,
                            inference_component=copy.component, copy=name, reason=reason, was="Pending")
            return
        if record.state == SERVING:
            self.plane.set_in_service(record.row, False)
        del self.copy_of_row[record.row]
        now = float(self.env.now)
        self.copy_intervals.append(CopyInterval(copy.component, record.host_instance, copy.reservation,
                                                record.placed_s, now))
        self.events.add(now, "CopyRemoved", host.endpoint_name, host.variant_name,
                        instance_id(record.host_instance + 1), inference_component=copy.component, copy=name,
                        reason=reason, was=record.state)
        if not self._placement[host_variant].copies_on(record.host_instance):
            self._idle_since.setdefault(record.host_instance, now)
        self._record(record.variant)

    # -- the host's instances -----------------------------------------------------------------------
    def _instance_in_service(self, instance) -> None:
        host = self.fleet.variants[instance.variant]
        if host.hosting is None:
            return
        self._idle_since[instance.index] = float(self.env.now)
        placed = self._placement[host.index].add_instance(instance.index, host.hosting.capacity)
        self._took(placed, f"{instance.id} in service")
        for variant in host.hosting.components:
            self._record(variant)

    def _instance_out_of_service(self, instance, why: str = "left service") -> None:
        host = self.fleet.variants[instance.variant]
        if host.hosting is None:
            return
        self._idle_since.pop(instance.index, None)
        placement = self._placement[host.index]
        if instance.index not in placement.instance_ids:
            return
        moved = [self._placed[(host.index, c.copy_id)] for c in placement.copies_on(instance.index)]
        displaced, placed = placement.remove_instance(instance.index)
        for record in moved:  # out of routing and closed; the copy itself lives on, pending or placed anew
            del self._placed[(host.index, record.copy.copy_id)]
            self._unplace(record)
            if record.state == SERVING:
                self.plane.set_in_service(record.row, False)
            del self.copy_of_row[record.row]
            self.copy_intervals.append(CopyInterval(record.copy.component, instance.index, record.copy.reservation,
                                                    record.placed_s, float(self.env.now)))
            self.events.add(self.env.now, "CopyDisplaced", host.endpoint_name, host.variant_name, instance.id,
                            inference_component=record.copy.component, copy=self.container_id(record.row),
                            reason=f"{instance.id} {why}", was=record.state)
        self._took(placed, f"{instance.id} {why}")
        displaced_ids = {c.copy_id for c in displaced}
        for copy in placement.pending:
            if copy.copy_id in displaced_ids:
                self.events.add(self.env.now, "CopyPending", host.endpoint_name, host.variant_name,
                                inference_component=copy.component, copy=f"{copy.component}-{copy.copy_id}",
                                reason=f"{instance.id} {why}")
        self._scale_out(host)
        for variant in host.hosting.components:
            self._record(variant)

    # -- managed instance scaling -------------------------------------------------------------------
    def _scale_out(self, host: VariantRuntime) -> None:
        """Launch the fewest instances on which every pending copy fits (module docstring)."""
        scaling = host.hosting.scaling
        placement = self._placement[host.index]
        pending = placement.pending
        if scaling is None or not pending:
            return
        capacity = self.instances.capacity(host.index)
        launching = len(self.instances.of_variant(host.index, PENDING))
        room = scaling.max_instances - capacity
        runs = _runs(pending)
        # fewer instances than the lower bound cannot hold the copies: start the search there (the
        # answer is the search's from 0); no bound when a copy fits on no empty instance at all
        least = _least_instances(runs, host.hosting.capacity)
        needed = max(0, min(room, least - launching)) if least is not None else max(0, room)
        while needed < room and not _fits_on_empty(runs, launching + needed, host):
            needed += 1
        if needed:
            self._last_action[host.index] = float(self.env.now)
            self.instances.reconcile(host.index, capacity + needed,
                                     f"managed instance scaling: {len(pending)} copies pending")

    def _scale_in_checks(self, host: VariantRuntime):
        k = 1
        while True:
            if not (yield from at_time(self.env, k * CHECK_S, self.run_over)):
                return
            k += 1
            self._scale_in(host)

    def _scale_in(self, host: VariantRuntime) -> None:
        scaling = host.hosting.scaling
        now = float(self.env.now)
        if now - self._last_action[host.index] < scaling.cooldown_s:
            return
        placement = self._placement[host.index]
        serving = {i.index: i for i in self.instances.of_variant(host.index, IN_SERVICE)}
        allowed = min(scaling.maximum_step, self.instances.capacity(host.index) - scaling.min_instances)
        if allowed <= 0:
            return
        idle = sorted((i for i in placement.idle_instances() if i in serving),
                      key=lambda i: (self._idle_since.get(i, now), i))[:allowed]
        if not idle and scaling.strategy == "CONSOLIDATION":
            idle = self._consolidate(host, serving)
        if not idle:
            return
        self._last_action[host.index] = now
        for index in idle:
            placement.remove_instance(index)  # it hosts no copy: nothing moves
            self._idle_since.pop(index, None)
            self.instances.release(serving[index], f"managed instance scaling: {scaling.strategy}")

    def _consolidate(self, host: VariantRuntime, serving: dict) -> list[int]:
        """Empty the instance with the fewest copies onto the others when they all fit; returns it."""
        placement = self._placement[host.index]
        candidates = [i for i in placement.instance_ids if i in serving]
        if len(candidates) < 2 or placement.pending:
            return []
        emptied = min(candidates, key=lambda i: (len(placement.copies_on(i)), -i))
        scratch = Placement()
        for i in candidates:
            if i != emptied:
                scratch.add_instance(i, placement.free(i))
        for copy in placement.copies_on(emptied):
            scratch.add_copies(copy.component, copy.reservation, 1, copy.strategy)
        if scratch.pending:
            return []
        self._instance_out_of_service(_Leaving(emptied, host.index, instance_id(emptied + 1)),
                                      "emptied by CONSOLIDATION")
        placement.add_instance(emptied, host.hosting.capacity)  # back, empty, to be released
        return [emptied]

    def _unplace(self, record: _Placed | None) -> None:
        """Keep `_tally` as `_placed` loses `record` (None: nothing lost)."""
        if record is not None:
            tally = self._tally[record.variant]
            tally[0] -= 1
            if record.state == SERVING:
                tally[1] -= 1

    def _record(self, variant: int) -> None:
        component = self.fleet.variants[variant].component
        placed, serving = self._tally[variant]
        pending = self._placement[component.host].pending_count(component.name)
        counts = (self.desired[variant], serving, placed - serving, pending)
        now = float(self.env.now)
        if self._times[variant][-1] == now:
            self._counts[variant][-1] = counts
        else:
            self._times[variant].append(now)
            self._counts[variant].append(counts)


@dataclass(frozen=True)
class _Leaving:
    """An instance seen as leaving service by `_instance_out_of_service` (consolidation)."""

    index: int
    variant: int
    id: str


def _runs(pending) -> list[tuple[str, Capacity, str, int]]:
    """Pending copies as runs of like copies in a row: (component, reservation, strategy, count)."""
    runs: list[tuple[str, Capacity, str, int]] = []
    for copy in pending:
        if runs and runs[-1][:3] == (copy.component, copy.reservation, copy.strategy):
            runs[-1] = (*runs[-1][:3], runs[-1][3] + 1)
        else:
            runs.append((copy.component, copy.reservation, copy.strategy, 1))
    return runs


def _least_instances(runs, capacity: Capacity) -> int | None:
    """A lower bound on the empty instances of `capacity` that hold every copy of `runs` (at least
    one): their reservations summed, over one instance's capacity, rounded up, in each resource.
    None when some copy fits on no empty instance (no number of them holds it)."""
    total_cpu, total_accelerators, total_memory = Fraction(0), 0, Fraction(0)
    for _, reservation, _, count in runs:
        if not reservation.fits_in(capacity):
            return None
        total_cpu += reservation.cpu_cores * count
        total_accelerators += reservation.accelerators * count
        total_memory += reservation.memory_mb * count
    least = 1
    for total, per_instance in ((total_cpu, capacity.cpu_cores), (total_accelerators, capacity.accelerators),
                                (total_memory, capacity.memory_mb)):
        if total > 0:  # then per_instance > 0: a copy reserving this resource fits on one instance
            least = max(least, math.ceil(Fraction(total) / per_instance))
    return least


def _fits_on_empty(runs, count: int, host: VariantRuntime) -> bool:
    """Would every pending copy (as `_runs`) fit on `count` empty instances of the host's type?

    The same answer as adding the copies one at a time: a `Placement` tries only the copies added
    (the pending ones fit nowhere), in order; and a copy left pending stays pending as more are added."""
    scratch = Placement()
    for k in range(count):
        scratch.add_instance(k, host.hosting.capacity)
    for component, reservation, strategy, n in runs:
        scratch.add_copies(component, reservation, n, strategy)
        if scratch.pending:
            return False
    return True
