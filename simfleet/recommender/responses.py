"""Load-test results in the shapes of SageMaker's responses: what `simfleet recommend` writes.

Output stage after `results`: `inference_recommendation` and `inference_recommendations_job_step`
build one `InferenceRecommendation` and one `InferenceRecommendationsJobStep` from a
`LoadTestResult`; `describe_job_response` and `list_job_steps_response` the whole
`DescribeInferenceRecommendationsJob` and `ListInferenceRecommendationsJobSteps` responses;
`to_json` writes them as the AWS CLI prints them. Member names, nesting, required members and
enumerations are those of botocore's `sagemaker` 2017-07-24 service model [BOTO-SM] (the tests
check every dict against it); AWS's doc examples use older names (`MaximumInvocations`,
`ModelConfiguration.Compiled`) that the API no longer has.

Units (the shapes have no member for them): CostPerHour USD per hour, CostPerInference USD,
MaxInvocations requests per minute, ModelLatency **microseconds** (DESIGN §4), ModelSetupTime
microseconds (AWS: "mide (en microsegundos)", seed 003), CpuUtilization and MemoryUtilization
percent.

Serverless recommendations (`serverless_tests`): `EndpointConfiguration` holds `ServerlessConfig`
{MemorySizeInMB, MaxConcurrency} instead of InstanceType and InitialInstanceCount (botocore's
`EndpointOutputConfiguration` makes all four optional; AWS's example template lists them all with
placeholder values); `Metrics` adds `ModelSetupTime` when the test had a cold start;
CpuUtilization is NaN (serverless endpoints publish no CPUUtilization [SRVMON]).

Decision: simfleet's own additions, these units included, go in one
top-level member named `simfleet` (lower case, as in job files, so it can never clash with an
AWS member); everything else is exactly the AWS shape.

Decision (members AWS leaves open): a cost member is left out when the instance's price is
unknown (the API documents NaN for not-available utilization, not for costs); CpuUtilization and
MemoryUtilization are NaN when not available, as documented, and the JSON writes NaN bare, as the
AWS CLI prints it; `EnvironmentParameter.ValueType` is "String"; `EndpointMetrics` of a benchmark
step (botocore's `InferenceMetrics`) holds what the endpoint under test itself carried at its
plateau (all instances tested, not scaled to InitialInstanceCount); a failed test appears as a
FAILED benchmark step with its FailureReason and no Metrics, and not among the
InferenceRecommendations; timestamps are datetimes (naive ones are UTC) and ISO 8601 in JSON;
`JobArn` takes partition and account from RoleArn, the Region from the caller (default
us-east-1) and the job name in lower case, as SageMaker writes names in ARNs.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from simfleet.recommender.ranking import Preferences, rank
from simfleet.recommender.results import LoadTestResult

__all__ = ["UNITS", "SIMFLEET_KEY", "MAX_RECOMMENDATIONS", "recommendation_metrics", "endpoint_output_configuration",
           "model_configuration", "inference_recommendation", "inference_recommendations_job_step",
           "list_job_steps_response", "describe_job_response", "job_arn", "to_json"]

SIMFLEET_KEY = "simfleet"
#: InferenceRecommendations holds 1 to 10 members [BOTO-SM].
MAX_RECOMMENDATIONS = 10
#: Units of the RecommendationMetrics members as simfleet writes them.
UNITS = {"CostPerHour": "USD/Hour", "CostPerInference": "USD", "MaxInvocations": "Count/Minute",
         "ModelLatency": "Microseconds", "CpuUtilization": "Percent", "MemoryUtilization": "Percent",
         "ModelSetupTime": "Microseconds"}
_ROLE_ARN = re.compile(r"arn:(aws[a-z\-]*):iam::(\d{12}):role/?.+")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def recommendation_metrics(result: LoadTestResult) -> dict:
    """`RecommendationMetrics` of a successful result."""
    metrics: dict[str, Any] = {}
    if result.cost_per_hour is not None:
        metrics["CostPerHour"] = result.cost_per_hour
        metrics["CostPerInference"] = result.cost_per_inference
    metrics["MaxInvocations"] = result.max_invocations
    if result.model_latency_us is not None:
        metrics["ModelLatency"] = result.model_latency_us
    metrics["CpuUtilization"] = math.nan if result.cpu_utilization is None else result.cpu_utilization
    metrics["MemoryUtilization"] = math.nan if result.memory_utilization is None else result.memory_utilization
    if result.model_setup_time_us is not None:
        metrics["ModelSetupTime"] = result.model_setup_time_us
    return metrics


def endpoint_output_configuration(result: LoadTestResult) -> dict:
    """`EndpointOutputConfiguration`: the recommended count, or for a failed test the count tested; a
    serverless test's ServerlessConfig instead of both."""
    names = {"EndpointName": result.endpoint_name, "VariantName": result.variant_name}
    if result.serverless is not None:
        return {**names, "ServerlessConfig": result.serverless.serverless_config()}
    count = result.initial_instance_count if result.succeeded else result.instance_count_tested
    return {**names, "InstanceType": result.instance_type, "InitialInstanceCount": count}


def model_configuration(result: LoadTestResult) -> dict:
    """`ModelConfiguration`: the inference specification and environment variables tested."""
    config: dict[str, Any] = {}
    if result.inference_specification_name is not None:
        config["InferenceSpecificationName"] = result.inference_specification_name
    if result.environment_parameters:
        config["EnvironmentParameters"] = [{"Key": key, "ValueType": "String", "Value": value}
                                           for key, value in result.environment_parameters]
    return config


def inference_recommendation(result: LoadTestResult) -> dict:
    """One member of `InferenceRecommendations`; a failed result has none (ValueError)."""
    if not result.succeeded:
        raise ValueError(f"load test {result.index} of {result.job_name} gave no recommendation: "
                         f"{result.failure_reason}")
    return {"RecommendationId": result.recommendation_id, "Metrics": recommendation_metrics(result),
            "EndpointConfiguration": endpoint_output_configuration(result),
            "ModelConfiguration": model_configuration(result),
            "InvocationStartTime": _utc(result.start_time), "InvocationEndTime": _utc(result.end_time)}


def inference_recommendations_job_step(result: LoadTestResult) -> dict:
    """One member of `ListInferenceRecommendationsJobSteps`' `Steps`: the BENCHMARK of a load test."""
    benchmark: dict[str, Any] = {}
    if result.succeeded:
        benchmark["Metrics"] = recommendation_metrics(result)
        if result.model_latency_us is not None:
            benchmark["EndpointMetrics"] = {"MaxInvocations": result.plateau.level_invocations,
                                            "ModelLatency": result.model_latency_us}
    benchmark["EndpointConfiguration"] = endpoint_output_configuration(result)
    benchmark["ModelConfiguration"] = model_configuration(result)
    if not result.succeeded:
        benchmark["FailureReason"] = result.failure_reason
    benchmark["InvocationStartTime"] = _utc(result.start_time)
    benchmark["InvocationEndTime"] = _utc(result.end_time)
    return {"StepType": "BENCHMARK", "JobName": result.job_name,
            "Status": "COMPLETED" if result.succeeded else "FAILED", "InferenceBenchmark": benchmark}


def _load_test_entry(result: LoadTestResult) -> dict:
    """What simfleet adds about one load test (in the `simfleet` member)."""
    plateau = result.plateau
    return {"recommendation_id": result.recommendation_id if result.succeeded else None,
            "endpoint_name": result.endpoint_name, "instance_type": result.instance_type,
            "serverless_config": None if result.serverless is None else result.serverless.serverless_config(),
            "status": "COMPLETED" if result.succeeded else "FAILED",
            "stop_condition": result.stop.condition, "stop_reason": result.stop.reason,
            "plateau_minute": None if plateau is None else plateau.minute,
            "plateau_end_s": None if plateau is None else plateau.end_s,
            "plateau_invocations_per_minute": None if plateau is None else plateau.level_invocations,
            "per_instance_max_invocations": result.per_instance_max_invocations,
            "instance_count_tested": None if result.serverless is not None else result.instance_count_tested,
            "price_per_hour": None if result.serverless is not None else result.price_per_hour,
            "carries_max_invocations": result.carries_max_invocations,
            "failure_reason": result.failure_reason}


def list_job_steps_response(results: Iterable[LoadTestResult], *, simfleet: bool = True) -> dict:
    """`ListInferenceRecommendationsJobSteps` response: every benchmark step, in one page."""
    response: dict[str, Any] = {"Steps": [inference_recommendations_job_step(r) for r in results]}
    if simfleet:
        response[SIMFLEET_KEY] = {"units": dict(UNITS)}
    return response


def job_arn(job_name: str, role_arn: str, region: str = "us-east-1") -> str:
    """`arn:<partition>:sagemaker:<region>:<account>:inference-recommendations-job/<job name in lower case>`."""
    found = _ROLE_ARN.fullmatch(role_arn)
    if found is None:
        raise ValueError(f"expected an IAM role ARN like 'arn:aws:iam::123456789012:role/MyRole', got {role_arn!r}")
    partition, account = found.groups()
    return f"arn:{partition}:sagemaker:{region}:{account}:inference-recommendations-job/{job_name.lower()}"


def _plain(value: Any) -> Any:
    """A request as JSON-ready data: a validated request model, or already a mapping."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return json.loads(json.dumps(value))


def _failure_reason(results: list[LoadTestResult]) -> str:
    if not results:
        return "no load test was run"
    return "no load test gave a recommendation: " + "; ".join(
        f"{r.endpoint_name}: {r.failure_reason}" for r in results if not r.succeeded)


def describe_job_response(request: Any, results: Iterable[LoadTestResult], *, creation_time: datetime,
                          completion_time: datetime | None = None, last_modified_time: datetime | None = None,
                          status: str | None = None, failure_reason: str | None = None,
                          preferences: Preferences | None = Preferences(), region: str = "us-east-1",
                          simfleet: bool = True) -> dict:
    """`DescribeInferenceRecommendationsJob` response for a job and its evaluated load tests.

    `request`: the `CreateInferenceRecommendationsJob` request (the validated model of
    `job_request`, or the same as a mapping), whose InputConfig and StoppingConditions are echoed.
    `results`: every load test, in the order of EndpointConfigurations. InferenceRecommendations
    lists those that gave one, ranked by `preferences` (`ranking.rank`; the SageMaker Python SDK
    takes the first as the best), or in the given order when `preferences` is None; at most the
    first `MAX_RECOMMENDATIONS` (the shape holds 1–10 [BOTO-SM]; a job whose environment parameter
    ranges expand into more tests lists the best ten, and every test as a benchmark step). `status`
    defaults to COMPLETED when some test gave a recommendation and FAILED (with a FailureReason)
    when none did; `last_modified_time` to the completion time, else the creation time.
    """
    results = list(results)
    plain = _plain(request)
    listed = rank(results, preferences) if preferences is not None else [r for r in results if r.succeeded]
    recommendations = [inference_recommendation(r) for r in listed[:MAX_RECOMMENDATIONS]]
    if status is None:
        status = "COMPLETED" if recommendations else "FAILED"
    if status == "FAILED" and failure_reason is None:
        failure_reason = _failure_reason(results)
    response: dict[str, Any] = {"JobName": plain["JobName"]}
    if plain.get("JobDescription") is not None:
        response["JobDescription"] = plain["JobDescription"]
    response.update(JobType=plain["JobType"], JobArn=job_arn(plain["JobName"], plain["RoleArn"], region),
                    RoleArn=plain["RoleArn"], Status=status, CreationTime=_utc(creation_time))
    if completion_time is not None:
        response["CompletionTime"] = _utc(completion_time)
    response["LastModifiedTime"] = _utc(last_modified_time or completion_time or creation_time)
    if failure_reason is not None:
        response["FailureReason"] = failure_reason[:1024]
    response["InputConfig"] = plain["InputConfig"]
    if plain.get("StoppingConditions") is not None:
        response["StoppingConditions"] = plain["StoppingConditions"]
    if recommendations:
        response["InferenceRecommendations"] = recommendations
    if simfleet:
        response[SIMFLEET_KEY] = {"units": dict(UNITS), "load_tests": [_load_test_entry(r) for r in results]}
    return response


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(response: Mapping[str, Any], indent: int | None = 2) -> str:
    """The response as JSON, the way the AWS CLI prints it: ISO 8601 timestamps, NaN written bare."""
    return json.dumps(response, default=_encode, indent=indent, ensure_ascii=False)
