"""One endpoint's request flow: the state the request kernel carries for it between calls.

The Python side of `kernels.flow` for one endpoint: its constants (`EndpointSpec`: variants,
weights, where each named stream's values are), the draw buffer whose rows the run's named streams
(`rng`) fill, the requests in flight between containers (`Pending`), and its closed-loop users
(`UserPool`). `EndpointFlow.advance(plane, arrivals, until)` takes every event before `until` and
returns the answered requests as records, refilling draw rows, collecting full outputs and growing
the in-flight slots as the kernel asks.

Which streams a request draws from, in one order whatever the source of the request: the
endpoint's variant choice (`endpoint/{endpoint}/variant`, only with several variants), its overhead
(`endpoint/{endpoint}/overhead`), the user's payload and think time (`traffic/{index}/payload`,
`traffic/{index}/think`), the variant's routing draw (`variant/{endpoint}/{variant}/route`), a
multi-model request's TargetModel when it names none (`.../model`), one service time per container
of its route (`.../service` for the first container, `.../container/{name}/service` for the others;
a multi-model request for a model with its own profile `.../model-profile/{profile}/service`), its model-error draw (`.../error`, only when
the variant's error rate is above 0), and a serverless request's cold start (`.../setup`, only when
it starts an environment). The serverless endpoints of a run share one flow (their account's
concurrency is one limit): each of its variants is one endpoint's, reads that endpoint's overhead
stream, and every request names its variant (no variant choice).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfleet.config.containers import container_index
from simfleet.engine.environment_pools import env_out
from simfleet.engine.kernels.flow import (STOP_BUFFER, STOP_CACHE_OUTPUT, STOP_ENV_OUTPUT, STOP_INFLIGHT,
                                          STOP_OUTPUT, STOP_UNTIL, Arrivals, Draws, EndpointSpec, HopOut, Out,
                                          Pending, Users, advance)
from simfleet.engine.model_caches import cache_out
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import CacheRecords, EnvironmentRecords, HopRecords, RequestRecords
from simfleet.rng import BLOCK, BufferedDraws

__all__ = ["EndpointFlow", "FlowVariant", "UserPool", "GivenValues", "dispatch_given", "no_arrivals", "WIDTH",
           "UsersStalled", "SENDS_PER_INSTANT"]

#: Values per draw row: a multiple of the streams' block, so the kernel stops to refill rarely.
WIDTH = 2 * BLOCK
#: Answered requests collected per kernel call when users may send any number of requests.
USER_OUTPUT = 65_536
#: Answers at one instant, taking no time, per active user, beyond which closed-loop users are stalled:
#: each one's request is refused at once and it sends again at the same instant (no think time, no
#: overhead), so simulated time never passes. A user sends more than once at an instant only then.
SENDS_PER_INSTANT = 100
#: Environment events (cold starts, reaps) collected per kernel call, beyond one per environment slot.
_ENV_OUTPUT = 16_384
#: Model cache events (downloads, loads, unloads, deletions) collected per kernel call, beyond one request's most.
_CACHE_OUTPUT = 16_384


class UsersStalled(Exception):
    """Closed-loop users that send again and again at one instant, their requests refused at once:
    time would never pass (see `SENDS_PER_INSTANT`)."""

    def __init__(self, source: int, time_s: float, status: int):
        self.source, self.time_s, self.status = source, time_s, status
        super().__init__(f"closed-loop users of traffic source {source} stalled at {time_s:g} s (status {status})")


class _StallWatch:
    """Counts answers that take no time at one instant, over the full outputs of one `advance` call."""

    def __init__(self):
        self.instant = np.nan
        self.answers = 0

    def check(self, out: Out, users: int) -> None:
        """Raise `UsersStalled` once more than `SENDS_PER_INSTANT` × `users` answers in a row came at
        one instant with no time taken (a full output in which any answer took time resets the count)."""
        n = int(out.count[0])
        arrival, response = out.arrival[:n], out.response[:n]
        if n == 0 or not (np.all(arrival == arrival[0]) and np.all(response == arrival[0])):
            self.instant, self.answers = np.nan, 0
            return
        if arrival[0] != self.instant:
            self.instant, self.answers = float(arrival[0]), 0
        self.answers += n
        if self.answers > SENDS_PER_INSTANT * max(users, 1):
            raise UsersStalled(int(out.source[n - 1]), self.instant, int(out.status[n - 1]))


@dataclass(frozen=True)
class FlowVariant:
    """What the flow needs of one variant: its number, weight and the streams its requests draw."""

    index: int
    weight: float
    route: BufferedDraws
    services: tuple[BufferedDraws, ...]        # one per container of its route
    payload_time_per_kb: tuple[float, ...]     # one per container
    error: BufferedDraws | None                # None: the variant never fails
    error_rate: float
    hostnames: tuple[str, ...] = ()            # its containers' ContainerHostname, in route order
    overhead: BufferedDraws | None = None      # its endpoint's overhead draws (None: the flow's own)
    setup: BufferedDraws | None = None         # a serverless variant's cold starts (None: instance-based)
    model: BufferedDraws | None = None         # a multi-model variant's TargetModel draws (None: not multi-model)
    models: tuple[str, ...] = ()               # a multi-model variant's model names, in code order
    model_services: tuple[BufferedDraws, ...] = ()  # the service draws of each own profile of its models
    model_payload_time_per_kb: tuple[float, ...] = ()  # per own profile (() : 0 for each)
    model_entry: tuple[int, ...] = ()          # per model: its own profile's position (-1: the variant's; () all)


class _DrawRows:
    """Named streams as rows of one buffer, refilled in order when the kernel empties them."""

    def __init__(self):
        self._sources: list[BufferedDraws] = []

    def add(self, source: BufferedDraws) -> int:
        for row, known in enumerate(self._sources):
            if known is source:
                return row
        self._sources.append(source)
        return len(self._sources) - 1

    def buffer(self, width: int = WIDTH) -> Draws:
        """An empty buffer: the kernel's first call stops at once for a refill of every row."""
        n = len(self._sources)
        return Draws(np.empty((n, width)), np.full(n, width, np.int64))

    def refill(self, draws: Draws) -> None:
        """Top every row read from up to the full width: its unread values move to the front, the
        stream's next values follow (so each stream's values still come in order)."""
        width = draws.values.shape[1]
        for row in np.flatnonzero(draws.cursor > 0):
            read = int(draws.cursor[row])
            draws.values[row, : width - read] = draws.values[row, read:]
            draws.values[row, width - read:] = self._sources[row].take(read)
            draws.cursor[row] = 0


class UserPool:
    """An endpoint's closed-loop users, numbered in the order they are added (ties: the lower first)."""

    def __init__(self):
        self.next_send = np.empty(0)
        self.active = np.empty(0, np.bool_)
        self.local = np.empty(0, np.int64)
        self.hostname = np.empty(0, np.int64)
        self.payload_row = np.empty(0, np.int64)
        self.think_row = np.empty(0, np.int64)
        self.source = np.empty(0, np.int64)
        self.model = np.empty(0, np.int64)

    def add(self, count: int, now: float, local: int, hostname: int, payload_row: int, think_row: int,
            source: int = -1, model: int = -1) -> np.ndarray:
        """Append `count` active users of traffic source `source` whose first send is `now`; returns
        their numbers. `model`: their TargetModel's code (`EndpointFlow.model_codes`; -1: none)."""
        first = len(self.next_send)
        self.next_send = np.append(self.next_send, np.full(count, float(now)))
        self.active = np.append(self.active, np.ones(count, np.bool_))
        self.local = np.append(self.local, np.full(count, local, np.int64))
        self.hostname = np.append(self.hostname, np.full(count, hostname, np.int64))
        self.payload_row = np.append(self.payload_row, np.full(count, payload_row, np.int64))
        self.think_row = np.append(self.think_row, np.full(count, think_row, np.int64))
        self.source = np.append(self.source, np.full(count, source, np.int64))
        self.model = np.append(self.model, np.full(count, model, np.int64))
        return np.arange(first, first + count)

    def kernel_view(self) -> Users:
        return Users(self.next_send, self.active, self.local, self.hostname, self.payload_row, self.think_row,
                     self.source, self.model)


def no_arrivals() -> Arrivals:
    return Arrivals(np.empty(0), np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64),
                    np.zeros(1, np.int64))


class EndpointFlow:
    """The request kernel's state for one endpoint, carried from call to call."""

    def __init__(self, plane: RequestPlane, variants: list[FlowVariant], choice: BufferedDraws | None,
                 overhead: BufferedDraws, overhead_per_kb: float, max_payload: float, timeout: float):
        self.rows = _DrawRows()
        weights = np.array([v.weight for v in variants], dtype=np.float64)
        widest = max(len(v.services) for v in variants)
        service_row = np.full((len(variants), widest), -1, np.int64)
        per_kb = np.zeros((len(variants), widest))
        # without a choice stream every request names its variant (the serverless flow of several endpoints)
        choice_row = self.rows.add(choice) if len(variants) > 1 and choice is not None else -1
        overhead_row = self.rows.add(overhead)
        route_row, error_row, overhead_rows, setup_row, pool, cache, model_row = [], [], [], [], [], [], []
        most = max(len(v.models) for v in variants)
        model_service_row = np.full((len(variants), most), -1, np.int64)
        model_per_kb = np.zeros((len(variants), most))
        for local, variant in enumerate(variants):
            overhead_rows.append(overhead_row if variant.overhead is None else self.rows.add(variant.overhead))
            route_row.append(self.rows.add(variant.route))
            for c, service in enumerate(variant.services):
                service_row[local, c] = self.rows.add(service)
            # a model with its own profile draws its service times from that profile's stream instead
            own = [self.rows.add(service) for service in variant.model_services]
            own_per_kb = variant.model_payload_time_per_kb or (0.0,) * len(own)
            for m, entry in enumerate(variant.model_entry):
                if entry >= 0:
                    model_service_row[local, m] = own[entry]
                    model_per_kb[local, m] = own_per_kb[entry]
            per_kb[local, : len(variant.payload_time_per_kb)] = variant.payload_time_per_kb
            error_row.append(-1 if variant.error is None or variant.error_rate == 0 else self.rows.add(variant.error))
            # its cold starts' draws come last: a request takes one only when it starts an environment
            setup_row.append(-1 if variant.setup is None else self.rows.add(variant.setup))
            pool.append(-1 if variant.setup is None or plane.pools is None else plane.pools.pool_of[variant.index])
            model_row.append(-1 if variant.model is None else self.rows.add(variant.model))
            cache.append(-1 if variant.model is None or plane.caches is None else plane.caches.cache_of[variant.index])
        # a serial route of several containers: its requests wait between hops (`Pending`), and its
        # hops are recorded (`HopOut`)
        several = any(len(v.services) > 1 and not plane.direct[v.index] for v in variants)
        self._variants = variants
        self._hostnames: dict[str, int] = {}
        self._model_names: dict[str, int] = {}
        self._model_positions = [{name: m for m, name in enumerate(v.models)} for v in variants]
        self.spec = EndpointSpec(
            np.array([v.index for v in variants], np.int64), np.cumsum(weights) / weights.sum(),
            np.array(route_row, np.int64), np.array(error_row, np.int64),
            np.array([v.error_rate for v in variants], np.float64), service_row, per_kb,
            self._container_of(), several, np.array(pool, np.int64), np.array(setup_row, np.int64),
            np.array(cache, np.int64), np.array(model_row, np.int64), self._model_of(), model_service_row,
            model_per_kb, np.array(overhead_rows, np.int64), int(choice_row), float(overhead_per_kb),
            float(max_payload), float(timeout))
        self.serverless = bool((self.spec.pool >= 0).any())
        # multi-model variants: requests wait for their models (pending hops), caches decide
        self.cached = bool((self.spec.cache >= 0).any())
        self.widest = widest
        self.draws: Draws | None = None
        self.pending = _pending(16 if several or self.cached else 0, widest)
        self.users: UserPool | None = None
        self._environment_parts: list[dict[str, np.ndarray]] = []
        self._cache_parts: list[dict[str, np.ndarray]] = []

    def hostname_codes(self, names) -> np.ndarray:
        """The kernel's code of each of `names` (TargetContainerHostname values), then the code of
        "no hostname" (0) last, so that ``hostname_codes(names)[codes]`` maps a source's per-request
        codes (-1: none) at once. New names extend the table the kernel reads."""
        grew = False
        for name in names:
            if name not in self._hostnames:
                self._hostnames[name] = len(self._hostnames) + 1
                grew = True
        if grew:
            self.spec = self.spec._replace(container_of=self._container_of())
        return np.array([self._hostnames[name] for name in names] + [0], np.int64)

    def _container_of(self) -> np.ndarray:
        """[local variant, hostname code] -> container: -1 for code 0 (no hostname), the named
        container's position, or the variant's container count for a name it does not have."""
        table = np.full((len(self._variants), len(self._hostnames) + 1), -1, np.int64)
        for local, variant in enumerate(self._variants):
            for name, code in self._hostnames.items():
                table[local, code] = container_index(variant.hostnames, name)
        return table

    def model_codes(self, names) -> np.ndarray:
        """The kernel's code of each of `names` (TargetModel values), then -1 ("none named") last, so
        that ``model_codes(names)[codes]`` maps a source's per-request codes (-1: none) at once. Each
        variant resolves a code in its own population (`EndpointSpec.model_of`); new names extend the
        table the kernel reads."""
        grew = False
        for name in names:
            if name not in self._model_names:
                self._model_names[name] = len(self._model_names)
                grew = True
        if grew:
            self.spec = self.spec._replace(model_of=self._model_of())
        return np.array([self._model_names[name] for name in names] + [-1], np.int64)

    def _model_of(self) -> np.ndarray:
        """[local variant, name code] -> the model's code in the variant's population, or the
        population's size for a name it does not have."""
        table = np.zeros((len(self._variants), max(len(self._model_names), 1)), np.int64)
        for local, positions in enumerate(self._model_positions):
            for name, code in self._model_names.items():
                table[local, code] = positions.get(name, len(positions))
        return table

    def user_pool(self) -> UserPool:
        if self.users is None:
            self.users = UserPool()
        return self.users

    def draw_row(self, source: BufferedDraws) -> int:
        """The buffer row of a stream (added before the first `advance`)."""
        if self.draws is not None:
            raise RuntimeError("streams are added before the flow's first call")
        return self.rows.add(source)

    @property
    def in_flight(self) -> int:
        """Requests between two containers of their route, or waiting for their model (no record yet)."""
        return int(self.pending.heap_t.shape[0] - self.pending.n_free[0])

    def take_cache_events(self) -> CacheRecords | None:
        """The downloads, loads, unloads and deletions the kernel decided since the last call."""
        c, self._cache_parts = _taken(self._cache_parts), []
        return None if c is None else CacheRecords(c["time"], c["instance"], c["model"], c["kind"], c["duration"])

    def take_environment_events(self) -> EnvironmentRecords | None:
        """The cold starts and reaps the kernel decided since the last call (serverless flows)."""
        c, self._environment_parts = _taken(self._environment_parts), []
        return None if c is None else EnvironmentRecords(c["time"], c["variant"], c["kind"])

    def advance(self, plane: RequestPlane, arrivals: Arrivals, until: float) -> tuple[RequestRecords | None, HopRecords | None]:
        """Every event before `until`: the answered requests (in the order they were answered) and,
        for serial pipelines of several containers, their hops."""
        columns, hops = self.advance_columns(plane, arrivals, until)
        return _records(columns), _hop_records(hops) if self.spec.hop_rows else None

    def advance_columns(self, plane: RequestPlane, arrivals: Arrivals, until: float):
        """`advance`, as the kernel's output columns (`kernels.flow.Out`, `HopOut`) by name."""
        if self.draws is None:
            self.draws = self.rows.buffer()
        if self.cached and arrivals.model is None:  # the kernel reads a TargetModel code for every arrival
            arrivals = arrivals._replace(model=np.full(len(arrivals.times), -1, np.int64))
        capacity = len(arrivals.times) + self.in_flight + (USER_OUTPUT if self.users is not None else 0)
        hop_capacity = capacity * self.widest if self.spec.hop_rows else 0
        out, hops = _out(max(capacity, 1)), _hop_out(hop_capacity)
        parts, hop_parts = [], []
        users = self.users.kernel_view() if self.users is not None else None
        routes, stations = plane.routes(), plane.stations()
        # serverless variants: the kernel's specialisation with environment pools
        pools = plane.pools.state if self.serverless else None
        events = env_out(_ENV_OUTPUT + (pools.env_free.size if pools is not None else 0)) if pools is not None else None
        caches = plane.caches.state if self.cached else None
        # room for what one request may write (as `kernels.flow` counts it), beyond the batch
        loads = cache_out(_CACHE_OUTPUT + 2 * caches.mem_state.shape[1] * (len(routes.members) + 1) + 2) \
            if caches is not None else None
        stalls = _StallWatch() if users is not None else None
        while True:
            # without routes of several containers or model caches, the kernel's specialisation
            # without pending hops
            pending = self.pending if self.spec.hop_rows or self.cached else None
            reason = advance(until, self.spec, routes, stations, self.draws, pending, arrivals, users, out, hops,
                             pools, events, caches, loads)
            if reason == STOP_UNTIL:
                break
            if reason == STOP_BUFFER:
                self.rows.refill(self.draws)
            elif reason == STOP_ENV_OUTPUT:
                self._environment_parts.append(_columns(events))
                events = env_out(len(events.time))
            elif reason == STOP_CACHE_OUTPUT:
                self._cache_parts.append(_columns(loads))
                loads = cache_out(len(loads.time))
            elif reason == STOP_OUTPUT:
                if stalls is not None:
                    stalls.check(out, int(np.count_nonzero(users.active)))
                parts.append(_columns(out))
                hop_parts.append(_columns(hops))
                out, hops = _out(max(capacity, 1)), _hop_out(hop_capacity)
            elif reason == STOP_INFLIGHT:
                self.pending = _grown(self.pending)
            else:
                raise RuntimeError(f"request kernel stopped for an unknown reason {reason}")
        in_order = self.users is None and not self.spec.hop_rows and not self.cached
        if in_order and parts:
            raise RuntimeError("answers in arrival order never fill their output (its capacity is the arrivals')")
        parts.append(_columns(out))
        hop_parts.append(_columns(hops))
        if events is not None:
            self._environment_parts.append(_columns(events))
        if loads is not None:
            self._cache_parts.append(_columns(loads))
        columns = _joined(parts)
        if pools is None:  # the kernel writes these columns only for serverless flows
            del columns["environment"]
        if caches is None:  # ... and these only for multi-model flows
            del columns["model"], columns["cache"]
        if pools is None and caches is None:
            del columns["setup"]
        if in_order:  # the kernel left the arrivals' own columns to them (`kernels.flow.Out`)
            n = len(columns["status"])
            columns.update(arrival=arrivals.times[:n], payload=arrivals.payload[:n],
                           source=arrivals.source[:n].astype(np.int16))
        return columns, _joined(hop_parts)


def _out(capacity: int) -> Out:
    e = np.empty
    return Out(e(capacity), e(capacity, np.int32), e(capacity, np.int32), e(capacity, np.int8), e(capacity),
               e(capacity), e(capacity), e(capacity), e(capacity), e(capacity), e(capacity),
               e(capacity, np.int32), e(capacity, np.int32), e(capacity, np.int16), e(capacity),
               e(capacity, np.int8), e(capacity, np.int32), e(capacity, np.int8), np.zeros(1, np.int64))


def _hop_out(capacity: int) -> HopOut:
    e = np.empty
    return HopOut(e(capacity, np.int32), e(capacity, np.int32), e(capacity, np.int32), e(capacity), e(capacity),
                  e(capacity), np.zeros(1, np.int64))


def _columns(out) -> dict[str, np.ndarray]:
    n = int(out.count[0])
    return {name: getattr(out, name)[:n] for name in out._fields if name != "count"}


def _joined(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [p for p in parts if len(next(iter(p.values())))] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _taken(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
    """Collected event columns joined, or None when there are none."""
    parts = [p for p in parts if len(p["time"])]
    return _joined(parts) if parts else None


def _records(c: dict[str, np.ndarray]) -> RequestRecords | None:
    if not len(c["arrival"]):
        return None
    return RequestRecords(
        arrival_s=c["arrival"], variant=c["variant"], instance=c["instance"], status=c["status"],
        payload_bytes=c["payload"], service_s=c["service"], start_s=c["start"], complete_s=c["complete"],
        model_latency_s=c["model_latency"], overhead_s=c["overhead"],
        response_s=c["response"], active_instances=c["active"], container=c["container"], source=c["source"],
        setup_s=c.get("setup"), environment=c.get("environment"), model=c.get("model"), cache=c.get("cache"))


def _hop_records(c: dict[str, np.ndarray]) -> HopRecords | None:
    if not len(c["arrival"]):
        return None
    return HopRecords(c["variant"], c["instance"], c["container"], c["arrival"], c["start"], c["complete"])


def _pending(capacity: int, widest: int) -> Pending:
    f, i = (lambda: np.zeros(capacity)), (lambda: np.zeros(capacity, np.int64))
    return Pending(
        heap_t=f(), heap_key=i(), size=np.zeros(1, np.int64),
        free=np.arange(capacity, dtype=np.int64)[::-1].copy(), n_free=np.array([capacity], np.int64),
        next_seq=np.zeros(1, np.int64), seq=i(), arrival=f(), payload=f(), overhead=f(), think=f(),
        first_start=f(), local=i(), instance=i(), user=i(), container=i(), source=i(), active=i(), hop=i(),
        last_hop=i(),
        error=np.zeros(capacity, np.bool_), drawn_total=f(), services=np.zeros((capacity, widest)), setup=f(),
        model=i(), cache=i())


def _grown(pending: Pending) -> Pending:
    """Twice the slots: the same requests in the same slots, the new slots free."""
    old = pending.heap_t.shape[0]
    bigger = _pending(max(2 * old, 16), pending.services.shape[1])
    for name in Pending._fields:
        if name in ("free", "n_free", "size", "next_seq"):
            continue
        getattr(bigger, name)[:old] = getattr(pending, name)
    bigger.size[0] = pending.size[0]
    bigger.next_seq[0] = pending.next_seq[0]
    new_slots = np.arange(old, bigger.heap_t.shape[0], dtype=np.int64)[::-1]
    n_free = int(pending.n_free[0])
    bigger.free[:len(new_slots)] = new_slots
    bigger.free[len(new_slots):len(new_slots) + n_free] = pending.free[:n_free]
    bigger.n_free[0] = len(new_slots) + n_free
    return bigger


class GivenValues:
    """A stream of given values (then zeros): runs the kernel on values drawn elsewhere (tests, the
    benchmarks' bare kernel), through the same rows as the run's named streams."""

    def __init__(self, values):
        self._values = np.asarray(values, dtype=np.float64)
        self._position = 0

    def take(self, n: int) -> np.ndarray:
        out = np.zeros(n)
        chunk = self._values[self._position:self._position + n]
        out[: len(chunk)] = chunk
        self._position += n
        return out


def dispatch_given(plane: RequestPlane, times, variants, services, payloads, us, model_errors,
                   max_payload: float, timeout: float):
    """The request kernel on given per-request values, for a plane whose variants have one container.

    Request k arrives at `times[k]` (non-decreasing) for variant `variants[k]` (every variant of the
    plane is a variant of one endpoint, each request targets its own), with service `services[k]`,
    routing draw `us[k]` and model error `model_errors[k]`; no overhead. Returns (instance, start,
    complete, status, active instances) per request, in arrival order.
    """
    times = np.ascontiguousarray(times, np.float64)
    n = len(times)
    if n > 1 and (times[1:] < times[:-1]).any():
        raise ValueError("arrival times must be non-decreasing")
    variants = np.asarray(variants, np.int64)
    errors = np.asarray(model_errors, np.bool_)
    flow_variants = []
    for v in range(plane.n_variants):
        mine = variants == v
        flow_variants.append(FlowVariant(
            index=v, weight=1.0, route=GivenValues(np.asarray(us)[mine]),
            services=(GivenValues(np.asarray(services)[mine]),), payload_time_per_kb=(0.0,),
            error=GivenValues(np.where(errors[mine], 0.0, 1.0)), error_rate=0.5))
    flow = EndpointFlow(plane, flow_variants, GivenValues([]), GivenValues([]), 0.0, max_payload, timeout)
    flow.draws = flow.rows.buffer(max(n, 1))
    arrivals = Arrivals(times, variants, np.ascontiguousarray(payloads, np.float64), np.zeros(n, np.int64),
                        np.zeros(n, np.int64), np.zeros(1, np.int64))
    c, _ = flow.advance_columns(plane, arrivals, np.inf)
    return c["instance"], c["start"], c["complete"], c["status"], c["active"]
