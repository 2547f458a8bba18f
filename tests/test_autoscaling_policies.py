"""Autoscaling input: every documented constraint of the Application Auto Scaling and CloudWatch
requests, one failing example each, and a property that botocore's rejections are ours too."""

import copy

import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simfleet.autoscaling import alarm_requests, api_fields, document, policies
from simfleet.autoscaling.document import AutoscalingConfig, load_autoscaling
from simfleet.autoscaling.policies import PutScheduledAction, StepAdjustment
from simfleet.errors import InputError
from request_mutations import DEL, mutate, set_path
from aws_models import service_model

RID = "endpoint/my-endpoint/variant/AllTraffic"
DIM = "sagemaker:variant:DesiredInstanceCount"


def valid_document():
    """One of everything, shaped like the AWS documentation examples."""
    return {
        "targets": [{"ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
                     "MinCapacity": 1, "MaxCapacity": 8}],
        "policies": [
            {"PolicyName": "my-scaling-policy", "ServiceNamespace": "sagemaker", "ResourceId": RID,
             "ScalableDimension": DIM, "PolicyType": "TargetTrackingScaling",
             "TargetTrackingScalingPolicyConfiguration": {
                 "TargetValue": 70.0,
                 "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                 "ScaleInCooldown": 600, "ScaleOutCooldown": 300}},
            {"PolicyName": "step-out", "ServiceNamespace": "sagemaker", "ResourceId": RID,
             "ScalableDimension": DIM, "PolicyType": "StepScaling",
             "StepScalingPolicyConfiguration": {
                 "AdjustmentType": "ChangeInCapacity", "MetricAggregationType": "Average", "Cooldown": 60,
                 "StepAdjustments": [
                     {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 100, "ScalingAdjustment": 1},
                     {"MetricIntervalLowerBound": 100, "ScalingAdjustment": 2}]}},
        ],
        "scheduled_actions": [
            {"ServiceNamespace": "sagemaker", "ScheduledActionName": "morning", "ResourceId": RID,
             "ScalableDimension": DIM, "Schedule": "cron(0 8 ? * MON-FRI *)", "Timezone": "Europe/Paris",
             "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 8}}],
        "alarms": [
            {"AlarmName": "step-out-high", "MetricName": "InvocationsPerInstance", "Namespace": "AWS/SageMaker",
             "Dimensions": [{"Name": "EndpointName", "Value": "my-endpoint"},
                            {"Name": "VariantName", "Value": "AllTraffic"}],
             "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
             "Threshold": 1000.0, "ComparisonOperator": "GreaterThanThreshold",
             "TreatMissingData": "notBreaching", "AlarmActions": ["step-out"]}],
    }


def _problems(doc):
    with pytest.raises(InputError) as caught:
        load_autoscaling(doc, "scaling.json")
    return caught.value.problems


TT = "policies[0].TargetTrackingScalingPolicyConfiguration"
STEP = "policies[1].StepScalingPolicyConfiguration"
CUSTOM = {"MetricName": "CPUUtilization", "Namespace": "/aws/sagemaker/Endpoints", "Statistic": "Average",
          "Unit": "Percent", "Dimensions": [{"Name": "EndpointName", "Value": "my-endpoint"},
                                            {"Name": "VariantName", "Value": "AllTraffic"}]}
A = "alarms[0]"
S = "scheduled_actions[0]"
T = "targets[0]"

# (mutations {path: value}, expected key, expected message fragment)
CASES = [
    # RegisterScalableTarget
    ({f"{T}.ServiceNamespace": "ecs"}, f"{T}.ServiceNamespace", "Input should be 'sagemaker'"),
    ({f"{T}.ResourceId": "endpoint/my-endpoint"}, f"{T}.ResourceId", "expected 'endpoint/<endpoint-name>/variant/"),
    ({f"{T}.ResourceId": "inference-component/"}, f"{T}.ResourceId", "or 'inference-component/<inference-component-name>'"),
    ({f"{T}.ResourceId": "endpoint/-bad/variant/v"}, f"{T}.ResourceId", "expected 'endpoint/<endpoint-name>"),
    ({f"{T}.ResourceId": "x" * 1601}, f"{T}.ResourceId", "expected 1 to 1600 characters, got 1601"),
    ({f"{T}.ResourceId": ""}, f"{T}.ResourceId", "expected 1 to 1600 characters, got 0"),
    ({f"{T}.ScalableDimension": "sagemaker:variant:DesiredCopyCount"}, f"{T}.ScalableDimension",
     "Input should be 'sagemaker:variant:DesiredInstanceCount', 'sagemaker:variant:DesiredProvisionedConcurrency' or "
     "'sagemaker:inference-component:DesiredCopyCount'"),
    ({f"{T}.MinCapacity": -1}, f"{T}.MinCapacity", "greater than or equal to 0"),
    ({f"{T}.MinCapacity": "1"}, f"{T}.MinCapacity", "valid integer"),
    ({f"{T}.MaxCapacity": DEL}, f"{T}.MaxCapacity", "required key is missing"),
    ({f"{T}.MaxCapacity": 0}, f"{T}.MaxCapacity", "MaxCapacity 0 is less than MinCapacity 1"),
    ({f"{T}.SuspendedState": {"DynamicScalingInSuspended": "yes"}}, f"{T}.SuspendedState.DynamicScalingInSuspended",
     "valid boolean"),
    ({f"{T}.SuspendedState": {"Suspended": True}}, f"{T}.SuspendedState.Suspended", "unknown key"),
    ({f"{T}.RoleARN": None}, f"{T}.RoleARN", "null is not accepted"),
    ({f"{T}.Tags": {"": "x"}}, f"{T}.Tags", "tag keys are 1 to 128 characters"),
    ({f"{T}.Colour": "red"}, f"{T}.Colour", "unknown key"),
    ({"targets[1]": valid_document()["targets"][0]}, "targets[1].ResourceId", "is registered twice (also targets[0])"),
    # PutScalingPolicy
    ({"policies[0].PolicyName": ""}, "policies[0].PolicyName", "expected 1 to 256 characters, got 0"),
    ({"policies[0].PolicyName": "café"}, "policies[0].PolicyName", "printable ASCII"),
    ({"policies[0].PolicyType": "PredictiveScaling"}, "policies[0].PolicyType",
     "Input should be 'TargetTrackingScaling' or 'StepScaling'"),
    ({"policies[0].PolicyType": DEL}, "policies[0].PolicyType", "required key is missing"),
    ({"policies[0].ResourceId": "endpoint/other/variant/v"}, "policies[0].ResourceId", "no scalable target"),
    ({TT: DEL}, TT, "required for PolicyType TargetTrackingScaling"),
    ({"policies[0].StepScalingPolicyConfiguration": valid_document()["policies"][1]["StepScalingPolicyConfiguration"]},
     "policies[0].StepScalingPolicyConfiguration", "not allowed with PolicyType TargetTrackingScaling"),
    ({"policies[2]": valid_document()["policies"][0]}, "policies[2].PolicyName", "is used twice"),
    # target tracking
    ({f"{TT}.TargetValue": 0}, f"{TT}.TargetValue", "greater than 0"),
    ({f"{TT}.TargetValue": 2.0 ** 361}, f"{TT}.TargetValue", "less than or equal to"),
    ({f"{TT}.TargetValue": "70"}, f"{TT}.TargetValue", "valid number"),
    ({f"{TT}.TargetValue": float("nan")}, f"{TT}.TargetValue", "finite number"),
    ({f"{TT}.TargetValue": DEL}, f"{TT}.TargetValue", "required key is missing"),
    ({f"{TT}.PredefinedMetricSpecification.PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
     f"{TT}.PredefinedMetricSpecification.PredefinedMetricType",
     "for a SageMaker variant or inference component expected one of"),
    ({f"{TT}.PredefinedMetricSpecification.PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"},
     f"{TT}.PredefinedMetricSpecification.PredefinedMetricType",
     "does not measure sagemaker:variant:DesiredInstanceCount; its predefined metric is "
     "SageMakerVariantInvocationsPerInstance or SageMakerVariantConcurrentRequestsPerModelHighResolution"),
    ({f"{TT}.PredefinedMetricSpecification.ResourceLabel": "app/a/b/targetgroup/c/d"},
     f"{TT}.PredefinedMetricSpecification.ResourceLabel", "only for ALBRequestCountPerTarget"),
    ({f"{TT}.PredefinedMetricSpecification": DEL}, f"{TT}.PredefinedMetricSpecification",
     "give PredefinedMetricSpecification or CustomizedMetricSpecification"),
    ({f"{TT}.CustomizedMetricSpecification": CUSTOM}, f"{TT}.CustomizedMetricSpecification", "not both"),
    ({f"{TT}.PredefinedMetricSpecification": DEL, f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Statistic="p99")},
     f"{TT}.CustomizedMetricSpecification.Statistic", "Input should be 'Average'"),
    ({f"{TT}.PredefinedMetricSpecification": DEL, f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Unit="Percents")},
     f"{TT}.CustomizedMetricSpecification.Unit", "expected one of Seconds"),
    ({f"{TT}.PredefinedMetricSpecification": DEL, f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Metrics=[])},
     f"{TT}.CustomizedMetricSpecification.Metrics", "metric math (Metrics) is not simulated"),
    ({f"{TT}.PredefinedMetricSpecification": DEL, f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, MetricName="Foo")},
     f"{TT}.CustomizedMetricSpecification.MetricName", "is not a metric simfleet simulates"),
    ({f"{TT}.PredefinedMetricSpecification": DEL, f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Namespace=":x")},
     f"{TT}.CustomizedMetricSpecification.Namespace", "a namespace not starting with ':'"),
    ({f"{TT}.PredefinedMetricSpecification": DEL,
      f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Dimensions=[{"Name": "EndpointName"}])},
     f"{TT}.CustomizedMetricSpecification.Dimensions[0].Value", "required key is missing"),
    ({f"{TT}.PredefinedMetricSpecification": DEL,
      f"{TT}.CustomizedMetricSpecification": dict(CUSTOM, Dimensions=[{"Name": "E", "Value": "v"}] * 31)},
     f"{TT}.CustomizedMetricSpecification.Dimensions", "at most 30 items"),
    ({f"{TT}.ScaleInCooldown": -1}, f"{TT}.ScaleInCooldown", "greater than or equal to 0"),
    ({f"{TT}.ScaleOutCooldown": 1.5}, f"{TT}.ScaleOutCooldown", "valid integer"),
    ({f"{TT}.DisableScaleIn": "false"}, f"{TT}.DisableScaleIn", "valid boolean"),
    # step scaling
    ({f"{STEP}.AdjustmentType": "Percent"}, f"{STEP}.AdjustmentType", "Input should be 'ChangeInCapacity'"),
    ({f"{STEP}.AdjustmentType": DEL}, f"{STEP}.AdjustmentType", "required key is missing"),
    ({f"{STEP}.StepAdjustments": []}, f"{STEP}.StepAdjustments", "at least 1 item"),
    ({f"{STEP}.StepAdjustments": {"ScalingAdjustment": 1}}, f"{STEP}.StepAdjustments", "expected a list"),
    ({f"{STEP}.MinAdjustmentMagnitude": 1}, f"{STEP}.MinAdjustmentMagnitude",
     "only for AdjustmentType PercentChangeInCapacity, not ChangeInCapacity"),
    ({f"{STEP}.AdjustmentType": "PercentChangeInCapacity", f"{STEP}.MinAdjustmentMagnitude": 0},
     f"{STEP}.MinAdjustmentMagnitude", "greater than or equal to 1"),
    ({f"{STEP}.Cooldown": -5}, f"{STEP}.Cooldown", "greater than or equal to 0"),
    ({f"{STEP}.MetricAggregationType": "Sum"}, f"{STEP}.MetricAggregationType", "Input should be 'Average'"),
    ({f"{STEP}.StepAdjustments[1].ScalingAdjustment": DEL}, f"{STEP}.StepAdjustments[1].ScalingAdjustment",
     "required key is missing"),
    ({f"{STEP}.StepAdjustments[1].ScalingAdjustment": 1.5}, f"{STEP}.StepAdjustments[1].ScalingAdjustment",
     "valid integer"),
    ({f"{STEP}.StepAdjustments[1].MetricIntervalUpperBound": None},
     f"{STEP}.StepAdjustments[1].MetricIntervalUpperBound", "null is not accepted"),
    ({f"{STEP}.StepAdjustments[0].MetricIntervalLowerBound": DEL,
      f"{STEP}.StepAdjustments[0].MetricIntervalUpperBound": DEL},
     f"{STEP}.StepAdjustments[0]", "give MetricIntervalLowerBound or MetricIntervalUpperBound"),
    ({f"{STEP}.StepAdjustments[0].MetricIntervalUpperBound": 0}, f"{STEP}.StepAdjustments[0].MetricIntervalUpperBound",
     "MetricIntervalUpperBound 0 must be greater than MetricIntervalLowerBound 0"),
    ({f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound": 90}, f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound",
     "MetricIntervalLowerBound 90 overlaps StepAdjustments[0], which ends at 100"),
    ({f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound": 110}, f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound",
     "MetricIntervalLowerBound 110 leaves a gap after StepAdjustments[0], which ends at 100"),
    ({f"{STEP}.StepAdjustments[0].MetricIntervalUpperBound": DEL}, f"{STEP}.StepAdjustments[1].MetricIntervalUpperBound",
     "StepAdjustments[0] already has no upper bound; at most one step"),
    ({f"{STEP}.StepAdjustments[2]": {"ScalingAdjustment": -1, "MetricIntervalUpperBound": 0},
      f"{STEP}.StepAdjustments[3]": {"ScalingAdjustment": -2, "MetricIntervalUpperBound": -10}},
     f"{STEP}.StepAdjustments[3].MetricIntervalLowerBound", "already has no lower bound"),
    ({f"{STEP}.StepAdjustments": [{"MetricIntervalLowerBound": -10, "MetricIntervalUpperBound": 0,
                                   "ScalingAdjustment": -1}]},
     f"{STEP}.StepAdjustments[0].MetricIntervalLowerBound", "-10 is negative, so one step must leave out"),
    ({f"{STEP}.StepAdjustments[1]": DEL}, f"{STEP}.StepAdjustments[0].MetricIntervalUpperBound",
     "100 is positive, so one step must leave out MetricIntervalUpperBound"),
    ({f"{STEP}.AdjustmentType": "ExactCapacity", f"{STEP}.StepAdjustments[0].ScalingAdjustment": -1},
     f"{STEP}.StepAdjustments[0].ScalingAdjustment", "cannot be negative"),
    ({"alarms": []}, "policies[1].PolicyName", "no alarm in alarms names step scaling policy 'step-out'"),
    # PutScheduledAction
    ({f"{S}.ScheduledActionName": "a:b"}, f"{S}.ScheduledActionName", "no ':', '/', '|'"),
    ({f"{S}.ScheduledActionName": " lead"}, f"{S}.ScheduledActionName", "no leading or trailing spaces"),
    ({f"{S}.ScheduledActionName": "x" * 257}, f"{S}.ScheduledActionName", "expected 1 to 256 characters"),
    ({f"{S}.Schedule": "cron(0 8 * * MON-FRI *)"}, f"{S}.Schedule",
     "exactly one of Day-of-month and Day-of-week must be '?'"),
    ({f"{S}.Schedule": "cron(0 8 ? * ? *)"}, f"{S}.Schedule", "exactly one of Day-of-month and Day-of-week"),
    ({f"{S}.Schedule": "cron(0 8 ? * MON-FRI)"}, f"{S}.Schedule", "cron needs 6 fields"),
    ({f"{S}.Schedule": "cron(61 8 ? * MON-FRI *)"}, f"{S}.Schedule", "Minutes value 61 is outside 0-59"),
    ({f"{S}.Schedule": "cron(0 24 ? * MON *)"}, f"{S}.Schedule", "Hours value 24 is outside 0-23"),
    ({f"{S}.Schedule": "cron(0 8 32 * ? *)"}, f"{S}.Schedule", "Day-of-month value 32 is outside 1-31"),
    ({f"{S}.Schedule": "cron(0 8 ? FOO MON *)"}, f"{S}.Schedule", "Month value 'FOO' is not a number or a name"),
    ({f"{S}.Schedule": "cron(0 8 ? * MON#6 *)"}, f"{S}.Schedule", "must name an occurrence 1-5"),
    ({f"{S}.Schedule": "cron(0 8 ? * MON 1969)"}, f"{S}.Schedule", "Year value 1969 is outside 1970-2199"),
    ({f"{S}.Schedule": "cron(0/0 8 ? * MON *)"}, f"{S}.Schedule", "Minutes increment '0' must be a whole number >= 1"),
    ({f"{S}.Schedule": "cron(? 8 ? * MON *)"}, f"{S}.Schedule", "Minutes value '?' is not a number"),
    ({f"{S}.Schedule": "rate(0 minutes)"}, f"{S}.Schedule", "must be a whole number >= 1"),
    ({f"{S}.Schedule": "rate(5 weeks)"}, f"{S}.Schedule", "must be minute(s), hour(s) or day(s)"),
    ({f"{S}.Schedule": "at(2024-02-30T10:00:00)"}, f"{S}.Schedule", "does not exist"),
    ({f"{S}.Schedule": "every day"}, f"{S}.Schedule", "expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron("),
    ({f"{S}.Schedule": DEL}, f"{S}.Schedule", "required key is missing"),
    ({f"{S}.Timezone": "Mars/Olympus"}, f"{S}.Timezone", "IANA time zone"),
    ({f"{S}.StartTime": "yesterday"}, f"{S}.StartTime", "ISO 8601 timestamp"),
    ({f"{S}.StartTime": "2024-06-01T00:00:00Z", f"{S}.EndTime": "2024-05-01T00:00:00Z"}, f"{S}.EndTime",
     "is not after StartTime"),
    ({f"{S}.ScalableTargetAction": {}}, f"{S}.ScalableTargetAction", "give MinCapacity, MaxCapacity or both"),
    ({f"{S}.ScalableTargetAction": DEL}, f"{S}.ScalableTargetAction", "required key is missing"),
    ({f"{S}.ScalableTargetAction": {"MinCapacity": 5, "MaxCapacity": 2}}, f"{S}.ScalableTargetAction.MaxCapacity",
     "MaxCapacity 2 is less than MinCapacity 5"),
    ({f"{S}.ScalableTargetAction.MinCapacity": -1}, f"{S}.ScalableTargetAction.MinCapacity",
     "greater than or equal to 0"),
    ({f"{S}.ResourceId": "endpoint/other/variant/v"}, f"{S}.ResourceId", "no scalable target"),
    ({"scheduled_actions[1]": valid_document()["scheduled_actions"][0]}, "scheduled_actions[1].ScheduledActionName",
     "is used twice"),
    # PutMetricAlarm
    ({f"{A}.AlarmName": ""}, f"{A}.AlarmName", "expected 1 to 255 characters, got 0"),
    ({f"{A}.ExtendedStatistic": "p99"}, f"{A}.Statistic", "give either Statistic or ExtendedStatistic, not both"),
    ({f"{A}.Statistic": DEL}, f"{A}.Statistic", "give either Statistic or ExtendedStatistic"),
    ({f"{A}.Statistic": DEL, f"{A}.ExtendedStatistic": "tm90"}, f"{A}.ExtendedStatistic", "a percentile like 'p99'"),
    ({f"{A}.Period": 45}, f"{A}.Period", "Period must be 10, 20, 30 or a multiple of 60 seconds, got 45"),
    ({f"{A}.Period": 0}, f"{A}.Period", "greater than or equal to 1"),
    ({f"{A}.EvaluationPeriods": 0}, f"{A}.EvaluationPeriods", "greater than or equal to 1"),
    ({f"{A}.DatapointsToAlarm": 4}, f"{A}.DatapointsToAlarm", "DatapointsToAlarm 4 exceeds EvaluationPeriods 3"),
    ({f"{A}.EvaluationPeriods": 1441, f"{A}.DatapointsToAlarm": 1}, f"{A}.EvaluationPeriods", "more than 86400 s"),
    ({f"{A}.Period": 3600, f"{A}.EvaluationPeriods": 169}, f"{A}.EvaluationPeriods", "more than 604800 s"),
    ({f"{A}.ComparisonOperator": "GreaterThanUpperThreshold"}, f"{A}.ComparisonOperator", "anomaly detection"),
    ({f"{A}.ComparisonOperator": "Bigger"}, f"{A}.ComparisonOperator", "expected one of GreaterThanOrEqualToThreshold"),
    ({f"{A}.ComparisonOperator": DEL}, f"{A}.ComparisonOperator", "required key is missing"),
    ({f"{A}.TreatMissingData": "zero"}, f"{A}.TreatMissingData", "expected one of breaching"),
    ({f"{A}.EvaluateLowSampleCountPercentile": "ignore"}, f"{A}.EvaluateLowSampleCountPercentile",
     "only for percentile"),
    ({f"{A}.AlarmActions": []}, f"{A}.AlarmActions", "at least 1 item"),
    ({f"{A}.AlarmActions": ["step-out"] * 6}, f"{A}.AlarmActions", "at most 5 items"),
    ({f"{A}.AlarmActions": ["nope"]}, f"{A}.AlarmActions[0]", "no scaling policy named 'nope'"),
    ({f"{A}.AlarmActions": ["my-scaling-policy"]}, f"{A}.AlarmActions[0]", "is a target tracking policy"),
    ({f"{A}.OKActions": ["step-out"]}, f"{A}.OKActions", "only AlarmActions are simulated"),
    ({f"{A}.MetricName": "Foo"}, f"{A}.MetricName", "'Foo' in 'AWS/SageMaker' is not a metric simfleet simulates"),
    ({f"{A}.MetricName": "x" * 256}, f"{A}.MetricName", "expected 1 to 255 characters, got 256"),
    ({f"{A}.Namespace": DEL}, f"{A}.Namespace", "required key is missing"),
    ({f"{A}.Threshold": "high"}, f"{A}.Threshold", "valid number"),
    ({f"{A}.Metrics": []}, f"{A}.Metrics", "metric math (Metrics) is not simulated"),
    ({f"{A}.Unit": "Percents"}, f"{A}.Unit", "expected one of Seconds"),
    ({f"{A}.Dimensions[0].Value": ""}, f"{A}.Dimensions[0].Value", "expected 1 to 1024 characters, got 0"),
    ({f"{A}.Tags": [{"Key": "", "Value": "v"}]}, f"{A}.Tags[0].Key", "expected 1 to 128 characters"),
    ({"alarms[1]": valid_document()["alarms"][0]}, "alarms[1].AlarmName", "is used twice (also alarms[0])"),
    # the document
    ({"rules": []}, "rules", "unknown key (expected targets, policies, scheduled_actions, alarms)"),
    ({"targets": {}}, "targets", "expected a list of RegisterScalableTarget requests"),
]


@pytest.mark.parametrize("mutations, key, message", CASES, ids=[f"{i}:{c[1]}" for i, c in enumerate(CASES)])
def test_each_constraint_names_its_key(mutations, key, message):
    doc = valid_document()
    for path, value in mutations.items():
        set_path(doc, path, value if value is DEL else copy.deepcopy(value))
    problems = _problems(doc)
    at_key = [p for p in problems if p.key == key]
    assert len(at_key) == 1, [str(p) for p in problems]
    assert message in at_key[0].message, str(at_key[0])
    assert all("\n" not in str(p) and p.file == "scaling.json" for p in problems)


def test_every_problem_is_reported_at_once():
    doc = valid_document()
    set_path(doc, f"{T}.MaxCapacity", 0)
    set_path(doc, "policies[0].PolicyName", 5)
    set_path(doc, f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound", 90)
    set_path(doc, f"{S}.Schedule", "rate(0 days)")
    set_path(doc, f"{A}.Period", 45)
    keys = {p.key for p in _problems(doc)}
    assert {f"{T}.MaxCapacity", "policies[0].PolicyName", f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound",
            f"{S}.Schedule", f"{A}.Period"} <= keys


def test_cross_field_rule_inside_an_invalid_request_is_still_reported():
    doc = valid_document()
    set_path(doc, "policies[1].PolicyName", "")  # a field error in the same request
    set_path(doc, f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound", 110)
    keys = {p.key for p in _problems(doc)}
    assert {"policies[1].PolicyName", f"{STEP}.StepAdjustments[1].MetricIntervalLowerBound"} <= keys


def test_models_used_alone_raise_on_cross_field_rules():
    with pytest.raises(ValueError, match="must be greater than"):
        StepAdjustment(MetricIntervalLowerBound=5, MetricIntervalUpperBound=1, ScalingAdjustment=1)


# --- accepted documents --------------------------------------------------------------------------

def _documentation_examples():
    """Variations taken from the Application Auto Scaling and SageMaker documentation."""
    doc = valid_document()
    arn = ("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:ac542982-cbeb-4294-891c-a5a941dfa787:"
           f"resource/sagemaker/{RID}:policyName/step-in")
    doc["policies"] += [
        {"PolicyName": "cpu", "ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
         "PolicyType": "TargetTrackingScaling",
         "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0, "CustomizedMetricSpecification": CUSTOM,
                                                      "DisableScaleIn": True}},
        {"PolicyName": "concurrency", "ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
         "PolicyType": "TargetTrackingScaling",
         "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 5, "PredefinedMetricSpecification": {
             "PredefinedMetricType": "SageMakerVariantConcurrentRequestsPerModelHighResolution"}}},
        {"PolicyName": "step-in", "ServiceNamespace": "sagemaker", "ResourceId": RID, "ScalableDimension": DIM,
         "PolicyType": "StepScaling",
         "StepScalingPolicyConfiguration": {"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 1,
                                            "StepAdjustments": [
                                                {"MetricIntervalUpperBound": -10, "ScalingAdjustment": -50},
                                                {"MetricIntervalLowerBound": -10, "MetricIntervalUpperBound": 0,
                                                 "ScalingAdjustment": -25}]}},
    ]
    doc["alarms"].append({"AlarmName": "low", "MetricName": "InvocationsPerInstance", "Namespace": "AWS/SageMaker",
                          "ExtendedStatistic": "p90", "EvaluateLowSampleCountPercentile": "ignore", "Period": 300,
                          "EvaluationPeriods": 15, "Threshold": 100, "ComparisonOperator": "LessThanThreshold",
                          "AlarmActions": [arn], "Tags": [{"Key": "team", "Value": ""}]})
    doc["scheduled_actions"] += [
        {"ServiceNamespace": "sagemaker", "ScheduledActionName": "once", "ResourceId": RID, "ScalableDimension": DIM,
         "Schedule": "at(2019-05-20T17:05:00)", "ScalableTargetAction": {"MinCapacity": 3}},
        {"ServiceNamespace": "sagemaker", "ScheduledActionName": "every-5", "ResourceId": RID, "ScalableDimension": DIM,
         "Schedule": "rate(5 minutes)", "StartTime": "2024-05-01T00:00:00Z", "EndTime": "2024-06-01T00:00:00+02:00",
         "ScalableTargetAction": {"MaxCapacity": 4}},
        {"ServiceNamespace": "sagemaker", "ScheduledActionName": "month-end", "ResourceId": RID,
         "ScalableDimension": DIM, "Schedule": "cron(15 12 L * ? *)", "Timezone": "Etc/GMT+9",
         "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 1}},
        {"ServiceNamespace": "sagemaker", "ScheduledActionName": "weekly", "ResourceId": RID,
         "ScalableDimension": DIM, "Schedule": "cron(0/15 8-17 ? JAN-DEC 2#1 2024-2030)",
         "ScalableTargetAction": {"MinCapacity": 0}},
    ]
    doc["targets"][0]["SuspendedState"] = {"ScheduledScalingSuspended": False}
    doc["targets"][0]["Tags"] = {"team": "ml"}
    return doc


def test_documentation_examples_are_accepted_with_defaults():
    config = load_autoscaling(_documentation_examples(), "scaling.json")
    assert isinstance(config, AutoscalingConfig)
    counts = (len(config.targets), len(config.policies), len(config.scheduled_actions), len(config.alarms))
    assert counts == (1, 5, 5, 2)
    target = config.targets[0]
    assert (target.endpoint_name, target.variant_name) == ("my-endpoint", "AllTraffic")
    assert len(config.policies_for(target)) == 5 and len(config.scheduled_actions_for(target)) == 5
    tt = config.policies[3].TargetTrackingScalingPolicyConfiguration
    assert (tt.ScaleOutCooldown, tt.ScaleInCooldown, tt.DisableScaleIn) == (300, 300, False)
    step = config.policies[4]
    assert step.StepScalingPolicyConfiguration.Cooldown == 300
    assert step.StepScalingPolicyConfiguration.MetricAggregationType == "Average"
    assert [a.AlarmName for a in config.alarms_for(step)] == ["low"]
    assert config.alarms[1].TreatMissingData == "missing" and config.alarms[1].datapoints_to_alarm == 15
    assert config.scheduled_actions[2].EndTime.utcoffset().total_seconds() == 0
    with pytest.raises(Exception):
        config.targets[0].MinCapacity = 3  # frozen


def test_documentation_examples_are_valid_for_botocore_too():
    doc = _documentation_examples()
    for section, (service, operation) in OPERATIONS.items():
        for request in doc[section]:
            assert not _botocore_rejects(service, operation, request), (section, request)


def test_variants_of_the_experiment_are_checked():
    load_autoscaling(valid_document(), "s.json", variants={("my-endpoint", "AllTraffic")})
    problems = _problems_with(valid_document(), variants={("my-endpoint", "Other")})
    assert [p.key for p in problems] == [f"{T}.ResourceId"] and "no endpoint 'my-endpoint'" in problems[0].message


def _problems_with(doc, **kwargs):
    with pytest.raises(InputError) as caught:
        load_autoscaling(doc, "s.json", **kwargs)
    return caught.value.problems


def test_scheduled_action_exposes_the_parsed_schedule():
    action = PutScheduledAction.model_validate(valid_document()["scheduled_actions"][0])
    assert action.schedule.dow_days == frozenset({2, 3, 4, 5, 6})  # MON-FRI, AWS numbering (1 = SUN)


# --- agreement with botocore's service models ----------------------------------------------------

OPERATIONS = {"targets": ("application-autoscaling", "RegisterScalableTarget"),
              "policies": ("application-autoscaling", "PutScalingPolicy"),
              "scheduled_actions": ("application-autoscaling", "PutScheduledAction"),
              "alarms": ("cloudwatch", "PutMetricAlarm")}
_SHAPES: dict = {}


def _shape(service, operation):
    if (service, operation) not in _SHAPES:
        model = service_model(service)
        _SHAPES[service, operation] = model.operation_model(operation).input_shape
    return _SHAPES[service, operation]


def _botocore_rejects(service, operation, request) -> bool:
    return ParamValidator().validate(request, _shape(service, operation)).has_errors()


def test_enumerations_match_botocore():
    aas = service_model("application-autoscaling")
    cloudwatch = service_model("cloudwatch")
    assert set(api_fields.VARIANT_METRIC_TYPES) <= set(aas.shape_for("MetricType").enum)
    assert api_fields.VARIANT_DIMENSION in aas.shape_for("ScalableDimension").enum
    assert api_fields.SAGEMAKER in aas.shape_for("ServiceNamespace").enum
    assert tuple(cloudwatch.shape_for("StandardUnit").enum) == api_fields.STANDARD_UNITS
    assert set(api_fields._ANOMALY_OPERATORS) | set(alarm_requests._STATIC_OPERATORS) == \
        set(cloudwatch.shape_for("ComparisonOperator").enum)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 2000), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=4), st.lists(st.integers(0, 3), max_size=2),
                 st.dictionaries(st.sampled_from(["Name", "Value", "x"]), st.integers(0, 3), max_size=2))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_botocore_rejections_are_rejected_here(data):
    section = data.draw(st.sampled_from(sorted(OPERATIONS)))
    doc = valid_document()
    index = data.draw(st.integers(0, len(doc[section]) - 1))
    request = doc[section][index]
    mutate(data, request, ["Extra", "Name", "MinCapacity", "Statistic"], JUNK)
    rejected = _botocore_rejects(*OPERATIONS[section], request)
    event(f"botocore {'rejects' if rejected else 'accepts'} {section}")
    if rejected:
        with pytest.raises(InputError):
            load_autoscaling(doc, "scaling.json")


def test_public_api():
    for module in (api_fields, alarm_requests, document, policies):
        assert set(module.__all__) <= set(dir(module))
    assert "load_autoscaling" in document.__all__ and "AutoscalingConfig" in document.__all__
