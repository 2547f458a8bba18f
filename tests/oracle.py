"""The naive reference models: one SimPy process per request or per user, obviously correct and slow.

`naive_dispatch` (open loop) takes the same inputs as the compiled dispatch kernel (arrival
times, variants, service times, payloads, routing draws, model-error flags) and gives the same
outputs, computed the plainest way: each instance is a `simpy.Resource` with one slot per worker
and a FIFO queue, each request a process that picks an instance, waits for a slot and holds it
for its service time. Differential tests demand identical results from the kernel.

`naive_closed_loop` is the same fleet driven by closed-loop users, one process per user that
sends, waits for its answer, thinks and sends again (the model of `kernels.closed_loop`); the
benchmark suite (`benchmarks/`) uses it as its closed-loop baseline and checks that it gives
simfleet's results request for request.

`naive_flow` is the oracle of stations and routes (DESIGN §2.1): one endpoint's open-loop arrivals
and closed-loop users together, through serial pipelines or directly named containers, a process
per user, per request and per hop, with the kernel's tie order stated as SimPy priorities
(`tests/test_flow_differential.py` compares them hop for hop). Its instances may enter and leave
routing at given instants, as inference component copies do (`tests/test_ic_differential.py`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import simpy

from simfleet.request_records import (INVALID_TARGET, MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK,
                                      PAYLOAD_TOO_LARGE, QUEUE_FULL, ROUTING_RANDOM)


def at(env: simpy.Environment, time: float, priority: float = 1) -> simpy.Event:
    """An event at the absolute instant `time` (SimPy's timeouts add a delay to `now`, and
    now + (time - now) can miss `time` by an ulp, or fall before now)."""
    event = simpy.Event(env)
    event._ok, event._value = True, None
    heapq.heappush(env._queue, (time, priority, next(env._eid), event))  # Environment.schedule, at `time`
    return event


@dataclass
class NaiveInstance:
    variant: int
    workers: int
    queue_limit: int


def naive_dispatch(instances: list[NaiveInstance], strategies: list[int], times, variants, services, payloads,
                   us, model_errors, max_payload: float, timeout: float):
    """Returns (instance, start, complete, status, active) arrays, like `dispatch_batch`."""
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=inst.workers) for inst in instances]
    n = len(times)
    out_instance = np.full(n, -1, np.int32)
    out_start = np.array(times, dtype=np.float64)
    out_complete = np.array(times, dtype=np.float64)
    out_status = np.zeros(n, np.int8)
    out_active = np.zeros(n, np.int32)
    members = [[i for i, inst in enumerate(instances) if inst.variant == v] for v in range(len(strategies))]

    def outstanding(i: int) -> int:
        return len(resources[i].users) + len(resources[i].queue)

    def request(k: int):
        v = int(variants[k])
        out_active[k] = len(members[v])
        if payloads[k] > max_payload:
            out_status[k] = PAYLOAD_TOO_LARGE
            return
        if not members[v]:
            out_status[k] = NO_CAPACITY
            return
        if strategies[v] == ROUTING_RANDOM:
            chosen = members[v][min(int(us[k] * len(members[v])), len(members[v]) - 1)]
        else:
            best = min(outstanding(i) for i in members[v])
            tied = [i for i in members[v] if outstanding(i) == best]
            chosen = tied[min(int(us[k] * len(tied)), len(tied) - 1)]
        out_instance[k] = chosen
        resource = resources[chosen]
        if resource.count == resource.capacity and len(resource.queue) >= instances[chosen].queue_limit:
            out_status[k] = QUEUE_FULL
            return
        with resource.request() as slot:
            yield slot
            out_start[k] = env.now
            yield env.timeout(services[k])
            out_complete[k] = env.now
        if out_complete[k] - times[k] > timeout:
            out_status[k] = MODEL_TIMEOUT
        elif model_errors[k]:
            out_status[k] = MODEL_ERROR
        else:
            out_status[k] = OK

    def arrivals():
        for k in range(n):
            yield env.timeout(times[k] - env.now)
            env.process(request(k))

    env.process(arrivals())
    env.run()
    return out_instance, out_start, out_complete, out_status, out_active


def naive_closed_loop(instances: list[NaiveInstance], strategy: int, knots, duration: float, services, payloads,
                      us, model_errors, overheads, thinks, max_payload: float, timeout: float):
    """Closed-loop users of one variant served by `instances`, one SimPy process per user.

    `knots` is the users' step schedule [(time, users)]: added users send at once, removed
    users (the newest first) send nothing more. Send k (in time order) takes the k-th value of
    every per-send array. Sends stop at `duration`. Returns (arrival, instance, start, status) per send.

    A user answered at instant a (its container's completion, or its send when refused) sends again
    at (a + overhead) + think, computed as the kernel computes it and scheduled at that instant.
    Scope: a container answering after the invocation timeout is not modelled (its user would
    have to get the answer before the container finishes); such a request raises.
    """
    env = simpy.Environment()
    resources = [simpy.Resource(env, capacity=inst.workers) for inst in instances]
    members = list(range(len(instances)))
    size = len(services)
    out_arrival = np.zeros(size)
    out_instance = np.full(size, -1, np.int32)
    out_start = np.zeros(size)
    out_status = np.zeros(size, np.int8)
    sent = [0]
    active: list[bool] = []

    def outstanding(i: int) -> int:
        return len(resources[i].users) + len(resources[i].queue)

    def user(number: int):
        while active[number] and env.now < duration:
            k = sent[0]
            if k >= size:
                raise ValueError(f"more than {size} sends: give longer per-send arrays")
            sent[0] += 1
            t = env.now
            out_arrival[k] = t
            out_start[k] = t
            latency = 0.0
            if payloads[k] > max_payload:
                out_status[k] = PAYLOAD_TOO_LARGE
            elif not members:
                out_status[k] = NO_CAPACITY
            else:
                if strategy == ROUTING_RANDOM:
                    chosen = members[min(int(us[k] * len(members)), len(members) - 1)]
                else:
                    best = min(outstanding(i) for i in members)
                    tied = [i for i in members if outstanding(i) == best]
                    chosen = tied[min(int(us[k] * len(tied)), len(tied) - 1)]
                out_instance[k] = chosen
                resource = resources[chosen]
                if resource.count == resource.capacity and len(resource.queue) >= instances[chosen].queue_limit:
                    out_status[k] = QUEUE_FULL
                else:
                    with resource.request() as slot:
                        yield slot
                        out_start[k] = env.now
                        yield env.timeout(services[k])
                    latency = env.now - t
                    if latency > timeout:
                        raise ValueError(f"send {k} timed out: outside this model's scope")
                    out_status[k] = MODEL_ERROR if model_errors[k] else OK
            yield at(env, env.now + overheads[k] + thinks[k])  # answered now (served or refused)

    def schedule():
        for t, users in knots:
            if t >= duration:
                break
            yield env.timeout(t - env.now)
            running = [number for number, on in enumerate(active) if on]
            for number in running[users:]:
                active[number] = False
            for _ in range(users - len(running)):
                active.append(True)
                env.process(user(len(active) - 1))

    env.process(schedule())
    env.run()
    n = sent[0]
    return out_arrival[:n], out_instance[:n], out_start[:n], out_status[:n]


# -- stations and routes: one SimPy process per request hop ------------------------------------------

#: Tie order at equal times (SimPy orders events by time, then priority, then creation): SimPy's own
#: events (service completions, resource grants: priorities 0 and 1) come first, so a slot that
#: frees at t serves a request arriving at t; then requests reaching their next container (by
#: request number, each followed by its own timeout watchdog), then open-loop arrivals (in order),
#: then user sends (by user number).
_HOP, _ARRIVAL, _USER = 2, 2 + 10**9, 2 + 2 * 10**9


@dataclass
class NaiveVariant:
    strategy: int
    containers: int = 1
    direct: bool = False


@dataclass
class NaiveStationInstance:
    variant: int
    workers: tuple[int, ...]       # per container of the variant's route
    queue_limits: tuple[int, ...]
    # when it is in routing: [from, until) intervals (an inference component's copy enters routing
    # when loaded and leaves when removed); always, by default
    serving: tuple[tuple[float, float], ...] = ((-np.inf, np.inf),)

    def serves(self, t: float) -> bool:
        return any(lo <= t < hi for lo, hi in self.serving)


@dataclass
class NaiveUser:
    local: int          # target variant (-1: the weights decide)
    container: int      # named container (-1: none)
    start: float        # first send
    payloads: list      # its stream of payloads
    thinks: list        # its stream of think times


def naive_flow(variants: list[NaiveVariant], instances: list[NaiveStationInstance], cumulative, arrivals,
               users: list[NaiveUser], streams: dict, error_rates, overhead_per_kb: float,
               payload_time_per_kb, max_payload: float, timeout: float, until: float):
    """Every request of one endpoint before `until`, the plainest way: a SimPy `Resource` per container
    of each instance, a process per user, per request and per hop of a request through a container.

    `arrivals`: (times, local variant or -1, payload, container or -1) of the open-loop requests;
    a container beyond the chosen variant's count stands for a hostname it does not have.
    `streams`: lists of values consumed in the order requests are sent: "choice" (only with several
    variants), "overhead", and per local variant v: ("route", v), ("error", v) (only when its error
    rate is above 0) and ("service", v, c) per container. A request sent at t0 draws, in this order:
    its variant choice, overhead (its user's payload and think time), route, the service of each
    container of its route, model error. It fails at once with PAYLOAD_TOO_LARGE, INVALID_TARGET
    (a direct variant needs a container 0 ≤ c < containers, a serial one none) or NO_CAPACITY; else
    it visits its route's containers in order, failing with QUEUE_FULL at a full one, and with
    MODEL_TIMEOUT (answered at t0 + timeout) when a container it reached by t0 + timeout has not
    finished it by then; it stops at its failure. A user sends its
    next request (answer + overhead) + think after its answer. Times are scheduled at the instants
    computed (not as now + delay), so that they are the same floats as the kernel's.

    An instance takes new requests only at the instants its `serving` intervals hold: a request
    sent at t0 is routed among (and counts as `active`) the instances of its variant serving at t0,
    and fails with NO_CAPACITY when none does; an instance leaving routing still serves what it
    accepted. (The engine advances the request plane to t, then changes routing: a change at t
    applies to the requests sent at t and after.)

    Returns (requests, hops): per request [arrival, variant, instance, status, payload, service sum,
    first start, complete, model latency, overhead, active, container], per hop
    [variant, instance, container, arrival, start, complete] (serial routes of several containers).
    """
    env = simpy.Environment()
    stations = [[simpy.Resource(env, capacity=w) for w in inst.workers] for inst in instances]
    members = [[i for i, inst in enumerate(instances) if inst.variant == v] for v in range(len(variants))]
    draws = {key: list(values) for key, values in streams.items()}
    requests, hops = [], []
    counter = [0]

    def take(key):
        return draws[key].pop(0)

    def outstanding(i: int) -> int:
        return sum(len(r.users) + len(r.queue) for r in stations[i])

    def request(t0, local, payload, container, user, answered):
        seq = counter[0]
        counter[0] += 1
        if local < 0:
            local = 0
            if len(variants) > 1:
                u_choice = take("choice")
                while local < len(variants) - 1 and u_choice >= cumulative[local]:
                    local += 1
        elif len(variants) > 1:
            take("choice")
        overhead = take("overhead") + payload / 1000.0 * overhead_per_kb
        think = take_think(user)
        variant = variants[local]
        container = min(container, variant.containers)  # a name the variant does not have: its count
        if variant.direct:
            route = [container] if 0 <= container < variant.containers else []
        else:
            route = list(range(variant.containers)) if container < 0 else []
        u = take(("route", local))
        services = {c: take(("service", local, c)) + payload / 1000.0 * payload_time_per_kb[local][c] for c in route}
        model_error = error_rates[local] > 0 and take(("error", local)) < error_rates[local]
        serving = [m for m in members[local] if instances[m].serves(t0)]
        row = {"arrival": t0, "variant": local, "instance": -1, "status": OK, "payload": payload,
               "service": sum(services[c] for c in route) if route else 0.0, "start": t0, "complete": t0,
               "overhead": overhead, "active": len(serving), "container": container}
        if len(route) == 1:
            row["service"] = services[route[0]]
        state = {"done": False, "last_complete": None}

        def answer(status, time, latency):
            row.update(status=status, model_latency=latency)
            state["done"] = True
            requests.append(row)
            if user is not None:
                users_next(user, time + overhead, think)

        if payload > max_payload:
            return answer(PAYLOAD_TOO_LARGE, t0, 0.0)
        if not route:
            return answer(INVALID_TARGET, t0, 0.0)
        if not serving:
            return answer(NO_CAPACITY, t0, 0.0)
        if variant.strategy == ROUTING_RANDOM:
            i = serving[min(int(u * len(serving)), len(serving) - 1)]
        else:
            best = min(outstanding(m) for m in serving)
            tied = [m for m in serving if outstanding(m) == best]
            i = tied[min(int(u * len(tied)), len(tied) - 1)]
        row["instance"] = i

        def watchdog():
            yield at(env, t0 + timeout, _HOP + seq + 0.5)
            if not state["done"]:
                row["complete"] = None  # set when its container finishes it
                answer(MODEL_TIMEOUT, t0 + timeout, timeout)

        if t0 + timeout < np.inf:
            env.process(watchdog())
        for position, c in enumerate(route):
            if position > 0:
                yield at(env, env.now, _HOP + seq)     # reaching the next container, in request order
            finished = yield env.process(hop(i, c, services[c], row, position == 0, local, len(route) > 1 and not variant.direct))
            if finished is None:               # its queue was full
                if not state["done"]:
                    row["complete"] = env.now
                    answer(QUEUE_FULL, env.now, env.now - t0)
                return
            if finished > t0 + timeout:        # the watchdog answered at t0 + timeout
                row["complete"] = finished
                return
            if position == len(route) - 1:
                row["complete"] = finished
                answer(MODEL_ERROR if model_error else OK, finished, finished - t0)

    def hop(i, c, service, row, first, local, hop_rows):
        station = stations[i][c]
        arrival = env.now
        if station.count == station.capacity and len(station.queue) >= instances[i].queue_limits[c]:
            return None
        with station.request() as slot:
            yield slot
            start = env.now
            if first:
                row["start"] = start
            yield env.timeout(service)
        if hop_rows:
            hops.append([local, i, c, arrival, start, env.now])
        return env.now

    user_state = {}

    def take_think(user):
        if user is None:
            return 0.0
        return users[user].thinks.pop(0)

    def users_next(user, response, think):
        user_state[user] = response + think
        env.process(user_sends(user, response + think))

    def user_sends(user, when):
        if when >= until:
            return
        yield at(env, when, _USER + user)
        payload = users[user].payloads.pop(0)
        env.process(request(env.now, users[user].local, payload, users[user].container, user, None))

    def open_loop():
        times, local, payload, container = arrivals
        for k in range(len(times)):
            if times[k] >= until:
                return
            yield at(env, times[k], _ARRIVAL + k)
            env.process(request(env.now, int(local[k]), payload[k], int(container[k]), None, None))

    env.process(open_loop())
    for number, user in enumerate(users):
        env.process(user_sends(number, user.start))
    env.run()
    return requests, hops, user_state


@dataclass
class NaivePool:
    """A serverless variant's execution environments."""

    max_concurrency: int
    idle_timeout: float
    provisioned: int = 0


# serverless tie order at one instant: provisioned-concurrency changes, then environments freeing,
# then reaps, then arrivals (in arrival order)
_PC_CHANGE, _FREE, _REAP, _SERVERLESS_ARRIVAL = 1, 2, 3, 4  # after SimPy's own (URGENT 0: the stop at `until`)


def naive_serverless(pools: list[NaivePool], account_limit: int, arrivals, streams: dict, error_rates,
                     max_payload: float, timeout: float, until: float, changes=()):
    """Every request to serverless variants (one pool each) before `until`, the plainest way: each
    environment an object, each request, free, reap and provisioned-concurrency change a SimPy process.

    `arrivals`: (times, variant, payload). `streams` per variant v: ("overhead", v), ("route", v),
    ("service", v), ("error", v) (only when its error rate is above 0), consumed one per request in that
    order, and ("setup", v), consumed by each cold start. `changes`: (time, variant, provisioned level).
    A request is refused with PAYLOAD_TOO_LARGE, or THROTTLED when its pool has `max_concurrency` busy
    environments or all pools together `account_limit`; else it takes an idle provisioned
    environment, else the idle on-demand one that freed last, else starts one (a cold start: setup);
    its environment is busy from its arrival to start + service (start = arrival + setup). An
    on-demand environment idle for `idle_timeout` after it freed is reaped. Lowering the provisioned
    level releases idle provisioned environments, then the busy ones that free first, when they free.

    Returns (requests, events): per request a dict (arrival, variant, status, setup, environment,
    start, complete, model_latency, overhead, service); events (time, variant, kind).
    """
    from simfleet.request_records import (ENV_COLD, ENV_PROVISIONED, ENV_PROVISIONED_ADDED, ENV_REAPED,
                                          ENV_RELEASED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, ENV_STARTED,
                                          ENV_WARM, THROTTLED)

    env = simpy.Environment()
    draws = {key: list(values) for key, values in streams.items()}
    environments = [[] for _ in pools]   # per pool: dicts {busy, freed, provisioned, releasing}
    level = [0] * len(pools)
    requests, events = [], []

    def busy(p):
        return sum(1 for e in environments[p] if e["busy"])

    def set_level(p, count, t):
        change = count - level[p]
        for _ in range(change):
            environments[p].append({"busy": False, "freed": t, "provisioned": True, "releasing": False})
        for _ in range(-change):
            idle = [e for e in environments[p] if e["provisioned"] and not e["busy"] and not e["releasing"]]
            if idle:
                environments[p].remove(idle[0])
            else:
                first = min((e for e in environments[p] if e["provisioned"] and not e["releasing"]),
                            key=lambda e: e["freed"])
                first["releasing"] = True
        level[p] = count
        events.extend([(t, p, ENV_PROVISIONED_ADDED if change > 0 else ENV_RELEASED)] * abs(change))

    def change(t, p, count):
        yield at(env, t, _PC_CHANGE)
        set_level(p, count, t)

    def free(environment, t, p):
        yield at(env, t, _FREE)
        environment["busy"] = False
        if environment["releasing"]:
            environments[p].remove(environment)
        elif not environment["provisioned"]:
            env.process(reap(environment, t, p))

    def reap(environment, freed, p):
        yield at(env, freed + pools[p].idle_timeout, _REAP)
        if not environment["busy"] and environment["freed"] == freed and environment in environments[p]:
            environments[p].remove(environment)
            events.append((env.now, p, ENV_REAPED))

    def request(k, t0, p, payload):
        overhead = draws[("overhead", p)].pop(0)
        draws[("route", p)].pop(0)
        service = draws[("service", p)].pop(0)
        model_error = error_rates[p] > 0 and draws[("error", p)].pop(0) < error_rates[p]
        row = {"arrival": t0, "variant": p, "status": OK, "setup": 0.0, "environment": 0, "start": t0,
               "complete": t0, "model_latency": 0.0, "overhead": overhead, "service": service}
        requests.append(row)
        if payload > max_payload:
            row["status"] = PAYLOAD_TOO_LARGE
            return
        if busy(p) >= pools[p].max_concurrency or sum(busy(q) for q in range(len(pools))) >= account_limit:
            row["status"] = THROTTLED
            return
        idle = [e for e in environments[p] if not e["busy"] and not e["releasing"]]
        provisioned = [e for e in idle if e["provisioned"]]
        setup = 0.0
        if provisioned:
            chosen, code = provisioned[0], ENV_PROVISIONED
        elif idle:
            chosen = max(idle, key=lambda e: e["freed"])
            code = ENV_SPILLOVER_WARM if level[p] > 0 else ENV_WARM
        else:
            setup = draws[("setup", p)].pop(0)
            chosen = {"busy": False, "freed": t0, "provisioned": False, "releasing": False}
            environments[p].append(chosen)
            code = ENV_SPILLOVER_COLD if level[p] > 0 else ENV_COLD
            events.append((t0, p, ENV_STARTED))
        start = t0 + setup
        complete = start + service
        chosen["busy"] = True
        chosen["freed"] = complete
        env.process(free(chosen, complete, p))
        timed_out = complete > t0 + timeout
        answer = t0 + timeout if timed_out else complete
        if setup > 0:  # the cold start is overhead; the model's latency is its own work
            latency, overhead = max(answer - start, 0.0), overhead + min(setup, answer - t0)
        else:
            latency = timeout if timed_out else complete - t0
        row.update(setup=setup, environment=code, start=start, complete=complete,
                   status=MODEL_TIMEOUT if timed_out else (MODEL_ERROR if model_error else OK),
                   model_latency=latency, overhead=overhead)

    def open_loop():
        times, variant, payload = arrivals
        for k in range(len(times)):
            if times[k] >= until:
                return
            yield at(env, times[k], _SERVERLESS_ARRIVAL + k / (len(times) + 1))
            request(k, env.now, int(variant[k]), payload[k])

    for p, pool in enumerate(pools):
        set_level(p, pool.provisioned, 0.0)
    for t, p, count in changes:
        env.process(change(t, p, count))
    env.process(open_loop())
    env.run(until=until)
    return requests, events


@dataclass
class NaiveModelCache:
    """A multi-model variant's population and each instance's cache tiers (per model: lists)."""

    mem_need: list
    disk_need: list
    download_s: list
    load_s: list
    unload_s: list
    scale: list
    cdf: list
    spread_at: int
    wait_limit: float
    mem_cap: float
    disk_cap: float
    channels: int
    disabled: bool = False          # ModelCacheSetting Disabled
    entry: list | None = None       # per model: its own latency profile (-1 or None: the variant's)
    load_timeout: float = np.inf    # an attempt to download and load a model is given up this long after it starts
    per_model: bool = False         # worker_arrangement "per_model": one worker pool per model on each instance


@dataclass
class NaiveMMVariant:
    """One multi-model variant of an endpoint: its cache, (workers, queue limit) of each of its
    instances, its population's model names in code order, and its weight."""

    cache: NaiveModelCache
    instances: list
    names: list
    weight: float = 1.0


def naive_mme(variants: list[NaiveMMVariant], arrivals, streams: dict, error_rates, max_payload: float,
              timeout: float, until: float, attempts: list | None = None):
    """Every request to one endpoint of multi-model variants before `until`, the plainest way: each
    instance one `simpy.Resource` (its worker slots, shared by its models) or one per model (`per_model`),
    and a dict per cache tier, each request a SimPy process that waits for its model and then for a slot.

    `arrivals`: (times, target variant or -1, model name or None, payload) of the requests.
    `streams`: lists of values, consumed per request in this order: "choice" (only with several
    variants; without a target variant, the first variant k whose cumulative normalised weight is
    above the value decides, else the last), "overhead", then the chosen variant k's ("route", k), ("model", k)
    (only when the request names no model: its popularity `cdf` decides), one service value, and
    ("error", k) (only when k's error rate is above 0). The service value comes from ("service", k),
    or from ("model_service", k, e) for a model whose `entry` is e ≥ 0 (its own latency profile), and
    is multiplied by the model's `scale`. A name is resolved in the variant's population (`names`);
    a name not in it is MODEL_NOT_FOUND, its model code recorded as the population's size (its
    service drawn from ("service", k), scale 1).

    Within a variant: routing goes to the instances that hold the model (loaded or loading); the
    least loaded of them (outstanding: queued and in service in all its pools, and waiting for a
    model), unless it has `spread_at` or more and another instance has fewer, then the least loaded
    of all; ties by the routing draw. At the instance: loaded → a hit; loading → wait; else delete
    unused disk-only models (least recently requested first) for room on disk and download on the
    channel that frees first, unload unused loaded models for room in memory (one after the other),
    and load when both are done; if even all unused models would not make room: NO_CACHE_ROOM. A model
    is unused when it is loaded and no request routed to it is waiting, queued or served. A wait
    beyond `wait_limit` is MODEL_NOT_READY at the limit; its recorded wait (`setup`) is the wait up to
    the limit. With the cache `disabled`, a model is unloaded and deleted the moment it is loaded and
    no request routed to it remains, and a channel carries a download and its load together.

    The load limit (`load_timeout`): an attempt (the download if needed, and the load) started at t
    that would be ready after abandon = t + load_timeout is given up at abandon. Its download, if it
    needed one, is a CACHE_DOWNLOAD when it completes by abandon (the model then stays on disk), a
    CACHE_DOWNLOAD_ABANDONED (lasting until abandon) when it began before, and no event when it
    never began (then, as for an abandoned one, the artifact leaves disk at abandon); its channel
    frees at abandon at the latest. Its load is a CACHE_LOAD_ABANDONED (lasting until abandon) when
    it began before abandon, else no event. Until abandon the model counts as loading on the instance
    (held for routing, its memory reserved), and every request routed to it there is MODEL_NOT_READY
    after the whole wait limit (its recorded wait);
    at abandon it leaves memory (no unload) and, with the cache disabled, disk too (a CACHE_DELETE if
    its download had completed). Deletions and unloads that made its room happen as usual.

    `per_model`: each instance has a FIFO pool per model, each with the instance's workers and queue
    limit; a request, after its wait for its model, queues at its model's pool (QUEUE_FULL when that
    pool's slots are busy and its queue holds the limit).

    Returns (requests, events): per request a dict (its arrival index "request", its "variant",
    instance within the variant, ...), events (time, variant, instance, model, kind, duration).
    `attempts`, when given, receives a dict per download-and-load attempt (what started when, and
    whether it was abandoned), for tests that check what the runs reach.
    """
    from bisect import bisect_right
    from types import SimpleNamespace

    from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT,
                                          CACHE_LOAD, CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_UNLOAD,
                                          MODEL_NOT_FOUND, MODEL_NOT_READY, NO_CACHE_ROOM)

    env = simpy.Environment()
    draws = {key: list(values) for key, values in streams.items()}
    weights = np.array([v.weight for v in variants], dtype=np.float64)
    cumulative = np.cumsum(weights) / weights.sum()
    requests, events = [], []

    def tiers(variant: NaiveMMVariant):
        n = len(variant.instances)
        pools = len(variant.names) if variant.cache.per_model else 1
        return SimpleNamespace(
            stations=[[simpy.Resource(env, capacity=w) for _ in range(pools)] for w, _ in variant.instances],
            mem=[dict() for _ in range(n)],           # model -> when loaded (loaded or loading)
            disk=[dict() for _ in range(n)],          # model -> when on disk (there or downloading)
            recency_mem=[[] for _ in range(n)],       # models, least recently requested first
            recency_disk=[[] for _ in range(n)],
            in_flight=[dict() for _ in range(n)],     # model -> requests routed there, not yet done
            waiting=[0] * n,
            channels=[[0.0] * variant.cache.channels for _ in range(n)],
            abandon=[dict() for _ in range(n)])       # model -> when its loading attempt is given up

    state = [tiers(v) for v in variants]

    def take(key):
        return draws[key].pop(0)

    def outstanding(s, i):
        return sum(len(pool.users) + len(pool.queue) for pool in s.stations[i]) + s.waiting[i]

    def touch(order, m):
        if m in order:
            order.remove(m)
        order.append(m)

    def cache_step(k, i, m, t):
        cache, s = variants[k].cache, state[k]
        mem, disk = s.mem[i], s.disk[i]
        if m in mem:
            touch(s.recency_mem[i], m)
            touch(s.recency_disk[i], m)
            return mem[m], mem[m] <= t, True
        need_disk = 0.0 if m in disk else cache.disk_need[m]
        used_disk = sum(cache.disk_need[x] for x in disk)
        deletable = [x for x in s.recency_disk[i] if x not in mem and disk[x] <= t]
        if need_disk > 0 and used_disk + need_disk > cache.disk_cap and \
                used_disk - sum(cache.disk_need[x] for x in deletable) + need_disk > cache.disk_cap:
            return 0.0, False, False
        used_mem = sum(cache.mem_need[x] for x in mem)
        unloadable = [x for x in s.recency_mem[i] if mem[x] <= t and s.in_flight[i].get(x, 0) == 0]
        if used_mem + cache.mem_need[m] > cache.mem_cap and \
                used_mem - sum(cache.mem_need[x] for x in unloadable) + cache.mem_need[m] > cache.mem_cap:
            return 0.0, False, False
        download = None   # (channel, its previous free time, begin, when the channel would free)
        if need_disk > 0:
            for x in deletable:
                if sum(cache.disk_need[y] for y in disk) + need_disk <= cache.disk_cap:
                    break
                del disk[x]
                s.recency_disk[i].remove(x)
                events.append((t, k, i, x, CACHE_DELETE, 0.0))
            j = min(range(cache.channels), key=lambda c: (s.channels[i][c], c))
            begin = max(t, s.channels[i][j])
            disk[m] = begin + cache.download_s[m]
            download = (j, s.channels[i][j], begin, disk[m] + (cache.load_s[m] if cache.disabled else 0.0))
            s.channels[i][j] = download[3]
        touch(s.recency_disk[i], m)
        unloaded = t
        for x in unloadable:
            if sum(cache.mem_need[y] for y in mem) + cache.mem_need[m] <= cache.mem_cap:
                break
            del mem[x]
            s.recency_mem[i].remove(x)
            events.append((unloaded, k, i, x, CACHE_UNLOAD, cache.unload_s[x]))
            unloaded += cache.unload_s[x]
        begin_load = max(disk[m], unloaded)
        ready = begin_load + cache.load_s[m]
        mem[m] = ready
        touch(s.recency_mem[i], m)
        abandon = t + cache.load_timeout
        given_up = ready > abandon
        if attempts is not None:
            attempts.append({"variant": k, "instance": i, "model": m, "start": t, "abandon": abandon,
                             "download": None if download is None else download[2], "disk_ready": disk[m],
                             "load": begin_load, "ready": ready, "abandoned": given_up})
        if not given_up:
            if download is not None:
                events.append((download[2], k, i, m, CACHE_DOWNLOAD, cache.download_s[m]))
            events.append((begin_load, k, i, m, CACHE_LOAD, cache.load_s[m]))
            if cache.disabled:
                env.process(loaded(k, i, m, ready))
            return ready, False, True
        # the load limit: the attempt is given up at `abandon`
        if download is not None:
            j, previous, begin, end = download
            s.channels[i][j] = max(previous, min(end, abandon))
            if disk[m] <= abandon:
                events.append((begin, k, i, m, CACHE_DOWNLOAD, cache.download_s[m]))
            elif begin < abandon:
                events.append((begin, k, i, m, CACHE_DOWNLOAD_ABANDONED, abandon - begin))
        if begin_load < abandon:
            events.append((begin_load, k, i, m, CACHE_LOAD_ABANDONED, abandon - begin_load))
        s.abandon[i][m] = abandon
        env.process(abandoned(k, i, m, abandon))
        return ready, False, True

    def abandoned(k, i, m, abandon):
        """The attempt's end: the model leaves memory (no unload), and disk unless its download
        completed (with the cache disabled, it is deleted then)."""
        yield at(env, abandon, _HOP - 0.5)
        s = state[k]
        del s.mem[i][m]
        del s.abandon[i][m]
        s.recency_mem[i].remove(m)
        if s.disk[i][m] > abandon or variants[k].cache.disabled:
            if s.disk[i][m] <= abandon:
                events.append((abandon, k, i, m, CACHE_DELETE, 0.0))
            del s.disk[i][m]
            s.recency_disk[i].remove(m)

    def loaded(k, i, m, ready):
        """Cache disabled: a model nobody waits for any more goes when its load ends."""
        yield at(env, ready, _HOP - 0.5)
        if state[k].mem[i].get(m) == ready and state[k].in_flight[i].get(m, 0) == 0:
            release(k, i, m)

    def done_with(k, i, m):
        """A request routed to model m on instance i of variant k is done (answered, refused or completed)."""
        s = state[k]
        s.in_flight[i][m] -= 1
        if variants[k].cache.disabled and s.in_flight[i][m] == 0 and m in s.mem[i] and s.mem[i][m] <= env.now:
            release(k, i, m)

    def release(k, i, m):
        s = state[k]
        del s.mem[i][m]
        del s.disk[i][m]
        s.recency_mem[i].remove(m)
        s.recency_disk[i].remove(m)
        events.append((env.now, k, i, m, CACHE_UNLOAD, variants[k].cache.unload_s[m]))
        events.append((env.now, k, i, m, CACHE_DELETE, 0.0))

    def request(seq, t0, target, name, payload):
        k = target
        if k < 0:
            k = 0
            if len(variants) > 1:
                u_choice = take("choice")
                while k < len(variants) - 1 and u_choice >= cumulative[k]:
                    k += 1
        elif len(variants) > 1:
            take("choice")  # a request that names its variant still takes its value (as `naive_flow`)
        variant, s = variants[k], state[k]
        cache = variant.cache
        n_models = len(variant.names)
        overhead = take("overhead")
        u = take(("route", k))
        if name is None:
            m = min(bisect_right(cache.cdf, take(("model", k))), n_models - 1)
        else:
            m = variant.names.index(name) if name in variant.names else n_models
        entry = cache.entry[m] if cache.entry is not None and m < n_models else -1
        drawn = take(("service", k)) if entry < 0 else take(("model_service", k, entry))
        service = drawn * (cache.scale[m] if m < n_models else 1.0)
        model_error = error_rates[k] > 0 and take(("error", k)) < error_rates[k]
        row = {"request": seq, "arrival": t0, "variant": k, "instance": -1, "status": OK, "model": m, "cache": 0,
               "setup": 0.0, "start": t0, "complete": t0, "overhead": overhead, "service": service,
               "model_latency": 0.0, "abandoned": False}
        requests.append(row)

        def answer(status, time, latency):
            setup = row["setup"]
            if setup > 0:
                row["overhead"] = overhead + min(setup, time - t0)
                latency = max(time - (t0 + setup), 0.0)
            row.update(status=status, model_latency=latency)

        if payload > max_payload:
            return answer(PAYLOAD_TOO_LARGE, t0, 0.0)
        if not variant.instances:
            return answer(NO_CAPACITY, t0, 0.0)
        if m >= n_models:
            return answer(MODEL_NOT_FOUND, t0, 0.0)
        instances = range(len(variant.instances))
        load = [outstanding(s, i) for i in instances]
        held = [i for i in instances if m in s.mem[i]]
        if held and not (min(load[i] for i in held) >= cache.spread_at and min(load) < min(load[i] for i in held)):
            candidates = [i for i in held if load[i] == min(load[j] for j in held)]
        else:
            candidates = [i for i in instances if load[i] == min(load)]
        i = candidates[min(int(u * len(candidates)), len(candidates) - 1)]
        row["instance"] = i
        ready, hit, room = cache_step(k, i, m, t0)
        if not room:
            return answer(NO_CACHE_ROOM, t0, 0.0)
        row["cache"] = CACHE_HIT if hit else CACHE_MISS
        s.in_flight[i][m] = s.in_flight[i].get(m, 0) + 1
        if m in s.abandon[i]:
            ready = np.inf  # an attempt given up: the model never loads for this request
        if ready > t0:
            row["setup"] = min(ready, t0 + cache.wait_limit) - t0
            if ready > t0 + cache.wait_limit:
                row["abandoned"] = m in s.abandon[i]
                done_with(k, i, m)
                return answer(MODEL_NOT_READY, t0 + cache.wait_limit, 0.0)
            s.waiting[i] += 1
            yield at(env, ready, _HOP + seq)
            s.waiting[i] -= 1
        station = s.stations[i][m if cache.per_model else 0]
        if station.count == station.capacity and len(station.queue) >= variant.instances[i][1]:
            done_with(k, i, m)
            row["start"] = row["complete"] = env.now
            return answer(QUEUE_FULL, env.now, env.now - t0)
        with station.request() as slot:
            yield slot
            row["start"] = env.now
            yield env.timeout(service)
        row["complete"] = env.now
        done_with(k, i, m)
        if env.now > t0 + timeout:
            return answer(MODEL_TIMEOUT, t0 + timeout, timeout)
        answer(MODEL_ERROR if model_error else OK, env.now, env.now - t0)

    def open_loop():
        times, targets, names, payloads = arrivals
        for j in range(len(times)):
            if times[j] >= until:
                return
            yield at(env, times[j], _ARRIVAL + j)
            env.process(request(j, env.now, int(targets[j]), names[j], payloads[j]))

    env.process(open_loop())
    env.run()
    return requests, events
