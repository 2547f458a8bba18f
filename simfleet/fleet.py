"""The simulated world's fixed description: endpoints, their production variants, and instances.

Built from a validated `Scenario`; the engine turns it into request-plane arrays. Variants are
numbered across the whole run (`VariantRuntime.index`), instances get per-run ids, never
`id(obj)` or class counters, so two runs in one process name things identically.

A variant runs one container or several (`VariantRuntime.containers`): an inference pipeline
(`direct` false: every request visits every container in order) or a multi-container endpoint with
direct invocation (`direct` true: each request runs the one container its `TargetContainerHostname`
names). Requests name containers by hostname; `VariantRuntime.container_index` and
`container_index_table` turn hostnames into the container indices the engine works with.
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.catalog import InstanceType
from simfleet.config.containers import NO_TARGET, container_hostnames, container_index, default_hostname
from simfleet.distributions import Distribution
from simfleet.config.publish_periods import PublishPlan, publish_plan
from simfleet.profiles import ServiceEntry
from simfleet.request_records import ROUTING_LEAST_OUTSTANDING, ROUTING_RANDOM
from simfleet.scenario import Scenario

__all__ = ["ContainerRuntime", "ServerlessRuntime", "VariantRuntime", "Fleet", "build_fleet", "instance_id",
           "NO_TARGET"]

ROUTING_CODES = {"RANDOM": ROUTING_RANDOM, "LEAST_OUTSTANDING_REQUESTS": ROUTING_LEAST_OUTSTANDING}


@dataclass(frozen=True)
class ContainerRuntime:
    """One container of a variant, as it runs on each of the variant's instances."""

    hostname: str  # ContainerHostname: the value of CloudWatch's ContainerName dimension
    model_name: str  # its model profile
    entry: ServiceEntry  # the profile's entry for the variant's instance type, its workers applied


@dataclass(frozen=True)
class ServerlessRuntime:
    """A serverless variant (`ServerlessConfig`): a pool of execution environments, no instances.

    Each environment serves one request at a time; a request finding no idle warm environment
    starts one (a cold start of `setup_time`: container start, model download and load), which
    stays warm for `idle_timeout_s` after each request and is then reaped. Provisioned
    environments are always warm. `VariantRuntime.entry` holds the service times on serverless
    (already scaled by the compute share, `service_basis` says how).
    """

    memory_size_mb: int
    max_concurrency: int
    provisioned_concurrency: int          # 0: none configured
    idle_timeout_s: float
    setup_time: Distribution              # one cold start: container start + download + load
    vcpus: float                          # the compute share assumed for `memory_size_mb`
    service_basis: str                    # where the service times come from, said in the summary
    price_per_second: float | None        # on-demand compute, USD per second at this memory size
    provisioned_price_per_second: float | None  # per provisioned environment per second
    provisioned_inference_price_per_second: float | None  # compute on a provisioned environment
    data_price_per_gb: float | None       # data processed, in and out, USD per GB
    bill_cold_start: bool                 # whether a cold start's duration is billed as compute


@dataclass(frozen=True)
class VariantRuntime:
    index: int
    endpoint_index: int
    endpoint_name: str
    variant_name: str
    model_name: str  # the first container's model (a single-container variant's only one)
    instance_type: InstanceType | None  # None: a serverless variant
    # The first container's entry. The engine and the metrics read `entry` and `model_name` for
    # single-container variants; with several containers they must read `containers` instead.
    entry: ServiceEntry
    routing: int
    weight: float
    model_error_rate: float
    model_error_status: int
    initial_instance_count: int
    plan: PublishPlan  # publish periods of its metrics
    # Every container in `CreateModel.Containers` order; one for a `model_name` variant, whose
    # hostname (`default_hostname(0)`) appears in no metric: AWS ignores ContainerHostname for a
    # model with only a primary container, and publishes ContainerName only for pipelines and
    # direct invocation.
    containers: tuple[ContainerRuntime, ...]
    direct: bool  # InferenceExecutionConfig.Mode == "Direct"
    # A serverless variant: no instances (`instance_type` None, `initial_instance_count` 0).
    serverless: ServerlessRuntime | None = None

    @property
    def hostnames(self) -> tuple[str, ...]:
        return tuple(c.hostname for c in self.containers)

    @property
    def multi_container(self) -> bool:
        """A pipeline or a multi-container endpoint: per-container metrics (`ContainerName`) exist."""
        return len(self.containers) > 1

    def container_index(self, hostname: str | None) -> int:
        """The container a request's `TargetContainerHostname` names: its position in `containers`;
        `NO_TARGET` (-1) for a request that names none; ``len(containers)`` for a name no container
        has. Valid requests: -1 on a variant that is not `direct`, 0..len-1 on a `direct` one; the
        engine answers anything else with `INVALID_TARGET` (HTTP 400, counted in Invocation4XXErrors)."""
        return container_index(self.hostnames, hostname)


@dataclass(frozen=True)
class Fleet:
    endpoint_names: tuple[str, ...]
    variants: tuple[VariantRuntime, ...]

    def variants_of(self, endpoint_index: int) -> list[VariantRuntime]:
        return [v for v in self.variants if v.endpoint_index == endpoint_index]


def instance_id(number: int) -> str:
    """EC2-style id from a per-run counter: ``i-00000000000000001``."""
    return f"i-{number:017x}"


def _containers(scenario: Scenario, spec, instance: InstanceType) -> tuple[ContainerRuntime, ...]:
    if spec.containers is None:
        entry = scenario.profiles[spec.model_name].entry_for(instance, spec.workers)
        return (ContainerRuntime(default_hostname(0), spec.model_name, entry),)
    return tuple(ContainerRuntime(hostname, container.model_name,
                                  scenario.profiles[container.model_name].entry_for(instance, container.workers))
                 for hostname, container in zip(container_hostnames(spec.containers), spec.containers))


def build_fleet(scenario: Scenario) -> Fleet:
    variants = []
    for e_index, endpoint in enumerate(scenario.experiment.endpoints):
        for spec in endpoint.production_variants:
            instance = scenario.catalog[spec.instance_type]
            containers = _containers(scenario, spec, instance)
            variants.append(VariantRuntime(
                index=len(variants),
                endpoint_index=e_index,
                endpoint_name=endpoint.endpoint_name,
                variant_name=spec.variant_name,
                model_name=containers[0].model_name,
                instance_type=instance,
                entry=containers[0].entry,
                routing=ROUTING_CODES[spec.routing_config.routing_strategy],
                weight=spec.initial_variant_weight,
                model_error_rate=spec.model_error_rate,
                model_error_status=spec.model_error_status,
                initial_instance_count=spec.initial_instance_count,
                plan=publish_plan(scenario.experiment, endpoint),
                containers=containers,
                direct=spec.execution_mode == "Direct",
            ))
    names = tuple(e.endpoint_name for e in scenario.experiment.endpoints)
    return Fleet(names, tuple(variants))
