"""`simfleet recommend`: load tests simulated end to end, stopping conditions firing in real runs,
the cost identities on every recommendation, the AWS shapes of the files, the job timeline, and
bad job files.

Expected values come from theory (a closed loop of N users on c workers with no think time and
no overhead carries c / E[S] once N ≥ c), from the identities of DESIGN §4, from botocore's
service model, or from a naive re-computation (list scheduling); never from a previous run.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aws_shapes import shape_problems
from simfleet.catalog import load_catalog
from simfleet.cli import app
from simfleet.errors import InputError
from simfleet.profiles import builtin_profile_dir, fit_problems, load_profile
from simfleet.recommender.job_file import load_job, load_job_file
from simfleet.recommender.job_output import write_job
from simfleet.recommender.job_runner import load_test_spec, run_job, shift_run
from simfleet.recommender.load_test import run_load_test
from simfleet.recommender.test_plan import (DEFAULT_CANDIDATES_PER_FAMILY, MAX_DEFAULT_CANDIDATES, default_candidates,
                                            default_knots, planned_tests, start_offsets)
from aws_models import service_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_JSON = ROOT / "experiments" / "recommend-xgboost.json"
EXAMPLE_TOML = ROOT / "experiments" / "recommend-xgboost.toml"
CATALOG = load_catalog()
XGBOOST = load_profile(builtin_profile_dir() / "xgboost-tabular.toml")
PROFILES = {"xgboost-tabular": builtin_profile_dir() / "xgboost-tabular.toml"}


def job(instance_types=("ml.c5.large",), phases=((1, 3, 300),), stopping=None, job_duration=None,
        resource_limit=None, simfleet=None, job_type="Advanced", **input_config):
    """A job document; `phases` as (InitialNumberOfUsers, SpawnRate, DurationInSeconds)."""
    config = {"ModelName": "fraud-model",
              "TrafficPattern": {"TrafficType": "PHASES", "Phases": [
                  {"InitialNumberOfUsers": a, "SpawnRate": b, "DurationInSeconds": c} for a, b, c in phases]},
              "EndpointConfigurations": [{"InstanceType": t} for t in instance_types], **input_config}
    if job_duration is not None:
        config["JobDurationInSeconds"] = job_duration
    if resource_limit is not None:
        config["ResourceLimit"] = resource_limit
    doc = {"JobName": "test-job", "JobType": job_type, "RoleArn": "arn:aws:iam::123456789012:role/R",
           "InputConfig": config, "StoppingConditions": stopping or {"FlatInvocations": "Stop"},
           "simfleet": {"model": "xgboost-tabular", "seed": 3, **(simfleet or {})}}
    return load_job(doc, "job.json", profiles=PROFILES)


def capacity_per_minute(instance_type: str) -> float:
    """Closed-loop saturation: c workers, each busy E[S] per request, carry c / E[S] requests/s."""
    entry = XGBOOST.entry_for(CATALOG[instance_type])
    return entry.workers / entry.service_time.mean * 60


# --- stopping conditions firing in real runs --------------------------------------------------------

def test_flat_invocations_stop_at_saturation_and_the_plateau_is_the_capacity():
    """Users grow past the workers: invocations level off at c / E[S] (theory) and the test stops."""
    outcome = run_job(job(["ml.c5.large", "ml.c5.xlarge"], phases=((1, 3, 600),)), workers=1)
    for result in outcome.results:
        assert result.stop.condition == "FlatInvocations", result.stop
        theory = capacity_per_minute(result.instance_type)
        # the overhead outside the container only delays users; at saturation the workers bind
        assert abs(result.plateau.level_invocations - theory) / theory < 0.03, (result.instance_type, theory)
        assert result.initial_instance_count == 1  # no MaxInvocations target: the count tested
        assert (result.end_time - result.start_time).total_seconds() < 600  # stopped before the pattern's end


def test_latency_threshold_stops_the_test_and_the_plateau_is_within_it():
    threshold_ms = 15
    outcome = run_job(job(stopping={"ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds":
                                                               threshold_ms}], "FlatInvocations": "Continue"},
                          phases=((1, 3, 900),)), workers=1)
    result = outcome.results[0]
    assert result.stop.condition == "ModelLatencyThresholds"
    metrics = outcome.outcomes[0].run.metrics.to_pandas()
    minutes = metrics[(metrics.metric_name == "ModelLatency") & metrics.InstanceId.isna()]
    assert len(minutes) == result.stop.minute + 1   # the run ended with the minute that breached
    assert minutes.p95.iloc[-1] > threshold_ms * 1000 >= minutes.p95.iloc[:-1].max()
    assert result.succeeded and result.model_latency_ms <= threshold_ms


def test_max_invocations_stops_the_test_and_sizes_the_fleet():
    target = 12_000
    outcome = run_job(job(stopping={"MaxInvocations": target, "FlatInvocations": "Continue"},
                          phases=((1, 1, 600),), simfleet={"think_time": "20ms"}), workers=1)
    result = outcome.results[0]
    assert result.stop.condition == "MaxInvocations"
    assert result.plateau.invocations >= target or result.plateau.level_invocations >= target
    assert result.initial_instance_count == math.ceil(target / result.per_instance_max_invocations)


def test_flat_invocations_continue_runs_to_the_end_of_the_pattern():
    outcome = run_job(job(stopping={"FlatInvocations": "Continue"}, phases=((1, 3, 240),)), workers=1)
    result = outcome.results[0]
    assert result.stop.condition == "TrafficPattern"
    assert outcome.outcomes[0].length_s == 240


def test_job_duration_cuts_the_tests_that_reach_it_and_skips_those_that_start_after():
    """Three 5-minute tests one at a time in a 9-minute job: the first runs whole, the second is cut
    at the job's end, the third never starts."""
    outcome = run_job(job(["ml.c5.large", "ml.c5.xlarge", "ml.m5.large"], phases=((1, 0, 300),),
                          stopping={"FlatInvocations": "Continue"}, job_duration=540,
                          resource_limit={"MaxParallelOfTests": 1}), workers=1)
    first, second, third = outcome.results
    assert first.stop.condition == "TrafficPattern" and outcome.outcomes[0].length_s == 300
    assert second.stop.condition == "JobDurationInSeconds" and outcome.outcomes[1].length_s == 240
    assert (second.start_time - first.start_time).total_seconds() == 300
    assert outcome.outcomes[2] is None and third.stop.condition == "JobDurationInSeconds"
    assert not third.succeeded and "not started" in third.failure_reason
    assert (outcome.completion_time - outcome.creation_time).total_seconds() == 540


# --- timeline, determinism, parallelism ----------------------------------------------------------

@settings(max_examples=60)
@given(st.lists(st.integers(1, 30).map(lambda m: 60.0 * m), min_size=1, max_size=12), st.integers(1, 5))
def test_start_offsets_are_list_scheduling(lengths, parallel):
    """Against a naive minute-by-minute replay: a test starts at the first instant a slot is free."""
    offsets = start_offsets(lengths, parallel)
    busy_until = [0.0] * parallel
    for length, offset in zip(lengths, offsets):
        slot = min(range(parallel), key=lambda k: (busy_until[k], k))
        assert offset == busy_until[slot]
        busy_until[slot] += length
    assert all(offsets[i] <= offsets[i + 1] for i in range(len(offsets) - 1))


def test_a_test_moved_to_its_start_equals_the_test_simulated_there():
    """`shift_run` is exact: the same test simulated 7 minutes into the job has the same tables."""
    the_job = job(phases=((1, 3, 180),))
    test = planned_tests(the_job, CATALOG)[0]
    at_start = run_load_test(load_test_spec(the_job, test, 0.0), 0.1)
    later = run_load_test(load_test_spec(the_job, test, 420.0), 0.1)
    moved = shift_run(at_start.run, 420.0)
    assert moved.metrics.equals(later.run.metrics)
    assert moved.metric_values.equals(later.run.metric_values)
    assert moved.events.equals(later.run.events)
    assert at_start.run.summary == later.run.summary


def test_same_job_same_files_whatever_the_number_of_processes(tmp_path):
    the_job = load_job_file(EXAMPLE_JSON, model="xgboost-tabular")
    one, two = tmp_path / "one", tmp_path / "two"
    write_job(run_job(the_job, workers=1), one)
    write_job(run_job(the_job, workers=2), two)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for name in files:
        if name.name == "manifest.json":
            continue  # holds the job file's path, the same here, but also library versions
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


# --- the shipped jobs, the CLI and the files ---------------------------------------------------------

@pytest.fixture(scope="module")
def sagemaker():
    return service_model("sagemaker")


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("recommend") / "job"
    done = subprocess.run([sys.executable, "-m", "simfleet", "recommend", str(EXAMPLE_JSON), "--model",
                           "xgboost-tabular", "--out", str(out)], capture_output=True, text=True, check=False)
    return done, out


def test_the_aws_request_runs_unchanged_and_writes_aws_shapes(example_run, sagemaker):
    done, out = example_run
    assert done.returncode == 0, done.stderr
    assert "Configuration" in done.stdout and "CostPerHour" in done.stdout
    describe = json.loads((out / "recommendations.json").read_text())
    steps = json.loads((out / "steps.json").read_text())
    output = sagemaker.operation_model("DescribeInferenceRecommendationsJob").output_shape
    assert shape_problems(describe, output, "describe", extra={"simfleet"}) == []
    describe.pop("simfleet")
    report = ParamValidator().validate(describe, output)
    assert not report.has_errors(), report.generate_report()
    steps_shape = sagemaker.operation_model("ListInferenceRecommendationsJobSteps").output_shape
    assert shape_problems(steps, steps_shape, "steps", extra={"simfleet"}) == []
    request = json.loads(EXAMPLE_JSON.read_text())
    assert describe["InputConfig"] == request["InputConfig"]
    assert describe["StoppingConditions"] == request["StoppingConditions"]
    assert describe["Status"] == "COMPLETED"
    assert len(steps["Steps"]) == len(request["InputConfig"]["EndpointConfigurations"])


def test_cost_and_count_identities_on_every_recommendation(example_run):
    _, out = example_run
    describe = json.loads((out / "recommendations.json").read_text())
    target = describe["StoppingConditions"]["MaxInvocations"]
    tests = {t["endpoint_name"]: t for t in describe["simfleet"]["load_tests"]}
    assert describe["InferenceRecommendations"]
    for rec in describe["InferenceRecommendations"]:
        metrics, endpoint = rec["Metrics"], rec["EndpointConfiguration"]
        test = tests[endpoint["EndpointName"]]
        count, per_instance = endpoint["InitialInstanceCount"], test["per_instance_max_invocations"]
        price = CATALOG[endpoint["InstanceType"]].price_per_hour
        assert count == max(1, math.ceil(target / per_instance))
        assert metrics["MaxInvocations"] == per_instance * count
        assert metrics["CostPerHour"] == pytest.approx(price * count, rel=1e-12)
        assert metrics["CostPerInference"] == pytest.approx(metrics["CostPerHour"] / (metrics["MaxInvocations"] * 60),
                                                           rel=1e-12)
        assert count * per_instance >= target  # the recommended fleet carries the expected load


def test_each_test_is_a_run_directory_with_the_load_generator_metrics(example_run):
    import pandas as pd

    _, out = example_run
    describe = json.loads((out / "recommendations.json").read_text())
    for test in describe["simfleet"]["load_tests"]:
        metrics = pd.read_parquet(out / "tests" / test["endpoint_name"] / "metrics.parquet")
        client = metrics[metrics.namespace == "/aws/sagemaker/InferenceRecommendationsJobs"]
        assert set(client.metric_name) >= {"ClientInvocations", "ClientLatency", "NumberOfUsers"}
        assert set(client.JobName) == {describe["JobName"]}
        invocations = metrics[(metrics.metric_name == "Invocations")].set_index("timestamp")["sum"]
        sent = client[client.metric_name == "ClientInvocations"].set_index("timestamp")["sum"]
        # the client's requests are the endpoint's (no other traffic), minute by minute
        assert sent.to_dict() == invocations.to_dict()


def test_toml_job_with_simfleet_settings_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "simfleet", "recommend", str(EXAMPLE_TOML), "--out",
                           str(tmp_path / "job"), "--cost", "high", "--latency", "low"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Cost: High importance, Latency: Low importance" in done.stdout
    describe = json.loads((tmp_path / "job" / "recommendations.json").read_text())
    assert len(describe["InferenceRecommendations"]) >= 4


def test_environment_parameter_ranges_expand_into_one_test_per_combination():
    the_job = job(["ml.c5.large"], phases=((1, 3, 180),), EndpointConfigurations=[{
        "InstanceType": "ml.c5.large", "EnvironmentParameterRanges": {"CategoricalParameterRanges": [
            {"Name": "OMP_NUM_THREADS", "Value": ["1", "2"]}, {"Name": "MODEL_SERVER_WORKERS", "Value": ["1", "2", "4"]}]}}])
    tests = planned_tests(the_job, CATALOG)
    assert [t.environment_parameters for t in tests] == [
        (("OMP_NUM_THREADS", a), ("MODEL_SERVER_WORKERS", b)) for a in "12" for b in "124"]
    outcome = run_job(the_job, workers=1)
    theory = capacity_per_minute("ml.c5.large")
    for test, result in zip(tests, outcome.results):
        # the profile does not model environment variables: every combination carries the capacity
        assert abs(result.plateau.level_invocations - theory) / theory < 0.03
        assert result.environment_parameters == test.environment_parameters
    capped = job(["ml.c5.large"], phases=((1, 3, 180),), resource_limit={"MaxNumberOfTests": 4},
                 EndpointConfigurations=the_job.request.model_dump(exclude_none=True)["InputConfig"][
                     "EndpointConfigurations"])
    assert len(planned_tests(capped, CATALOG)) == 4


# --- Default jobs --------------------------------------------------------------------------------

def test_default_candidates_follow_the_stated_rule():
    chosen = default_candidates(XGBOOST, CATALOG)
    assert 1 <= len(chosen) <= MAX_DEFAULT_CANDIDATES
    prices = [CATALOG[name].price_per_hour for name in chosen]
    assert prices == sorted(prices)
    families: dict[str, int] = {}
    for name in chosen:
        instance = CATALOG[name]
        entry = XGBOOST.entry_for(instance)
        assert entry is not None and not fit_problems(entry, instance, "xgboost-tabular")
        assert not name.startswith("ml.t2.")
        families[instance.family] = families.get(instance.family, 0) + 1
        # the smallest sizes of the family come first: no smaller priced size of it was skipped
        smaller = [other for other in CATALOG.values() if other.family == instance.family
                   and other.price_per_hour is not None and other.vcpus < instance.vcpus]
        assert len(smaller) < DEFAULT_CANDIDATES_PER_FAMILY
    assert max(families.values()) <= DEFAULT_CANDIDATES_PER_FAMILY
    assert default_candidates(XGBOOST, CATALOG, ["ml.m5.large", "ml.c5.large"]) == ["ml.m5.large", "ml.c5.large"]


@settings(max_examples=40)
@given(st.integers(1, 96), st.floats(0.5, 10), st.sampled_from([60.0, 300.0, 600.0, 3600.0]))
def test_default_ramp_reaches_its_users_within_the_ramp(workers, per_worker, ramp):
    knots = default_knots(workers, per_worker, ramp)
    users = [n for _, n in knots]
    assert knots[0] == (0.0, 1) and knots[-1] == (ramp, 0)
    assert max(users) == max(2, math.ceil(per_worker * workers))
    assert all(b - a == 1 for a, b in zip(users[:-2], users[1:-1]))   # one user at a time
    assert all(t < ramp for t, _ in knots[:-1])


def test_default_job_runs_its_candidates(tmp_path):
    doc = {"JobName": "default-job", "JobType": "Default", "RoleArn": "arn:aws:iam::123456789012:role/R",
           "InputConfig": {"ModelName": "fraud-model", "ContainerConfig": {
               "SupportedInstanceTypes": ["ml.c5.large", "ml.m5.large"]}},
           "simfleet": {"model": "xgboost-tabular", "default_ramp": "3min"}}
    path = tmp_path / "default.json"
    path.write_text(json.dumps(doc))
    outcome = run_job(load_job_file(path), workers=1)
    assert [r.instance_type for r in outcome.results] == ["ml.c5.large", "ml.m5.large"]
    for result in outcome.results:
        assert result.succeeded and result.initial_instance_count == 1


def test_cli_quiet_and_json(tmp_path):
    """--json: one JSON object on stdout holding the response recommendations.json holds; --quiet:
    nothing at all."""
    doc = {"JobName": "default-job", "JobType": "Default", "RoleArn": "arn:aws:iam::123456789012:role/R",
           "InputConfig": {"ModelName": "fraud-model", "ContainerConfig": {"SupportedInstanceTypes": ["ml.c5.large"]}},
           "simfleet": {"model": "xgboost-tabular", "default_ramp": "2min"}}
    path = tmp_path / "default.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["recommend", str(path), "--out", str(out), "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["response"] == json.loads((out / "recommendations.json").read_text())
    assert printed["load_tests"] == len(json.loads((out / "steps.json").read_text())["Steps"]) == 1
    assert printed["out"] == str(out) and printed["requests"] > 0
    quiet = CliRunner().invoke(app, ["recommend", str(path), "--out", str(tmp_path / "q"), "--workers", "1", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""


# --- bad job files ---------------------------------------------------------------------------------

def _recommend(tmp_path, doc, *args, suffix=".json"):
    """`simfleet recommend` on `doc` written to a job file, in this process (the refusals happen before
    any simulation: a fresh interpreter per case would only add its start-up). An exception other than
    the command's own exit (typer's `Exit`, click's usage error) is a crash: the test fails on it."""
    path = tmp_path / f"job{suffix}"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    result = CliRunner().invoke(app, ["recommend", str(path), "--out", str(tmp_path / "out"), *args])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d["InputConfig"]["EndpointConfigurations"].append({"ServerlessConfig": {
        "MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 1}}),
     "ProvisionedConcurrency is not supported for serverless endpoint recommendations"),
    (lambda d: d["InputConfig"]["EndpointConfigurations"].append({"InstanceType": "ml.t2.medium"}),
     "Burstable instance type ml.t2.medium is not allowed"),
    (lambda d: d["InputConfig"]["EndpointConfigurations"].append({"InstanceType": "ml.g5.xlarge"}),
     "no service entry for ml.g5.xlarge"),
    (lambda d: d.update(JobName="bad_name"), "JobName"),
    (lambda d: d["StoppingConditions"].update(MaxInvocations=0), "MaxInvocations"),
    (lambda d: d["InputConfig"].update(JobDurationInSeconds=60), "should not be more than Job duration"),
    (lambda d: d.pop("StoppingConditions"), "required for JobType Advanced"),
])
def test_bad_requests_exit_3_with_one_line_naming_the_field(tmp_path, change, fragment):
    doc = json.loads(EXAMPLE_JSON.read_text())
    change(doc)
    done = _recommend(tmp_path, doc, "--model", "xgboost-tabular")
    assert done.exit_code == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert any(fragment in line for line in lines), lines
    assert all(line.startswith("error: ") and "job.json" in line for line in lines)
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_request_without_a_model_says_to_give_one(tmp_path):
    done = _recommend(tmp_path, json.loads(EXAMPLE_JSON.read_text()))
    assert done.exit_code == 3 and "--model" in done.stderr and "simfleet.model" in done.stderr


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected an object"),
])
def test_unreadable_job_files(tmp_path, text, fragment):
    done = _recommend(tmp_path, text, "--model", "xgboost-tabular")
    assert done.exit_code == 3 and fragment in done.stderr and "Traceback" not in done.stderr


def test_missing_file_wrong_suffix_and_bad_importance(tmp_path):
    # the real process, as a user runs it: its exit status and its stderr
    done = subprocess.run([sys.executable, "-m", "simfleet", "recommend", str(tmp_path / "nope.json")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "nope.json" in done.stderr and "Traceback" not in done.stderr
    done = _recommend(tmp_path, "{}", suffix=".yaml")
    assert done.exit_code == 3 and "expected a job file ending in .json" in done.stderr
    done = _recommend(tmp_path, json.loads(EXAMPLE_JSON.read_text()), "--model", "xgboost-tabular",
                      "--cost", "urgent")
    assert done.exit_code == 2 and "urgent" in done.stderr and "Traceback" not in done.stderr


def test_bad_simfleet_settings_name_the_key():
    with pytest.raises(InputError) as caught:
        job(simfleet={"start_time": "2026-01-01T00:00:30Z"})
    assert [p.key for p in caught.value.problems] == ["simfleet.start_time"]
    with pytest.raises(InputError) as caught:
        job(simfleet={"default_ramp": "10s", "think_time": "-1s"})
    assert sorted(p.key for p in caught.value.problems) == ["simfleet.default_ramp", "simfleet.think_time"]


def test_rewriting_a_job_folder_replaces_the_earlier_job_as_a_whole(tmp_path):
    out = tmp_path / "job"
    write_job(run_job(job(["ml.c5.large", "ml.m5.large"], phases=((1, 3, 120),)), workers=1), out)
    smaller = run_job(job(["ml.c5.large"], phases=((1, 3, 120),)), workers=1)
    write_job(smaller, out)
    assert sorted(p.name for p in (out / "tests").iterdir()) == ["test-job-1"]
    steps = json.loads((out / "steps.json").read_text())["Steps"]
    assert len(steps) == 1
    (out / "tests" / "notes").mkdir()  # a file of the user's inside: the folder is no longer only simfleet's
    (out / "tests" / "notes" / "mine.txt").write_text("kept")
    with pytest.raises(InputError, match="it holds 'tests/notes/mine.txt'.*add --force"):
        write_job(smaller, out)
    assert (out / "tests" / "notes" / "mine.txt").read_text() == "kept"
    write_job(smaller, out, force=True)
    assert sorted(p.name for p in (out / "tests").iterdir()) == ["test-job-1"]
