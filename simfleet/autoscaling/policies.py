"""Autoscaling input: the requests a user sends to Application Auto Scaling for SageMaker.

`RegisterScalableTarget`, `PutScalingPolicy` (target tracking and step scaling) and
`PutScheduledAction`, as the very JSON of the API (PascalCase members). Constraints come from
botocore's `application-autoscaling` 2016-02-06 model (required members, lengths, patterns,
enumerations, minimums) and from the documentation it carries (reference/sagemaker-semantics.md
§3, [BOTO-AAS]): step-adjustment rules, cooldown defaults (300 s for SageMaker). The SageMaker
scalable targets are accepted: a real-time variant's instance count
(`sagemaker:variant:DesiredInstanceCount`) and a serverless variant's provisioned concurrency
(`sagemaker:variant:DesiredProvisionedConcurrency`), both on a ResourceId
``endpoint/<endpoint>/variant/<variant>``, and an inference component's copy count
(`sagemaker:inference-component:DesiredCopyCount`) on ``inference-component/<name>``; a ResourceId
of one kind with a dimension of the other is refused. Which variant or component may use which
dimension, and the capacity bounds that depend on the variant, are checked against the
experiment by `document.load_autoscaling`. Choices where AWS is silent are marked "Decision" in
the docstrings below. `document.load_autoscaling` gathers these requests with the alarms of
`alarm_requests`; nothing here simulates.
"""

from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict

from simfleet.autoscaling.api_fields import (_ActionName, Capacity, COMPONENT_DIMENSION, CooldownSeconds, DEFAULT_COOLDOWN_S,
                                             METRIC_TYPES_BY_DIMENSION, MetricNameText, NamespaceText, _PolicyName, _PositiveInt,
                                             _RESOURCE_ID, ResourceIdText, StatisticName, _Text1023, _Text1024,
                                             _Text255, Timestamp, UnitName, _VariantMetricType, _XmlText)
from simfleet.autoscaling.schedules import Schedule, parse_schedule
from simfleet.schema.aws_fields import Bool, Float, Int, list_of as _list, optional as _optional, Spec as _Spec

__all__ = [
    "SuspendedState", "RegisterScalableTarget", "MetricDimension", "PredefinedMetricSpecification",
    "CustomizedMetricSpecification", "TargetTrackingScalingPolicyConfiguration", "StepAdjustment",
    "StepScalingPolicyConfiguration", "PutScalingPolicy", "ScalableTargetAction", "Schedule",
    "PutScheduledAction",
]

#: What one unit of each scalable dimension is (for messages and the engine's capacities).
_UNITS = {"sagemaker:variant:DesiredInstanceCount": "instance",
          "sagemaker:variant:DesiredProvisionedConcurrency": "provisioned environment",
          COMPONENT_DIMENSION: "copy"}


class _TargetRequest(_Spec):
    ServiceNamespace: Literal["sagemaker"]
    ResourceId: ResourceIdText
    ScalableDimension: Literal["sagemaker:variant:DesiredInstanceCount",
                               "sagemaker:variant:DesiredProvisionedConcurrency",
                               "sagemaker:inference-component:DesiredCopyCount"]

    @property
    def target_key(self) -> tuple[str, str]:
        return (self.ResourceId, self.ScalableDimension)

    @property
    def provisioned(self) -> bool:
        """Does the request scale a serverless variant's provisioned concurrency (not instances)?"""
        return self.ScalableDimension == "sagemaker:variant:DesiredProvisionedConcurrency"

    @property
    def copies(self) -> bool:
        """Does the request scale an inference component's copy count?"""
        return self.ScalableDimension == COMPONENT_DIMENSION

    @property
    def unit(self) -> str:
        """One unit of the capacity: "instance", "provisioned environment" or "copy"."""
        return _UNITS[self.ScalableDimension]

    @property
    def endpoint_name(self) -> str | None:
        """The endpoint of a variant ResourceId (None for an inference component's)."""
        return _RESOURCE_ID.fullmatch(self.ResourceId)["endpoint"]

    @property
    def variant_name(self) -> str | None:
        """The variant of a variant ResourceId (None for an inference component's)."""
        return _RESOURCE_ID.fullmatch(self.ResourceId)["variant"]

    @property
    def component_name(self) -> str | None:
        """The InferenceComponentName of an ``inference-component/<name>`` ResourceId (None for a variant's)."""
        return _RESOURCE_ID.fullmatch(self.ResourceId)["component"]

    @property
    def consistent(self) -> bool:
        """Do the ResourceId and the ScalableDimension name the same kind of resource?"""
        return (self.component_name is not None) == self.copies

    def target_problems(self) -> list[tuple[tuple, str]]:
        """A variant ResourceId with the copy-count dimension, or a component's with a variant's."""
        if self.consistent:
            return []
        if self.copies:
            return [(("ScalableDimension",), f"{COMPONENT_DIMENSION} scales an inference component, whose ResourceId "
                     f"is 'inference-component/<name>', not {self.ResourceId!r}")]
        return [(("ScalableDimension",), f"{self.ScalableDimension} scales an endpoint variant, whose ResourceId is "
                 f"'endpoint/<endpoint>/variant/<variant>'; {self.ResourceId!r} is an inference component: scale "
                 f"its copies with {COMPONENT_DIMENSION}")]


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
    and every target here is new). MinCapacity 0 is accepted, as the API allows for variants, for
    provisioned concurrency (where 0 means no provisioned environments) and for inference
    components (scale to zero, §3.6)."""

    MinCapacity: Capacity
    MaxCapacity: Capacity
    RoleARN: _optional(_XmlText) = None
    SuspendedState: _OptionalSuspendedState = None
    Tags: _optional(Annotated[dict[str, str], BeforeValidator(_tag_map)]) = None

    def semantic_problems(self):
        found = self.target_problems()
        if self.MaxCapacity < self.MinCapacity:
            found.append((("MaxCapacity",), f"MaxCapacity {self.MaxCapacity} is less than MinCapacity "
                          f"{self.MinCapacity}"))
        return found


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
        found = self.target_problems()
        if getattr(self, wanted) is None:
            found.append(((wanted,), f"required for PolicyType {self.PolicyType}"))
        if getattr(self, other) is not None:
            found.append(((other,), f"not allowed with PolicyType {self.PolicyType}"))
        tracking = self.TargetTrackingScalingPolicyConfiguration
        predefined = tracking and tracking.PredefinedMetricSpecification
        allowed = METRIC_TYPES_BY_DIMENSION[self.ScalableDimension]
        if predefined and predefined.PredefinedMetricType not in allowed:
            found.append((("TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification",
                           "PredefinedMetricType"), f"{predefined.PredefinedMetricType} does not measure "
                          f"{self.ScalableDimension}; its predefined metric is {' or '.join(allowed)}"))
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
        found = self.target_problems()
        if self.StartTime is not None and self.EndTime is not None and self.EndTime <= self.StartTime:
            found.append((("EndTime",), f"EndTime {self.EndTime.isoformat()} is not after StartTime "
                          f"{self.StartTime.isoformat()}"))
        return found
