"""`simulate(scenario) -> RunResult`: the single entry point every job calls.

SimPy owns time and everything with a lifecycle (DESIGN §2): instances (`instances`: launches,
drains, failures), the metric clock, after whose every tick the autoscaler's alarms evaluate
(`autoscaler`), scheduled actions and traffic changes. Requests never get a process: between two control events the fleet is
fixed, so `RequestDriver.advance_to(t)` hands every arrival before t to the compiled dispatch
kernel in one call. Control events always advance the request plane to their own time first,
so a state change at t affects exactly the arrivals from t on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import pyarrow as pa
import simpy

from simfleet.config.experiment import ClosedLoopTraffic
from simfleet.scenario import Scenario
from simfleet.config.publish_periods import clock_tick_s, publish_plan
from simfleet.engine.autoscaler import Autoscaler
from simfleet.engine.component_copies import ComponentCopies
from simfleet.engine.environment_pools import EnvironmentPools
from simfleet.engine.model_caches import ModelCaches
from simfleet.engine.events import EventLog
from simfleet.engine.instances import InstanceManager
from simfleet.request_records import CacheRecords, RequestRecords
from simfleet.engine.request_driver import MAX_BATCH_ARRIVALS, RequestDriver
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.users import UserPopulation
from simfleet.engine.timing import at_time
from simfleet.fleet import Fleet, build_fleet
from simfleet.metrics.aggregator import MetricsAggregator
from simfleet.metrics.component_costs import component_costs
from simfleet.metrics.load_generator import LoadGenerator, LoadGeneratorMetrics
from simfleet.metrics.model_cache_activity import ModelCacheActivity
from simfleet.metrics.model_cache_totals import ModelCacheTotals
from simfleet.metrics.run_totals import RunTotals
from simfleet.metrics.serverless_activity import ACTIVITY_EVENT, ServerlessActivity
from simfleet.metrics.serverless_totals import ServerlessTotals
from simfleet.metrics.summary import FleetTime, build_summary
from simfleet.rng import RandomStreams
from simfleet.traffic.rate import RateFunction
from simfleet.traffic.sources import RateDrivenSource, build_source

__all__ = ["simulate", "RunResult", "RunWatcher"]

#: Longest stretch of requests dispatched in one kernel call when no control event cuts it sooner.
MAX_SEGMENT_S = 10.0


@dataclass(frozen=True)
class RunResult:
    metrics: pa.Table
    metric_values: pa.Table
    events: pa.Table
    summary: dict
    fleet: Fleet
    instance_ids: tuple[str, ...]


class RunWatcher(Protocol):
    """Reads a run as it happens and may end it early (the recommender's load tests stop this way).

    `on_datapoint` receives every datapoint as it is published (the `DatapointBuffer` listener
    signature); `on_tick(t)` is called after each tick of the metric clock, once the periods
    ending at `t` are published, and ends the run at `t` by returning True.
    """

    def on_datapoint(self, timestamp, period_s: int, namespace: str, metric: str, dimensions: dict,
                     distribution) -> None: ...

    def on_tick(self, t: float) -> bool: ...


def _model_caches(fleet: Fleet) -> ModelCaches | None:
    """The model caches of the run's multi-model variants (`engine.model_caches`), if any."""
    variants = [v for v in fleet.variants if v.multi_model is not None]
    if not variants:
        return None
    per = {name: [] for name in ("mem_need", "disk_need", "download_s", "load_s", "unload_s", "scale", "cdf",
                                  "spread_at", "wait_limit", "mem_cap", "disk_cap", "channels", "disabled",
                                  "load_timeout", "per_model")}
    for v in variants:
        m = v.multi_model
        memory = m.gpu_memory_bytes if m.gpu else m.memory_bytes
        per["mem_need"].append(memory * m.copies_per_load)
        per["disk_need"].append(m.artifact_bytes)
        per["download_s"].append(m.download_latency_s + m.artifact_bytes / m.download_bandwidth_bps)
        per["load_s"].append(m.load_time_s)
        per["unload_s"].append(np.full(len(m), m.unload_time_s))
        per["scale"].append(m.latency_scale)
        per["cdf"].append(m.popularity_cdf)
        per["spread_at"].append(m.spread_outstanding_requests)
        per["wait_limit"].append(m.invocation_timeout_s)
        per["mem_cap"].append(m.tiers.gpu_memory_bytes if m.gpu else m.tiers.memory_bytes)
        per["disk_cap"].append(m.tiers.disk_bytes)
        # queued: one download at a time; independent: as many at once as there are models; with the
        # cache disabled, `load_concurrency` downloads-and-loads at once (a factor of the vCPUs)
        if not m.cache_enabled:
            per["channels"].append(m.load_concurrency)
        else:
            per["channels"].append(1 if m.download_sharing == "queued" else len(m))
        per["disabled"].append(not m.cache_enabled)
        per["load_timeout"].append(m.load_timeout_s)
        per["per_model"].append(v.per_model_pools)
    return ModelCaches([v.index for v in variants], **per)


def simulate(scenario: Scenario, requests_sink: Callable[[RequestRecords], None] | None = None,
             max_segment_s: float = MAX_SEGMENT_S, watcher: RunWatcher | None = None,
             cache_sink: Callable[[CacheRecords], None] | None = None,
             max_batch: int = MAX_BATCH_ARRIVALS) -> RunResult:
    """Run `scenario` and return its metrics, events and summary.

    `requests_sink`, when given, receives every dispatched batch (the per-request trace), and
    `cache_sink` every batch of multi-model cache events (downloads, loads, unloads, deletions).
    `max_segment_s` and `max_batch` (expected open-loop arrivals, `request_driver.MAX_BATCH_ARRIVALS`)
    only bound the work and memory of one kernel call: results do not depend on them.
    `watcher` may end the run at a tick of the metric clock before the experiment's duration; the
    run is then exactly the run of that shorter duration (summary, billing and `RunEnd` included).
    """
    experiment = scenario.experiment
    duration = experiment.experiment.duration
    start = experiment.experiment.start_time
    streams = RandomStreams(experiment.experiment.seed)
    fleet = build_fleet(scenario)
    plane = RequestPlane([v.routing for v in fleet.variants], [len(v.containers) for v in fleet.variants],
                         [v.direct for v in fleet.variants], [v.stations()[0] for v in fleet.variants])
    serverless = [v for v in fleet.variants if v.serverless is not None]
    if serverless:
        plane.pools = EnvironmentPools([v.index for v in serverless], [v.serverless.max_concurrency for v in serverless],
                                       [v.serverless.idle_timeout_s for v in serverless],
                                       experiment.serverless.account_max_concurrency)
        for v in serverless:
            plane.pools.set_provisioned(v.index, v.serverless.provisioned_concurrency, 0.0)
    plane.caches = _model_caches(fleet)  # before any instance is added: each gets its cache row
    events = EventLog(start)
    env = simpy.Environment()

    sources, source_indices = [], []
    for index, spec in enumerate(experiment.traffic):
        if isinstance(spec, ClosedLoopTraffic):
            continue  # the driver builds the users
        endpoint = spec.endpoint_name or fleet.endpoint_names[0]
        sources.append(build_source(spec, endpoint, index, duration, start.timestamp(), scenario.base_dir, streams))
        source_indices.append(index)

    totals = RunTotals(len(fleet.variants), duration)
    serverless = ServerlessTotals(fleet, duration, experiment.serverless.response_size)
    activity = ServerlessActivity(fleet)
    driver_sinks: list[Callable[[RequestRecords], None]] = []
    driver = RequestDriver(scenario, fleet, plane, streams, list(zip(source_indices, sources)), driver_sinks,
                           max_batch)
    instances = InstanceManager(env, plane, fleet, experiment.instances, streams, events, driver.advance_to, duration)
    components = None
    counts_at = instances.counts_at
    if any(v.hosting is not None for v in fleet.variants):
        components = ComponentCopies(env, plane, fleet, instances, events, driver.advance_to,
                                     lambda: clock is not None and clock.triggered)
        counts_at = _counts(fleet, instances, components)
    aggregator = MetricsAggregator(fleet, experiment.metrics, start, counts_at, components)
    load_generators = LoadGeneratorMetrics(
        [LoadGenerator(p.job_name, p.endpoint_name, p.knots, index) for index, p in driver.populations
                if p.job_name is not None],
        aggregator.buffer, start, publish_plan(experiment, experiment.endpoints[0]).standard_s,
        experiment.metrics.concurrency_sample_interval)
    driver.hop_sinks.append(aggregator.add_hops)
    if cache_sink is not None:
        driver.cache_sinks.append(cache_sink)
    if activity.serverless:
        driver_sinks += [serverless.add, activity.add]
        driver.environment_sinks += [aggregator.add_environment, serverless.add_environment, activity.add_environment]
    cache_totals = ModelCacheTotals(fleet, duration, lambda: plane.instance_variant)
    cache_activity = ModelCacheActivity(fleet, lambda: plane.instance_variant)
    if cache_activity.multi_model:
        driver_sinks += [cache_totals.add, cache_activity.add]
        driver.cache_sinks += [aggregator.add_cache, cache_totals.add_cache, cache_activity.add_cache]
    driver_sinks += [aggregator.add, totals.add] + ([load_generators.add] if load_generators.generators else []) \
        + ([requests_sink] if requests_sink else [])
    tick = clock_tick_s(experiment)

    clock = None  # the metric clock's process, started last

    def run_over() -> bool:
        return clock is not None and clock.triggered

    events.add(0.0, "RunStart", seed=experiment.experiment.seed, duration_s=duration, tick_s=tick)
    driver.provisioned_changes()  # the provisioned environments that exist from the start
    if components is not None:
        components.start()
    instances.start()
    if components is not None:
        components.started()
    autoscaler = None
    if watcher is not None:
        aggregator.buffer.listeners.append(watcher.on_datapoint)
    if scenario.autoscaling is not None:
        autoscaler = Autoscaler(env, scenario.autoscaling, experiment.autoscaling.settings, fleet, instances, events,
                                start, duration, driver.advance_to, run_over, plane.pools, driver.provisioned_changes,
                                experiment.serverless.provisioned_concurrency_delay, components=components)
        aggregator.buffer.listeners.append(autoscaler.on_datapoint)
        autoscaler.start_processes()
    for index, source in zip(source_indices, sources):
        if isinstance(source, RateDrivenSource):
            env.process(_traffic_changes(env, driver, events, source, index, duration, run_over))
    for index, population in driver.populations:
        env.process(_user_changes(env, driver, events, population, index, duration, run_over))
    clock = env.process(_metric_clock(env, driver, aggregator, load_generators, plane, tick, duration, max_segment_s,
                                      autoscaler, watcher, activity, events, cache_activity))
    # The clock's last tick is at `duration` (or where the watcher ended the run); launches, drains
    # and failures still ahead are left there.
    end = env.run(until=clock)
    stopped_early = end < duration
    if stopped_early:
        totals.end_early(end, aggregator.pending_requests())
        serverless.end_early(end, aggregator.pending_requests())
        duration = end
    _log_activity(events, activity.flush(duration))
    _log_activity(events, cache_activity.flush(duration), ModelCacheActivity.event)
    # requests still between two containers of a pipeline have no record yet: they count as in flight
    between = driver.between_containers
    events.add(duration, "RunEnd", requests=totals.arrivals + between,
               in_flight=len(aggregator.pending_requests()) + between,
               **({"ended_by": "watcher"} if stopped_early else {}))

    busy = plane.busy_integral(duration)
    busy_by_variant = [0.0] * len(fleet.variants)
    for index, variant_index in enumerate(plane.instance_variant):
        busy_by_variant[variant_index] += busy[index]
    fleet_time = [_fleet_time(v, instances, components, duration) for v in fleet.variants]
    mean_busy = [b / t.in_service_s if t.in_service_s else 0.0 for b, t in zip(busy_by_variant, fleet_time)]
    shares = None
    if components is not None:
        shares = component_costs(fleet, components.intervals(duration))
    summary = build_summary(fleet, totals, fleet_time, mean_busy, duration, serverless, cache_totals, shares)
    metrics, metric_values = aggregator.buffer.tables()
    ids = tuple(instance.id for instance in instances.instances)
    return RunResult(metrics, metric_values, events.table(), summary, fleet, ids)


def _fleet_time(variant, instances: InstanceManager, components: ComponentCopies | None, duration: float) -> FleetTime:
    """A variant's instance time; an inference component's copy time (its copies are not billed:
    the hosting variant's instances are, and the component's share of them is its cost)."""
    if variant.component is not None:
        return FleetTime(0.0, components.serving_seconds(variant.index, duration), components.peak_serving(variant.index))
    return FleetTime(instances.billed_seconds(variant.index, duration), instances.in_service_seconds(variant.index, duration),
                     instances.peak_in_service(variant.index))


def _counts(fleet: Fleet, instances: InstanceManager, components: ComponentCopies):
    """The count gauges of a variant: its instances', or an inference component's copies'."""
    def counts_at(variant: int, times):
        if fleet.variants[variant].component is not None:
            return components.counts_at(variant, times)
        return instances.counts_at(variant, times)
    return counts_at


def _log_activity(events: EventLog, rows, event: str = ACTIVITY_EVENT) -> None:
    """Per-minute activity rows of serverless (`metrics.serverless_activity`) or multi-model
    (`metrics.model_cache_activity`) variants."""
    for row in rows:
        events.add(row.time_s, event, row.endpoint_name, row.variant_name, **row.detail)


def _metric_clock(env, driver, aggregator, load_generators, plane, tick, duration, max_segment_s, autoscaler, watcher,
                  activity, events, cache_activity=None):
    """At every tick, publish the periods that end there, then let the alarms evaluate them and the
    watcher read them; cut long ticks into kernel segments. Returns the time the run ends."""
    steps = max(1, int(np.ceil(tick / max_segment_s)))
    n_ticks = int(round(duration / tick))
    for index in range(n_ticks):
        for step in range(1, steps + 1):
            yield env.timeout(index * tick + tick * step / steps - env.now)
            driver.advance_to(env.now)
        aggregator.close_tick(env.now, plane.station_busy_integral(env.now), plane.instance_variant, plane.in_service,
                              plane.first_station)
        load_generators.close_tick(env.now)
        if activity.serverless:
            _log_activity(events, activity.close(env.now))
        if cache_activity is not None and cache_activity.multi_model:
            _log_activity(events, cache_activity.close(env.now), ModelCacheActivity.event)
        if watcher is not None and watcher.on_tick(env.now):
            return env.now   # the run ends here, as a run of this duration would: no alarm evaluates
        if autoscaler is not None and env.now < duration:
            autoscaler.on_tick(env.now)
    return env.now



def _user_changes(env, driver, events, population: UserPopulation, index: int, duration: float, run_over):
    """Change the number of closed-loop users at each knot of their schedule."""
    for t, users in population.knots:
        if t >= duration or not (yield from at_time(env, t, run_over)):
            break
        driver.advance_to(env.now)
        population.set_users(users, env.now)
        events.add(float(t), "UserCountChange", population.endpoint_name, population.target_variant,
                   source=index, users=users)


def _traffic_changes(env, driver, events, source: RateDrivenSource, index: int, duration: float, run_over):
    """Log each change of a source's rate (schedule knots, burst edges) as it happens."""
    rate: RateFunction = source.rate
    for t in rate.starts:
        if t >= duration or not (yield from at_time(env, t, run_over)):
            break
        driver.advance_to(env.now)
        events.add(float(t), "TrafficRateChange", source.endpoint_name, source.target_variant,
                   source=index, rate_per_s=float(rate.rate(np.array([t]))[0]))
