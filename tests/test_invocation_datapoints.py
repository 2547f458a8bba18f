"""Invocation datapoints built from outcome counts equal the datapoints of the raw per-request values.

`invocation_datapoints` counts outcome codes and in-service instance counts instead of building
0/1 and 1/k arrays; the reference is the definition written out naively (`request_values`: the
value each request emits for each metric, reference §1.1) through `Distribution.from_values`.
They must agree bit for bit (Sum, exact flag, values, counts).
The aggregator's filing of requests by response period is checked at the period edges.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from small_experiments import base_experiment, scenario
from simfleet.cloudwatch.distribution import Distribution
from simfleet.fleet import build_fleet
from simfleet.metrics.aggregator import MetricsAggregator
from simfleet.metrics.emission import MODEL_ERROR_OUTCOMES, REACHED_CONTAINER, STATUS_NAMES, error_class, status_in
from simfleet.metrics.invocation_datapoints import invocation_distributions
from simfleet.request_records import NO_CAPACITY, OK, PAYLOAD_TOO_LARGE
from simfleet.request_records import RequestRecords

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)


_FLEET = build_fleet(scenario(base_experiment()))


def request_values(records: RequestRecords, variant):
    """(metric name, unit, raw values) for one variant's requests answered in one period, as
    SageMaker emits them: 1 per invocation, 1 / in-service instances, 0/1 error indicators, and the
    latencies in microseconds of the requests that reached a container."""
    status = records.status
    is_4xx, is_5xx = error_class(status, variant)
    reached = status_in(status, REACHED_CONTAINER)
    return [
        ("Invocations", "None", np.ones(len(records))),
        ("InvocationsPerInstance", "None", 1.0 / records.active_instances[records.active_instances > 0]),
        ("Invocation4XXErrors", "None", is_4xx.astype(np.float64)),
        ("Invocation5XXErrors", "None", is_5xx.astype(np.float64)),
        ("InvocationModelErrors", "None", status_in(status, MODEL_ERROR_OUTCOMES).astype(np.float64)),
        ("ModelLatency", "Microseconds", records.model_latency_s[reached] * 1e6),
        ("OverheadLatency", "Microseconds", records.overhead_s[reached] * 1e6),
    ]


def _variant(model_error_status: int):
    return dataclasses.replace(_FLEET.variants[0], model_error_status=model_error_status)


@st.composite
def outcome_batches(draw):
    n = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    codes = draw(st.lists(st.sampled_from(sorted(STATUS_NAMES)), min_size=1, max_size=6, unique=True))
    status = rng.choice(np.array(codes, np.int8), n)
    most_instances = draw(st.sampled_from([1, 3, 7, 200]))
    active = rng.integers(0, most_instances + 1, n).astype(np.int32)
    # latencies: continuous, or few distinct values (a constant service time), zeros included
    few = draw(st.booleans())
    latency = rng.choice([0.0, 0.01, 0.02], n) if few else rng.exponential(0.05, n)
    overhead = rng.choice([0.0, 0.003], n) if few else rng.lognormal(-6, 0.5, n)
    return status, active, latency, overhead


def _records(status, active, latency, overhead):
    n = len(status)
    zeros = np.zeros(n)
    return RequestRecords(arrival_s=zeros, variant=np.zeros(n, np.int32), instance=np.zeros(n, np.int32),
                          status=status, payload_bytes=zeros, service_s=zeros, start_s=zeros, complete_s=zeros,
                          model_latency_s=latency, overhead_s=overhead, response_s=latency + overhead,
                          active_instances=active,
                          container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16))


@settings(max_examples=150)
@given(batch=outcome_batches(), model_error_status=st.sampled_from([400, 424, 500, 503]),
       scale=st.sampled_from([0, 3, 8]))
def test_counted_datapoints_equal_the_datapoints_of_the_raw_values(batch, model_error_status, scale):
    status, active, latency, overhead = batch
    variant = _variant(model_error_status)
    expected = [(metric, unit, Distribution.from_values(values, scale))
                for metric, unit, values in request_values(_records(status, active, latency, overhead), variant)
                if len(values)]
    got = invocation_distributions(status, active, latency, overhead, variant, scale)
    assert [(m, u) for m, u, _ in got] == [(m, u) for m, u, _ in expected]
    for (metric, _, mine), (_, _, reference) in zip(got, expected):
        assert mine == reference, metric      # Distribution equality: every field, bit for bit
        assert mine.values.dtype == np.float64 and mine.counts.dtype == np.int64


def test_no_requests_no_datapoints():
    empty = np.empty(0)
    assert invocation_distributions(np.empty(0, np.int8), np.empty(0, np.int32), empty, empty, _variant(500), 8) == []


def test_requests_that_never_reached_an_instance_have_counters_but_no_latency():
    status = np.array([PAYLOAD_TOO_LARGE, NO_CAPACITY, NO_CAPACITY], np.int8)
    got = invocation_distributions(status, np.zeros(3, np.int32), np.zeros(3), np.full(3, 0.001), _variant(500), 8)
    names = [metric for metric, _, _ in got]
    assert names == ["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors"]
    by_name = {metric: dist for metric, _, dist in got}
    assert (by_name["Invocation4XXErrors"].total, by_name["Invocation5XXErrors"].total) == (1.0, 2.0)


@pytest.mark.parametrize("period", [10, 60])
def test_a_response_is_published_in_the_period_it_falls_in_even_at_the_edges(period):
    """Responses exactly at a period's end belong to the next period; one float below, to this one."""
    raw = base_experiment(duration="10min")
    raw["endpoints"][0]["metrics_config"] = {"enable_enhanced_metrics": True,
                                             "metric_publish_frequency_in_seconds": period}
    sc = scenario(raw)
    fleet = build_fleet(sc)
    aggregator = MetricsAggregator(fleet, sc.experiment.metrics, sc.experiment.experiment.start_time)
    edges = np.arange(1, 6) * float(period)
    response = np.sort(np.concatenate([edges, np.nextafter(edges, 0.0), np.nextafter(edges, np.inf),
                                       edges - period / 3]))
    n = len(response)
    arrival = np.maximum(response - 0.5, 0.0)
    records = RequestRecords(
        arrival_s=arrival, variant=np.zeros(n, np.int32), instance=np.zeros(n, np.int32),
        status=np.full(n, OK, np.int8), payload_bytes=np.zeros(n), service_s=response - arrival, start_s=arrival, complete_s=arrival,
        model_latency_s=response - arrival, overhead_s=np.zeros(n), response_s=response,
        active_instances=np.ones(n, np.int32), container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16))
    aggregator.add(records)
    instances = fleet.variants[0].initial_instance_count
    for tick in range(1, 6 * period // 10 + 1):
        aggregator.close_tick(tick * 10.0, np.zeros((instances, 2)), np.zeros(instances, np.int32),
                              np.ones(instances, bool))
    rows = aggregator.buffer.rows
    start = sc.experiment.experiment.start_time.timestamp()
    published = {round(ts.timestamp() - start): count for ts, metric, iid, count in
                 zip(rows["timestamp"], rows["metric_name"], rows["InstanceId"], rows["sample_count"])
                 if metric == "Invocations" and iid is None}
    expected = {}
    for r in response:
        if r < 6 * period:
            key = int(r // period) * period
            assert key <= r < key + period
            expected[key] = expected.get(key, 0) + 1
    assert published == expected
    assert len(aggregator.pending_requests()) == int(np.sum(response >= 6 * period))
