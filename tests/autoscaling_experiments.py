"""An experiment with Application Auto Scaling requests written inline in its TOML, as a user writes
them: `BASE` (one variant of the toy profile, a target and a target-tracking policy on it) and
`STEP_ALARM` (a step policy and the CloudWatch alarm that triggers it), for the tests of bad
autoscaling input (key paths start with `autoscaling.`, lines point into the TOML)."""

from __future__ import annotations

RID = "endpoint/ep/variant/A"

BASE = f"""\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "10min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2

[[traffic]]
kind = "poisson"
rate = 50

[instances]
provisioning_time = {{ kind = "constant", value = "60s" }}

[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "{RID}"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
MinCapacity = 1
MaxCapacity = 4

[[autoscaling.policies]]
PolicyName = "tt"
ServiceNamespace = "sagemaker"
ResourceId = "{RID}"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
PolicyType = "TargetTrackingScaling"

[autoscaling.policies.TargetTrackingScalingPolicyConfiguration]
TargetValue = 1000.0
PredefinedMetricSpecification = {{ PredefinedMetricType = "SageMakerVariantInvocationsPerInstance" }}
"""

STEP_ALARM = f"""
[[autoscaling.policies]]
PolicyName = "step"
ServiceNamespace = "sagemaker"
ResourceId = "{RID}"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
PolicyType = "StepScaling"

[autoscaling.policies.StepScalingPolicyConfiguration]
AdjustmentType = "ChangeInCapacity"
StepAdjustments = [{{ MetricIntervalLowerBound = 0.0, ScalingAdjustment = 1 }}]

[[autoscaling.alarms]]
AlarmName = "high"
AlarmActions = ["step"]
MetricName = "CPUUtilization"
Namespace = "/aws/sagemaker/Endpoints"
Statistic = "Average"
Dimensions = [{{ Name = "EndpointName", Value = "ep" }}, {{ Name = "VariantName", Value = "A" }}]
Period = 60
EvaluationPeriods = 2
Threshold = 80.0
ComparisonOperator = "GreaterThanThreshold"
"""
