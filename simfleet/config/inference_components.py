"""Inference components in the experiment file: the `[[inference_components]]` list
(`CreateInferenceComponent`), a production variant's `managed_instance_scaling`
(`ProductionVariantManagedInstanceScaling`), the `target_inference_component` of traffic
(InvokeEndpoint's `InferenceComponentName`) and `[inference_component_settings]`, simfleet's
choices where AWS is silent.

Part of the experiment schema (`simfleet.config.experiment` puts these on the experiment, its
variants and its traffic); `component_problems` checks what needs the whole experiment and the
instance catalog, and `simfleet.scenario` reports its findings with the other problems. The pure
placement and cost-share modules of `simfleet.inference_components` work on what is declared here.

A variant hosts inference components when it has no `model_name` and no `containers` and at
least one component names it: the models arrive with the components, as on AWS, where the endpoint
configuration of such an endpoint names instances, not models, and each `CreateInferenceComponent`
brings its model (`Specification.ModelName`). The variant keeps `instance_type`,
`initial_instance_count`, `routing_config`, and may add `managed_instance_scaling`.

Facts and sources (botocore 1.44.18's SageMaker service models, which are the API reference pages
of the same names; reference sagemaker-semantics.md §1.3, §3.6, §11.3):

* `InferenceComponentName`: 1 to 63 characters, ``[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?``; the
  request requires `InferenceComponentName` and `EndpointName`; `VariantName` is optional
  (CreateInferenceComponentInput). InvokeEndpoint's `InferenceComponentName` header: "If the
  endpoint hosts one or more inference components, this parameter specifies the name of
  inference component to invoke" (sagemaker-runtime, InvokeEndpointInput).
* `ComputeResourceRequirements` (InferenceComponentComputeResourceRequirements):
  `NumberOfCpuCoresRequired` float, minimum 0.25; `NumberOfAcceleratorDevicesRequired` float,
  minimum 1; `MinMemoryRequiredInMb` integer, minimum 128, required; `MaxMemoryRequiredInMb`
  integer, minimum 128. Without an accelerator partition layout AWS places a component "on a whole
  accelerator" (AcceleratorPartitionType).
* `RuntimeConfig.CopyCount`: integer, minimum 0, required within RuntimeConfig.
* `StartupParameters`: `ModelDataDownloadTimeoutInSeconds` and
  `ContainerStartupHealthCheckTimeoutInSeconds`, 60 to 3600.
* `SchedulingConfig.PlacementStrategy` (required within SchedulingConfig): `SPREAD` "Distributes
  copies evenly across available instances for better resilience", `BINPACK` "Packs copies onto
  fewer instances to optimize resource utilization" (InferenceComponentSchedulingConfig).
* `ManagedInstanceScaling`: `Status` ENABLED | DISABLED, `MinInstanceCount` minimum 0,
  `MaxInstanceCount` minimum 1, all optional; `ScaleInPolicy.Strategy` IDLE_RELEASE ("Releases
  instances that have no hosted inference component copies") | CONSOLIDATION, required within it;
  `MaximumStepSize` 1 to 100, default 1; `CooldownInMinutes` 5 to 1440, default 20.
* `InitialInstanceCount` of a production variant: minimum 1 (ProductionVariant).
* Scale to zero: "An endpoint can scale to and from zero instances only if it hosts inference
  components", with `MinInstanceCount` 0 (developer guide, "Scale an endpoint to zero instances").
* Memory in MB is MiB: "a 32 GiB instance reserved 1024 MB" gives `MemoryReservation` "3.125%"
  (developer guide, SageMaker AI metrics), and 1024 / 32768 = 3.125 %.

Where AWS is silent simfleet chooses, says so in each message, and keeps the choice in
`InferenceComponentSettings` where a user might want another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, StrictFloat, StrictInt, field_validator, model_validator

from simfleet.catalog import InstanceType
from simfleet.schema.quantities import Size, StrictModel

if TYPE_CHECKING:  # the experiment schema imports this module
    from simfleet.config.experiment import Experiment

__all__ = ["InferenceComponent", "InferenceComponentSpecification", "ComputeResourceRequirements",
           "RuntimeConfig", "StartupParameters", "SchedulingConfig", "ManagedInstanceScaling", "ScaleInPolicy",
           "InferenceComponentSettings", "INFERENCE_COMPONENT_NAME", "MIB",
           "component_problems", "instance_capacity", "InstanceCapacity"]

#: `InferenceComponentName` pattern and length (botocore, CreateInferenceComponentInput).
INFERENCE_COMPONENT_NAME = r"^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$"
#: AWS's MB in `*MemoryRequiredInMb` (see the module docstring).
MIB = 2**20

class ComputeResourceRequirements(StrictModel):
    """`InferenceComponentComputeResourceRequirements`: what each copy reserves on its instance."""

    number_of_cpu_cores_required: StrictFloat | None = Field(
        default=None, ge=0.25, description="NumberOfCpuCoresRequired: at least 0.25; one core is "
                                           "inference_component_settings.vcpus_per_cpu_core vCPUs (default 1)")
    number_of_accelerator_devices_required: StrictFloat | None = Field(
        default=None, ge=1, description="NumberOfAcceleratorDevicesRequired: at least 1, whole accelerators")
    min_memory_required_in_mb: StrictInt = Field(
        ge=128, description="MinMemoryRequiredInMb: at least 128 (MiB), required; the copy's memory reservation")
    max_memory_required_in_mb: StrictInt | None = Field(
        default=None, ge=128, description="MaxMemoryRequiredInMb: at least 128, not below the minimum")

    @field_validator("number_of_accelerator_devices_required")
    @classmethod
    def _whole_accelerators(cls, value: float | None) -> float | None:
        if value is not None and value != int(value):
            raise ValueError(f"number_of_accelerator_devices_required must be a whole number of accelerators, got "
                             f"{value:g}: AWS places a component without an accelerator partition layout \"on a whole "
                             "accelerator\" (API reference, AcceleratorPartitionType), and simfleet refuses a "
                             "fraction rather than round it")
        return value

    @model_validator(mode="after")
    def _max_not_below_min(self):
        if self.max_memory_required_in_mb is not None and self.max_memory_required_in_mb < self.min_memory_required_in_mb:
            raise ValueError(f"max_memory_required_in_mb ({self.max_memory_required_in_mb}) is below "
                             f"min_memory_required_in_mb ({self.min_memory_required_in_mb}); the maximum cannot be "
                             "smaller than the minimum")
        return self

    @property
    def accelerators(self) -> int:
        """Whole accelerators reserved per copy (0 when none is asked for)."""
        value = self.number_of_accelerator_devices_required
        return 0 if value is None else int(value)

    @property
    def cpu_cores(self) -> float:
        return 0.0 if self.number_of_cpu_cores_required is None else self.number_of_cpu_cores_required


class StartupParameters(StrictModel):
    """`InferenceComponentStartupParameters`: timeouts of a copy's start, 60 to 3600 s each."""

    model_data_download_timeout_in_seconds: StrictInt | None = Field(default=None, ge=60, le=3600)
    container_startup_health_check_timeout_in_seconds: StrictInt | None = Field(default=None, ge=60, le=3600)


class SchedulingConfig(StrictModel):
    """`InferenceComponentSchedulingConfig`: how the component's copies are placed on instances."""

    placement_strategy: Literal["SPREAD", "BINPACK"] = Field(
        description="SPREAD: evenly across instances; BINPACK: onto fewer instances (simfleet.inference_components."
                    "placement gives the exact rules)")


class InferenceComponentSpecification(StrictModel):
    """`InferenceComponentSpecification`: the model and what each copy reserves."""

    model_name: str = Field(min_length=1, description="a model profile (models/*.toml), as a variant's model_name")
    compute_resource_requirements: ComputeResourceRequirements = Field(
        description="ComputeResourceRequirements (required: simfleet does not model adapter components, which "
                    "take their base component's resources)")
    startup_parameters: StartupParameters | None = None
    scheduling_config: SchedulingConfig | None = Field(
        default=None, description="default: inference_component_settings.default_placement_strategy")


class RuntimeConfig(StrictModel):
    """`InferenceComponentRuntimeConfig`."""

    copy_count: StrictInt = Field(ge=0, description="CopyCount: copies at the start, at least 0 (0 only with scale "
                                                    "to zero)")


class InferenceComponent(StrictModel):
    """One `CreateInferenceComponent` request, in snake_case."""

    inference_component_name: str = Field(pattern=INFERENCE_COMPONENT_NAME, max_length=63)
    endpoint_name: str = Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    variant_name: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
                                     description="optional when the endpoint has one variant (AWS: optional)")
    specification: InferenceComponentSpecification
    runtime_config: RuntimeConfig = Field(
        description="RuntimeConfig (AWS documents no copy count for a request without it; simfleet requires it)")

    @property
    def placement_strategy(self) -> str | None:
        config = self.specification.scheduling_config
        return None if config is None else config.placement_strategy


class ScaleInPolicy(StrictModel):
    """`ProductionVariantManagedInstanceScalingScaleInPolicy`."""

    strategy: Literal["IDLE_RELEASE", "CONSOLIDATION"]
    maximum_step_size: StrictInt = Field(default=1, ge=1, le=100, description="default 1 (AWS)")
    cooldown_in_minutes: StrictInt = Field(default=20, ge=5, le=1440, description="default 20 (AWS)")


class ManagedInstanceScaling(StrictModel):
    """`ProductionVariantManagedInstanceScaling` of a variant that hosts inference components."""

    status: Literal["ENABLED", "DISABLED"] = Field(
        default="ENABLED", description="AWS marks Status optional and documents no default; simfleet takes a "
                                       "managed_instance_scaling that is given as ENABLED unless it says DISABLED")
    min_instance_count: StrictInt | None = Field(default=None, ge=0, description="0 allows scale to zero")
    max_instance_count: StrictInt | None = Field(default=None, ge=1)
    scale_in_policy: ScaleInPolicy | None = Field(
        default=None, description="default: IDLE_RELEASE (inference_component_settings.default_scale_in_strategy)")

    @model_validator(mode="after")
    def _range(self):
        if self.status == "ENABLED":
            missing = [k for k in ("min_instance_count", "max_instance_count") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"give {' and '.join(missing)} with status ENABLED (AWS marks them optional but "
                                 "documents no default; simfleet needs the range)")
        if (self.min_instance_count is not None and self.max_instance_count is not None
                and self.min_instance_count > self.max_instance_count):
            raise ValueError(f"min_instance_count ({self.min_instance_count}) is above max_instance_count "
                             f"({self.max_instance_count})")
        return self

    @property
    def scales_to_zero(self) -> bool:
        return self.status == "ENABLED" and self.min_instance_count == 0


class InferenceComponentSettings(StrictModel):
    """`[inference_component_settings]`: simfleet's choices for inference components where AWS is
    silent. Each description says what AWS documents and what simfleet assumes."""

    default_placement_strategy: Literal["SPREAD", "BINPACK"] = Field(
        default="SPREAD", description="placement of a component without scheduling_config. AWS documents no "
                                      "default. ASSUMPTION: SPREAD")
    default_scale_in_strategy: Literal["IDLE_RELEASE", "CONSOLIDATION"] = Field(
        default="IDLE_RELEASE", description="scale-in strategy of managed instance scaling without scale_in_policy. "
                                            "AWS documents no default. ASSUMPTION: IDLE_RELEASE, which moves no copy")
    vcpus_per_cpu_core: StrictInt = Field(
        default=1, ge=1, le=2, description="vCPUs in one of NumberOfCpuCoresRequired's CPU cores. AWS does not say "
                                           "whether a core is a vCPU or a physical core. ASSUMPTION: 1 (a core is a "
                                           "vCPU of the catalog)")
    reserved_memory_per_instance: Size = Field(
        default=0.0, description="memory of each instance that copies cannot reserve (SageMaker's own agents). AWS "
                                 "publishes no figure. ASSUMPTION: none")
    scale_in_copy_order: Literal["newest", "oldest"] = Field(
        default="newest", description="which placed copy a copy scale-in removes first among equals (AWS does not "
                                      "say; simfleet.inference_components.placement gives the whole rule)")
    cpu_cost_weight: float = Field(
        default=0.5, ge=0, le=1, description="cost shares on instances without accelerators: a copy's share is "
                                             "w x its cores / the instance's cores + (1 - w) x its memory / the "
                                             "instance's memory (AWS attributes cost by GPU allocation only, ML blog "
                                             "on enhanced metrics, 2026). ASSUMPTION: 0.5")


@dataclass(frozen=True)
class InstanceCapacity:
    """What copies can reserve on one instance of a type: CPU cores, whole accelerators, MiB."""

    cpu_cores: float
    accelerators: int
    memory_mb: float


def instance_capacity(instance: InstanceType, settings: InferenceComponentSettings) -> InstanceCapacity:
    """The reservable capacity of `instance`: its vCPUs in cores, its accelerators, its memory in MiB
    less `reserved_memory_per_instance`."""
    return InstanceCapacity(cpu_cores=instance.vcpus / settings.vcpus_per_cpu_core,
                            accelerators=instance.accelerators,
                            memory_mb=max(0.0, instance.memory_bytes - settings.reserved_memory_per_instance) / MIB)


def _reservation_problems(component: InferenceComponent, instance: InstanceType,
                          settings: InferenceComponentSettings) -> list[tuple[tuple, str]]:
    """Why no instance of `instance`'s type can hold one copy (key paths relative to the component)."""
    capacity = instance_capacity(instance, settings)
    needs = component.specification.compute_resource_requirements
    where = ("specification", "compute_resource_requirements")
    out = []
    if needs.accelerators > capacity.accelerators:
        has = f"has {capacity.accelerators}" if capacity.accelerators else "has none"
        out.append((where + ("number_of_accelerator_devices_required",),
                    f"each copy reserves {needs.accelerators} accelerators; {instance.name}, the instance type of "
                    f"variant {component.variant_name!r}, {has}: no instance can hold a copy"))
    if needs.cpu_cores > capacity.cpu_cores:
        out.append((where + ("number_of_cpu_cores_required",),
                    f"each copy reserves {needs.cpu_cores:g} CPU cores; {instance.name} has {capacity.cpu_cores:g} "
                    f"({instance.vcpus} vCPUs): no instance can hold a copy"))
    if needs.min_memory_required_in_mb > capacity.memory_mb:
        out.append((where + ("min_memory_required_in_mb",),
                    f"each copy reserves {needs.min_memory_required_in_mb} MB; {instance.name} has "
                    f"{capacity.memory_mb:g} MB (MiB) to reserve: no instance can hold a copy"))
    return out


def component_problems(experiment: "Experiment", catalog) -> list[tuple[tuple, str]]:
    """Checks of inference components that need the whole experiment and the catalog, as
    (key path, message): which variants host components and what such a variant may carry, each
    component's endpoint, variant and reservation, scale to zero, and the traffic that names them.
    Instance types missing from the catalog are left to the name checks."""
    out: list[tuple[tuple, str]] = []
    settings = experiment.inference_component_settings
    endpoints = {e.endpoint_name: (k, e) for k, e in enumerate(experiment.endpoints)}
    hosting: dict[tuple[str, str], list[int]] = {}  # (endpoint, variant) -> indices of its components
    seen: dict[str, int] = {}
    unresolved = False  # a component names an endpoint or variant that does not exist
    for c_index, component in enumerate(experiment.inference_components):
        where = ("inference_components", c_index)
        name = component.inference_component_name
        if name in seen:
            out.append((where + ("inference_component_name",),
                        f"inference component {name!r} is also inference_components[{seen[name]}]: names are unique "
                        "(AWS: \"A unique name to assign to the inference component\")"))
        seen.setdefault(name, c_index)
        if component.endpoint_name not in endpoints:
            out.append((where + ("endpoint_name",), f"unknown endpoint {component.endpoint_name!r} "
                        f"(endpoints: {', '.join(endpoints)})"))
            unresolved = True
            continue
        _, endpoint = endpoints[component.endpoint_name]
        variants = {v.variant_name: v for v in endpoint.production_variants}
        variant_name = experiment.component_variant(component)
        if variant_name is None:  # none named, and the endpoint has several
            out.append((where + ("variant_name",), f"required when the endpoint has several variants "
                        f"(endpoint {endpoint.endpoint_name!r}: {', '.join(variants)})"))
            unresolved = True
            continue
        if variant_name not in variants:
            out.append((where + ("variant_name",), f"no variant {variant_name!r} in endpoint "
                        f"{endpoint.endpoint_name!r} (variants: {', '.join(variants)})"))
            unresolved = True
            continue
        hosting.setdefault((endpoint.endpoint_name, variant_name), []).append(c_index)
        variant = variants[variant_name]
        if variant.instance_type in catalog:
            resolved = component.model_copy(update={"variant_name": variant_name})
            out += [(where + path, message)
                    for path, message in _reservation_problems(resolved, catalog[variant.instance_type], settings)]
        scaling = variant.managed_instance_scaling
        if component.runtime_config.copy_count == 0 and not (scaling is not None and scaling.scales_to_zero):
            out.append((where + ("runtime_config", "copy_count"),
                        f"0 copies needs scale to zero: variant {variant_name!r} must have managed_instance_scaling "
                        "with status ENABLED and min_instance_count = 0 (AWS: an endpoint scales to zero only with "
                        "MinInstanceCount 0; simfleet refuses a component that could never serve otherwise)"))
    if unresolved:
        return out  # which variant hosts what is unknown: the variant and traffic checks would only echo it
    out += _variant_problems(experiment, hosting)
    out += _traffic_problems(experiment, hosting, settings)
    return out


def _variant_problems(experiment: "Experiment", hosting: dict) -> list[tuple[tuple, str]]:
    """What a variant that hosts components may carry, and that a variant without a model hosts some."""
    out = []
    for e_index, endpoint in enumerate(experiment.endpoints):
        hosts = [(endpoint.endpoint_name, v.variant_name) in hosting for v in endpoint.production_variants]
        for v_index, variant in enumerate(endpoint.production_variants):
            where = ("endpoints", e_index, "production_variants", v_index)
            if not hosts[v_index]:  # a variant without a model and components: `Experiment` reports it
                if variant.managed_instance_scaling is not None:
                    out.append((where + ("managed_instance_scaling",),
                                "managed_instance_scaling applies to a variant that hosts inference components "
                                "(AWS: IDLE_RELEASE \"Releases instances that have no hosted inference component "
                                "copies\"; simfleet refuses it elsewhere rather than ignore it)"))
                continue
            named = [k for k, h in enumerate(hosts) if not h]
            if named:
                out.append((where + ("variant_name",),
                            f"endpoint {endpoint.endpoint_name!r} mixes variants that host inference components with "
                            f"variants that serve a model ({', '.join(endpoint.production_variants[k].variant_name for k in named)}). "
                            "AWS does not document such an endpoint; simfleet refuses it"))
            for key, why in (("model_name", "the models come with the components (Specification.model_name)"),
                             ("containers", "the models come with the components (Specification.model_name)"),
                             ("serverless_config", "inference components reserve cores, accelerators and memory of "
                                                   "instances; a serverless variant has none"),
                             ("model_population", "a multi-model variant serves its own population"),
                             ("workers", "each component's workers come from its model profile")):
                if getattr(variant, key) is not None:
                    out.append((where + (key,), f"a variant that hosts inference components has no {key}: {why}"))
            if variant.mode == "MultiModel":
                out.append((where + ("mode",), "a variant that hosts inference components is not a multi-model "
                                               "variant; leave mode out"))
            scaling = variant.managed_instance_scaling
            if scaling is not None and scaling.status == "ENABLED" and variant.initial_instance_count is not None:
                count = variant.initial_instance_count
                if count > scaling.max_instance_count or count < scaling.min_instance_count:
                    out.append((where + ("initial_instance_count",),
                                f"initial_instance_count ({count}) is outside managed_instance_scaling's "
                                f"[{scaling.min_instance_count}, {scaling.max_instance_count}] (simfleet refuses it "
                                "rather than move it)"))
    return out


def _traffic_problems(experiment: "Experiment", hosting: dict,
                      settings: InferenceComponentSettings) -> list[tuple[tuple, str]]:
    """`target_inference_component` names a component of the traffic's endpoint (and of its
    `target_variant`, if given); traffic to an endpoint with components names one."""
    out = []
    by_endpoint: dict[str, dict[str, str]] = {}  # endpoint -> component -> variant
    for (endpoint, variant), indices in hosting.items():
        for index in indices:
            by_endpoint.setdefault(endpoint, {})[experiment.inference_components[index].inference_component_name] = variant
    default_endpoint = experiment.endpoints[0].endpoint_name if len(experiment.endpoints) == 1 else None
    for t_index, traffic in enumerate(experiment.traffic):
        where = ("traffic", t_index)
        endpoint = traffic.endpoint_name or default_endpoint
        if endpoint is None:
            continue  # reported by the name checks
        components = by_endpoint.get(endpoint, {})
        target = traffic.target_inference_component
        if target is None:
            if components:
                out.append((where + ("target_inference_component",),
                            f"required key is missing (endpoint {endpoint!r} hosts inference components: "
                            f"{', '.join(sorted(components))}; InvokeEndpoint names one in InferenceComponentName, "
                            "and simfleet cannot tell which model a request without it is for)"))
            continue
        if not components:
            out.append((where + ("target_inference_component",),
                        f"endpoint {endpoint!r} hosts no inference components; leave target_inference_component out"))
        elif target not in components:
            out.append((where + ("target_inference_component",),
                        f"unknown inference component {target!r} on endpoint {endpoint!r} "
                        f"(components: {', '.join(sorted(components))})"))
        elif traffic.target_variant is not None and components[target] != traffic.target_variant:
            out.append((where + ("target_inference_component",),
                        f"inference component {target!r} is hosted by variant {components[target]!r}, not by "
                        f"target_variant {traffic.target_variant!r}"))
    return out
