"""Moves every endpoint's requests through the request plane up to a given simulated time.

Between two control events the fleet is fixed (DESIGN §2), so `RequestDriver.advance_to(t)` hands
each endpoint's open-loop arrivals before t, merged in time order, and its closed-loop users to
the request kernel in one call (`EndpointFlow.advance`), and passes the answered requests to the
sinks (metrics, run totals, the load generator's client metrics, the request trace). The
serverless endpoints of a run go through one flow together, since the account's concurrency that
limits them is one (`engine.environment_pools`); their environments' lifecycle events go to the
environment sinks.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import numpy as np

from simfleet.config.experiment import ClosedLoopTraffic
from simfleet.scenario import Scenario
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues, UsersStalled, no_arrivals
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.users import UserPopulation
from simfleet.errors import InputError, Problem
from simfleet.fleet import Fleet, VariantRuntime
from simfleet.metrics.emission import STATUS_NAMES
from simfleet.request_records import CacheRecords, EnvironmentRecords, HopRecords, RequestRecords
from simfleet.rng import RandomStreams
from simfleet.traffic.sources import TrafficSource

__all__ = ["RequestDriver", "MAX_BATCH_ARRIVALS"]

#: Expected open-loop arrivals handed to the request kernel in one call, at most: a longer step is
#: cut into equal parts (results do not depend on where steps are cut). The arrays of one call
#: (its arrivals, their records and the kernel's scratch) grow with its requests, and allocating
#: hundreds of megabytes per call costs more than the calls it saves (`benchmarks/`, workload
#: `busy`).
MAX_BATCH_ARRIVALS = 250_000


class RequestDriver:
    """The request flows of a run's endpoints, and where their answered requests go."""

    def __init__(self, scenario: Scenario, fleet: Fleet, plane: RequestPlane, streams: RandomStreams,
                 sources: list[tuple[int, TrafficSource]], sinks: list[Callable[[RequestRecords], None]],
                 max_batch: int = MAX_BATCH_ARRIVALS):
        """`sources`: the open-loop sources with their index in the experiment's traffic; closed-loop
        users are built here (`populations`). `max_batch`: see `MAX_BATCH_ARRIVALS`."""
        platform = scenario.experiment.platform
        self.max_batch = max_batch
        self.fleet = fleet
        self.plane = plane
        self.source = scenario.source
        self.sinks = sinks
        self.hop_sinks: list[Callable[[HopRecords], None]] = []
        self.environment_sinks: list[Callable[[EnvironmentRecords], None]] = []
        # multi-model instances' cache events (downloads, loads, unloads, deletions)
        self.cache_sinks: list[Callable[[CacheRecords], None]] = []
        overhead = platform.overhead_latency.build()
        self.endpoints = []
        self.populations: list[tuple[int, UserPopulation]] = []  # (traffic index, users)
        users = {i: spec for i, spec in enumerate(scenario.experiment.traffic) if isinstance(spec, ClosedLoopTraffic)}
        serverless = [e for e in range(len(fleet.endpoint_names))
                      if any(v.serverless is not None for v in fleet.variants_of(e))]
        if serverless:
            self._serverless_flow(scenario, fleet, plane, streams, sources, serverless, users, overhead)
        for e_index, name in enumerate(fleet.endpoint_names):
            if e_index in serverless:
                continue
            variants = fleet.variants_of(e_index)
            flow = EndpointFlow(
                plane, [_flow_variant(v, streams) for v in variants],
                choice=streams.draws(f"endpoint/{name}/variant", _uniform),
                overhead=streams.draws(f"endpoint/{name}/overhead", overhead.sample),
                overhead_per_kb=platform.overhead_per_kb, max_payload=platform.max_payload_size,
                timeout=platform.invocation_timeout)
            for index, spec in users.items():
                if (spec.endpoint_name or fleet.endpoint_names[0]) == name:
                    population = UserPopulation.from_spec(spec, name, [v.variant_name for v in variants], index,
                                                          streams, flow, local=_target(variants, spec))
                    self.populations.append((index, population))
            mine = [(index, s) for index, s in sources if s.endpoint_name == name]
            self.endpoints.append({
                "flow": flow,
                "sources": [s for _, s in mine],
                "indices": [index for index, _ in mine],
                "targets": [_target(variants, s) for _, s in mine],
            })
        self.now = 0.0

    def _serverless_flow(self, scenario, fleet, plane, streams, sources, endpoints, users, overhead) -> None:
        """One flow for every serverless endpoint (one variant each), so that the account's
        concurrency, which they share, sees all their requests in one time order."""
        settings = scenario.experiment.serverless
        variants = [fleet.variants_of(e)[0] for e in endpoints]
        flow_variants = []
        for variant in variants:
            prefix = f"variant/{variant.endpoint_name}/{variant.variant_name}"
            flow_variants.append(replace(
                _flow_variant(variant, streams),
                overhead=streams.draws(f"endpoint/{variant.endpoint_name}/overhead", overhead.sample),
                setup=streams.draws(f"{prefix}/setup", variant.serverless.setup_time.sample)))
        # the flow's own overhead stream is never read: each variant reads its endpoint's
        flow = EndpointFlow(plane, flow_variants, choice=None, overhead=GivenValues([]),
                            overhead_per_kb=scenario.experiment.platform.overhead_per_kb,
                            max_payload=settings.max_payload_size, timeout=settings.invocation_timeout)
        local = {v.endpoint_name: k for k, v in enumerate(variants)}
        for index, spec in users.items():
            name = spec.endpoint_name or fleet.endpoint_names[0]
            if name in local:
                population = UserPopulation.from_spec(spec, name, [], index, streams, flow, local=local[name])
                self.populations.append((index, population))
        mine = [(index, s) for index, s in sources if s.endpoint_name in local]
        self.endpoints.append({"flow": flow, "sources": [s for _, s in mine], "indices": [index for index, _ in mine],
                               "targets": [local[s.endpoint_name] for _, s in mine]})

    @property
    def between_containers(self) -> int:
        """Requests on their way through a pipeline, between two of its containers."""
        return sum(endpoint["flow"].in_flight for endpoint in self.endpoints)

    def advance_to(self, t: float) -> None:
        """Move every request up to `t`: in one kernel call per endpoint, or in equal steps when the
        open-loop sources expect more than `max_batch` arrivals before `t` (closed-loop users
        send at the pace of their answers and are not counted)."""
        if t <= self.now:
            return
        begin = self.now
        expected = sum(source.expected_arrivals(begin, t) for endpoint in self.endpoints
                       for source in endpoint["sources"])
        steps = max(1, math.ceil(expected / self.max_batch))
        for step in range(1, steps):
            self._advance(begin + (t - begin) * step / steps)
        self._advance(t)

    def _advance(self, t: float) -> None:
        if t <= self.now:
            return
        for endpoint in self.endpoints:
            try:
                records, hops = endpoint["flow"].advance(self.plane, self._arrivals(endpoint, t), t)
            except UsersStalled as stall:
                raise InputError([_stall_problem(self.source, stall)]) from None
            if records is not None:
                for sink in self.sinks:
                    sink(records)
            if hops is not None:
                for sink in self.hop_sinks:
                    sink(hops)
            if endpoint["flow"].serverless:
                self._environment_events(endpoint["flow"].take_environment_events())
            if endpoint["flow"].cached:
                events = endpoint["flow"].take_cache_events()
                if events is not None:
                    for sink in self.cache_sinks:
                        sink(events)
        self.now = t

    def _environment_events(self, events: EnvironmentRecords | None) -> None:
        if events is not None:
            for sink in self.environment_sinks:
                sink(events)

    def provisioned_changes(self) -> None:
        """Pass on the provisioned-concurrency changes the control plane has made (`EnvironmentPools`)."""
        if self.plane.pools is not None:
            self._environment_events(self.plane.pools.take_events())

    @staticmethod
    def _arrivals(endpoint: dict, t: float) -> Arrivals:
        """The open-loop arrivals before `t` of every source of an endpoint, in time order
        (simultaneous arrivals keep the order of their sources)."""
        sources = endpoint["sources"]
        if not sources:
            return no_arrivals()
        parts = [source.take_until(t) for source in sources]
        flow = endpoint["flow"]
        hostnames = [_hostname_codes(flow, part) for part in parts]
        models = [_model_codes(flow, part) for part in parts] if flow.cached else None
        if len(parts) == 1:
            times, payload = parts[0].times, parts[0].payload_bytes
            local = np.full(len(times), endpoint["targets"][0], np.int64)
            source = np.full(len(times), endpoint["indices"][0], np.int64)
            hostname = hostnames[0]
            model = models[0] if models is not None else None
        else:
            order = np.argsort(np.concatenate([p.times for p in parts]), kind="stable")
            times = np.concatenate([p.times for p in parts])[order]
            payload = np.concatenate([p.payload_bytes for p in parts])[order]
            local = np.concatenate([np.full(len(p.times), target, np.int64)
                                    for p, target in zip(parts, endpoint["targets"])])[order]
            source = np.concatenate([np.full(len(p.times), index, np.int64)
                                     for p, index in zip(parts, endpoint["indices"])])[order]
            hostname = np.concatenate(hostnames)[order]
            model = np.concatenate(models)[order] if models is not None else None
        return Arrivals(np.ascontiguousarray(times, np.float64), local, np.ascontiguousarray(payload, np.float64),
                        hostname, source, np.zeros(1, np.int64), model)


def _stall_problem(source: str, stall: UsersStalled) -> Problem:
    """The one-line error of closed-loop users that would send forever at one instant."""
    name = STATUS_NAMES.get(stall.status, str(stall.status))
    return Problem(source, f"traffic[{stall.source}]",
                   f"the run cannot go on: at {stall.time_s:g} s these closed-loop users' requests are answered at "
                   f"once (status {name}) and, with no think time and no overhead, each user sends again at the "
                   f"same instant, so simulated time never passes; give think_time (or platform.overhead_latency) "
                   f"a positive value, or fix what answers the requests at once")


def _hostname_codes(flow: EndpointFlow, part) -> np.ndarray:
    """The kernel's hostname code of each arrival of a source's part (0: it names no container)."""
    if part.hostnames is None:
        return np.zeros(len(part.times), np.int64)
    return flow.hostname_codes(part.hostnames.names)[part.hostnames.codes]


def _model_codes(flow: EndpointFlow, part) -> np.ndarray:
    """The kernel's code of each arrival's TargetModel (`EndpointFlow.model_codes`; -1: none named,
    drawn by popularity)."""
    if part.models is None:
        return np.full(len(part.times), -1, np.int64)
    return flow.model_codes(part.models.names)[part.models.codes]


def _target(variants: list[VariantRuntime], source) -> int:
    """The number among its endpoint's flow variants of the variant a traffic source (or its spec)
    targets: its inference component's, else its `target_variant`'s; -1 when the weights decide."""
    component = getattr(source, "target_inference_component", None)
    if component is not None:
        return next(k for k, v in enumerate(variants) if v.component is not None and v.component.name == component)
    if source.target_variant is None:
        return -1
    return next(k for k, v in enumerate(variants) if v.component is None and v.variant_name == source.target_variant)


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n)


def _flow_variant(variant: VariantRuntime, streams: RandomStreams) -> FlowVariant:
    """The streams of a variant's requests: its first container's service times keep the name a
    single-container variant's have (`.../service`), the others are named by container."""
    prefix = variant.stream_prefix
    services = tuple(
        streams.draws(f"{prefix}/service" if c == 0 else f"{prefix}/container/{container.hostname}/service",
                      container.entry.service_time.sample)
        for c, container in enumerate(variant.containers))
    multi = variant.multi_model
    flow_variant = FlowVariant(
        index=variant.index, weight=variant.weight,
        route=streams.draws(f"{prefix}/route", _uniform), services=services,
        payload_time_per_kb=tuple(c.entry.payload_time_per_kb_s for c in variant.containers),
        error=streams.draws(f"{prefix}/error", _uniform) if variant.model_error_rate > 0 else None,
        error_rate=variant.model_error_rate, hostnames=variant.hostnames)
    if multi is None:
        return flow_variant
    # a declared model with its own profile draws its service times from that profile's stream
    return replace(
        flow_variant, model=streams.draws(f"{prefix}/model", _uniform), models=multi.names,
        model_services=tuple(streams.draws(f"{prefix}/model-profile/{name}/service", entry.service_time.sample)
                             for name, entry in zip(multi.entry_names, multi.entries)),
        model_payload_time_per_kb=tuple(entry.payload_time_per_kb_s for entry in multi.entries),
        model_entry=tuple(int(code) for code in multi.entry_codes))
