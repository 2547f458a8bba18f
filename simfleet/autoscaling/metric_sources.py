"""Which simulated CloudWatch metric each alarm reads, at which period and statistic, and whether it can.

An alarm (user-defined for step scaling, managed for target tracking) watches one metric stream:
a namespace, a name and an exact set of dimensions, aggregated with one statistic over its
period. `policy_watches` and `alarm_watch` turn the validated requests into `WatchSpec`s;
`watch_problems` checks each against what the run publishes: the metric is simulated, the
dimension set is one the endpoint publishes, the endpoint and variant (or the inference
component, for a stream of dimension ``InferenceComponentName``) exist, and the alarm period is
a whole number of the metric's publish periods (a shorter alarm period would see datapoints that
are not published yet, and never act). Predefined metrics of a variant target read the variant's
stream (``EndpointName, VariantName``), those of an inference-component target the component's
(``InferenceComponentName``).
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.autoscaling.alarm_requests import PutMetricAlarm
from simfleet.autoscaling.policies import PutScalingPolicy
from simfleet.cloudwatch.catalog import metric_spec
from simfleet.config.experiment import AutoscalingSettings, Experiment
from simfleet.config.publish_periods import load_generator_jobs, publish_plan

__all__ = ["WatchSpec", "PREDEFINED_METRICS", "policy_watches", "alarm_watch", "watch_problems"]

#: PredefinedMetricType -> (namespace, metric name, high resolution, the `AutoscalingSettings` field
#: naming its statistic) [BOTO-AAS], reference §3.2. AWS does not state the resolution of the
#: provisioned-concurrency metric: simfleet reads it at the standard one-minute period. The
#: inference-component metrics are read as their variant counterparts are: InvocationsPerCopy at one
#: minute with `invocations_statistic` (like InvocationsPerInstance), ConcurrentRequestsPerCopy at
#: high resolution with `concurrency_statistic` (like ConcurrentRequestsPerModel); AWS states the
#: statistic of neither.
PREDEFINED_METRICS = {
    "SageMakerVariantInvocationsPerInstance":
        ("AWS/SageMaker", "InvocationsPerInstance", False, "invocations_statistic"),
    "SageMakerVariantConcurrentRequestsPerModelHighResolution":
        ("AWS/SageMaker", "ConcurrentRequestsPerModel", True, "concurrency_statistic"),
    "SageMakerVariantProvisionedConcurrencyUtilization":
        ("AWS/SageMaker", "ServerlessProvisionedConcurrencyUtilization", False, "provisioned_concurrency_statistic"),
    "SageMakerInferenceComponentInvocationsPerCopy":
        ("AWS/SageMaker", "InvocationsPerCopy", False, "invocations_statistic"),
    "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution":
        ("AWS/SageMaker", "ConcurrentRequestsPerCopy", True, "concurrency_statistic"),
}


@dataclass(frozen=True)
class WatchSpec:
    """One metric stream aggregated per period: what an alarm evaluates."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value) pairs: CloudWatch matches the exact set
    statistic: str
    period_s: int

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def describe(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.statistic} of {self.namespace} {self.metric} ({dims}) per {self.period_s} s"


def _dims(pairs) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs))


def policy_watches(policy: PutScalingPolicy, settings: AutoscalingSettings) -> tuple[WatchSpec, WatchSpec]:
    """(scale-out watch, scale-in watch) of a target-tracking policy's managed alarms.

    Predefined metrics read the target's stream (the variant's, or the inference component's); on
    the high-resolution metrics the scale-out alarm reads 10 s periods and the scale-in alarm stays
    at one minute [ASDEF].
    """
    config = policy.TargetTrackingScalingPolicyConfiguration
    period = settings.target_tracking_period
    if config.PredefinedMetricSpecification is not None:
        namespace, metric, high, statistic_key = PREDEFINED_METRICS[
            config.PredefinedMetricSpecification.PredefinedMetricType]
        if policy.component_name is not None:
            dims = _dims([("InferenceComponentName", policy.component_name)])
        else:
            dims = _dims([("EndpointName", policy.endpoint_name), ("VariantName", policy.variant_name)])
        statistic = getattr(settings, statistic_key)
        out_period = settings.high_resolution_out_period if high else period
        return (WatchSpec(namespace, metric, dims, statistic, out_period),
                WatchSpec(namespace, metric, dims, statistic, period))
    custom = config.CustomizedMetricSpecification
    dims = _dims((d.Name, d.Value) for d in custom.Dimensions or ())
    watch = WatchSpec(custom.Namespace, custom.MetricName, dims, custom.Statistic, period)
    return watch, watch


def alarm_watch(alarm: PutMetricAlarm) -> WatchSpec:
    dims = _dims((d.Name, d.Value) for d in alarm.Dimensions or ())
    return WatchSpec(alarm.Namespace, alarm.MetricName, dims, alarm.Statistic or alarm.ExtendedStatistic,
                     alarm.Period)


def watch_problems(watch: WatchSpec, experiment: Experiment) -> list[tuple[tuple, str]]:
    """What keeps `watch` from ever seeing a datapoint of this run, as (relative key, message)."""
    try:
        spec = metric_spec(watch.namespace, watch.metric)
    except KeyError:
        return [(("MetricName",), f"{watch.metric!r} in {watch.namespace!r} is not a metric simfleet simulates "
                 "(see docs/metrics.md)")]
    if not spec.available:
        return [(("MetricName",), f"{watch.metric!r} is published by the {spec.capability!r} capability, which "
                 "simfleet does not simulate yet: the alarm would never get data")]
    dims = watch.dimension_map
    endpoints = {e.endpoint_name: e for e in experiment.endpoints}
    if "InferenceComponentName" in dims and "EndpointName" not in dims:
        components = {c.inference_component_name: c for c in experiment.inference_components}
        component = components.get(dims["InferenceComponentName"])
        if component is None:
            return [(("Dimensions",), f"InferenceComponentName {dims['InferenceComponentName']!r} is not an inference "
                     f"component of the experiment (inference components: {', '.join(components) or 'none'})")]
        endpoint = endpoints.get(component.endpoint_name)
        if endpoint is None:
            return []  # the component's own endpoint_name is reported with the experiment's problems
    else:
        endpoint = endpoints.get(dims.get("EndpointName"))
    if endpoint is None:
        return [(("Dimensions",), f"EndpointName {dims.get('EndpointName')!r} is not an endpoint of the experiment "
                 f"(endpoints: {', '.join(endpoints)})")]
    variants = [v.variant_name for v in endpoint.production_variants]
    if "VariantName" in dims and dims["VariantName"] not in variants:
        return [(("Dimensions",), f"VariantName {dims['VariantName']!r} is not a variant of {endpoint.endpoint_name} "
                 f"(variants: {', '.join(variants)})")]
    if "JobName" in dims:
        job = load_generator_jobs(experiment).get(endpoint.endpoint_name)
        if dims["JobName"] != job:
            driven = f"its users' job_name is {job!r}" if job else "no users with a job_name drive it"
            return [(("Dimensions",), f"JobName {dims['JobName']!r} is not the load generator of "
                     f"{endpoint.endpoint_name} ({driven})")]
    plan = publish_plan(experiment, endpoint)
    names = tuple(sorted(dims))
    published = [tuple(sorted(s.names)) for s in spec.dimension_sets if s.available]
    if plan.enhanced:
        published += [tuple(sorted(s.names)) for s in spec.enhanced_dimension_sets if s.available]
    accelerator = experiment.metrics.accelerator_dimension
    published = [tuple(sorted(accelerator if n == "AcceleratorId" else n for n in s)) for s in published]
    if names not in published:
        shown = "; ".join(", ".join(s) for s in published)
        return [(("Dimensions",), f"{watch.metric} is published with dimensions {shown}, not "
                 f"{', '.join(names) or 'none'}: CloudWatch matches the exact set")]
    period = plan.period_for(spec.period)
    if watch.period_s % period:
        return [(("Period",), f"the alarm period {watch.period_s} s is not a multiple of the {period} s at which "
                 f"{endpoint.endpoint_name} publishes {watch.metric}")]
    return []
