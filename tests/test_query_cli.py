"""`simfleet metrics RUN_DIR …`: AWS CLI commands pasted with the prefix swapped, JSON/CSV/EMF output,
and every bad query refused with one `error:` line and exit 3 (usage mistakes: exit 2)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE
from simfleet.query import RunMetrics
from reference_statistics import naive_statistic
from stored_runs import START_S, Stream, latency_stream, write_run

DIMS = ["Name=EndpointName,Value=ep", "Name=VariantName,Value=A"]
STATS = ["get-metric-statistics", "--namespace", "AWS/SageMaker", "--metric-name", "ModelLatency",
         "--dimensions", *DIMS]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    rng = np.random.default_rng(31)
    streams = [latency_stream(rng, n=3000),
               Stream("ConcurrentRequestsPerModel", {"EndpointName": "ep", "VariantName": "A"},
                      START_S + rng.uniform(0, 3600, 3000), rng.integers(0, 6, 3000).astype(float),
                      unit="None", period_s=10)]
    return write_run(tmp_path_factory.mktemp("cli") / "run", streams), streams


def invoke(*args):
    return CliRunner().invoke(app, ["metrics", *[str(a) for a in args]])


def _ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_get_metric_statistics_as_pasted_from_the_aws_cli(run_dir):
    path, streams = run_dir
    out = _ok(invoke(path, *STATS, "--start-time", "2026-01-05T09:00:00Z", "--end-time", "2026-01-05T10:00:00Z",
                     "--period", "300", "--statistics", "Sum", "Average"))
    response = json.loads(out)
    assert out.startswith('{\n    "Label"')                               # 4-space indent like the AWS CLI
    stream = streams[0]
    for point in response["Datapoints"]:
        start = int(pd.Timestamp(point["Timestamp"]).timestamp())
        raw = stream.values[(stream.times_s >= start) & (stream.times_s < start + 300)]
        assert math.isclose(point["Sum"], raw.sum(), rel_tol=1e-12)
        assert math.isclose(point["Average"], raw.mean(), rel_tol=1e-12)
    assert len(response["Datapoints"]) == 12


def test_equals_form_json_lists_and_default_window(run_dir):
    path, _ = run_dir
    spaced = json.loads(_ok(invoke(path, *STATS, "--period", "600", "--extended-statistics", "p99", "tm90")))
    equals = json.loads(_ok(invoke(path, "get-metric-statistics", "--namespace=AWS/SageMaker",
                                   "--metric-name=ModelLatency",
                                   '--dimensions=[{"Name": "EndpointName", "Value": "ep"}, '
                                   '{"Name": "VariantName", "Value": "A"}]',
                                   "--period=600", '--extended-statistics=["p99", "tm90"]')))
    assert spaced == equals and len(spaced["Datapoints"]) == 6


def test_get_metric_data_from_a_file_with_pagination(run_dir, tmp_path):
    path, streams = run_dir
    queries = [{"Id": "conc", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker",
                                                       "MetricName": "ConcurrentRequestsPerModel",
                                                       "Dimensions": [{"Name": "EndpointName", "Value": "ep"},
                                                                      {"Name": "VariantName", "Value": "A"}]},
                                            "Period": 60, "Stat": "Maximum"}}]
    (tmp_path / "q.json").write_text(json.dumps(queries))
    first = json.loads(_ok(invoke(path, "get-metric-data", "--metric-data-queries", f"file://{tmp_path / 'q.json'}",
                                  "--scan-by", "TimestampAscending", "--max-datapoints", "50")))
    second = json.loads(_ok(invoke(path, "get-metric-data", "--metric-data-queries", json.dumps(queries),
                                   "--scan-by", "TimestampAscending", "--max-datapoints", "50",
                                   "--next-token", first["NextToken"])))
    values = first["MetricDataResults"][0]["Values"] + second["MetricDataResults"][0]["Values"]
    assert first["MetricDataResults"][0]["StatusCode"] == "PartialData" and "NextToken" not in second
    stream = streams[1]
    minutes = (stream.times_s - START_S) // 60
    assert values == [naive_statistic(stream.values[minutes == m], "Maximum") for m in range(60)]


def test_csv_output_is_the_long_form_of_the_json(run_dir):
    path, _ = run_dir
    args = [path, *STATS, "--period", "900", "--extended-statistics", "p50", "IQM"]
    response = json.loads(_ok(invoke(*args)))
    table = pd.read_csv(io.StringIO(_ok(invoke(*args, "--output", "csv"))))
    assert list(table.columns) == ["timestamp", "id", "label", "stat", "value", "unit"]
    expected = [(p["Timestamp"], stat, value) for p in response["Datapoints"]
                for stat, value in p["ExtendedStatistics"].items()]
    assert list(zip(table["timestamp"], table["stat"], table["value"])) == expected
    frame = RunMetrics.open(path).get_metric_statistics(
        "AWS/SageMaker", "ModelLatency", {"EndpointName": "ep", "VariantName": "A"}, period=900,
        extended_statistics=["p50", "IQM"])
    assert frame["value"].tolist() == table["value"].tolist()


def test_list_metrics_and_emf_output(run_dir):
    path, _ = run_dir
    listed = json.loads(_ok(invoke(path, "list-metrics", "--dimensions", "Name=VariantName")))
    assert sorted(m["MetricName"] for m in listed["Metrics"]) == ["ConcurrentRequestsPerModel", "ModelLatency"]
    table = pd.read_csv(io.StringIO(_ok(invoke(path, "list-metrics", "--output", "csv"))))
    assert sorted(table["metric_name"]) == ["ConcurrentRequestsPerModel", "ModelLatency"]
    lines = _ok(invoke(path, *STATS, "--period", "60", "--statistics", "SampleCount", "--start-time",
                       "2026-01-05T09:00:00Z", "--end-time", "2026-01-05T09:02:00Z", "--output", "emf")).splitlines()
    events = [json.loads(line) for line in lines]
    assert {e["_aws"]["Timestamp"] for e in events} == {START_S * 1000, (START_S + 60) * 1000}


def test_help_lists_the_aws_option_names(run_dir):
    path, _ = run_dir
    out = _ok(invoke(path, "get-metric-statistics", "--help"))
    for option in ("--namespace", "--metric-name", "--dimensions", "--start-time", "--end-time", "--period",
                   "--statistics", "--extended-statistics", "--unit", "--output"):
        assert option in out
    assert "list-metrics" in _ok(invoke("--help"))


def _error(result, code):
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


BAD_QUERIES = {
    "unknown metric": ([*STATS[:4], "ModelLatancy", "--dimensions", *DIMS, "--period", "60", "--statistics", "Sum"],
                       "did you mean 'ModelLatency'"),
    "unknown namespace": (["get-metric-statistics", "--namespace", "AWS/SageMakr", "--metric-name", "ModelLatency",
                           "--period", "60", "--statistics", "Sum"], "namespace"),
    "period not a multiple of the stored one": (
        ["get-metric-statistics", "--namespace", "AWS/SageMaker", "--metric-name", "ConcurrentRequestsPerModel",
         "--dimensions", *DIMS, "--period", "5", "--statistics", "Maximum"], "stored period 10 s"),
    "period not a CloudWatch period": ([*STATS, "--period", "90", "--statistics", "Sum"], "multiple of 60"),
    "period not a number": ([*STATS, "--period", "5m", "--statistics", "Sum"], "integer"),
    "more than 1440 datapoints": ([*STATS, "--period", "1", "--statistics", "Sum"], "1,440"),
    "more than 10 extended statistics": ([*STATS, "--period", "60", "--extended-statistics",
                                          *[f"p{i}" for i in range(11)]], "at most 10"),
    "statistics and extended statistics": ([*STATS, "--period", "60", "--statistics", "Sum",
                                            "--extended-statistics", "p99"], "cannot both"),
    "neither statistics nor extended": ([*STATS, "--period", "60"], "Statistics or ExtendedStatistics"),
    "bad statistic": ([*STATS, "--period", "60", "--extended-statistics", "p101"], "p101"),
    "bad start time": ([*STATS, "--period", "60", "--statistics", "Sum", "--start-time", "9am"], "--start-time"),
    "end before start": ([*STATS, "--period", "60", "--statistics", "Sum", "--start-time", "2026-01-05T10:00:00Z",
                          "--end-time", "2026-01-05T09:00:00Z"], "earlier"),
    "bad dimensions syntax": ([*STATS[:5], "--dimensions", "EndpointName=ep", "--period", "60",
                               "--statistics", "Sum"], "Name=NAME,Value=VALUE"),
    "dimension set not published": ([*STATS[:5], "--dimensions", DIMS[0], "--period", "60",
                                     "--statistics", "Sum"], "exact dimension set"),
    "bad unit": ([*STATS, "--period", "60", "--statistics", "Sum", "--unit", "Microsecond"], "--unit"),
    "bad query id": (["get-metric-data", "--metric-data-queries",
                      '[{"Id": "Q1", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": '
                      '"ModelLatency"}, "Period": 60, "Stat": "Sum"}}]'], "[0].Id"),
    "expression": (["get-metric-data", "--metric-data-queries", '[{"Id": "e1", "Expression": "SUM(METRICS())"}]'],
                   "not supported"),
    "queries not json": (["get-metric-data", "--metric-data-queries", "[{Id: m1}]"], "invalid JSON"),
    "queries file missing": (["get-metric-data", "--metric-data-queries", "file:///nonexistent/q.json"],
                             "cannot read"),
    "bad next token": (["get-metric-data", "--metric-data-queries",
                        '[{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "AWS/SageMaker", "MetricName": '
                        '"ModelLatency", "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, '
                        '{"Name": "VariantName", "Value": "A"}]}, "Period": 60, "Stat": "Sum"}}]',
                        "--next-token", "abc"], "--next-token"),
    "bad scan-by": (["get-metric-data", "--metric-data-queries", "[]", "--scan-by", "Newest"], "--scan-by"),
}


@pytest.mark.parametrize("name", sorted(BAD_QUERIES))
def test_bad_queries_give_one_line_and_exit_3(run_dir, name):
    path, _ = run_dir
    args, fragment = BAD_QUERIES[name]
    result = invoke(path, *args)
    if name == "bad scan-by":                         # two problems, one line each
        assert result.exit_code == EXIT_INVALID_INPUT and len(result.stderr.splitlines()) == 2
        assert fragment in result.stderr
        return
    assert fragment in _error(result, EXIT_INVALID_INPUT)


@pytest.mark.parametrize("case", ["missing", "no-values"])
def test_bad_run_directories_exit_3(tmp_path, case):
    path = tmp_path / "run"
    if case == "no-values":
        write_run(path, [latency_stream(np.random.default_rng(1))], values_file=False)
    line = _error(invoke(path, "list-metrics"), EXIT_INVALID_INPUT)
    assert str(path) in line and ("not found" if case == "missing" else "metric_values.parquet") in line


@pytest.mark.parametrize("args, fragment", [
    ([*STATS, "--statistics", "Sum"], "missing required option --period"),
    ([*STATS, "--period", "60", "--statistics", "Sum", "--bogus"], "unknown option --bogus"),
    ([*STATS, "--period", "60", "--statistcs", "Sum"], "did you mean --statistics"),
    ([*STATS, "--period", "60", "120", "--statistics", "Sum"], "takes one value"),
    ([*STATS, "--period", "--statistics", "Sum"], "--period needs a value"),
    ([*STATS, "--period", "60", "--statistics", "Sum", "--output", "yaml"], "--output"),
    (["get-metric-data"], "missing required option --metric-data-queries"),
])
def test_usage_mistakes_exit_2(run_dir, args, fragment):
    path, _ = run_dir
    assert fragment in _error(invoke(path, *args), EXIT_USAGE)
