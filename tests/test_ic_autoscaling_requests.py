"""Application Auto Scaling of inference-component copy counts (issue 17): requests, validation, policy
logic and the engine glue.

* Requests: `inference-component/<name>` with `sagemaker:inference-component:DesiredCopyCount` and the
  two predefined IC metrics are accepted, every mix of a variant's and a component's ResourceId,
  dimension or metric type is refused with one line naming the file and key (as
  tests/test_autoscaling_policies.py does for variants), and so are targets that name no component of
  the experiment, variant targets on a variant that hosts components, and alarms on streams the
  experiment does not publish (as tests/test_bad_input.py does: one line, file, key and line).
* AWS's scale-to-zero requests ("Scale an endpoint to zero instances", reference
  sagemaker-semantics.md §3.6, §11.3) are accepted as documented, and the shipped
  `experiments/aws/scale-to-zero-autoscaling.json` is those requests for `resnet-thumbnails`.
* Their alarm, `NoCapacityInvocationFailures` Sum > 1 for 1 of 1 minute, is evaluated literally:
  one failure in a minute does not alarm, two do.
* The controller is target-agnostic: on the same datapoints an IC target decides exactly as a
  variant target (a hypothesis property), so the target-tracking and step rules tested for variants
  hold for copies.
* The engine glue: `scalable_capacity.CopyCount` and `engine.autoscaler.Autoscaler` with
  `components=`, against fakes of the engine's fleet variants and component copies (the engine side
  is built elsewhere).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import simpy
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfleet.autoscaling import api_fields
from simfleet.autoscaling.controller import TargetController
from simfleet.autoscaling.document import load_autoscaling
from simfleet.autoscaling.metric_sources import PREDEFINED_METRICS, alarm_watch, policy_watches, watch_problems
from simfleet.cloudwatch.distribution import Distribution
from simfleet.config.experiment import AutoscalingSettings
from simfleet.engine.autoscaler import Autoscaler
from simfleet.engine.event_details import detail_problems
from simfleet.engine.events import EventLog
from simfleet.engine.scalable_capacity import CopyCount, InstanceCount
from simfleet.errors import InputError
from simfleet.scenario import load_experiment
from autoscaling_experiments import BASE as VARIANT_BASE
from ic_experiments import COMPONENTS
from input_problems import assert_at, edit, load_problems, write
from aws_models import service_model

ROOT = Path(__file__).resolve().parents[1]
IC_NAME = "resnet-thumbnails"
IC_RID = f"inference-component/{IC_NAME}"
IC_DIM = "sagemaker:inference-component:DesiredCopyCount"
VARIANT_RID = "endpoint/shared-gpu/variant/AllTraffic"
VARIANT_DIM = "sagemaker:variant:DesiredInstanceCount"
STEP_ARN = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:2c4f9b0e-7d1a-4e5b-9a63-0f8e2d7c1b45:"
            f"resource/sagemaker/{IC_RID}:policyName/scale-out-from-zero")
DEFAULTS = AutoscalingSettings()
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


def aws_scale_to_zero() -> dict:
    """The requests of AWS's "Scale an endpoint to zero instances" (reference §3.6, §11.3), for one
    component: the target with MinCapacity 0, target tracking on InvocationsPerCopy (target 1, 300 s
    cooldowns), the step policy and its NoCapacityInvocationFailures alarm, member for member."""
    common = {"ServiceNamespace": "sagemaker", "ResourceId": IC_RID, "ScalableDimension": IC_DIM}
    return {
        "targets": [dict(common, MinCapacity=0, MaxCapacity=4)],
        "policies": [
            dict(common, PolicyName="invocations-per-copy", PolicyType="TargetTrackingScaling",
                 TargetTrackingScalingPolicyConfiguration={
                     "TargetValue": 1,
                     "PredefinedMetricSpecification": {
                         "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"},
                     "ScaleInCooldown": 300, "ScaleOutCooldown": 300}),
            dict(common, PolicyName="scale-out-from-zero", PolicyType="StepScaling",
                 StepScalingPolicyConfiguration={
                     "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Maximum", "Cooldown": 60,
                     "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}),
        ],
        "alarms": [{
            "AlarmName": "no-capacity", "AlarmActions": [STEP_ARN],
            "MetricName": "NoCapacityInvocationFailures", "Namespace": "AWS/SageMaker", "Statistic": "Sum",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": IC_NAME}],
            "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold"}],
    }


def _problems(doc, **kwargs):
    with pytest.raises(InputError) as caught:
        load_autoscaling(doc, "scaling.json", **kwargs)
    problems = caught.value.problems
    assert all("\n" not in str(p) and p.file == "scaling.json" for p in problems)
    return problems


def _botocore_rejects(service: str, operation: str, request: dict) -> bool:
    shape = service_model(service).operation_model(operation).input_shape
    return ParamValidator().validate(request, shape).has_errors()


# --- the documented requests ----------------------------------------------------------------------------

def test_the_aws_scale_to_zero_requests_are_accepted_as_documented():
    config = load_autoscaling(aws_scale_to_zero(), "scaling.json", components={IC_NAME: ("shared-gpu", "AllTraffic")})
    [target] = config.targets
    assert (target.component_name, target.endpoint_name, target.variant_name) == (IC_NAME, None, None)
    assert target.copies and not target.provisioned and target.unit == "copy"
    assert (target.MinCapacity, target.MaxCapacity) == (0, 4)
    tracking, step = config.policies_for(target)
    tt = tracking.TargetTrackingScalingPolicyConfiguration
    assert (tt.TargetValue, tt.ScaleInCooldown, tt.ScaleOutCooldown) == (1.0, 300, 300)
    assert tt.PredefinedMetricSpecification.PredefinedMetricType == "SageMakerInferenceComponentInvocationsPerCopy"
    sc = step.StepScalingPolicyConfiguration
    assert (sc.AdjustmentType, sc.MetricAggregationType, sc.Cooldown) == ("ChangeInCapacity", "Maximum", 60)
    assert [(s.MetricIntervalLowerBound, s.MetricIntervalUpperBound, s.ScalingAdjustment)
            for s in sc.StepAdjustments] == [(0, None, 1)]
    [alarm] = config.alarms_for(step)  # through the policy ARN of an inference-component resource
    assert (alarm.Statistic, alarm.Period, alarm.EvaluationPeriods, alarm.datapoints_to_alarm, alarm.Threshold,
            alarm.ComparisonOperator) == ("Sum", 60, 1, 1, 1.0, "GreaterThanThreshold")
    assert config.alarms_for(tracking) == ()


def test_the_aws_scale_to_zero_requests_are_valid_for_botocore_too():
    doc = aws_scale_to_zero()
    operations = {"targets": ("application-autoscaling", "RegisterScalableTarget"),
                  "policies": ("application-autoscaling", "PutScalingPolicy"),
                  "alarms": ("cloudwatch", "PutMetricAlarm")}
    for section, (service, operation) in operations.items():
        for request in doc[section]:
            assert not _botocore_rejects(service, operation, request), (section, request)


def test_enumerations_match_botocore():
    aas = service_model("application-autoscaling")
    assert api_fields.COMPONENT_DIMENSION in aas.shape_for("ScalableDimension").enum
    sagemaker_types = {t for t in aas.shape_for("MetricType").enum if t.startswith("SageMaker")}
    assert set(api_fields.VARIANT_METRIC_TYPES + api_fields.PROVISIONED_METRIC_TYPES
               + api_fields.COMPONENT_METRIC_TYPES) == sagemaker_types
    assert set(PREDEFINED_METRICS) == sagemaker_types


def test_the_shipped_requests_are_the_documented_ones_for_resnet_thumbnails():
    """experiments/aws/scale-to-zero-autoscaling.json: the documented values (§3.6), whatever the names."""
    shipped = json.loads((ROOT / "experiments" / "aws" / "scale-to-zero-autoscaling.json").read_text())
    documented = aws_scale_to_zero()

    def unnamed(request: dict) -> dict:
        return {k: v for k, v in request.items() if k not in ("PolicyName", "AlarmName", "AlarmActions",
                                                               "AlarmDescription")}

    assert shipped["targets"][0]["MinCapacity"] == 0
    for section in ("targets", "policies", "alarms"):
        assert [unnamed(r) for r in shipped[section]] == [unnamed(r) for r in documented[section]], section
    config = load_autoscaling(shipped, "shipped.json")
    [step] = [p for p in config.policies if p.PolicyType == "StepScaling"]
    assert len(config.alarms_for(step)) == 1  # its alarm names it (by ARN)


def test_the_shipped_experiment_validates_with_its_requests():
    scenario = load_experiment(ROOT / "experiments" / "inference-components.toml")
    assert [t.component_name for t in scenario.autoscaling.targets] == [IC_NAME]
    assert IC_NAME in {c.inference_component_name for c in scenario.experiment.inference_components}


# --- request-level acceptances and refusals -------------------------------------------------------------

def _set(doc, path: str, value):
    keys = [int(p) if p.isdigit() else p for p in path.replace("[", ".").replace("]", "").split(".")]
    node = doc
    for key in keys[:-1]:
        node = node[key]
    if isinstance(node, list) and keys[-1] == len(node):
        node.append(value)
    else:
        node[keys[-1]] = value


T, TT, S = "targets[0]", "policies[0].TargetTrackingScalingPolicyConfiguration", "scheduled_actions[0]"
PMT = f"{TT}.PredefinedMetricSpecification.PredefinedMetricType"
SCHEDULED = {"ServiceNamespace": "sagemaker", "ScheduledActionName": "night", "ResourceId": IC_RID,
             "ScalableDimension": IC_DIM, "Schedule": "cron(0 22 * * ? *)", "ScalableTargetAction": {"MaxCapacity": 0}}
VARIANT_TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": VARIANT_RID, "ScalableDimension": VARIANT_DIM,
                  "MinCapacity": 1, "MaxCapacity": 4}

# (mutations {path: value}, keyword arguments of load_autoscaling, expected key, message fragments)
REFUSED = [
    ({f"{T}.ResourceId": "inference-component/"}, {}, f"{T}.ResourceId",
     ["'inference-component/<inference-component-name>'"]),
    ({f"{T}.ResourceId": "inference-component/resnet_thumbnails"}, {}, f"{T}.ResourceId",
     ["'inference-component/<inference-component-name>'"]),
    ({f"{T}.ResourceId": "inference-component/" + "a" * 64}, {}, f"{T}.ResourceId",
     ["'inference-component/<inference-component-name>'"]),
    ({f"{T}.ScalableDimension": "sagemaker:inference-component:DesiredInstanceCount"}, {}, f"{T}.ScalableDimension",
     ["'sagemaker:inference-component:DesiredCopyCount'"]),
    # a component's ResourceId with a variant's dimension, and the reverse, in every kind of request
    ({f"{T}.ScalableDimension": VARIANT_DIM}, {}, f"{T}.ScalableDimension",
     ["scales an endpoint variant", f"{IC_RID!r} is an inference component", IC_DIM]),
    ({f"{T}.ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency"}, {}, f"{T}.ScalableDimension",
     ["scales an endpoint variant"]),
    ({"targets[1]": dict(VARIANT_TARGET, ScalableDimension=IC_DIM)}, {}, "targets[1].ScalableDimension",
     [f"{IC_DIM} scales an inference component", "'inference-component/<name>'", f"not {VARIANT_RID!r}"]),
    ({"policies[0].ResourceId": VARIANT_RID}, {}, "policies[0].ScalableDimension",
     ["scales an inference component"]),
    ({"scheduled_actions": [dict(SCHEDULED, ScalableDimension=VARIANT_DIM)]}, {}, f"{S}.ScalableDimension",
     ["scales an endpoint variant"]),
    # predefined metric types: a variant's on a component, a component's on a variant
    ({PMT: "SageMakerVariantInvocationsPerInstance"}, {}, PMT,
     [f"does not measure {IC_DIM}", "SageMakerInferenceComponentInvocationsPerCopy or "
      "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"]),
    ({PMT: "SageMakerVariantConcurrentRequestsPerModelHighResolution"}, {}, PMT, [f"does not measure {IC_DIM}"]),
    ({PMT: "SageMakerVariantProvisionedConcurrencyUtilization"}, {}, PMT, [f"does not measure {IC_DIM}"]),
    ({"targets[1]": VARIANT_TARGET,
      "policies[2]": dict(aws_scale_to_zero()["policies"][0], ResourceId=VARIANT_RID, ScalableDimension=VARIANT_DIM)},
     {}, "policies[2].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType",
     [f"does not measure {VARIANT_DIM}", "SageMakerVariantInvocationsPerInstance"]),
    ({PMT: "SageMakerInferenceComponentInvocations"}, {}, PMT,
     ["for a SageMaker variant or inference component expected one of"]),
    # against the experiment
    ({}, {"components": {"llm-7b-ic": ("shared-gpu", "AllTraffic")}}, f"{T}.ResourceId",
     [f"no inference component {IC_NAME!r} in the experiment", "llm-7b-ic"]),
    ({}, {"variants": {("shared-gpu", "AllTraffic")}}, f"{T}.ResourceId",
     [f"no inference component {IC_NAME!r}", "(its inference components: none)"]),
    ({"targets[1]": VARIANT_TARGET}, {"variants": {("shared-gpu", "AllTraffic")},
                                      "components": {IC_NAME: ("shared-gpu", "AllTraffic")}},
     "targets[1].ResourceId", ["variant 'AllTraffic' of 'shared-gpu' hosts inference components (resnet-thumbnails)",
                               "managed_instance_scaling", IC_DIM]),
]


@pytest.mark.parametrize("mutations, kwargs, key, fragments", REFUSED,
                         ids=[f"{i}:{c[2]}" for i, c in enumerate(REFUSED)])
def test_each_refusal_is_one_line_at_its_key(mutations, kwargs, key, fragments):
    doc = aws_scale_to_zero()
    for path, value in mutations.items():
        _set(doc, path, copy.deepcopy(value))
    problems = _problems(doc, **kwargs)
    assert [p.key for p in problems] == [key], [str(p) for p in problems]
    for fragment in fragments:
        assert fragment in problems[0].message, str(problems[0])


def test_components_and_variants_side_by_side_are_accepted():
    """A variant target on a variant hosting no component beside a component's target; the concurrency
    metric; a scheduled action on copies; an alarm action by PolicyName; a 63-character name."""
    doc = aws_scale_to_zero()
    other = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/plain/variant/A", "ScalableDimension": VARIANT_DIM}
    name = "a" + "-b" * 31
    doc["targets"] += [dict(other, MinCapacity=1, MaxCapacity=3),
                       {"ServiceNamespace": "sagemaker", "ResourceId": f"inference-component/{name}",
                        "ScalableDimension": IC_DIM, "MinCapacity": 1, "MaxCapacity": 2}]
    doc["policies"].append(dict(other, PolicyName="per-instance", PolicyType="TargetTrackingScaling",
                                TargetTrackingScalingPolicyConfiguration={"TargetValue": 100.0, "PredefinedMetricSpecification": {
                                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}))
    doc["policies"].append(dict(doc["policies"][0], PolicyName="concurrency", TargetTrackingScalingPolicyConfiguration={
        "TargetValue": 4.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"}}))
    doc["scheduled_actions"] = [SCHEDULED]
    doc["alarms"][0]["AlarmActions"] = ["scale-out-from-zero"]
    config = load_autoscaling(doc, "scaling.json", variants={("plain", "A"), ("shared-gpu", "AllTraffic")},
                              components={IC_NAME: ("shared-gpu", "AllTraffic"), name: ("shared-gpu", "AllTraffic")})
    assert [(t.endpoint_name, t.variant_name, t.component_name, t.unit) for t in config.targets] == [
        (None, None, IC_NAME, "copy"), ("plain", "A", None, "instance"), (None, None, name, "copy")]
    assert [a.ScheduledActionName for a in config.scheduled_actions_for(config.targets[0])] == ["night"]
    assert config.scheduled_actions[0].component_name == IC_NAME


# --- the streams the policies and alarms read -------------------------------------------------------------

def _policy(metric_type: str):
    doc = aws_scale_to_zero()
    doc["policies"][0]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
        "PredefinedMetricType"] = metric_type
    return load_autoscaling(doc, "scaling.json").policies[0]


def test_predefined_metrics_of_a_component_read_its_stream():
    """§3.2: InvocationsPerCopy at one minute with the invocations statistic (as InvocationsPerInstance);
    ConcurrentRequestsPerCopy at high resolution with the concurrency statistic (as
    ConcurrentRequestsPerModel): 10 s scale-out, one-minute scale-in; dimension InferenceComponentName."""
    knobs = AutoscalingSettings(invocations_statistic="Average", concurrency_statistic="Minimum")
    out, in_ = policy_watches(_policy("SageMakerInferenceComponentInvocationsPerCopy"), knobs)
    assert out == in_
    assert (out.namespace, out.metric, out.dimensions, out.statistic, out.period_s) == (
        "AWS/SageMaker", "InvocationsPerCopy", (("InferenceComponentName", IC_NAME),), "Average", 60)
    out, in_ = policy_watches(_policy("SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"), knobs)
    assert (out.metric, out.dimensions, out.statistic, out.period_s, in_.period_s) == (
        "ConcurrentRequestsPerCopy", (("InferenceComponentName", IC_NAME),), "Minimum",
        DEFAULTS.high_resolution_out_period, DEFAULTS.target_tracking_period)


def test_the_shipped_experiment_publishes_what_its_alarms_and_policies_read():
    scenario = load_experiment(ROOT / "experiments" / "inference-components.toml")
    config, experiment = scenario.autoscaling, scenario.experiment
    watches = [alarm_watch(a) for a in config.alarms]
    watches += [w for p in config.policies if p.PolicyType == "TargetTrackingScaling"
                for w in policy_watches(p, experiment.autoscaling.settings)]
    assert watches and all(watch_problems(w, experiment) == [] for w in watches)
    concurrency = policy_watches(_policy("SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"),
                                 DEFAULTS)
    assert all(watch_problems(w, experiment) == [] for w in concurrency)


# --- the experiment: one line naming the file, the key and its line --------------------------------------

IC_SCALING = """
[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "inference-component/toy-ic"
ScalableDimension = "sagemaker:inference-component:DesiredCopyCount"
MinCapacity = 0
MaxCapacity = 6

[[autoscaling.policies]]
PolicyName = "per-copy"
ServiceNamespace = "sagemaker"
ResourceId = "inference-component/toy-ic"
ScalableDimension = "sagemaker:inference-component:DesiredCopyCount"
PolicyType = "TargetTrackingScaling"

[autoscaling.policies.TargetTrackingScalingPolicyConfiguration]
TargetValue = 100.0
PredefinedMetricSpecification = { PredefinedMetricType = "SageMakerInferenceComponentInvocationsPerCopy" }

[[autoscaling.policies]]
PolicyName = "wake"
ServiceNamespace = "sagemaker"
ResourceId = "inference-component/toy-ic"
ScalableDimension = "sagemaker:inference-component:DesiredCopyCount"
PolicyType = "StepScaling"

[autoscaling.policies.StepScalingPolicyConfiguration]
AdjustmentType = "ChangeInCapacity"
MetricAggregationType = "Maximum"
Cooldown = 60
StepAdjustments = [{ MetricIntervalLowerBound = 0.0, ScalingAdjustment = 1 }]

[[autoscaling.alarms]]
AlarmName = "no-capacity"
AlarmActions = ["wake"]
MetricName = "NoCapacityInvocationFailures"
Namespace = "AWS/SageMaker"
Statistic = "Sum"
Dimensions = [{ Name = "InferenceComponentName", Value = "toy-ic" }]
Period = 60
EvaluationPeriods = 1
DatapointsToAlarm = 1
Threshold = 1.0
ComparisonOperator = "GreaterThanThreshold"
"""
SCALED = COMPONENTS + IC_SCALING
HOSTING_VARIANT_TARGET = """
[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "endpoint/ep/variant/A"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
MinCapacity = 1
MaxCapacity = 4
"""
MIXED_TARGET = HOSTING_VARIANT_TARGET.replace('"sagemaker:variant:DesiredInstanceCount"', f'"{IC_DIM}"')


def test_an_experiment_with_component_scaling_validates(workdir):
    scenario = load_experiment(write(workdir, SCALED))
    assert [t.component_name for t in scenario.autoscaling.targets] == ["toy-ic"]
    assert [p.PolicyName for p in scenario.autoscaling.policies] == ["per-copy", "wake"]


A = "autoscaling.alarms[0]"
EXPERIMENT_CASES = [
    ("unknown-component", SCALED.replace("inference-component/toy-ic", "inference-component/nope"),
     {"autoscaling.targets[0].ResourceId": ('ResourceId = "inference-component/nope"', 1)},
     ["no inference component 'nope' in the experiment", "toy-ic"]),
    ("variant-target-on-a-hosting-variant", SCALED + HOSTING_VARIANT_TARGET,
     {"autoscaling.targets[1].ResourceId": 'ResourceId = "endpoint/ep/variant/A"'},
     ["variant 'A' of 'ep' hosts inference components (toy-ic)", "managed_instance_scaling"]),
    ("variant-resource-with-the-copy-dimension", SCALED + MIXED_TARGET,
     {"autoscaling.targets[1].ScalableDimension": (f'ScalableDimension = "{IC_DIM}"', 4)},
     [f"{IC_DIM} scales an inference component", "not 'endpoint/ep/variant/A'"]),
    ("variant-metric-on-copies", edit(SCALED, [("SageMakerInferenceComponentInvocationsPerCopy",
                                                "SageMakerVariantInvocationsPerInstance")]),
     {"autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification"
      ".PredefinedMetricType": "PredefinedMetricSpecification = {"},
     [f"does not measure {IC_DIM}"]),
    ("alarm-on-an-unknown-component", edit(SCALED, [('Value = "toy-ic"', 'Value = "other-ic"')]),
     {f"{A}.Dimensions": 'Value = "other-ic"'},
     ["InferenceComponentName 'other-ic' is not an inference component of the experiment", "toy-ic"]),
    ("alarm-on-the-variant-stream-of-a-component-metric",
     edit(SCALED, [('[{ Name = "InferenceComponentName", Value = "toy-ic" }]',
                    '[{ Name = "EndpointName", Value = "ep" }, { Name = "VariantName", Value = "A" }]')]),
     {f"{A}.Dimensions": 'Name = "EndpointName"'},
     ["NoCapacityInvocationFailures is published with dimensions InferenceComponentName, not EndpointName, "
      "VariantName"]),
    ("alarm-period-shorter-than-the-metric", edit(SCALED, [("Period = 60", "Period = 30")]),
     {f"{A}.Period": "Period = 30"}, ["not a multiple of the 60 s"]),
    ("component-metric-on-a-variant", edit(VARIANT_BASE, [('"SageMakerVariantInvocationsPerInstance"',
                                                           '"SageMakerInferenceComponentInvocationsPerCopy"')]),
     {"autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification"
      ".PredefinedMetricType": "PredefinedMetricSpecification = {"},
     ["does not measure sagemaker:variant:DesiredInstanceCount"]),
    ("component-target-without-components", VARIANT_BASE + IC_SCALING.split("[[autoscaling.policies]]")[0],
     {"autoscaling.targets[1].ResourceId": 'ResourceId = "inference-component/toy-ic"'},
     ["no inference component 'toy-ic' in the experiment (its inference components: none)"]),
]


@pytest.mark.parametrize("name, text, at, fragments", EXPERIMENT_CASES, ids=[c[0] for c in EXPERIMENT_CASES])
def test_bad_component_scaling_is_one_line_at_its_key_and_line(workdir, name, text, at, fragments):
    path = write(workdir, text)
    [problem] = load_problems(path)
    assert problem.file == str(path)
    assert_at(problem, text, at)
    for fragment in fragments:
        assert fragment in problem.message, (fragment, str(problem))


# --- the scale-from-zero alarm, literally -----------------------------------------------------------------

def _controller(doc: dict, initial: int) -> TargetController:
    config = load_autoscaling(doc, "scaling.json")
    [target] = config.targets
    return TargetController(target, config.policies_for(target), config.alarms_for, DEFAULTS, initial)


def _failures(count: int) -> Distribution:
    """One minute's NoCapacityInvocationFailures: each failed request emits 1 (the metric's Sum is the count)."""
    return Distribution.from_values(np.ones(count))


@pytest.mark.parametrize("failures, wakes", [(1, False), (2, True), (3, True)])
def test_greater_than_threshold_one_needs_two_failures_in_a_minute(failures, wakes):
    """AWS's alarm is Sum > 1 for 1 of 1 minute (reference §11.3: "taken literally this needs >= 2
    failures in a minute"); with 0 copies the step policy adds ScalingAdjustment 1 when it alarms."""
    controller = _controller(aws_scale_to_zero(), initial=0)
    [alarm_feed] = [f for p in controller.policies if p.kind == "StepScaling" for f in p.feeds]
    alarm_feed.watch.add(0.0, _failures(failures))
    evaluation = controller.evaluate(60.0, lambda begin, end: 0.0)
    assert alarm_feed.alarm.state == ("ALARM" if wakes else "OK")
    if wakes:
        decision = evaluation.decision
        assert (decision.old, decision.new, decision.policy) == (0, 1, "scale-out-from-zero")
        assert decision.evidence["threshold"] == 1.0 and decision.evidence["value"] == failures
    else:
        assert evaluation.decision is None and controller.desired == 0


@pytest.mark.parametrize("side, wakes", [("alarm", True), ("below", False)])
def test_greater_than_or_equal_wakes_on_one_failure_when_the_threshold_breaches_upward(side, wakes):
    """The comparison is what decides: the samples' GreaterThanOrEqualToThreshold alarms on the first
    failure; its value, 1, is the threshold itself, offset 0, which the documented step rules put in
    the step {MetricIntervalLowerBound 0} only on the "above" side (lower bound inclusive above,
    exclusive below, reference §3.4). simfleet's choice, a setting: the alarm's direction decides."""
    doc = aws_scale_to_zero()
    doc["alarms"][0]["ComparisonOperator"] = "GreaterThanOrEqualToThreshold"
    config = load_autoscaling(doc, "scaling.json")
    [target] = config.targets
    knobs = AutoscalingSettings(step_at_threshold=side)
    controller = TargetController(target, config.policies_for(target), config.alarms_for, knobs, 0)
    [alarm_feed] = [f for p in controller.policies if p.kind == "StepScaling" for f in p.feeds]
    alarm_feed.watch.add(0.0, _failures(1))
    evaluation = controller.evaluate(60.0, lambda begin, end: 0.0)
    assert alarm_feed.alarm.state == "ALARM"
    assert (evaluation.decision is not None and evaluation.decision.new == 1) == wakes
    if not wakes:
        assert [b.reason for b in evaluation.blocked] == ["already at MinCapacity 0"]


@pytest.mark.parametrize("metric, comparison, expected", [
    (1.0, "GreaterThanOrEqualToThreshold", 1),   # at the threshold, breaching upward: lower bound 0 inclusive
    (1.0, "GreaterThanThreshold", -1),           # the below side (an upward alarm never acts there: 1 > 1 is false)
    (1.0, None, -1),                             # the below side: upper bound 0 inclusive, lower bound 0 exclusive
    (1.0, "LessThanOrEqualToThreshold", -1),     # at the threshold, breaching downward: upper bound 0 inclusive
    (2.0, "GreaterThanOrEqualToThreshold", 1), (0.5, "LessThanOrEqualToThreshold", -1),
])
def test_the_step_of_a_value_at_the_threshold_follows_the_alarm(metric, comparison, expected):
    from simfleet.autoscaling.capacity import StepAdjustment, select_step
    steps = [StepAdjustment(1, lower_bound=0.0), StepAdjustment(-1, upper_bound=0.0)]
    step = select_step(metric, 1.0, steps, comparison)
    assert (step.scaling_adjustment if step else None) == expected


def test_target_tracking_cannot_scale_out_from_zero_copies():
    """§3.6: with no copy serving there is nothing to project the per-copy metric from; the policy is
    blocked (and says why) while the step policy's alarm is what brings the first copy."""
    doc = aws_scale_to_zero()
    doc["alarms"] = []
    doc["policies"] = [dict(doc["policies"][0], TargetTrackingScalingPolicyConfiguration={
        "TargetValue": 1.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"}})]
    controller = _controller(doc, initial=0)
    out_feed = controller.policies[0].feeds[0]
    period = DEFAULTS.high_resolution_out_period
    blocked = []
    for k in range(DEFAULTS.scale_out_datapoints):
        out_feed.watch.add(period * k, Distribution.from_values(np.array([5.0])))
        evaluation = controller.evaluate(period * (k + 1), lambda begin, end: 0.0)
        blocked += evaluation.blocked
        assert evaluation.decision is None
    assert out_feed.alarm.state == "ALARM"
    assert [b.reason for b in blocked] == ["no copy was in service to project the metric from"]


def test_copies_follow_the_documented_target_tracking_projection():
    """desired = ceil(copies x metric / target) (reference §3.3): 3 minutes of 150 invocations per copy
    on 2 copies with target 100 give ceil(2 x 150 / 100) = 3 copies, after exactly 3 periods."""
    controller = _controller(dict(aws_scale_to_zero(), alarms=[], policies=[
        dict(aws_scale_to_zero()["policies"][0], TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"}})]), initial=2)
    out_feed = controller.policies[0].feeds[0]
    decisions = []
    for minute in range(4):
        out_feed.watch.add(60.0 * minute, Distribution.from_values(np.full(300, 0.5)))  # 300 requests, 1/2 each
        decision = controller.evaluate(60.0 * (minute + 1), lambda begin, end: 2.0).decision
        decisions.append(decision and (decision.time_s, decision.old, decision.new))
    assert decisions[:3] == [None, None, (180.0, 2, 3)]


# --- the controller is target-agnostic: copies obey the rules tested for variants -----------------------

def _twin_documents(draw) -> tuple[dict, dict, int]:
    """The same target tracking and step policies on a variant's instances and on a component's copies."""
    low = draw(st.integers(0, 3))
    high = draw(st.integers(max(low, 1), 10))
    initial = draw(st.integers(0, 10))
    tracking = {"TargetValue": draw(st.sampled_from([1.0, 5.0, 20.0, 37.5])),
                "ScaleOutCooldown": draw(st.sampled_from([0, 60, 300])),
                "ScaleInCooldown": draw(st.sampled_from([0, 120, 300])),
                "DisableScaleIn": draw(st.booleans())}
    step = {"AdjustmentType": draw(st.sampled_from(["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"])),
            "MetricAggregationType": "Maximum", "Cooldown": draw(st.sampled_from([0, 60, 180])),
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 3,
                                 "ScalingAdjustment": draw(st.integers(1, 3))},
                                {"MetricIntervalLowerBound": 3, "ScalingAdjustment": draw(st.integers(1, 5))}]}
    alarm = {"Statistic": "Sum", "Period": 60, "EvaluationPeriods": draw(st.integers(1, 3)),
             "Threshold": float(draw(st.integers(0, 3))),
             "ComparisonOperator": draw(st.sampled_from(["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"])),
             "TreatMissingData": draw(st.sampled_from(["missing", "notBreaching", "breaching"]))}

    def document(resource: str, dimension: str, metric_type: str, alarm_metric: str, dims: list) -> dict:
        common = {"ServiceNamespace": "sagemaker", "ResourceId": resource, "ScalableDimension": dimension}
        return {"targets": [dict(common, MinCapacity=low, MaxCapacity=high)],
                "policies": [dict(common, PolicyName="tt", PolicyType="TargetTrackingScaling",
                                  TargetTrackingScalingPolicyConfiguration=dict(
                                      tracking, PredefinedMetricSpecification={"PredefinedMetricType": metric_type})),
                             dict(common, PolicyName="step", PolicyType="StepScaling",
                                  StepScalingPolicyConfiguration=step)],
                "alarms": [dict(alarm, AlarmName="wake", AlarmActions=["step"], MetricName=alarm_metric,
                                Namespace="AWS/SageMaker", Dimensions=dims)]}

    variant = document(VARIANT_RID, VARIANT_DIM, "SageMakerVariantInvocationsPerInstance", "Invocations",
                       [{"Name": "EndpointName", "Value": "shared-gpu"}, {"Name": "VariantName", "Value": "AllTraffic"}])
    component = document(IC_RID, IC_DIM, "SageMakerInferenceComponentInvocationsPerCopy",
                         "NoCapacityInvocationFailures", [{"Name": "InferenceComponentName", "Value": IC_NAME}])
    return variant, component, initial


@st.composite
def twin_runs(draw):
    variant, component, initial = _twin_documents(draw)
    minutes = draw(st.integers(3, 30))
    # each minute: (requests, the 1/capacity each emitted) for the tracked metric, and the alarm metric's count
    traffic = draw(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 8), st.integers(0, 6)),
                            min_size=minutes, max_size=minutes))
    return variant, component, initial, traffic


def _outcomes(doc: dict, initial: int, traffic) -> list:
    controller = _controller(doc, initial)
    feeds = [f for p in controller.policies for f in p.feeds]
    seen = []
    for minute, (requests, per, alarm_count) in enumerate(traffic):
        start = 60.0 * minute
        for feed in feeds:
            if feed.direction is not None and requests:
                feed.watch.add(start, Distribution.from_values(np.full(requests, 1.0 / per)))
            elif feed.direction is None and alarm_count:
                feed.watch.add(start, Distribution.from_values(np.ones(alarm_count)))
        t = start + 60.0
        evaluation = controller.evaluate(t, lambda begin, end: float(controller.desired))
        decision = evaluation.decision
        seen.append((
            [(c.old_state, c.new_state, c.reason, list(c.values), c.threshold) for _, c in evaluation.transitions],
            [(b.time_s, b.policy, b.desired, b.current) for b in evaluation.blocked],
            decision and (decision.time_s, decision.old, decision.new, decision.cause, decision.policy,
                          decision.reason, {k: v for k, v in decision.evidence.items() if k not in ("alarm", "metric")}),
            controller.desired))
    return seen


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(twin_runs())
def test_copies_scale_exactly_as_instances_on_the_same_datapoints(run):
    variant, component, initial, traffic = run
    assert _outcomes(component, initial, traffic) == _outcomes(variant, initial, traffic)


def test_the_twin_property_sees_decisions():
    """The property above is not vacuous: a burst then silence scales out, then (scale-in allowed) in."""
    tracking = {"TargetValue": 10.0, "ScaleOutCooldown": 0, "ScaleInCooldown": 0, "DisableScaleIn": False}
    base = aws_scale_to_zero()
    base["policies"][0]["TargetTrackingScalingPolicyConfiguration"] = dict(tracking, PredefinedMetricSpecification={
        "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"})
    traffic = [(100, 1, 0)] * 4 + [(1, 1, 0)] * 20
    outcomes = _outcomes(base, 1, traffic)
    desired = [o[3] for o in outcomes]
    # 100 per copy on 1 copy, target 10: ceil(1 x 100 / 10) = 10, capped at MaxCapacity 4, after 3 minutes;
    # then 1 per copy (below 0.9 x 10) for 15 minutes: in to ceil(4 x 1/10) = 1 (the values each emitted 1/1)
    assert desired[2] == 4 and desired[-1] < 4


# --- the engine glue, with fakes of the engine's fleet and component copies -----------------------------

class FakeCopies:
    """The interface the engine's `ComponentCopies` gives the autoscaler, recording each call."""

    def __init__(self, serving: float = 1.0):
        self.serving = serving
        self.calls: list[tuple] = []

    def reconcile(self, variant_index: int, desired: int, reason: str) -> None:
        self.calls.append(("reconcile", variant_index, desired, reason))

    def mean_serving(self, variant_index: int, begin: float, end: float) -> float:
        self.calls.append(("mean_serving", variant_index, begin, end))
        return self.serving


class FakeInstances:
    def __init__(self):
        self.calls: list[tuple] = []

    def reconcile(self, variant_index: int, desired: int, reason: str) -> None:
        self.calls.append(("reconcile", variant_index, desired, reason))

    def mean_in_service(self, variant_index: int, begin: float, end: float) -> float:
        return 1.0


def _fleet(initial_copies: int = 0):
    """A plain variant ('plain', 'A'), a hosting variant ('shared-gpu', 'AllTraffic'), and the fleet variant
    of resnet-thumbnails, which carries its endpoint's and hosting variant's names."""
    plain = SimpleNamespace(index=0, endpoint_name="plain", variant_name="A", component=None,
                            initial_instance_count=2)
    host = SimpleNamespace(index=1, endpoint_name="shared-gpu", variant_name="AllTraffic", component=None,
                           initial_instance_count=2)
    thumbnails = SimpleNamespace(index=2, endpoint_name="shared-gpu", variant_name="AllTraffic",
                                 component=SimpleNamespace(name=IC_NAME, host=1, initial_copies=initial_copies),
                                 initial_instance_count=0)
    return SimpleNamespace(variants=[plain, host, thumbnails])


def test_copy_count_reads_and_applies_through_the_component_copies():
    fleet, copies = _fleet(initial_copies=3), FakeCopies(serving=2.5)
    capacity = CopyCount(copies, fleet.variants[2])
    assert capacity.unit == "copy" and capacity.initial == 3
    assert capacity.mean(60.0, 120.0) == 2.5
    capacity.apply(5, 120.0, "policy: wake")
    assert copies.calls == [("mean_serving", 2, 60.0, 120.0), ("reconcile", 2, 5, "policy: wake")]


def _autoscaler(doc: dict, fleet, copies, instances, env=None, duration_s: float = 600.0):
    env = env or simpy.Environment()
    config = load_autoscaling(doc, "scaling.json")
    events = EventLog(START)
    scaler = Autoscaler(env, config, DEFAULTS, fleet, instances, events, START, duration_s, lambda t: None,
                        components=copies)
    return env, scaler, events


def _with_plain_variant(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc["targets"].append({"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/plain/variant/A",
                           "ScalableDimension": VARIANT_DIM, "MinCapacity": 1, "MaxCapacity": 3})
    return doc


def test_component_targets_map_to_their_fleet_variant_and_variant_targets_to_theirs():
    fleet, copies, instances = _fleet(), FakeCopies(), FakeInstances()
    _, scaler, _ = _autoscaler(_with_plain_variant(aws_scale_to_zero()), fleet, copies, instances)
    assert set(scaler.capacities) == {0, 2}
    assert isinstance(scaler.capacities[2], CopyCount) and scaler.capacities[2].variant is fleet.variants[2]
    assert isinstance(scaler.capacities[0], InstanceCount) and scaler.capacities[0].variant is fleet.variants[0]
    assert [v.index for v, _ in scaler.targets] == [2, 0]


def test_a_variant_target_is_never_mapped_to_a_component_sharing_its_names():
    """A component's fleet variant carries its hosting variant's names; the variant target gets the
    hosting variant itself (DesiredInstanceCount of a hosting variant is refused by validation; the glue
    still must not confuse them)."""
    doc = aws_scale_to_zero()
    doc["targets"].append({"ServiceNamespace": "sagemaker", "ResourceId": VARIANT_RID,
                           "ScalableDimension": VARIANT_DIM, "MinCapacity": 1, "MaxCapacity": 3})
    fleet = _fleet()
    fleet.variants.reverse()  # the component's variant first: an index by names would keep the wrong one
    _, scaler, _ = _autoscaler(doc, fleet, FakeCopies(), FakeInstances())
    assert scaler.capacities[1].variant.component is None and isinstance(scaler.capacities[2], CopyCount)


def _events(log: EventLog) -> list[tuple]:
    return [(r["time_s"], r["event"], r["EndpointName"], r["VariantName"], json.loads(r["detail"])) for r in log.rows]


def test_registration_alarm_and_scaling_reach_the_copies_and_name_the_component():
    doc = _with_plain_variant(aws_scale_to_zero())
    doc["targets"][0]["MinCapacity"] = 1  # the component starts with 0 copies: registration raises it to 1
    fleet, copies, instances = _fleet(initial_copies=0), FakeCopies(), FakeInstances()
    env, scaler, events = _autoscaler(doc, fleet, copies, instances)
    scaler.start_processes()
    assert copies.calls == [("reconcile", 2, 1, "registration: RegisterScalableTarget: capacity 0 is outside [1, 4]")]
    assert instances.calls == []  # the plain variant's 2 instances are inside [1, 3]
    scaler.on_datapoint(START, 60, "AWS/SageMaker", "NoCapacityInvocationFailures", {"InferenceComponentName": IC_NAME},
                        _failures(2))
    scaler.on_datapoint(START, 60, "AWS/SageMaker", "NoCapacityInvocationFailures", {"InferenceComponentName": "other"},
                        _failures(5))  # another stream: nobody's alarm
    scaler.on_tick(60.0)
    assert copies.calls[-1] == ("reconcile", 2, 2, "policy: scale-out-from-zero")
    rows = _events(events)
    assert [(t, kind) for t, kind, *_ in rows] == [(0.0, "ScalingActivity"), (60.0, "AlarmStateChange"),
                                                   (60.0, "ScalingActivity")]
    for _, kind, endpoint, variant, detail in rows:
        assert (endpoint, variant, detail["inference_component"]) == ("shared-gpu", "AllTraffic", IC_NAME)
        assert detail_problems(kind, detail) == []
    assert rows[1][4]["new_state"] == "ALARM" and rows[1][4]["datapoints"][-1] == 2
    assert (rows[2][4]["old_capacity"], rows[2][4]["new_capacity"], rows[2][4]["policy"]) == (1, 2,
                                                                                                "scale-out-from-zero")


def test_blocked_and_scheduled_events_of_a_component_name_it_and_variant_events_do_not():
    doc = _with_plain_variant(aws_scale_to_zero())
    doc["scheduled_actions"] = [
        dict(SCHEDULED, Schedule="at(2026-01-05T09:02:00)", ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 4}),
        {"ServiceNamespace": "sagemaker", "ScheduledActionName": "plain-up", "ResourceId": "endpoint/plain/variant/A",
         "ScalableDimension": VARIANT_DIM, "Schedule": "at(2026-01-05T09:03:00)",
         "ScalableTargetAction": {"MinCapacity": 3}}]
    fleet, copies, instances = _fleet(initial_copies=4), FakeCopies(), FakeInstances()
    env, scaler, events = _autoscaler(doc, fleet, copies, instances)
    scaler.start_processes()
    # at MaxCapacity 4 already: two failures alarm, the step policy is blocked and says so
    scaler.on_datapoint(START, 60, "AWS/SageMaker", "NoCapacityInvocationFailures", {"InferenceComponentName": IC_NAME},
                        _failures(3))
    scaler.on_tick(60.0)
    env.run(until=240.0)
    rows = _events(events)
    kinds = [(t, kind, detail.get("inference_component")) for t, kind, _, _, detail in rows]
    assert kinds == [(60.0, "AlarmStateChange", IC_NAME), (60.0, "ScalingBlocked", IC_NAME),
                     (120.0, "ScheduledAction", IC_NAME), (180.0, "ScheduledAction", None),
                     (180.0, "ScalingActivity", None)]
    assert rows[1][4]["reason"] == "already at MaxCapacity 4"
    assert instances.calls == [("reconcile", 0, 3, "scheduled: scheduled action plain-up: capacity 2 outside the new "
                                                   "[3, 3]")]
    assert all(detail_problems(kind, detail) == [] for _, kind, _, _, detail in rows)


def test_a_component_target_without_the_engine_s_copies_is_a_clear_error():
    with pytest.raises(ValueError, match="needs the engine's component copies"):
        _autoscaler(aws_scale_to_zero(), _fleet(), None, FakeInstances())
