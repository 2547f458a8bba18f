"""Closed-loop users: queueing theory, the open-loop kernel as a reference, schedules, segmentation, input.

Theory: N users without think time on one instance with c workers of exponential service form a
closed network whose c servers are all busy whenever N >= c, so throughput = min(N, c) / E[S]
and, by Little's law, mean response time = N / throughput. With a think time Z and one user,
throughput = 1 / (E[S] + Z).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from small_experiments import base_experiment, scenario
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues, dispatch_given, no_arrivals
from simfleet.request_records import MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, QUEUE_FULL
from simfleet.request_records import RequestRecords
from simfleet.engine.request_plane import RequestPlane
from simfleet.engine.simulation import simulate
from simfleet.errors import InputError
from simfleet.fleet import ROUTING_CODES
from simfleet.rng import RandomStreams

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

MEAN_SERVICE_S = 0.010  # tests/data/models/toy.toml on c5


def users_experiment(users=None, schedule=None, *, duration="10min", seed=1, workers=4, instances=1,
                     think=None, overhead="0s", routing="LEAST_OUTSTANDING_REQUESTS", **variant) -> dict:
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": overhead}}
    raw["endpoints"][0]["production_variants"][0].update(
        initial_instance_count=instances, workers=workers, routing_config={"routing_strategy": routing}, **variant)
    source = {"kind": "users"}
    if users is not None:
        source["users"] = users
    if schedule is not None:
        source["schedule"] = schedule
    if think is not None:
        source["think_time"] = think
    raw["traffic"] = [source]
    return raw


def run(raw, **kwargs):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append, **kwargs)
    return result, (RequestRecords.concat(parts) if parts else RequestRecords.empty())


def _interval(samples, confidence=0.999):
    samples = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + confidence / 2, len(samples) - 1) * samples.std(ddof=1) / np.sqrt(len(samples))
    return samples.mean() - half, samples.mean() + half


@pytest.mark.slow
@pytest.mark.parametrize("users", [1, 2, 4, 8, 16])
def test_saturation_matches_the_closed_network(users):
    c, seconds = 4, 600.0
    throughput, response = [], []
    for seed in range(10):
        _, records = run(users_experiment(users, duration=f"{seconds:g}s", seed=seed, workers=c))
        throughput.append(len(records) / seconds)
        response.append(float(np.mean(records.response_s - records.arrival_s)))
    expected_x = min(users, c) / MEAN_SERVICE_S
    lo, hi = _interval(throughput)
    assert lo <= expected_x <= hi or abs(np.mean(throughput) / expected_x - 1) < 2e-3, (lo, hi, expected_x)
    lo, hi = _interval(response)
    assert lo <= users / expected_x <= hi, (lo, hi, users / expected_x)


@pytest.mark.slow
def test_think_time_slows_one_user_as_theory_says():
    think = 0.030
    seconds = 600.0
    samples = []
    for seed in range(10):
        _, records = run(users_experiment(1, duration=f"{seconds:g}s", seed=seed,
                                          think={"kind": "constant", "value": f"{think * 1000:g}ms"}))
        samples.append(len(records) / seconds)
    lo, hi = _interval(samples)
    assert lo <= 1 / (MEAN_SERVICE_S + think) <= hi


def test_users_never_have_two_requests_outstanding():
    result, records = run(users_experiment(6, duration="2min", overhead="2ms", workers=2))
    # Order each request within its user's sequence: a user sends its next request at its previous
    # response; with no think time, the number of requests in flight at any send is < users.
    sends = np.sort(records.arrival_s)
    responses = np.sort(records.response_s)
    in_flight = np.arange(1, len(sends) + 1) - np.searchsorted(responses, sends, side="right")
    assert in_flight.max() == 6
    assert in_flight.min() >= 1


def test_the_open_loop_kernel_reproduces_every_closed_loop_request():
    """Replay the closed-loop arrivals (with the same draws) through the open-loop kernel."""
    raw = users_experiment(12, duration="3min", instances=2, workers=2, overhead="1ms", model_error_rate=0.05)
    raw["platform"]["invocation_timeout"] = "45ms"  # some requests time out
    sc = scenario(raw)
    _, records = run(raw)
    assert {OK, MODEL_ERROR, MODEL_TIMEOUT} <= set(np.unique(records.status))
    variant = sc.experiment.endpoints[0].production_variants[0]
    streams = RandomStreams(sc.experiment.experiment.seed)
    prefix = f"variant/ep/{variant.variant_name}"
    n = len(records)
    route = streams.draws(f"{prefix}/route", lambda rng, k: rng.random(k)).take(n)
    error = streams.draws(f"{prefix}/error", lambda rng, k: rng.random(k)).take(n) < variant.model_error_rate
    plane = RequestPlane([ROUTING_CODES[variant.routing_config.routing_strategy]])
    entry = sc.profiles["toy"].entry_for(sc.catalog[variant.instance_type], variant.workers)
    for _ in range(variant.initial_instance_count):
        plane.add_instance(0, entry.workers, entry.max_queue_size)
    instance, start, complete, status, active = dispatch_given(
        plane, records.arrival_s, records.variant, records.service_s, records.payload_bytes, route, error,
        sc.experiment.platform.max_payload_size, sc.experiment.platform.invocation_timeout)
    assert np.array_equal(instance, records.instance)
    assert np.array_equal(status, records.status)
    assert np.array_equal(start, records.start_s)
    assert np.array_equal(active, records.active_instances)


def test_a_full_queue_answers_at_once_and_the_user_sends_again():
    """More users than one worker plus its job queue hold: the extra ones get 503s right away.

    A refused user sends again one overhead later: 5 ms keeps the minute at about 60 k requests (at
    1 ms, 300 k, nearly all refusals, for the same checks; the JIT-off tier runs them as Python)."""
    limit = scenario(base_experiment()).profiles["toy"].spec.max_queue_size
    users = limit + 1 + 5
    _, records = run(users_experiment(users, duration="1min", workers=1, overhead="5ms"))
    rejected = records.status == QUEUE_FULL
    assert rejected.any()
    assert np.all(records.model_latency_s[rejected] == 0)
    assert np.allclose(records.response_s[rejected], records.arrival_s[rejected] + 0.005)
    sends, done = records.arrival_s, records.arrival_s + records.model_latency_s  # leaves the container
    held = [np.sum((sends <= t) & (done > t) & ~rejected) for t in sends[-50:]]
    assert max(held) == limit + 1, "the worker and its full queue, never more"


def test_no_instance_in_service_answers_no_capacity():
    raw = users_experiment(3, duration="2min", overhead="5ms")
    raw["instances"] = {"provisioning_time": {"kind": "constant", "value": "60s"}}
    raw["autoscaling"] = {"targets": [{"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/ep/variant/A",
                                       "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                                       "MinCapacity": 0, "MaxCapacity": 1}],
                          "scheduled_actions": [{"ScheduledActionName": "off", "ServiceNamespace": "sagemaker",
                                                 "ResourceId": "endpoint/ep/variant/A",
                                                 "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                                                 "Schedule": "at(2026-01-05T09:01:00)",
                                                 "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0}}]}
    _, records = run(raw)
    late = records.arrival_s >= 60.0
    assert late.any() and np.all(records.status[late & (records.arrival_s > 60.1)] == NO_CAPACITY)
    assert np.allclose(records.response_s[records.status == NO_CAPACITY] - records.arrival_s[records.status == NO_CAPACITY],
                       0.005)


def test_user_schedule_adds_and_removes_users():
    schedule = [["0s", 2], ["60s", 5], ["120s", 1], ["150s", 0], ["170s", 3]]
    result, records = run(users_experiment(schedule=schedule, duration="4min", overhead="1ms"))
    events = result.events.to_pandas()
    changes = events[events.event == "UserCountChange"]
    assert list(changes.time_s) == [0.0, 60.0, 120.0, 150.0, 170.0]
    bounds = [0, 60, 120, 150, 170, 240]
    counts = [2, 5, 1, 0, 3]
    sends, responses = records.arrival_s, records.response_s
    for (lo, hi), users in zip(zip(bounds, bounds[1:]), counts):
        inside = (sends >= lo) & (sends < hi)
        if users == 0:
            assert not inside.any(), "no user sends while none are active"
            continue
        # requests in flight at each send in the window never exceed the users of the window
        # (users removed at lo finish the request they had in flight, so allow those)
        previous = counts[bounds.index(lo) - 1] if lo else 0
        for t in sends[inside][:200]:
            flying = np.sum((sends <= t) & (responses > t))
            assert flying <= max(users, previous)
        assert inside.sum() > 0
    # added users send at the instant they are added
    assert np.sum(sends == 60.0) == 3 and np.sum(sends == 170.0) == 3


def test_results_do_not_depend_on_segmentation():
    raw = users_experiment(7, duration="3min", instances=2, workers=2, overhead="2ms",
                           routing="RANDOM")
    whole, a = run(raw)
    cut, b = run(raw, max_segment_s=0.37)
    for name in ("arrival_s", "instance", "status", "start_s", "response_s"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert whole.metrics.equals(cut.metrics)


@settings(max_examples=150)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=1, max_size=40),
       st.lists(st.tuples(st.integers(1, 4), st.integers(0, 3), st.integers(0, 3)), min_size=64, max_size=64),
       st.lists(st.integers(0, 48), max_size=5))
def test_the_earliest_send_goes_first_ties_to_the_lowest_user(users, draws, cut_quarters):
    """The kernel's order of sends against a scan of every user (earliest next send, ties to the
    lowest user number), on a plane where nobody waits (as many workers as users) and times are
    quarter seconds, so that sends tie often; inactive users never send. The run is cut at
    `cut_quarters` (each call rebuilds the kernel's heap from the users' next sends); after the
    64 drawn sends every think time is 100 s, past the end."""
    active = np.array([a for a, _ in users])
    user_next = np.array([quarter / 4 for _, quarter in users])
    pad = len(users) + 1
    service, overhead, think = (np.append([d[i] / 4 for d in draws], np.full(pad, 100.0 if i == 2 else 0.0))
                                for i in range(3))
    plane = RequestPlane([ROUTING_CODES["RANDOM"]])
    plane.add_instance(0, workers=len(users), queue_limit=1)
    variant = FlowVariant(index=0, weight=1.0, route=GivenValues([]), services=(GivenValues(service),),
                          payload_time_per_kb=(0.0,), error=None, error_rate=0.0)
    flow = EndpointFlow(plane, [variant], GivenValues([]), GivenValues(overhead), 0.0, 1e9, 1e9)
    pool = flow.user_pool()
    payload_row, think_row = flow.draw_row(GivenValues([])), flow.draw_row(GivenValues(think))
    for number, (on, _) in enumerate(users):
        pool.add(1, user_next[number], -1, 0, payload_row, think_row)
        pool.active[number] = on

    until = 12.0
    sent = []
    for t in sorted(q / 4 for q in cut_quarters) + [until]:
        columns, _ = flow.advance_columns(plane, no_arrivals(), t)
        sent += columns["arrival"].tolist()

    expected_next, expected_sent = user_next.copy(), []
    for k in range(len(service)):
        candidates = [j for j in range(len(users)) if active[j] and expected_next[j] < until]
        if not candidates:
            break
        user = min(candidates, key=lambda j: (expected_next[j], j))
        expected_sent.append(expected_next[user])
        expected_next[user] += service[k] + overhead[k] + think[k]
    assert sent == expected_sent
    assert pool.next_send.tolist() == expected_next.tolist()


@pytest.mark.parametrize("traffic, expected", [
    ([{"kind": "users", "users": 2, "schedule": [["0s", 1]]}], "exactly one of users or schedule"),
    ([{"kind": "users", "schedule": [["5s", 1]]}], "start at time 0s"),
    ([{"kind": "users", "schedule": [["0s", 1], ["0s", 2]]}], "strictly increasing"),
    ([{"kind": "users", "users": -1}], "greater than or equal to 0"),
    ([{"kind": "users", "users": 2, "target_variant": "B"}], "no variant 'B'"),
])
def test_bad_closed_loop_traffic(traffic, expected):
    raw = base_experiment()
    raw["traffic"] = traffic
    with pytest.raises(InputError) as caught:
        scenario(raw)
    assert any(expected in str(p) for p in caught.value.problems), str(caught.value)


def test_a_user_sends_again_from_its_answer_on_200_seeds():
    """Eight users, no think time, no overhead, from an idle instance: the naive one-process-per-user
    model and the kernel send the same requests at the same instants. A user's next send is its
    answer's instant (+ overhead + think), not arrival + (answer − arrival), which missed the answer
    by an ulp in the first milliseconds of a run (the naive model then refused a negative delay)."""
    from oracle import NaiveInstance, naive_closed_loop
    from simfleet.engine.users import UserPopulation

    for seed in range(200):
        rng = np.random.default_rng(seed)
        n = 600
        services, route = rng.exponential(0.002, n), rng.random(n)
        zeros = np.zeros(n)
        naive = naive_closed_loop([NaiveInstance(0, 2, 100)], ROUTING_CODES["RANDOM"], [(0.0, 8)], 0.1, services,
                                  zeros, route, np.zeros(n, np.bool_), zeros, zeros, 1e9, 60.0)
        plane = RequestPlane([ROUTING_CODES["RANDOM"]])
        plane.add_instance(0, 2, 100)
        variant = FlowVariant(index=0, weight=1.0, route=GivenValues(route), services=(GivenValues(services),),
                              payload_time_per_kb=(0.0,), error=None, error_rate=0.0)
        flow = EndpointFlow(plane, [variant], GivenValues([]), GivenValues(zeros), 0.0, 1e9, 60.0)
        users = UserPopulation("ep", None, -1, [(0.0, 8)], GivenValues(zeros), GivenValues(zeros), flow)
        users.set_users(8, 0.0)
        columns, _ = flow.advance_columns(plane, no_arrivals(), 0.1)
        for name, expected in zip(("arrival", "instance", "start", "status"), naive):
            assert columns[name].tolist() == expected.tolist(), (seed, name)


def test_users_and_open_loop_traffic_share_an_endpoint():
    """Users and Poisson arrivals on one endpoint: the users' requests are theirs (source 0), the
    arrivals' the Poisson source's (source 1), the users never have more than their number in
    flight, and the open-loop requests arrive at the source's rate (a 99.9 % interval)."""
    raw = users_experiment(3, duration="5min", workers=2, overhead="1ms")
    raw["traffic"].append({"kind": "poisson", "rate": 40})
    _, records = run(raw)
    users, poisson = records.source == 0, records.source == 1
    assert users.sum() + poisson.sum() == len(records)
    sends, responses = records.arrival_s[users], records.response_s[users]
    in_flight = np.array([np.sum((sends <= t) & (responses > t)) for t in sends[::50]])
    assert in_flight.max() <= 3
    lo, hi = stats.poisson.interval(0.999, 40 * 300)
    assert lo <= poisson.sum() <= hi
    whole = len(records)
    _, cut = run(raw, max_segment_s=0.7)
    assert len(cut) == whole and np.array_equal(np.sort(cut.response_s), np.sort(records.response_s))
