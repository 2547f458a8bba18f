"""Desired capacity: target tracking, step scaling, policy combination, cooldowns, schedules.

Sits after the alarms (`alarms.py`): once a policy's alarm is in ALARM, the engine asks this
module what capacity the policy wants, combines the wishes of every policy on the scalable
target, checks the target's `Cooldowns`, and only then launches or drains instances. Pure
functions and one small state machine; times are seconds of simulated time.

Documented rules implemented, with sources:

* Target tracking [TT] (Application Auto Scaling User Guide, target-tracking-scaling-policy-
  overview): scale out in proportion to how far the metric is above target, rounding up ("when
  1.5 units are needed it adds 2"); scale in conservatively, never removing capacity that would
  likely push the metric back above target, never by a fraction; only scale out when the metric
  is above target; `DisableScaleIn`.
* Several policies on one target [TT], [BOTO-AAS]: scale out if any policy wants to, scale in
  only if all (scale-in-enabled) target-tracking policies want to, and the largest capacity
  wins; a step scale-in is not blocked by target tracking.
* Step scaling (Application Auto Scaling User Guide, application-auto-scaling-step-scaling-
  policies; API StepAdjustment, StepScalingPolicyConfiguration): bounds are offsets from the
  alarm threshold, null lower = -inf, null upper = +inf; above the threshold the lower bound is
  inclusive and the upper exclusive, otherwise the reverse. `ChangeInCapacity` adds,
  `ExactCapacity` sets, `PercentChangeInCapacity` adds a percentage rounded as documented:
  values > 1 rounded down (12.7 -> 12), in (0, 1) to 1, in (-1, 0) to -1, < -1 rounded up
  (-6.67 -> -6); `MinAdjustmentMagnitude` is the least amount a percent adjustment moves
  (25 % of 4 with MinAdjustmentMagnitude 2 adds 2). The result never leaves [min, max].
* Cooldowns (API StepScalingPolicyConfiguration.Cooldown, TargetTrackingScalingPolicyConfiguration
  ScaleOutCooldown / ScaleInCooldown): during a scale-out cooldown only a larger scale-out
  proceeds, and capacity added by the previous scale-out counts toward the next; scale-in is
  blocked during a scale-in cooldown, but a scale-out proceeds immediately and ends it;
  default 300 s for SageMaker; scheduled actions ignore cooldowns.
* Scheduled actions [BOTO-AAS] (PutScheduledAction): new MinCapacity / MaxCapacity; capacity
  below the new minimum is raised to it, capacity above the new maximum is lowered to it.

Decisions where AWS is silent:

* target tracking: desired = ceil(current x metric / target) in both directions (for scale-in
  this is exactly the smallest capacity whose projected metric stays at or below target, so it
  is the conservative rule), with a 1e-9 relative tolerance so 3 x 0.5 / 0.5 stays 3; a
  target with 0 capacity cannot be scaled by target tracking (no capacity to divide by).
* a metric exactly at the threshold is "not above" it (the StepAdjustment text says "above").
* scale-in is not blocked by a scale-out cooldown unless `scale_in_blocked_by_scale_out=True`;
  scheduled actions neither start nor end cooldowns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = [
    "ADJUSTMENT_TYPES",
    "DEFAULT_COOLDOWN_S",
    "StepAdjustment",
    "Proposal",
    "Combined",
    "CooldownVerdict",
    "Cooldowns",
    "ScheduledChange",
    "clamp",
    "target_tracking_capacity",
    "select_step",
    "round_percent_adjustment",
    "step_scaling_capacity",
    "combine_proposals",
    "apply_scheduled_action",
]

ADJUSTMENT_TYPES = ("ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity")

#: Default ScaleOutCooldown / ScaleInCooldown / step Cooldown for SageMaker variants, inference
#: components and serverless provisioned concurrency [TT], [BOTO-AAS].
DEFAULT_COOLDOWN_S = 300.0

_REL_TOL = 1e-9


def _check_bounds(min_capacity: int, max_capacity: int) -> None:
    if not isinstance(min_capacity, int) or not isinstance(max_capacity, int):
        raise ValueError(
            f"capacity: MinCapacity and MaxCapacity must be integers, got "
            f"{min_capacity!r} and {max_capacity!r}"
        )
    if min_capacity < 0 or max_capacity < min_capacity:
        raise ValueError(
            f"capacity: need 0 <= MinCapacity <= MaxCapacity, got {min_capacity} and {max_capacity}"
        )


def clamp(capacity: int, min_capacity: int, max_capacity: int) -> int:
    """`capacity` bounded to [MinCapacity, MaxCapacity]."""
    _check_bounds(min_capacity, max_capacity)
    return max(min_capacity, min(max_capacity, int(capacity)))


def _ceil(x: float) -> int:
    """Ceiling that ignores float noise: 3.0000000000000004 -> 3."""
    return math.ceil(x - _REL_TOL * max(1.0, abs(x)))


def target_tracking_capacity(
    current: int,
    metric: float,
    target: float,
    min_capacity: int,
    max_capacity: int,
    *,
    direction: str | None = None,
    disable_scale_in: bool = False,
    measured_on: float | None = None,
) -> int:
    """Capacity a target-tracking policy wants, within [min, max].

    `direction` is "out" when the high alarm fired (the result never goes below current),
    "in" when the low alarm fired (never above current), None for both. `measured_on` is the
    capacity the metric was measured on (default `current`; the engine passes the mean number
    of in-service instances over the alarm's period, since instances still launching took no
    load). When it is 0 the metric cannot be projected and current (clamped) is returned.

    >>> target_tracking_capacity(4, 1800.0, 1500.0, 1, 10)   # 4 x 1.2 = 4.8 -> 5
    5
    >>> target_tracking_capacity(4, 1000.0, 1500.0, 1, 10)   # 4 x 0.67 = 2.67 -> 3, not 2
    3
    """
    _check_bounds(min_capacity, max_capacity)
    if direction not in (None, "out", "in"):
        raise ValueError(f"target tracking: direction must be 'out', 'in' or None, got {direction!r}")
    if not math.isfinite(target) or target <= 0:
        raise ValueError(f"target tracking: TargetValue must be a finite number > 0, got {target!r}")
    if not math.isfinite(metric) or metric < 0:
        raise ValueError(f"target tracking: metric must be a finite number >= 0, got {metric!r}")
    basis = current if measured_on is None else measured_on
    if not math.isfinite(basis) or basis < 0:
        raise ValueError(f"target tracking: measured_on must be a finite number >= 0, got {measured_on!r}")
    if basis <= 0:
        return clamp(current, min_capacity, max_capacity)
    if metric > target:
        desired = max(current, _ceil(basis * metric / target))
        if direction == "in":
            desired = current
    elif metric < target:
        desired = min(current, _ceil(basis * metric / target))
        if direction == "out" or disable_scale_in:
            desired = current
    else:
        desired = current
    return clamp(desired, min_capacity, max_capacity)


@dataclass(frozen=True)
class StepAdjustment:
    """One StepAdjustment: bounds are offsets from the alarm threshold (None = unbounded)."""

    scaling_adjustment: int
    lower_bound: float | None = None
    upper_bound: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.scaling_adjustment, int):
            raise ValueError(
                f"StepAdjustment: ScalingAdjustment must be an integer, got {self.scaling_adjustment!r}"
            )
        lo, hi = self.lower_bound, self.upper_bound
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(
                f"StepAdjustment: MetricIntervalLowerBound ({lo}) must be below "
                f"MetricIntervalUpperBound ({hi})"
            )

    def contains(self, breach: float, above: bool) -> bool:
        """Whether a metric `breach` = metric - threshold falls in this step's interval."""
        lo = -math.inf if self.lower_bound is None else self.lower_bound
        hi = math.inf if self.upper_bound is None else self.upper_bound
        if above:
            return lo <= breach < hi
        return lo < breach <= hi


def select_step(
    metric: float, threshold: float, steps: Sequence[StepAdjustment], comparison: str | None = None
) -> StepAdjustment | None:
    """The step whose interval holds `metric`, or None; "above" means metric > threshold.

    Decision (AWS is silent on a value equal to the threshold): when the alarm's `comparison` is
    `GreaterThanOrEqualToThreshold`, a value equal to the threshold breached upward, so it is
    "above" and falls in the step whose lower bound is 0 (inclusive above); otherwise (and without
    `comparison`, `AutoscalingSettings.step_at_threshold = "below"`) it is on the "below" side (a
    `...OrEqual` scale-in alarm's value at the threshold falls in the step whose upper bound is 0).
    """
    breach = metric - threshold
    above = metric > threshold or (metric == threshold and comparison == "GreaterThanOrEqualToThreshold")
    for step in steps:
        if step.contains(breach, above):
            return step
    return None


def round_percent_adjustment(delta: float) -> int:
    """Round a PercentChangeInCapacity result as documented (toward zero, but at least +-1).

    >>> [round_percent_adjustment(x) for x in (12.7, 0.67, -0.58, -6.67, 0.0)]
    [12, 1, -1, -6, 0]
    """
    if delta == 0:
        return 0
    if 0 < delta < 1:
        return 1
    if -1 < delta < 0:
        return -1
    return math.trunc(delta)


def step_scaling_capacity(
    current: int,
    metric: float,
    threshold: float,
    adjustment_type: str,
    steps: Sequence[StepAdjustment],
    min_capacity: int,
    max_capacity: int,
    *,
    min_adjustment_magnitude: int | None = None,
    base_capacity: int | None = None,
    comparison: str | None = None,
) -> int:
    """Capacity after a step-scaling policy acts on an aggregated `metric`, within [min, max].

    `comparison` is the ComparisonOperator of the alarm that invoked the policy (see `select_step`).

    `base_capacity` is the capacity the adjustment starts from; during a scale-out cooldown pass
    `Cooldowns.scale_out_base` so the capacity added by the previous scale-out counts toward
    this one (+2 then +3 within the cooldown adds 1). Without a matching step, returns current.

    >>> steps = [StepAdjustment(25, lower_bound=0.0)]
    >>> step_scaling_capacity(4, 80.0, 70.0, "PercentChangeInCapacity", steps, 1, 20,
    ...                       min_adjustment_magnitude=2)
    6
    """
    _check_bounds(min_capacity, max_capacity)
    if adjustment_type not in ADJUSTMENT_TYPES:
        raise ValueError(
            f"step scaling: AdjustmentType must be one of {', '.join(ADJUSTMENT_TYPES)}, "
            f"got {adjustment_type!r}"
        )
    if min_adjustment_magnitude is not None and (
        not isinstance(min_adjustment_magnitude, int) or min_adjustment_magnitude < 0
    ):
        raise ValueError(
            f"step scaling: MinAdjustmentMagnitude must be an integer >= 0, got "
            f"{min_adjustment_magnitude!r}"
        )
    step = select_step(metric, threshold, steps, comparison)
    if step is None:
        return clamp(current, min_capacity, max_capacity)
    adj = step.scaling_adjustment
    from_base = base_capacity is not None and adj > 0 and adjustment_type != "ExactCapacity"
    base = base_capacity if from_base else current
    if adjustment_type == "ExactCapacity":
        if adj < 0:
            raise ValueError(f"step scaling: ExactCapacity needs ScalingAdjustment >= 0, got {adj}")
        desired = adj
    elif adjustment_type == "ChangeInCapacity":
        desired = base + adj
    else:
        delta = round_percent_adjustment(base * adj / 100.0)
        if min_adjustment_magnitude and adj != 0 and abs(delta) < min_adjustment_magnitude:
            delta = min_adjustment_magnitude if adj > 0 else -min_adjustment_magnitude
        desired = base + delta
    if from_base:
        desired = max(desired, current)  # the previous scale-out may already cover this one
    return clamp(desired, min_capacity, max_capacity)


@dataclass(frozen=True)
class Proposal:
    """What one policy wants: `desired` None means no wish (its alarm is not in ALARM)."""

    policy: str
    desired: int | None
    kind: str = "TargetTracking"  # or "StepScaling"
    scale_in_enabled: bool = True


@dataclass(frozen=True)
class Combined:
    """The combined decision: `desired` (within [min, max]), the winning policy, and why."""

    desired: int
    policy: str | None
    reason: str


def combine_proposals(
    current: int, proposals: Iterable[Proposal], min_capacity: int, max_capacity: int
) -> Combined:
    """Combine several policies' wishes as Application Auto Scaling documents it.

    Scale out if any policy wants more (the largest wins); otherwise scale in only if every
    scale-in-enabled target-tracking policy wants less (the largest, i.e. the smallest cut,
    wins); a step-scaling scale-in is not blocked by target tracking. Policies with
    DisableScaleIn neither vote nor block.
    """
    _check_bounds(min_capacity, max_capacity)
    props = list(proposals)
    for p in props:
        if p.kind not in ("TargetTracking", "StepScaling"):
            raise ValueError(f"policy {p.policy!r}: kind must be TargetTracking or StepScaling, got {p.kind!r}")
    out = [p for p in props if p.desired is not None and p.desired > current]
    if out:
        best = max(out, key=lambda p: p.desired)
        names = ", ".join(p.policy for p in out)
        return Combined(
            clamp(best.desired, min_capacity, max_capacity),
            best.policy,
            f"scale out: {names} want more; {best.policy} wants the largest capacity {best.desired}",
        )
    candidates: list[Proposal] = []
    tt_voters = [p for p in props if p.kind == "TargetTracking" and p.scale_in_enabled]
    if tt_voters and all(p.desired is not None and p.desired < current for p in tt_voters):
        candidates.extend(tt_voters)
    tt_blocked = bool(tt_voters) and not candidates
    candidates.extend(
        p for p in props if p.kind == "StepScaling" and p.desired is not None and p.desired < current
    )
    if candidates:
        best = max(candidates, key=lambda p: p.desired)
        desired = clamp(best.desired, min_capacity, max_capacity)
        if desired < current:
            return Combined(
                desired,
                best.policy,
                f"scale in: {best.policy} wants {best.desired}, the largest of the scale-in wishes",
            )
    if tt_blocked and any(p.desired is not None and p.desired < current for p in tt_voters):
        why = "scale in blocked: not every target-tracking policy agrees"
    else:
        why = "no change"
    return Combined(clamp(current, min_capacity, max_capacity), None, why)


@dataclass(frozen=True)
class CooldownVerdict:
    """Whether a scaling activity from `current` to `desired` may start now, and why."""

    allowed: bool
    reason: str


class Cooldowns:
    """ScaleOutCooldown / ScaleInCooldown state of one scalable target (or one step policy).

    Call `check` before acting and `record` once the activity is done (the cooldown counts from
    the time passed to `record`). Scheduled actions bypass both: use `check(..., scheduled=True)`.
    """

    def __init__(
        self,
        scale_out_cooldown_s: float = DEFAULT_COOLDOWN_S,
        scale_in_cooldown_s: float = DEFAULT_COOLDOWN_S,
        *,
        scale_in_blocked_by_scale_out: bool = False,
    ) -> None:
        for label, v in (("ScaleOutCooldown", scale_out_cooldown_s), ("ScaleInCooldown", scale_in_cooldown_s)):
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"cooldowns: {label} must be a number of seconds >= 0, got {v!r}")
        self.scale_out_cooldown_s = float(scale_out_cooldown_s)
        self.scale_in_cooldown_s = float(scale_in_cooldown_s)
        self.scale_in_blocked_by_scale_out = scale_in_blocked_by_scale_out
        self.scale_out_until_s = -math.inf
        self.scale_in_until_s = -math.inf
        self.last_scale_out_desired: int | None = None
        self.last_scale_out_base: int | None = None

    def in_scale_out_cooldown(self, now_s: float) -> bool:
        return now_s < self.scale_out_until_s

    def in_scale_in_cooldown(self, now_s: float) -> bool:
        return now_s < self.scale_in_until_s

    @property
    def scale_out_base(self) -> int | None:
        """Capacity before the scale-out whose cooldown is running (for step scaling)."""
        return self.last_scale_out_base

    def check(self, now_s: float, current: int, desired: int, *, scheduled: bool = False) -> CooldownVerdict:
        """May a scaling activity from `current` to `desired` start at `now_s`?"""
        if desired == current:
            return CooldownVerdict(False, "no change")
        if scheduled:
            return CooldownVerdict(True, "scheduled action: cooldowns do not apply")
        if desired > current:
            if self.in_scale_out_cooldown(now_s):
                prev = self.last_scale_out_desired
                if prev is not None and desired <= prev:
                    return CooldownVerdict(
                        False,
                        f"scale-out cooldown until {self.scale_out_until_s:g} s: {desired} is not "
                        f"larger than the previous scale-out to {prev}",
                    )
                return CooldownVerdict(True, "larger scale-out during scale-out cooldown")
            if self.in_scale_in_cooldown(now_s):
                return CooldownVerdict(True, "scale-out during scale-in cooldown (ends it)")
            return CooldownVerdict(True, "scale-out")
        if self.in_scale_in_cooldown(now_s):
            return CooldownVerdict(False, f"scale-in cooldown until {self.scale_in_until_s:g} s")
        if self.scale_in_blocked_by_scale_out and self.in_scale_out_cooldown(now_s):
            return CooldownVerdict(False, f"scale-out cooldown until {self.scale_out_until_s:g} s")
        return CooldownVerdict(True, "scale-in")

    def record(self, now_s: float, old: int, new: int, *, scheduled: bool = False) -> None:
        """Note a completed scaling activity from `old` to `new` at `now_s`."""
        if scheduled or new == old:
            return
        if new > old:
            if not self.in_scale_out_cooldown(now_s):
                self.last_scale_out_base = old
            self.last_scale_out_desired = new
            self.scale_out_until_s = now_s + self.scale_out_cooldown_s
            self.scale_in_until_s = -math.inf  # a scale-out ends a scale-in cooldown
        else:
            self.scale_in_until_s = now_s + self.scale_in_cooldown_s


@dataclass(frozen=True)
class ScheduledChange:
    """Result of a scheduled action: the target's new bounds and capacity."""

    min_capacity: int
    max_capacity: int
    desired: int


def apply_scheduled_action(
    current: int,
    min_capacity: int,
    max_capacity: int,
    new_min: int | None = None,
    new_max: int | None = None,
) -> ScheduledChange:
    """Apply a ScalableTargetAction: capacity below the new minimum is raised to it, capacity
    above the new maximum lowered to it. Omitted bounds keep their value."""
    _check_bounds(min_capacity, max_capacity)
    lo = min_capacity if new_min is None else new_min
    hi = max_capacity if new_max is None else new_max
    if not isinstance(lo, int) or not isinstance(hi, int) or lo < 0 or hi < lo:
        raise ValueError(
            f"scheduled action: need 0 <= MinCapacity <= MaxCapacity, got {lo!r} and {hi!r}"
        )
    return ScheduledChange(lo, hi, max(lo, min(hi, current)))
