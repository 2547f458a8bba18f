"""AWS-shaped responses: valid against botocore's CloudWatch output shapes, in the types boto3 returns
(timezone-aware datetimes, not strings), with values equal to naive numpy statistics of the raw
values, CloudWatch's ordering and pagination rules."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest
from botocore.validate import ParamValidator

from simfleet.errors import InputError
from simfleet.query import RunMetrics
from reference_statistics import naive_statistic
from stored_runs import START_S, Stream, latency_stream, write_run
from aws_models import service_model

MODEL = service_model("cloudwatch")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")
DIMS = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "A"}]


def validate_output(operation: str, response: dict) -> None:
    """botocore's validator (types, members) plus what it skips: enumerations, and timestamps that are
    what botocore's parser gives boto3 (aware `datetime`s in UTC, not the wire's strings)."""
    shape = MODEL.operation_model(operation).output_shape
    report = ParamValidator().validate(response, shape)
    assert not report.has_errors(), report.generate_report()
    _walk(response, shape, operation)


def _walk(value, shape, path):
    if shape.type_name == "structure":
        for name, member in value.items():
            _walk(member, shape.members[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            _walk(item, shape.value, f"{path}[{key}]")
    elif shape.type_name == "string" and shape.enum:
        assert value in shape.enum, path
    elif shape.type_name == "timestamp":
        assert isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0), (path, value)
    elif shape.type_name == "double":
        assert isinstance(value, float) and math.isfinite(value), path


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


@pytest.fixture
def run(tmp_path):
    rng = np.random.default_rng(11)
    streams = [latency_stream(rng, n=3000), latency_stream(rng, n=500, EndpointName="ep", VariantName="B"),
               Stream("Invocations", {"EndpointName": "ep", "VariantName": "A"},
                      START_S + rng.uniform(0, 3600, 1500), np.ones(1500), unit="None"),
               Stream("CPUUtilization", {"EndpointName": "ep", "VariantName": "A", "InstanceId": "i-1"},
                      START_S + np.arange(0, 3600, 60), rng.uniform(0, 400, 60), namespace="/aws/sagemaker/Endpoints",
                      unit="Percent")]
    return RunMetrics.open(write_run(tmp_path / "run", streams)), streams


def _raw_by_bucket(stream: Stream, period: int, start_s: int, end_s: int):
    stored = stream.times_s - stream.times_s % stream.period_s
    inside = (stored >= start_s) & (stored < end_s)
    buckets = start_s + (stored - start_s) // period * period
    return {int(b): stream.values[inside & (buckets == b)] for b in np.unique(buckets[inside])}


def test_get_metric_statistics_response(run):
    run, streams = run
    params = {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": DIMS,
              "StartTime": "2026-01-05T09:00:00Z", "EndTime": "2026-01-05T10:00:00Z", "Period": 300}
    basic = run.call("GetMetricStatistics", {**params, "Statistics": ["Sum", "SampleCount", "Maximum"]})
    extended = run.call("GetMetricStatistics", {**params, "ExtendedStatistics": ["p50", "p99", "PR(:20000)"]})
    expected = _raw_by_bucket(streams[0], 300, START_S, START_S + 3600)
    for response in (basic, extended):
        validate_output("GetMetricStatistics", response)
        assert response["Label"] == "ModelLatency"
        times = [_epoch(p["Timestamp"]) for p in response["Datapoints"]]
        assert times == sorted(expected)                         # ascending: simfleet's documented order
    for point in basic["Datapoints"]:
        raw = expected[_epoch(point["Timestamp"])]
        assert set(point) == {"Timestamp", "Sum", "SampleCount", "Maximum", "Unit"}
        assert point["Unit"] == "Microseconds"
        assert point["SampleCount"] == len(raw) and point["Maximum"] == raw.max()
        assert math.isclose(point["Sum"], raw.sum(), rel_tol=1e-12)
    for point in extended["Datapoints"]:
        raw = expected[_epoch(point["Timestamp"])]
        assert set(point) == {"Timestamp", "Unit", "ExtendedStatistics"}
        assert point["ExtendedStatistics"] == {s: naive_statistic(raw, s) for s in ("p50", "p99", "PR(:20000)")}


@pytest.mark.parametrize("change", [{"Unit": "Milliseconds"},
                                    {"Dimensions": [{"Name": "EndpointName", "Value": "ep"},
                                                    {"Name": "VariantName", "Value": "Z"}]},
                                    {"StartTime": "2026-01-06T09:00:00Z", "EndTime": "2026-01-06T10:00:00Z"}])
def test_no_datapoints_for_unit_mismatch_unknown_values_or_empty_range(run, change):
    run, _ = run
    response = run.call("GetMetricStatistics", {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                                                "Dimensions": DIMS, "Period": 60, "Statistics": ["Sum"], **change})
    validate_output("GetMetricStatistics", response)
    assert response == {"Label": "ModelLatency", "Datapoints": []}


def test_dimensions_must_be_the_exact_set(run):
    run, _ = run
    with pytest.raises(InputError, match="exact dimension set"):
        run.call("GetMetricStatistics", {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                                         "Dimensions": DIMS[:1], "Period": 60, "Statistics": ["Sum"]})


def _queries():
    metric = {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": DIMS}
    return [
        {"Id": "p99", "MetricStat": {"Metric": metric, "Period": 600, "Stat": "p99"}},
        {"Id": "hidden", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "inv", "Label": "requests", "MetricStat": {
            "Metric": {**metric, "MetricName": "Invocations"}, "Period": 300, "Stat": "Sum", "Unit": "None"}},
        {"Id": "cpu", "MetricStat": {"Metric": {"Namespace": "/aws/sagemaker/Endpoints", "MetricName": "CPUUtilization",
                                                "Dimensions": DIMS + [{"Name": "InstanceId", "Value": "i-1"}]},
                                     "Period": 1200, "Stat": "IQM"}},
    ]


def test_get_metric_data_response(run):
    run, streams = run
    response = run.call("GetMetricData", {"MetricDataQueries": _queries(), "StartTime": START_S,
                                          "EndTime": START_S + 3600})
    validate_output("GetMetricData", response)
    results = {r["Id"]: r for r in response["MetricDataResults"]}
    assert list(results) == ["p99", "inv", "cpu"]                   # ReturnData false is left out
    assert results["p99"]["Label"] == "ModelLatency" and results["inv"]["Label"] == "requests"
    assert "NextToken" not in response and response["Messages"] == []
    for result_id, stream, period, stat in [("p99", streams[0], 600, "p99"), ("inv", streams[2], 300, "Sum")]:
        result = results[result_id]
        expected = _raw_by_bucket(stream, period, START_S, START_S + 3600)
        times = [_epoch(t) for t in result["Timestamps"]]
        assert times == sorted(expected, reverse=True)              # TimestampDescending by default
        assert result["Values"] == [naive_statistic(expected[t], stat) for t in times]
        assert result["StatusCode"] == "Complete"
    cpu = streams[3].values
    assert len(results["cpu"]["Values"]) == 3
    ordered = np.sort(cpu[:20])                                     # IQM = TM(25%:75%) of 20 distinct values
    assert results["cpu"]["Values"][-1] == pytest.approx(ordered[5:15].mean(), rel=1e-12)


def test_scan_by_ascending(run):
    run, _ = run
    response = run.call("GetMetricData", {"MetricDataQueries": _queries()[:1], "StartTime": START_S,
                                          "EndTime": START_S + 3600, "ScanBy": "TimestampAscending"})
    times = response["MetricDataResults"][0]["Timestamps"]
    assert times == sorted(times) and len(times) == 6


@pytest.mark.parametrize("page_size", [1, 4, 7, 100])
def test_pagination_pages_add_up_to_the_whole_answer(run, page_size):
    run, _ = run
    params = {"MetricDataQueries": _queries(), "StartTime": START_S, "EndTime": START_S + 3600}
    whole = {r["Id"]: r for r in run.call("GetMetricData", params)["MetricDataResults"]}
    total = sum(len(r["Values"]) for r in whole.values())
    pages, token = [], None
    while True:
        page = run.call("GetMetricData", {**params, "MaxDatapoints": page_size,
                                          **({"NextToken": token} if token else {})})
        validate_output("GetMetricData", page)
        pages.append(page)
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= page_size
        token = page.get("NextToken")
        if token is None:
            break
    assert len(pages) == math.ceil(total / page_size)
    for query_id, result in whole.items():
        got = [r for page in pages for r in page["MetricDataResults"] if r["Id"] == query_id]
        assert len(got) == len(pages)                              # every page answers every query
        assert sum((r["Values"] for r in got), []) == result["Values"]
        assert sum((r["Timestamps"] for r in got), []) == result["Timestamps"]
        remaining = len(result["Values"])
        for r in got:
            remaining -= len(r["Values"])
            assert r["StatusCode"] == ("PartialData" if remaining else "Complete")


def test_next_token_belongs_to_its_request(run):
    run, _ = run
    params = {"MetricDataQueries": _queries(), "StartTime": START_S, "EndTime": START_S + 3600, "MaxDatapoints": 2}
    token = run.call("GetMetricData", params)["NextToken"]
    for bad in ({**params, "NextToken": "garbage"}, {**params, "NextToken": token, "ScanBy": "TimestampAscending"}):
        with pytest.raises(InputError, match="NextToken"):
            run.call("GetMetricData", bad)


def test_list_metrics_response_and_filters(run):
    run, streams = run
    everything = run.call("ListMetrics", {})
    validate_output("ListMetrics", everything)
    listed = {(m["Namespace"], m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
              for m in everything["Metrics"]}
    assert listed == {(s.namespace, s.metric_name, tuple(s.dimensions.items())) for s in streams}
    def names(**filters):
        return sorted((m["MetricName"], m["Dimensions"][-1]["Value"]) for m in run.call("ListMetrics", filters)["Metrics"])
    assert names(Namespace="/aws/sagemaker/Endpoints") == [("CPUUtilization", "i-1")]
    assert names(MetricName="ModelLatency") == [("ModelLatency", "A"), ("ModelLatency", "B")]
    assert names(Dimensions=[{"Name": "VariantName", "Value": "B"}]) == [("ModelLatency", "B")]
    assert names(Dimensions=[{"Name": "InstanceId"}]) == [("CPUUtilization", "i-1")]
    assert names(Namespace="AWS/SageMaker", Dimensions=[{"Name": "InstanceId"}]) == []
    assert len(names(RecentlyActive="PT3H")) == 4
    frame = run.list_metrics(dimensions={"VariantName": "A"})
    assert sorted(frame["metric_name"]) == ["CPUUtilization", "Invocations", "ModelLatency"]
    assert frame.set_index("metric_name").loc["CPUUtilization", "InstanceId"] == "i-1"


def test_list_metrics_pages_hold_500_metrics(tmp_path):
    streams = [Stream("Invocations", {"EndpointName": f"ep{i:04d}", "VariantName": "A"}, np.array([START_S]),
                      np.array([1.0]), unit="None") for i in range(620)]
    run = RunMetrics.open(write_run(tmp_path / "run", streams))
    first = run.call("ListMetrics", {})
    second = run.call("ListMetrics", {"NextToken": first["NextToken"]})
    validate_output("ListMetrics", first)
    assert len(first["Metrics"]) == 500 and len(second["Metrics"]) == 120 and "NextToken" not in second
    endpoints = [m["Dimensions"][0]["Value"] for m in first["Metrics"] + second["Metrics"]]
    assert endpoints == sorted(f"ep{i:04d}" for i in range(620))


def test_responses_have_the_types_botocore_parses_into(run):
    """What botocore's parser returns for a CloudWatch answer is what `call` returns: the output
    shape's members, timestamps as aware datetimes equal to the ISO strings the CLI prints."""
    import json

    from botocore.parsers import QueryParser

    from simfleet.query.responses import to_json

    run, _ = run
    response = run.call("GetMetricData", {"MetricDataQueries": _queries(), "StartTime": START_S,
                                          "EndTime": START_S + 3600, "ScanBy": "TimestampAscending"})
    shape = MODEL.operation_model("GetMetricData").output_shape
    assert set(response) <= set(shape.members)
    for result in response["MetricDataResults"]:
        assert set(result) <= set(shape.members["MetricDataResults"].member.members)
        assert result["Timestamps"] and all(isinstance(t, dt.datetime) and t.tzinfo is not None
                                            for t in result["Timestamps"])
    # botocore turns the service's ISO strings into the same datetimes
    timestamp_parser = QueryParser()._timestamp_parser
    printed = json.loads(to_json(response))
    for ours, text in zip(response["MetricDataResults"], printed["MetricDataResults"]):
        assert all(ISO_Z.fullmatch(t) for t in text["Timestamps"])
        assert [timestamp_parser(t) for t in text["Timestamps"]] == ours["Timestamps"]
    stats = run.call("GetMetricStatistics", {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                                             "Dimensions": DIMS, "Period": 300, "Statistics": ["Sum"]})
    assert stats["Datapoints"] and all(isinstance(p["Timestamp"], dt.datetime) and p["Timestamp"].tzinfo
                                       for p in stats["Datapoints"])
