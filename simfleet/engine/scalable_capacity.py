"""What a scalable target scales inside a run: a real-time variant's instances, a serverless
variant's provisioned concurrency or an inference component's copies.

The autoscaler (`engine.autoscaler`) decides capacities with the one policy logic of
`simfleet.autoscaling`, whatever the target scales; the target's capacity here gives the capacity
it starts from, the mean capacity the metrics were measured on over a window, and applies a new
capacity:

* `InstanceCount` (`sagemaker:variant:DesiredInstanceCount`): `InstanceManager.reconcile`
  launches or drains instances;
* `ProvisionedConcurrency` (`sagemaker:variant:DesiredProvisionedConcurrency`): the level of the
  variant's pool of execution environments (`EnvironmentPools.set_provisioned`), changed at the
  time of the change once the request driver has taken every request before it, the resulting
  environment events passed to the metric sinks (`RequestDriver.provisioned_changes`), and each
  change of the level logged as a `ProvisionedConcurrencyChange` event (old and new level);
* `CopyCount` (`sagemaker:inference-component:DesiredCopyCount`): the engine's component copies
  (`engine.component_copies.ComponentCopies`, passed in as `components`) reconcile the fleet
  variant of the component (one per component, `VariantRuntime.component`) with the desired
  number of copies, placing or removing copies; the capacity the metrics were measured on is the
  mean number of copies serving over the window (`mean_serving`).

simfleet's choices where AWS is silent (reference §3.1, §4):
* a level of 0 means no provisioned environment: every request is served on demand (and none is
  a spill-over), and `ServerlessProvisionedConcurrencyUtilization` is not published while the
  level is 0, so target tracking on `SageMakerVariantProvisionedConcurrencyUtilization` cannot
  raise the level from 0 (its alarms have no data), as target tracking cannot scale instances
  from 0; a scheduled action or a step scaling policy on another metric can;
* provisioning takes `[serverless] provisioned_concurrency_delay` (default 0: at once; AWS says
  only that provisioned environments are "ready within milliseconds"): a raise takes effect that
  long after its scaling activity, a lowering at once. A raise, when due, sets the level to the
  lower of its own capacity and the newest desired one (never below the level then), so a
  lowering decided meanwhile is not undone;
* the capacity the provisioned-concurrency metrics were measured on is the time-weighted mean
  level over the alarm's period.
"""

from __future__ import annotations

import numpy as np

from simfleet.engine.environment_pools import EnvironmentPools
from simfleet.engine.events import EventLog
from simfleet.engine.instances import InstanceManager
from simfleet.engine.timing import at_time
from simfleet.fleet import VariantRuntime

__all__ = ["InstanceCount", "ProvisionedConcurrency", "CopyCount", "PROVISIONED_EVENT"]

PROVISIONED_EVENT = "ProvisionedConcurrencyChange"


class InstanceCount:
    """A real-time variant's DesiredInstanceCount."""

    unit = "instance"

    def __init__(self, instances: InstanceManager, variant: VariantRuntime):
        self.instances = instances
        self.variant = variant

    @property
    def initial(self) -> int:
        return self.variant.initial_instance_count

    def mean(self, begin: float, end: float) -> float:
        """Mean number of instances in service over [begin, end)."""
        return self.instances.mean_in_service(self.variant.index, begin, end)

    def apply(self, desired: int, t: float, reason: str) -> None:
        self.instances.reconcile(self.variant.index, desired, reason)


class CopyCount:
    """An inference component's DesiredCopyCount.

    `variant` is the component's fleet variant (its `component` gives the component's name, its
    hosting variant and its initial copy count); `components` is the engine's copies of every
    component, with `reconcile(variant_index, desired, reason)` and
    `mean_serving(variant_index, begin, end)`.
    """

    unit = "copy"

    def __init__(self, components, variant: VariantRuntime):
        self.components = components
        self.variant = variant

    @property
    def initial(self) -> int:
        return self.variant.component.initial_copies

    def mean(self, begin: float, end: float) -> float:
        """Mean number of the component's copies serving over [begin, end)."""
        return self.components.mean_serving(self.variant.index, begin, end)

    def apply(self, desired: int, t: float, reason: str) -> None:
        self.components.reconcile(self.variant.index, desired, reason)


class ProvisionedConcurrency:
    """A serverless variant's DesiredProvisionedConcurrency: its pool's provisioned level."""

    unit = "provisioned environment"

    def __init__(self, env, pools: EnvironmentPools, variant: VariantRuntime, delay_s: float, advance_to,
                 provisioned_changes, events: EventLog, run_over=lambda: False):
        """`advance_to(t)` has the request driver take every request before `t`;
        `provisioned_changes()` passes the pools' new environment events to the metric sinks."""
        self.env = env
        self.pools = pools
        self.variant = variant
        self.delay_s = float(delay_s)
        self.advance_to = advance_to
        self.provisioned_changes = provisioned_changes
        self.events = events
        self.run_over = run_over
        self.level = pools.provisioned(variant.index)
        self.desired = self.level
        self._times = [0.0]
        self._levels = [self.level]

    @property
    def initial(self) -> int:
        return self.level

    def mean(self, begin: float, end: float) -> float:
        """Time-weighted mean provisioned level over [begin, end)."""
        levels = np.asarray(self._levels, np.float64)
        if end <= begin:
            return float(levels[np.searchsorted(self._times, begin, "right") - 1])
        edges = np.clip(np.append(self._times, np.inf), begin, end)
        return float(np.sum(np.diff(edges) * levels) / (end - begin))

    def apply(self, desired: int, t: float, reason: str) -> None:
        self.desired = desired
        if desired <= self.level or self.delay_s == 0:
            self._set(desired, t, reason)
        else:
            self.env.process(self._raise(desired, t + self.delay_s, reason))

    def _raise(self, capacity: int, due: float, reason: str):
        if not (yield from at_time(self.env, due, self.run_over)):
            return
        self._set(max(self.level, min(capacity, self.desired)), self.env.now, reason)

    def _set(self, level: int, t: float, reason: str) -> None:
        if level == self.level:
            return
        self.advance_to(t)
        self.pools.set_provisioned(self.variant.index, level, t)
        self.provisioned_changes()
        self.events.add(t, PROVISIONED_EVENT, self.variant.endpoint_name, self.variant.variant_name,
                        old_level=self.level, new_level=level, reason=reason)
        self.level = level
        if self._times[-1] == t:
            self._levels[-1] = level
        else:
            self._times.append(t)
            self._levels.append(level)
