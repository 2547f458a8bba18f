"""One scalable target under Application Auto Scaling: alarms → policies → combined decision → cooldowns.

Pure state, no engine: the engine feeds published datapoints to `TargetController.watches`,
calls `evaluate(t)` when alarm periods may end, and `scheduled(t, action)` when a scheduled
action fires; each returns what happened (alarm transitions, decisions, blocked invocations)
and updates `desired`, the target's capacity: a real-time variant's DesiredInstanceCount, which
the engine reconciles with launches and drains, a serverless variant's
DesiredProvisionedConcurrency, which the engine gives its pool of execution environments, or an
inference component's DesiredCopyCount, which the engine places (or removes) as copies. The logic
is the same for all; only the capacity's unit differs (`RegisterScalableTarget.unit`).

Documented rules [TT], [BOTO-AAS], reference §3.3–3.5, and where they live:
* the managed alarms of target tracking and their defaults: `alarms.target_tracking_alarms`,
  `AutoscalingSettings`; no scale-in alarm with `DisableScaleIn`;
* an alarm in ALARM invokes its policy when it enters ALARM and again every
  `action_repeat_interval` while it stays there (CloudWatch, "Alarm actions": Auto Scaling
  actions are not limited to state transitions [CW-ACTIONS]);
* capacities: `capacity.target_tracking_capacity`, `capacity.step_scaling_capacity`;
  several policies: `capacity.combine_proposals`; cooldowns: `capacity.Cooldowns`;
* `SuspendedState`: suspended directions and scheduled scaling do nothing.

Decisions where AWS is silent:
* the metric value a policy acts on is the datapoint its alarm just evaluated (the newest real
  one in its evaluation range when the newest is missing), for step scaling whatever
  `MetricAggregationType` says, since a single-metric alarm has one value per period;
* target tracking projects the metric from the instances it was measured on: desired =
  ceil(instances x metric / target). For the Sum of `InvocationsPerInstance` that is the
  request-weighted mean of the 1/instances each request emitted (SampleCount / Sum), so
  instances x metric is exactly the period's invocations (likewise copies for the Sum of
  `InvocationsPerCopy`, emitted 1/copies per request); for other metrics, the mean number in
  service over the alarm period (for provisioned concurrency, the mean provisioned level; for
  an inference component, the mean number of copies serving).
  Instances still launching count toward the current capacity,
  so a scale-out is not repeated for load they will take (as the documented "capacity added by
  the previous scale-out counts toward the next" intends);
* a step policy's metric value equal to its alarm's threshold is above the threshold (the step
  whose lower bound is 0) when the alarm is GreaterThanOrEqualToThreshold, below it otherwise
  (`capacity.select_step`; `AutoscalingSettings.step_at_threshold`);
* an invocation that cannot act is reported once until its reason changes;
* each policy keeps its own cooldowns, and every scaling activity of the target, whichever
  policy caused it, is recorded in all of them (so any scale-out ends every scale-in cooldown);
* capacity outside [MinCapacity, MaxCapacity] at registration is brought inside at time 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from simfleet.autoscaling.alarm_requests import PutMetricAlarm
from simfleet.autoscaling.alarms import ALARM, Alarm, AlarmTransition, target_tracking_alarms
from simfleet.autoscaling.capacity import (Cooldowns, Proposal, StepAdjustment, apply_scheduled_action,
                                           combine_proposals, step_scaling_capacity, target_tracking_capacity)
from simfleet.autoscaling.metric_sources import WatchSpec, alarm_watch, policy_watches
from simfleet.autoscaling.policies import PutScalingPolicy, PutScheduledAction, RegisterScalableTarget
from simfleet.autoscaling.watch import MetricWatch
from simfleet.config.experiment import AutoscalingSettings

__all__ = ["TargetController", "Decision", "Blocked", "Evaluation"]

#: Metrics each request emits as 1/capacity (1/instances, 1/copies) (`simfleet/cloudwatch/catalog.toml`).
_PER_REQUEST_NORMALIZED = frozenset({"InvocationsPerInstance", "InvocationsPerCopy"})


@dataclass(frozen=True)
class Decision:
    """A scaling activity: the capacity (instances, provisioned concurrency or copies) from `old` to `new`, and why."""

    time_s: float
    old: int
    new: int
    cause: str                # "policy", "scheduled" or "registration"
    policy: str | None
    reason: str
    evidence: dict            # the alarm, its threshold and the datapoints behind the decision


@dataclass(frozen=True)
class Blocked:
    """A policy invoked by its alarm that could not act (cooldown, suspension, already at a bound)."""

    time_s: float
    policy: str
    desired: int
    current: int
    reason: str


@dataclass
class Evaluation:
    transitions: list[tuple[str, AlarmTransition]] = field(default_factory=list)  # (alarm name, change)
    blocked: list[Blocked] = field(default_factory=list)
    decision: Decision | None = None


@dataclass
class _AlarmFeed:
    """An alarm, the stream it reads, and when it last invoked its policy."""

    alarm: Alarm
    watch: MetricWatch
    direction: str | None             # target tracking: "out" / "in"; step scaling: None
    last_value: float | None = None
    invoked_at: float = -math.inf
    last_blocked: str | None = None   # reported once until the outcome changes

    def newest_value(self) -> float | None:
        window = self.alarm.window
        real = [v for v in window if v is not None]
        return real[-1] if real else None


@dataclass
class _Policy:
    request: PutScalingPolicy
    feeds: list[_AlarmFeed]
    cooldowns: Cooldowns
    alarms: list[PutMetricAlarm] = field(default_factory=list)  # step scaling: the user's alarm per feed

    @property
    def name(self) -> str:
        return self.request.PolicyName

    @property
    def kind(self) -> str:
        return "TargetTracking" if self.request.PolicyType == "TargetTrackingScaling" else "StepScaling"


class TargetController:
    """Application Auto Scaling for one scalable target: a variant's DesiredInstanceCount or
    DesiredProvisionedConcurrency, or an inference component's DesiredCopyCount."""

    def __init__(self, target: RegisterScalableTarget, policies, alarms_for, settings: AutoscalingSettings,
                 initial_capacity: int):
        self.target = target
        self.min_capacity = target.MinCapacity
        self.max_capacity = target.MaxCapacity
        suspended = target.SuspendedState
        self.out_suspended = bool(suspended and suspended.DynamicScalingOutSuspended)
        self.in_suspended = bool(suspended and suspended.DynamicScalingInSuspended)
        self.scheduled_suspended = bool(suspended and suspended.ScheduledScalingSuspended)
        self.settings = settings
        self.desired = initial_capacity
        self.policies: list[_Policy] = [self._policy(p, alarms_for(p), settings) for p in policies]

    # -- construction -------------------------------------------------------------------------------
    @staticmethod
    def _policy(request: PutScalingPolicy, alarms: tuple[PutMetricAlarm, ...], settings) -> _Policy:
        extra = settings.evaluation_range_extra
        if request.PolicyType == "TargetTrackingScaling":
            config = request.TargetTrackingScalingPolicyConfiguration
            out_watch, in_watch = policy_watches(request, settings)
            pair = target_tracking_alarms(
                config.TargetValue, out_watch.period_s, settings.scale_out_datapoints, settings.scale_in_datapoints,
                settings.scale_in_ratio, in_period_s=in_watch.period_s, evaluation_range_extra=extra,
                name=f"TargetTracking-{request.ResourceId}-{request.PolicyName}")
            feeds = [_AlarmFeed(pair.high, MetricWatch(out_watch), "out")]
            if not config.DisableScaleIn:  # AAS creates no scale-in alarm then
                feeds.append(_AlarmFeed(pair.low, MetricWatch(in_watch), "in"))
            cooldowns = Cooldowns(config.ScaleOutCooldown, config.ScaleInCooldown)
            return _Policy(request, feeds, cooldowns)
        config = request.StepScalingPolicyConfiguration
        feeds = []
        for alarm in alarms:
            evaluator = Alarm(alarm.Threshold, alarm.ComparisonOperator, alarm.Period, alarm.EvaluationPeriods,
                              alarm.datapoints_to_alarm, alarm.TreatMissingData,
                              evaluation_range=alarm.EvaluationPeriods + extra, name=alarm.AlarmName)
            feeds.append(_AlarmFeed(evaluator, MetricWatch(alarm_watch(alarm)), None))
        return _Policy(request, feeds, Cooldowns(config.Cooldown, config.Cooldown), list(alarms))

    @property
    def watches(self) -> list[MetricWatch]:
        return [feed.watch for policy in self.policies for feed in policy.feeds]

    @property
    def watch_specs(self) -> list[WatchSpec]:
        return [watch.spec for watch in self.watches]

    @property
    def alarm_periods(self) -> set[int]:
        return {feed.alarm.period_s for policy in self.policies for feed in policy.feeds}

    # -- registration ---------------------------------------------------------------------------------
    def register(self) -> Decision | None:
        """Bring the initial capacity inside [MinCapacity, MaxCapacity] (a Decision, see the module)."""
        bounded = max(self.min_capacity, min(self.max_capacity, self.desired))
        if bounded == self.desired:
            return None
        decision = Decision(0.0, self.desired, bounded, "registration", None,
                            f"RegisterScalableTarget: capacity {self.desired} is outside [{self.min_capacity}, "
                            f"{self.max_capacity}]", {})
        self.desired = bounded
        return decision

    # -- alarms and policies ---------------------------------------------------------------------------
    def evaluate(self, t: float, in_service: Callable[[float, float], float]) -> Evaluation:
        """Alarms whose period ends at `t` evaluate; policies their alarms invoke propose; one decision.

        `in_service(begin, end)` is the mean capacity in service over [begin, end) (instances, or
        the provisioned level): what the metrics were measured on (target tracking projects from
        it; pending instances count in the current capacity only).
        """
        result = Evaluation()
        current = self.desired
        proposals: list[Proposal] = []
        evidence: dict[str, dict] = {}
        for policy in self.policies:
            for feed in policy.feeds:
                if round(t) % feed.alarm.period_s:
                    continue
                value = feed.watch.value(t)
                feed.last_value = value
                outcome = feed.alarm.feed(value, t)
                if outcome.transition is not None:
                    result.transitions.append((feed.alarm.name, outcome.transition))
                    feed.last_blocked = None
                if feed.alarm.state != ALARM:
                    continue
                fresh = outcome.transition is not None
                if not fresh and t - feed.invoked_at < self.settings.action_repeat_interval - 1e-9:
                    continue
                feed.invoked_at = t
                proposal = self._propose(policy, feed, current, in_service, t, result)
                if proposal is not None:
                    feed.last_blocked = None
                    proposals.append(proposal)
                    evidence[policy.name] = self._evidence(policy, feed)
        if not proposals:
            return result
        for policy in self.policies:  # target-tracking voters not invoked now keep their say (None blocks scale-in)
            if policy.kind == "TargetTracking" and not any(p.policy == policy.name for p in proposals):
                proposals.append(Proposal(policy.name, None, "TargetTracking",
                                          not policy.request.TargetTrackingScalingPolicyConfiguration.DisableScaleIn))
        combined = combine_proposals(current, proposals, self.min_capacity, self.max_capacity)
        if combined.desired == current or combined.policy is None:
            return result
        for policy in self.policies:
            policy.cooldowns.record(t, current, combined.desired)
        self.desired = combined.desired
        result.decision = Decision(t, current, combined.desired, "policy", combined.policy, combined.reason,
                                   evidence.get(combined.policy, {}))
        return result

    def _propose(self, policy: _Policy, feed: _AlarmFeed, current: int, in_service, t: float,
                 result: Evaluation):
        metric = feed.last_value if feed.last_value is not None else feed.newest_value()
        if metric is None:
            return None
        lo, hi = self.min_capacity, self.max_capacity

        def blocked(desired: int, reason: str) -> None:
            if reason != feed.last_blocked:
                result.blocked.append(Blocked(t, policy.name, desired, current, reason))
            feed.last_blocked = reason

        if policy.kind == "TargetTracking":
            config = policy.request.TargetTrackingScalingPolicyConfiguration
            measured_on = self._measured_on(feed, t, in_service)
            if measured_on <= 0:
                blocked(current, f"no {self.target.unit} was in service to project the metric from")
                return None
            desired = target_tracking_capacity(current, metric, config.TargetValue, lo, hi, direction=feed.direction,
                                               disable_scale_in=config.DisableScaleIn, measured_on=measured_on)
        else:
            config = policy.request.StepScalingPolicyConfiguration
            steps = [StepAdjustment(s.ScalingAdjustment, s.MetricIntervalLowerBound, s.MetricIntervalUpperBound)
                     for s in config.StepAdjustments]
            base = policy.cooldowns.scale_out_base if policy.cooldowns.in_scale_out_cooldown(t) else None
            desired = step_scaling_capacity(current, metric, feed.alarm.threshold, config.AdjustmentType, steps,
                                            lo, hi, min_adjustment_magnitude=config.MinAdjustmentMagnitude,
                                            base_capacity=base,
                                            comparison=feed.alarm.comparison if self.settings.step_at_threshold
                                            == "alarm" else None)
        if desired == current:
            bound = "MaxCapacity" if desired == hi else "MinCapacity" if desired == lo else None
            if bound:
                why = f"already at {bound} {desired}"
            elif policy.kind == "StepScaling":
                why = f"the step adjustment leaves the capacity at {current}"
            elif feed.direction == "out":
                pending = {"instance": "pending instances", "copy": "pending copies"}.get(self.target.unit,
                                                                                          "provisioning")
                why = f"the capacity {current}, {pending} included, already covers it"
            else:
                unit = {"instance": "an instance", "copy": "a copy"}.get(self.target.unit,
                                                                         "a provisioned environment")
                why = f"removing {unit} would put the metric back above target"
            blocked(desired, why)
            return None
        if (desired > current and self.out_suspended) or (desired < current and self.in_suspended):
            blocked(desired, f"dynamic scale-{'out' if desired > current else 'in'} is suspended (SuspendedState)")
            return None
        verdict = policy.cooldowns.check(t, current, desired)
        if not verdict.allowed:
            blocked(desired, verdict.reason.split(" until ")[0])
            return None
        scale_in = policy.kind == "StepScaling" or not policy.request.TargetTrackingScalingPolicyConfiguration.DisableScaleIn
        return Proposal(policy.name, desired, policy.kind, scale_in)

    @staticmethod
    def _measured_on(feed: _AlarmFeed, t: float, in_service) -> float:
        """The capacity (instances, or provisioned level) the alarm's metric value stands for (see the
        module's decisions)."""
        spec, values = feed.watch.spec, feed.watch.last
        if (spec.metric in _PER_REQUEST_NORMALIZED and spec.statistic == "Sum" and values is not None
                and values.total > 0):
            return values.count / values.total  # each request emitted 1/instances: count / Sum = their mean
        return in_service(t - feed.alarm.period_s, t)

    @staticmethod
    def _evidence(policy: _Policy, feed: _AlarmFeed) -> dict:
        alarm = feed.alarm
        return {"alarm": alarm.name, "metric": feed.watch.spec.describe(), "threshold": alarm.threshold,
                "comparison": alarm.comparison, "datapoints": alarm.window,
                "value": feed.last_value if feed.last_value is not None else feed.newest_value()}

    # -- scheduled actions -----------------------------------------------------------------------------
    def scheduled(self, t: float, action: PutScheduledAction) -> Decision | None:
        """Apply a scheduled action's new bounds; a Decision when the capacity changes with them."""
        if self.scheduled_suspended:
            return None
        change = apply_scheduled_action(self.desired, self.min_capacity, self.max_capacity,
                                        action.ScalableTargetAction.MinCapacity,
                                        action.ScalableTargetAction.MaxCapacity)
        self.min_capacity, self.max_capacity = change.min_capacity, change.max_capacity
        if change.desired == self.desired:
            return None
        old, self.desired = self.desired, change.desired
        return Decision(t, old, change.desired, "scheduled", None,
                        f"scheduled action {action.ScheduledActionName}: capacity {old} outside the new "
                        f"[{change.min_capacity}, {change.max_capacity}]", {})
