"""Inference components as the engine runs them: a hosting variant's instances and each
component's copies, resolved from the validated `[[inference_components]]` (`simfleet.config.
inference_components`) and the model profiles.

In the fleet (`simfleet.fleet`) the variant that hosts components keeps its instances (billed,
launched, failing and replaced as any variant's) and carries a `HostingRuntime`; each component
becomes a fleet variant of its own carrying a `ComponentRuntime`, whose request-plane "instances"
are its copies: one station each, with the copy's workers. Routing among a component's copies,
queueing and service are then the request kernel's, unchanged; `simfleet.engine.component_copies`
places copies on the host's instances and moves them through their lifecycle.

simfleet's choices where AWS is silent (each also said where it applies):

* a copy's workers come from its model profile's entry for the host's instance type, resolved
  against the copy's reservation instead of the whole instance: ``workers = "gpus"`` gives the
  copy's reserved accelerators, ``"vcpus"`` its reserved CPU cores (rounded down, at least 1), a
  number stays that number;
* a copy loads its model (the profile's `load_time`) after it is placed and serves from then on;
* a copy's normalized utilizations (`/aws/sagemaker/InferenceComponents`) are its workers' use over
  its reservation: CPU over `NumberOfCpuCoresRequired` (else the instance's vCPUs, AWS's "limit"),
  GPU over its accelerators, memory over `MinMemoryRequiredInMb`, GPU memory over its
  accelerators' memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.catalog import InstanceType
from simfleet.config.inference_components import (InferenceComponent, InferenceComponentSettings,
                                                  ManagedInstanceScaling, instance_capacity)
from simfleet.inference_components.placement import Capacity
from simfleet.profiles import ModelProfile, ServiceEntry

__all__ = ["ComponentRuntime", "HostingRuntime", "ManagedScaling", "copy_entry", "component_runtime",
           "hosting_runtime"]


@dataclass(frozen=True)
class ManagedScaling:
    """`ManagedInstanceScaling` of a hosting variant, resolved (ENABLED only; None: fixed count)."""

    min_instances: int
    max_instances: int
    strategy: str            # IDLE_RELEASE or CONSOLIDATION
    maximum_step: int        # instances released per scale-in action
    cooldown_s: float        # between two scale-in actions, and how long an instance stays idle first


@dataclass(frozen=True)
class HostingRuntime:
    """A variant that hosts inference components: what each instance offers to copies."""

    capacity: Capacity                   # reservable CPU cores, accelerators, MiB per instance
    components: tuple[int, ...]          # fleet indices of the component variants it hosts
    scaling: ManagedScaling | None       # None: the instance count stays at its initial value
    scale_in_copy_order: str             # `inference_component_settings.scale_in_copy_order`
    cpu_cost_weight: float               # cost shares on instances without accelerators


@dataclass(frozen=True)
class ComponentRuntime:
    """One inference component: its name, host, what each copy reserves and how copies are placed."""

    name: str                            # InferenceComponentName
    host: int                            # fleet index of the variant hosting it
    reservation: Capacity                # per copy
    strategy: str                        # SPREAD or BINPACK
    initial_copies: int                  # RuntimeConfig.CopyCount
    cpu_cores: float                     # NumberOfCpuCoresRequired (0: none reserved)
    cpu_vcpus: float                     # the vCPUs those cores are (`vcpus_per_cpu_core`)
    memory_mb: int                       # MinMemoryRequiredInMb
    accelerators: int                    # NumberOfAcceleratorDevicesRequired (0: none)
    load_time_s: float                   # a placed copy loads its model this long before serving


def copy_entry(profile: ModelProfile, instance: InstanceType, component: InferenceComponent,
               settings: InferenceComponentSettings) -> ServiceEntry:
    """The service entry of one copy of `component` on `instance` (workers by its reservation,
    module docstring). The configuration checks guarantee the profile has an entry there."""
    spec = {entry.instance: entry for entry in profile.spec.service}
    written = spec.get(instance.name) or spec.get(instance.family)
    needs = component.specification.compute_resource_requirements
    if written.workers == "gpus":
        workers = max(1, needs.accelerators)
    elif written.workers == "vcpus":
        cores = needs.cpu_cores * settings.vcpus_per_cpu_core if needs.cpu_cores else instance.vcpus
        workers = max(1, math.floor(cores))
    else:
        workers = written.workers
    return profile.entry_for(instance, workers)


def component_runtime(component: InferenceComponent, host: int, load_time_s: float,
                      settings: InferenceComponentSettings) -> ComponentRuntime:
    needs = component.specification.compute_resource_requirements
    return ComponentRuntime(
        name=component.inference_component_name, host=host,
        reservation=Capacity.of(needs.cpu_cores, needs.accelerators, needs.min_memory_required_in_mb),
        strategy=component.placement_strategy or settings.default_placement_strategy,
        initial_copies=component.runtime_config.copy_count, cpu_cores=needs.cpu_cores,
        cpu_vcpus=needs.cpu_cores * settings.vcpus_per_cpu_core,
        memory_mb=needs.min_memory_required_in_mb, accelerators=needs.accelerators, load_time_s=load_time_s)


def hosting_runtime(instance: InstanceType, scaling: ManagedInstanceScaling | None, components: tuple[int, ...],
                    settings: InferenceComponentSettings) -> HostingRuntime:
    capacity = instance_capacity(instance, settings)
    managed = None
    if scaling is not None and scaling.status == "ENABLED":
        policy = scaling.scale_in_policy
        managed = ManagedScaling(
            min_instances=scaling.min_instance_count, max_instances=scaling.max_instance_count,
            strategy=policy.strategy if policy is not None else settings.default_scale_in_strategy,
            maximum_step=policy.maximum_step_size if policy is not None else 1,
            cooldown_s=60.0 * (policy.cooldown_in_minutes if policy is not None else 20))
    return HostingRuntime(Capacity.of(capacity.cpu_cores, capacity.accelerators, capacity.memory_mb), components,
                          managed, settings.scale_in_copy_order, settings.cpu_cost_weight)
