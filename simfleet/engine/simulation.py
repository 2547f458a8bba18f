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
from simfleet.config.publish_periods import clock_tick_s, load_generator_jobs, publish_plan
from simfleet.engine.autoscaler import Autoscaler
from simfleet.engine.events import EventLog
from simfleet.engine.instances import InstanceManager
from simfleet.request_records import MODEL_TIMEOUT, NO_CAPACITY, PAYLOAD_TOO_LARGE
from simfleet.request_records import RequestRecords
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.timing import at_time
from simfleet.fleet import Fleet, VariantRuntime, build_fleet
from simfleet.metrics.aggregator import MetricsAggregator
from simfleet.metrics.load_generator import LoadGenerator, LoadGeneratorMetrics
from simfleet.metrics.run_totals import RunTotals
from simfleet.metrics.summary import FleetTime, build_summary
from simfleet.rng import RandomStreams
from simfleet.traffic.rate import RateFunction
from simfleet.traffic.sources import RateDrivenSource, TrafficSource, build_source
from simfleet.traffic.users import UserPopulation

__all__ = ["simulate", "RunResult", "RunWatcher", "RequestDriver"]

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


class RequestDriver:
    """Moves open-loop requests through the request plane up to a given simulated time."""

    def __init__(self, scenario: Scenario, fleet: Fleet, plane: RequestPlane, streams: RandomStreams,
                 sources: list[TrafficSource], sinks: list[Callable[[RequestRecords], None]]):
        """`sources` are the open-loop sources; closed-loop users are built here (`populations`)."""
        platform = scenario.experiment.platform
        self.fleet = fleet
        self.plane = plane
        self.sinks = sinks
        self.max_payload = platform.max_payload_size
        self.timeout = platform.invocation_timeout
        self.overhead_per_kb = platform.overhead_per_kb
        overhead = platform.overhead_latency.build()
        self.endpoints = []
        self.variant_draws = [self._variant_streams(v, streams) for v in fleet.variants]
        self.populations: list[tuple[int, UserPopulation]] = []  # (traffic index, users)
        users = {i: spec for i, spec in enumerate(scenario.experiment.traffic) if isinstance(spec, ClosedLoopTraffic)}
        for e_index, name in enumerate(fleet.endpoint_names):
            variants = fleet.variants_of(e_index)
            weights = np.array([v.weight for v in variants])
            endpoint = {
                "variants": variants,
                "cumulative": np.cumsum(weights) / weights.sum(),
                "sources": [s for s in sources if s.endpoint_name == name],
                "choice": streams.draws(f"endpoint/{name}/variant", lambda rng, n: rng.random(n)),
                "overhead": streams.draws(f"endpoint/{name}/overhead", overhead.sample),
                "population": None,
            }
            for index, spec in users.items():
                if (spec.endpoint_name or fleet.endpoint_names[0]) == name:
                    endpoint["population"] = UserPopulation(
                        spec, name, variants, f"traffic/{index}", streams, endpoint,
                        [self.variant_draws[v.index] for v in variants], self.overhead_per_kb,
                        self.max_payload, self.timeout)
                    self.populations.append((index, endpoint["population"]))
            self.endpoints.append(endpoint)
        self.now = 0.0

    @staticmethod
    def _variant_streams(variant: VariantRuntime, streams: RandomStreams) -> dict:
        prefix = f"variant/{variant.endpoint_name}/{variant.variant_name}"
        return {
            "service": streams.draws(f"{prefix}/service", variant.entry.service_time.sample),
            "route": streams.draws(f"{prefix}/route", lambda rng, n: rng.random(n)),
            "error": streams.draws(f"{prefix}/error", lambda rng, n: rng.random(n)),
        }

    def advance_to(self, t: float) -> None:
        if t <= self.now:
            return
        for endpoint in self.endpoints:
            records = self._dispatch_endpoint(endpoint, t)
            if records is not None:
                for sink in self.sinks:
                    sink(records)
        self.now = t

    def _dispatch_endpoint(self, endpoint: dict, t: float) -> RequestRecords | None:
        if endpoint["population"] is not None:
            return endpoint["population"].dispatch_until(self.plane, t)
        if len(endpoint["sources"]) == 1 and len(endpoint["variants"]) == 1:
            inputs = self._one_source_one_variant(endpoint, t)
        else:
            inputs = self._merged_inputs(endpoint, t)
        if inputs is None:
            return None
        times, chosen, service, payload, route, model_error, overhead = inputs
        return self._dispatch(times, chosen, service, payload, route, model_error, overhead)

    def _merged_inputs(self, endpoint: dict, t: float):
        """The kernel's inputs for the arrivals before `t` of every source of an endpoint, in time order."""
        parts = [source.take_until(t) for source in endpoint["sources"]]
        n = sum(len(p.times) for p in parts)
        if n == 0:
            return None
        # Merge the sources in time order (stable: simultaneous arrivals keep source order), then
        # take every per-request draw in that order, so that segment boundaries change nothing.
        order = np.argsort(np.concatenate([p.times for p in parts]), kind="stable")
        times = np.concatenate([p.times for p in parts])[order]
        payload = np.concatenate([p.payload_bytes for p in parts])[order]
        variants = endpoint["variants"]
        by_name = {v.variant_name: v.index for v in variants}
        targeted = np.concatenate([np.full(len(part.times), -1 if source.target_variant is None
                                           else by_name[source.target_variant], np.int32)
                                   for source, part in zip(endpoint["sources"], parts)])[order]
        choice = np.searchsorted(endpoint["cumulative"], endpoint["choice"].take(n), side="right")
        chosen = np.array([v.index for v in variants], np.int32)[np.minimum(choice, len(variants) - 1)]
        chosen = np.where(targeted >= 0, targeted, chosen).astype(np.int32)

        service = np.empty(n)
        route = np.empty(n)
        model_error = np.zeros(n, np.bool_)
        for variant in variants:
            mask = chosen == variant.index
            count = int(mask.sum())
            if count == 0:
                continue
            draws = self.variant_draws[variant.index]
            service[mask] = _plus_payload_time(draws["service"].take(count), payload[mask],
                                               variant.entry.payload_time_per_kb_s)
            route[mask] = draws["route"].take(count)
            model_error[mask] = self._model_errors(variant, count)
        overhead = _plus_payload_time(endpoint["overhead"].take(n), payload, self.overhead_per_kb)
        return times, chosen, service, payload, route, model_error, overhead

    def _one_source_one_variant(self, endpoint: dict, t: float):
        """`_merged_inputs` for the common endpoint of one source and one variant: no merge, no
        variant choice (the endpoint's variant-choice stream is then never read, so it is not
        drawn), the same draws in the same order."""
        part = endpoint["sources"][0].take_until(t)
        n = len(part.times)
        if n == 0:
            return None
        times, payload = part.times, part.payload_bytes
        variant = endpoint["variants"][0]
        draws = self.variant_draws[variant.index]
        service = _plus_payload_time(draws["service"].take(n), payload, variant.entry.payload_time_per_kb_s)
        route = draws["route"].take(n)
        model_error = self._model_errors(variant, n)
        overhead = _plus_payload_time(endpoint["overhead"].take(n), payload, self.overhead_per_kb)
        return times, np.full(n, variant.index, np.int32), service, payload, route, model_error, overhead

    def _model_errors(self, variant: VariantRuntime, n: int) -> np.ndarray:
        """Which of the variant's next n open-loop requests its model fails. Only open-loop dispatch
        reads the variant's error stream here (an endpoint with closed-loop users takes no other
        traffic), so a variant that never fails need not draw it."""
        if variant.model_error_rate == 0:
            return np.zeros(n, np.bool_)
        return self.variant_draws[variant.index]["error"].take(n) < variant.model_error_rate

    def _dispatch(self, times, chosen, service, payload, route, model_error, overhead) -> RequestRecords:
        instance, start, complete, status, active = self.plane.dispatch(
            times, chosen, service, payload, route, model_error, self.max_payload, self.timeout)
        model_latency = np.where(status == MODEL_TIMEOUT, self.timeout, complete - times)
        unanswered = (status == PAYLOAD_TOO_LARGE) | (status == NO_CAPACITY)
        model_latency[unanswered] = 0.0
        return RequestRecords(
            arrival_s=times, variant=chosen, instance=instance, status=status, payload_bytes=payload,
            service_s=service, start_s=start, model_latency_s=model_latency, overhead_s=overhead,
            response_s=times + model_latency + overhead, active_instances=active)


def _plus_payload_time(seconds: np.ndarray, payload_bytes: np.ndarray, per_kb_s: float) -> np.ndarray:
    """Drawn times plus `per_kb_s` for each KB of payload (the draws themselves when that is 0: the
    default, which spares two passes over every request)."""
    return seconds if per_kb_s == 0 else seconds + payload_bytes / 1000.0 * per_kb_s


def simulate(scenario: Scenario, requests_sink: Callable[[RequestRecords], None] | None = None,
             max_segment_s: float = MAX_SEGMENT_S, watcher: RunWatcher | None = None) -> RunResult:
    """Run `scenario` and return its metrics, events and summary.

    `requests_sink`, when given, receives every dispatched batch (the per-request trace).
    `max_segment_s` only bounds memory per kernel call: results do not depend on it.
    `watcher` may end the run at a tick of the metric clock before the experiment's duration; the
    run is then exactly the run of that shorter duration (summary, billing and `RunEnd` included).
    """
    experiment = scenario.experiment
    duration = experiment.experiment.duration
    start = experiment.experiment.start_time
    streams = RandomStreams(experiment.experiment.seed)
    fleet = build_fleet(scenario)
    plane = RequestPlane([v.routing for v in fleet.variants])
    events = EventLog(start)
    env = simpy.Environment()

    sources = []
    for index, spec in enumerate(experiment.traffic):
        if isinstance(spec, ClosedLoopTraffic):
            continue  # the driver builds the users
        endpoint = spec.endpoint_name or fleet.endpoint_names[0]
        sources.append(build_source(spec, endpoint, index, duration, start.timestamp(), scenario.base_dir, streams))

    totals = RunTotals(len(fleet.variants), duration)
    driver_sinks: list[Callable[[RequestRecords], None]] = []
    driver = RequestDriver(scenario, fleet, plane, streams, sources, driver_sinks)
    instances = InstanceManager(env, plane, fleet, experiment.instances, streams, events, driver.advance_to, duration)
    aggregator = MetricsAggregator(fleet, experiment.metrics, start, instances.counts_at)
    jobs = load_generator_jobs(experiment)
    load_generators = LoadGeneratorMetrics(
        fleet, [LoadGenerator(jobs[p.endpoint_name], p.endpoint_name, p.knots) for _, p in driver.populations
                if p.endpoint_name in jobs],
        aggregator.buffer, start, publish_plan(experiment, experiment.endpoints[0]).standard_s,
        experiment.metrics.concurrency_sample_interval)
    driver_sinks += [aggregator.add, totals.add] + ([load_generators.add] if load_generators.generators else []) \
        + ([requests_sink] if requests_sink else [])
    tick = clock_tick_s(experiment)

    clock = None  # the metric clock's process, started last

    def run_over() -> bool:
        return clock is not None and clock.triggered

    events.add(0.0, "RunStart", seed=experiment.experiment.seed, duration_s=duration, tick_s=tick)
    instances.start()
    autoscaler = None
    if watcher is not None:
        aggregator.buffer.listeners.append(watcher.on_datapoint)
    if scenario.autoscaling is not None:
        autoscaler = Autoscaler(env, scenario.autoscaling, experiment.autoscaling.settings, fleet, instances, events,
                                start, duration, driver.advance_to, run_over)
        aggregator.buffer.listeners.append(autoscaler.on_datapoint)
        autoscaler.start_processes()
    for index, source in enumerate(sources):
        if isinstance(source, RateDrivenSource):
            env.process(_traffic_changes(env, driver, events, source, index, duration, run_over))
    for index, population in driver.populations:
        env.process(_user_changes(env, driver, events, population, index, duration, run_over))
    clock = env.process(_metric_clock(env, driver, aggregator, load_generators, plane, tick, duration, max_segment_s,
                                      autoscaler, watcher))
    # The clock's last tick is at `duration` (or where the watcher ended the run); launches, drains
    # and failures still ahead are left there.
    end = env.run(until=clock)
    stopped_early = end < duration
    if stopped_early:
        totals.end_early(end, aggregator.pending_requests())
        duration = end
    events.add(duration, "RunEnd", requests=totals.arrivals, in_flight=len(aggregator.pending_requests()),
               **({"ended_by": "watcher"} if stopped_early else {}))

    busy = plane.busy_integral(duration)
    busy_by_variant = [0.0] * len(fleet.variants)
    for index, variant_index in enumerate(plane.instance_variant):
        busy_by_variant[variant_index] += busy[index]
    fleet_time = [FleetTime(instances.billed_seconds(v.index, duration), instances.in_service_seconds(v.index, duration),
                            instances.peak_in_service(v.index)) for v in fleet.variants]
    mean_busy = [b / t.in_service_s if t.in_service_s else 0.0 for b, t in zip(busy_by_variant, fleet_time)]
    summary = build_summary(fleet, totals, fleet_time, mean_busy, duration)
    metrics, metric_values = aggregator.buffer.tables()
    ids = tuple(instance.id for instance in instances.instances)
    return RunResult(metrics, metric_values, events.table(), summary, fleet, ids)


def _metric_clock(env, driver, aggregator, load_generators, plane, tick, duration, max_segment_s, autoscaler, watcher):
    """At every tick, publish the periods that end there, then let the alarms evaluate them and the
    watcher read them; cut long ticks into kernel segments. Returns the time the run ends."""
    steps = max(1, int(np.ceil(tick / max_segment_s)))
    n_ticks = int(round(duration / tick))
    for index in range(n_ticks):
        for step in range(1, steps + 1):
            yield env.timeout(index * tick + tick * step / steps - env.now)
            driver.advance_to(env.now)
        aggregator.close_tick(env.now, plane.slot_busy_integral(env.now), plane.instance_variant, plane.in_service)
        load_generators.close_tick(env.now)
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
