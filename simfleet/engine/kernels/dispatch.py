"""Dispatch kernel: route each request to an instance and queue it at a container's worker slots.

Each instance runs one container with `n_workers` slots fed by a FIFO queue of at most
`q_limit` waiting requests (the model server's job queue; a request arriving to a full queue is
answered 503). With FIFO order and known service times, request k starts at
max(arrival, earliest free slot), so the whole timeline follows at dispatch time. The queue keeps
only the start times of requests still waiting, which is what "outstanding requests" counts for
`LEAST_OUTSTANDING_REQUESTS` routing and what bounds memory.

State arrays persist between calls, so cutting a run into segments changes nothing. Ties in
time resolve as completions first: a slot that frees at t serves an arrival at t.
`_dispatch_one` is the unit later kernels (closed-loop users, pipelines) reuse.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "OK", "MODEL_ERROR", "MODEL_TIMEOUT", "PAYLOAD_TOO_LARGE", "QUEUE_FULL", "NO_CAPACITY",
    "ROUTING_RANDOM", "ROUTING_LEAST_OUTSTANDING", "dispatch_batch",
]

# Request outcomes.
OK = 0
MODEL_ERROR = 1        # the container answered with the model's error status
MODEL_TIMEOUT = 2      # no answer within the invocation timeout
PAYLOAD_TOO_LARGE = 3  # rejected by SageMaker before any instance (ValidationError, 400)
QUEUE_FULL = 4         # the container's job queue was full (503)
NO_CAPACITY = 5        # the variant had no in-service instance

ROUTING_RANDOM = 0
ROUTING_LEAST_OUTSTANDING = 1


@njit(cache=True)
def _pop_started(i, t, q_start, q_head, q_len):
    """Drop queued entries of instance i that have started by time t."""
    cap = q_start.shape[1]
    while q_len[i] > 0 and q_start[i, q_head[i]] <= t:
        q_head[i] = (q_head[i] + 1) % cap
        q_len[i] -= 1


@njit(cache=True)
def _outstanding(i, t, slot_free, n_workers, q_len):
    busy = 0
    for s in range(n_workers[i]):
        if slot_free[i, s] > t:
            busy += 1
    return busy + q_len[i]


@njit(cache=True)
def _choose_instance(v, t, u, strategy, member_ptr, members, slot_free, n_workers, q_start, q_head, q_len):
    lo = member_ptr[v]
    n = member_ptr[v + 1] - lo
    if n == 0:
        return -1
    if strategy[v] == ROUTING_RANDOM:
        k = min(int(u * n), n - 1)
        return members[lo + k]
    best = 1 << 62
    ties = 0
    for j in range(lo, lo + n):
        i = members[j]
        _pop_started(i, t, q_start, q_head, q_len)
        count = _outstanding(i, t, slot_free, n_workers, q_len)
        if count < best:
            best = count
            ties = 1
        elif count == best:
            ties += 1
    pick = min(int(u * ties), ties - 1)
    for j in range(lo, lo + n):
        i = members[j]
        if _outstanding(i, t, slot_free, n_workers, q_len) == best:
            if pick == 0:
                return i
            pick -= 1
    return -1  # unreachable


@njit(cache=True)
def _dispatch_one(t, v, service, payload, u, model_error, max_payload, timeout,
                  strategy, member_ptr, members, slot_free, slot_accum, n_workers,
                  q_start, q_head, q_len, q_limit):
    """Returns (instance, start, complete, status, active instances of the variant)."""
    active = member_ptr[v + 1] - member_ptr[v]
    if payload > max_payload:
        return -1, t, t, PAYLOAD_TOO_LARGE, active
    i = _choose_instance(v, t, u, strategy, member_ptr, members, slot_free, n_workers, q_start, q_head, q_len)
    if i < 0:
        return -1, t, t, NO_CAPACITY, active
    _pop_started(i, t, q_start, q_head, q_len)
    slot = 0
    for s in range(1, n_workers[i]):
        if slot_free[i, s] < slot_free[i, slot]:
            slot = s
    free = slot_free[i, slot]
    if free > t and q_len[i] >= q_limit[i]:
        return i, t, t, QUEUE_FULL, active
    start = max(t, free)
    complete = start + service
    slot_free[i, slot] = complete
    slot_accum[i, slot] += service
    if start > t:
        cap = q_start.shape[1]
        q_start[i, (q_head[i] + q_len[i]) % cap] = start
        q_len[i] += 1
    if complete - t > timeout:
        status = MODEL_TIMEOUT
    elif model_error:
        status = MODEL_ERROR
    else:
        status = OK
    return i, start, complete, status, active


@njit(cache=True)
def _dispatch_batch(times, variants, services, payloads, us, model_errors, max_payload, timeout,
                    strategy, member_ptr, members, slot_free, slot_accum, n_workers,
                    q_start, q_head, q_len, q_limit,
                    out_instance, out_start, out_complete, out_status, out_active):
    for k in range(times.shape[0]):
        i, start, complete, status, active = _dispatch_one(
            times[k], variants[k], services[k], payloads[k], us[k], model_errors[k], max_payload, timeout,
            strategy, member_ptr, members, slot_free, slot_accum, n_workers, q_start, q_head, q_len, q_limit)
        out_instance[k] = i
        out_start[k] = start
        out_complete[k] = complete
        out_status[k] = status
        out_active[k] = active


def dispatch_batch(state, times, variants, services, payloads, us, model_errors, max_payload, timeout):
    """Dispatch a time-ordered batch against `state` (a `RequestPlane`); returns output arrays."""
    n = times.shape[0]
    if n and np.any(np.diff(times) < 0):
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
