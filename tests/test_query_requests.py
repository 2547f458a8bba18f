"""Request validation: the input shapes equal botocore's CloudWatch model, and bad requests are refused
one line per problem, naming the parameter path."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from botocore.validate import ParamValidator

from simfleet.errors import InputError
from simfleet.query import RunMetrics
from simfleet.query.requests import parse_get_metric_data, parse_get_metric_statistics, parse_list_metrics
from simfleet.query.shapes import (INPUT_SHAPES, BooleanShape, IntegerShape, ListShape, StringShape,
                                   StructureShape, TimestampShape)
from simfleet.query.timestamps import parse_timestamp
from stored_runs import START_S, latency_stream, write_run
from aws_models import service_model

MODEL = service_model("cloudwatch")
PARSERS = {"ListMetrics": parse_list_metrics, "GetMetricStatistics": parse_get_metric_statistics,
           "GetMetricData": parse_get_metric_data}
DIMS = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "A"}]


def _same_shape(mine, theirs, path):
    kind = theirs.type_name
    expected_class = {"structure": StructureShape, "list": ListShape, "string": StringShape,
                      "integer": IntegerShape, "boolean": BooleanShape, "timestamp": TimestampShape}[kind]
    assert isinstance(mine, expected_class), f"{path}: {type(mine).__name__} vs {kind}"
    meta = theirs.metadata
    if kind == "structure":
        assert set(mine.members) == set(theirs.members), path
        assert set(mine.required) == set(meta.get("required", ())), path
        for name, member in theirs.members.items():
            _same_shape(mine.members[name], member, f"{path}.{name}")
    elif kind == "list":
        assert (mine.min, mine.max) == (meta.get("min"), meta.get("max")), path
        _same_shape(mine.member, theirs.member, f"{path}[]")
    elif kind == "string":
        assert (mine.min, mine.max, mine.pattern) == (meta.get("min"), meta.get("max"), meta.get("pattern")), path
        assert tuple(mine.enum) == tuple(theirs.enum or ()), path
    elif kind == "integer":
        assert mine.min == meta.get("min"), path


@pytest.mark.parametrize("operation", sorted(INPUT_SHAPES))
def test_input_shapes_equal_the_cloudwatch_service_model(operation):
    _same_shape(INPUT_SHAPES[operation], MODEL.operation_model(operation).input_shape, operation)


def _statistics_request(**changes):
    request = {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Dimensions": copy.deepcopy(DIMS),
               "StartTime": "2026-01-05T09:00:00Z", "EndTime": "2026-01-05T10:00:00Z", "Period": 60,
               "Statistics": ["Sum"]}
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


def _data_request(**query_changes):
    query = {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                                                   "Dimensions": copy.deepcopy(DIMS)},
                                        "Period": 60, "Stat": "p99"}}
    query.update(query_changes)
    query = {k: v for k, v in query.items() if v is not None}
    return {"MetricDataQueries": [query], "StartTime": 1767603600, "EndTime": 1767607200}


# Mutations botocore's own validator also catches (type, required, unknown, min length / value):
# both must flag the same parameter path.
SHARED_MISTAKES = [
    ("GetMetricStatistics", _statistics_request(Period=0), "Period"),
    ("GetMetricStatistics", _statistics_request(Period="60"), "Period"),
    ("GetMetricStatistics", _statistics_request(Namespace=""), "Namespace"),
    ("GetMetricStatistics", _statistics_request(MetricName=None), "MetricName"),
    ("GetMetricStatistics", _statistics_request(Dimensions=[{"Name": "EndpointName"}]), "Dimensions[0].Value"),
    ("GetMetricStatistics", _statistics_request(Statistic=["Sum"]), "Statistic"),
    ("GetMetricStatistics", _statistics_request(Statistics=[]), "Statistics"),
    ("GetMetricStatistics", _statistics_request(StartTime="yesterday"), "StartTime"),
    ("GetMetricData", _data_request(Id=""), "MetricDataQueries[0].Id"),
    ("GetMetricData", _data_request(MetricStat={"Metric": {}, "Stat": "p99"}), "MetricDataQueries[0].MetricStat.Period"),
    ("GetMetricData", _data_request(ReturnData="yes"), "MetricDataQueries[0].ReturnData"),
    ("ListMetrics", {"Dimensions": [{"Value": "ep"}]}, "Dimensions[0].Name"),
    ("ListMetrics", {"Namespace": 3}, "Namespace"),
]

# Mistakes only CloudWatch itself (server side) refuses: enumerations, maxima, CloudWatch rules.
SERVER_MISTAKES = [
    ("GetMetricStatistics", _statistics_request(Statistics=["Total"]), "Statistics[0]"),
    ("GetMetricStatistics", _statistics_request(Unit="Microsecond"), "Unit"),
    ("GetMetricStatistics", _statistics_request(Statistics=None, ExtendedStatistics=[f"p{i}" for i in range(11)]),
     "ExtendedStatistics"),
    ("GetMetricStatistics", _statistics_request(ExtendedStatistics=["p99"]), "ExtendedStatistics"),
    ("GetMetricStatistics", _statistics_request(Statistics=None), "Statistics"),
    ("GetMetricStatistics", _statistics_request(Period=45), "Period"),
    ("GetMetricStatistics", _statistics_request(Statistics=None, ExtendedStatistics=["P99"]), "ExtendedStatistics[0]"),
    ("GetMetricStatistics", _statistics_request(Statistics=None, ExtendedStatistics=["Sum"]), "ExtendedStatistics[0]"),
    ("GetMetricStatistics", _statistics_request(EndTime="2026-01-05T09:00:00Z"), "StartTime"),
    ("GetMetricStatistics", _statistics_request(Namespace=":x"), "Namespace"),
    ("GetMetricStatistics", _statistics_request(Dimensions=DIMS + DIMS[:1]), "Dimensions"),
    ("GetMetricData", _data_request(Id="M1"), "MetricDataQueries[0].Id"),
    ("GetMetricData", _data_request(Id="m-1"), "MetricDataQueries[0].Id"),
    ("GetMetricData", _data_request(Expression="SUM(METRICS())", MetricStat=None), "MetricDataQueries[0].Expression"),
    ("GetMetricData", _data_request(MetricStat={"Metric": {"Namespace": "AWS/SageMaker"}, "Period": 60,
                                                "Stat": "p99"}), "MetricDataQueries[0].MetricStat.Metric.MetricName"),
    ("GetMetricData", _data_request(MetricStat={"Metric": {"Namespace": "AWS/SageMaker", "MetricName": "M"},
                                                "Period": 60, "Stat": "TM(90%:10%)"}),
     "MetricDataQueries[0].MetricStat.Stat"),
    ("GetMetricData", {**_data_request(), "MetricDataQueries": []}, "MetricDataQueries"),
    ("GetMetricData", {**_data_request(), "ScanBy": "Newest"}, "ScanBy"),
    ("GetMetricData", {**_data_request(), "MaxDatapoints": 0}, "MaxDatapoints"),
    ("ListMetrics", {"Dimensions": [{"Name": f"d{i}"} for i in range(11)]}, "Dimensions"),
    ("ListMetrics", {"RecentlyActive": "PT1H"}, "RecentlyActive"),
]


def _problem_keys(operation, request):
    with pytest.raises(InputError) as raised:
        PARSERS[operation](request)
    for problem in raised.value.problems:
        assert problem.file == operation and "\n" not in problem.message
    return [p.key for p in raised.value.problems]


@pytest.mark.parametrize("operation, request_, key", SHARED_MISTAKES, ids=[m[2] for m in SHARED_MISTAKES])
def test_shape_mistakes_are_flagged_like_botocore_does(operation, request_, key):
    report = ParamValidator().validate(request_, MODEL.operation_model(operation).input_shape)
    assert report.has_errors() and key.split("[")[0].split(".")[0] in report.generate_report()
    assert key in _problem_keys(operation, request_)


@pytest.mark.parametrize("operation, request_, key", SERVER_MISTAKES, ids=[m[2] for m in SERVER_MISTAKES])
def test_cloudwatch_rules_are_enforced(operation, request_, key):
    assert key in _problem_keys(operation, request_)


@pytest.mark.parametrize("operation, request_", [
    ("GetMetricStatistics", _statistics_request()),
    ("GetMetricStatistics", _statistics_request(Statistics=None, ExtendedStatistics=["p99.9", "TM(10%:90%)", "IQM"])),
    ("GetMetricData", _data_request(Label="latency", ReturnData=False)),
    ("ListMetrics", {"Namespace": "AWS/SageMaker", "Dimensions": [{"Name": "EndpointName"}], "RecentlyActive": "PT3H"}),
    ("ListMetrics", {}),
])
def test_valid_requests_pass_both_validators(operation, request_):
    assert not ParamValidator().validate(request_, MODEL.operation_model(operation).input_shape).has_errors()
    PARSERS[operation](request_)


def test_every_problem_is_reported_on_its_own_line():
    request = _statistics_request(Period=45, Unit="Bogus", Statistics=None)
    with pytest.raises(InputError) as raised:
        parse_get_metric_statistics(request)
    lines = str(raised.value).splitlines()
    assert len(lines) == 3
    assert {line.split(":")[1].strip() for line in lines} == {"Unit", "Period", "Statistics"}


@pytest.mark.parametrize("text, expected", [
    ("2026-01-05T09:00:00Z", START_S * 1000),
    ("2026-01-05T10:00:00+01:00", START_S * 1000),
    ("2026-01-05T09:00:00", START_S * 1000),
    ("2026-01-05T09:00:00.250Z", START_S * 1000 + 250),
    ("2026-01-05", (START_S - 9 * 3600) * 1000),
    ("1767603600", START_S * 1000),
    (1767603600, START_S * 1000),
    (1767603600.5, START_S * 1000 + 500),
    (dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc), START_S * 1000),
    (dt.datetime(2026, 1, 5, 9), START_S * 1000),
])
def test_timestamps_are_read_like_the_aws_cli(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01", True, None, float("nan"), [1]])
def test_bad_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_python_api_raises_one_line_input_errors(tmp_path):
    rng = np.random.default_rng(5)
    run = RunMetrics.open(write_run(tmp_path / "run", [latency_stream(rng)]))
    dims = {"EndpointName": "ep", "VariantName": "A"}
    cases = [
        dict(metric_name="ModelLatancy", period=60, statistics=["Sum"]),
        dict(metric_name="ModelLatency", period=90, statistics=["Sum"]),
        dict(metric_name="ModelLatency", period=60, statistics=["Sum"], extended_statistics=["p99"]),
        dict(metric_name="ModelLatency", period=1, statistics=["Sum"]),           # 3600 > 1440 datapoints
        dict(metric_name="ModelLatency", period=60, statistics=["Sum"], start_time="soon"),
    ]
    for case in cases:
        with pytest.raises(InputError) as raised:
            run.get_metric_statistics("AWS/SageMaker", dimensions=dims, **case)
        assert len(str(raised.value).splitlines()) == 1, case
    with pytest.raises(InputError, match="not supported"):
        run.get_metric_data([{"Id": "e1", "Expression": "SUM(METRICS())"}])
