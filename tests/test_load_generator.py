"""The Inference Recommender load generator's metrics, alarms on them, and runs a watcher ends early.

Every client datapoint is recomputed here from the per-request trace (`requests_sink`) by a naive
implementation of the documented rules (simfleet/metrics/load_generator.py), written without
`simfleet.metrics`: a request of a driven endpoint counts in the period [start, start + period)
holding its response (responses at or after the end of the run are never published);
ClientInvocations is 1 per such request, ClientInvocationErrors 1 per failed one (no datapoint
without failures), ClientLatency (response - arrival) in ms; NumberOfUsers is the user schedule
evaluated at every `concurrency_sample_interval` of the period (a change at t counts from t on).

The watcher part checks that ending a run at a tick T is the run of duration T: same metrics,
metric values and summary (billing and Little's law included), `RunEnd` marked `ended_by`.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_statistics import nearest_rank_value
from small_experiments import MODELS, base_experiment, scenario
from simfleet.engine.simulation import simulate
from simfleet.errors import InputError
from simfleet.metrics.run_totals import RunTotals
from simfleet.request_records import MODEL_ERROR, OK, PAYLOAD_TOO_LARGE
from simfleet.request_records import RequestRecords
from simfleet.scenario import load_experiment

NS = "/aws/sagemaker/InferenceRecommendationsJobs"
CLIENT_METRICS = ("ClientInvocations", "ClientInvocationErrors", "ClientLatency", "NumberOfUsers")
START = pd.Timestamp("2026-01-05T09:00:00Z")
JOB_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$"
OTHER_DIMENSIONS = ("VariantName", "ContainerName", "InstanceId", "InferenceComponentName", "ContainerId",
                    "AcceleratorId")


# ---------------------------------------------------------------------------------------------
# helpers


def _variant(name="A", count=1, **extra) -> dict:
    return {"variant_name": name, "model_name": "toy", "instance_type": "ml.c5.xlarge",
            "initial_instance_count": count, **extra}


def _seconds(text: str) -> float:
    """'92.3s' -> 92.3 (the schedules here are written in seconds only)."""
    assert text.endswith("s") and not text.endswith("ms"), text
    return float(text[:-1])


def _run(raw, **kwargs):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append, **kwargs)
    return result, (RequestRecords.concat(parts) if parts else RequestRecords.empty())


def _frame(result) -> pd.DataFrame:
    frame = result.metrics.to_pandas()
    frame["start_s"] = (frame.timestamp - START).dt.total_seconds().round().astype(int)
    return frame


def _null(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _variant_indices(result, endpoint: str) -> list[int]:
    return [v.index for v in result.fleet.variants if v.endpoint_name == endpoint]


def naive_client(records: RequestRecords, variants: list[int], period: int, duration: float) -> dict:
    """{(metric, period start s): raw values} of ClientInvocations, ClientInvocationErrors, ClientLatency."""
    out: dict = {}
    mine = np.isin(records.variant, variants) & (records.response_s < duration)
    response, arrival, status = records.response_s[mine], records.arrival_s[mine], records.status[mine]
    starts = (np.floor(response / period) * period).astype(np.int64)
    for start in sorted(set(starts.tolist())):
        here = starts == start
        out[("ClientInvocations", start)] = np.ones(int(here.sum()))
        out[("ClientLatency", start)] = (response[here] - arrival[here]) * 1e3
        failures = int((status[here] != OK).sum())
        if failures:
            out[("ClientInvocationErrors", start)] = np.ones(failures)
    return out


def naive_users(schedule: list, period: int, interval: float, duration: float) -> dict:
    """{period start s: users at each sampling instant} for a [[time, users], ...] schedule in seconds."""
    knots = [(_seconds(t), n) for t, n in schedule]
    out = {}
    for start in range(0, int(duration), period):
        instants = np.arange(start, start + period, interval)
        assert len(instants) == round(period / interval)
        values = []
        for instant in instants:
            current = 0
            for time, users in knots:
                if time <= instant:
                    current = users
            values.append(float(current))
        out[start] = np.array(values)
    return out


def client_rows(frame: pd.DataFrame, job: str, metrics=CLIENT_METRICS) -> dict:
    """{(metric, start s): row} of one job's datapoints; each (metric, start) must be unique."""
    rows = frame[(frame.namespace == NS) & (frame.JobName == job) & frame.metric_name.isin(metrics)]
    keyed = {(r.metric_name, int(r.start_s)): r for r in rows.itertuples()}
    assert len(keyed) == len(rows), "one datapoint per metric and period"
    return keyed


def assert_client_metrics_match(frame, records, result, job: str, endpoint: str, period: int, duration: float):
    expected = naive_client(records, _variant_indices(result, endpoint), period, duration)
    emitted = client_rows(frame, job, ("ClientInvocations", "ClientInvocationErrors", "ClientLatency"))
    assert set(emitted) == set(expected), sorted(set(emitted) ^ set(expected))[:10]
    for key, values in expected.items():
        row = emitted[key]
        assert row.EndpointName == endpoint and row.period_s == period, key
        assert row.unit == ("Milliseconds" if key[0] == "ClientLatency" else "None"), key
        assert row.sample_count == len(values), key
        assert row.sum == pytest.approx(values.sum(), rel=1e-12, abs=1e-9), key
        assert row.minimum == values.min() and row.maximum == values.max(), key
        assert row.average == pytest.approx(values.sum() / len(values), rel=1e-12), key
    return expected


# ---------------------------------------------------------------------------------------------
# the client metrics against the trace


SCHEDULE = [["0s", 3], ["70s", 6], ["110s", 0], ["250s", 2]]  # nobody sends in [110 s, 250 s)


def four_endpoints(duration="5min", seed=3) -> dict:
    """ep: job-a's users (some payloads over 6 MiB, variant B has model errors); ep2: open loop;
    ep3: users without a job; ep4: job-b's users that never fail."""
    raw = base_experiment(duration=duration, seed=seed)
    raw["endpoints"] = [
        {"endpoint_name": "ep", "production_variants": [_variant("A", 2), _variant("B", 1, model_error_rate=0.05)]},
        {"endpoint_name": "ep2", "production_variants": [_variant("A", 1)]},
        {"endpoint_name": "ep3", "production_variants": [_variant("A", 1)]},
        {"endpoint_name": "ep4", "production_variants": [_variant("A", 1)]},
    ]
    raw["traffic"] = [
        {"kind": "users", "endpoint_name": "ep", "schedule": SCHEDULE, "job_name": "job-a",
         "payload": {"kind": "lognormal", "median": "4 MB", "sigma": 0.5},
         "think_time": {"kind": "exponential", "mean": "20ms"}},
        {"kind": "poisson", "endpoint_name": "ep2", "rate": 40},
        {"kind": "users", "endpoint_name": "ep3", "users": 2, "think_time": {"kind": "constant", "value": "30ms"}},
        {"kind": "users", "endpoint_name": "ep4", "users": 1, "job_name": "job-b",
         "think_time": {"kind": "constant", "value": "50ms"}},
    ]
    return raw


@pytest.fixture(scope="module")
def four():
    raw = four_endpoints()
    result, records = _run(raw)
    return raw, result, records, _frame(result)


def test_client_invocations_latency_and_errors_equal_the_trace(four):
    raw, result, records, frame = four
    duration = 300.0
    expected = assert_client_metrics_match(frame, records, result, "job-a", "ep", 60, duration)
    # the scenario does what it is meant to: both kinds of failure, and silent periods
    ep = np.isin(records.variant, _variant_indices(result, "ep"))
    assert {PAYLOAD_TOO_LARGE, MODEL_ERROR} <= set(np.unique(records.status[ep]).tolist())
    assert ("ClientInvocationErrors", 0) in expected
    for start in (120, 180):  # no user from 110 s to 250 s: no request datapoint at all
        assert not any(k[1] == start for k in expected)
    assert ("ClientInvocations", 240) in expected


def test_a_generator_without_failures_publishes_no_error_datapoints(four):
    raw, result, records, frame = four
    expected = assert_client_metrics_match(frame, records, result, "job-b", "ep4", 60, 300.0)
    assert [k for k in expected if k[0] == "ClientInvocations"] == [("ClientInvocations", s) for s in range(0, 300, 60)]
    assert not any(k[0] == "ClientInvocationErrors" for k in expected)
    assert not (frame.metric_name == "ClientInvocationErrors").loc[frame.JobName == "job-b"].any()


def test_number_of_users_is_the_schedule_at_the_sampling_instants(four):
    raw, result, records, frame = four
    for job, schedule in (("job-a", SCHEDULE), ("job-b", [["0s", 1]])):
        expected = naive_users(schedule, 60, 1.0, 300.0)
        emitted = client_rows(frame, job, ("NumberOfUsers",))
        assert set(emitted) == {("NumberOfUsers", s) for s in expected}
        for start, values in expected.items():
            row = emitted[("NumberOfUsers", start)]
            assert row.unit == "None" and row.period_s == 60
            assert row.sample_count == len(values) and row.sum == values.sum()
            assert (row.minimum, row.maximum) == (values.min(), values.max())
            assert row.average == pytest.approx(values.mean(), rel=1e-12)


def test_other_endpoints_and_other_namespaces_stay_out(four):
    raw, result, records, frame = four
    mine = frame[frame.namespace == NS]
    assert set(mine.EndpointName) == {"ep", "ep4"}
    assert set(zip(mine.JobName, mine.EndpointName)) == {("job-a", "ep"), ("job-b", "ep4")}
    assert set(mine.metric_name) == set(CLIENT_METRICS)
    for name in OTHER_DIMENSIONS:
        assert mine[name].map(_null).all(), name
    others = frame[frame.namespace != NS]
    assert len(others) and others.JobName.map(_null).all()
    # ep2 and ep3 have traffic (and metrics of their own), but the generators count none of it
    for endpoint in ("ep2", "ep3"):
        assert np.isin(records.variant, _variant_indices(result, endpoint)).sum() > 100
        assert (others.EndpointName == endpoint).any()
    # the client's invocation count of ep equals the endpoint's own Invocations (rejected ones included)
    invocations = others[(others.metric_name == "Invocations") & (others.EndpointName == "ep")
                         & others.InstanceId.map(_null)].groupby("start_s")["sum"].sum()
    client = mine[(mine.metric_name == "ClientInvocations") & (mine.EndpointName == "ep")].set_index("start_s")["sum"]
    pd.testing.assert_series_equal(invocations.sort_index(), client.sort_index(), check_names=False)
    # the metric_values rows follow the metrics rows one for one
    values = result.metric_values.to_pandas()
    assert len(values) == len(frame)
    assert (values.JobName.map(_null) == frame.JobName.map(_null)).all()


def test_metric_values_hold_the_raw_client_values(four):
    raw, result, records, frame = four
    values = result.metric_values.to_pandas()
    values["start_s"] = (values.timestamp - START).dt.total_seconds().round().astype(int)
    users = naive_users(SCHEDULE, 60, 1.0, 300.0)
    latencies = {job: naive_client(records, _variant_indices(result, endpoint), 60, 300.0)
                 for job, endpoint in (("job-a", "ep"), ("job-b", "ep4"))}
    for row in values[values.namespace == NS].itertuples():
        if row.metric_name == "NumberOfUsers" and row.JobName == "job-a":
            distinct, counts = np.unique(users[row.start_s], return_counts=True)
            assert row.exact and list(row.values) == distinct.tolist() and list(row.counts) == counts.tolist()
        elif row.metric_name in ("ClientInvocations", "ClientInvocationErrors"):
            assert list(row.values) == [1.0] and row.exact
        elif row.metric_name == "ClientLatency":
            latency = latencies[row.JobName][("ClientLatency", row.start_s)]
            assert sum(row.counts) == len(latency)
            if row.exact:
                distinct, counts = np.unique(latency, return_counts=True)
                np.testing.assert_allclose(row.values, distinct, rtol=1e-12)
                assert list(row.counts) == counts.tolist()


def test_refused_requests_count_for_the_client_whatever_the_endpoint_metrics_include():
    raw = base_experiment(duration="2min", seed=5)
    raw["metrics"]["invocations_include_rejected"] = False
    raw["traffic"] = [{"kind": "users", "users": 3, "job_name": "ir-1",
                       "payload": {"kind": "lognormal", "median": "4 MB", "sigma": 0.5}}]
    result, records = _run(raw)
    frame = _frame(result)
    expected = assert_client_metrics_match(frame, records, result, "ir-1", "ep", 60, 120.0)
    refused = (records.status == PAYLOAD_TOO_LARGE) & (records.response_s < 120.0)
    assert refused.sum() > 10
    invocations = frame[(frame.namespace == "AWS/SageMaker") & (frame.metric_name == "Invocations")]
    client = sum(v.sum() for k, v in expected.items() if k[0] == "ClientInvocations")
    assert invocations["sum"].sum() == client - refused.sum()


def test_high_resolution_publishes_every_second():
    raw = base_experiment(duration="40s", seed=11)
    raw["metrics"].update(high_resolution=True, concurrency_sample_interval="0.5s")
    raw["endpoints"][0]["production_variants"][0]["model_error_rate"] = 0.1
    schedule = [["0s", 1], ["10.25s", 3], ["17.5s", 0], ["22s", 2], ["100s", 5]]
    raw["traffic"] = [{"kind": "users", "schedule": schedule, "job_name": "hr",
                       "think_time": {"kind": "exponential", "mean": "400ms"}}]
    result, records = _run(raw)
    frame = _frame(result)
    mine = frame[frame.namespace == NS]
    assert set(mine.period_s) == {1}
    expected = assert_client_metrics_match(frame, records, result, "hr", "ep", 1, 40.0)
    seconds_with_responses = {s for m, s in expected if m == "ClientInvocations"}
    seconds_with_errors = {s for m, s in expected if m == "ClientInvocationErrors"}
    assert seconds_with_errors and seconds_with_responses - seconds_with_errors, "both kinds of second occur"
    users = naive_users(schedule, 1, 0.5, 40.0)
    emitted = client_rows(frame, "hr", ("NumberOfUsers",))
    assert set(emitted) == {("NumberOfUsers", s) for s in range(40)}
    for start, values in users.items():
        row = emitted[("NumberOfUsers", start)]
        assert (row.sample_count, row.minimum, row.maximum, row.sum) == (2, values.min(), values.max(), values.sum())
    # with few distinct latencies per second, the percentiles are the exact nearest-rank ones
    for (metric, start), values in expected.items():
        if metric == "ClientLatency":
            row = client_rows(frame, "hr", ("ClientLatency",))[(metric, start)]
            for p in raw["metrics"]["percentiles"]:
                assert getattr(row, f"p{p}") == nearest_rank_value(values, p)


def test_number_of_users_sampling_every_five_seconds_sees_knots_between_samples():
    raw = base_experiment(duration="3min", seed=2)
    raw["metrics"]["concurrency_sample_interval"] = "5s"
    schedule = [["0s", 0], ["6s", 4], ["7s", 1], ["64.9s", 2], ["65s", 7], ["131.5s", 3], ["132s", 0],
                ["179.99s", 9]]
    raw["traffic"] = [{"kind": "users", "schedule": schedule, "job_name": "s5",
                       "think_time": {"kind": "constant", "value": "100ms"}}]
    result, _ = _run(raw)
    emitted = client_rows(_frame(result), "s5", ("NumberOfUsers",))
    expected = naive_users(schedule, 60, 5.0, 180.0)
    assert set(emitted) == {("NumberOfUsers", s) for s in expected}
    for start, values in expected.items():
        row = emitted[("NumberOfUsers", start)]
        assert row.sample_count == 12
        assert (row.minimum, row.maximum, row.sum) == (values.min(), values.max(), values.sum())
    # the users of 6 s to 7 s, 64.9 s to 65 s, 131.5 s to 132 s and after 179.99 s fall between samples:
    # never seen; a knot on a sampling instant (65 s) is seen from that instant on
    assert [emitted[("NumberOfUsers", s)].maximum for s in (0, 60, 120)] == [1, 7, 7]
    assert emitted[("NumberOfUsers", 60)].minimum == 1 and emitted[("NumberOfUsers", 120)].minimum == 0


# ---------------------------------------------------------------------------------------------
# bad input


def _job_experiment(job_name, form: str) -> dict:
    raw = base_experiment()
    raw["endpoints"].append({"endpoint_name": "ep2", "production_variants": [_variant("A", 1)]})
    users = {"kind": "users", "endpoint_name": "ep2", "job_name": job_name}
    users.update({"users": 2} if form == "users" else {"schedule": [["0s", 2]]})
    raw["traffic"] = [{"kind": "poisson", "rate": 5, "endpoint_name": "ep"}, users]
    return raw


BAD_NAMES = ["-job", "job-", "job_1", "j.b", "", "a" * 65, "ünï"]

@pytest.mark.parametrize("form", ["schedule", "users"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_job_name_is_one_line_naming_its_key(name, form):
    assert not re.match(JOB_PATTERN, name), "test bug: the name is valid"
    with pytest.raises(InputError) as caught:
        scenario(_job_experiment(name, form))
    [problem] = caught.value.problems
    assert problem.key == "traffic[1].job_name", str(problem)
    assert "\n" not in str(problem) and "traffic[1].job_name" in str(problem)
    assert "pattern" in problem.message and repr(name) in problem.message


@pytest.mark.parametrize("name", ["a", "job--1", "A1-b2", "a" * 64, "0"])
def test_good_job_names_load(name):
    assert re.match(JOB_PATTERN, name), "test bug: the name is invalid"
    sc = scenario(_job_experiment(name, "schedule"))
    assert sc.experiment.traffic[1].job_name == name


TOML = """\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]
kind = "users"
{users}
job_name = "load_test"
"""


@pytest.mark.parametrize("users", ["schedule = [[\"0s\", 2]]", "users = 2"])
def test_a_bad_job_name_in_toml_points_at_its_line(tmp_path, users):
    shutil.copytree(MODELS, tmp_path / "models")
    text = TOML.format(users=users)
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.key) == (str(path), "traffic[0].job_name"), str(problem)
    assert problem.line == text.splitlines().index('job_name = "load_test"') + 1
    assert len(str(problem).splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# alarms on the client metrics


RID = "endpoint/ep/variant/A"


def _alarm_experiment(job="job-a", alarm_job="job-a", alarm_endpoint="ep", threshold=1.0, duration="3min") -> dict:
    raw = base_experiment(duration=duration, seed=4)
    raw["endpoints"].append({"endpoint_name": "ep2", "production_variants": [_variant("A", 1)]})
    users = {"kind": "users", "endpoint_name": "ep", "users": 4}
    if job is not None:
        users["job_name"] = job
    raw["traffic"] = [users, {"kind": "poisson", "endpoint_name": "ep2", "rate": 20}]
    raw["instances"] = {"provisioning_time": {"kind": "constant", "value": "30s"}}
    raw["autoscaling"] = {
        "targets": [{"ServiceNamespace": "sagemaker", "ResourceId": RID,
                     "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                     "MinCapacity": 1, "MaxCapacity": 4}],
        "policies": [{"PolicyName": "step", "ServiceNamespace": "sagemaker", "ResourceId": RID,
                      "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "PolicyType": "StepScaling",
                      "StepScalingPolicyConfiguration": {
                          "AdjustmentType": "ChangeInCapacity",
                          "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]}}],
        "alarms": [{"AlarmName": "slow", "AlarmActions": ["step"], "MetricName": "ClientLatency", "Namespace": NS,
                    "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": threshold,
                    "ComparisonOperator": "GreaterThanThreshold",
                    "Dimensions": [{"Name": "JobName", "Value": alarm_job},
                                   {"Name": "EndpointName", "Value": alarm_endpoint}]}],
    }
    return raw


def test_an_alarm_on_client_latency_reads_the_generator_datapoints():
    raw = _alarm_experiment()
    result, records = _run(raw)
    events = result.events.to_pandas()
    changes = events[events.event == "AlarmStateChange"]
    assert len(changes) >= 1
    first = changes.iloc[0]
    detail = json.loads(first.detail)
    assert first.time_s == 60.0 and detail["new_state"] == "ALARM"
    latency = naive_client(records, _variant_indices(result, "ep"), 60, 180.0)[("ClientLatency", 0)]
    assert detail["datapoints"][-1] == pytest.approx(latency.mean(), rel=1e-12)
    scaling = events[events.event == "ScalingActivity"]
    assert len(scaling) and json.loads(scaling.iloc[0].detail)["new_capacity"] == 3


@pytest.mark.parametrize("edit, fragment", [
    ({"alarm_job": "job-z"}, "JobName 'job-z' is not the load generator of ep (its users' job_name is 'job-a')"),
    ({"job": None}, "JobName 'job-a' is not the load generator of ep (no users with a job_name drive it)"),
    ({"alarm_endpoint": "ep2"}, "JobName 'job-a' is not the load generator of ep2"),
])
def test_an_alarm_on_a_job_that_does_not_drive_the_endpoint_is_refused(edit, fragment):
    with pytest.raises(InputError) as caught:
        scenario(_alarm_experiment(**edit))
    [problem] = caught.value.problems
    assert problem.key == "autoscaling.alarms[0].Dimensions"
    assert fragment in problem.message, problem.message
    assert len(str(problem).splitlines()) == 1


def test_a_client_alarm_period_must_be_whole_minutes():
    raw = _alarm_experiment()
    raw["autoscaling"]["alarms"][0]["Period"] = 30
    with pytest.raises(InputError) as caught:
        scenario(raw)
    [problem] = caught.value.problems
    assert problem.key == "autoscaling.alarms[0].Period" and "60 s" in problem.message
    raw["autoscaling"]["alarms"][0]["Period"] = 120
    scenario(raw)


# ---------------------------------------------------------------------------------------------
# the watcher


class StopAt:
    """Ends the run at the first tick at or after `stop_s` (never when None); records what it reads."""

    def __init__(self, stop_s: float | None):
        self.stop_s = stop_s
        self.datapoints: list = []
        self.ticks: list[float] = []

    def on_datapoint(self, timestamp, period_s, namespace, metric, dimensions, distribution) -> None:
        self.datapoints.append((timestamp, period_s, namespace, metric, dict(dimensions)))

    def on_tick(self, t: float) -> bool:
        self.ticks.append(t)
        return self.stop_s is not None and t >= self.stop_s


def _run_end(result) -> dict:
    events = result.events.to_pandas()
    [row] = events[events.event == "RunEnd"].itertuples()
    return {"time_s": row.time_s, **json.loads(row.detail)}


def _events(result, before: float = math.inf) -> pd.DataFrame:
    """The event log before `before`, without RunStart (which records the planned duration) and RunEnd."""
    events = result.events.to_pandas()
    return events[(events.time_s < before) & ~events.event.isin(["RunStart", "RunEnd"])].reset_index(drop=True)


def assert_same_run(watched, short, stop_s: float):
    assert watched.metrics.equals(short.metrics)
    assert watched.metric_values.equals(short.metric_values)
    assert watched.summary == short.summary
    assert watched.summary["duration_s"] == stop_s
    watched_end, short_end = _run_end(watched), _run_end(short)
    assert watched_end.pop("ended_by") == "watcher"
    assert "ended_by" not in short_end
    assert watched_end == short_end and watched_end["time_s"] == stop_s
    pd.testing.assert_frame_equal(_events(watched, stop_s), _events(short, stop_s))


@st.composite
def watched_experiments(draw):
    high = draw(st.booleans())
    duration = draw(st.sampled_from([180, 300]))
    raw = base_experiment(duration=f"{duration}s", seed=draw(st.integers(0, 2**31)))
    raw["metrics"]["high_resolution"] = high
    variant = raw["endpoints"][0]["production_variants"][0]
    variant["model_error_rate"] = draw(st.sampled_from([0.0, 0.05]))
    kind = draw(st.sampled_from(["poisson", "users"]))
    if kind == "poisson":
        raw["traffic"] = [{"kind": "poisson", "rate": draw(st.integers(5, 150)),
                           "payload": {"kind": "lognormal", "median": "4 MB", "sigma": 0.5}}]
    else:
        users = {"kind": "users", "job_name": "watched",
                 "think_time": {"kind": "exponential", "mean": f"{draw(st.integers(5, 80))}ms"},
                 "payload": {"kind": "lognormal", "median": "4 MB", "sigma": 0.5}}
        if draw(st.booleans()):
            users["users"] = draw(st.integers(1, 8))
        else:
            knots = sorted(draw(st.sets(st.integers(1, duration + 30), max_size=4)))
            users["schedule"] = [["0s", draw(st.integers(0, 8))]] + [[f"{k}s", draw(st.integers(0, 8))] for k in knots]
        raw["traffic"] = [users]
        if draw(st.booleans()):  # scaling on the client latency, with launches before the end
            raw.update({k: v for k, v in _alarm_experiment(job="watched", alarm_job="watched",
                                                           threshold=draw(st.sampled_from([5.0, 15.0]))).items()
                        if k in ("instances", "autoscaling")})
            if high:
                raw["autoscaling"]["alarms"][0]["Period"] = draw(st.sampled_from([10, 60]))
    step = 1 if high else 60
    stop = draw(st.integers(1, duration // step - 1)) * step
    return raw, stop


@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(watched_experiments())
def test_a_watcher_ending_the_run_at_t_gives_the_run_of_duration_t(case):
    raw, stop = case
    watcher = StopAt(stop)
    watched = simulate(scenario(raw), watcher=watcher)
    short_raw = copy.deepcopy(raw)
    short_raw["experiment"]["duration"] = f"{stop}s"
    short = simulate(scenario(short_raw))
    assert watcher.ticks[-1] == stop
    assert_same_run(watched, short, stop)
    # the watcher saw every datapoint of the run, in order, as it was published
    frame = watched.metrics.to_pandas()
    assert len(watcher.datapoints) == len(frame)
    for (timestamp, period, namespace, metric, dims), row in zip(watcher.datapoints, frame.itertuples()):
        assert (pd.Timestamp(timestamp), period, namespace, metric) == (row.timestamp, row.period_s, row.namespace,
                                                                        row.metric_name)
        assert all(getattr(row, name) == value for name, value in dims.items())


def test_a_watcher_that_never_stops_changes_nothing():
    raw = four_endpoints(duration="2min")
    watcher = StopAt(None)
    watched = simulate(scenario(raw), watcher=watcher)
    plain = simulate(scenario(raw))
    assert watched.metrics.equals(plain.metrics) and watched.metric_values.equals(plain.metric_values)
    assert watched.summary == plain.summary and watched.events.equals(plain.events)
    assert "ended_by" not in _run_end(watched)
    assert watcher.ticks[-1] == 120.0 and len(watcher.datapoints) == len(plain.metrics)


def test_stopping_at_the_last_tick_is_not_an_early_end():
    raw = base_experiment(duration="2min")
    watched = simulate(scenario(raw), watcher=StopAt(120))
    plain = simulate(scenario(raw))
    assert "ended_by" not in _run_end(watched)
    assert watched.summary == plain.summary and watched.events.equals(plain.events)


@pytest.mark.parametrize("case", ["user knot at T", "alarm at T"])
def test_the_event_log_of_a_watched_run_is_the_shorter_run(case):
    if case == "user knot at T":
        raw = base_experiment(duration="5min")
        raw["traffic"] = [{"kind": "users", "schedule": [["0s", 3], ["120s", 6]], "job_name": "j"}]
        stop = 120
    else:
        raw, stop = _alarm_experiment(duration="5min"), 60
    watched = simulate(scenario(raw), watcher=StopAt(stop))
    short_raw = copy.deepcopy(raw)
    short_raw["experiment"]["duration"] = f"{stop}s"
    short = simulate(scenario(short_raw))
    assert_same_run(watched, short, stop)  # metrics, values, summary and the events before T are equal
    pd.testing.assert_frame_equal(_events(watched), _events(short))
    assert watched.instance_ids == short.instance_ids


# ---------------------------------------------------------------------------------------------
# RunTotals.end_early


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.floats(1.0, 99.0))
def test_end_early_equals_totals_of_the_shorter_run(seed, n, end_s):
    """Requests sent before `end_s` (some answered after it, some after the full duration): clipping at
    `end_s` afterwards gives the Little's-law terms of a run that lasted `end_s` from the start."""
    rng = np.random.default_rng(seed)
    duration = 100.0
    arrival = np.sort(rng.uniform(0, end_s, n))
    response = arrival + rng.exponential(rng.choice([0.01, 5.0, 80.0]), n)
    records = RequestRecords(arrival_s=arrival, variant=np.zeros(n, np.int32), instance=np.zeros(n, np.int32),
                             status=np.where(rng.random(n) < 0.1, MODEL_ERROR, OK).astype(np.int8),
                             payload_bytes=np.full(n, 1000.0), service_s=response - arrival, start_s=arrival, complete_s=arrival,
                             model_latency_s=response - arrival, overhead_s=np.zeros(n), response_s=response,
                             active_instances=np.ones(n, np.int32),
                             container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16))
    full, short = RunTotals(1, duration), RunTotals(1, end_s)
    cut = rng.integers(0, n + 1)
    for part in (records.select(slice(0, cut)), records.select(slice(cut, n))):
        full.add(part)
        short.add(part)
    # the unfinished ones, plus (harmlessly) some answered before the end that were not published yet
    unfinished = records.select((response >= end_s) | (rng.random(n) < 0.3))
    full.end_early(end_s, unfinished)
    assert full.littles_law() == short.littles_law()
    in_window = np.sum(np.minimum(response, end_s) - arrival)
    # ExactSum rounds each sojourn to 1 ns
    assert full.littles_law()["mean_requests_in_system"] == pytest.approx(in_window / end_s, rel=1e-12,
                                                                           abs=n * 1e-9 / end_s)
