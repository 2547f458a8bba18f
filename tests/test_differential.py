"""The compiled request plane against the naive one-process-per-request SimPy oracle.

Same draws in, the same per-request results out (instance, start, completion, outcome, active
instances), on hypothesis-generated fleets, routing strategies, queue limits and traffic, with
the arrivals cut into arbitrary segments: the kernel's persistent state must make the cuts
invisible.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import NaiveInstance, naive_dispatch
from simfleet.request_records import ROUTING_LEAST_OUTSTANDING, ROUTING_RANDOM
from simfleet.engine.endpoint_flow import dispatch_given
from simfleet.engine.request_plane import RequestPlane

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)


@st.composite
def workloads(draw):
    n_variants = draw(st.integers(1, 3))
    strategies = [draw(st.sampled_from([ROUTING_RANDOM, ROUTING_LEAST_OUTSTANDING])) for _ in range(n_variants)]
    instances = []
    for v in range(n_variants):
        for _ in range(draw(st.integers(1, 4))):
            instances.append(NaiveInstance(v, draw(st.integers(1, 3)), draw(st.integers(1, 6))))
    n = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    load = draw(st.floats(0.2, 3.0))  # offered load per worker: up to heavy overload
    rng = np.random.default_rng(seed)
    workers = sum(i.workers for i in instances)
    mean_service = 1.0
    times = np.cumsum(rng.exponential(mean_service / (load * workers), n))
    variants = rng.integers(0, n_variants, n).astype(np.int32)
    services = rng.lognormal(np.log(mean_service), draw(st.floats(0.1, 1.5)), n)
    payloads = rng.uniform(0, 2.0, n)  # max_payload below is 1.0: about half are rejected... sometimes
    payloads = np.where(rng.random(n) < draw(st.floats(0, 0.3)), payloads + 1.0, payloads * 0.5)
    us = rng.random(n)
    errors = rng.random(n) < draw(st.floats(0, 0.5))
    timeout = draw(st.sampled_from([0.5, 2.0, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    return strategies, instances, (times, variants, services, payloads, us, errors), timeout, cuts


@settings(max_examples=150)
@given(workloads())
def test_kernel_matches_naive_simpy(workload):
    strategies, instances, arrays, timeout, cuts = workload
    expected = naive_dispatch(instances, strategies, *arrays, 1.0, timeout)

    plane = RequestPlane(strategies)
    for inst in instances:
        plane.add_instance(inst.variant, inst.workers, inst.queue_limit)
    pieces = []
    bounds = [0, *cuts, len(arrays[0])]
    for lo, hi in zip(bounds, bounds[1:]):
        pieces.append(dispatch_given(plane, *(a[lo:hi] for a in arrays), 1.0, timeout))
    got = [np.concatenate([p[i] for p in pieces]) for i in range(5)]

    names = ["instance", "start", "complete", "status", "active"]
    for name, g, e in zip(names, got, expected):
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-9, err_msg=name)


def test_queue_full_and_no_wait_when_a_slot_is_free():
    """Hand-checked case: one instance, one worker, queue of one."""
    plane = RequestPlane([ROUTING_RANDOM])
    plane.add_instance(0, 1, 1)
    times = np.array([0.0, 0.1, 0.2, 5.0])
    out = dispatch_given(plane, times, np.zeros(4, np.int32), np.array([1.0, 1.0, 1.0, 1.0]), np.zeros(4),
                         np.zeros(4), np.zeros(4, bool), 10.0, 60.0)
    instance, start, complete, status, active = out
    # 1st served at once, 2nd queued until 1.0, 3rd finds the queue full, 4th arrives to an idle worker.
    np.testing.assert_array_equal(start, [0.0, 1.0, 0.2, 5.0])
    np.testing.assert_array_equal(complete, [1.0, 2.0, 0.2, 6.0])
    np.testing.assert_array_equal(status, [0, 0, 4, 0])


def test_least_outstanding_prefers_the_idle_instance():
    plane = RequestPlane([ROUTING_LEAST_OUTSTANDING])
    for _ in range(3):
        plane.add_instance(0, 1, 10)
    n = 3
    out = dispatch_given(plane, np.array([0.0, 0.1, 0.2]), np.zeros(n, np.int32), np.full(n, 10.0), np.zeros(n),
                         np.array([0.0, 0.0, 0.0]), np.zeros(n, bool), 10.0, 60.0)
    # With u = 0 ties go to the lowest index; each busy instance drops out of the tie.
    np.testing.assert_array_equal(out[0], [0, 1, 2])


def test_busy_integral_equals_the_served_intervals():
    """Worker-seconds in [0, t) from the slot state equal the overlap of every request with [0, t)."""
    rng = np.random.default_rng(7)
    plane = RequestPlane([ROUTING_LEAST_OUTSTANDING])
    for workers in (1, 2, 3):
        plane.add_instance(0, workers, 50)
    times = np.cumsum(rng.exponential(0.2, 3000))
    services = rng.exponential(1.0, 3000)
    split = 1700
    args = (np.zeros(3000, np.int32), services, np.zeros(3000), rng.random(3000), np.zeros(3000, bool))
    out1 = dispatch_given(plane, times[:split], *(a[:split] for a in args), 10.0, 1e9)
    t = times[split]  # every arrival before t dispatched, none after
    busy = plane.busy_integral(t)
    instance, start, complete = out1[0], out1[1], out1[2]
    served = out1[3] == 0
    overlap = np.clip(np.minimum(complete, t) - start, 0, None)
    for i in range(3):
        expected = overlap[served & (instance == i)].sum()
        assert abs(busy[i] - expected) < 1e-6
