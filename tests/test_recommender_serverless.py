"""`simfleet recommend` with serverless EndpointConfigurations: run, measured, billed, shaped and ranked.

Expected values come from theory (a closed loop of more users than MaxConcurrency keeps the c
environments busy, so the served rate is c / E[S]), from a naive recomputation over the run's own
published datapoints (`ModelSetupTime`, `Invocations`, `Invocation4XXErrors`) and billed quantities
with the prices read straight from the shipped price file, or from botocore's service model; never
from a previous run's output.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pyarrow.compute as pc
import pytest
from botocore.validate import ParamValidator
from typer.testing import CliRunner

from aws_shapes import shape_problems
from simfleet.catalog import load_catalog
from simfleet.cli import app
from simfleet.config.serverless import ServerlessConfig, ServerlessSettings
from simfleet.profiles import builtin_profile_dir, load_profile
from simfleet.recommender.job_file import load_job, load_job_file
from simfleet.recommender.job_output import describe
from simfleet.recommender.job_runner import run_job
from simfleet.recommender.ranking import Preferences, rank, table
from simfleet.recommender.responses import inference_recommendation
from simfleet.recommender.serverless_tests import ServerlessSetup, model_setup_time_us, serverless_cost_per_inference
from simfleet.recommender.test_plan import planned_tests
from simfleet.serverless_sizing import size_serverless
from aws_models import service_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "experiments" / "recommend-serverless.toml"
PRICES = tomllib.loads((ROOT / "simfleet" / "catalog" / "serverless.toml").read_text())
CATALOG = load_catalog()
XGBOOST = load_profile(builtin_profile_dir() / "xgboost-tabular.toml")
PROFILES = {"xgboost-tabular": builtin_profile_dir() / "xgboost-tabular.toml",
            "llm-7b": builtin_profile_dir() / "llm-7b.toml"}
SERVERLESS = [(2048, 2), (4096, 3)]


def job_doc(configurations, phases=((1, 3, 240),), stopping=None, simfleet=None, model="xgboost-tabular"):
    return {"JobName": "sls-job", "JobType": "Advanced", "RoleArn": "arn:aws:iam::123456789012:role/R",
            "InputConfig": {"ModelName": "fraud-model", "EndpointConfigurations": configurations,
                            "TrafficPattern": {"TrafficType": "PHASES", "Phases": [
                                {"InitialNumberOfUsers": a, "SpawnRate": b, "DurationInSeconds": c}
                                for a, b, c in phases]}},
            "StoppingConditions": stopping or {"FlatInvocations": "Continue"},
            "simfleet": {"model": model, "seed": 11, **(simfleet or {})}}


def mixed_configurations():
    return [{"ServerlessConfig": {"MemorySizeInMB": m, "MaxConcurrency": c}} for m, c in SERVERLESS] + [
        {"InstanceType": "ml.c5.large"}]


@pytest.fixture(scope="module")
def mixed():
    """Two serverless configurations and one instance type; users grow past MaxConcurrency."""
    doc = job_doc(mixed_configurations(),
                  simfleet={"serverless": {"container_start_time": {"kind": "lognormal", "median": "3s",
                                                                    "sigma": 0.5}}})
    the_job = load_job(doc, "job.json", profiles=PROFILES)
    return the_job, run_job(the_job, workers=1)


@pytest.fixture(scope="module")
def sagemaker():
    return service_model("sagemaker")


def _rows(run, metric, endpoint):
    table_ = run.metrics
    mask = pc.and_(pc.and_(pc.equal(table_["metric_name"], metric), pc.equal(table_["EndpointName"], endpoint)),
                   pc.and_(pc.equal(table_["period_s"], 60), pc.is_null(table_["InstanceId"])))
    return table_.filter(mask).to_pylist()


def test_two_serverless_and_one_instance_configuration_run_and_rank(mixed, sagemaker):
    the_job, outcome = mixed
    assert [r.label for r in outcome.results] == ["serverless 2048 MB ×2", "serverless 4096 MB ×3", "ml.c5.large"]
    assert all(r.succeeded for r in outcome.results)
    for (memory, concurrency), result, run in zip(SERVERLESS, outcome.results, outcome.outcomes):
        variant = run.run.summary["variants"][0]
        assert variant["instance_type"] is None and variant["serverless"]["memory_size_mb"] == memory
        assert result.serverless == ServerlessSetup(memory, concurrency) and result.instance_type is None
        assert result.initial_instance_count is None
    response = describe(outcome, Preferences())
    output = sagemaker.operation_model("DescribeInferenceRecommendationsJob").output_shape
    assert shape_problems(response, output, "describe", extra={"simfleet"}) == []
    plain = {k: v for k, v in response.items() if k != "simfleet"}
    report = ParamValidator().validate(json.loads(json.dumps(plain, default=str).replace("NaN", "0")), output)
    assert not report.has_errors(), report.generate_report()
    recommendations = response["InferenceRecommendations"]
    assert len(recommendations) == 3
    # ranked: the order is rank()'s, serverless and instance together
    assert [r["EndpointConfiguration"]["EndpointName"] for r in recommendations] == [
        r.endpoint_name for r in rank(outcome.results, Preferences())]
    for rec in recommendations:
        endpoint, metrics = rec["EndpointConfiguration"], rec["Metrics"]
        if "ServerlessConfig" in endpoint:
            assert set(endpoint) == {"EndpointName", "VariantName", "ServerlessConfig"}
            assert (endpoint["ServerlessConfig"]["MemorySizeInMB"],
                    endpoint["ServerlessConfig"]["MaxConcurrency"]) in SERVERLESS
            assert isinstance(metrics["ModelSetupTime"], int) and metrics["ModelSetupTime"] > 0
            assert math.isnan(metrics["CpuUtilization"])
        else:
            assert endpoint["InstanceType"] == "ml.c5.large" and endpoint["InitialInstanceCount"] == 1
            assert "ModelSetupTime" not in metrics
        # the identity of every AWS example, serverless included
        assert metrics["CostPerInference"] == pytest.approx(metrics["CostPerHour"] / (metrics["MaxInvocations"] * 60),
                                                           rel=1e-12)
    text = table(outcome.results)
    assert "serverless 2048 MB ×2" in text and "ml.c5.large" in text


def test_serverless_throughput_is_max_concurrency_over_the_service_time(mixed):
    """More users than MaxConcurrency: c environments serve at most c / E[S] requests per second
    (each holds one request for its service time), and with users retrying throttles they are
    nearly always busy (an environment idles only from a completion to the next arrival, a fraction
    of the overhead latency), so the plateau lies just under c / E[S]. Throttled requests
    (Invocation4XXErrors) are not counted in MaxInvocations."""
    the_job, outcome = mixed
    settings = ServerlessSettings.model_validate(the_job.settings.serverless)
    for (memory, concurrency), result, run in zip(SERVERLESS, outcome.results, outcome.outcomes):
        sizing = size_serverless(XGBOOST, ServerlessConfig(memory_size_in_mb=memory, max_concurrency=concurrency),
                                 settings)
        theory = concurrency / sizing.entry.service_time.mean * 60
        assert 0.85 * theory <= result.max_invocations <= 1.01 * theory, (memory, result.max_invocations, theory)
        invocations = {r["timestamp"]: r["sum"] for r in _rows(run.run, "Invocations", result.endpoint_name)}
        throttled = {r["timestamp"]: r["sum"] for r in _rows(run.run, "Invocation4XXErrors", result.endpoint_name)}
        served = [invocations[t] - throttled.get(t, 0) for t in invocations]
        assert sum(throttled.values()) > 0                  # the cap did bind
        assert result.max_invocations in {int(round(s)) for s in served}
        assert max(served) <= 1.01 * theory
        assert result.max_invocations < max(invocations.values())


def test_model_setup_time_is_what_the_runs_datapoints_give(mixed):
    """ModelSetupTime = Σ Sum / Σ SampleCount of the test's ModelSetupTime datapoints (µs), rounded."""
    _, outcome = mixed
    for result, run in zip(outcome.results[:2], outcome.outcomes[:2]):
        rows = _rows(run.run, "ModelSetupTime", result.endpoint_name)
        assert sum(r["sample_count"] for r in rows) >= 2     # several cold starts: a real mean
        expected = round(sum(r["sum"] for r in rows) / sum(r["sample_count"] for r in rows))
        assert result.model_setup_time_us == expected
        assert rows[0]["unit"] == "Microseconds"
        # the summary's own count of cold starts agrees with the datapoints
        assert run.run.summary["variants"][0]["serverless"]["cold_starts"] == sum(r["sample_count"] for r in rows)


def test_serverless_cost_is_the_per_ms_bill_from_the_price_file(mixed):
    """CostPerInference = (billed compute s × price per GB-s × memory GB + data GB × price per GB) / served."""
    _, outcome = mixed
    for (memory, _), result, run in zip(SERVERLESS, outcome.results, outcome.outcomes):
        block = run.run.summary["variants"][0]["serverless"]
        bill = (block["billed_compute_s"] * PRICES["on_demand"]["price_per_gb_second"] * memory / 1024
                + block["data_processed_gb"] * PRICES["data"]["price_per_gb"])
        assert result.cost_per_inference == pytest.approx(bill / block["served"], rel=1e-9)
        assert result.cost_per_hour == pytest.approx(result.cost_per_inference * result.max_invocations * 60,
                                                     rel=1e-12)


def test_a_missing_serverless_price_leaves_the_cost_out_as_for_instances(mixed):
    """A run whose cost is null (a price the catalog lacks, named in missing_prices) gives no cost
    members, as an instance type without a price does; the rest of the recommendation stands."""
    _, outcome = mixed
    variant = outcome.outcomes[0].run.summary["variants"][0]
    assert serverless_cost_per_inference(variant) is not None
    assert serverless_cost_per_inference({**variant, "cost": None}) is None
    result = outcome.results[0]
    unpriced = dataclasses.replace(result, cost_per_hour=None, cost_per_inference=None)
    metrics = inference_recommendation(unpriced)["Metrics"]
    assert "CostPerHour" not in metrics and "CostPerInference" not in metrics
    assert metrics["MaxInvocations"] == result.max_invocations and "ModelSetupTime" in metrics


@pytest.mark.parametrize("statistic", ["Minimum", "Maximum", "p50"])
def test_model_setup_time_statistic_setting(statistic):
    """The other statistics against the datapoints: min of Minimum, max of Maximum, and a percentile
    of the merged values lying between them."""
    doc = job_doc([{"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 3}}], phases=((1, 3, 180),),
                  simfleet={"model_setup_time_statistic": statistic})
    outcome = run_job(load_job(doc, "job.json", profiles=PROFILES), workers=1)
    result, run = outcome.results[0], outcome.outcomes[0]
    rows = _rows(run.run, "ModelSetupTime", result.endpoint_name)
    low, high = min(r["minimum"] for r in rows), max(r["maximum"] for r in rows)
    if statistic == "Minimum":
        assert result.model_setup_time_us == round(low)
    elif statistic == "Maximum":
        assert result.model_setup_time_us == round(high)
    else:
        assert round(low) <= result.model_setup_time_us <= round(high)


def test_no_cold_start_means_no_model_setup_time():
    assert model_setup_time_us([]) is None


def test_default_job_ramps_serverless_users_to_max_concurrency():
    doc = job_doc([{"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 7}}],
                  simfleet={"default_users_per_worker": 2, "default_ramp": "5min"})
    doc["JobType"] = "Default"
    del doc["InputConfig"]["TrafficPattern"]
    del doc["StoppingConditions"]
    test = planned_tests(load_job(doc, "job.json", profiles=PROFILES), CATALOG)[0]
    assert test.serverless == ServerlessSetup(2048, 7) and test.instance_type is None
    assert max(users for _, users in test.knots) == 2 * 7


# --- bad serverless entries ------------------------------------------------------------------------

def _recommend(tmp_path, doc):
    """`simfleet recommend` on `doc`, in this process (the refusals come before any simulation; the
    shipped example below runs the real command). Any exception but the command's exit is a crash."""
    path = tmp_path / "job.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["recommend", str(path), "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.parametrize("config, key, fragment", [
    ({"MemorySizeInMB": 1500, "MaxConcurrency": 5}, "ServerlessConfig.MemorySizeInMB", "1 GB increments"),
    ({"MemorySizeInMB": 512, "MaxConcurrency": 5}, "ServerlessConfig.MemorySizeInMB", "greater than or equal to 1024"),
    ({"MemorySizeInMB": 7168, "MaxConcurrency": 5}, "ServerlessConfig.MemorySizeInMB", "less than or equal to 6144"),
    ({"MemorySizeInMB": 2048, "MaxConcurrency": 0}, "ServerlessConfig.MaxConcurrency", "greater than or equal to 1"),
    ({"MemorySizeInMB": 2048, "MaxConcurrency": 201}, "ServerlessConfig.MaxConcurrency", "less than or equal to 200"),
    ({"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 2},
     "ServerlessConfig.ProvisionedConcurrency", "not supported for serverless endpoint recommendations"),
])
def test_bad_serverless_entries_are_one_line_errors(tmp_path, config, key, fragment):
    doc = job_doc([{"InstanceType": "ml.c5.large"}, {"ServerlessConfig": config}])
    done = _recommend(tmp_path, doc)
    assert done.exit_code == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "job.json" in lines[0]
    assert f"InputConfig.EndpointConfigurations[1].{key}" in lines[0] and fragment in lines[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_model_that_cannot_run_serverless_is_refused_at_its_configuration(tmp_path):
    doc = job_doc([{"ServerlessConfig": {"MemorySizeInMB": 6144, "MaxConcurrency": 5}}], model="llm-7b")
    done = _recommend(tmp_path, doc)
    assert done.exit_code == 3
    lines = done.stderr.strip().splitlines()
    assert any("needs a GPU" in line for line in lines), lines
    assert all(line.startswith("error: ") and "InputConfig.EndpointConfigurations[0].ServerlessConfig" in line
               for line in lines)


# --- the shipped example ---------------------------------------------------------------------------

def test_the_serverless_example_runs_and_compares_memory_sizes_with_an_instance(tmp_path, sagemaker):
    the_job = load_job_file(EXAMPLE)
    configs = the_job.request.InputConfig.EndpointConfigurations
    assert len({c.ServerlessConfig.MemorySizeInMB for c in configs if c.ServerlessConfig}) >= 2
    assert any(c.InstanceType and CATALOG[c.InstanceType].accelerators == 0 for c in configs)
    done = subprocess.run([sys.executable, "-m", "simfleet", "recommend", str(EXAMPLE), "--out", str(tmp_path / "j")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    response = json.loads((tmp_path / "j" / "recommendations.json").read_text())
    output = sagemaker.operation_model("DescribeInferenceRecommendationsJob").output_shape
    assert shape_problems(response, output, "describe", extra={"simfleet"}) == []
    kinds = {"ServerlessConfig" in r["EndpointConfiguration"] for r in response["InferenceRecommendations"]}
    assert kinds == {True, False}
    steps = json.loads((tmp_path / "j" / "steps.json").read_text())
    steps_shape = sagemaker.operation_model("ListInferenceRecommendationsJobSteps").output_shape
    assert shape_problems(steps, steps_shape, "steps", extra={"simfleet"}) == []
