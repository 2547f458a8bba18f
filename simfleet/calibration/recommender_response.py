"""An Inference Recommender `DescribeInferenceRecommendationsJob` response read into observations.

Each recommendation on the calibrated instance type is one observation at that configuration's
capacity: `MaxInvocations` requests per minute over `InitialInstanceCount` instances, with
`ModelLatency` (microseconds, as AWS's examples and its load-test guide give it) at the
percentile of the job's `StoppingConditions.ModelLatencyThresholds` (P95 or P99), or, without
thresholds, taken as p99 (an ASSUMPTION, written into the notes). One statistic gives no
dispersion: the fit assumes the lognormal's sigma (`settings.assumed_sigma`). The period's
length only bounds the simulation (`MINUTES` minutes of the plateau).
"""

from __future__ import annotations

from simfleet.calibration.observations import Observations, Period
from simfleet.errors import InputError

__all__ = ["is_recommendations_job", "read_recommendations", "MINUTES"]

MINUTES = 5


def is_recommendations_job(data) -> bool:
    return isinstance(data, dict) and "JobName" in data and ("InferenceRecommendations" in data or "Status" in data)


def read_recommendations(name: str, data: dict, instance_type: str) -> Observations:
    recommendations = data.get("InferenceRecommendations") or []
    if not recommendations:
        raise InputError.single(name, f"no InferenceRecommendations (job status {data.get('Status', '?')}): "
                                      "nothing to calibrate from", key="InferenceRecommendations")
    thresholds = (data.get("StoppingConditions") or {}).get("ModelLatencyThresholds") or []
    percentile, note = 99.0, "ModelLatency taken as p99 (ASSUMPTION: the job states no latency threshold)"
    if thresholds:
        text = str(thresholds[0].get("Percentile", "P99"))
        try:
            percentile = float(text.lstrip("Pp"))
        except ValueError:
            raise InputError.single(name, f"expected P95 or P99, got {text!r}",
                                    key="StoppingConditions.ModelLatencyThresholds[0].Percentile") from None
        note = f"ModelLatency at {text}, the job's latency threshold percentile"
    periods = []
    types = set()
    for index, recommendation in enumerate(recommendations):
        key = f"InferenceRecommendations[{index}]"
        if not isinstance(recommendation, dict):
            raise InputError.single(name, "expected a recommendation object", key=key)
        config = recommendation.get("EndpointConfiguration") or {}
        metrics = recommendation.get("Metrics") or {}
        types.add(config.get("InstanceType"))
        if config.get("InstanceType") != instance_type:
            continue
        invocations, latency_us = metrics.get("MaxInvocations"), metrics.get("ModelLatency")
        count = config.get("InitialInstanceCount") or 1
        if not isinstance(invocations, (int, float)) or invocations <= 0:
            raise InputError.single(name, "expected a positive MaxInvocations (requests per minute)",
                                    key=f"{key}.Metrics.MaxInvocations")
        if not isinstance(latency_us, (int, float)) or latency_us <= 0:
            raise InputError.single(name, "expected a positive ModelLatency (microseconds)",
                                    key=f"{key}.Metrics.ModelLatency")
        rate = invocations / 60.0
        periods.append(Period(f"{config.get('VariantName') or key}", MINUTES * 60.0, rate * MINUTES * 60.0,
                              {percentile: latency_us / 1e6}, None, float(count)))
    if not periods:
        listed = ", ".join(sorted(t for t in types if t)) or "none"
        raise InputError.single(name, f"no recommendation on {instance_type} (the job recommends {listed})",
                                key="InferenceRecommendations")
    return Observations(sources=(f"{name} (DescribeInferenceRecommendationsJob {data.get('JobName')})",),
                        latency="model", periods=tuple(periods), instance_type=instance_type,
                        notes=(f"Inference Recommender job {data.get('JobName')}: MaxInvocations per minute and "
                               f"ModelLatency (microseconds) of {len(periods)} recommendation(s); {note}",))
