"""The request plane's one kernel: every request of an endpoint, from its send to its answer.

Stations and routes (DESIGN §2.1). A station is a container's FIFO worker pool with a bounded job
queue (`Stations`, one row per container of each instance); a variant's route is the containers a
request visits on the instance it was routed to: all of them in order (a serial inference
pipeline; one container is today's real-time endpoint), or the one the request names (direct
invocation of a multi-container endpoint). A FIFO station with known service times gives each
request's start at once, start = max(arrival, earliest free slot), provided that it sees its
arrivals in time order.

A serverless variant's station is a pool of execution environments instead (`Pools`, one per
serverless variant; `pools=None` compiles a specialisation without them): a request takes an idle
provisioned environment, else the idle on-demand one that freed last, else starts one cold (its
setup time drawn then); it is throttled when its pool's `max_concurrency` environments, or the
account's limit across every pool of the call, are busy. An environment is busy from the request's
arrival to its completion; an idle on-demand one is reaped `idle_timeout` after it freed, which
the kernel notices at the pool's next request or at the end of the call, and reports (`EnvOut`)
at the instant it happened. A pool needs no queue and no heap of pending hops: its requests are
answered when they arrive, in arrival order. Its cold start is overhead (`OverheadLatency` includes
it), not model latency.

A multi-model variant's instances have a model cache before their station (`Caches`, one row per
instance; `caches=None` compiles a specialisation without them): the request goes to the least
loaded instance holding its model (loaded or loading) unless that one is busy enough to spread
(`spread_at`), then finds its model loaded (a hit), loading, on disk, or absent, in which case
room is made (unused models deleted, unloaded, least recently requested first) and the model
downloaded and loaded; a request whose model is not ready at once waits as a pending hop, up to
the wait limit (then `MODEL_NOT_READY`), and a download-and-load longer than the load limit is
abandoned (`CACHE_*_ABANDONED`). With per-model worker pools a model has its own station on each
instance (`Caches.per_model`). Its wait is overhead, like a cold start.

Requests come from two sources, in one loop: open-loop arrivals (times drawn ahead, `Arrivals`)
and closed-loop users (`Users`, whose next send follows their answer); `users=None` compiles a
specialisation without the users' code, and `pending=None` one without the heap of pending hops
and the bookkeeping of requests between containers (an endpoint whose routes are all one station:
the fast path). Every event is taken in global time order: the next hop of
a request in flight (a heap of pending hops, carried across calls), the next open-loop arrival, the
next user send. Ties go to hops (a completion at t comes before an arrival at t; a slot that frees
at t serves a request that arrives at t), then to open-loop arrivals, then to user sends; among
hops, to the earlier request (requests are numbered as they arrive), among users, to the lower
user number. A route of one station never enters the heap: its request is answered when it
arrives, which is the fast path of a real-time endpoint.

Per-request random values are read from the rows of a draw buffer (`Draws`), each a named stream
with its own cursor, in a fixed order at the request's send: the endpoint's variant choice (only
with several variants), its overhead, the user's payload and think time, the variant's routing
draw, a multi-model request's TargetModel (only when it names none), one service time per container
of the route (a multi-model request for a model with its own profile: from that profile's row
instead of the variant's), the model-error draw (only when the
variant can fail), and a serverless request's setup time (only when it starts an environment
cold). A request takes at most one value from each row, so a call can start as many
requests as the fullest-read row has values left; it stops before the next, and the caller tops
every row up (unread values first) and calls again, so the values a request gets never depend on
how the run is cut.

The body is written once: hop and send events share the station visit and the answer. Shared
compiled helpers that take the state arrays cost numba a reference-count update per array per
call (benchmarks/README.md), so the loop body is one function; scalar helpers inline.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT,
                                      CACHE_LOAD, CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_UNLOAD, ENV_COLD, ENV_PROVISIONED, ENV_REAPED, ENV_SPILLOVER_COLD,
                                      ENV_SPILLOVER_WARM, ENV_STARTED, ENV_WARM, INVALID_TARGET, MODEL_ERROR,
                                      MODEL_NOT_FOUND, MODEL_NOT_READY, MODEL_TIMEOUT, NO_CACHE_ROOM, NO_CAPACITY,
                                      OK, PAYLOAD_TOO_LARGE, QUEUE_FULL, ROUTING_RANDOM, THROTTLED)

__all__ = ["Stations", "Routes", "EndpointSpec", "Draws", "Pending", "Arrivals", "Users", "Pools", "Caches", "Out",
           "HopOut", "EnvOut", "CacheOut", "advance", "ENV_DEAD", "ENV_ON_DEMAND", "ENV_PROVISIONED_IDLE_OR_BUSY", "ENV_RELEASING",
           "STOP_UNTIL", "STOP_BUFFER", "STOP_OUTPUT", "STOP_INFLIGHT", "STOP_ENV_OUTPUT", "STOP_CACHE_OUTPUT"]

STOP_UNTIL = 0     # every event before `until` is done
STOP_BUFFER = 1    # a draw row may run out: top up every row read from, and call again
STOP_OUTPUT = 2    # an output is full: collect (or grow) it and call again
STOP_INFLIGHT = 3  # no free in-flight slot for a request with several hops: grow `Pending` and call again
STOP_ENV_OUTPUT = 4  # the environment events' output may fill: collect it and call again
STOP_CACHE_OUTPUT = 5  # the model cache events' output may fill: collect it and call again

_NONE, _HOP, _ARRIVAL, _USER = 0, 1, 2, 3

# `Pools.env_kind`: what an execution environment slot holds
ENV_DEAD = 0                      # nothing (a spare slot)
ENV_ON_DEMAND = 1                 # an on-demand environment (reaped after the idle timeout)
ENV_PROVISIONED_IDLE_OR_BUSY = 2  # a provisioned-concurrency environment (never reaped)
ENV_RELEASING = 3                 # a provisioned environment released while busy: gone when it frees


class Stations(NamedTuple):
    """FIFO worker pools, one row per container of an instance (struct of arrays)."""

    workers: np.ndarray      # int32: worker slots
    queue_limit: np.ndarray  # int64: waiting requests the job queue holds
    slot_free: np.ndarray    # float64 [station, slot]: when each slot frees (+inf beyond `workers`)
    slot_accum: np.ndarray   # float64 [station, slot]: service assigned to each slot so far
    q_start: np.ndarray      # float64 [station, depth]: a ring of the waiting requests' start times
    q_head: np.ndarray       # int64
    q_len: np.ndarray        # int64


class Routes(NamedTuple):
    """Which instances take a variant's requests, and the stations of each instance."""

    strategy: np.ndarray       # int8 per variant: ROUTING_RANDOM or ROUTING_LEAST_OUTSTANDING
    member_ptr: np.ndarray     # int64 per variant + 1: CSR pointers into `members`
    members: np.ndarray        # int64: in-service instances of each variant
    first_station: np.ndarray  # int64 per instance: its stations are first_station .. + containers
    containers: np.ndarray     # int64 per variant: containers (stations) on each of its instances
    direct: np.ndarray         # bool per variant: each request names its container (else serial)
    inflight: np.ndarray       # int64 per instance: requests routed there with hops still to queue


class EndpointSpec(NamedTuple):
    """One endpoint's constants: its variants (numbered locally) and where their draws are."""

    variant_ids: np.ndarray          # int64 per local variant: the run's variant number
    cumulative: np.ndarray           # float64 per local variant: cumulative normalised weights
    route_row: np.ndarray            # int64 per local variant: its routing draws' row
    error_row: np.ndarray            # int64 per local variant: its model-error draws' row (-1: never fails)
    error_rate: np.ndarray           # float64 per local variant
    service_row: np.ndarray          # int64 [local variant, container]: service draws' rows
    payload_time_per_kb: np.ndarray  # float64 [local variant, container]
    container_of: np.ndarray         # int64 [local variant, hostname code]: the container a hostname
                                     # names in that variant (-1: no hostname, the last code;
                                     # the variant's container count: a name it does not have)
    hop_rows: bool                   # a variant has a serial pipeline of several containers (pending
                                     # hops, HopOut rows)
    pool: np.ndarray                 # int64 per local variant: its serverless environment pool (-1: instances)
    setup_row: np.ndarray            # int64 per local variant: its cold starts' draws' row (-1: none)
    cache: np.ndarray                # int64 per local variant: its model cache (multi-model; -1: none)
    model_row: np.ndarray            # int64 per local variant: its TargetModel draws' row (-1: none)
    model_of: np.ndarray             # int64 [local variant, TargetModel name code]: the model's code in the
                                     # variant's population (its size: a name it does not have)
    model_service_row: np.ndarray    # int64 [local variant, model]: the service draws' row of a model with its
                                     # own profile (-1: the variant's)
    model_per_kb: np.ndarray         # float64 [local variant, model]: that profile's payload time per KB
    overhead_row: np.ndarray         # int64 per local variant: its endpoint's overhead draws' row
    choice_row: int                  # the variant-choice draws' row (-1 with one variant)
    overhead_per_kb: float
    max_payload: float
    timeout: float


class Draws(NamedTuple):
    values: np.ndarray  # float64 [row, width]
    cursor: np.ndarray  # int64 per row: the next value to take (the caller tops read rows up)


class Pending(NamedTuple):
    """Requests in flight between hops, in slots, and their next hops in a binary heap."""

    heap_t: np.ndarray      # float64: when the next hop arrives at its station
    heap_key: np.ndarray    # int64: its request's number << 32 | its slot (ties: the earlier request first)
    size: np.ndarray        # int64 [1]: entries in the heap
    free: np.ndarray        # int64: a stack of free slots
    n_free: np.ndarray      # int64 [1]
    next_seq: np.ndarray    # int64 [1]: the next request's number
    seq: np.ndarray         # int64 per slot: its request's number
    arrival: np.ndarray     # float64 per slot
    payload: np.ndarray
    overhead: np.ndarray
    think: np.ndarray       # its user's think time after the answer
    first_start: np.ndarray
    local: np.ndarray       # int64 per slot
    instance: np.ndarray
    user: np.ndarray        # -1 for open-loop requests
    container: np.ndarray   # the container it named (-1: none)
    source: np.ndarray      # the traffic source that sent it
    active: np.ndarray      # in-service instances of its variant when it was routed
    hop: np.ndarray         # the hop it waits to start
    last_hop: np.ndarray
    error: np.ndarray       # bool: the model fails it
    drawn_total: np.ndarray  # float64: the service times drawn for its route, summed
    services: np.ndarray    # float64 [slot, container]
    setup: np.ndarray       # float64: a multi-model request's wait for its model
    model: np.ndarray       # int64: its TargetModel's code (-1: none)
    cache: np.ndarray       # int64: CACHE_* of its model at its arrival


class Arrivals(NamedTuple):
    """Open-loop arrivals in time order; `position` [1] is the next one to take."""

    times: np.ndarray
    local: np.ndarray       # int64: the TargetVariant's local number, -1: the weights decide
    payload: np.ndarray
    hostname: np.ndarray    # int64: its TargetContainerHostname's code (`EndpointSpec.container_of`)
    source: np.ndarray      # int64: the traffic source that sent it
    position: np.ndarray
    model: np.ndarray | None = None  # int64: its TargetModel's name code (`EndpointSpec.model_of`; -1: drawn
                                     # by popularity; None: none named)


class Users(NamedTuple):
    """Closed-loop users: a user sends, waits for its answer, thinks and sends again."""

    next_send: np.ndarray   # float64 per user (+inf while its request is in flight)
    active: np.ndarray      # bool per user
    local: np.ndarray       # int64 per user: TargetVariant's local number, -1: the weights decide
    hostname: np.ndarray    # int64 per user: its TargetContainerHostname's code
    payload_row: np.ndarray  # int64 per user
    think_row: np.ndarray    # int64 per user
    source: np.ndarray       # int64 per user: its traffic source
    model: np.ndarray        # int64 per user: its TargetModel's name code (-1: drawn by popularity)


class Pools(NamedTuple):
    """Serverless execution environments, one pool per serverless variant (struct of arrays).

    An environment serves one request at a time. Busy environments wait in a binary min-heap on
    (when they free, slot); idle on-demand ones in a ring ordered by when they freed (the oldest at
    the head: reaped first; the newest at the tail: taken first), idle provisioned ones on a stack.
    Slots hold environments (`env_kind`) or are spare (`spare`)."""

    variant: np.ndarray          # int64 per pool: the run's variant number
    max_concurrency: np.ndarray  # int64 per pool: busy environments allowed (MaxConcurrency)
    idle_timeout: np.ndarray     # float64 per pool: an idle on-demand environment is reaped this long after it freed
    provisioned: np.ndarray      # int64 per pool: the provisioned-concurrency level (> 0: on-demand is spill-over)
    account_limit: np.ndarray    # int64 [1]: busy environments allowed across all pools (the account's quota)
    busy_t: np.ndarray           # float64 [pool, max_concurrency]: heap of busy environments' free times
    busy_e: np.ndarray           # int64 [pool, max_concurrency]: their slots
    busy_n: np.ndarray           # int64 per pool
    idle_e: np.ndarray           # int64 [pool, slots]: ring of idle on-demand environments, oldest first
    idle_head: np.ndarray        # int64 per pool
    idle_len: np.ndarray         # int64 per pool
    pc_idle: np.ndarray          # int64 [pool, slots]: stack of idle provisioned environments
    pc_idle_n: np.ndarray        # int64 per pool
    spare: np.ndarray            # int64 [pool, slots]: stack of spare slots
    n_spare: np.ndarray          # int64 per pool
    env_free: np.ndarray         # float64 [pool, slots]: when each environment freed (or frees)
    env_kind: np.ndarray         # int8 [pool, slots]: ENV_DEAD, ENV_ON_DEMAND, ENV_PROVISIONED_IDLE_OR_BUSY, ENV_RELEASING


class Caches(NamedTuple):
    """Multi-model caches: each multi-model variant's population (per cache) and each of its
    instances' memory and disk (per row). A model in memory is loaded or loading (`ready` says
    when); a model on disk is there or downloading (`disk_ready`); a model is in use while it loads
    or while requests routed to it are queued or served (`busy_until`). Models in memory and on disk
    are in least-recently-requested order (linked lists, the head the oldest). A load that would end
    more than `load_timeout` after the request that started it is doomed: the model stays in memory,
    loading, until then (`ready` is the abandonment) and leaves at the row's next cache step from
    then on. With `per_model` pools, an instance's station for model m is its first station + m."""

    n_models: np.ndarray     # int64 per cache
    mem_need: np.ndarray     # float64 [cache, model]: bytes of memory the loaded model holds on an instance
    disk_need: np.ndarray    # float64 [cache, model]: bytes on the storage volume
    download_s: np.ndarray   # float64 [cache, model]: one download on one channel
    load_s: np.ndarray       # float64 [cache, model]
    unload_s: np.ndarray     # float64 [cache, model]
    scale: np.ndarray        # float64 [cache, model]: service-time factor of the model
    cdf: np.ndarray          # float64 [cache, model]: cumulative popularity (TargetModel draws)
    spread_at: np.ndarray    # int64 per cache: outstanding requests at which a loaded model spreads
    disabled: np.ndarray     # bool per cache: ModelCacheSetting Disabled (a model goes once it is unused)
    wait_limit: np.ndarray   # float64 per cache: a wait for a model beyond it is ModelNotReadyException
    load_timeout: np.ndarray  # float64 per cache: a download-and-load unfinished this long after the request
                              # that started it is abandoned then
    per_model: np.ndarray    # bool per cache: each model has its own station on an instance (its code's)
    row_of: np.ndarray       # int64 per instance: its cache row (-1: not multi-model)
    row_cache: np.ndarray    # int64 per row: its cache
    row_instance: np.ndarray  # int64 per row: its instance
    mem_cap: np.ndarray      # float64 per row
    disk_cap: np.ndarray
    mem_used: np.ndarray
    disk_used: np.ndarray
    channels: np.ndarray     # float64 [row, channel]: when each download channel frees
    mem_state: np.ndarray    # int8 [row, model]: 1 loaded or loading
    ready: np.ndarray        # float64 [row, model]
    disk_state: np.ndarray   # int8 [row, model]: 1 on disk or downloading
    disk_ready: np.ndarray   # float64 [row, model]
    busy_until: np.ndarray   # float64 [row, model]: when its last routed request completes
    doomed: np.ndarray       # int8 [row, model]: its load is abandoned at `ready` (1: the model stays on disk;
                             # 2: its download is abandoned too)
    n_doomed: np.ndarray     # int64 per row: models with `doomed` set
    m_prev: np.ndarray       # int64 [row, model]: memory's recency list
    m_next: np.ndarray
    m_head: np.ndarray       # int64 per row
    m_tail: np.ndarray
    d_prev: np.ndarray       # int64 [row, model]: disk's recency list
    d_next: np.ndarray
    d_head: np.ndarray
    d_tail: np.ndarray


class CacheOut(NamedTuple):
    """Model cache events the kernel decides (`request_records.CacheRecords`)."""

    time: np.ndarray
    instance: np.ndarray    # int32
    model: np.ndarray       # int32
    kind: np.ndarray        # int8
    duration: np.ndarray
    count: np.ndarray       # int64 [1]


class EnvOut(NamedTuple):
    """Environment lifecycle events the kernel decides: cold starts and reaps (`request_records`' kinds)."""

    time: np.ndarray
    variant: np.ndarray     # int32
    kind: np.ndarray        # int8
    count: np.ndarray       # int64 [1]


class Out(NamedTuple):
    """One row per answered request, in the order of the answers' processing. When an endpoint has
    no users and no route of several containers, answers come in arrival order (row k is arrival
    k) and `arrival`, `payload` and `source` are left unwritten: they are the
    arrivals' own (`EndpointFlow` takes them from there)."""

    arrival: np.ndarray
    variant: np.ndarray     # int32, the run's variant number
    instance: np.ndarray    # int32, -1: none reached
    status: np.ndarray      # int8
    payload: np.ndarray
    service: np.ndarray     # the service times drawn for its route, summed
    start: np.ndarray       # start of service at its first station (its arrival when never served)
    complete: np.ndarray    # when its last station finished it (its arrival when never served)
    model_latency: np.ndarray
    overhead: np.ndarray
    response: np.ndarray    # when the client has its answer: the container's answer (or the refusal) + overhead
    active: np.ndarray      # int32
    container: np.ndarray   # int32: the container it named in its variant, -1: none
    source: np.ndarray      # int16: the traffic source that sent it
    setup: np.ndarray       # float64: its cold start (0 when warm), in `overhead` (serverless flows only)
    environment: np.ndarray  # int8: the ENV_* code of the environment that served it (serverless flows only)
    model: np.ndarray       # int32: its TargetModel's code (multi-model flows only; -1: none)
    cache: np.ndarray       # int8: CACHE_* (multi-model flows only)
    count: np.ndarray       # int64 [1]


class HopOut(NamedTuple):
    """One row per hop through a container of a serial pipeline of several containers."""

    variant: np.ndarray     # int32
    instance: np.ndarray    # int32
    container: np.ndarray   # int32
    arrival: np.ndarray     # at the container
    start: np.ndarray
    complete: np.ndarray
    count: np.ndarray       # int64 [1]


@njit(cache=True, inline="always")
def _before(t_a, key_a, t_b, key_b):
    """A heap's order: the earlier time first, ties to the lower key (request or user number)."""
    return t_a < t_b or (t_a == t_b and key_a < key_b)


@njit(cache=True, inline="always")
def _sift_up(heap_t, heap_k, size, t, k):
    """Add (t, k) to a binary min-heap of `size` entries (the caller counts it in)."""
    c = size
    while c > 0:
        parent = (c - 1) >> 1
        if _before(heap_t[parent], heap_k[parent], t, k):
            break
        heap_t[c] = heap_t[parent]
        heap_k[c] = heap_k[parent]
        c = parent
    heap_t[c] = t
    heap_k[c] = k


@njit(cache=True, inline="always")
def _sift_down(heap_t, heap_k, size, t, k):
    """Put (t, k) in place of a binary min-heap's top and move it down among its `size` entries."""
    c = 0
    while True:
        child = 2 * c + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(heap_t[right], heap_k[right], heap_t[child], heap_k[child]):
            child = right
        if _before(t, k, heap_t[child], heap_k[child]):
            break
        heap_t[c] = heap_t[child]
        heap_k[c] = heap_k[child]
        c = child
    heap_t[c] = t
    heap_k[c] = k


@njit(cache=True, inline="always")
def _frees(pools, q, t):
    """Pool `q`'s environments that free at or before `t` leave its heap, in time order (ties: the
    lower slot): on-demand ones join the tail of the idle ring, provisioned ones the idle stack,
    released ones become spare slots."""
    slots = pools.env_free.shape[1]
    heap_t = pools.busy_t[q]
    heap_k = pools.busy_e[q]
    while pools.busy_n[q] > 0 and heap_t[0] <= t:
        e = heap_k[0]
        n = pools.busy_n[q] - 1
        pools.busy_n[q] = n
        if n > 0:
            _sift_down(heap_t, heap_k, n, heap_t[n], heap_k[n])
        kind = pools.env_kind[q, e]
        if kind == ENV_ON_DEMAND:
            pools.idle_e[q, (pools.idle_head[q] + pools.idle_len[q]) % slots] = e
            pools.idle_len[q] += 1
        elif kind == ENV_PROVISIONED_IDLE_OR_BUSY:
            pools.pc_idle[q, pools.pc_idle_n[q]] = e
            pools.pc_idle_n[q] += 1
        else:
            pools.env_kind[q, e] = ENV_DEAD
            pools.spare[q, pools.n_spare[q]] = e
            pools.n_spare[q] += 1


@njit(cache=True, inline="always")
def _reaps(pools, q, t, inclusive, env_out, n_env):
    """Reap pool `q`'s idle on-demand environments whose idle timeout ends at `t` or before (before
    `t` only, unless `inclusive`), oldest first; returns the events written."""
    slots = pools.env_free.shape[1]
    idle = pools.idle_timeout[q]
    while pools.idle_len[q] > 0:
        e = pools.idle_e[q, pools.idle_head[q]]
        reap = pools.env_free[q, e] + idle
        if reap > t or (reap == t and not inclusive):
            break
        pools.idle_head[q] = (pools.idle_head[q] + 1) % slots
        pools.idle_len[q] -= 1
        pools.env_kind[q, e] = ENV_DEAD
        pools.spare[q, pools.n_spare[q]] = e
        pools.n_spare[q] += 1
        env_out.time[n_env] = reap
        env_out.variant[n_env] = pools.variant[q]
        env_out.kind[n_env] = ENV_REAPED
        n_env += 1
    return n_env


@njit(cache=True, inline="always")
def _unlink(prev, nxt, head, tail, r, m):
    """Take model m out of row r's recency list."""
    before = prev[r, m]
    after = nxt[r, m]
    if before >= 0:
        nxt[r, before] = after
    else:
        head[r] = after
    if after >= 0:
        prev[r, after] = before
    else:
        tail[r] = before


@njit(cache=True, inline="always")
def _append(prev, nxt, head, tail, r, m):
    """Put model m at the end (the most recent) of row r's recency list."""
    last = tail[r]
    prev[r, m] = last
    nxt[r, m] = -1
    if last >= 0:
        nxt[r, last] = m
    else:
        head[r] = m
    tail[r] = m


@njit(cache=True, inline="always")
def _touch(prev, nxt, head, tail, r, m):
    """Model m becomes the most recent of row r's recency list (it is in the list)."""
    if tail[r] != m:
        _unlink(prev, nxt, head, tail, r, m)
        _append(prev, nxt, head, tail, r, m)


@njit(cache=True, inline="always")
def _cache_event(cache_out, n, time, instance, model, kind, duration):
    cache_out.time[n] = time
    cache_out.instance[n] = instance
    cache_out.model[n] = model
    cache_out.kind[n] = kind
    cache_out.duration[n] = duration
    return n + 1


@njit(cache=True, inline="always")
def _release_unused(c, cache_out, n_cache, cc, r, t, inclusive):
    """ModelCacheSetting Disabled: every model of row r that is loaded and unused by `t` (at `t` too
    if `inclusive`) is unloaded and deleted at the instant it became unused (its load's end or its
    last request's completion, whichever is later). Returns the events written."""
    x = c.m_head[r]
    while x >= 0:
        after = c.m_next[r, x]
        gone = max(c.ready[r, x], c.busy_until[r, x])
        if c.doomed[r, x] == 0 and (gone < t or (gone == t and inclusive)):
            _unlink(c.m_prev, c.m_next, c.m_head, c.m_tail, r, x)
            _unlink(c.d_prev, c.d_next, c.d_head, c.d_tail, r, x)
            c.mem_state[r, x] = 0
            c.disk_state[r, x] = 0
            c.mem_used[r] -= c.mem_need[cc, x]
            c.disk_used[r] -= c.disk_need[cc, x]
            n_cache = _cache_event(cache_out, n_cache, gone, c.row_instance[r], x, CACHE_UNLOAD, c.unload_s[cc, x])
            n_cache = _cache_event(cache_out, n_cache, gone, c.row_instance[r], x, CACHE_DELETE, 0.0)
        x = after
    return n_cache


@njit(cache=True, inline="always")
def _purge(c, cache_out, n_cache, cc, r, t, inclusive):
    """Row r's models whose abandoned load ended by `t` (at `t` too if `inclusive`) leave memory (no
    unload: their memory was never a loaded model's) and, if their download was abandoned too, the
    disk; with the cache disabled, a model downloaded whole is deleted then. Returns the events written."""
    x = c.m_head[r]
    while x >= 0 and c.n_doomed[r] > 0:
        after = c.m_next[r, x]
        gone = c.ready[r, x]
        if c.doomed[r, x] != 0 and (gone < t or (gone == t and inclusive)):
            _unlink(c.m_prev, c.m_next, c.m_head, c.m_tail, r, x)
            c.mem_state[r, x] = 0
            c.mem_used[r] -= c.mem_need[cc, x]
            if c.doomed[r, x] == 2 or c.disabled[cc]:
                _unlink(c.d_prev, c.d_next, c.d_head, c.d_tail, r, x)
                c.disk_state[r, x] = 0
                c.disk_used[r] -= c.disk_need[cc, x]
                if c.doomed[r, x] == 1:
                    n_cache = _cache_event(cache_out, n_cache, gone, c.row_instance[r], x, CACHE_DELETE, 0.0)
            c.doomed[r, x] = 0
            c.n_doomed[r] -= 1
        x = after
    return n_cache


@njit(cache=True, inline="always")
def _cache_step(c, cache_out, n_cache, cc, r, i, m, t):
    """Model m for a request at instance i (cache row r) at t: a hit, a load in progress, or a
    download (unless on disk) and a load, evicting unused models least recently requested first
    (deletions from disk, unloads from memory) when room is needed. Returns (when the model is
    loaded (+inf: its load will be abandoned), whether it was loaded at t, whether there was room,
    events written).

    A download-and-load that would end more than `load_timeout` after t is abandoned then: what of
    it ran is reported (`CACHE_*_ABANDONED`), its channel frees at the abandonment, the model holds
    its memory (and its disk, until its download is done) until then and is gone after."""
    if c.n_doomed[r] > 0:
        n_cache = _purge(c, cache_out, n_cache, cc, r, t, True)
    if c.mem_state[r, m] == 1:
        ready = c.ready[r, m]
        _touch(c.m_prev, c.m_next, c.m_head, c.m_tail, r, m)
        _touch(c.d_prev, c.d_next, c.d_head, c.d_tail, r, m)
        if c.doomed[r, m] != 0:
            return np.inf, False, True, n_cache
        return ready, ready <= t, True, n_cache
    # room on disk first (a model not on disk is not in memory either), then in memory; each is
    # checked before anything is evicted, so a request that finds no room evicts nothing
    need_disk = 0.0 if c.disk_state[r, m] == 1 else c.disk_need[cc, m]
    # (each check walks from the least recent end only until it has found room enough)
    if need_disk > 0.0 and c.disk_used[r] + need_disk > c.disk_cap[r]:
        freeable = 0.0
        x = c.d_head[r]
        while x >= 0 and c.disk_used[r] - freeable + need_disk > c.disk_cap[r]:
            if c.mem_state[r, x] == 0 and c.disk_ready[r, x] <= t:
                freeable += c.disk_need[cc, x]
            x = c.d_next[r, x]
        if c.disk_used[r] - freeable + need_disk > c.disk_cap[r]:
            return 0.0, False, False, n_cache
    need_mem = c.mem_need[cc, m]
    if c.mem_used[r] + need_mem > c.mem_cap[r]:
        freeable = 0.0
        x = c.m_head[r]
        while x >= 0 and c.mem_used[r] - freeable + need_mem > c.mem_cap[r]:
            if c.ready[r, x] <= t and c.busy_until[r, x] <= t:
                freeable += c.mem_need[cc, x]
            x = c.m_next[r, x]
        if c.mem_used[r] - freeable + need_mem > c.mem_cap[r]:
            return 0.0, False, False, n_cache
    k = 0
    was_free = 0.0
    begin_download = t
    if need_disk > 0.0:
        x = c.d_head[r]
        while c.disk_used[r] + need_disk > c.disk_cap[r] and x >= 0:
            after = c.d_next[r, x]
            if c.mem_state[r, x] == 0 and c.disk_ready[r, x] <= t:
                _unlink(c.d_prev, c.d_next, c.d_head, c.d_tail, r, x)
                c.disk_state[r, x] = 0
                c.disk_used[r] -= c.disk_need[cc, x]
                n_cache = _cache_event(cache_out, n_cache, t, i, x, CACHE_DELETE, 0.0)
            x = after
        # the download takes the channel that frees first (the lowest on ties); with the cache
        # disabled, a channel carries a download and its load together
        for j in range(1, c.channels.shape[1]):
            if c.channels[r, j] < c.channels[r, k]:
                k = j
        was_free = c.channels[r, k]
        begin_download = max(t, was_free)
        c.disk_ready[r, m] = begin_download + c.download_s[cc, m]
        c.channels[r, k] = c.disk_ready[r, m]
        if c.disabled[cc]:
            c.channels[r, k] += c.load_s[cc, m]
        c.disk_state[r, m] = 1
        c.disk_used[r] += need_disk
    else:
        _unlink(c.d_prev, c.d_next, c.d_head, c.d_tail, r, m)
    _append(c.d_prev, c.d_next, c.d_head, c.d_tail, r, m)
    unloaded = t  # the load waits for the unloads that make its room, one after the other
    x = c.m_head[r]
    while c.mem_used[r] + need_mem > c.mem_cap[r] and x >= 0:
        after = c.m_next[r, x]
        if c.ready[r, x] <= t and c.busy_until[r, x] <= t:
            _unlink(c.m_prev, c.m_next, c.m_head, c.m_tail, r, x)
            c.mem_state[r, x] = 0
            c.mem_used[r] -= c.mem_need[cc, x]
            n_cache = _cache_event(cache_out, n_cache, unloaded, i, x, CACHE_UNLOAD, c.unload_s[cc, x])
            unloaded += c.unload_s[cc, x]
        x = after
    begin = max(c.disk_ready[r, m], unloaded)
    c.ready[r, m] = begin + c.load_s[cc, m]
    c.mem_state[r, m] = 1
    c.mem_used[r] += need_mem
    _append(c.m_prev, c.m_next, c.m_head, c.m_tail, r, m)
    abandon = t + c.load_timeout[cc]
    if c.ready[r, m] <= abandon:
        if need_disk > 0.0:
            n_cache = _cache_event(cache_out, n_cache, begin_download, i, m, CACHE_DOWNLOAD, c.download_s[cc, m])
        n_cache = _cache_event(cache_out, n_cache, begin, i, m, CACHE_LOAD, c.load_s[cc, m])
        return c.ready[r, m], False, True, n_cache
    # abandoned at `abandon`: the model is gone from memory then (and from disk, unless downloaded)
    c.doomed[r, m] = 1
    if need_disk > 0.0:
        c.channels[r, k] = max(was_free, min(c.channels[r, k], abandon))
        if c.disk_ready[r, m] <= abandon:
            n_cache = _cache_event(cache_out, n_cache, begin_download, i, m, CACHE_DOWNLOAD, c.download_s[cc, m])
        else:
            c.doomed[r, m] = 2
            c.disk_ready[r, m] = abandon
            if begin_download < abandon:
                n_cache = _cache_event(cache_out, n_cache, begin_download, i, m, CACHE_DOWNLOAD_ABANDONED,
                                       abandon - begin_download)
    if begin < abandon:
        n_cache = _cache_event(cache_out, n_cache, begin, i, m, CACHE_LOAD_ABANDONED, abandon - begin)
    c.ready[r, m] = abandon
    c.n_doomed[r] += 1
    return np.inf, False, True, n_cache


@njit(cache=True)
def _advance(until, spec, routes, st, draws, pending, arrivals, users, out, hops, pools, env_out, caches, cache_out):
    width = draws.values.shape[1]
    cap = st.q_start.shape[1]
    counted = np.empty(routes.members.shape[0], np.int64)  # least-outstanding routing: each member's count
    n_local = spec.cumulative.shape[0]
    n_arrivals = arrivals.times.shape[0]

    # Users' next sends as a binary min-heap on (send time, user number), rebuilt at each call from
    # `next_send` (the state that persists): users joining or leaving between calls need no
    # bookkeeping here. A user whose request is in flight (+inf) joins when it is answered.
    n_users = 0
    if users is not None:
        n_users = users.next_send.shape[0]
    user_t = np.empty(n_users)
    user_k = np.empty(n_users, np.int64)
    user_size = 0
    if users is not None:
        for j in range(n_users):
            if not users.active[j] or users.next_send[j] == np.inf:
                continue
            _sift_up(user_t, user_k, user_size, users.next_send[j], j)
            user_size += 1

    # Counters live in locals during the loop and are written back at its one exit. Each request
    # takes at most one value from each draw row, and the caller refills every row it has read from
    # (`Draws`), so `budget` requests can start before any row may run out.
    a = arrivals.position[0]
    n_out = out.count[0]
    n_hops = hops.count[0]
    heap_size = 0
    next_seq = 0
    if pending is not None:
        heap_size = pending.size[0]
        next_seq = pending.next_seq[0]
    budget = width
    for row in range(draws.cursor.shape[0]):
        budget = min(budget, width - draws.cursor[row])
    # With open-loop arrivals only and no route of several containers, the k-th answer is the k-th
    # arrival: its arrival, payload and source need no copy (`Out`).
    in_order = users is None and pending is None and a == n_out
    # serverless pools: the account's concurrency matters only if the pools' limits together exceed it
    n_env = 0
    n_pools = 0
    env_room = 0
    account_binds = False
    if pools is not None:
        n_env = env_out.count[0]
        n_pools = pools.max_concurrency.shape[0]
        env_room = pools.env_free.shape[1] + 1  # the most events one request can write
        account_binds = pools.max_concurrency.sum() > pools.account_limit[0]
    n_cache = 0
    cache_room = 0
    if caches is not None:
        n_cache = cache_out.count[0]
        # the most events one request can write (disabled caches release models on every member)
        cache_room = 2 * caches.mem_state.shape[1] * (routes.members.shape[0] + 1) + 2
    reason = STOP_UNTIL
    while True:
        # -- the next event: a pending hop, then an open-loop arrival, then a user send ----------------
        kind = _NONE
        t = until
        if pending is not None:
            if heap_size > 0 and pending.heap_t[0] < t:
                kind = _HOP
                t = pending.heap_t[0]
        if a < n_arrivals and arrivals.times[a] < t:
            kind = _ARRIVAL
            t = arrivals.times[a]
        user = -1
        if users is not None:
            if user_size > 0 and user_t[0] < t:
                kind = _USER
                t = user_t[0]
                user = user_k[0]
        if kind == _NONE:
            break
        if n_out >= out.arrival.shape[0] or (spec.hop_rows and n_hops >= hops.arrival.shape[0]):
            reason = STOP_OUTPUT
            break
        if pools is not None:
            if n_env + env_room > env_out.time.shape[0]:
                reason = STOP_ENV_OUTPUT
                break
        if caches is not None:
            if n_cache + cache_room > cache_out.time.shape[0]:
                reason = STOP_CACHE_OUTPUT
                break

        slot = -1
        status = OK
        done = False
        valid = True
        n_containers = 1
        source = -1
        hostname = 0
        drawn_total = 0.0
        think = 0.0
        u = 0.0
        complete = t
        setup = 0.0
        env_code = 0
        ready_t = t        # when a multi-model request's model is loaded
        mm = -1            # a multi-model request's TargetModel
        cache_flag = 0
        deferred = False   # it waits for its model: its station visit is a pending hop
        if kind == _HOP:
            if pending is not None:
                slot = pending.heap_key[0] & 0xFFFFFFFF
                # pop the heap's top: its last entry moves down from the top
                heap_size -= 1
                if heap_size > 0:
                    _sift_down(pending.heap_t, pending.heap_key, heap_size, pending.heap_t[heap_size],
                               pending.heap_key[heap_size])
                t0 = pending.arrival[slot]
                local = pending.local[slot]
                v = spec.variant_ids[local]
                i = pending.instance[slot]
                user = pending.user[slot]
                container = pending.container[slot]
                source = pending.source[slot]
                n = pending.active[slot]
                hop = pending.hop[slot]
                last_hop = pending.last_hop[slot]
                payload = pending.payload[slot]
                overhead = pending.overhead[slot]
                first_start = pending.first_start[slot]
                model_error = pending.error[slot]
                service = pending.services[slot, hop]
                think = pending.think[slot]
                seq = pending.seq[slot]
                drawn_total = pending.drawn_total[slot]
                if caches is not None:
                    setup = pending.setup[slot]
                    mm = pending.model[slot]
                    cache_flag = pending.cache[slot]
        else:
            # -- a new request: its draws, its variant, its route, its instance ------------------------
            t0 = t
            if kind == _ARRIVAL:
                local = arrivals.local[a]
                hostname = arrivals.hostname[a]
                source = arrivals.source[a]
                payload = arrivals.payload[a]
                if caches is not None:
                    if arrivals.model is not None:
                        mm = arrivals.model[a]
            elif users is not None:
                local = users.local[user]
                hostname = users.hostname[user]
                source = users.source[user]
                if caches is not None:
                    mm = users.model[user]
            if budget == 0:
                reason = STOP_BUFFER
                break
            if kind != _ARRIVAL and users is not None:
                # a user's payload, read only once the buffer is known to hold every value of the request
                payload = draws.values[users.payload_row[user], draws.cursor[users.payload_row[user]]]
            if local < 0:  # no TargetVariant: the variant weights decide
                local = 0
                if spec.choice_row >= 0:
                    u_choice = draws.values[spec.choice_row, draws.cursor[spec.choice_row]]
                    while local < n_local - 1 and u_choice >= spec.cumulative[local]:
                        local += 1
            v = spec.variant_ids[local]
            n_containers = routes.containers[v]
            container = spec.container_of[local, hostname]
            if routes.direct[v]:
                hop = container
                last_hop = container
                valid = 0 <= container < n_containers
            else:
                hop = 0
                last_hop = n_containers - 1
                valid = container < 0
            lo = routes.member_ptr[v]
            n = routes.member_ptr[v + 1] - lo
            several = False
            if pending is not None:
                several = valid and last_hop > hop and payload <= spec.max_payload and n > 0
                if caches is not None:
                    # a multi-model request may wait for its model: it holds a slot until routed
                    if spec.cache[local] >= 0 and valid and payload <= spec.max_payload and n > 0:
                        several = True
                if several:
                    if pending.n_free[0] == 0:
                        reason = STOP_INFLIGHT
                        break
                    pending.n_free[0] -= 1
                    slot = pending.free[pending.n_free[0]]

            # every value is there: take them, in the stated order
            budget -= 1
            if kind == _ARRIVAL:
                a += 1
                think = 0.0
            elif users is not None:
                draws.cursor[users.payload_row[user]] += 1
                think = draws.values[users.think_row[user], draws.cursor[users.think_row[user]]]
                draws.cursor[users.think_row[user]] += 1
            if spec.choice_row >= 0:
                draws.cursor[spec.choice_row] += 1
            row = spec.overhead_row[local]
            overhead = draws.values[row, draws.cursor[row]]
            draws.cursor[row] += 1
            if spec.overhead_per_kb != 0.0:
                overhead += payload / 1000.0 * spec.overhead_per_kb
            u = draws.values[spec.route_row[local], draws.cursor[spec.route_row[local]]]
            draws.cursor[spec.route_row[local]] += 1
            cc = -1
            scale = 1.0
            own_row = -1  # a model with its own profile: its service draws' row
            if caches is not None:
                cc = spec.cache[local]
                if cc >= 0 and valid:
                    if mm < 0:  # no TargetModel named: the population's popularity decides
                        row = spec.model_row[local]
                        u_model = draws.values[row, draws.cursor[row]]
                        draws.cursor[row] += 1
                        mm = min(np.searchsorted(caches.cdf[cc, : caches.n_models[cc]], u_model, side="right"),
                                 caches.n_models[cc] - 1)
                    else:  # its name, in the variant's population
                        mm = spec.model_of[local, mm]
                    if mm < caches.n_models[cc]:
                        scale = caches.scale[cc, mm]
                        own_row = spec.model_service_row[local, mm]
                else:
                    mm = -1  # a TargetModel means nothing to a variant that is not multi-model
            drawn_total = 0.0
            if valid:
                for h in range(hop, last_hop + 1):
                    row = spec.service_row[local, h]
                    per_kb = spec.payload_time_per_kb[local, h]
                    if caches is not None:
                        if own_row >= 0:
                            row = own_row
                            per_kb = spec.model_per_kb[local, mm]
                    drawn = draws.values[row, draws.cursor[row]]
                    draws.cursor[row] += 1
                    if per_kb != 0.0:
                        drawn += payload / 1000.0 * per_kb
                    drawn *= scale
                    if pending is not None:
                        if several:
                            pending.services[slot, h] = drawn
                    drawn_total += drawn
            service = drawn_total
            model_error = False
            if spec.error_row[local] >= 0:
                row = spec.error_row[local]
                model_error = draws.values[row, draws.cursor[row]] < spec.error_rate[local]
                draws.cursor[row] += 1

            i = -1
            first_start = t
            if payload > spec.max_payload:
                status = PAYLOAD_TOO_LARGE
                done = True
            elif not valid:
                status = INVALID_TARGET
                done = True
            elif pools is not None and spec.pool[local] >= 0:
                # -- serverless: an execution environment of the variant's pool ----------------------
                p = spec.pool[local]
                # (each helper is entered only when it has work: an idle call in this loop measured
                # several times the cost of the rest of a serverless request, benchmarks/README.md)
                for q in range(n_pools):
                    if (q == p or account_binds) and pools.busy_n[q] > 0 and pools.busy_t[q, 0] <= t:
                        _frees(pools, q, t)
                if pools.idle_len[p] > 0 and \
                        pools.env_free[p, pools.idle_e[p, pools.idle_head[p]]] + pools.idle_timeout[p] <= t:
                    n_env = _reaps(pools, p, t, True, env_out, n_env)
                busy_total = 0
                if account_binds:
                    for q in range(n_pools):
                        busy_total += pools.busy_n[q]
                done = True
                if pools.busy_n[p] >= pools.max_concurrency[p] or (account_binds and busy_total >= pools.account_limit[0]):
                    status = THROTTLED
                else:
                    if pools.pc_idle_n[p] > 0:  # an idle provisioned environment first
                        pools.pc_idle_n[p] -= 1
                        e = pools.pc_idle[p, pools.pc_idle_n[p]]
                        env_code = ENV_PROVISIONED
                    elif pools.idle_len[p] > 0:  # then the warm on-demand environment that freed last
                        pools.idle_len[p] -= 1
                        e = pools.idle_e[p, (pools.idle_head[p] + pools.idle_len[p]) % pools.env_free.shape[1]]
                        env_code = ENV_SPILLOVER_WARM if pools.provisioned[p] > 0 else ENV_WARM
                    else:  # else a cold start
                        pools.n_spare[p] -= 1
                        e = pools.spare[p, pools.n_spare[p]]
                        pools.env_kind[p, e] = ENV_ON_DEMAND
                        row = spec.setup_row[local]
                        setup = draws.values[row, draws.cursor[row]]
                        draws.cursor[row] += 1
                        env_code = ENV_SPILLOVER_COLD if pools.provisioned[p] > 0 else ENV_COLD
                        env_out.time[n_env] = t
                        env_out.variant[n_env] = v
                        env_out.kind[n_env] = ENV_STARTED
                        n_env += 1
                    first_start = t + setup
                    complete = first_start + service
                    pools.env_free[p, e] = complete
                    _sift_up(pools.busy_t[p], pools.busy_e[p], pools.busy_n[p], complete, e)
                    pools.busy_n[p] += 1
                    if complete > t0 + spec.timeout:
                        status = MODEL_TIMEOUT
                    else:
                        status = MODEL_ERROR if model_error else OK
            elif n == 0:
                status = NO_CAPACITY
                done = True
            elif caches is not None and cc >= 0 and mm >= caches.n_models[cc]:
                status = MODEL_NOT_FOUND  # a multi-model request for a model the population lacks
                done = True
            elif routes.strategy[v] == ROUTING_RANDOM and cc < 0:
                i = routes.members[lo + min(int(u * n), n - 1)]
            else:
                # least outstanding requests: a request counts on its instance, at the station where
                # it is, from its arrival until its last hop completes. A multi-model request (its own
                # routing, whatever the variant's strategy) counts requests waiting for their model
                # too, and goes to the least loaded instance holding its model (loaded or loading),
                # unless that one has `spread_at` or more and another has fewer: then to the least
                # loaded of all
                if caches is not None and cc >= 0:
                    if caches.disabled[cc]:  # models unused by now are gone (unloaded and deleted) first
                        for j in range(lo, lo + n):
                            n_cache = _release_unused(caches, cache_out, n_cache, cc,
                                                      caches.row_of[routes.members[j]], t, True)
                best = 1 << 62
                ties = 0
                best_held = 1 << 62
                ties_held = 0
                per_model = False
                if caches is not None and cc >= 0:
                    per_model = caches.per_model[cc]
                for j in range(lo, lo + n):
                    m = routes.members[j]
                    outstanding = 0
                    # its stations: its containers', or with per-model pools those of the models in
                    # its memory (the only ones that can be busy), in the order of its memory list
                    s = routes.first_station[m]
                    x = -1
                    if per_model:
                        x = caches.m_head[caches.row_of[m]]
                        s = routes.first_station[m] + x
                    while (x >= 0) if per_model else (s < routes.first_station[m] + n_containers):
                        while st.q_len[s] > 0 and st.q_start[s, st.q_head[s]] <= t:  # started: no longer queued
                            st.q_head[s] = (st.q_head[s] + 1) % cap
                            st.q_len[s] -= 1
                        outstanding += st.q_len[s]
                        for w in range(st.workers[s]):
                            if st.slot_free[s, w] > t:
                                outstanding += 1
                        s += 1
                        if per_model:
                            x = caches.m_next[caches.row_of[m], x]
                            s = routes.first_station[m] + x
                    if caches is not None and cc >= 0:
                        outstanding += routes.inflight[m]
                        crow = caches.row_of[m]
                        # (held: loaded or loading; a load abandoned by now is not held)
                        if caches.mem_state[crow, mm] == 1 and (caches.doomed[crow, mm] == 0 or caches.ready[crow, mm] > t):
                            if outstanding < best_held:
                                best_held = outstanding
                                ties_held = 1
                            elif outstanding == best_held:
                                ties_held += 1
                    counted[j] = outstanding
                    if outstanding < best:
                        best = outstanding
                        ties = 1
                    elif outstanding == best:
                        ties += 1
                held_only = False
                if caches is not None and cc >= 0:
                    held_only = ties_held > 0 and not (best_held >= caches.spread_at[cc] and best < best_held)
                    if held_only:
                        best = best_held
                        ties = ties_held
                pick = min(int(u * ties), ties - 1)
                for j in range(lo, lo + n):
                    if counted[j] == best:
                        if caches is not None and held_only:
                            crow = caches.row_of[routes.members[j]]
                            if caches.mem_state[crow, mm] != 1 or (caches.doomed[crow, mm] != 0 and caches.ready[crow, mm] <= t):
                                continue
                        if pick == 0:
                            i = routes.members[j]
                            break
                        pick -= 1
                if caches is not None and cc >= 0:
                    # -- the instance's model cache: a hit, a wait for a load, or no room ------------
                    crow = caches.row_of[i]
                    if caches.n_doomed[crow] == 0 and caches.mem_state[crow, mm] == 1:
                        # loaded or loading (the common case, taken here: a call into `_cache_step`,
                        # which takes the whole `Caches`, costs a reference count per array)
                        ready_t = caches.ready[crow, mm]
                        hit = ready_t <= t
                        room = True
                        _touch(caches.m_prev, caches.m_next, caches.m_head, caches.m_tail, crow, mm)
                        _touch(caches.d_prev, caches.d_next, caches.d_head, caches.d_tail, crow, mm)
                    else:
                        ready_t, hit, room, n_cache = _cache_step(caches, cache_out, n_cache, cc, crow, i, mm, t)
                    if not room:
                        status = NO_CACHE_ROOM
                        done = True
                    else:
                        cache_flag = CACHE_HIT if hit else CACHE_MISS
                        if ready_t > t:
                            setup = min(ready_t, t0 + caches.wait_limit[cc]) - t
                            if ready_t > t0 + caches.wait_limit[cc]:
                                status = MODEL_NOT_READY
                                done = True
                            else:
                                deferred = True
            if caches is not None and pending is not None:
                if slot >= 0 and cc >= 0 and not deferred:  # a multi-model request that holds no slot after all
                    pending.free[pending.n_free[0]] = slot
                    pending.n_free[0] += 1
                    slot = -1
                    several = False
            seq = next_seq
            next_seq += 1
            if pending is not None:
                if several:
                    routes.inflight[i] += 1
                    pending.seq[slot] = seq
                    pending.think[slot] = think
                    pending.arrival[slot] = t0
                    pending.local[slot] = local
                    pending.instance[slot] = i
                    pending.user[slot] = user
                    pending.container[slot] = container
                    pending.source[slot] = source
                    pending.active[slot] = n
                    pending.last_hop[slot] = last_hop
                    pending.payload[slot] = payload
                    pending.overhead[slot] = overhead
                    pending.error[slot] = model_error
                    pending.drawn_total[slot] = drawn_total
                    service = pending.services[slot, hop]
                    if caches is not None:
                        pending.setup[slot] = setup
                        pending.model[slot] = mm
                        pending.cache[slot] = cache_flag
                        if deferred:  # to its container when its model is loaded
                            pending.hop[slot] = 0
                            pending.first_start[slot] = ready_t
                            _sift_up(pending.heap_t, pending.heap_key, heap_size, ready_t, (seq << 32) | slot)
                            heap_size += 1

        if not done and not deferred:
            # -- the hop: FIFO onto the earliest free worker slot of the container's station ----------
            s = routes.first_station[i] + hop
            if caches is not None:
                if mm >= 0 and caches.per_model[spec.cache[local]]:  # its model's own pool
                    s = routes.first_station[i] + mm
            while st.q_len[s] > 0 and st.q_start[s, st.q_head[s]] <= t:
                st.q_head[s] = (st.q_head[s] + 1) % cap
                st.q_len[s] -= 1
            w_best = 0
            for w in range(1, st.workers[s]):
                if st.slot_free[s, w] < st.slot_free[s, w_best]:
                    w_best = w
            free = st.slot_free[s, w_best]
            if free > t and st.q_len[s] >= st.queue_limit[s]:
                status = QUEUE_FULL
                done = True
            else:
                start = max(t, free)
                complete = start + service
                st.slot_free[s, w_best] = complete
                st.slot_accum[s, w_best] += service
                if start > t:
                    st.q_start[s, (st.q_head[s] + st.q_len[s]) % cap] = start
                    st.q_len[s] += 1
                if kind != _HOP or hop == 0:  # its first container (a multi-model request after its wait)
                    first_start = start
                if caches is not None:
                    if mm >= 0 and complete > caches.busy_until[caches.row_of[i], mm]:
                        caches.busy_until[caches.row_of[i], mm] = complete  # its model is in use until then
                if slot >= 0 and last_hop > 0:  # a hop of a serial pipeline of several containers
                    k = n_hops
                    hops.variant[k] = v
                    hops.instance[k] = i
                    hops.container[k] = hop
                    hops.arrival[k] = t
                    hops.start[k] = start
                    hops.complete[k] = complete
                    n_hops = k + 1
                if complete > t0 + spec.timeout:  # after the instant the client gets its timeout
                    status = MODEL_TIMEOUT
                    done = True
                elif hop == last_hop:
                    status = MODEL_ERROR if model_error else OK
                    done = True
                elif pending is not None:
                    # on to the next container, when this one answers
                    pending.hop[slot] = hop + 1
                    pending.first_start[slot] = first_start
                    _sift_up(pending.heap_t, pending.heap_key, heap_size, complete, (seq << 32) | slot)
                    heap_size += 1

        if done:
            # -- the answer ------------------------------------------------------------------------
            # the client's answer: when its last container answered, or at the timeout, or when it was
            # refused; the response is that instant plus the overhead, and a user thinks from there
            if status == MODEL_TIMEOUT:
                model_latency = spec.timeout
                answer = t0 + spec.timeout
            elif status == OK or status == MODEL_ERROR:
                model_latency = complete - t0
                answer = complete
            elif caches is not None and status == MODEL_NOT_READY:
                answer = t0 + caches.wait_limit[spec.cache[local]]
                model_latency = 0.0
            else:
                model_latency = t - t0
                answer = t
            if setup > 0.0:  # a cold start or a wait for a model: overhead, not the model's latency
                overhead_out = overhead + min(setup, answer - t0)
                model_latency = max(answer - (t0 + setup), 0.0)
            else:
                overhead_out = overhead
            response = answer + overhead
            row = n_out
            if not in_order:  # else these columns are the arrivals' own, row for row (the caller's)
                out.arrival[row] = t0
                out.payload[row] = payload
                out.source[row] = source
            out.container[row] = container
            out.variant[row] = v
            out.instance[row] = i
            out.status[row] = status
            out.start[row] = first_start
            out.complete[row] = complete
            out.model_latency[row] = model_latency
            out.overhead[row] = overhead_out
            out.response[row] = response
            if pools is not None:
                out.setup[row] = setup
                out.environment[row] = env_code
            if caches is not None:
                out.setup[row] = setup
                out.model[row] = mm
                out.cache[row] = cache_flag
            out.active[row] = n
            out.service[row] = drawn_total
            if pending is not None:
                if slot >= 0:
                    routes.inflight[i] -= 1
                    pending.free[pending.n_free[0]] = slot
                    pending.n_free[0] += 1
            n_out = row + 1
            if users is not None:
                if user >= 0:
                    next_send = response + think
                    users.next_send[user] = next_send
                    if kind == _USER:  # the sender, at the top, moves down to its new place
                        _sift_down(user_t, user_k, user_size, next_send, user)
                    elif users.active[user]:  # answered after hops: back into the heap
                        _sift_up(user_t, user_k, user_size, next_send, user)
                        user_size += 1
        if users is not None:
            if not done and kind == _USER:
                # its request is in flight: the user leaves the heap until it is answered
                users.next_send[user] = np.inf
                user_size -= 1
                if user_size > 0:
                    _sift_down(user_t, user_k, user_size, user_t[user_size], user_k[user_size])

    if pools is not None and reason == STOP_UNTIL:
        # every pool's environments whose idle timeout ends before `until` are reaped now, so each
        # reap is reported in the call that covers its time
        if n_env + n_pools * pools.env_free.shape[1] > env_out.time.shape[0]:
            reason = STOP_ENV_OUTPUT
        else:
            for q in range(n_pools):
                _frees(pools, q, until)
                n_env = _reaps(pools, q, until, False, env_out, n_env)
    if pools is not None:
        env_out.count[0] = n_env
    if caches is not None and reason == STOP_UNTIL:
        # disabled caches: every model unused before `until` goes now, so each release is reported
        # in the call that covers its time
        for r in range(caches.row_instance.shape[0]):
            if caches.row_instance[r] >= 0 and caches.disabled[caches.row_cache[r]]:
                if n_cache + 2 * caches.mem_state.shape[1] + 2 > cache_out.time.shape[0]:
                    reason = STOP_CACHE_OUTPUT
                    break
                n_cache = _release_unused(caches, cache_out, n_cache, caches.row_cache[r], r, until, False)
                if caches.n_doomed[r] > 0:
                    n_cache = _purge(caches, cache_out, n_cache, caches.row_cache[r], r, until, False)
    if caches is not None:
        cache_out.count[0] = n_cache
    arrivals.position[0] = a
    out.count[0] = n_out
    hops.count[0] = n_hops
    if pending is not None:
        pending.size[0] = heap_size
        pending.next_seq[0] = next_seq
    return reason


def advance(until: float, spec: EndpointSpec, routes: Routes, stations: Stations, draws: Draws, pending: Pending | None,
            arrivals: Arrivals, users: Users | None, out: Out, hops: HopOut, pools: Pools | None = None,
            env_out: EnvOut | None = None, caches: Caches | None = None, cache_out: CacheOut | None = None) -> int:
    """Take every event of one endpoint before `until`, in time order; returns the stop reason.

    Every argument but `until` is state the call updates in place (cursors, counts, positions); see
    the module docstring for the order of events and of draws, and the STOP_* codes for what the
    caller does next.
    """
    return int(_advance(float(until), spec, routes, stations, draws, pending, arrivals, users, out, hops, pools,
                        env_out, caches, cache_out))
