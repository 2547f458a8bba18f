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

End to end: whole runs through `simulate` (copies pending, launched, loading, displaced by failures,
moved by consolidation; a component without a copy), their copies' rows and serving intervals rebuilt
from the event log, their requests fed with the components' own draws (re-drawn from the named
streams) to `naive_flow`: every request the same.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from small_experiments import scenario
from oracle import NaiveStationInstance, NaiveUser, NaiveVariant, naive_flow
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.simulation import simulate
from simfleet.request_records import (MODEL_TIMEOUT, NO_CAPACITY, OK, QUEUE_FULL, ROUTING_LEAST_OUTSTANDING,
                                      ROUTING_RANDOM, RequestRecords)
from simfleet.rng import RandomStreams
from ic_experiments import ic_experiment

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

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
            placed = draw(st.integers(0, QUARTERS // 2))           # most copies serve most of the run
            serving, at = [], placed + draw(st.integers(0, 8))       # loaded after 0-2 s
            for _ in range(draw(st.sampled_from([0, 1, 1, 2]))):    # never loaded; in routing, out, maybe in again
                if at >= QUARTERS:
                    break
                until = at + draw(st.integers(1, QUARTERS))          # beyond the horizon: to the end
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


# -- end to end: a run's copies, as its event log tells them, through the naive model ---------------------

def run_copies(events, fleet) -> list[NaiveStationInstance]:
    """Every request-plane row of an inference component run as a naive instance, rebuilt from the event
    log: a hosting instance's row (never routed to) when it is launched (or, initial, enters service), a
    copy's when it is placed, in routing from its CopyInService until it is removed or displaced."""
    by_name = {v.component.name: v for v in fleet.variants if v.component is not None}
    host = next(v for v in fleet.variants if v.hosting is not None)
    rows, serving, row_of = [], {}, {}
    for event in events.to_dict("records"):
        kind, t, detail = event["event"], event["time_s"], json.loads(event["detail"])
        if kind == "InstanceLaunched" or (kind == "InstanceInService" and "reason" in detail):
            rows.append(NaiveStationInstance(host.index, (1,), (0,), ()))
        elif kind == "CopyPlaced":
            variant = by_name[detail["inference_component"]]
            row_of[detail["copy"]] = len(rows)
            rows.append(NaiveStationInstance(variant.index, (variant.entry.workers,), (variant.entry.max_queue_size,)))
        elif kind == "CopyInService":
            serving[row_of[detail["copy"]]] = [t, np.inf]
        elif kind in ("CopyRemoved", "CopyDisplaced") and detail["was"] == "InService":
            serving[row_of[detail["copy"]]][1] = t
    for row, (lo, hi) in serving.items():
        rows[row].serving = ((lo, hi),)
    for row in set(row_of.values()) - set(serving):
        rows[row].serving = ()   # placed, never loaded
    return rows


@pytest.mark.parametrize("routing", ["RANDOM", "LEAST_OUTSTANDING_REQUESTS"])
@pytest.mark.parametrize("initial, a_cores, mttf, scale_in, pins", [
    (1, 2.0, "2min", "IDLE_RELEASE", []),
    (3, 1.0, None, "CONSOLIDATION", []),
    (2, 2.0, None, "IDLE_RELEASE", [(3, 1), (6, 4)]),
])
def test_a_run_gives_every_request_as_the_naive_model_of_its_copies(routing, initial, a_cores, mttf, scale_in, pins):
    """Component "a" (3 copies), "b" (2 copies of 1 core) and "z" (none: NoCapacity). On one instance at
    first with 2-core copies of "a", they do not all fit: managed instance scaling launches instances,
    the pending copies load there and serve, instances fail every few minutes and their copies are
    displaced and placed anew. On three instances with 1-core copies, consolidation empties one onto the
    others (the moved copy loads again) and releases it. With "a"'s copy count pinned by scheduled
    actions (1 at minute 3, 4 at minute 6), serving copies are removed (their requests finish) and new
    ones placed, loaded, or pending until an instance is launched. The run's requests, fed with their
    components' own draws (re-drawn from the named streams) to `naive_flow` with the copies' rows and
    serving intervals from the event log, come out the same: copy, outcome, start, completion and the
    copies in routing at arrival."""
    raw = ic_experiment([{"name": "a", "cores": a_cores, "memory": 1024, "copies": 3, "strategy": "SPREAD",
                          "rate": 20},
                         {"name": "b", "cores": 1.0, "memory": 1024, "copies": 2, "strategy": "BINPACK", "rate": 8},
                         {"name": "z", "cores": 1.0, "memory": 1024, "copies": 0, "strategy": "SPREAD", "rate": 2}],
                        initial=initial, scaling={"status": "ENABLED", "min_instance_count": 0, "max_instance_count": 3,
                                                  "scale_in_policy": {"strategy": scale_in, "maximum_step_size": 1,
                                                                      "cooldown_in_minutes": 5}},
                        duration="12min", mttf=mttf, routing=routing, seed=7)
    if pins:   # Application Auto Scaling scheduled actions on "a"'s DesiredCopyCount
        common = {"ServiceNamespace": "sagemaker", "ResourceId": "inference-component/a",
                  "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount"}
        raw["autoscaling"] = {"targets": [{**common, "MinCapacity": 0, "MaxCapacity": 8}], "policies": [],
                              "alarms": [], "scheduled_actions": [
                                  {**common, "ScheduledActionName": f"pin-{k}",
                                   "Schedule": f"at(2026-01-05T09:{minute:02d}:00)",
                                   "ScalableTargetAction": {"MinCapacity": n, "MaxCapacity": n}}
                                  for k, (minute, n) in enumerate(pins)]}
    sc = scenario(raw)
    parts: list[RequestRecords] = []
    result = simulate(sc, requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    instances = run_copies(result.events.to_pandas(), result.fleet)
    assert any(i.serving and i.serving[0][0] > 0 for i in instances), "copies loaded during the run"
    if pins:
        assert any(i.serving and i.serving[0][1] < np.inf for i in instances), "copies removed while serving"

    order = np.lexsort((records.variant, records.arrival_s))
    times, local = records.arrival_s[order], records.variant[order].astype(np.int64)
    n = len(times)
    streams = RandomStreams(sc.experiment.experiment.seed)
    draws = {"choice": [0.0] * (n + 1), "overhead": [0.0] * (n + 1)}   # targeted requests; overhead not compared
    variants = [NaiveVariant(v.routing) for v in result.fleet.variants]
    for v in result.fleet.variants:
        if v.component is not None:
            count = int((local == v.index).sum()) + 1
            draws[("route", v.index)] = list(streams.draws(f"{v.stream_prefix}/route",
                                                           lambda rng, size: rng.random(size)).take(count))
            draws[("service", v.index, 0)] = list(streams.draws(f"{v.stream_prefix}/service",
                                                                v.entry.service_time.sample).take(count))
    platform = sc.experiment.platform
    requests, _, _ = naive_flow(variants, instances, np.linspace(0, 1, len(variants) + 1)[1:],
                                (times, local, records.payload_bytes[order], np.full(n, -1, np.int64)), [], draws,
                                [0.0] * len(variants), 0.0, [[0.0]] * len(variants), platform.max_payload_size,
                                platform.invocation_timeout, sc.experiment.experiment.duration)
    expected = sorted((r["arrival"], r["variant"], r["instance"], r["status"], r["start"], r["complete"], r["active"])
                      for r in requests)
    got = sorted(zip(records.arrival_s.tolist(), records.variant.tolist(), records.instance.tolist(),
                     records.status.tolist(), records.start_s.tolist(), records.complete_s.tolist(),
                     records.active_instances.tolist()))
    assert len(got) == len(expected) and (records.status == NO_CAPACITY).any()
    assert got == expected
