"""`PutMetricAlarm`: the CloudWatch alarm a user defines behind a step scaling policy.

Validated against botocore's `monitoring` 2010-08-01 model and the CloudWatch documentation
(periods 10, 20, 30 or a multiple of 60; DatapointsToAlarm <= EvaluationPeriods; the evaluation
window at most a day, or a week for periods of an hour or more); its `AlarmActions` name the
scaling policies it triggers.
"""

from typing import Annotated

from pydantic import AfterValidator, Field, Strict

from simfleet.autoscaling.api_fields import (_ANOMALY_OPERATORS, _LowSampleCount, MetricNameText, _MissingData,
                                             NamespaceText, _Percentile, _PositiveInt, StatisticName,
                                             _Text0To1024, _Text0To256, _Text1024, _Text128, _Text255, UnitName)
from simfleet.autoscaling.policies import MetricDimension
from simfleet.schema.aws_fields import Bool, Float, list_of as _list, optional as _optional, Spec as _Spec

__all__ = ["Tag", "PutMetricAlarm"]

# --- PutMetricAlarm (CloudWatch) ---------------------------------------------------------------

class Tag(_Spec):
    Key: _Text128
    Value: _Text0To256


def _valid_period(seconds: int) -> int:
    if seconds not in (10, 20, 30) and seconds % 60:
        raise ValueError(f"Period must be 10, 20, 30 or a multiple of 60 seconds, got {seconds}")
    return seconds


def _no_actions(value):
    if value:
        raise ValueError("only AlarmActions are simulated; leave this list empty or out")
    return value


_Actions = _list(_Text1024, min_len=1, max_len=5)
_NoActions = Annotated[_list(_Text1024, max_len=5), AfterValidator(_no_actions)]
_Period = Annotated[int, Strict(), Field(ge=1), AfterValidator(_valid_period)]
_STATIC_OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
                     "LessThanOrEqualToThreshold")


def _static_operator(value: str) -> str:
    if value in _ANOMALY_OPERATORS:
        raise ValueError(f"{value} is for anomaly detection alarms, which simfleet does not simulate")
    if value not in _STATIC_OPERATORS:
        raise ValueError(f"expected one of {', '.join(_STATIC_OPERATORS)}, got {value!r}")
    return value


_Operator = Annotated[str, Strict(), AfterValidator(_static_operator)]


class PutMetricAlarm(_Spec):
    """A static-threshold alarm on one metric that drives a step scaling policy.

    AlarmActions name step scaling policies: a PolicyName, or a policy ARN ending
    ``:resource/sagemaker/endpoint/<e>/variant/<v>:policyName/<name>`` (for an inference
    component ``:resource/sagemaker/inference-component/<ic>:policyName/<name>``). Decision: MetricName,
    Namespace, Period, EvaluationPeriods, Threshold, ComparisonOperator and at least one AlarmAction
    are required (optional in the API only because of metric-math and PromQL alarms, refused
    here); ExtendedStatistic is limited to percentiles pNN; anomaly-detection operators, metric
    math, OKActions and InsufficientDataActions are refused. DatapointsToAlarm defaults to
    EvaluationPeriods, TreatMissingData to ``missing``.
    """

    AlarmName: _Text255
    AlarmDescription: _optional(_Text0To1024) = None
    ActionsEnabled: Bool = True
    AlarmActions: _Actions
    OKActions: _optional(_NoActions) = None
    InsufficientDataActions: _optional(_NoActions) = None
    MetricName: MetricNameText
    Namespace: NamespaceText
    Statistic: _optional(StatisticName) = None
    ExtendedStatistic: _optional(_Percentile) = None
    Dimensions: _optional(_list(MetricDimension, max_len=30)) = None
    Period: _Period
    Unit: _optional(UnitName) = None
    EvaluationPeriods: _PositiveInt
    DatapointsToAlarm: _optional(_PositiveInt) = None
    Threshold: Float
    ComparisonOperator: _Operator
    TreatMissingData: _MissingData = "missing"
    EvaluateLowSampleCountPercentile: _optional(_LowSampleCount) = None
    Metrics: _optional(list) = None
    Tags: _optional(_list(Tag)) = None

    @property
    def datapoints_to_alarm(self) -> int:
        return self.EvaluationPeriods if self.DatapointsToAlarm is None else self.DatapointsToAlarm

    def semantic_problems(self):
        found = []
        if (self.Statistic is None) == (self.ExtendedStatistic is None):
            found.append((("Statistic",), "give either Statistic or ExtendedStatistic" +
                          ("" if self.Statistic is None else ", not both")))
        if self.EvaluateLowSampleCountPercentile is not None and self.ExtendedStatistic is None:
            found.append((("EvaluateLowSampleCountPercentile",), "only for percentile (ExtendedStatistic) alarms"))
        if self.DatapointsToAlarm is not None and self.DatapointsToAlarm > self.EvaluationPeriods:
            found.append((("DatapointsToAlarm",), f"DatapointsToAlarm {self.DatapointsToAlarm} exceeds "
                          f"EvaluationPeriods {self.EvaluationPeriods}"))
        span, limit = self.Period * self.EvaluationPeriods, (86400 if self.Period < 3600 else 604800)
        if span > limit:
            found.append((("EvaluationPeriods",), f"Period x EvaluationPeriods is {span} s, more than {limit} s "
                          f"({'one day for periods under an hour' if limit == 86400 else 'seven days'})"))
        if self.Metrics is not None:
            found.append((("Metrics",), "metric math (Metrics) is not simulated; give MetricName and Namespace"))
        return found
