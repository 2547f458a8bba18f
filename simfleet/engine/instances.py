"""Instance lifecycle: launch, enter service, drain, terminate, fail and be replaced; billing and counts.

The control plane's side of instances (DESIGN §2). Each instance lives in the request plane
from its launch on, but takes requests only while in service:

    PENDING --(provisioning + model load)--> IN_SERVICE --(scale-in)--> DRAINING --(idle)--> TERMINATED
       |                                          |
       +--(scale-in before it is ready)--> CANCELLED    +--(failure)--> FAILED (replaced if set)

`reconcile(variant, desired)` brings a variant's pending + in-service instances to the desired
count: launches, or on scale-in first cancels pending launches (newest first) and then drains
in-service instances in `instances.scale_in_order`. A draining instance leaves routing at
once; the requests it accepted still finish, and it stops billing when the last one has
(the request plane knows when: `RequestPlane.idle_at`). A failed instance (its health checks
fail) leaves routing at once and stops billing; simfleet lets its accepted requests finish
(it does not fail requests in flight, a simplification) and launches a replacement at once, as
SageMaker replaces unhealthy instances (the desired count does not change).

Every change is an event of `events.parquet`; `counts_at` gives the instance counts over time
behind the simfleet instance-count gauges, and `billed_seconds` / `in_service_seconds` the
instance-seconds the summary turns into cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfleet.config.experiment import InstancesSection
from simfleet.engine.events import EventLog
from simfleet.engine.request_plane import RequestPlane
from simfleet.fleet import Fleet, VariantRuntime, instance_id
from simfleet.rng import RandomStreams

__all__ = ["InstanceManager", "PENDING", "IN_SERVICE", "DRAINING", "TERMINATED", "FAILED", "CANCELLED",
           "GAUGES"]

PENDING, IN_SERVICE, DRAINING, TERMINATED, FAILED, CANCELLED = (
    "Pending", "InService", "Draining", "Terminated", "Failed", "Cancelled")

#: simfleet's instance-count gauges: metric name -> what it counts.
GAUGES = {
    "DesiredInstanceCount": "the variant's desired instance count (the scalable target's capacity)",
    "InServiceInstances": "instances in service (taking requests)",
    "PendingInstances": "instances launched but not yet in service",
    "DrainingInstances": "instances out of routing, finishing the requests they accepted",
}


@dataclass
class _Instance:
    index: int              # request-plane index; the instance id is instance_id(index + 1)
    variant: int
    state: str
    launched_s: float
    billed_from_s: float | None     # None: not billed yet (bill_provisioning off, still pending)
    in_service_s: float | None = None
    out_of_service_s: float | None = None
    billed_until_s: float | None = None

    @property
    def id(self) -> str:
        return instance_id(self.index + 1)


class InstanceManager:
    """Every instance of a run, its state, and the SimPy processes that move it along."""

    def __init__(self, env, plane: RequestPlane, fleet: Fleet, settings: InstancesSection,
                 streams: RandomStreams, events: EventLog, advance_to, duration_s: float):
        self.env = env
        self.plane = plane
        self.fleet = fleet
        self.settings = settings
        self.events = events
        self.advance_to = advance_to  # dispatch every arrival before a time, before routing changes
        self.duration_s = duration_s
        self.instances: list[_Instance] = []
        self.desired = [v.initial_instance_count for v in fleet.variants]
        # called with each instance entering service, and with each leaving it (drained, failed)
        self.on_in_service: list = []
        self.on_out_of_service: list = []
        self._provisioning = []
        self._failures = []
        for variant in fleet.variants:
            # a serverless variant: environments, never instances; an inference component: copies
            if variant.instance_type is None or variant.component is not None:
                self._provisioning.append(None)
                self._failures.append(None)
                continue
            prefix = f"instances/{variant.endpoint_name}/{variant.variant_name}"
            spec = settings.provisioning_time_by_family.get(variant.instance_type.family, settings.provisioning_time)
            self._provisioning.append(streams.draws(f"{prefix}/provisioning", spec.build().sample))
            mttf = settings.mean_time_to_failure
            self._failures.append(None if mttf is None else streams.draws(
                f"{prefix}/failure", lambda rng, n, m=mttf: rng.exponential(m, n)))
        # counts over time per variant: change times and the counts from then on
        self._times: list[list[float]] = [[0.0] for _ in fleet.variants]
        self._counts: list[list[tuple[int, int, int, int]]] = [[(d, 0, 0, 0)] for d in self.desired]
        # instances per variant in each live state, kept as states change, so that a change costs the
        # same however many instances the run has had (terminated and failed ones stay in `instances`)
        self._in_state: list[dict[str, int]] = [dict.fromkeys((PENDING, IN_SERVICE, DRAINING), 0)
                                                for _ in fleet.variants]

    # -- queries ------------------------------------------------------------------------------------
    def of_variant(self, variant: int, *states: str) -> list[_Instance]:
        return [i for i in self.instances if i.variant == variant and (not states or i.state in states)]

    def capacity(self, variant: int) -> int:
        """Pending plus in-service instances: what the desired count is compared with."""
        counts = self._in_state[variant]
        return counts[PENDING] + counts[IN_SERVICE]

    def counts_at(self, variant: int, times: np.ndarray) -> dict[str, np.ndarray]:
        """Each gauge of `GAUGES` at `times` (the count in force at each instant)."""
        position = np.searchsorted(np.asarray(self._times[variant]), times, side="right") - 1
        table = np.asarray(self._counts[variant], dtype=np.float64)[np.maximum(position, 0)]
        return dict(zip(GAUGES, table.T))

    def mean_in_service(self, variant: int, begin: float, end: float) -> float:
        """Time-weighted mean number of the variant's instances in service over [begin, end)."""
        times = np.asarray(self._times[variant])
        counts = np.asarray([c[1] for c in self._counts[variant]], dtype=np.float64)
        edges = np.clip(np.append(times, np.inf), begin, end)
        return float(np.sum(np.diff(edges) * counts) / (end - begin)) if end > begin else float(counts[-1])

    def billed_seconds(self, variant: int, until_s: float) -> float:
        """Instance-seconds billed in [0, until_s)."""
        return self._seconds(variant, until_s, lambda i: (i.billed_from_s, i.billed_until_s))

    def in_service_seconds(self, variant: int, until_s: float) -> float:
        """Instance-seconds in service (taking requests) in [0, until_s)."""
        return self._seconds(variant, until_s, lambda i: (i.in_service_s, i.out_of_service_s))

    def _seconds(self, variant: int, until_s: float, interval) -> float:
        total = 0.0
        for instance in self.instances:
            begin, end = interval(instance)
            if instance.variant == variant and begin is not None and begin < until_s:
                total += min(until_s if end is None else end, until_s) - begin
        return total

    def peak_in_service(self, variant: int) -> int:
        return max(c[1] for c in self._counts[variant])

    # -- changes ------------------------------------------------------------------------------------
    def start(self) -> None:
        """The initial instances: in service and billed from time 0."""
        for variant in self.fleet.variants:
            for _ in range(variant.initial_instance_count):
                instance = self._new(variant, 0.0, IN_SERVICE)
                instance.in_service_s = 0.0
                self.events.add(0.0, "InstanceInService", variant.endpoint_name, variant.variant_name, instance.id,
                                instance_type=variant.instance_type.name, workers=variant.entry.workers,
                                reason="initial instance")
                self._watch_failure(instance)
                for listener in self.on_in_service:
                    listener(instance)
        for variant in self.fleet.variants:
            self._record(variant.index)

    def reconcile(self, variant_index: int, desired: int, reason: str) -> None:
        """Launch or remove instances so that pending + in service equals `desired`."""
        variant = self.fleet.variants[variant_index]
        now = self.env.now
        self.desired[variant_index] = desired
        capacity = self.capacity(variant_index)
        for _ in range(desired - capacity):
            self._launch(variant, reason)
        excess = capacity - desired
        if excess > 0:
            self.advance_to(now)
            pending = sorted(self.of_variant(variant_index, PENDING), key=lambda i: -i.index)
            for instance in pending[:excess]:
                self._end(instance, CANCELLED, now, "InstanceLaunchCancelled", reason)
            excess -= min(excess, len(pending))
            serving = sorted(self.of_variant(variant_index, IN_SERVICE), key=lambda i: i.index,
                             reverse=self.settings.scale_in_order == "newest")
            for instance in serving[:excess]:
                self._drain(instance, reason)
        self._record(variant_index)

    def release(self, instance: "_Instance", reason: str) -> None:
        """Drain one in-service instance chosen by the caller and lower the desired count by one
        (managed instance scaling releases the instances that host no copy)."""
        self.advance_to(self.env.now)
        self.desired[instance.variant] -= 1
        self._drain(instance, reason)
        self._record(instance.variant)

    def _new(self, variant: VariantRuntime, now: float, state: str) -> _Instance:
        _, workers, queue_limits = variant.stations()
        index = self.plane.add_instance(variant.index, workers, queue_limits, in_service=state == IN_SERVICE)
        billed_from = now if (self.settings.bill_provisioning or state == IN_SERVICE) else None
        instance = _Instance(index, variant.index, state, now, billed_from)
        self.instances.append(instance)
        self._in_state[variant.index][state] += 1
        return instance

    def _set_state(self, instance: _Instance, state: str) -> None:
        counts = self._in_state[instance.variant]
        if instance.state in counts:
            counts[instance.state] -= 1
        if state in counts:
            counts[state] += 1
        instance.state = state

    def _launch(self, variant: VariantRuntime, reason: str) -> None:
        now = self.env.now
        instance = self._new(variant, now, PENDING)
        provisioning = float(self._provisioning[variant.index].take(1)[0])
        ready_in = provisioning + variant.entry.load_time_s
        self.events.add(now, "InstanceLaunched", variant.endpoint_name, variant.variant_name, instance.id,
                        instance_type=variant.instance_type.name, reason=reason, provisioning_s=provisioning,
                        model_load_s=variant.entry.load_time_s)
        self.env.process(self._become_ready(instance, ready_in))

    def _become_ready(self, instance: _Instance, delay: float):
        yield self.env.timeout(delay)
        if instance.state != PENDING:
            return
        now = self.env.now
        self.advance_to(now)
        self._set_state(instance, IN_SERVICE)
        instance.in_service_s = now
        if instance.billed_from_s is None:
            instance.billed_from_s = now
        self.plane.set_in_service(instance.index, True)
        variant = self.fleet.variants[instance.variant]
        self.events.add(now, "InstanceInService", variant.endpoint_name, variant.variant_name, instance.id,
                        instance_type=variant.instance_type.name, workers=variant.entry.workers,
                        launch_s=now - instance.launched_s)
        self._record(instance.variant)
        self._watch_failure(instance)
        for listener in self.on_in_service:
            listener(instance)

    def _drain(self, instance: _Instance, reason: str) -> None:
        now = self.env.now
        self.plane.set_in_service(instance.index, False)
        self._set_state(instance, DRAINING)
        instance.out_of_service_s = now
        variant = self.fleet.variants[instance.variant]
        for listener in self.on_out_of_service:
            listener(instance)
        idle = self.plane.idle_at(instance.index)
        self.events.add(now, "InstanceDraining", variant.endpoint_name, variant.variant_name, instance.id,
                        reason=reason, in_flight_until_s=None if idle is None else max(now, idle))
        self.env.process(self._terminate_when_idle(instance, idle))

    def _terminate_when_idle(self, instance: _Instance, idle: float | None):
        """Terminate when the last request the instance accepted has left it.

        While a request routed to it still has containers ahead (`idle` None), its end is not known
        yet: look again when the work known so far ends, after advancing the request plane to then
        (a hop due at that very instant is taken one ulp later)."""
        while idle is None:
            until = self.plane.busy_until(instance.index)
            if until <= self.env.now:
                until = float(np.nextafter(self.env.now, np.inf))
            yield self.env.timeout(until - self.env.now)
            self.advance_to(self.env.now)
            idle = self.plane.idle_at(instance.index)
        yield self.env.timeout(max(self.env.now, idle) - self.env.now)
        self._end(instance, TERMINATED, self.env.now, "InstanceTerminated", "drained")
        self._record(instance.variant)

    def _end(self, instance: _Instance, state: str, now: float, event: str, reason: str) -> None:
        self._set_state(instance, state)
        billed = 0.0
        if instance.billed_from_s is not None:
            instance.billed_until_s = now
            billed = now - instance.billed_from_s
        variant = self.fleet.variants[instance.variant]
        self.events.add(now, event, variant.endpoint_name, variant.variant_name, instance.id, reason=reason,
                        billed_s=billed)

    def _watch_failure(self, instance: _Instance) -> None:
        draws = self._failures[instance.variant]
        if draws is not None:
            self.env.process(self._fail_after(instance, float(draws.take(1)[0])))

    def _fail_after(self, instance: _Instance, delay: float):
        if self.env.now + delay >= self.duration_s:
            return
        yield self.env.timeout(delay)
        if instance.state != IN_SERVICE:
            return
        now = self.env.now
        self.advance_to(now)
        self.plane.set_in_service(instance.index, False)
        instance.out_of_service_s = now
        self._end(instance, FAILED, now, "InstanceFailed", "health check failed")
        self._launch(self.fleet.variants[instance.variant], f"replacement for {instance.id}")
        for listener in self.on_out_of_service:  # (after the replacement: it counts as launching)
            listener(instance)
        self._record(instance.variant)

    def _record(self, variant: int) -> None:
        live = self._in_state[variant]
        counts = (self.desired[variant], live[IN_SERVICE], live[PENDING], live[DRAINING])
        now = float(self.env.now)
        if self._times[variant][-1] == now:
            self._counts[variant][-1] = counts
        else:
            self._times[variant].append(now)
            self._counts[variant].append(counts)
