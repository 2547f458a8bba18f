"""Streaming aggregation of raw metric values into CloudWatch datapoints, period by period.

The engine hands over each dispatched batch and calls `close_tick` at every tick of the metric
clock (the greatest common divisor of the publish periods in use). At a tick, each metric
group whose period ends there is published:

* invocation metrics of a variant: the requests whose response was sent in the period (a
  response comes after its arrival, so every such request has been dispatched by then);
* utilization of a variant's instances: busy time over the period, one value per instance;
* `ConcurrentRequestsPerModel`: each instance's requests in its container (queued or in
  service), counted every `concurrency_sample_interval`;
* simfleet's instance counts of a variant (desired, in service, pending, draining), sampled as
  often, at the utilization period;
* a serverless variant has no instances, hence none of the above host and instance metrics: its
  invocation metrics are those the catalog lists for serverless (with `ModelSetupTime` and the
  Provisioned Concurrency counts), and its gauges (executions, Provisioned Concurrency, memory) are
  sampled at the utilization period from its executions and environments
  (`metrics.serverless_gauges`, which `add_environment` feeds);
* a multi-model variant adds its cache metrics (`metrics.model_cache_metrics`: `ModelCacheHit`,
  `ModelLoadingWaitTime`, the download, load and unload times, `LoadedModelCount`) at the standard
  1-minute period, and its host memory, GPU memory and disk follow what its caches hold
  (`emission.utilization_values`), from the cache events `add_cache` hands over. Those carry the
  instance, not the variant: they are sorted to their variants at the next tick, where the
  instances' variants are known.

Each datapoint keeps its `Distribution` (the underlying values) beside its statistics, in the
run's `DatapointBuffer` (`metrics.datapoints`), so that queries can re-bucket to coarser periods
exactly. Pending requests are filed by the period their response falls in, so a close reads its
own period's requests only. Working memory is bounded by one period of requests and the requests
still in flight, not by the length of the run.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from simfleet.config.experiment import MetricsSection
from simfleet.metrics.aggregation_kernels import sample_occupancy
from simfleet.cloudwatch.distribution import Distribution
from simfleet.inference_components.placement import Capacity
from simfleet.request_records import ENV_NONE, MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK
from simfleet.request_records import CacheRecords, EnvironmentRecords, HopRecords, RequestRecords, group_slices
from simfleet.fleet import Fleet, instance_id
from simfleet.metrics.datapoints import DatapointBuffer
from simfleet.metrics.emission import (ENDPOINT_NAMESPACE, INVOCATION_NAMESPACE, SIMFLEET_NAMESPACE,
                                       STATUS_NAMES, device_utilization, fleet_gauge_values, utilization_values)
from simfleet.metrics.component_utilization import COMPONENT_NAMESPACE, CopyUse, copy_use, copy_values, host_values
from simfleet.metrics.invocation_datapoints import invocation_distributions
from simfleet.metrics.model_cache_gauges import CacheOccupancy, cache_steps, sample_times
from simfleet.metrics.model_cache_metrics import ModelCacheMetrics
from simfleet.metrics.serverless_gauges import SampledState, has_provisioned, request_values, serverless_metrics

__all__ = ["MetricsAggregator"]

#: outcomes whose request occupies its instance from arrival to its last container's completion, by code
_SERVED_TABLE = np.zeros(len(STATUS_NAMES), np.bool_)
_SERVED_TABLE[[OK, MODEL_ERROR, MODEL_TIMEOUT]] = True


class MetricsAggregator:
    """Turns request records and instance busy time into datapoints as their periods close."""

    def __init__(self, fleet: Fleet, settings: MetricsSection, start: dt.datetime, instance_counts=None,
                 components=None):
        """`instance_counts(variant_index, times)` gives the count gauges (`fleet_gauge_values`): an
        inference component's are its copies'; `components` (`engine.component_copies.ComponentCopies`)
        tells where each copy runs, for the metrics of inference components."""
        self.fleet = fleet
        self.instance_counts = instance_counts
        self.components = components
        self._copy_use: dict[int, tuple] = {}  # copy row -> its use over the utilization period just closed
        # hosting variants publish after their components, whose copies' use they sum
        self._utilization_order = sorted(fleet.variants, key=lambda v: v.hosting is not None)
        self.sample_interval = settings.concurrency_sample_interval
        self.start = start
        self.accelerator_dimension = settings.accelerator_dimension
        self.include_rejected = settings.invocations_include_rejected
        self.buffer = DatapointBuffer(settings.percentiles, settings.histogram_scale, settings.accelerator_dimension)
        concurrency = {v.plan.concurrency_s for v in fleet.variants}
        if len(concurrency) != 1:
            raise ValueError("every variant must publish concurrency at the same period")
        self.concurrency_s = concurrency.pop()
        # evenly spaced samples, at least one per period (high resolution publishes every second)
        self.samples_per_period = max(1, int(round(self.concurrency_s / settings.concurrency_sample_interval)))
        self._pending = [_PendingByPeriod(v.plan.invocation_s) for v in fleet.variants]
        # hops through the containers of serial pipelines, filed by when each container answered
        self._pending_hops = [_PendingByPeriod(v.plan.invocation_s, "complete_s") for v in fleet.variants]
        # (instance, arrival, completion, outcome) of requests that may be on an instance
        # at the next concurrency close: one part per batch, and the part still there at the last close
        self._occupancy: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._busy_mark = np.zeros((0, 0))  # per station and worker slot, at the last utilization close
        self._serverless = {v.index: SampledState(v) for v in fleet.variants if v.serverless is not None}
        # multi-model variants: their cache metrics, and what their caches hold for the host metrics
        self._multi_model = {v.index: ModelCacheMetrics(v, settings.concurrency_sample_interval)
                             for v in fleet.variants if v.multi_model is not None}
        self._cache_held = {index: CacheOccupancy() for index in self._multi_model}
        self._cache_records: list[CacheRecords] = []

    # -- input ------------------------------------------------------------------------------------
    def add(self, records: RequestRecords) -> None:
        if not len(records):
            return
        for index, mine in records.by_variant(len(self._pending)):
            self._pending[index].add(mine)
            if index in self._serverless:
                environment = mine.environment if mine.environment is not None else np.zeros(len(mine), np.int8)
                self._serverless[index].add(mine.arrival_s, mine.complete_s, environment)
            elif index in self._multi_model:
                self._multi_model[index].add(mine)
        if self._serverless:  # serverless requests are on no instance (-1)
            records = records.select(records.instance >= 0)
        self._occupancy.append((records.instance, records.arrival_s, records.complete_s, records.status))

    def add_environment(self, records: EnvironmentRecords) -> None:
        """Lifecycle records of serverless environments (starts, reaps, provisioned changes)."""
        if not len(records):
            return
        for index in np.unique(records.variant):
            mine = records.variant == index
            self._serverless[int(index)].add_environment(
                EnvironmentRecords(records.time_s[mine], records.variant[mine], records.kind[mine]))

    def add_cache(self, records: CacheRecords) -> None:
        """Model cache events of multi-model instances (kept until the next tick sorts them by variant)."""
        if len(records):
            self._cache_records.append(records)

    def _sort_cache_records(self, instance_variant: np.ndarray) -> None:
        """Hand the cache events received so far to their variants."""
        records, self._cache_records = self._cache_records, []
        for part in records:
            variant = instance_variant[part.instance]
            one = variant.min() == variant.max()  # (the common case: a single multi-model variant)
            for index in ([int(variant[0])] if one else np.unique(variant).tolist()):
                picked = part
                if not one:
                    mine = variant == index
                    picked = CacheRecords(*(getattr(part, name)[mine] for name in
                                            ("time_s", "instance", "model", "kind", "duration_s")))
                # one set of steps for both readers of what the caches hold
                steps = cache_steps(picked, self.fleet.variants[index].multi_model)
                self._multi_model[index].add_events(picked, steps)
                self._cache_held[index].add_steps(steps)

    def add_hops(self, hops: HopRecords) -> None:
        """The hops of requests through the containers of serial pipelines (`ContainerLatency`)."""
        if not len(hops):
            return
        order, groups = group_slices(hops.variant, len(self._pending_hops))
        grouped = hops if order is None else hops.select(order)
        for index, rows in groups:
            self._pending_hops[index].add(grouped.select(rows))

    def close_tick(self, t: float, slot_busy: np.ndarray, instance_variant: np.ndarray,
                   in_service: np.ndarray, first_station: np.ndarray | None = None) -> None:
        """Publish every metric group whose period ends at `t` (seconds from the start).

        `slot_busy` is the busy worker-seconds of every station's slots over [0, t): a station per
        container of each instance, those of instance i from `first_station[i]` on (by default one
        per instance, in instance order).
        """
        if first_station is None:
            first_station = np.arange(len(instance_variant))
        if self._cache_records:
            self._sort_cache_records(instance_variant)
        closing = [v for v in self.fleet.variants if _ends_at(t, v.plan.invocation_s)]
        if closing:
            self._emit_requests(t, closing)
        for variant in self._utilization_order:
            if _ends_at(t, variant.plan.utilization_s):
                self._emit_utilization(t, variant, slot_busy, instance_variant, in_service, first_station)
                if variant.index in self._serverless:
                    self._emit_serverless_gauges(t, variant)
                elif self.instance_counts is not None:
                    self._emit_instance_counts(t, variant)
        for index, cache in self._multi_model.items():
            if _ends_at(t, cache.period_s):
                self._emit_model_cache(t, self.fleet.variants[index], instance_variant, in_service)
        if _ends_at(t, self.concurrency_s):
            self._emit_concurrency(t, instance_variant, in_service)

    def pending_requests(self) -> RequestRecords:
        """Requests dispatched but not yet published (answered after their period's last close)."""
        parts = [part for pending in self._pending for part in pending.parts()]
        return RequestRecords.concat(parts) if parts else RequestRecords.empty()

    # -- publishing -------------------------------------------------------------------------------
    def _timestamp(self, end_s: float, period_s: int) -> dt.datetime:
        return self.start + dt.timedelta(seconds=end_s - period_s)

    def _dims(self, variant, instance: int | None = None, device: int | None = None) -> dict:
        if variant.component is not None:  # `instance`: a copy's row
            dims = {"InferenceComponentName": variant.component.name}
            if instance is not None:
                dims["InstanceId"] = instance_id(self.components.host_of_row(instance) + 1)
                dims["ContainerId"] = self.components.container_id(instance)
            if device is not None:
                dims[self.accelerator_dimension] = str(device)
            return dims
        dims = {"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name}
        if instance is not None:
            dims["InstanceId"] = instance_id(instance + 1)
        if device is not None:
            dims[self.accelerator_dimension] = str(device)
        return dims

    def _emit_requests(self, t: float, closing: list) -> None:
        for variant in closing:
            period = variant.plan.invocation_s
            parts = self._pending[variant.index].take_answered_before(t)
            if not parts:
                if variant.component is not None:
                    self._emit_idle_copies(t, variant)
                continue
            if variant.component is not None:
                self._emit_no_capacity(t, variant, parts)
            published = _Published.of(parts, self.include_rejected)
            if not len(published.status):
                continue
            timestamp = self._timestamp(t, period)
            groups = [(self._dims(variant), published)]
            if variant.plan.enhanced:
                groups += [(self._dims(variant, instance), group) for instance, group in published.by_instance()]
            serverless = variant.serverless is not None
            for dims, group in groups:
                for metric, unit, dist in invocation_distributions(group.status, group.active_instances,
                                                                   group.model_latency_s, group.overhead_s,
                                                                   variant, self.buffer.scale):
                    if variant.component is not None and metric == "InvocationsPerInstance":
                        metric = "InvocationsPerCopy"  # 1 / copies in service, by analogy (catalog notes)
                    if not serverless or (INVOCATION_NAMESPACE, metric) in serverless_metrics():
                        self.buffer.add_distribution(timestamp, period, INVOCATION_NAMESPACE, metric, unit, dims, dist)
            if serverless and published.setup_s is not None:
                provisioned = has_provisioned(variant, self._serverless[variant.index].level_seen)
                for metric, unit, dist in request_values(published.setup_s, published.environment, provisioned,
                                                         self.buffer.scale):
                    self.buffer.add_distribution(timestamp, period, INVOCATION_NAMESPACE, metric, unit,
                                                 self._dims(variant), dist)
            if variant.direct:
                self._emit_direct_containers(timestamp, period, variant, published)
        for variant in closing:
            if len(variant.containers) > 1 and not variant.direct:
                self._emit_pipeline_containers(t, variant)

    def _emit_idle_copies(self, t: float, variant) -> None:
        """`InvocationsPerCopy` of 0 for a component with a copy in service and no request in the period.

        simfleet's choice: AWS's scale-to-zero guide scales copies in to zero by target tracking on
        this metric, which needs datapoints in idle periods (a managed alarm without data never acts)."""
        period = variant.plan.invocation_s
        times = t - period + np.arange(max(1, int(round(period / self.sample_interval)))) * self.sample_interval
        if self.instance_counts(variant.index, times)["InServiceCopies"].max() > 0:
            self.buffer.add_distribution(self._timestamp(t, period), period, INVOCATION_NAMESPACE, "InvocationsPerCopy",
                                         "None", self._dims(variant),
                                         Distribution.from_distinct(np.array([0.0]), [1], 0.0, self.buffer.scale))

    def _emit_no_capacity(self, t: float, variant, parts: list[RequestRecords]) -> None:
        """`NoCapacityInvocationFailures` of an inference component: a 1 for each request that found
        no copy in service, in periods that have one (emitted on the event only [ZERO])."""
        failures = sum(int(np.count_nonzero(part.status == NO_CAPACITY)) for part in parts)
        if failures:
            period = variant.plan.invocation_s
            self.buffer.add_distribution(self._timestamp(t, period), period, INVOCATION_NAMESPACE,
                                         "NoCapacityInvocationFailures", "None", self._dims(variant),
                                         Distribution.from_distinct(np.array([1.0]), [failures], float(failures),
                                                                    self.buffer.scale))

    def _emit_direct_containers(self, timestamp, period: int, variant, published: "_Published") -> None:
        """A direct-invocation endpoint's per-container `Invocations`, 4XX, 5XX, `OverheadLatency` and
        `ContainerLatency` (its one container's ModelLatency) [MCE]; requests that named no container
        of the variant count only at the variant's level."""
        named = published.select((published.container >= 0) & (published.container < len(variant.containers)))
        if not len(named.status):
            return
        order, groups = group_slices(named.container, len(variant.containers))
        grouped = named if order is None else named.select(order)
        for container, rows in groups:
            group = grouped.select(rows)
            dims = {**self._dims(variant), "ContainerName": variant.containers[container].hostname}
            for metric, unit, dist in invocation_distributions(group.status, group.active_instances,
                                                               group.model_latency_s, group.overhead_s,
                                                               variant, self.buffer.scale):
                if metric in _PER_CONTAINER:
                    self.buffer.add_distribution(timestamp, period, INVOCATION_NAMESPACE, _PER_CONTAINER[metric],
                                                 unit, dims, dist)

    def _emit_pipeline_containers(self, t: float, variant) -> None:
        """A serial pipeline's `ContainerLatency` per container: each hop's time from the request
        reaching the container to the container's answer, in the period of that answer [PIPE]."""
        period = variant.plan.invocation_s
        parts = self._pending_hops[variant.index].take_answered_before(t)
        if not parts:
            return
        hops = HopRecords.concat(parts)
        timestamp = self._timestamp(t, period)
        order, groups = group_slices(hops.container, len(variant.containers))
        grouped = hops if order is None else hops.select(order)
        for container, rows in groups:
            group = grouped.select(rows)
            dims = {**self._dims(variant), "ContainerName": variant.containers[container].hostname}
            latency_us = (group.complete_s - group.arrival_s) * 1e6
            self.buffer.add(timestamp, period, INVOCATION_NAMESPACE, "ContainerLatency", "Microseconds", dims,
                            latency_us)

    def _emit_utilization(self, t: float, variant, slot_busy, instance_variant, in_service, first_station) -> None:
        mark = np.zeros_like(slot_busy)
        rows, cols = self._busy_mark.shape
        mark[:rows, :cols] = self._busy_mark
        members = np.flatnonzero((instance_variant == variant.index) & in_service)
        mine = np.flatnonzero(instance_variant == variant.index)
        period = variant.plan.utilization_s
        # mean busy fraction of each slot of each container of the in-service instances: [container][instance, slot]
        # (per-model worker pools: the container's slots are its models' pools' slots, summed by position)
        n_stations = variant.stations()[0]
        if variant.per_model_pools:
            rows = first_station[members][:, None] + np.arange(n_stations)
            busy_slots = [(slot_busy[rows] - mark[rows]).sum(axis=1) / period]
        else:
            busy_slots = [(slot_busy[first_station[members] + c] - mark[first_station[members] + c]) / period
                          for c in range(len(variant.containers))]
        every = (first_station[mine][:, None] + np.arange(n_stations)).ravel()
        mark[every] = slot_busy[every]
        self._busy_mark = mark
        if variant.component is not None:
            self._emit_copies(t, variant, members, busy_slots[0].sum(axis=1))
            return
        if variant.hosting is not None:
            self._emit_hosting(t, variant, members)
            return
        if not len(members):
            return
        timestamp = self._timestamp(t, period)
        busy_workers = [busy.sum(axis=1) for busy in busy_slots]
        held = None
        if variant.index in self._cache_held:  # mean bytes each member's cache held over the period
            levels = self._cache_held[variant.index].sample(sample_times(t, period, self.sample_interval), t,
                                                            len(instance_variant))
            held = levels[members].mean(axis=1)
        for metric, unit, values in utilization_values(variant, busy_workers, held=held):
            self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit, self._dims(variant), values)
        if variant.direct:  # each container's own CPU and memory [MCE]
            for c, container in enumerate(variant.containers):
                dims = {**self._dims(variant), "ContainerName": container.hostname}
                for metric, unit, values in utilization_values(variant, busy_workers, only=c):
                    if metric in ("CPUUtilization", "MemoryUtilization"):
                        self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit, dims, values)
        if not variant.plan.enhanced:
            return
        for row, instance in enumerate(members):
            mine = None if held is None else held[row: row + 1]
            for metric, unit, values in utilization_values(variant, [busy[row: row + 1] for busy in busy_workers],
                                                           held=mine):
                self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit,
                                self._dims(variant, int(instance)), values)
            for metric, unit, per_device in device_utilization(variant, [busy[row] for busy in busy_slots],
                                                               0.0 if held is None else float(held[row, 2])):
                for device, value in enumerate(per_device):
                    self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit,
                                    self._dims(variant, int(instance), device), np.array([value]))

    def _emit_copies(self, t: float, variant, rows: np.ndarray, busy_workers: np.ndarray) -> None:
        """Each serving copy's utilization over its reservation; kept for its host's metrics."""
        use = copy_use(variant, busy_workers)
        for k, row in enumerate(rows):
            self._copy_use[int(row)] = (use.cpu_vcpus[k], use.gpus[k], use.memory_bytes[k], use.gpu_memory_bytes[k])
        if not len(rows):
            return
        period = variant.plan.utilization_s
        timestamp = self._timestamp(t, period)
        values = copy_values(variant, use)
        for metric, unit, per_copy in values:
            self.buffer.add(timestamp, period, COMPONENT_NAMESPACE, metric, unit, self._dims(variant), per_copy)
        if variant.plan.enhanced:
            for k, row in enumerate(rows):
                for metric, unit, per_copy in values:
                    self.buffer.add(timestamp, period, COMPONENT_NAMESPACE, metric, unit,
                                    self._dims(variant, int(row)), per_copy[k: k + 1])

    def _emit_hosting(self, t: float, variant, members: np.ndarray) -> None:
        """A hosting variant's instances: what their copies reserve and use (`component_utilization`)."""
        copies, self._copy_use = self._copy_use, {}
        if not len(members):
            return
        on: dict[int, list] = {}
        for row, use in copies.items():
            on.setdefault(self.components.host_of_row(row), []).append(use)
        used = [None if int(i) not in on else CopyUse(*np.array(on[int(i)]).T) for i in members]
        reserved = [self.components.reserved_on(int(i)) or Capacity() for i in members]
        period = variant.plan.utilization_s
        timestamp = self._timestamp(t, period)
        values = host_values(variant, reserved, used)
        for metric, unit, per_instance in values:
            self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit, self._dims(variant), per_instance)
        if variant.plan.enhanced:
            for k, instance in enumerate(members):
                for metric, unit, per_instance in values:
                    self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit,
                                    self._dims(variant, int(instance)), per_instance[k: k + 1])

    def _emit_serverless_gauges(self, t: float, variant) -> None:
        """A serverless variant's sampled gauges (`serverless_gauges.SampledState.close`)."""
        period = variant.plan.utilization_s
        timestamp = self._timestamp(t, period)
        for namespace, metric, unit, values in self._serverless[variant.index].close(t, period, self.sample_interval):
            if len(values):
                self.buffer.add(timestamp, period, namespace, metric, unit, self._dims(variant), values)

    def _emit_model_cache(self, t: float, variant, instance_variant, in_service) -> None:
        """A multi-model variant's cache metrics of the standard period ending at `t`."""
        cache = self._multi_model[variant.index]
        members = np.flatnonzero((instance_variant == variant.index) & in_service)
        timestamp = self._timestamp(t, cache.period_s)
        for namespace, metric, unit, dist in cache.close(t, members, len(instance_variant), self.buffer.scale):
            self.buffer.add_distribution(timestamp, cache.period_s, namespace, metric, unit, self._dims(variant), dist)

    def _emit_instance_counts(self, t: float, variant) -> None:
        """simfleet's instance-count gauges, sampled every `concurrency_sample_interval` of the period."""
        period = variant.plan.utilization_s
        n = max(1, int(round(period / self.sample_interval)))
        times = t - period + np.arange(n) * (period / n)
        timestamp = self._timestamp(t, period)
        for metric, unit, values in fleet_gauge_values(self.instance_counts(variant.index, times)):
            self.buffer.add(timestamp, period, SIMFLEET_NAMESPACE, metric, unit, self._dims(variant), values)

    def _emit_concurrency(self, t: float, instance_variant, in_service) -> None:
        """Requests in each container (queued or in service) at `samples_per_period` instants."""
        n = self.samples_per_period
        period = self.concurrency_s
        start_s = t - period
        sample_times = start_s + np.arange(n) * (period / n)
        counts, still_there = sample_occupancy(self._occupancy, _SERVED_TABLE, sample_times, t, len(instance_variant))
        self._occupancy = [still_there] if len(still_there[0]) else []
        timestamp = self._timestamp(t, period)
        for variant in self.fleet.variants:
            members = np.flatnonzero((instance_variant == variant.index) & in_service)
            if not len(members) or variant.hosting is not None:  # a host's instances take no request themselves
                continue
            metric = "ConcurrentRequestsPerModel" if variant.component is None else "ConcurrentRequestsPerCopy"
            self.buffer.add(timestamp, period, INVOCATION_NAMESPACE, metric, "None", self._dims(variant),
                            counts[members].ravel())
            if variant.plan.enhanced:
                for row in members:
                    self.buffer.add(timestamp, period, INVOCATION_NAMESPACE, metric, "None",
                                    self._dims(variant, int(row)), counts[row])


def _ends_at(t: float, period_s: int) -> bool:
    """Does a period of `period_s` end at `t`? (t and the periods are whole seconds.)"""
    return round(t) % period_s == 0


#: invocation metrics a direct-invocation container publishes, by the name they take there [MCE]
_PER_CONTAINER = {"Invocations": "Invocations", "Invocation4XXErrors": "Invocation4XXErrors",
                  "Invocation5XXErrors": "Invocation5XXErrors", "OverheadLatency": "OverheadLatency",
                  "ModelLatency": "ContainerLatency"}


class _PendingByPeriod:
    """One variant's dispatched requests (or hops) not yet published, filed by the invocation period
    their answer falls in (period k holds the answers in [k·P, (k+1)·P) seconds from the start): a
    request's response (`response_s`), a hop's container answer (`complete_s`).

    Filing a batch costs a few passes over its answer times and copies nothing unless its
    answers fall in several periods; a close then takes its own period's requests only.
    """

    def __init__(self, period_s: int, answered: str = "response_s"):
        self.period_s = period_s
        self.answered = answered
        self._by_period: dict[int, list] = {}

    def add(self, records) -> None:
        # k·P <= response < (k+1)·P exactly: the edges k·P are exact floats, and a correctly rounded
        # division of a float below k·P by P stays below k (its distance to k is at least k·2**-53,
        # more than half the spacing of floats below k unless k is a power of two, where it is twice).
        # That floor is monotonic, so the periods of the earliest and latest responses bound the rest:
        # a batch within one period (most of them) needs no pass over its responses.
        response = getattr(records, self.answered)
        first, last = math.floor(response.min() / self.period_s), math.floor(response.max() / self.period_s)
        if first == last:
            self._by_period.setdefault(first, []).append(records)
            return
        period = np.floor(response / self.period_s)
        keys = range(first, last + 1) if last - first <= 8 else np.unique(period).astype(np.int64)
        for key in keys:
            mine = period == key
            if mine.any():
                self._by_period.setdefault(int(key), []).append(records.select(mine))

    def take_answered_before(self, t: float) -> list:
        """Remove and return the requests answered before `t` (a multiple of the period), each
        period's in the order they were dispatched."""
        closed = round(t) // self.period_s
        keys = sorted(key for key in self._by_period if key < closed)
        return [part for key in keys for part in self._by_period.pop(key)]

    def parts(self) -> list:
        """Every request still pending, as filed."""
        return [part for key in sorted(self._by_period) for part in self._by_period[key]]


class _Published:
    """The columns the invocation metrics read, of the requests published at one close."""

    def __init__(self, status, active_instances, instance, model_latency_s, overhead_s, container, setup_s=None,
                 environment=None):
        self.status = status
        self.active_instances = active_instances
        self.instance = instance
        self.model_latency_s = model_latency_s
        self.overhead_s = overhead_s
        self.container = container
        self.setup_s = setup_s          # serverless variants only (None otherwise)
        self.environment = environment  # likewise

    @classmethod
    def of(cls, parts: list[RequestRecords], include_rejected: bool) -> "_Published":
        def column(name):
            if getattr(parts[0], name) is None:  # one variant's parts: all serverless or none
                return None
            return getattr(parts[0], name) if len(parts) == 1 else np.concatenate([getattr(p, name) for p in parts])

        published = cls(*(column(name) for name in _COLUMNS))
        if include_rejected:
            return published
        # rejected: reached neither an instance nor a serverless environment (throttles included)
        reached = published.instance >= 0
        if published.environment is not None:
            reached |= published.environment != ENV_NONE
        return published.select(reached)

    def select(self, mask) -> "_Published":
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.all():
            return self
        return _Published(*(None if getattr(self, name) is None else getattr(self, name)[mask] for name in _COLUMNS))

    def by_instance(self):
        """(instance index, its requests in their original order) for each instance reached, ascending."""
        reached = self.select(self.instance >= 0)
        if not len(reached.instance):
            return
        order, groups = group_slices(reached.instance, int(reached.instance.max()) + 1)
        grouped = reached if order is None else reached.select(order)
        for instance, rows in groups:
            yield instance, grouped.select(rows)


_COLUMNS = ("status", "active_instances", "instance", "model_latency_s", "overhead_s", "container", "setup_s",
            "environment")
