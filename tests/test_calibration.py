"""`simfleet calibrate`: round trips from a known profile, the fitting formulas, and refused exports.

Round trips: simulate a known profile (experiments/calibration/models/calibration-known.toml:
lognormal median 8 ms, sigma 0.4, one worker per vCPU), export what CloudWatch's get-metric-data
(through simfleet's own `metrics` query layer) or Locust would show, calibrate, and compare the
fitted service time with the known one. Stated tolerances (the data are a few minutes of
simulated traffic, so sampling noise sets them):

* light load in the data (direct fit): service-time p50 within 5 %, p99 within 10 %;
* queueing in every period (fit by simulation): p50 within 10 %, p99 within 25 % (queueing
  hides the service time's tail), and the fitted entry reproduces the observed ModelLatency
  p50/p90/p99 within 10 %;
* a Locust closed-loop ramp (client-side latency, workers fitted): p50 within 5 %, p99 within
  10 %, the worker count exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simfleet.calibration.candidate import Z99
from simfleet.calibration.direct_fit import direct_fit
from simfleet.calibration.examples import cloudwatch_export, cloudwatch_queries, locust_export
from simfleet.calibration.locust_export import locust_round_ms
from simfleet.calibration.observations import LoadLevel, Period
from simfleet.calibration.run import CalibrateRequest, run_calibration
from simfleet.calibration.settings import CalibrationSettings
from simfleet.calibration.simulated_fit import nelder_mead
from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.profiles import load_profile

EXAMPLES = Path(__file__).resolve().parents[1] / "experiments" / "calibration"
KNOWN_MEDIAN_S, KNOWN_SIGMA = 0.008, 0.4
FAST = CalibrationSettings(max_requests_per_level=10_000, max_candidates=40)


def service_percentile(median_s: float, sigma: float, z: float) -> float:
    return median_s * math.exp(sigma * z)


def fitted(path: Path, key: str):
    spec = load_profile(path).service_spec(key)
    dist = spec.distribution.build()
    return dist.median, dist.sigma, spec.workers, spec.source


def write_cloudwatch(folder: Path, overrides: list[str]) -> list[Path]:
    queries, response = cloudwatch_export(EXAMPLES / "cloudwatch-source.toml", overrides)
    (folder / "queries.json").write_text(json.dumps(queries))
    (folder / "results.json").write_text(json.dumps(response))
    return [folder / "queries.json", folder / "results.json"]


def calibrate_files(sources, out: Path, instance_type: str, workers: str = "auto", settings=FAST, **options):
    stated = {50.0: options.pop("p50", None), 90.0: None, 99.0: options.pop("p99", None)}
    request = CalibrateRequest.from_options(sources, instance_type, out, workers, options.pop("merge", False),
                                            stated, options.pop("at_rate", None), options.pop("instances", None),
                                            "60s", 10.0, settings)
    return run_calibration(request)


def test_cloudwatch_round_trip_at_light_load_is_a_direct_fit(tmp_path):
    sources = write_cloudwatch(tmp_path, ["experiment.duration=6min",
                                          "traffic.0.schedule=[[\"0s\", 100], [\"3min\", 300]]"])
    lines, warnings = calibrate_files(sources, tmp_path / "cw.toml", "ml.c5.xlarge", workers="4")
    median, sigma, workers, source = fitted(tmp_path / "cw.toml", "ml.c5.xlarge")
    assert workers == 4
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05
    p99 = service_percentile(median, sigma, Z99)
    assert abs(p99 / service_percentile(KNOWN_MEDIAN_S, KNOWN_SIGMA, Z99) - 1) < 0.10
    assert any("method: direct" in line for line in lines)
    assert "CALIBRATED" in source and "results.json" in source and "error %" in source
    assert warnings == []


def test_cloudwatch_round_trip_where_queueing_inflates_the_latency(tmp_path):
    # Every period at 87 % of the workers busy: the least loaded level is already inflated.
    sources = write_cloudwatch(tmp_path, ["experiment.duration=4min", "traffic.0.schedule=[[\"0s\", 800]]"])
    lines, _ = calibrate_files(sources, tmp_path / "cw.toml", "ml.c5.xlarge", workers="4",
                               settings=replace(FAST, max_requests_per_level=50_000))
    median, sigma, _, source = fitted(tmp_path / "cw.toml", "ml.c5.xlarge")
    assert any("method: by simulation" in line for line in lines)
    observed = json.loads((tmp_path / "results.json").read_text())["MetricDataResults"]
    p50_observed = np.mean(next(r for r in observed if r["Id"] == "latency_p50")["Values"]) / 1e6
    assert p50_observed > 1.3 * KNOWN_MEDIAN_S            # the data are inflated: a direct fit would be wrong
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.10
    p99 = service_percentile(median, sigma, Z99)
    assert abs(p99 / service_percentile(KNOWN_MEDIAN_S, KNOWN_SIGMA, Z99) - 1) < 0.25
    replayed = [line.split() for line in lines if line.strip().startswith("level 1  p")]
    assert len(replayed) == 3 and all(abs(float(row[-1])) < 10 for row in replayed)


def test_locust_round_trip_finds_the_workers_at_saturation(tmp_path):
    stats, history = locust_export(EXAMPLES / "locust-source.toml",
                                   ["experiment.duration=3min",
                                    "traffic.0.schedule=[[\"0s\", 1], [\"1min\", 2], [\"2min\", 4]]"])
    (tmp_path / "run_stats.csv").write_text(stats)
    (tmp_path / "run_stats_history.csv").write_text(history)
    lines, _ = calibrate_files([tmp_path / "run_stats.csv", tmp_path / "run_stats_history.csv"],
                               tmp_path / "locust.toml", "ml.c5.large")
    median, sigma, workers, _ = fitted(tmp_path / "locust.toml", "ml.c5.large")
    assert workers == 2                                    # ml.c5.large: 2 vCPUs, one worker each
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05
    p99 = service_percentile(median, sigma, Z99)
    assert abs(p99 / service_percentile(KNOWN_MEDIAN_S, KNOWN_SIGMA, Z99) - 1) < 0.10
    assert any("client-side latency" in line for line in lines)


def test_request_log_round_trip(tmp_path):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(7)
    n = 6000
    latency = rng.lognormal(math.log(KNOWN_MEDIAN_S), KNOWN_SIGMA, n)
    times = np.sort(rng.uniform(0, 300, n)) + 1767603600
    pacsv.write_csv(pa.table({"timestamp": times, "model_latency_ms": latency * 1e3}), tmp_path / "log.csv")
    calibrate_files([tmp_path / "log.csv"], tmp_path / "log-fit.toml", "ml.c5.xlarge", workers="4")
    median, sigma, _, source = fitted(tmp_path / "log-fit.toml", "ml.c5.xlarge")
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05 and abs(sigma / KNOWN_SIGMA - 1) < 0.1
    assert "log.csv" in source


def test_stated_percentiles_follow_the_readme_formula(tmp_path):
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.g5.xlarge", "--workers", "1",
                                      "--p50", "40ms", "--p99", "90ms", "--out", str(tmp_path / "whatif.toml")])
    assert result.exit_code == 0, result.output
    median, sigma, workers, source = fitted(tmp_path / "whatif.toml", "ml.g5.xlarge")
    assert median == pytest.approx(0.040, rel=1e-3)
    assert sigma == pytest.approx(math.log(90 / 40) / 2.326, rel=2e-3)
    assert "stated" in source and "method: direct" in result.output


def test_stated_percentiles_at_a_queueing_rate_fit_a_faster_service(tmp_path):
    # 90 req/s on one worker of 8 ms: ~75 % busy, so the service is faster than the stated latency.
    lines, _ = calibrate_files([], tmp_path / "busy.toml", "ml.c5.large", workers="1", p50="12ms", p99="60ms",
                               at_rate="90")
    median, _, _, _ = fitted(tmp_path / "busy.toml", "ml.c5.large")
    assert median < 0.012 * 0.9
    assert any("by simulation" in line for line in lines)


def test_same_inputs_write_byte_identical_profiles(tmp_path):
    args = ["calibrate", "--instance-type", "ml.c5.large", "--workers", "2", "--p50", "5ms", "--p99", "12ms"]
    for name in ("a", "b"):
        assert CliRunner().invoke(app, [*args, "--out", str(tmp_path / name / "same.toml")]).exit_code == 0
    assert (tmp_path / "a" / "same.toml").read_bytes() == (tmp_path / "b" / "same.toml").read_bytes()


def test_merge_adds_an_entry_and_keeps_the_others(tmp_path, data_dir):
    target = tmp_path / "toy.toml"
    target.write_text((data_dir / "models" / "toy.toml").read_text())
    before = load_profile(target)
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.c6i.large", "--workers", "2", "--p50",
                                      "6ms", "--p99", "14ms", "--out", str(target), "--merge"])
    assert result.exit_code == 0, result.output
    after = load_profile(target)
    assert after.supported() == before.supported() + ["ml.c6i.large"]
    assert all(after.service_spec(k) == before.service_spec(k) for k in before.supported())
    again = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.c6i.large", "--workers", "2", "--p50",
                                     "6ms", "--p99", "14ms", "--out", str(target), "--merge"])
    assert again.exit_code == EXIT_INVALID_INPUT and "already has" in again.output


# --- the fitting formulas, against independent computations -----------------------------------------

@hsettings(max_examples=50)
@given(st.floats(0.001, 2.0), st.floats(0.05, 1.2))
def test_direct_fit_inverts_the_lognormal(median, sigma):
    p50, p99 = median, median * math.exp(sigma * Z99)
    mean = median * math.exp(sigma**2 / 2)
    period = Period("t", 60, 100, {})
    both = LoadLevel((period,), 60, 100, 1, None, None, {50.0: p50, 99.0: p99}, None)
    fit = direct_fit(both, 0.25)
    assert fit.median_s == pytest.approx(median) and fit.sigma == pytest.approx(sigma, rel=1e-9)
    mean_p99 = LoadLevel((period,), 60, 100, 1, None, None, {99.0: p99}, mean)
    fit = direct_fit(mean_p99, 0.25)
    assert fit.sigma == pytest.approx(sigma, rel=1e-6) and fit.median_s == pytest.approx(median, rel=1e-6)


def test_nelder_mead_finds_a_quadratic_minimum():
    x, value = nelder_mead(lambda x: (x[0] - 1.5) ** 2 + 3 * (x[1] + 0.5) ** 2, np.array([0.0, 0.0]), 0.5, 1e-6, 500)
    assert x == pytest.approx([1.5, -0.5], abs=1e-5) and value < 1e-9


def test_locust_rounding_follows_locust():
    assert list(locust_round_ms(np.array([7.4, 99.6, 123.0, 999.0, 1234.0, 12345.0]))) == [7, 100, 120, 1000, 1200,
                                                                                           12000]


def test_little_law_gives_the_think_time():
    from simfleet.calibration.observations import Observations, load_levels

    period = Period("users=4", 100.0, 2000.0, {50.0: 0.1}, 0.15, None, users=4)
    level, = load_levels(Observations(("x",), "client", (period,)), 4)
    assert level.think_time_s == pytest.approx(4 / 20 - 0.15)


# --- refused inputs: one line each, exit 3, nothing written ------------------------------------------

def _statistics(metric="ModelLatency", unit="Microseconds", points=None):
    points = points if points is not None else [
        {"Timestamp": f"2026-01-05T09:0{i}:00Z", "SampleCount": 6000.0, "Average": 9000.0, "Unit": unit}
        for i in range(3)]
    return {"Label": metric, "Datapoints": points}


def _results(values=(6000.0, 6000.0)):
    queries = cloudwatch_queries("ep", "AllTraffic")
    stamps = ["2026-01-05T09:01:00Z", "2026-01-05T09:00:00Z"]
    results = [{"Id": q["Id"], "Label": q["MetricStat"]["Metric"]["MetricName"], "Timestamps": stamps,
                "Values": list(values) if q["Id"] == "invocations" else
                [3000.0, 3000.0] if q["Id"] == "per_instance" else [8000.0, 8000.0] if q["Id"] == "latency_p50"
                else [13000.0, 13000.0] if q["Id"] == "latency_p90" else [20000.0, 20000.0],
                "StatusCode": "Complete", "Messages": []} for q in queries]
    return queries, {"MetricDataResults": results, "Messages": []}


def _result_with(index: int, **members) -> dict:
    """The results of `_results()` with members of result `index` replaced."""
    results = _results()[1]
    results["MetricDataResults"][index].update(members)
    return results


def _two_variants() -> list[dict]:
    queries = json.loads(json.dumps(_results()[0]))   # a deep copy: the queries share one Dimensions list
    queries[3]["MetricStat"]["Metric"]["Dimensions"][1]["Value"] = "OtherVariant"   # Invocations
    return queries


def _history_failures_only() -> str:
    header = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,"
              "100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
              "Total Min Response Time,Total Max Response Time,Total Average Content Size")
    rows = [f"{1767603600 + t},2,,Aggregated,10,10,5,5,5,5,6,6,7,7,7,7,7,{10 * t},{10 * t},5,5,4,7,0"
            for t in range(1, 30)]
    return "\n".join([header, *rows]) + "\n"


BAD = {
    "wrong metric": ({"a.json": _statistics(metric="Invocation5XXErrors")}, "is not one calibrate reads"),
    "wrong units": ({"a.json": _statistics(unit="Milliseconds")}, "expected Microseconds"),
    "latency in milliseconds": ({"a.json": _statistics(points=[
        {"Timestamp": "2026-01-05T09:00:00Z", "SampleCount": 10.0, "Average": 8.5, "Unit": None}])},
        "look like milliseconds"),
    "empty datapoints": ({"a.json": _statistics(points=[])}, "no datapoints"),
    "no traffic": ({"q.json": _results((0.0, 0.0))[0], "r.json": _results((0.0, 0.0))[1]}, "no period with traffic"),
    "results without queries": ({"r.json": _results()[1]}, "no MetricDataQueries entry"),
    "locust failures only": ({"x_stats_history.csv": _history_failures_only()}, "every request failed"),
    "not a source": ({"a.json": {"hello": 1}}, "not a source calibrate reads"),
    "not a number": ({"a.json": _statistics(points=[
        {"Timestamp": "2026-01-05T09:00:00Z", "SampleCount": "many", "Average": 9000.0}])}, "expected a number"),
    "bad timestamp": ({"a.json": _statistics(points=[{"Timestamp": "noon", "SampleCount": 5.0, "Average": 9000.0}])},
                      "ISO 8601"),
    "two variants": ({"q.json": _two_variants(), "r.json": _results()[1]}, "of two variants"),
    "a table as a StatusCode": ({"q.json": _results()[0], "r.json": _result_with(1, StatusCode={})},
                                "MetricDataResults[1].StatusCode: expected one of"),
    "a failed query": ({"q.json": _results()[0], "r.json": _result_with(0, StatusCode="Forbidden")},
                       "this query failed"),
    "a result's timestamp not a time": ({"q.json": _results()[0], "r.json": _result_with(
        2, Timestamps=["2026-01-05T09:01:00Z", "1e-300-01-05T09:16:00Z"])}, "Timestamps[1]: expected an ISO 8601"),
    "a number as a Label": ({"q.json": _results()[0], "r.json": _result_with(3, Label=7)}, "Label: expected a string"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_exports_are_refused_with_one_line(tmp_path, case):
    files, message = BAD[case]
    paths = []
    for name, content in files.items():
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        paths.append(str(path))
    out = tmp_path / "never.toml"
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.c5.xlarge", "--workers", "4", *paths,
                                      "--out", str(out)])
    assert result.exit_code == EXIT_INVALID_INPUT, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert not out.exists() and list(tmp_path.glob("*.toml")) == []


@pytest.mark.parametrize("case", ["a table as a StatusCode", "a failed query", "a result's timestamp not a time",
                                  "a number as a Label"])
def test_validate_refuses_the_result_members_calibrate_refuses(tmp_path, case):
    """`validate` checks a get-metric-data export's results as `calibrate` reads them (a fuzzed
    export with a table as its StatusCode was once accepted)."""
    files, message = BAD[case]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(files["r.json"]))
    result = CliRunner().invoke(app, ["validate", str(path), "--kind", "calibration_source"])
    assert result.exit_code == EXIT_INVALID_INPUT, result.output
    assert result.output.count("error:") == 1 and message in result.output, result.output


@pytest.mark.parametrize("args, message", [
    (["--instance-type", "ml.nope.large", "--p50", "5ms"], "unknown instance type"),
    (["--instance-type", "ml.c5.large", "--workers", "many", "--p50", "5ms"], "--workers"),
    (["--instance-type", "ml.c5.large"], "give SOURCE files, or stated percentiles"),
    (["--instance-type", "ml.c5.large", "--p50", "9ms", "--p99", "5ms"], "increase with the percentile"),
])
def test_bad_options_are_refused(tmp_path, args, message):
    result = CliRunner().invoke(app, ["calibrate", *args, "--out", str(tmp_path / "x.toml")])
    assert result.exit_code == EXIT_INVALID_INPUT and message in result.output, result.output
    assert not (tmp_path / "x.toml").exists()


def test_a_hand_written_profile_is_never_overwritten(tmp_path, data_dir):
    target = tmp_path / "toy.toml"
    target.write_text((data_dir / "models" / "toy.toml").read_text())
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.c5.large", "--p50", "5ms",
                                      "--out", str(target)])
    assert result.exit_code == EXIT_INVALID_INPUT and "not written by simfleet calibrate" in result.output
    assert target.read_text() == (data_dir / "models" / "toy.toml").read_text()


def test_recommender_response_reads_the_threshold_percentile(tmp_path):
    from simfleet.calibration.recommender_response import read_recommendations

    response = {"JobName": "job", "Status": "COMPLETED",
                "StoppingConditions": {"ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 50}]},
                "InferenceRecommendations": [{"EndpointConfiguration": {"InstanceType": "ml.c5.large",
                                                                        "InitialInstanceCount": 2},
                                              "Metrics": {"MaxInvocations": 12000, "ModelLatency": 25000}}]}
    observations = read_recommendations("ir.json", response, "ml.c5.large")
    period, = observations.periods
    assert period.rate_per_s == pytest.approx(200.0) and period.instances == 2
    assert period.latency_s == {95.0: 0.025}
    with pytest.raises(InputError, match="no recommendation on ml.g5.xlarge"):
        read_recommendations("ir.json", response, "ml.g5.xlarge")
    assert replace(FAST).max_levels == 4


# --- through the command line, as a user would: `simfleet run`, `simfleet metrics`, `simfleet calibrate` ------

def test_get_metric_statistics_round_trip_through_the_cli(tmp_path):
    run_dir = tmp_path / "run"
    runner = CliRunner()
    done = runner.invoke(app, ["run", str(EXAMPLES / "cloudwatch-source.toml"), "--out", str(run_dir),
                               "--set", "experiment.duration=4min",
                               "--set", "traffic.0.schedule=[[\"0s\", 150], [\"2min\", 160]]"])
    assert done.exit_code == 0, done.output
    dimensions = ["--dimensions", "Name=EndpointName,Value=example-endpoint", "Name=VariantName,Value=AllTraffic"]
    exports = {"latency.json": ["--metric-name", "ModelLatency", "--extended-statistics", "p50", "p90", "p99"],
               "counts.json": ["--metric-name", "ModelLatency", "--statistics", "SampleCount", "Average"],
               "per-instance.json": ["--metric-name", "InvocationsPerInstance", "--statistics", "Sum"]}
    for name, words in exports.items():
        answer = runner.invoke(app, ["metrics", str(run_dir), "get-metric-statistics", "--namespace", "AWS/SageMaker",
                                     *words, *dimensions, "--period", "60"])
        assert answer.exit_code == 0, answer.output
        (tmp_path / name).write_text(answer.stdout)
    result = runner.invoke(app, ["calibrate", "--instance-type", "ml.c5.xlarge", "--workers", "4",
                                 *(str(tmp_path / name) for name in exports), "--out", str(tmp_path / "gms.toml")])
    assert result.exit_code == 0, result.output
    median, sigma, _, source = fitted(tmp_path / "gms.toml", "ml.c5.xlarge")
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05
    assert abs(service_percentile(median, sigma, Z99) / service_percentile(KNOWN_MEDIAN_S, KNOWN_SIGMA, Z99) - 1) < 0.10
    assert "2 instance(s)" in result.output          # Invocations / InvocationsPerInstance


def test_a_recommender_response_calibrates_with_an_assumed_sigma(tmp_path):
    # 2 workers of lognormal(8 ms, 0.4) on ml.c5.large: 60 % busy at 150 req/s; its p99 latency stated.
    response = {"JobName": "job", "Status": "COMPLETED",
                "InferenceRecommendations": [{"EndpointConfiguration": {"InstanceType": "ml.c5.large",
                                                                        "InitialInstanceCount": 1},
                                              "Metrics": {"MaxInvocations": 9000, "ModelLatency": 30000}}]}
    (tmp_path / "ir.json").write_text(json.dumps(response))
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", "ml.c5.large", "--workers", "2",
                                      str(tmp_path / "ir.json"), "--out", str(tmp_path / "ir-fit.toml")])
    assert result.exit_code == 0, result.output
    median, sigma, _, source = fitted(tmp_path / "ir-fit.toml", "ml.c5.large")
    assert sigma == pytest.approx(CalibrationSettings().assumed_sigma, rel=1e-3)
    assert "ASSUMED" in source and "taken as p99" in source
    # The p99 stated is latency at load: the service p99 is below it.
    assert service_percentile(median, sigma, Z99) < 0.030


def test_a_parquet_request_log_is_read(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    n = 3000
    stamps = pa.array((np.sort(rng.uniform(0, 180, n)) * 1e6).astype("int64") + 1767603600 * 10**6,
                      type=pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"timestamp": stamps, "model_latency_us": rng.lognormal(math.log(8000), 0.4, n)}),
                   tmp_path / "log.parquet")
    calibrate_files([tmp_path / "log.parquet"], tmp_path / "pq.toml", "ml.c5.xlarge", workers="4")
    median, _, _, _ = fitted(tmp_path / "pq.toml", "ml.c5.xlarge")
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05


# --- the shipped examples (slow: whole example runs and default settings) ------------------------------

@pytest.mark.slow
def test_the_shipped_examples_are_current(tmp_path):
    from simfleet.calibration.examples import write_examples

    for name in ("cloudwatch-source.toml", "locust-source.toml"):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "calibration-known.toml").write_text(
        (EXAMPLES / "models" / "calibration-known.toml").read_text())
    for path in write_examples(tmp_path):
        assert path.read_text() == (EXAMPLES / path.name).read_text(), f"{path.name} is stale"


@pytest.mark.slow
@pytest.mark.parametrize("instance_type, workers, files", [
    ("ml.c5.xlarge", "4", ["cloudwatch-queries.json", "cloudwatch-results.json"]),
    ("ml.c5.large", "auto", ["locust_stats.csv", "locust_stats_history.csv"]),
])
def test_the_shipped_examples_calibrate_back_to_the_known_profile(tmp_path, instance_type, workers, files):
    out = tmp_path / "example.toml"
    result = CliRunner().invoke(app, ["calibrate", "--instance-type", instance_type, "--workers", workers,
                                      *(str(EXAMPLES / f) for f in files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.output                  # the replay is within 10 % everywhere
    median, sigma, count, _ = fitted(out, instance_type)
    assert count == (4 if instance_type == "ml.c5.xlarge" else 2)
    assert abs(median / KNOWN_MEDIAN_S - 1) < 0.05
    assert abs(service_percentile(median, sigma, Z99) / service_percentile(KNOWN_MEDIAN_S, KNOWN_SIGMA, Z99) - 1) < 0.10


def test_periods_without_traffic_are_left_out_and_counted(tmp_path):
    queries, response = _results((6000.0, 0.0))
    (tmp_path / "q.json").write_text(json.dumps(queries))
    (tmp_path / "r.json").write_text(json.dumps(response))
    lines, _ = calibrate_files([tmp_path / "q.json", tmp_path / "r.json"], tmp_path / "some.toml", "ml.c5.xlarge",
                               workers="4")
    assert any("1 period(s) without traffic" in line for line in lines)
    assert any("1 periods, 100 req/s on 2 instance(s)" in line for line in lines)


@hsettings(max_examples=40)
@given(st.floats(1e-5, 100.0), st.floats(0.01, 5.0), st.integers(1, 1024),
       st.sampled_from(["ml.c5.large", "ml.g5.xlarge", "c5"]))
def test_a_written_entry_loads_and_keeps_its_parameters(median, sigma, workers, key):
    import tempfile

    from simfleet.calibration.candidate import Candidate, base_profile_dict
    from simfleet.calibration.profile_writer import profile_text
    from simfleet.catalog import load_catalog

    instance = load_catalog()["ml.g5.xlarge" if "g5" in key else "ml.c5.large"]
    raw = base_profile_dict("written", instance, Candidate(median, sigma, workers), key, 'a "quoted" source\n', 1000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "written.toml"
        path.write_text(profile_text(raw, ["header"], ["comment"]))
        spec = load_profile(path).service_spec(key)
    dist = spec.distribution.build()
    assert dist.median == pytest.approx(median, rel=1e-3) and dist.sigma == pytest.approx(sigma, abs=1e-4)
    assert spec.workers == workers and spec.source == 'a "quoted" source'
