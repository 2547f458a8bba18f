"""Stations and routes: the request kernel against the naive SimPy oracle, hop for hop.

Generated endpoints of 1–3 variants, each a serial pipeline or a direct-invocation endpoint of 1–3
containers on 0–3 instances (per-container workers and queue limits), with open-loop arrivals and
closed-loop users together, targeted and weighted requests, named containers (valid, missing,
unknown, unneeded), payloads over the limit, model errors, timeouts, full queues, times on a coarse
grid (where ties are frequent) or continuous, and the run cut into segments anywhere. The kernel
(`EndpointFlow`, fed the same values through `GivenValues` rows) must give every request (arrival,
variant, instance, outcome, first start, completion, latencies, response) and every hop (container,
arrival, start, completion) exactly as `tests/oracle.py`'s `naive_flow` does, and leave each user
with the same next send.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import NaiveStationInstance, NaiveUser, NaiveVariant, naive_flow
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import (INVALID_TARGET, MODEL_TIMEOUT, QUEUE_FULL, ROUTING_LEAST_OUTSTANDING,
                                      ROUTING_RANDOM)

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

HORIZON = 12.0
MAX_PAYLOAD = 1.0
NAMED = 6  # requests name containers 0-5 (variants have 1-3)


@st.composite
def endpoints(draw):
    grid = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def durations(size, low_quarters=1, high_quarters=6, mean=1.0):
        if grid:
            return rng.integers(low_quarters, high_quarters + 1, size) / 4.0
        return rng.lognormal(np.log(mean), 0.8, size) + 1e-3

    variants, instances = [], []
    for v in range(draw(st.integers(1, 3))):
        containers = draw(st.integers(1, 3))
        variants.append(NaiveVariant(draw(st.sampled_from([ROUTING_RANDOM, ROUTING_LEAST_OUTSTANDING])), containers,
                                     draw(st.booleans())))
        for _ in range(draw(st.integers(0, 3))):
            instances.append(NaiveStationInstance(
                v, tuple(draw(st.integers(1, 2)) for _ in range(containers)),
                tuple(draw(st.integers(0, 3)) for _ in range(containers))))
    weights = rng.uniform(0.5, 2.0, len(variants))

    def target_container():
        return int(rng.choice([-1, -1, 0, 1, 2, 5]))

    n_open = draw(st.integers(0, 120))
    load = draw(st.floats(0.3, 3.0))
    times = np.sort(rng.integers(0, int(HORIZON * 4), n_open) / 4.0) if grid else \
        np.cumsum(rng.exponential(1.0 / (load * 4), n_open))
    arrivals = (times, rng.choice([-1, *range(len(variants))], n_open).astype(np.int64),
                np.where(rng.random(n_open) < 0.1, 1.5, rng.uniform(0, 0.9, n_open)),
                np.array([target_container() for _ in range(n_open)], np.int64))
    sends = n_open + 200
    users = []
    for _ in range(draw(st.integers(0, 4))):
        users.append(NaiveUser(int(rng.choice([-1, *range(len(variants))])), target_container(),
                               float(rng.integers(0, 8) / 4.0 if grid else rng.uniform(0, 2)),
                               list(np.where(rng.random(sends) < 0.05, 1.5, rng.uniform(0, 0.9, sends))),
                               list(durations(sends, 1, 3, 0.3))))
    error_rates = [float(draw(st.sampled_from([0.0, 0.3]))) for _ in variants]
    streams = {"choice": list(rng.random(sends)), "overhead": list(durations(sends, 0, 1, 0.05))}
    for v, variant in enumerate(variants):
        streams[("route", v)] = list(rng.random(sends))
        streams[("error", v)] = list(rng.random(sends))
        for c in range(variant.containers):
            streams[("service", v, c)] = list(durations(sends, 1, 6, 0.6))
    payload_time_per_kb = [[float(draw(st.sampled_from([0.0, 0.25]))) for _ in range(v.containers)] for v in variants]
    overhead_per_kb = float(draw(st.sampled_from([0.0, 0.125])))
    timeout = draw(st.sampled_from([1.25, 2.5, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, int(HORIZON * 4)), max_size=5)))
    return (variants, instances, weights, arrivals, users, streams, error_rates, overhead_per_kb,
            payload_time_per_kb, timeout, [c / 4.0 for c in cuts])


def kernel_flow(variants, instances, weights, arrivals, users, streams, error_rates, overhead_per_kb,
                payload_time_per_kb, timeout, cuts):
    """The same endpoint through `EndpointFlow`, cut at `cuts`; then users stop and the flow drains."""
    plane = RequestPlane([v.strategy for v in variants], [v.containers for v in variants],
                         [v.direct for v in variants])
    for inst in instances:
        plane.add_instance(inst.variant, list(inst.workers), list(inst.queue_limits))
    flow_variants = [FlowVariant(
        index=v, route=GivenValues(streams[("route", v)]),
        services=tuple(GivenValues(streams[("service", v, c)]) for c in range(variant.containers)),
        payload_time_per_kb=tuple(payload_time_per_kb[v]), error=GivenValues(streams[("error", v)]),
        error_rate=error_rates[v], hostnames=tuple(f"c{c}" for c in range(variant.containers)), weight=weights[v])
        for v, variant in enumerate(variants)]
    flow = EndpointFlow(plane, flow_variants, GivenValues(streams.get("choice", [])),
                        GivenValues(streams["overhead"]), overhead_per_kb, MAX_PAYLOAD, timeout)
    # container k is named "ck"; a request naming container k names "ck" (-1: none)
    names = tuple(f"c{k}" for k in range(NAMED))
    codes = flow.hostname_codes(names)

    def hostname(container):
        return codes[container]   # -1 -> the last code: no hostname

    pool = flow.user_pool()
    for user in users:
        pool.add(1, user.start, user.local, hostname(user.container), flow.draw_row(GivenValues(user.payloads)),
                 flow.draw_row(GivenValues(user.thinks)))
    flow.draws = flow.rows.buffer(64)   # narrow rows: many refills
    times, local, payload, container = arrivals
    parts, hop_parts, done = [], [], 0
    for until in [*cuts, HORIZON, np.inf]:
        if until == np.inf:
            pool.active[:] = False
        upto = int(np.searchsorted(times, min(until, HORIZON), side="left"))
        part = Arrivals(times[done:upto], local[done:upto], payload[done:upto], hostname(container[done:upto]),
                        np.zeros(upto - done, np.int64), np.zeros(1, np.int64))
        done = upto
        columns, hops = flow.advance_columns(plane, part, until)
        parts.append(columns)
        hop_parts.append(hops)
    assert flow.in_flight == 0 and not plane.routes().inflight.any()
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    hops = {k: np.concatenate([p[k] for p in hop_parts]) for k in hop_parts[0]}
    return joined, hops, pool.next_send


def _rows(columns: dict, names) -> list[tuple]:
    return sorted(zip(*(np.asarray(columns[n]).tolist() for n in names)))


REQUEST_COLUMNS = ("arrival", "variant", "instance", "status", "payload", "service", "start", "complete",
                   "model_latency", "overhead", "response", "active", "container")
HOP_COLUMNS = ("variant", "instance", "container", "arrival", "start", "complete")


@settings(max_examples=200)
@given(endpoints())
def test_the_kernel_gives_every_request_and_hop_of_the_naive_model(endpoint):
    *setup, timeout, cuts = endpoint
    variants, instances, weights, arrivals, users, streams, error_rates, overhead_per_kb, per_kb = setup
    cumulative = np.cumsum(weights) / weights.sum()  # as the flow normalises its variants' weights
    # each engine consumes its own copies of the streams
    copy = lambda: ({k: list(v) for k, v in streams.items()},  # noqa: E731
                    [NaiveUser(u.local, u.container, u.start, list(u.payloads), list(u.thinks)) for u in users])
    naive_streams, naive_users = copy()
    requests, hops, next_send = naive_flow(variants, instances, cumulative, arrivals, naive_users, naive_streams,
                                           error_rates, overhead_per_kb, per_kb, MAX_PAYLOAD, timeout, HORIZON)
    kernel_streams, kernel_users = copy()
    got, got_hops, got_next = kernel_flow(variants, instances, weights, arrivals, kernel_users, kernel_streams,
                                          error_rates, overhead_per_kb, per_kb, timeout, cuts)
    for row in requests:
        row["response"] = (row["arrival"] + row["model_latency"] if row["status"] == MODEL_TIMEOUT
                           else row["complete"]) + row["overhead"]
    expected = {name: [row[name] for row in requests] for name in REQUEST_COLUMNS}
    assert _rows(got, REQUEST_COLUMNS) == _rows(expected, REQUEST_COLUMNS)
    assert _rows(got_hops, HOP_COLUMNS) == sorted(tuple(h) for h in hops)
    for number, value in next_send.items():
        assert got_next[number] == value, f"user {number}"


def test_a_pipeline_by_hand():
    """Two containers, one worker each, no queue room in the second: the second request waits at the
    first container, then finds the second one busy and full; the third times out in the second."""
    variants = [NaiveVariant(ROUTING_RANDOM, 2, False)]
    instances = [NaiveStationInstance(0, (1, 1), (5, 0))]
    services = {("service", 0, 0): [1.0, 1.0, 1.0], ("service", 0, 1): [2.0, 2.0, 5.0]}
    streams = {"overhead": [0.0] * 3, ("route", 0): [0.0] * 3, ("error", 0): [1.0] * 3, **services}
    arrivals = (np.array([0.0, 0.5, 3.0]), np.zeros(3, np.int64), np.zeros(3), np.full(3, -1, np.int64))
    got, hops, _ = kernel_flow(variants, instances, [1.0], arrivals, [], streams, [0.0], 0.0, [[0.0, 0.0]], 4.0, [])
    order = np.argsort(got["arrival"])
    # 1st: container 0 [0, 1], container 1 [1, 3]. 2nd: container 0 [1, 2], container 1 busy until 3,
    # no queue room: 503 at 2. 3rd: container 0 [3, 4], container 1 [4, 9]: 9 - 3 > 4, a timeout.
    assert got["status"][order].tolist() == [0, QUEUE_FULL, MODEL_TIMEOUT]
    assert got["complete"][order].tolist() == [3.0, 2.0, 9.0]
    assert got["model_latency"][order].tolist() == [3.0, 1.5, 4.0]
    assert got["response"][order].tolist() == [3.0, 2.0, 7.0]
    assert sorted(zip(hops["container"].tolist(), hops["start"].tolist())) == [(0, 0.0), (0, 1.0), (0, 3.0),
                                                                               (1, 1.0), (1, 4.0)]


def test_direct_invocation_refuses_a_missing_or_unknown_container():
    variants = [NaiveVariant(ROUTING_RANDOM, 2, True)]
    instances = [NaiveStationInstance(0, (1, 1), (5, 5))]
    streams = {"overhead": [0.0] * 4, ("route", 0): [0.0] * 4, ("error", 0): [1.0] * 4,
               ("service", 0, 0): [1.0] * 4, ("service", 0, 1): [2.0] * 4}
    arrivals = (np.arange(4.0), np.zeros(4, np.int64), np.zeros(4), np.array([0, 1, -1, 2], np.int64))
    got, hops, _ = kernel_flow(variants, instances, [1.0], arrivals, [], streams, [0.0], 0.0, [[0.0, 0.0]], 60.0, [])
    assert got["status"].tolist() == [0, 0, INVALID_TARGET, INVALID_TARGET]
    assert got["model_latency"].tolist() == [1.0, 2.0, 0.0, 0.0]
    assert len(hops["arrival"]) == 0, "one container per request: no hop rows"
