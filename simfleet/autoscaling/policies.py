"""Autoscaling input: the requests a user sends to Application Auto Scaling and CloudWatch.

First step of the autoscaling data flow. A user hands over the very JSON of
`RegisterScalableTarget`, `PutScalingPolicy`, `PutScheduledAction` (Application Auto Scaling) and
`PutMetricAlarm` (CloudWatch, the user-defined alarm behind a step scaling policy), gathered in one
document ``{"targets": [...], "policies": [...], "scheduled_actions": [...], "alarms": [...]}``.
`load_autoscaling` validates it into a frozen `AutoscalingConfig` (reporting every problem at
once); the engine reads that and simulates. Nothing here simulates.

Constraints come from botocore's service models (`application-autoscaling` 2016-02-06 and
`monitoring` 2010-08-01: required members, lengths, patterns, enumerations, minimums) and from the
documentation they carry (reference/sagemaker-semantics.md §3, [BOTO-AAS]): step-adjustment
rules, cooldown defaults (300 s for SageMaker), alarm periods. Only SageMaker real-time endpoint
variants (`sagemaker:variant:DesiredInstanceCount`) are accepted. Choices where AWS is silent are
marked "Decision" in the docstrings below.
"""

import re
from datetime import datetime, timezone
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (AfterValidator, BeforeValidator, Field, Strict, ValidationError, ValidationInfo,
                      model_validator)

from simfleet.autoscaling.schedules import Schedule, parse_schedule
from simfleet.config.quantities import StrictModel
from simfleet.config.validation import dotted, problems_from_validation
from simfleet.errors import InputError, Problem

__all__ = [
    "SAGEMAKER", "VARIANT_DIMENSION", "VARIANT_METRIC_TYPES", "DEFAULT_COOLDOWN_S",
    "SuspendedState", "RegisterScalableTarget", "MetricDimension", "PredefinedMetricSpecification",
    "CustomizedMetricSpecification", "TargetTrackingScalingPolicyConfiguration", "StepAdjustment",
    "StepScalingPolicyConfiguration", "PutScalingPolicy", "ScalableTargetAction", "Schedule",
    "PutScheduledAction", "Tag", "PutMetricAlarm", "AutoscalingConfig",
    "load_autoscaling",
]

SAGEMAKER = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: Predefined metric types of the `MetricType` enumeration that apply to endpoint variants (§3.2).
VARIANT_METRIC_TYPES = ("SageMakerVariantInvocationsPerInstance",
                        "SageMakerVariantConcurrentRequestsPerModelHighResolution")
#: Cooldown default for SageMaker endpoint variants, both directions and step policies (§3.3).
DEFAULT_COOLDOWN_S = 300
#: CloudWatch `StandardUnit` enumeration.
STANDARD_UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
                  "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
                  "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
                  "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
                  "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
_ANOMALY_OPERATORS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                      "GreaterThanUpperThreshold")
_DEFER = "simfleet.autoscaling.defer"  # validation-context flag: collect semantic problems, don't raise

# --- field types ------------------------------------------------------------------------------

_XML = re.compile("[\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff\r\n\t]*")
_PRINT = re.compile(r"[\x20-\x7e]+")  # Java \p{Print}
_ACTION_NAME = re.compile("(?!((^[ ]+.*)|(.*([\u0000-\u001f]|[\u007f-\u009f]|[:/|])+.*)|(.*[ ]+$))).+", re.S)
_NAME63 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_RESOURCE_ID = re.compile(rf"endpoint/(?P<endpoint>{_NAME63})/variant/(?P<variant>{_NAME63})")


def _not_null(value):
    if value is None:
        raise ValueError("null is not accepted; leave the key out instead")
    return value


def _optional(tp):
    """An optional key: absent means None, but an explicit null is refused (as botocore does)."""
    return Annotated[Union[tp, None], BeforeValidator(_not_null)]


def _text(min_len: int, max_len: int | None = None, pattern: re.Pattern | None = None, expected: str = ""):
    """A string of `min_len`..`max_len` characters, fully matching `pattern`."""
    def check(value: str) -> str:
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
            raise ValueError(f"expected {span} characters, got {len(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(f"expected {expected or 'a valid value'}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def _one_of(values: tuple[str, ...], what: str = ""):
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"{what}expected one of {', '.join(values)}, got {value!r}")
        return value
    return Annotated[str, Strict(), AfterValidator(check)]


def _sequence(value):
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _list(tp, max_len: int | None = None, min_len: int = 0):
    return Annotated[tuple[tp, ...], BeforeValidator(_sequence), Field(min_length=min_len, max_length=max_len)]


def _timestamp(value) -> datetime:
    """ISO 8601 text, epoch seconds or a datetime, as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, bool):
        raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}")
    try:
        if isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(value, timezone.utc)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.strip())
        elif isinstance(value, datetime):
            moment = value
        else:
            raise TypeError
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"expected an ISO 8601 timestamp like '2024-05-20T17:05:00Z', got {value!r}") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Capacity = Annotated[int, Strict(), Field(ge=0)]
CooldownSeconds = Annotated[int, Strict(), Field(ge=0)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
ResourceIdText = _text(1, 1600, _RESOURCE_ID, "'endpoint/<endpoint-name>/variant/<variant-name>' (names of up to 63 "
                   "letters, digits and inner hyphens)")
MetricNameText = _text(1, 255)
NamespaceText = _text(1, 255, re.compile(r"[^:].*", re.S), "a namespace not starting with ':'")
StatisticName = Literal["Average", "Minimum", "Maximum", "SampleCount", "Sum"]
UnitName = _one_of(STANDARD_UNITS)
_XmlText = _text(1, 1600, _XML, "XML characters")
_PolicyName = _text(1, 256, _PRINT, "printable ASCII characters")
_ActionName = _text(1, 256, _ACTION_NAME, "no ':', '/', '|' or control characters and no leading or trailing "
                    "spaces")
_Percentile = _text(1, 20, re.compile(r"p(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,10})?)"), "a percentile like 'p99' or "
                    "'p99.9'")
_VariantMetricType = _one_of(VARIANT_METRIC_TYPES, "for sagemaker:variant:DesiredInstanceCount ")
_MissingData = _one_of(("breaching", "notBreaching", "ignore", "missing"))
_LowSampleCount = _one_of(("evaluate", "ignore"))
_Text255 = _text(1, 255)
_Text1024 = _text(1, 1024)
_Text1023 = _text(1, 1023)
_Text0To1024 = _text(0, 1024)
_Text128 = _text(1, 128)
_Text0To256 = _text(0, 256)
_PositiveInt = Annotated[int, Strict(), Field(ge=1)]


class _Spec(StrictModel):
    """A request model whose cross-field rules (`semantic_problems`) run after field validation.

    Alone they raise like any validator; under `load_autoscaling` they are collected instead, so
    each lands on its own key path.
    """

    def semantic_problems(self) -> list[tuple[tuple, str]]:
        """(key path relative to this model, one-line message) for every cross-field problem."""
        return []

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo):
        if info.context and info.context.get(_DEFER):
            return self
        found = self.semantic_problems()
        if found:
            raise ValueError("; ".join(f"{dotted(loc)}: {msg}" if loc else msg for loc, msg in found))
        return self


class _TargetRequest(_Spec):
    ServiceNamespace: Literal["sagemaker"]
    ResourceId: ResourceIdText
    ScalableDimension: Literal["sagemaker:variant:DesiredInstanceCount"]

    @property
    def target_key(self) -> tuple[str, str]:
        return (self.ResourceId, self.ScalableDimension)

    @property
    def endpoint_name(self) -> str:
        return _RESOURCE_ID.fullmatch(self.ResourceId)["endpoint"]

    @property
    def variant_name(self) -> str:
        return _RESOURCE_ID.fullmatch(self.ResourceId)["variant"]


# --- RegisterScalableTarget -------------------------------------------------------------------

class SuspendedState(_Spec):
    DynamicScalingInSuspended: Bool = False
    DynamicScalingOutSuspended: Bool = False
    ScheduledScalingSuspended: Bool = False


_OptionalSuspendedState = _optional(SuspendedState)


def _tag_map(value):
    if not isinstance(value, dict):
        raise ValueError(f"expected a map of tag keys to values, got {type(value).__name__}")
    for key, text in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise ValueError(f"tag keys are 1 to 128 characters, got {key!r}")
        if not isinstance(text, str) or len(text) > 256:
            raise ValueError(f"tag values are strings of up to 256 characters, got {text!r} for {key!r}")
    return value


class RegisterScalableTarget(_TargetRequest):
    """Decision: MinCapacity and MaxCapacity are required (AWS requires them for a *new* target,
    and every target here is new). MinCapacity 0 is accepted, as the API allows for variants."""

    MinCapacity: Capacity
    MaxCapacity: Capacity
    RoleARN: _optional(_XmlText) = None
    SuspendedState: _OptionalSuspendedState = None
    Tags: _optional(Annotated[dict[str, str], BeforeValidator(_tag_map)]) = None

    def semantic_problems(self):
        if self.MaxCapacity < self.MinCapacity:
            return [(("MaxCapacity",), f"MaxCapacity {self.MaxCapacity} is less than MinCapacity {self.MinCapacity}")]
        return []


# --- PutScalingPolicy: target tracking ---------------------------------------------------------

class MetricDimension(_Spec):
    """A CloudWatch dimension (lengths from CloudWatch's `Dimension`)."""

    Name: _Text255
    Value: _Text1024


class PredefinedMetricSpecification(_Spec):
    PredefinedMetricType: _VariantMetricType
    ResourceLabel: _optional(_Text1023) = None

    def semantic_problems(self):
        if self.ResourceLabel is not None:
            return [(("ResourceLabel",), "ResourceLabel is only for ALBRequestCountPerTarget; leave it out")]
        return []


_OptionalPredefinedMetricSpecification = _optional(PredefinedMetricSpecification)


class CustomizedMetricSpecification(_Spec):
    """Decision: metric math (`Metrics`) is refused; the simulated CloudWatch serves plain metrics."""

    MetricName: MetricNameText
    Namespace: NamespaceText
    Dimensions: _optional(_list(MetricDimension, max_len=30)) = None
    Statistic: StatisticName
    Unit: _optional(UnitName) = None
    Metrics: _optional(list) = None

    def semantic_problems(self):
        if self.Metrics is not None:
            return [(("Metrics",), "metric math (Metrics) is not simulated; give MetricName, Namespace and Statistic")]
        return []


_OptionalCustomizedMetricSpecification = _optional(CustomizedMetricSpecification)


class TargetTrackingScalingPolicyConfiguration(_Spec):
    """Decision: TargetValue must be > 0 (the capacity calculation divides by it) and at most
    2**360 (documented). Cooldowns default to 300 s (§3.3) and may not be negative."""

    TargetValue: Annotated[float, Strict(), Field(gt=0, le=2.0 ** 360)]
    PredefinedMetricSpecification: _OptionalPredefinedMetricSpecification = None
    CustomizedMetricSpecification: _OptionalCustomizedMetricSpecification = None
    ScaleOutCooldown: CooldownSeconds = DEFAULT_COOLDOWN_S
    ScaleInCooldown: CooldownSeconds = DEFAULT_COOLDOWN_S
    DisableScaleIn: Bool = False

    def semantic_problems(self):
        predefined, customized = self.PredefinedMetricSpecification, self.CustomizedMetricSpecification
        if predefined is None and customized is None:
            return [(("PredefinedMetricSpecification",),
                     "give PredefinedMetricSpecification or CustomizedMetricSpecification")]
        if predefined is not None and customized is not None:
            return [(("CustomizedMetricSpecification",),
                     "give PredefinedMetricSpecification or CustomizedMetricSpecification, not both")]
        return []


_OptionalTargetTrackingScalingPolicyConfiguration = _optional(TargetTrackingScalingPolicyConfiguration)


# --- PutScalingPolicy: step scaling ------------------------------------------------------------

class StepAdjustment(_Spec):
    """Bounds are offsets from the alarm threshold; absent lower = -inf, absent upper = +inf."""

    MetricIntervalLowerBound: _optional(Float) = None
    MetricIntervalUpperBound: _optional(Float) = None
    ScalingAdjustment: Int

    @property
    def lower(self) -> float:
        return -float("inf") if self.MetricIntervalLowerBound is None else self.MetricIntervalLowerBound

    @property
    def upper(self) -> float:
        return float("inf") if self.MetricIntervalUpperBound is None else self.MetricIntervalUpperBound

    def semantic_problems(self):
        if self.MetricIntervalLowerBound is None and self.MetricIntervalUpperBound is None:
            return [((), "give MetricIntervalLowerBound or MetricIntervalUpperBound (or both)")]
        if self.upper <= self.lower:
            return [(("MetricIntervalUpperBound",), f"MetricIntervalUpperBound {self.upper:g} must be greater "
                     f"than MetricIntervalLowerBound {self.lower:g}")]
        return []


class StepScalingPolicyConfiguration(_Spec):
    """Rules from the `StepAdjustment` documentation: no overlap, no gap, at most one absent lower
    and one absent upper bound, a negative lower bound needs an absent lower bound somewhere, a
    positive upper bound an absent upper bound. Decision: AdjustmentType and StepAdjustments are
    required (AWS requires them for a new policy); ExactCapacity adjustments may not be negative;
    MinAdjustmentMagnitude is at least 1."""

    AdjustmentType: Literal["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"]
    StepAdjustments: _list(StepAdjustment, min_len=1)
    MinAdjustmentMagnitude: _optional(_PositiveInt) = None
    Cooldown: CooldownSeconds = DEFAULT_COOLDOWN_S
    MetricAggregationType: Literal["Average", "Minimum", "Maximum"] = "Average"

    def semantic_problems(self):
        found = []
        if self.MinAdjustmentMagnitude is not None and self.AdjustmentType != "PercentChangeInCapacity":
            found.append((("MinAdjustmentMagnitude",), "MinAdjustmentMagnitude is only for AdjustmentType "
                          f"PercentChangeInCapacity, not {self.AdjustmentType}"))
        steps = self.StepAdjustments
        if self.AdjustmentType == "ExactCapacity":
            found += [(("StepAdjustments", i, "ScalingAdjustment"), "an ExactCapacity ScalingAdjustment is a "
                       f"capacity and cannot be negative, got {s.ScalingAdjustment}")
                      for i, s in enumerate(steps) if s.ScalingAdjustment < 0]
        if any(s.semantic_problems() for s in steps):
            return found  # each step's own problem is reported by the step
        bounds_ok = True
        for side, key, sign in (("lower", "MetricIntervalLowerBound", -1), ("upper", "MetricIntervalUpperBound", 1)):
            open_ = [i for i, s in enumerate(steps) if getattr(s, key) is None]
            for i in open_[1:]:
                found.append((("StepAdjustments", i, key), f"StepAdjustments[{open_[0]}] already has no {side} "
                              f"bound; at most one step may leave out {key}"))
                bounds_ok = False
            if not open_:
                for i, s in enumerate(steps):
                    if getattr(s, key) * sign > 0:
                        found.append((("StepAdjustments", i, key), f"{key} {getattr(s, key):g} is "
                                      f"{'negative' if sign < 0 else 'positive'}, so one step must leave out {key}"))
                        bounds_ok = False
                        break
        if bounds_ok:
            order = sorted(range(len(steps)), key=lambda i: (steps[i].lower, steps[i].upper))
            for before, after in zip(order, order[1:]):
                end, start = steps[before].upper, steps[after].lower
                if start != end:
                    kind = "overlaps" if start < end else "leaves a gap after"
                    found.append((("StepAdjustments", after, "MetricIntervalLowerBound"),
                                  f"MetricIntervalLowerBound {start:g} {kind} StepAdjustments[{before}], which ends "
                                  f"at {end:g}; step ranges must be contiguous"))
        return found


_OptionalStepScalingPolicyConfiguration = _optional(StepScalingPolicyConfiguration)


# --- PutScalingPolicy ------------------------------------------------------------------------

class PutScalingPolicy(_TargetRequest):
    """Decision: PolicyType is required (AWS requires it for a new policy); PredictiveScaling is
    refused (ECS only); the configuration matching PolicyType is required and the other refused."""

    PolicyName: _PolicyName
    PolicyType: Literal["TargetTrackingScaling", "StepScaling"]
    TargetTrackingScalingPolicyConfiguration: _OptionalTargetTrackingScalingPolicyConfiguration = None
    StepScalingPolicyConfiguration: _OptionalStepScalingPolicyConfiguration = None

    def semantic_problems(self):
        wanted = f"{self.PolicyType}PolicyConfiguration"
        other = ({"TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration"} - {wanted}).pop()
        found = []
        if getattr(self, wanted) is None:
            found.append(((wanted,), f"required for PolicyType {self.PolicyType}"))
        if getattr(self, other) is not None:
            found.append(((other,), f"not allowed with PolicyType {self.PolicyType}"))
        return found


# --- PutScheduledAction ----------------------------------------------------------------------

class ScalableTargetAction(_Spec):
    MinCapacity: _optional(Capacity) = None
    MaxCapacity: _optional(Capacity) = None

    def semantic_problems(self):
        if self.MinCapacity is None and self.MaxCapacity is None:
            return [((), "give MinCapacity, MaxCapacity or both")]
        if self.MinCapacity is not None and self.MaxCapacity is not None and self.MaxCapacity < self.MinCapacity:
            return [(("MaxCapacity",), f"MaxCapacity {self.MaxCapacity} is less than MinCapacity {self.MinCapacity}")]
        return []


def _valid_schedule(text: str) -> str:
    parse_schedule(text)  # the one parser of schedule expressions (simfleet.autoscaling.schedules)
    return text


@cache
def _timezones() -> frozenset[str]:
    import zoneinfo
    return frozenset(zoneinfo.available_timezones())


def _valid_timezone(name: str) -> str:
    if name not in _timezones():
        raise ValueError(f"expected an IANA time zone name like 'Europe/Paris' or 'Etc/GMT+9', got {name!r}")
    return name


_ScheduleText = Annotated[_XmlText, AfterValidator(_valid_schedule)]
_TimezoneName = Annotated[_XmlText, AfterValidator(_valid_timezone)]


class PutScheduledAction(_TargetRequest):
    """Decision: Schedule and ScalableTargetAction are required (a new action needs both);
    EndTime must be after StartTime; Timezone is accepted with rate() too (AWS then ignores it)."""

    ScheduledActionName: _ActionName
    Schedule: _ScheduleText
    Timezone: _optional(_TimezoneName) = None
    StartTime: _optional(Timestamp) = None
    EndTime: _optional(Timestamp) = None
    ScalableTargetAction: ScalableTargetAction

    @property
    def schedule(self) -> Schedule:
        return parse_schedule(self.Schedule)

    def semantic_problems(self):
        if self.StartTime is not None and self.EndTime is not None and self.EndTime <= self.StartTime:
            return [(("EndTime",), f"EndTime {self.EndTime.isoformat()} is not after StartTime "
                     f"{self.StartTime.isoformat()}")]
        return []


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
    ``:resource/sagemaker/endpoint/<e>/variant/<v>:policyName/<name>``. Decision: MetricName,
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


# --- the document and its loader ---------------------------------------------------------------

class AutoscalingConfig(StrictModel):
    """Every validated request of one autoscaling document, in the user's order."""

    targets: tuple[RegisterScalableTarget, ...] = ()
    policies: tuple[PutScalingPolicy, ...] = ()
    scheduled_actions: tuple[PutScheduledAction, ...] = ()
    alarms: tuple[PutMetricAlarm, ...] = ()

    def policies_for(self, target: RegisterScalableTarget) -> tuple[PutScalingPolicy, ...]:
        return tuple(p for p in self.policies if p.target_key == target.target_key)

    def scheduled_actions_for(self, target: RegisterScalableTarget) -> tuple[PutScheduledAction, ...]:
        return tuple(a for a in self.scheduled_actions if a.target_key == target.target_key)

    def alarms_for(self, policy: PutScalingPolicy) -> tuple[PutMetricAlarm, ...]:
        return tuple(a for a in self.alarms
                     if any(_action_names(action) in ((policy.ResourceId, policy.PolicyName), (None, policy.PolicyName))
                            for action in a.AlarmActions))


_SECTIONS = {"targets": RegisterScalableTarget, "policies": PutScalingPolicy,
             "scheduled_actions": PutScheduledAction, "alarms": PutMetricAlarm}
_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:autoscaling:[^:]*:[^:]*:scalingPolicy:[^:]*:resource/sagemaker/"
                         r"(?P<resource>[^:]+):policyName/(?P<name>.+)", re.S)


def _action_names(action: str) -> tuple[str | None, str]:
    """(ResourceId or None, PolicyName) named by an alarm action."""
    if (match := _POLICY_ARN.fullmatch(action)):
        return match["resource"], match["name"]
    return None, action


def _models_in(annotation) -> type[_Spec] | None:
    if isinstance(annotation, type) and issubclass(annotation, _Spec):
        return annotation
    for arg in get_args(annotation):
        if (found := _models_in(arg)) is not None:
            return found
    return None


def _is_sequence(annotation) -> bool:
    return get_origin(annotation) is tuple or any(_is_sequence(arg) for arg in get_args(annotation))


def _walk(model: _Spec, loc: tuple) -> list[tuple[tuple, str]]:
    found = [(loc + rel, msg) for rel, msg in model.semantic_problems()]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for position, item in (enumerate(value) if isinstance(value, tuple) else [(None, value)]):
            if isinstance(item, _Spec):
                found += _walk(item, loc + ((name,) if position is None else (name, position)))
    return found


def _semantic_only(cls: type[_Spec], raw: Any, loc: tuple) -> list[tuple[tuple, str]]:
    """Cross-field problems of every part of `raw` that validates on its own."""
    try:
        return _walk(cls.model_validate(raw, context={_DEFER: True}), loc)
    except ValidationError:
        pass
    found = []
    if isinstance(raw, dict):
        for name, field in cls.model_fields.items():
            sub, value = _models_in(field.annotation), raw.get(name)
            if sub is None or isinstance(value, list) != _is_sequence(field.annotation):
                continue
            for position, item in (enumerate(value) if isinstance(value, list) else [(None, value)]):
                if isinstance(item, dict):
                    found += _semantic_only(sub, item, loc + ((name,) if position is None else (name, position)))
    return found


@cache
def _simulated_metrics() -> frozenset[tuple[str, str]]:
    from simfleet.metrics.catalog import metric_catalog
    return frozenset(spec.key for spec in metric_catalog())


def _cross_problems(built: dict, failed: dict, variants) -> list[tuple[tuple, str]]:
    """References between requests: targets, policies and alarms that name each other."""
    found: list[tuple[tuple, str]] = []
    targets: dict[tuple, int] = {}
    for i, target in built["targets"]:
        if target.target_key in targets:
            found.append((("targets", i, "ResourceId"), f"{target.ResourceId} is registered twice "
                          f"(also targets[{targets[target.target_key]}])"))
        targets.setdefault(target.target_key, i)
        if variants is not None and (target.endpoint_name, target.variant_name) not in variants:
            found.append((("targets", i, "ResourceId"), f"no endpoint {target.endpoint_name!r} with variant "
                          f"{target.variant_name!r} in the experiment"))
    targets_failed = bool(failed["targets"])
    named: dict[tuple, int] = {}
    for section, name_key in (("policies", "PolicyName"), ("scheduled_actions", "ScheduledActionName")):
        for i, request in built[section]:
            if not targets_failed and (request.ResourceId, request.ScalableDimension) not in targets:
                found.append(((section, i, "ResourceId"), f"no scalable target {request.ResourceId} is registered "
                              "in targets"))
            key = (section, request.ResourceId, getattr(request, name_key))
            if key in named:
                found.append(((section, i, name_key), f"{key[2]!r} is used twice for {request.ResourceId} "
                              f"(also {section}[{named[key]}])"))
            named.setdefault(key, i)
    for i, policy in built["policies"]:
        custom = policy.TargetTrackingScalingPolicyConfiguration and \
            policy.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification
        if custom and (custom.Namespace, custom.MetricName) not in _simulated_metrics():
            found.append((("policies", i, "TargetTrackingScalingPolicyConfiguration", "CustomizedMetricSpecification",
                           "MetricName"), f"{custom.MetricName!r} in {custom.Namespace!r} is not a metric simfleet "
                          "simulates (see docs/metrics.md)"))
    alarm_names: dict[str, int] = {}
    driven: set[int] = set()
    for i, alarm in built["alarms"]:
        if alarm.AlarmName in alarm_names:
            found.append((("alarms", i, "AlarmName"), f"{alarm.AlarmName!r} is used twice (also "
                          f"alarms[{alarm_names[alarm.AlarmName]}])"))
        alarm_names.setdefault(alarm.AlarmName, i)
        if (alarm.Namespace, alarm.MetricName) not in _simulated_metrics():
            found.append((("alarms", i, "MetricName"), f"{alarm.MetricName!r} in {alarm.Namespace!r} is not a "
                          "metric simfleet simulates (see docs/metrics.md)"))
        for k, action in enumerate(alarm.AlarmActions):
            resource, name = _action_names(action)
            matches = list({p.target_key: (j, p) for j, p in reversed(built["policies"])
                            if p.PolicyName == name and resource in (None, p.ResourceId)}.values())
            where = ("alarms", i, "AlarmActions", k)
            if not matches:
                if not failed["policies"]:
                    found.append((where, f"no scaling policy named {name!r}" +
                                  (f" for {resource}" if resource else "") + " in policies"))
            elif len(matches) > 1:
                found.append((where, f"{name!r} names policies of several targets; use the policy ARN "
                              "ending ':resource/sagemaker/<ResourceId>:policyName/<name>'"))
            elif matches[0][1].PolicyType != "StepScaling":
                found.append((where, f"{name!r} is a target tracking policy, whose alarms Application Auto "
                              "Scaling creates itself; alarms drive step scaling policies"))
            else:
                driven.add(matches[0][0])
    for j, policy in built["policies"]:
        if policy.PolicyType == "StepScaling" and j not in driven and failed["alarms"] == 0:
            found.append((("policies", j, "PolicyName"), f"no alarm in alarms names step scaling policy "
                          f"{policy.PolicyName!r} in its AlarmActions, so it would never run"))
    return found


def load_autoscaling(data: dict, source: str, *, variants=None) -> AutoscalingConfig:
    """Validate an autoscaling document; raise `InputError` with every problem found.

    `variants`, when given, is the set of (EndpointName, VariantName) the experiment defines, and
    every target must name one of them.
    """
    if not isinstance(data, dict):
        raise InputError.single(source, f"expected a table of {', '.join(_SECTIONS)}, got {type(data).__name__}")
    problems: list[Problem] = []
    located: list[tuple[tuple, str]] = []
    for key in data:
        if key not in _SECTIONS:
            problems.append(Problem(source, str(key), f"unknown key (expected {', '.join(_SECTIONS)})"))
    built: dict[str, list] = {section: [] for section in _SECTIONS}
    failed = {section: 0 for section in _SECTIONS}
    for section, cls in _SECTIONS.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            problems.append(Problem(source, section, f"expected a list of {cls.__name__} requests"))
            continue
        for i, raw in enumerate(items):
            try:
                request = cls.model_validate(raw, context={_DEFER: True})
            except ValidationError as error:
                problems += problems_from_validation(error, source, (section, i), None, raw=raw)
                located += _semantic_only(cls, raw, (section, i))
                failed[section] += 1
                continue
            located += _walk(request, (section, i))
            built[section].append((i, request))
    located += _cross_problems(built, failed, variants)
    problems += [Problem(source, dotted(loc), message) for loc, message in located]
    if problems:
        raise InputError(problems)
    return AutoscalingConfig(**{section: tuple(r for _, r in built[section]) for section in _SECTIONS})
