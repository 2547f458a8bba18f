"""The simulated world's fixed description: endpoints, their production variants, and instances.

Built from a validated `Scenario`; the engine turns it into request-plane arrays. Variants are
numbered across the whole run (`VariantRuntime.index`), instances get per-run ids, never
`id(obj)` or class counters, so two runs in one process name things identically.

A variant runs one container or several (`VariantRuntime.containers`): an inference pipeline
(`direct` false: every request visits every container in order) or a multi-container endpoint with
direct invocation (`direct` true: each request runs the one container its `TargetContainerHostname`
names). Requests name containers by hostname; `VariantRuntime.container_index` and
`container_index_table` turn hostnames into the container indices the engine works with.

A serverless variant (`serverless_config`) has no instances: `instance_type` None,
`initial_instance_count` 0, one container, and a `ServerlessRuntime` built from its config, the
experiment's `[serverless]` settings and the serverless prices; its service entry is sized by
`simfleet.serverless_sizing` (one worker, times scaled to the environment's compute share).

A multi-model variant (`mode = "MultiModel"`) has a `MultiModelRuntime` (`simfleet.multi_model`):
its population of models as arrays by model code, the cache tiers of each instance and the
`[multi_model]` settings resolved. `VariantRuntime.model_code` turns a `TargetModel` into a code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simfleet.catalog import InstanceType
from simfleet.catalog.serverless import ServerlessPrices, load_serverless_prices
from simfleet.config.serverless import (DEFAULT_ACCOUNT_MAX_CONCURRENCY, DEFAULT_INVOCATION_TIMEOUT_S,
                                        DEFAULT_MAX_PAYLOAD_SIZE, DEFAULT_RESPONSE_SIZE)
from simfleet.config.containers import NO_TARGET, container_hostnames, container_index, default_hostname
from simfleet.distributions import Distribution
from simfleet.inference_components.runtime import (ComponentRuntime, HostingRuntime, component_runtime, copy_entry,
                                                   hosting_runtime)
from simfleet.multi_model.runtime import MultiModelRuntime, build_multi_model_runtime
from simfleet.config.publish_periods import PublishPlan, publish_plan
from simfleet.profiles import ServiceEntry
from simfleet.request_records import ROUTING_LEAST_OUTSTANDING, ROUTING_RANDOM
from simfleet.scenario import Scenario
from simfleet.serverless_sizing import size_serverless

__all__ = ["ContainerRuntime", "ServerlessRuntime", "MultiModelRuntime", "ComponentRuntime", "HostingRuntime",
           "VariantRuntime", "Fleet", "build_fleet", "instance_id",
           "serverless_prices", "NO_TARGET"]

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
    # Added with the configuration (defaults: AWS's documented figures, `simfleet.config.serverless`):
    max_payload_size_bytes: float = DEFAULT_MAX_PAYLOAD_SIZE     # request and response body limit, 4 MB
    invocation_timeout_s: float = DEFAULT_INVOCATION_TIMEOUT_S   # /invocations must answer within 60 s
    account_max_concurrency: int = DEFAULT_ACCOUNT_MAX_CONCURRENCY  # shared by every serverless variant of the run
    response_size_bytes: float = DEFAULT_RESPONSE_SIZE  # data processed OUT per response (an assumption)
    compute_factor: float = 1.0           # service times x this vs the profile entry they come from


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
    # A multi-model variant: its population, cache tiers and settings (None: one model).
    multi_model: MultiModelRuntime | None = None
    # A variant that hosts inference components: its instances take no request themselves (one
    # station without workers each); `hosting.components` are the fleet variants of its components.
    hosting: HostingRuntime | None = None
    # An inference component: a fleet variant whose request-plane instances are its copies, with the
    # hosting variant's endpoint, variant name, instance type and routing, and its own model.
    component: ComponentRuntime | None = None

    @property
    def stream_prefix(self) -> str:
        """The prefix of the named random streams of its requests (`.../service`, `.../route`, ...)."""
        if self.component is not None:
            return f"component/{self.endpoint_name}/{self.component.name}"
        return f"variant/{self.endpoint_name}/{self.variant_name}"

    @property
    def label(self) -> str:
        """How messages and the summary name it: the variant, or the inference component."""
        if self.component is not None:
            return f"inference component {self.component.name!r}"
        return f"variant {self.variant_name!r} of endpoint {self.endpoint_name!r}"

    def model_code(self, target_model: str) -> int:
        """The code of a request's `TargetModel` on a multi-model variant: the model's position in the
        population, or ``len(population)`` for a name it does not have (a 4XX at run time)."""
        if self.multi_model is None:
            raise ValueError(f"variant {self.variant_name!r} is not a multi-model variant")
        return self.multi_model.model_code(target_model)

    @property
    def hostnames(self) -> tuple[str, ...]:
        return tuple(c.hostname for c in self.containers)

    @property
    def per_model_pools(self) -> bool:
        """A multi-model variant whose models each have their own worker pool (worker_arrangement
        per_model): an instance holds a station per model of the population, by model code."""
        return self.multi_model is not None and self.multi_model.worker_arrangement == "per_model"

    def stations(self) -> tuple[int, list[int], list[int]]:
        """The stations (worker pools) of each of its instances: their count, and the worker slots and
        job-queue limit of each — one per container, or one per model with per-model pools (each
        with `workers_per_model` slots and the container's queue limit)."""
        if self.per_model_pools:
            n = len(self.multi_model)
            # (with per-model pools a load's memory copies are its pool's workers: `copies_per_load`)
            return n, [self.multi_model.copies_per_load] * n, [self.entry.max_queue_size] * n
        return (len(self.containers), [c.entry.workers for c in self.containers],
                [c.entry.max_queue_size for c in self.containers])

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


def serverless_prices(scenario: Scenario) -> ServerlessPrices:
    """The shipped serverless prices with the experiment's `[serverless]` price keys applied."""
    return load_serverless_prices().with_overrides(scenario.experiment.serverless.price_overrides(), scenario.source)


def _serverless(scenario: Scenario, spec, prices: ServerlessPrices) -> tuple[ServerlessRuntime, ContainerRuntime]:
    """A serverless variant's runtime and its one container (the default hostname, as any
    `model_name` variant's)."""
    config, settings = spec.serverless_config, scenario.experiment.serverless
    sizing = size_serverless(scenario.profiles[spec.model_name], config, settings)
    memory = config.memory_size_in_mb
    runtime = ServerlessRuntime(
        memory_size_mb=memory,
        max_concurrency=config.max_concurrency,
        provisioned_concurrency=config.provisioned_concurrency or 0,
        idle_timeout_s=settings.idle_timeout,
        setup_time=sizing.setup_time,
        vcpus=sizing.vcpus,
        service_basis=sizing.service_basis,
        price_per_second=prices.per_second(prices.price_per_gb_second, memory),
        provisioned_price_per_second=prices.per_second(prices.provisioned_price_per_gb_second, memory),
        provisioned_inference_price_per_second=prices.per_second(prices.provisioned_inference_price_per_gb_second,
                                                                 memory),
        data_price_per_gb=prices.data_price_per_gb,
        bill_cold_start=settings.bill_cold_start,
        max_payload_size_bytes=settings.max_payload_size,
        invocation_timeout_s=settings.invocation_timeout,
        account_max_concurrency=settings.account_max_concurrency,
        response_size_bytes=settings.response_size,
        compute_factor=sizing.factor,
    )
    return runtime, ContainerRuntime(default_hostname(0), spec.model_name, sizing.entry)


def build_fleet(scenario: Scenario) -> Fleet:
    variants = []
    prices = None
    experiment = scenario.experiment
    for e_index, endpoint in enumerate(experiment.endpoints):
        for spec in endpoint.production_variants:
            if experiment.hosts_components(endpoint.endpoint_name, spec.variant_name):
                variants += _hosting_variants(scenario, len(variants), e_index, endpoint, spec)
                continue
            if spec.serverless_config is not None:
                prices = prices or serverless_prices(scenario)
                serverless, container = _serverless(scenario, spec, prices)
                instance, containers, count, routing = None, (container,), 0, "RANDOM"
            else:
                instance = scenario.catalog[spec.instance_type]
                containers = _containers(scenario, spec, instance)
                serverless, count, routing = None, spec.initial_instance_count, spec.routing_config.routing_strategy
            multi_model = None
            if spec.multi_model:
                multi_model = build_multi_model_runtime(
                    spec, endpoint.endpoint_name, scenario.profiles[spec.model_name], containers[0].entry, instance,
                    scenario.profiles, experiment.multi_model, experiment.experiment.seed)
            variants.append(VariantRuntime(
                index=len(variants),
                endpoint_index=e_index,
                endpoint_name=endpoint.endpoint_name,
                variant_name=spec.variant_name,
                model_name=containers[0].model_name,
                instance_type=instance,
                entry=containers[0].entry,
                routing=ROUTING_CODES[routing],
                weight=spec.initial_variant_weight,
                model_error_rate=spec.model_error_rate,
                model_error_status=spec.model_error_status,
                initial_instance_count=count,
                plan=publish_plan(experiment, endpoint),
                containers=containers,
                direct=spec.execution_mode == "Direct",
                serverless=serverless,
                multi_model=multi_model,
            ))
    names = tuple(e.endpoint_name for e in experiment.endpoints)
    return Fleet(names, tuple(variants))


def _hosting_variants(scenario: Scenario, first: int, e_index: int, endpoint, spec) -> list[VariantRuntime]:
    """A variant that hosts inference components, then a fleet variant per component it hosts (in
    the order of `[[inference_components]]`), numbered from `first`."""
    experiment = scenario.experiment
    settings = experiment.inference_component_settings
    instance = scenario.catalog[spec.instance_type]
    components = [c for c in experiment.inference_components
                  if c.endpoint_name == endpoint.endpoint_name and experiment.component_variant(c) == spec.variant_name]
    entries = [copy_entry(scenario.profiles[c.specification.model_name], instance, c, settings) for c in components]
    common = dict(endpoint_index=e_index, endpoint_name=endpoint.endpoint_name, variant_name=spec.variant_name,
                  instance_type=instance, routing=ROUTING_CODES[spec.routing_config.routing_strategy],
                  model_error_rate=spec.model_error_rate, model_error_status=spec.model_error_status,
                  plan=publish_plan(experiment, endpoint), direct=False)
    # the host's own station has no workers and no queue: no request is ever routed to it
    idle = replace(entries[0], workers=0, max_queue_size=0, load_time_s=0.0)
    host = VariantRuntime(
        index=first, model_name="", entry=idle, weight=spec.initial_variant_weight,
        initial_instance_count=spec.initial_instance_count,
        containers=(ContainerRuntime(default_hostname(0), "", idle),),
        hosting=hosting_runtime(instance, spec.managed_instance_scaling,
                                tuple(range(first + 1, first + 1 + len(components))), settings),
        **common)
    out = [host]
    for k, (component, entry) in enumerate(zip(components, entries)):
        model = component.specification.model_name
        out.append(VariantRuntime(
            index=first + 1 + k, model_name=model, entry=entry, weight=0.0, initial_instance_count=0,
            containers=(ContainerRuntime(default_hostname(0), model, entry),),
            component=component_runtime(component, first, entry.load_time_s, settings), **common))
    return out
