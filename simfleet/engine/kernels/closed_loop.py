"""Closed-loop kernel: users who send a request, wait for its response, think, and send the next.

The arrivals of closed-loop traffic depend on the responses, so they cannot be drawn ahead like
open-loop arrivals. The kernel keeps each user's next send time (in a heap, so a request costs
O(log users), not a scan of every user) and repeatedly takes the earliest:
it routes and queues that request exactly as the open-loop kernel does (`kernels.dispatch`),
which gives its completion at once (FIFO with known service times), so the user's next send is
known too: response = arrival + model latency + overhead, next send = response + think time.

The route-then-queue body is written out here a second time on purpose. Sharing it through
compiled helpers, even with numba's `inline="always"`, made the open-loop kernel 3–4× slower
(measured: 19.7 M → 4.7 M requests/s on M/M/4 with least-outstanding routing), and speed is what
this code is for. `tests/test_closed_loop.py` replays every closed-loop request through the
open-loop kernel and requires identical instances, starts and outcomes, so the two copies cannot
drift apart unnoticed.

Per-request random values come from buffers filled by named streams (`traffic.users`): an
endpoint-level buffer (variant choice, overhead, payload, think time) and per-variant buffers
(service, routing, model error), each with a cursor. The kernel stops before a request whose
values are not all available, and the caller refills and calls again, so the sequence of values
a request gets does not depend on how the run is cut.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simfleet.request_records import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, PAYLOAD_TOO_LARGE,
                                              QUEUE_FULL, ROUTING_RANDOM)

__all__ = ["closed_loop_batch", "STOP_UNTIL", "STOP_BUFFER", "STOP_OUTPUT"]

STOP_UNTIL = 0    # every send before `until` is dispatched
STOP_BUFFER = 1   # a draw buffer ran out: refill it and call again
STOP_OUTPUT = 2   # the output arrays are full: collect them and call again


@njit(cache=True, inline="always")
def _sends_first(t_a, user_a, t_b, user_b):
    """The heap's order: the earlier send first, ties to the lower user number (scalars only, so
    the call inlines without the per-array reference counting that made shared bodies slow)."""
    return t_a < t_b or (t_a == t_b and user_a < user_b)


@njit(cache=True)
def _closed_loop_batch(until, user_next, user_active, user_variant,
                       cumulative, variant_ids, endpoint_draws, cursor_endpoint, variant_draws, cursor_variant,
                       error_rate, payload_time_per_kb, overhead_per_kb, max_payload, timeout,
                       strategy, member_ptr, members, slot_free, slot_accum, n_workers,
                       q_start, q_head, q_len, q_limit,
                       out_arrival, out_variant, out_instance, out_status, out_payload, out_service, out_start,
                       out_model_latency, out_overhead, out_active):
    cap = q_start.shape[1]
    block = endpoint_draws.shape[1]
    n_local = cumulative.shape[0]
    # The active users' next sends as a binary min-heap keyed on (send time, user number): its top
    # is the earliest send, ties going to the lowest user number. Rebuilt at each call from
    # `user_next` (the state that persists), so that users joining or leaving between calls need
    # no bookkeeping here.
    heap_t = np.empty(user_next.shape[0])
    heap_u = np.empty(user_next.shape[0], np.int64)
    size = 0
    for j in range(user_next.shape[0]):
        if not user_active[j]:
            continue
        c = size
        size += 1
        while c > 0:  # sift up
            parent = (c - 1) >> 1
            if _sends_first(heap_t[parent], heap_u[parent], user_next[j], j):
                break
            heap_t[c] = heap_t[parent]
            heap_u[c] = heap_u[parent]
            c = parent
        heap_t[c] = user_next[j]
        heap_u[c] = j
    count = 0
    while True:
        if count >= out_arrival.shape[0]:
            return count, STOP_OUTPUT
        if size == 0 or not heap_t[0] < until:
            return count, STOP_UNTIL
        t = heap_t[0]
        user = heap_u[0]
        ce = cursor_endpoint[0]
        if ce >= block:
            return count, STOP_BUFFER
        local = user_variant[user]
        if local < 0:  # no TargetVariant: the variant weights decide
            local = 0
            while local < n_local - 1 and endpoint_draws[0, ce] >= cumulative[local]:
                local += 1
        cv = cursor_variant[local]
        if cv >= block:
            return count, STOP_BUFFER
        cursor_endpoint[0] = ce + 1
        cursor_variant[local] = cv + 1
        payload = endpoint_draws[2, ce]
        service = variant_draws[local, 0, cv] + payload / 1000.0 * payload_time_per_kb[local]
        u = variant_draws[local, 1, cv]
        model_error = variant_draws[local, 2, cv] < error_rate[local]
        overhead = endpoint_draws[1, ce] + payload / 1000.0 * overhead_per_kb
        v = variant_ids[local]

        lo = member_ptr[v]
        n = member_ptr[v + 1] - lo
        i = -1
        start = t
        complete = t
        if payload > max_payload:
            status = PAYLOAD_TOO_LARGE
        elif n == 0:
            status = NO_CAPACITY
        else:
            # Routing (as kernels.dispatch): u picks among the in-service instances, or the least loaded.
            if strategy[v] == ROUTING_RANDOM:
                i = members[lo + min(int(u * n), n - 1)]
            else:
                best = 1 << 62
                ties = 0
                for j in range(lo, lo + n):
                    m = members[j]
                    while q_len[m] > 0 and q_start[m, q_head[m]] <= t:
                        q_head[m] = (q_head[m] + 1) % cap
                        q_len[m] -= 1
                    outstanding = q_len[m]
                    for s in range(n_workers[m]):
                        if slot_free[m, s] > t:
                            outstanding += 1
                    if outstanding < best:
                        best = outstanding
                        ties = 1
                    elif outstanding == best:
                        ties += 1
                pick = min(int(u * ties), ties - 1)
                for j in range(lo, lo + n):
                    m = members[j]
                    outstanding = q_len[m]
                    for s in range(n_workers[m]):
                        if slot_free[m, s] > t:
                            outstanding += 1
                    if outstanding == best:
                        if pick == 0:
                            i = m
                            break
                        pick -= 1
            # Queueing (as kernels.dispatch): FIFO onto the earliest free worker slot.
            while q_len[i] > 0 and q_start[i, q_head[i]] <= t:
                q_head[i] = (q_head[i] + 1) % cap
                q_len[i] -= 1
            slot = 0
            for s in range(1, n_workers[i]):
                if slot_free[i, s] < slot_free[i, slot]:
                    slot = s
            free = slot_free[i, slot]
            if free > t and q_len[i] >= q_limit[i]:
                status = QUEUE_FULL
            else:
                start = max(t, free)
                complete = start + service
                slot_free[i, slot] = complete
                slot_accum[i, slot] += service
                if start > t:
                    q_start[i, (q_head[i] + q_len[i]) % cap] = start
                    q_len[i] += 1
                if complete - t > timeout:
                    status = MODEL_TIMEOUT
                elif model_error:
                    status = MODEL_ERROR
                else:
                    status = OK

        if status == MODEL_TIMEOUT:
            model_latency = timeout
        elif status == OK or status == MODEL_ERROR:
            model_latency = complete - t
        else:
            model_latency = 0.0
        next_send = t + model_latency + overhead + endpoint_draws[3, ce]
        user_next[user] = next_send
        # the user's entry, at the top, moves down to its new place (sift down)
        c = 0
        while True:
            child = 2 * c + 1
            if child >= size:
                break
            right = child + 1
            if right < size and _sends_first(heap_t[right], heap_u[right], heap_t[child], heap_u[child]):
                child = right
            if _sends_first(next_send, user, heap_t[child], heap_u[child]):
                break
            heap_t[c] = heap_t[child]
            heap_u[c] = heap_u[child]
            c = child
        heap_t[c] = next_send
        heap_u[c] = user

        out_arrival[count] = t
        out_variant[count] = v
        out_instance[count] = i
        out_status[count] = status
        out_payload[count] = payload
        out_service[count] = service
        out_start[count] = start
        out_model_latency[count] = model_latency
        out_overhead[count] = overhead
        out_active[count] = n
        count += 1


def closed_loop_batch(state, until, population, capacity: int):
    """Dispatch `population`'s sends before `until` against `state` (a `RequestPlane`).

    Returns (output columns, number of requests, stop reason); see `traffic.users.UserPopulation`.
    """
    out = {
        "arrival_s": np.empty(capacity), "variant": np.empty(capacity, np.int32),
        "instance": np.empty(capacity, np.int32), "status": np.empty(capacity, np.int8),
        "payload_bytes": np.empty(capacity), "service_s": np.empty(capacity), "start_s": np.empty(capacity),
        "model_latency_s": np.empty(capacity), "overhead_s": np.empty(capacity),
        "active_instances": np.empty(capacity, np.int32),
    }
    p = population
    count, reason = _closed_loop_batch(
        float(until), p.user_next, p.user_active, p.user_variant, p.cumulative, p.variant_ids,
        p.endpoint_draws, p.cursor_endpoint, p.variant_draws, p.cursor_variant,
        p.error_rate, p.payload_time_per_kb, float(p.overhead_per_kb), float(p.max_payload), float(p.timeout),
        state.strategy, state.member_ptr, state.members, state.slot_free, state.slot_accum, state.n_workers,
        state.q_start, state.q_head, state.q_len, state.q_limit,
        out["arrival_s"], out["variant"], out["instance"], out["status"], out["payload_bytes"], out["service_s"],
        out["start_s"], out["model_latency_s"], out["overhead_s"], out["active_instances"])
    return {name: column[:count] for name, column in out.items()}, int(count), int(reason)
