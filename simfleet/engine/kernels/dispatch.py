"""Dispatch kernel: route each request to an instance and queue it at a container's worker slots.

Each instance runs one container with `n_workers` slots fed by a FIFO queue of at most
`q_limit` waiting requests (the model server's job queue; a request arriving to a full queue is
answered 503). With FIFO order and known service times, request k starts at
max(arrival, earliest free slot), so the whole timeline follows at dispatch time. The queue keeps
only the start times of requests still waiting, which is what "outstanding requests" counts for
`LEAST_OUTSTANDING_REQUESTS` routing and what bounds memory.

State arrays persist between calls, so cutting a run into segments changes nothing. Ties in
time resolve as completions first: a slot that frees at t serves an arrival at t.

The loop body is written out in one function on purpose: calling a compiled helper per request
with the state arrays as arguments costs numba a reference-count update per array per call, which
measured 3 M requests/s against 22–31 M/s for this fused loop (benchmarks/README.md). Later
kernels (closed-loop users, pipelines) take the same state arrays and the same two steps:
route, then queue at the earliest free slot.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simfleet.request_records import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, PAYLOAD_TOO_LARGE, QUEUE_FULL,
                                      ROUTING_RANDOM)

__all__ = ["dispatch_batch"]


@njit(cache=True)
def _dispatch_batch(times, variants, services, payloads, us, model_errors, max_payload, timeout,
                    strategy, member_ptr, members, slot_free, slot_accum, n_workers,
                    q_start, q_head, q_len, q_limit,
                    out_instance, out_start, out_complete, out_status, out_active):
    cap = q_start.shape[1]
    for k in range(times.shape[0]):
        t = times[k]
        v = variants[k]
        u = us[k]
        lo = member_ptr[v]
        n = member_ptr[v + 1] - lo
        out_active[k] = n
        out_instance[k] = -1
        out_start[k] = t
        out_complete[k] = t
        if payloads[k] > max_payload:
            out_status[k] = PAYLOAD_TOO_LARGE
            continue
        if n == 0:
            out_status[k] = NO_CAPACITY
            continue

        # Routing: u picks among the variant's in-service instances (or among the least loaded).
        if strategy[v] == ROUTING_RANDOM:
            i = members[lo + min(int(u * n), n - 1)]
        else:
            best = 1 << 62
            ties = 0
            for j in range(lo, lo + n):
                m = members[j]
                while q_len[m] > 0 and q_start[m, q_head[m]] <= t:  # started by now: no longer queued
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
            i = -1
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

        # Queueing at the instance's container: FIFO onto the earliest free worker slot.
        while q_len[i] > 0 and q_start[i, q_head[i]] <= t:
            q_head[i] = (q_head[i] + 1) % cap
            q_len[i] -= 1
        slot = 0
        for s in range(1, n_workers[i]):
            if slot_free[i, s] < slot_free[i, slot]:
                slot = s
        free = slot_free[i, slot]
        out_instance[k] = i
        if free > t and q_len[i] >= q_limit[i]:
            out_status[k] = QUEUE_FULL
            continue
        start = max(t, free)
        complete = start + services[k]
        slot_free[i, slot] = complete
        slot_accum[i, slot] += services[k]
        if start > t:
            q_start[i, (q_head[i] + q_len[i]) % cap] = start
            q_len[i] += 1
        out_start[k] = start
        out_complete[k] = complete
        if complete - t > timeout:
            out_status[k] = MODEL_TIMEOUT
        elif model_errors[k]:
            out_status[k] = MODEL_ERROR
        else:
            out_status[k] = OK


def dispatch_batch(state, times, variants, services, payloads, us, model_errors, max_payload, timeout):
    """Dispatch a time-ordered batch against `state` (a `RequestPlane`); returns output arrays."""
    n = times.shape[0]
    if n > 1 and (times[1:] < times[:-1]).any():
        raise ValueError("arrival times must be non-decreasing")
    out_instance = np.empty(n, np.int32)
    out_start = np.empty(n, np.float64)
    out_complete = np.empty(n, np.float64)
    out_status = np.empty(n, np.int8)
    out_active = np.empty(n, np.int32)
    _dispatch_batch(
        np.ascontiguousarray(times, np.float64), np.ascontiguousarray(variants, np.int32),
        np.ascontiguousarray(services, np.float64), np.ascontiguousarray(payloads, np.float64),
        np.ascontiguousarray(us, np.float64), np.ascontiguousarray(model_errors, np.bool_),
        float(max_payload), float(timeout),
        state.strategy, state.member_ptr, state.members, state.slot_free, state.slot_accum,
        state.n_workers, state.q_start, state.q_head, state.q_len, state.q_limit,
        out_instance, out_start, out_complete, out_status, out_active)
    return out_instance, out_start, out_complete, out_status, out_active
