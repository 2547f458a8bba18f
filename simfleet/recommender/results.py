"""The result of one Inference Recommender load test: capacity, instance count, latency and cost.

Last pure stage before the AWS-shaped output: from a test's `MinuteObservation`s and why it
stopped (`stopping`), its plateau (`plateau`) and the instance's price, `evaluate_load_test`
computes the `RecommendationMetrics` members; `responses` turns a `LoadTestResult` into the
dicts of `DescribeInferenceRecommendationsJob` and `ListInferenceRecommendationsJobSteps`, and
`ranking` orders results. Definitions are DESIGN §4's and reference/sagemaker-semantics.md §7.3's:

* per-instance maximum = the highest invocations per minute within the latency threshold (the
  plateau level) divided by the number of instances tested, rounded down to a whole request;
* `InitialInstanceCount` = ceil(StoppingConditions.MaxInvocations / per-instance maximum): "the
  number of instances you should provision in the endpoint to meet the MaxInvocations defined in
  StoppingConditions" [IRLOAD];
* `MaxInvocations` = per-instance maximum × InitialInstanceCount; `CostPerHour` = price per hour
  × InitialInstanceCount; `CostPerInference` = CostPerHour / (MaxInvocations × 60) — exact on
  every AWS example, e.g. 0.204 / (648 × 60) [IRINST]; AWS's load-test example (ml.c5d.xlarge,
  MaxInvocations target 1000: CostPerHour 0.69 = 3 × 0.23, MaxInvocations 1113 = 3 × 371,
  InitialInstanceCount 3 = ceil(1000 / 371), CostPerInference 1.0332e-05) fits all three [IRLOAD];
* `ModelLatency`: an integer in **microseconds** (DESIGN §4; AWS's results page says
  milliseconds, its example values such as 263596 and its load-test guide say microseconds): the
  threshold's percentile (P95 or P99) of the minute the plateau starts at.

A serverless configuration (`serverless_tests`) has no instances: `MaxInvocations` is the plateau,
no InitialInstanceCount, `CostPerInference` what the run billed per served request and
`CostPerHour` = CostPerInference × MaxInvocations × 60 (the same identity), plus `ModelSetupTime`
(µs); see `serverless_tests` for these decisions.

Decision: without StoppingConditions.MaxInvocations (a Default job) InitialInstanceCount is the
number of instances tested (AWS's Default-job examples show 1). Decision: a test with no minute
within the latency threshold (or whose plateau is under one request per tested instance) gives no
recommendation; its benchmark step is FAILED with the reason. Decision: `EndpointName` and
`VariantName` are `<job name cut at 40 characters>-<configuration number>`: "the names of
resources (such as the model, endpoint configuration, endpoint …) that are prefixed with the job
name are truncated at 40 characters" [BOTO-SM], and the SageMaker Python SDK's test fixtures give
both members one name; the runner can write each test's metrics under the same EndpointName.
Decision: `RecommendationId` is `<job name>/<8 letters and digits>`, the form the SageMaker
Python SDK checks (``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}/\\w{8}``), the 8 characters derived from
the job name and the configuration's index (SHA-256), never random.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from simfleet.recommender.plateau import Plateau, PlateauRule, find_plateau, minutes_within_threshold
from simfleet.recommender.serverless_tests import ServerlessSetup
from simfleet.recommender.stopping import LatencyThreshold, MinuteObservation, StopDecision, StoppingMonitor

__all__ = ["LoadTestResult", "evaluate_load_test", "evaluate_monitor", "initial_instance_count",
           "cost_per_inference", "recommendation_id", "endpoint_name", "MAX_RESOURCE_NAME_CHARS"]

#: Resource names prefixed with the job name are truncated at 40 characters [BOTO-SM].
MAX_RESOURCE_NAME_CHARS = 40
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def recommendation_id(job_name: str, index: int) -> str:
    """`<job name>/<8 characters>`, the same for the same job name and configuration index."""
    number = int.from_bytes(hashlib.sha256(f"{job_name}/{index}".encode()).digest()[:8], "big")
    code = ""
    for _ in range(8):
        number, digit = divmod(number, len(_ALPHABET))
        code += _ALPHABET[digit]
    return f"{job_name}/{code}"


def endpoint_name(job_name: str, index: int) -> str:
    """The endpoint (and variant) name of load test `index` (0-based) of a job."""
    return f"{job_name[:MAX_RESOURCE_NAME_CHARS].rstrip('-')}-{index + 1}"


def initial_instance_count(target_invocations: int | None, per_instance_invocations: int, tested: int = 1) -> int:
    """ceil(target / per-instance maximum), at least 1; `tested` when there is no target."""
    if per_instance_invocations < 1:
        raise ValueError(f"the per-instance maximum must be at least 1 invocation per minute, got "
                         f"{per_instance_invocations}")
    if target_invocations is None:
        return tested
    return max(1, -(-target_invocations // per_instance_invocations))


def cost_per_inference(cost_per_hour: float, max_invocations: int) -> float:
    """CostPerHour / (MaxInvocations × 60): USD per request at the maximum throughput."""
    return cost_per_hour / (max_invocations * 60)


@dataclass(frozen=True)
class LoadTestResult:
    """One load test evaluated. Metric members are None when not available (a failed test, no
    price, no utilization series); `failure_reason` is set exactly when there is no recommendation."""

    job_name: str
    index: int
    instance_type: str | None
    instance_count_tested: int
    price_per_hour: float | None
    start_time: datetime
    end_time: datetime
    stop: StopDecision
    plateau: Plateau | None
    target_invocations: int | None
    latency_threshold: LatencyThreshold | None
    per_instance_max_invocations: int | None = None
    initial_instance_count: int | None = None
    max_invocations: int | None = None
    model_latency_us: int | None = None
    cost_per_hour: float | None = None
    cost_per_inference: float | None = None
    cpu_utilization: float | None = None
    memory_utilization: float | None = None
    inference_specification_name: str | None = None
    environment_parameters: tuple[tuple[str, str], ...] = ()
    failure_reason: str | None = None
    serverless: ServerlessSetup | None = None
    model_setup_time_us: int | None = None

    @property
    def label(self) -> str:
        """What was tested, for tables: the instance type, or e.g. ``serverless 2048 MB ×5``."""
        return self.serverless.label if self.serverless is not None else self.instance_type

    @property
    def carries_max_invocations(self) -> bool | None:
        """Whether the recommendation carries StoppingConditions.MaxInvocations (None: no target or
        no recommendation). Always so for instances (the count is sized for it); a serverless
        configuration carries it only when its plateau reaches it."""
        if self.target_invocations is None or self.max_invocations is None:
            return None
        return self.max_invocations >= self.target_invocations

    @property
    def succeeded(self) -> bool:
        return self.failure_reason is None

    @property
    def recommendation_id(self) -> str:
        return recommendation_id(self.job_name, self.index)

    @property
    def endpoint_name(self) -> str:
        return endpoint_name(self.job_name, self.index)

    @property
    def variant_name(self) -> str:
        return self.endpoint_name

    @property
    def model_latency_ms(self) -> float | None:
        return None if self.model_latency_us is None else self.model_latency_us / 1000.0


def _at(series: Sequence[float | None] | None, i: int, n: int, name: str) -> float | None:
    if series is None:
        return None
    if len(series) != n:
        raise ValueError(f"{name} must have one value per minute observed ({n}), got {len(series)}")
    value = series[i]
    return None if value is None or not math.isfinite(value) else float(value)


def _failure(observations: Sequence[MinuteObservation], threshold: LatencyThreshold | None) -> str:
    if not observations:
        return "no minute of the load test was completed"
    eligible, breach = minutes_within_threshold(observations, threshold)
    if not eligible and breach == 0:
        return (f"the first minute was already over the latency threshold ({threshold.percentile} "
                f"{observations[0].model_latency_ms:g} ms > {threshold.value_ms:g} ms)")
    return "no minute with invocations within the latency threshold"


def evaluate_load_test(observations: Sequence[MinuteObservation], stop: StopDecision, *, job_name: str,
                       index: int, instance_type: str, start_time: datetime, end_time: datetime,
                       target_invocations: int | None = None, latency_threshold: LatencyThreshold | None = None,
                       price_per_hour: float | None = None, instance_count: int = 1,
                       cpu_utilization: Sequence[float | None] | None = None,
                       memory_utilization: Sequence[float | None] | None = None,
                       inference_specification_name: str | None = None,
                       environment_parameters: Mapping[str, str] | None = None,
                       rule: PlateauRule = PlateauRule(), serverless: ServerlessSetup | None = None,
                       serverless_cost_per_inference: float | None = None,
                       model_setup_time_us: int | None = None) -> LoadTestResult:
    """Evaluate load test `index` (0-based position in EndpointConfigurations) of job `job_name`.

    `target_invocations`: StoppingConditions.MaxInvocations; `latency_threshold`: its
    ModelLatencyThresholds[0]; `price_per_hour`: on-demand USD per hour of one instance (None:
    unknown, no cost members); `instance_count`: instances the endpoint under test had;
    `cpu_utilization`, `memory_utilization`: per minute, aligned with `observations`, the
    endpoint's mean CPUUtilization and MemoryUtilization in percent as CloudWatch reports them
    (None or NaN where not available).

    A serverless test (`serverless` given; `instance_type` None, `price_per_hour` unused):
    `serverless_cost_per_inference`, USD per served request as the run billed it (None: a price is
    missing); `model_setup_time_us`, its ModelSetupTime (None: no cold start).
    """
    if instance_count < 1:
        raise ValueError(f"instance_count must be at least 1, got {instance_count}")
    if price_per_hour is not None and not (math.isfinite(price_per_hour) and price_per_hour >= 0):
        raise ValueError(f"price_per_hour must be None or a finite number ≥ 0, got {price_per_hour!r}")
    plateau = find_plateau(observations, latency_threshold, rule)
    common = dict(job_name=job_name, index=index, instance_type=instance_type, instance_count_tested=instance_count,
                  price_per_hour=price_per_hour, start_time=start_time, end_time=end_time, stop=stop,
                  plateau=plateau, target_invocations=target_invocations, latency_threshold=latency_threshold,
                  inference_specification_name=inference_specification_name,
                  environment_parameters=tuple((str(k), str(v)) for k, v in (environment_parameters or {}).items()),
                  serverless=serverless, model_setup_time_us=model_setup_time_us)
    if plateau is None:
        return LoadTestResult(**common, failure_reason=_failure(observations, latency_threshold))
    n = len(observations)
    utilization = dict(cpu_utilization=_at(cpu_utilization, plateau.minute, n, "cpu_utilization"),
                       memory_utilization=_at(memory_utilization, plateau.minute, n, "memory_utilization"),
                       model_latency_us=None if plateau.model_latency_ms is None
                       else round(plateau.model_latency_ms * 1000))
    if serverless is not None:
        level = plateau.level_invocations
        if level < 1:
            return LoadTestResult(**common, failure_reason=f"the plateau of {level} invocations per minute is under "
                                  "one")
        per_inference = serverless_cost_per_inference
        if per_inference is not None and not (math.isfinite(per_inference) and per_inference >= 0):
            raise ValueError(f"serverless_cost_per_inference must be None or a finite number ≥ 0, got "
                             f"{per_inference!r}")
        return LoadTestResult(**common, per_instance_max_invocations=None, initial_instance_count=None,
                              max_invocations=level,
                              cost_per_hour=None if per_inference is None else per_inference * level * 60,
                              cost_per_inference=per_inference, **utilization)
    per_instance = plateau.level_invocations // instance_count
    if per_instance < 1:
        return LoadTestResult(**common, failure_reason=f"the plateau of {plateau.level_invocations} invocations per "
                              f"minute is under one per instance tested ({instance_count})")
    count = initial_instance_count(target_invocations, per_instance, instance_count)
    max_invocations = per_instance * count
    cost_per_hour = None if price_per_hour is None else price_per_hour * count
    return LoadTestResult(
        **common, per_instance_max_invocations=per_instance, initial_instance_count=count,
        max_invocations=max_invocations, cost_per_hour=cost_per_hour,
        cost_per_inference=None if cost_per_hour is None else cost_per_inference(cost_per_hour, max_invocations),
        **utilization)


def evaluate_monitor(monitor: StoppingMonitor, **fields) -> LoadTestResult:
    """`evaluate_load_test` with the observations, stop decision and conditions of a monitor."""
    return evaluate_load_test(monitor.observations, monitor.decision, target_invocations=monitor.max_invocations,
                              latency_threshold=monitor.latency_threshold, **fields)
