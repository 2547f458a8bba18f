"""Inference component copies in the request kernel, against the naive SimPy oracle, request for request.

An inference component is a variant of one container whose request-plane "instances" are its copies
(`simfleet.inference_components.runtime`). The control plane (`engine.component_copies`) adds a
copy's row when the copy is placed (`plane.add_instance(..., in_service=False)`), puts it into
routing when its model is loaded, and takes it out when the copy is removed or its instance leaves
service; the requests the copy accepted still finish. Each change at t comes after the request plane
has been advanced to t (`flow.advance(plane, arrivals before t, t)`), so it applies to the requests
sent at t and after.

Generated endpoints of 1–3 components, each with 0–4 copies placed at generated instants and serving
over 0–2 generated intervals (on a quarter-second grid, where arrivals, completions and changes tie
when the traffic is on the grid too), with both routing strategies, open-loop arrivals and targeted
closed-loop users, payloads over the limit, model errors, timeouts, full queues, and the run cut into
further segments anywhere. The kernel (`EndpointFlow` fed `GivenValues`) must give every request
(instance, status, start, completion, latencies, active copies...) and leave each user with the same
next send as `tests/oracle.py`'s `naive_flow`, whose instances carry the same serving intervals.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import NaiveStationInstance, NaiveUser, NaiveVariant, naive_flow
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import (MODEL_TIMEOUT, NO_CAPACITY, OK, QUEUE_FULL, ROUTING_LEAST_OUTSTANDING,
                                      ROUTING_RANDOM)

HORIZON = 12.0
MAX_PAYLOAD = 1.0
QUARTERS = int(HORIZON * 4)

REQUEST_COLUMNS = ("arrival", "variant", "instance", "status", "payload", "service", "start", "complete",
                   "model_latency", "overhead", "response", "active", "container")


def copy_changes(instances: list[NaiveStationInstance], placed: list[float]):
    """The control plane's actions: (time, copy) placements and (time, copy, in routing) changes."""
    changes = []
    for index, inst in enumerate(instances):
        for lo, hi in inst.serving:
            changes.append((lo, index, True))
            if hi < HORIZON:
                changes.append((hi, index, False))
    return [(t, i) for i, t in enumerate(placed)], sorted(changes)


@st.composite
def components(draw):
    grid = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def durations(size, low_quarters=1, high_quarters=6, mean=1.0):
        if grid:
            return rng.integers(low_quarters, high_quarters + 1, size) / 4.0
        return rng.lognormal(np.log(mean), 0.8, size) + 1e-3

    variants, copies = [], []
    for v in range(draw(st.integers(1, 3))):
        variants.append(NaiveVariant(draw(st.sampled_from([ROUTING_RANDOM, ROUTING_LEAST_OUTSTANDING]))))
        for _ in range(draw(st.integers(0, 4))):
            placed = draw(st.integers(0, QUARTERS - 1))
            serving, at = [], placed + draw(st.integers(0, 8))       # loaded after 0-2 s
            for _ in range(draw(st.integers(0, 2))):                 # in routing, out, maybe in again
                if at >= QUARTERS:
                    break
                until = at + draw(st.integers(1, QUARTERS))
                serving.append((at / 4.0, until / 4.0 if until < QUARTERS else np.inf))
                at = until + draw(st.integers(1, 8))
            copies.append((placed / 4.0, NaiveStationInstance(v, (draw(st.integers(1, 2)),),
                                                              (draw(st.integers(0, 3)),), tuple(serving))))
    copies.sort(key=lambda c: c[0])   # request-plane rows in the order copies are placed
    placed = [c[0] for c in copies]
    instances = [c[1] for c in copies]
    weights = rng.uniform(0.5, 2.0, len(variants))

    n_open = draw(st.integers(0, 120))
    load = draw(st.floats(0.3, 3.0))
    times = np.sort(rng.integers(0, QUARTERS, n_open) / 4.0) if grid else \
        np.cumsum(rng.exponential(1.0 / (load * 4), n_open))
    arrivals = (times, rng.integers(0, len(variants), n_open).astype(np.int64),   # each names its component
                np.where(rng.random(n_open) < 0.05, 1.5, rng.uniform(0, 0.9, n_open)),
                np.full(n_open, -1, np.int64))
    sends = n_open + 200
    users = []
    for _ in range(draw(st.integers(0, 2))):
        users.append(NaiveUser(int(rng.integers(0, len(variants))), -1,
                               float(rng.integers(0, 8) / 4.0 if grid else rng.uniform(0, 2)),
                               list(np.where(rng.random(sends) < 0.05, 1.5, rng.uniform(0, 0.9, sends))),
                               list(durations(sends, 1, 3, 0.3))))
    error_rates = [float(draw(st.sampled_from([0.0, 0.3]))) for _ in variants]
    streams = {"choice": list(rng.random(sends)), "overhead": list(durations(sends, 0, 1, 0.05))}
    for v in range(len(variants)):
        streams[("route", v)] = list(rng.random(sends))
        streams[("error", v)] = list(rng.random(sends))
        streams[("service", v, 0)] = list(durations(sends, 1, 6, 0.6))
    timeout = draw(st.sampled_from([1.25, 2.5, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, QUARTERS), max_size=4)))
    return variants, instances, placed, weights, arrivals, users, streams, error_rates, timeout, [c / 4 for c in cuts]


def kernel_flow(variants, instances, placed, weights, arrivals, users, streams, error_rates, timeout, cuts):
    """The same components through `EndpointFlow`: the run is cut at every placement, routing change
    and extra cut; at each cut the kernel is advanced to it, then the copies placed there get their
    rows (out of routing) and the routing changes there are made. Then users stop and the flow drains."""
    plane = RequestPlane([v.strategy for v in variants])
    flow_variants = [FlowVariant(index=v, route=GivenValues(streams[("route", v)]),
                                 services=(GivenValues(streams[("service", v, 0)]),), payload_time_per_kb=(0.0,),
                                 error=GivenValues(streams[("error", v)]), error_rate=error_rates[v],
                                 weight=weights[v])
                     for v in range(len(variants))]
    flow = EndpointFlow(plane, flow_variants, GivenValues(streams["choice"]), GivenValues(streams["overhead"]),
                        0.0, MAX_PAYLOAD, timeout)
    no_name = flow.hostname_codes(())[-1]
    pool = flow.user_pool()
    for user in users:
        pool.add(1, user.start, user.local, no_name, flow.draw_row(GivenValues(user.payloads)),
                 flow.draw_row(GivenValues(user.thinks)))
    flow.draws = flow.rows.buffer(64)   # narrow rows: many refills
    placements, changes = copy_changes(instances, placed)
    times, local, payload, _ = arrivals
    stops = sorted({0.0, HORIZON, *cuts, *(t for t, _ in placements), *(t for t, _, _ in changes)})
    parts, done = [], 0
    for until in [*stops, np.inf]:
        if until == np.inf:
            pool.active[:] = False
        upto = int(np.searchsorted(times, min(until, HORIZON), side="left"))
        part = Arrivals(times[done:upto], local[done:upto], payload[done:upto], np.full(upto - done, no_name),
                        np.zeros(upto - done, np.int64), np.zeros(1, np.int64))
        done = upto
        columns, _ = flow.advance_columns(plane, part, until)
        parts.append(columns)
        for t, index in placements:   # a copy placed now: its row, out of routing until loaded
            if t == until:
                inst = instances[index]
                row = plane.add_instance(inst.variant, list(inst.workers), list(inst.queue_limits), in_service=False)
                assert row == index
        for t, index, serving in changes:
            if t == until:
                plane.set_in_service(index, serving)
    assert flow.in_flight == 0 and not plane.routes().inflight.any()
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return joined, pool.next_send


def _rows(columns: dict) -> list[tuple]:
    return sorted(zip(*(np.asarray(columns[n]).tolist() for n in REQUEST_COLUMNS)))


def both(variants, instances, placed, weights, arrivals, users, streams, error_rates, timeout, cuts):
    """(the naive model's requests and users' next sends, the kernel's), each on its own copy of the streams."""
    cumulative = np.cumsum(weights) / weights.sum()
    copy = lambda: ({k: list(v) for k, v in streams.items()},  # noqa: E731
                    [NaiveUser(u.local, u.container, u.start, list(u.payloads), list(u.thinks)) for u in users])
    naive_streams, naive_users = copy()
    requests, _, next_send = naive_flow(variants, instances, cumulative, arrivals, naive_users, naive_streams,
                                        error_rates, 0.0, [[0.0]] * len(variants), MAX_PAYLOAD, timeout, HORIZON)
    for row in requests:
        row["response"] = (row["arrival"] + row["model_latency"] if row["status"] == MODEL_TIMEOUT
                           else row["complete"]) + row["overhead"]
    expected = {name: [row[name] for row in requests] for name in REQUEST_COLUMNS}
    kernel_streams, kernel_users = copy()
    got, got_next = kernel_flow(variants, instances, placed, weights, arrivals, kernel_users, kernel_streams,
                                error_rates, timeout, cuts)
    return expected, next_send, got, got_next


@settings(max_examples=200)
@given(components())
def test_the_kernel_routes_to_copies_exactly_as_the_naive_model(endpoint):
    expected, next_send, got, got_next = both(*endpoint)
    assert _rows(got) == _rows(expected)
    for number, value in next_send.items():
        assert got_next[number] == value, f"user {number}"


def test_copies_entering_and_leaving_routing_by_hand():
    """One component, RANDOM routing, two copies of one worker and no queue room: copy 0 in routing
    over [1, 3), copy 1 (placed at 2) from 2 on; services of 2 s. At 0.5 none serves: NoCapacity. At 1
    (the change at 1 applies to it): copy 0, until 3. At 2 with u = 0.9: copy 1 of the two, until 4. At
    2.5 with u = 0: copy 0, busy and full. At 3 with u = 0: copy 1, the only one left (copy 0 left at
    3, its request finishing then), busy and full."""
    variants = [NaiveVariant(ROUTING_RANDOM)]
    instances = [NaiveStationInstance(0, (1,), (0,), ((1.0, 3.0),)),
                 NaiveStationInstance(0, (1,), (0,), ((2.0, np.inf),))]
    placed = [0.0, 2.0]
    times = np.array([0.5, 1.0, 2.0, 2.5, 3.0])
    arrivals = (times, np.zeros(5, np.int64), np.zeros(5), np.full(5, -1, np.int64))
    streams = {"choice": [0.0] * 5, "overhead": [0.0] * 5, ("route", 0): [0.0, 0.0, 0.9, 0.0, 0.0],
               ("error", 0): [1.0] * 5, ("service", 0, 0): [2.0, 2.0, 2.0, 2.0, 2.0]}
    expected, _, got, _ = both(variants, instances, placed, np.array([1.0]), arrivals, [], streams, [0.0], 60.0, [])
    order = np.argsort(got["arrival"], kind="stable")
    assert got["status"][order].tolist() == [NO_CAPACITY, OK, OK, QUEUE_FULL, QUEUE_FULL]
    assert got["instance"][order].tolist() == [-1, 0, 1, 0, 1]
    assert got["active"][order].tolist() == [0, 1, 2, 2, 1]
    assert got["complete"][order].tolist() == [0.5, 3.0, 4.0, 2.5, 3.0]
    assert _rows(got) == _rows(expected)


def test_a_copy_out_of_routing_finishes_what_it_accepted():
    """Copy 0 (1 worker, queue of 3) takes three requests at 0, 0.1, 0.2 and leaves routing at 0.5: they
    complete at 1, 2, 3 there; the request at 0.5 goes to copy 1 (in routing from 0.5)."""
    variants = [NaiveVariant(ROUTING_LEAST_OUTSTANDING)]
    instances = [NaiveStationInstance(0, (1,), (3,), ((0.0, 0.5),)),
                 NaiveStationInstance(0, (1,), (3,), ((0.5, np.inf),))]
    times = np.array([0.0, 0.1, 0.2, 0.5])
    arrivals = (times, np.zeros(4, np.int64), np.zeros(4), np.full(4, -1, np.int64))
    streams = {"choice": [0.0] * 4, "overhead": [0.0] * 4, ("route", 0): [0.0] * 4, ("error", 0): [1.0] * 4,
               ("service", 0, 0): [1.0] * 4}
    expected, _, got, _ = both(variants, instances, [0.0, 0.0], np.array([1.0]), arrivals, [], streams, [0.0],
                               60.0, [])
    order = np.argsort(got["arrival"], kind="stable")
    assert got["instance"][order].tolist() == [0, 0, 0, 1]
    assert got["complete"][order].tolist() == [1.0, 2.0, 3.0, 1.5]
    assert got["status"][order].tolist() == [OK] * 4
    assert _rows(got) == _rows(expected)
