"""EMF output: every line obeys the Embedded Metric Format rules [EMF], and ingesting the lines would give
CloudWatch exactly the stored samples of every datapoint."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from simfleet.cloudwatch.distribution import Distribution
from simfleet.query import RunMetrics
from stored_runs import START_S, Stream, latency_stream, stored_rows, write_run

UNITS = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
         "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
         "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
         "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None"}


def check_emf_line(line: str, period_of: dict) -> dict:
    """The structural rules of the EMF specification, checked on one line."""
    assert "\n" not in line and len(line.encode()) < 1_000_000
    event = json.loads(line)
    meta = event["_aws"]
    assert set(meta) == {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] % 1000 == 0
    directives = meta["CloudWatchMetrics"]
    assert isinstance(directives, list) and directives
    for directive in directives:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert isinstance(directive["Namespace"], str) and directive["Namespace"]
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for key in dimension_set:
                assert isinstance(event[key], str) and len(event[key]) <= 1024
        assert 1 <= len(directive["Metrics"]) <= 100
        for definition in directive["Metrics"]:
            assert set(definition) <= {"Name", "Unit", "StorageResolution"}
            assert definition.get("Unit", "None") in UNITS
            member = event[definition["Name"]]
            assert isinstance(member, list) and 1 <= len(member) <= 100
            assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in member)
            period = period_of[definition["Name"]]
            if period < 60:
                assert definition["StorageResolution"] == 1
            else:
                assert definition.get("StorageResolution", 60) == 60
    return event


def ingest(lines, period_of):
    """What CloudWatch would receive: samples per (namespace, metric, dimensions, timestamp)."""
    samples = defaultdict(list)
    for line in lines:
        event = check_emf_line(line, period_of)
        for directive in event["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = tuple(sorted((k, event[k]) for k in dimension_set))
                for definition in directive["Metrics"]:
                    key = (directive["Namespace"], definition["Name"], dims, event["_aws"]["Timestamp"])
                    samples[key].extend(event[definition["Name"]])
    return samples


@pytest.fixture
def streams():
    rng = np.random.default_rng(21)
    return [
        latency_stream(rng, n=4000, distinct=None),                          # histograms (> 150 distinct)
        latency_stream(rng, n=900, distinct=30, EndpointName="ep", VariantName="B"),
        Stream("Invocations", {"EndpointName": "ep", "VariantName": "A"}, START_S + rng.uniform(0, 3600, 9000),
               np.ones(9000), unit="None"),                                   # 150 ones a minute: 2 events each
        Stream("ConcurrentRequestsPerModel", {"EndpointName": "ep", "VariantName": "A"},
               START_S + rng.uniform(0, 600, 700), rng.integers(0, 9, 700).astype(float), unit="None", period_s=10),
        Stream("CPUUtilization", {"EndpointName": "ep", "VariantName": "A", "InstanceId": "i-1"},
               START_S + np.arange(0, 3600, 60.0), rng.uniform(0, 400, 60), namespace="/aws/sagemaker/Endpoints",
               unit="Percent"),
    ]


def test_emf_reproduces_every_stored_distribution(tmp_path, streams):
    run = RunMetrics.open(write_run(tmp_path / "run", streams))
    period_of = {s.metric_name: s.period_s for s in streams}
    samples = ingest(run.to_emf(), period_of)
    expected_keys = set()
    for stream in streams:
        dims = tuple(sorted(stream.dimensions.items()))
        for start, raw in stored_rows(stream):
            key = (stream.namespace, stream.metric_name, dims, start * 1000)
            expected_keys.add(key)
            stored = Distribution.from_values(raw)
            got = Distribution.from_values(np.array(samples[key]))
            assert got.count == len(raw)
            assert np.array_equal(np.repeat(stored.values, stored.counts), np.sort(samples[key]))
            if stored.exact:                                   # the raw multiset itself
                assert np.array_equal(np.sort(raw), np.sort(samples[key]))
            assert (got.values.tolist(), got.counts.tolist(), got.exact) == \
                (stored.values.tolist(), stored.counts.tolist(), stored.exact)   # what CloudWatch would see
    assert set(samples) == expected_keys


def test_emf_shares_events_and_splits_long_members(tmp_path, streams):
    run = RunMetrics.open(write_run(tmp_path / "run", streams))
    lines = list(run.to_emf(namespace="AWS/SageMaker", dimensions={"VariantName": "A"},
                            start_time=START_S, end_time=START_S + 60))
    events = [json.loads(line) for line in lines]
    assert {e["_aws"]["Timestamp"] for e in events} == {START_S * 1000 + k * 10_000 for k in range(6)}
    minute = [e for e in events if e["_aws"]["Timestamp"] == START_S * 1000
              and "Invocations" in e]
    invocations = sum(len(e["Invocations"]) for e in minute)
    assert len(minute) == -(-invocations // 100)                      # split in chunks of 100
    assert any("ModelLatency" in e and "Invocations" in e for e in minute)   # one event, two metrics
    high_resolution = [e for e in events if "ConcurrentRequestsPerModel" in e]
    assert high_resolution and all("Invocations" not in e for e in high_resolution)   # 10 s: its own events
    assert all("CPUUtilization" not in e for e in events)             # namespace filter


def test_emf_of_a_query_covers_the_query_window(tmp_path, streams):
    run = RunMetrics.open(write_run(tmp_path / "run", streams))
    answer = run.answer("GetMetricStatistics", {
        "Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "B"}],
        "StartTime": START_S + 90, "EndTime": START_S + 300, "Period": 60, "Statistics": ["SampleCount"]})
    samples = ingest(answer.emf(), {s.metric_name: s.period_s for s in streams})
    assert sorted(k[3] // 1000 for k in samples) == [START_S + 60, START_S + 120, START_S + 180, START_S + 240]
    counts = {p["Timestamp"]: p["SampleCount"] for p in answer.response()["Datapoints"]}
    assert sorted(len(v) for v in samples.values()) == sorted(counts.values())
