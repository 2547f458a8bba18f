"""Inference Recommender results: stopping conditions, the plateau, capacity and cost identities,
the AWS response shapes (checked against botocore's SageMaker service model), ranking and the
terminal table."""

import json
import math
import re
from datetime import datetime, timedelta, timezone

import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from aws_shapes import shape_problems
from simfleet.recommender import plateau as plateau_module, ranking, responses, results, stopping
from simfleet.recommender.job_request import CreateInferenceRecommendationsJob
from simfleet.recommender.plateau import PlateauRule, find_plateau
from simfleet.recommender.ranking import Importance, Preferences, rank, table
from simfleet.recommender.responses import (describe_job_response, inference_recommendation,
                                            inference_recommendations_job_step, list_job_steps_response, to_json)
from simfleet.recommender.results import (cost_per_inference, endpoint_name, evaluate_load_test, evaluate_monitor,
                                          initial_instance_count, recommendation_id)
from simfleet.recommender.stopping import (CONTINUE, FlatnessRule, LatencyThreshold, MinuteObservation, StopDecision,
                                           StoppingMonitor)
from aws_models import service_model

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20211026"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
P95_100 = LatencyThreshold("P95", 100)
#: The SageMaker Python SDK's check of an inference_recommendation_id (sagemaker/inference_recommender).
SDK_RECOMMENDATION_ID = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}\/\w{8}$")


def request(**stopping_conditions):
    return {
        "JobName": "xgboost-load-test", "JobType": "Advanced", "RoleArn": ROLE,
        "JobDescription": "four instance types",
        "InputConfig": {
            "ModelPackageVersionArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-churn/1",
            "JobDurationInSeconds": 7200,
            "TrafficPattern": {"TrafficType": "PHASES",
                               "Phases": [{"InitialNumberOfUsers": 1, "SpawnRate": 1, "DurationInSeconds": 900}]},
            "ResourceLimit": {"MaxNumberOfTests": 10, "MaxParallelOfTests": 3},
            "EndpointConfigurations": [{"InstanceType": t} for t in
                                       ("ml.c5.xlarge", "ml.m5.large", "ml.c5d.xlarge", "ml.r5.xlarge")],
        },
        "StoppingConditions": {"MaxInvocations": 1000,
                               "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 100}],
                               "FlatInvocations": "Stop", **stopping_conditions},
    }


def minutes(invocations, users=None, latency_ms=None, start_s=60.0):
    """Observations of consecutive minutes; users default to 1, 2, 3, …; latency to 10 ms."""
    users = users if users is not None else list(range(1, len(invocations) + 1))
    latency_ms = latency_ms if latency_ms is not None else [10.0] * len(invocations)
    return [MinuteObservation(start_s + 60.0 * i, n, lat, u)
            for i, (n, u, lat) in enumerate(zip(invocations, users, latency_ms))]


def feed(monitor, observations):
    """Feed minutes until the monitor says stop; the decision and how many minutes it took."""
    decision = CONTINUE
    for i, minute in enumerate(observations):
        decision = monitor.observe(minute)
        if decision.stop:
            return decision, i + 1
    return decision, len(observations)


def evaluate(observations, stop=CONTINUE, index=0, instance_type="ml.c5.xlarge", **kwargs):
    fields = dict(job_name="xgboost-load-test", index=index, instance_type=instance_type, start_time=T0,
                  end_time=T0 + timedelta(minutes=len(observations)), target_invocations=1000,
                  latency_threshold=P95_100, price_per_hour=0.204)
    fields.update(kwargs)
    return evaluate_load_test(observations, stop, **fields)


# --- stopping conditions ---------------------------------------------------------------------------

def test_latency_threshold_fires_only_strictly_over():
    monitor = StoppingMonitor(latency_threshold=P95_100)
    decision, used = feed(monitor, minutes([100, 200, 300, 400], latency_ms=[50, 99.9, 100, 100]))
    assert not decision.stop and used == 4  # exactly at the threshold is within it
    decision = monitor.observe(MinuteObservation(300.0, 500, 100.001, 5))
    assert decision.stop and decision.condition == "ModelLatencyThresholds" and decision.minute == 4
    assert "P95" in decision.reason and "100 ms" in decision.reason


def test_minute_without_requests_never_breaches_latency():
    monitor = StoppingMonitor(latency_threshold=LatencyThreshold("P99", 5))
    decision, _ = feed(monitor, minutes([0, 0, 0], latency_ms=[None, None, None], users=[1, 1, 1]))
    assert decision is CONTINUE


def test_max_invocations_fires_at_the_target_not_below():
    monitor = StoppingMonitor(max_invocations=1000, flat_invocations="Continue")
    decision, used = feed(monitor, minutes([400, 800, 999, 1000, 1200]))
    assert decision.stop and decision.condition == "MaxInvocations" and used == 4
    assert "1000 invocations" in decision.reason and "MaxInvocations 1000" in decision.reason


def test_flat_invocations_stop_fires_when_users_grow_and_invocations_do_not():
    monitor = StoppingMonitor(max_invocations=30_000, latency_threshold=P95_100)
    decision, used = feed(monitor, minutes([200, 400, 600, 610, 612, 611, 613, 612]))
    assert decision.stop and decision.condition == "FlatInvocations"
    assert used == 6  # minute 5 vs minute 2: +1.8 % while users went 3 → 6
    assert monitor.flat_minute == 5 and "users went 3 → 6" in decision.reason


def test_flat_invocations_never_fire_while_users_stay_put():
    monitor = StoppingMonitor()
    decision, used = feed(monitor, minutes([600] * 30, users=[5] * 30))
    assert decision is CONTINUE and used == 30 and monitor.flat_minute is None


def test_flat_invocations_continue_notes_the_flat_minute_but_runs_on():
    monitor = StoppingMonitor.from_stopping_conditions({"FlatInvocations": "Continue"})
    decision, used = feed(monitor, minutes([200, 400, 600, 610, 612, 611, 613, 612]))
    assert decision is CONTINUE and used == 8 and monitor.flat_minute == 5


def test_users_joining_at_the_end_of_a_minute_do_not_count_as_growth():
    # stairs: 4 users for a long step, then 2 more at the very end of minute 6 (counted in its end users)
    users = [4] * 6 + [6]
    monitor = StoppingMonitor()
    decision, _ = feed(monitor, minutes([800] * 7, users=users))
    assert decision is CONTINUE
    assert monitor.observe(MinuteObservation(480.0, 801, 10.0, 6)).condition == "FlatInvocations"


def test_several_conditions_in_one_minute_name_the_first_and_list_the_others():
    monitor = StoppingMonitor(max_invocations=500, latency_threshold=P95_100)
    decision = monitor.observe(MinuteObservation(60.0, 700, 150.0, 3))
    assert decision.condition == "ModelLatencyThresholds" and decision.also == ("MaxInvocations",)


def test_job_duration_and_end_of_traffic_are_recorded():
    monitor = StoppingMonitor()
    monitor.observe(MinuteObservation(60.0, 10, 5.0, 1))
    assert monitor.check_job_duration(60.0, 120) is CONTINUE
    assert monitor.check_job_duration(120.0, None) is CONTINUE
    decision = monitor.check_job_duration(120.0, 120)
    assert decision.stop and decision.condition == "JobDurationInSeconds"
    assert monitor.end_of_traffic(180.0) is decision  # the first reason stays
    other = StoppingMonitor()
    assert other.end_of_traffic(900.0).condition == "TrafficPattern"


def test_monitor_refuses_minutes_after_stopping_or_out_of_order():
    monitor = StoppingMonitor(max_invocations=1)
    monitor.observe(MinuteObservation(60.0, 5, 1.0, 1))
    with pytest.raises(RuntimeError, match="already stopped"):
        monitor.observe(MinuteObservation(120.0, 5, 1.0, 1))
    other = StoppingMonitor()
    other.observe(MinuteObservation(60.0, 5, 1.0, 1))
    with pytest.raises(ValueError, match="time order"):
        other.observe(MinuteObservation(60.0, 5, 1.0, 1))
    with pytest.raises(ValueError, match="invocations"):
        MinuteObservation(60.0, -1, 1.0, 1)
    with pytest.raises(ValueError, match="P95 or P99"):
        LatencyThreshold("P50", 10)


def test_monitor_from_the_validated_request_and_from_json():
    model = CreateInferenceRecommendationsJob.model_validate(request())
    for conditions in (model.StoppingConditions, request()["StoppingConditions"]):
        monitor = StoppingMonitor.from_stopping_conditions(conditions)
        assert monitor.max_invocations == 1000 and monitor.latency_threshold == P95_100
        assert monitor.flat_invocations == "Stop"
    default = StoppingMonitor.from_stopping_conditions(None)
    assert default.max_invocations is None and default.latency_threshold is None
    assert default.flat_invocations == "Stop"


@settings(max_examples=150)
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=25), st.integers(0, 50))
def test_constant_users_never_stop_on_flat_invocations(invocations, users):
    monitor = StoppingMonitor()
    decision, _ = feed(monitor, minutes(invocations, users=[users] * len(invocations)))
    assert decision is CONTINUE


@settings(max_examples=150)
@given(st.data())
def test_invocations_in_proportion_to_users_never_look_flat(data):
    """Below capacity a closed loop's invocations follow its users; whatever the users did inside
    each minute (between its start and end counts), that is never flat."""
    steps = data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=25))
    users = [1]
    for step in steps:
        users.append(users[-1] + step)
    per_user = data.draw(st.integers(1, 500))
    active = [users[0]] + [data.draw(st.integers(min(a, b), max(a, b))) for a, b in zip(users, users[1:])]
    rule = FlatnessRule(window_minutes=data.draw(st.integers(1, 4)))
    monitor = StoppingMonitor(flatness=rule)
    decision, _ = feed(monitor, minutes([per_user * a for a in active], users=users))
    assert decision is CONTINUE


# --- the plateau -----------------------------------------------------------------------------------

def test_plateau_of_a_rising_then_flat_series_is_its_first_flat_minute():
    found = find_plateau(minutes([100, 200, 300, 400, 400, 401, 399]), P95_100)
    assert found.minute == 3 and found.level_invocations == 401 and not found.limited_by_latency


def test_plateau_of_a_latency_limited_series_is_the_last_minute_within_the_threshold():
    series = minutes([100, 200, 300, 400, 500], latency_ms=[10, 20, 40, 99, 180])
    found = find_plateau(series, P95_100)
    assert found.minute == 3 and found.model_latency_ms == 99 and found.limited_by_latency


def test_plateau_tolerance_is_a_parameter():
    series = minutes([100, 200, 390, 400, 400])
    assert find_plateau(series).minute == 2  # 390 is within 5 % of 400
    assert find_plateau(series, rule=PlateauRule(level_tolerance_pct=0)).minute == 3
    with pytest.raises(ValueError):
        PlateauRule(level_tolerance_pct=100)


def test_no_plateau_when_no_minute_is_within_the_threshold():
    assert find_plateau(minutes([300, 400], latency_ms=[150, 160]), P95_100) is None
    assert find_plateau([], P95_100) is None
    result = evaluate(minutes([300, 400], latency_ms=[150, 160]))
    assert not result.succeeded and "first minute was already over" in result.failure_reason


@settings(max_examples=150)
@given(st.integers(2, 8), st.integers(1, 10), st.integers(100, 30_000), st.data())
def test_plateau_of_generated_saturating_series(rise, flat, level, data):
    # strictly under 95 % of the level while rising, then within [96 %, 100 %] of it
    rising = sorted(data.draw(st.lists(st.integers(1, int(level * 0.94)), min_size=rise, max_size=rise)))
    flat_part = data.draw(st.lists(st.integers(math.ceil(level * 0.96), level), min_size=flat, max_size=flat))
    flat_part[data.draw(st.integers(0, flat - 1))] = level
    found = find_plateau(minutes(rising + flat_part), None)
    assert found.minute == rise and found.level_invocations == level
    # cut by the latency threshold while still rising by more than the tolerance each minute
    steep = [int(100 * 1.1 ** i) for i in range(rise + 1)]
    latency = [10.0] * rise + [101.0]
    found = find_plateau(minutes(steep, latency_ms=latency), P95_100)
    assert found.minute == rise - 1 and found.limited_by_latency


# --- capacity and cost -----------------------------------------------------------------------------

def test_aws_doc_examples_cost_per_inference():
    # Default-job examples [IRINST] (CostPerHour as AWS returns it, float32) and the load-test example [IRLOAD]
    assert cost_per_inference(0.20399999618530273, 648) == pytest.approx(5.246913588052848e-06, rel=1e-12)
    assert cost_per_inference(0.115, 655) == pytest.approx(2.9262e-06, rel=1e-4)
    assert cost_per_inference(0.115, 570) == pytest.approx(3.3626e-06, rel=1e-4)
    assert cost_per_inference(0.6899999976158142, 1113) == pytest.approx(1.0332434612791985e-05, rel=1e-12)


def test_aws_load_test_example_reproduced():
    """ml.c5d.xlarge, MaxInvocations 1000, P95 100 ms: AWS reports InitialInstanceCount 3,
    MaxInvocations 1113, CostPerHour 0.69, ModelLatency 100000 [IRLOAD]."""
    series = minutes([120, 250, 371, 371, 370, 371], latency_ms=[20, 60, 100, 100, 100, 100])
    result = evaluate(series, instance_type="ml.c5d.xlarge", price_per_hour=0.23)
    assert result.initial_instance_count == 3 and result.max_invocations == 1113
    assert result.model_latency_us == 100_000 and result.cost_per_hour == pytest.approx(0.69)
    assert result.cost_per_inference == pytest.approx(1.0332434612791985e-05, rel=1e-6)


def test_initial_instance_count_edges():
    assert initial_instance_count(1000, 1000) == 1
    assert initial_instance_count(1000, 999) == 2
    assert initial_instance_count(1, 50_000) == 1
    assert initial_instance_count(None, 400, tested=2) == 2
    with pytest.raises(ValueError):
        initial_instance_count(1000, 0)


@st.composite
def saturating_tests(draw):
    """A closed loop ramping up users against `tested` instances of a per-instance capacity."""
    tested = draw(st.integers(1, 4))
    capacity = draw(st.integers(1, 3000))
    per_user = draw(st.integers(1, 400))
    n = draw(st.integers(1, 20))
    users = [1 + i * draw(st.integers(1, 3)) for i in range(n)]
    invocations = [min(per_user * u, capacity * tested) for u in users]
    latency = [5.0 + 100.0 * u * per_user / (capacity * tested) for u in users]
    target = draw(st.integers(1, 30_000))
    price = draw(st.one_of(st.none(), st.floats(0.01, 100.0)))
    threshold = LatencyThreshold(draw(st.sampled_from(["P95", "P99"])), draw(st.integers(20, 500)))
    return minutes(invocations, users=users, latency_ms=latency), tested, target, price, threshold


@settings(max_examples=200)
@given(saturating_tests())
def test_cost_and_capacity_identities(case):
    series, tested, target, price, threshold = case
    monitor = StoppingMonitor(max_invocations=target, latency_threshold=threshold)
    feed(monitor, series)
    result = evaluate_monitor(monitor, job_name="j", index=0, instance_type="ml.c5.xlarge", start_time=T0,
                              end_time=T0, price_per_hour=price, instance_count=tested)
    if not result.succeeded:
        assert result.plateau is None or result.plateau.level_invocations < tested
        return
    per, count = result.per_instance_max_invocations, result.initial_instance_count
    if monitor.decision.condition == "MaxInvocations" and tested == 1:
        assert count == 1  # the instance carried the expected load
    assert per == result.plateau.level_invocations // tested
    assert count * per >= target and (count - 1) * per < target
    assert result.max_invocations == per * count
    assert result.model_latency_us <= threshold.value_ms * 1000
    if price is None:
        assert result.cost_per_hour is None and result.cost_per_inference is None
        assert "CostPerHour" not in inference_recommendation(result)["Metrics"]
    else:
        assert result.cost_per_hour == pytest.approx(price * count, rel=1e-12)
        assert result.cost_per_inference * result.max_invocations * 60 == pytest.approx(result.cost_per_hour,
                                                                                        rel=1e-9)


# --- identifiers -----------------------------------------------------------------------------------

JOB_NAMES = st.from_regex(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}", fullmatch=True).filter(lambda s: len(s) <= 64)


@settings(max_examples=100)
@given(JOB_NAMES, st.integers(0, 9))
def test_recommendation_ids_are_deterministic_and_what_the_sdk_accepts(job_name, index):
    rid = recommendation_id(job_name, index)
    assert rid == recommendation_id(job_name, index) and rid.startswith(job_name + "/")
    assert SDK_RECOMMENDATION_ID.match(rid)
    assert len({recommendation_id(job_name, i) for i in range(10)}) == 10
    name = endpoint_name(job_name, index)
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name) and len(name) <= 63


def test_recommendation_id_is_fixed_across_runs():
    assert recommendation_id("xgboost-load-test", 0) == recommendation_id("xgboost-load-test", 0)
    assert recommendation_id("xgboost-load-test", 0) != recommendation_id("xgboost-load-test", 1)
    assert recommendation_id("xgboost-load-test", 0) != recommendation_id("xgboost-load-tesT", 0)
    assert endpoint_name("a" * 64, 9) == "a" * 40 + "-10"


# --- AWS shapes ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sagemaker():
    return service_model("sagemaker")


def four_tests():
    """Four load tests of one job: saturating, latency-limited, no price, and one that failed."""
    c5 = evaluate(minutes([200, 400, 600, 648, 650, 649], latency_ms=[20, 30, 40, 60, 62, 61]), index=0,
                  stop=StopDecision(True, "FlatInvocations", "flat", 5, 360.0),
                  cpu_utilization=[10.0, 20.0, 30.0, 38.0, 39.0, 39.5], memory_utilization=[5.0] * 6,
                  environment_parameters={"OMP_NUM_THREADS": "2"})
    m5 = evaluate(minutes([200, 400, 570, 700], latency_ms=[20, 50, 90, 130]), index=1, instance_type="ml.m5.large",
                  price_per_hour=0.115, stop=StopDecision(True, "ModelLatencyThresholds", "slow", 3, 240.0),
                  inference_specification_name="xgboost-spec")
    c5d = evaluate(minutes([371, 371, 370], latency_ms=[100, 100, 100]), index=2, instance_type="ml.c5d.xlarge",
                   price_per_hour=None)
    r5 = evaluate(minutes([5, 5], latency_ms=[400, 500]), index=3, instance_type="ml.r5.xlarge",
                  stop=StopDecision(True, "ModelLatencyThresholds", "slow", 0, 60.0), price_per_hour=0.252)
    return [c5, m5, c5d, r5]


def test_recommendation_and_step_dicts_match_botocore(sagemaker):
    tests = four_tests()
    for result in tests:
        step = inference_recommendations_job_step(result)
        assert not shape_problems(step, sagemaker.shape_for("InferenceRecommendationsJobStep"), "step")
        assert not ParamValidator().validate(step, sagemaker.shape_for("InferenceRecommendationsJobStep")).has_errors()
        assert step["Status"] == ("COMPLETED" if result.succeeded else "FAILED")
        if result.succeeded:
            rec = inference_recommendation(result)
            assert not shape_problems(rec, sagemaker.shape_for("InferenceRecommendation"), "rec")
            assert not ParamValidator().validate(rec, sagemaker.shape_for("InferenceRecommendation")).has_errors()
    c5, m5, c5d, r5 = tests
    rec = inference_recommendation(c5)
    assert rec["Metrics"]["CpuUtilization"] == 38.0 and rec["Metrics"]["ModelLatency"] == 60_000
    assert rec["ModelConfiguration"]["EnvironmentParameters"] == [
        {"Key": "OMP_NUM_THREADS", "ValueType": "String", "Value": "2"}]
    assert math.isnan(inference_recommendation(m5)["Metrics"]["CpuUtilization"])
    assert set(inference_recommendation(c5d)["Metrics"]) == {"MaxInvocations", "ModelLatency", "CpuUtilization",
                                                             "MemoryUtilization"}
    failed = inference_recommendations_job_step(r5)["InferenceBenchmark"]
    assert "Metrics" not in failed and "latency threshold" in failed["FailureReason"]
    with pytest.raises(ValueError, match="no recommendation"):
        inference_recommendation(r5)


def test_mismatches_are_caught_by_the_shape_check(sagemaker):
    rec = inference_recommendation(four_tests()[0])
    rec["Metrics"]["MaximumInvocations"] = rec["Metrics"].pop("MaxInvocations")  # the doc examples' old name
    rec["EndpointConfiguration"]["InitialInstanceCount"] = 0
    rec["EndpointConfiguration"]["InstanceType"] = "ml.c5.huge"
    del rec["ModelConfiguration"]
    problems = "\n".join(shape_problems(rec, sagemaker.shape_for("InferenceRecommendation"), "rec"))
    for fragment in ("MaximumInvocations: not a member", "InitialInstanceCount 0 under the minimum 1",
                     "'ml.c5.huge' not in the enumeration", "ModelConfiguration: required member"):
        assert fragment in problems


@pytest.mark.parametrize("as_model", [False, True])
def test_describe_response_and_its_json_match_botocore(sagemaker, as_model):
    tests = four_tests()
    job = CreateInferenceRecommendationsJob.model_validate(request()) if as_model else request()
    response = describe_job_response(job, tests, creation_time=T0, completion_time=T0 + timedelta(hours=1))
    shape = sagemaker.shape_for("DescribeInferenceRecommendationsJobResponse")
    assert not shape_problems(response, shape, "", extra={"simfleet"})
    parsed = json.loads(to_json(response))
    assert not shape_problems(parsed, shape, "", extra={"simfleet"})
    assert response["Status"] == "COMPLETED" and len(response["InferenceRecommendations"]) == 3
    assert [r["RecommendationId"] for r in response["InferenceRecommendations"]] == [
        r.recommendation_id for r in rank(tests)]
    assert response["JobArn"] == ("arn:aws:sagemaker:us-east-1:123456789012:inference-recommendations-job/"
                                  "xgboost-load-test")
    assert parsed["InputConfig"] == request()["InputConfig"]
    assert parsed["StoppingConditions"] == request()["StoppingConditions"]
    assert parsed["simfleet"]["units"]["ModelLatency"] == "Microseconds"
    stops = {t["instance_type"]: t["stop_condition"] for t in parsed["simfleet"]["load_tests"]}
    assert stops["ml.m5.large"] == "ModelLatencyThresholds" and stops["ml.r5.xlarge"] == "ModelLatencyThresholds"
    assert parsed["InferenceRecommendations"][0]["InvocationStartTime"] == "2026-01-05T09:00:00+00:00"
    steps = list_job_steps_response(tests)
    assert not shape_problems(steps, sagemaker.shape_for("ListInferenceRecommendationsJobStepsResponse"), "",
                              extra={"simfleet"})
    assert not shape_problems(json.loads(to_json(steps)),
                              sagemaker.shape_for("ListInferenceRecommendationsJobStepsResponse"), "",
                              extra={"simfleet"})


def test_describe_response_of_a_job_without_any_recommendation(sagemaker):
    failed = four_tests()[3]
    response = describe_job_response(request(), [failed], creation_time=T0)
    assert response["Status"] == "FAILED" and "InferenceRecommendations" not in response
    assert failed.endpoint_name in response["FailureReason"]
    assert not shape_problems(response, sagemaker.shape_for("DescribeInferenceRecommendationsJobResponse"), "",
                              extra={"simfleet"})
    assert "simfleet" not in describe_job_response(request(), [failed], creation_time=T0, simfleet=False)


# --- ranking and the table -------------------------------------------------------------------------

def test_the_five_console_levels():
    assert [level.label for level in Importance] == ["Lowest importance", "Low importance", "Moderate importance",
                                                     "High importance", "Highest importance"]
    assert Importance.parse("High importance") is Importance.HIGH is Importance.parse("high")
    assert Preferences(cost="highest").cost is Importance.HIGHEST
    with pytest.raises(ValueError, match="Moderate importance"):
        Importance.parse("critical")


@st.composite
def result_sets(draw):
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        per = draw(st.integers(60, 3000))
        latency = draw(st.floats(1.0, 99.0))
        price = draw(st.floats(0.05, 40.0))
        series = minutes([per // 2, per, per], latency_ms=[latency / 2, latency, latency])
        out.append(evaluate(series, index=i, price_per_hour=price, target_invocations=draw(st.integers(1, 9000))))
    return out


ONLY = {"cost": dict(cost="highest", latency="lowest", throughput="lowest"),
        "latency": dict(cost="lowest", latency="highest", throughput="lowest"),
        "throughput": dict(cost="lowest", latency="lowest", throughput="highest")}


@settings(max_examples=100)
@given(result_sets(), st.sampled_from(["CostPerHour", "CostPerInference"]))
def test_ranking_is_monotone_in_the_only_weighted_criterion(tests, cost_metric):
    by_cost = rank(tests, Preferences(**ONLY["cost"], cost_metric=cost_metric))
    costs = [r.cost_per_hour if cost_metric == "CostPerHour" else r.cost_per_inference for r in by_cost]
    assert costs == sorted(costs)
    latencies = [r.model_latency_us for r in rank(tests, Preferences(**ONLY["latency"]))]
    assert latencies == sorted(latencies)
    throughputs = [r.max_invocations for r in rank(tests, Preferences(**ONLY["throughput"]))]
    assert throughputs == sorted(throughputs, reverse=True)
    assert sorted(r.index for r in rank(tests)) == list(range(len(tests)))


def test_ranking_and_table():
    tests = four_tests()
    ranked = rank(tests, Preferences(cost="highest", latency="low", throughput="lowest"))
    assert [r.instance_type for r in ranked][:2] == ["ml.m5.large", "ml.c5.xlarge"]  # c5d has no price: last
    assert ranked[-1].instance_type == "ml.c5d.xlarge" and all(r.succeeded for r in ranked)
    text = table(tests, Preferences(cost="highest", latency="low", throughput="lowest"))
    lines = text.splitlines()
    header = lines[1]
    for column in ("Configuration", "Count", "MaxInvocations", "ModelLatency ms", "CostPerHour", "CostPerInference"):
        assert column in header
    rows = lines[3:]
    assert len(rows) == 4 and rows[0].split()[1] == "ml.m5.large"
    stop_column = header.index("Stopped by")
    assert all(row[stop_column - 2:stop_column] == "  " and row[stop_column] != " " for row in rows)
    assert "ModelLatencyThresholds" in rows[0] and "FlatInvocations" in rows[1]
    assert "ml.r5.xlarge" in rows[3] and "no recommendation" in rows[3]


def test_modules_export_what_they_define():
    for module in (stopping, plateau_module, results, responses, ranking):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
