"""Application Auto Scaling inside a run: datapoints in, alarm and scaling events out, capacity applied.

The glue between the engine and `simfleet.autoscaling` (pure logic). Every datapoint the
metrics aggregator publishes is offered to the alarms that watch its stream (`on_datapoint`);
after each close of the metric clock (`on_tick`) every scalable target's controller evaluates
the alarms whose period ends then, and a scaling decision sets the target's capacity
(`engine.scalable_capacity`): a real-time variant's instance count, which
`InstanceManager.reconcile` turns into launches or drains, a serverless variant's provisioned
concurrency, which its pool of execution environments takes at once (a raise after
`[serverless] provisioned_concurrency_delay`), or an inference component's copy count, which the
engine's component copies reconcile (`components`). Scheduled actions are SimPy
processes firing at the instants of their schedule expressions. Alarm state changes, scaling
activities (with the policy, the reason and the datapoints behind them), invocations that
could not act and scheduled actions all go to `events.parquet`, under the endpoint and variant
names of the target; an inference component's under its endpoint and hosting variant, with
`inference_component` (its name) in the detail.
"""

from __future__ import annotations

import datetime as dt

from simfleet.autoscaling.controller import Decision, TargetController
from simfleet.autoscaling.document import AutoscalingConfig
from simfleet.autoscaling.schedules import fire_times
from simfleet.config.experiment import AutoscalingSettings
from simfleet.engine.events import EventLog
from simfleet.engine.instances import InstanceManager
from simfleet.engine.scalable_capacity import CopyCount, InstanceCount, ProvisionedConcurrency
from simfleet.engine.timing import at_time
from simfleet.fleet import Fleet
from simfleet.cloudwatch.distribution import Distribution

__all__ = ["Autoscaler"]


class Autoscaler:
    """Every scalable target of a run, fed by the simulated CloudWatch."""

    def __init__(self, env, config: AutoscalingConfig, settings: AutoscalingSettings, fleet: Fleet,
                 instances: InstanceManager, events: EventLog, start: dt.datetime, duration_s: float, advance_to,
                 run_over=lambda: False, pools=None, provisioned_changes=lambda: None,
                 provisioned_delay_s: float = 0.0, components=None):
        """`run_over()`: whether the run has ended (a scheduled action at that instant does not happen).
        `pools`, `provisioned_changes` and `provisioned_delay_s` serve provisioned-concurrency targets
        (`scalable_capacity.ProvisionedConcurrency`); `components`, the engine's component copies,
        serves inference-component targets (`scalable_capacity.CopyCount`), each mapped to the fleet
        variant whose `component.name` is its InferenceComponentName."""
        self.env = env
        self.instances = instances
        self.events = events
        self.start = start
        self.duration_s = duration_s
        self.advance_to = advance_to
        self.run_over = run_over
        self.config = config
        # a component's fleet variant carries its endpoint's and hosting variant's names: not a variant target
        index = {(v.endpoint_name, v.variant_name): v for v in fleet.variants if _component(v) is None}
        by_component = {_component(v).name: v for v in fleet.variants if _component(v) is not None}
        self.targets: list[tuple[object, TargetController]] = []
        self.capacities: dict[int, InstanceCount | ProvisionedConcurrency | CopyCount] = {}
        self._streams: dict[tuple, list] = {}
        for target in config.targets:
            if target.copies:
                if components is None:
                    raise ValueError(f"{target.ResourceId}: scaling inference-component copies needs the "
                                     "engine's component copies (Autoscaler(components=...))")
                variant = by_component[target.component_name]
                capacity = CopyCount(components, variant)
            elif target.provisioned:
                variant = index[(target.endpoint_name, target.variant_name)]
                capacity = ProvisionedConcurrency(env, pools, variant, provisioned_delay_s, advance_to,
                                                  provisioned_changes, events, run_over)
            else:
                variant = index[(target.endpoint_name, target.variant_name)]
                capacity = InstanceCount(instances, variant)
            self.capacities[variant.index] = capacity
            controller = TargetController(target, config.policies_for(target), config.alarms_for, settings,
                                          capacity.initial)
            self.targets.append((variant, controller))
            for watch in controller.watches:
                spec = watch.spec
                self._streams.setdefault((spec.namespace, spec.metric, spec.dimensions), []).append(watch)

    # -- inputs -------------------------------------------------------------------------------------------
    def on_datapoint(self, timestamp: dt.datetime, period_s: int, namespace: str, metric: str, dimensions: dict,
                     dist: Distribution) -> None:
        watches = self._streams.get((namespace, metric, tuple(sorted(dimensions.items()))))
        if watches:
            start_s = (timestamp - self.start).total_seconds()
            for watch in watches:
                watch.add(start_s, dist)

    def start_processes(self) -> None:
        """Registration at time 0 and one process per scheduled action."""
        for variant, controller in self.targets:
            decision = controller.register()
            if decision is not None:
                self._apply(variant, decision)
            for action in self.config.scheduled_actions_for(controller.target):
                times = fire_times(action.schedule, action.Timezone, self.start,
                                   self.start + dt.timedelta(seconds=self.duration_s),
                                   start_time=action.StartTime, end_time=action.EndTime)
                if times:
                    self.env.process(self._scheduled(variant, controller, action, times))

    def on_tick(self, t: float) -> None:
        """After the metric clock published the periods ending at `t`: evaluate every target."""
        for variant, controller in self.targets:
            evaluation = controller.evaluate(t, self.capacities[variant.index].mean)
            where, named = _where(variant)
            for name, change in evaluation.transitions:
                self.events.add(t, "AlarmStateChange", *where, alarm=name, old_state=change.old_state,
                                new_state=change.new_state, reason=change.reason, datapoints=list(change.values),
                                threshold=change.threshold, **named)
            for blocked in evaluation.blocked:
                self.events.add(t, "ScalingBlocked", *where, policy=blocked.policy, current=blocked.current,
                                desired=blocked.desired, reason=blocked.reason, **named)
            if evaluation.decision is not None:
                self._apply(variant, evaluation.decision)

    # -- outputs ------------------------------------------------------------------------------------------
    def _scheduled(self, variant, controller: TargetController, action, times):
        for when in times:
            t = (when - self.start).total_seconds()
            if not (yield from at_time(self.env, t, self.run_over)):
                return
            self.advance_to(self.env.now)
            decision = controller.scheduled(self.env.now, action)
            where, named = _where(variant)
            self.events.add(self.env.now, "ScheduledAction", *where,
                            action=action.ScheduledActionName, schedule=action.Schedule,
                            min_capacity=controller.min_capacity, max_capacity=controller.max_capacity,
                            suspended=controller.scheduled_suspended, **named)
            if decision is not None:
                self._apply(variant, decision)

    def _apply(self, variant, decision: Decision) -> None:
        where, named = _where(variant)
        self.events.add(decision.time_s, "ScalingActivity", *where,
                        old_capacity=decision.old, new_capacity=decision.new, cause=decision.cause,
                        policy=decision.policy, reason=decision.reason, **decision.evidence, **named)
        self.capacities[variant.index].apply(decision.new, decision.time_s,
                                             f"{decision.cause}: {decision.policy or decision.reason}")


def _component(variant):
    """The inference component a fleet variant stands for (None: a variant of its own)."""
    return getattr(variant, "component", None)


def _where(variant) -> tuple[tuple[str, str], dict]:
    """(endpoint and variant names of an event, the detail naming the inference component if any)."""
    component = _component(variant)
    named = {} if component is None else {"inference_component": component.name}
    return (variant.endpoint_name, variant.variant_name), named
