"""The experiment file's schema: what a user declares, validated before any simulation object exists.

Names follow the SageMaker API in snake_case (`endpoint_name`, `production_variants`,
`instance_type`, `initial_instance_count`, `initial_variant_weight`,
`routing_config.routing_strategy`), so an `CreateEndpointConfig` request maps onto it key for key;
`simfleet.aws_requests` does that mapping for an endpoint given as its request JSON
(`endpoint_config_file`, `model_files`, `[model_profiles]`) before this schema sees it.
Cross-references (instance types in the catalog, model profiles, endpoint and variant names) are
checked by `simfleet.scenario`, which reports them together with these schema errors.

A production variant serves one model profile (`model_name`) or several containers
(`containers` with `inference_execution_config`: pipelines and multi-container endpoints, in
`simfleet.config.containers`); traffic may name a container (`target_container_hostname`).
A serverless variant gives `serverless_config` (`simfleet.config.serverless`) instead of
`instance_type` and `initial_instance_count`; the experiment's `[serverless]` section holds
simfleet's choices for serverless endpoints. A multi-model variant (`mode = "MultiModel"`) serves a
`model_population` with its `multi_model_config` (`simfleet.config.multi_model`), traffic may name
its `target_model`, and `[multi_model]` holds simfleet's choices for them. A variant with neither
`model_name` nor `containers` hosts the `[[inference_components]]` that name it, may have
`managed_instance_scaling`, traffic names a component in `target_inference_component`, and
`[inference_component_settings]` holds simfleet's choices (`simfleet.config.inference_components`).
`autoscaling` holds the Application Auto Scaling requests as AWS spells them (PascalCase),
validated by `simfleet.autoscaling`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import Field, StrictBool, StrictInt, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from simfleet.catalog import INSTANCE_TYPE_PATTERN, InstanceOverride
from simfleet.config.containers import ContainerDefinition, Hostname, InferenceExecutionConfig, container_problems
from simfleet.config.limits import LimitsSection
from simfleet.config.inference_components import (INFERENCE_COMPONENT_NAME, InferenceComponent,
                                                  InferenceComponentSettings, ManagedInstanceScaling)
from simfleet.config.multi_model import ModelPopulationSpec, MultiModelConfig, MultiModelSettings, TargetModel
from simfleet.config.serverless import ServerlessConfig, ServerlessSettings
from simfleet.schema.distributions import SizeDistribution, TimeDistribution
from simfleet.schema.quantities import Duration, Pair, Rate, Size, StrictModel, Timestamp

__all__ = [
    "Experiment", "ExperimentSection", "MetricsSection", "InstancesSection", "AutoscalingSection",
    "AutoscalingSettings", "MetricsConfig", "OutputSection", "PlatformSection",
    "Endpoint", "ProductionVariant", "RoutingConfig", "TrafficSource", "OpenLoopTraffic", "ClosedLoopTraffic",
    "ReplayTraffic", "Burst", "PUBLISH_FREQUENCIES_S", "INVOCATION_PERIOD_S",
    "CONCURRENCY_PERIOD_S", "HIGH_RESOLUTION_PERIOD_S", "MAX_DURATION_S",
]

#: `MetricPublishFrequencyInSeconds` values the API accepts [BOTO-SM], [APIMC].
PUBLISH_FREQUENCIES_S = (10, 30, 60, 120, 180, 240, 300)
#: Invocation metrics without enhanced metrics [MCW]; the high-resolution concurrency metrics [ASDEF].
INVOCATION_PERIOD_S = 60
CONCURRENCY_PERIOD_S = 10
#: simfleet's own high resolution (`metrics.high_resolution`).
HIGH_RESOLUTION_PERIOD_S = 1
#: Longest run accepted: a month. Longer runs are almost always a unit mistake ("90d" for "90s").
MAX_DURATION_S = 31 * 86400
#: SageMaker resource names: `EndpointName`, `VariantName` pattern from the API model.
AWS_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"


class ExperimentSection(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    description: str = ""
    start_time: Timestamp = Field(description="UTC start of the simulated window, aligned to the metric period")
    duration: Duration
    seed: int = Field(default=0, ge=0, lt=2**63)
    model_paths: list[str] = Field(default_factory=list, description="extra profile folders, relative to this file")

    @field_validator("start_time")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("start_time needs a time zone, e.g. 2026-01-05T09:00:00Z")
        return value.astimezone(dt.timezone.utc)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float) -> float:
        if not 1 <= value <= MAX_DURATION_S:
            raise ValueError(f"duration must be between 1s and 31d, got {value:g} s")
        return value

    @model_validator(mode="after")
    def _ends_by_year_9999(self):
        """Timestamps of the run (metrics, events) are datetimes: the run must end within their range."""
        if self.start_time > dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc) - dt.timedelta(seconds=self.duration):
            raise _key_errors("ExperimentSection", [(("start_time",), "value_error",
                                                     "the run would end after the year 9999 (start_time + duration), "
                                                     "past the last date a timestamp can hold")])
        return self


class MetricsSection(StrictModel):
    """How simfleet observes the fleet: statistics stored, resolution, and defaults where AWS is silent.

    Publish periods are SageMaker's, set per endpoint by `metrics_config` (`MetricsConfig`):
    invocation metrics every 60 s (or at the publish frequency with enhanced metrics on),
    utilization at the publish frequency, `ConcurrentRequestsPerModel` every 10 s.
    """

    percentiles: list[float] = Field(default_factory=lambda: [50.0, 90.0, 99.0], max_length=10)
    high_resolution: StrictBool = Field(
        default=False, description="simfleet only: publish every metric every 1 s (AWS's finest is 10 s)")
    histogram_scale: StrictInt = Field(
        default=8, ge=0, le=12,
        description="a datapoint with more than 150 distinct values keeps them in an exponential histogram "
                    "with buckets 2**(2**-scale) wide (scale 8: 0.27 %); percentiles of such datapoints are "
                    "exact to half a bucket")
    concurrency_sample_interval: Duration = Field(
        default=1.0, description="ConcurrentRequestsPerModel: each instance counts its requests this often "
                                 "(AWS does not document the sampling; an assumption)")
    accelerator_dimension: Literal["AcceleratorId", "GpuId"] = Field(
        default="AcceleratorId", description="name of the per-GPU dimension of enhanced metrics: the developer "
                                             "guide says AcceleratorId, AWS's launch blog queries GpuId")
    invocations_include_rejected: StrictBool = Field(
        default=True, description="requests SageMaker rejects before any container (payload over the limit, "
                                  "no instance in service) count in Invocations and the error metrics")

    @field_validator("percentiles")
    @classmethod
    def _percentiles(cls, values: list[float]) -> list[float]:
        for value in values:
            if not 0 < value <= 100:
                raise ValueError(f"percentiles must be in (0, 100], got {value:g}")
        if len(set(values)) != len(values):
            raise ValueError("percentiles must not repeat")
        return sorted(values)

    @field_validator("concurrency_sample_interval")
    @classmethod
    def _sample_interval(cls, value: float) -> float:
        if not 0 < value <= CONCURRENCY_PERIOD_S or abs(CONCURRENCY_PERIOD_S / value - round(CONCURRENCY_PERIOD_S / value)) > 1e-9:
            raise ValueError(f"concurrency_sample_interval must divide {CONCURRENCY_PERIOD_S:g}s evenly "
                             f"(e.g. 0.5s, 1s, 2s, 5s, 10s), got {value:g}s")
        return value


class MetricsConfig(StrictModel):
    """`MetricsConfig` of `CreateEndpointConfig` [BOTO-SM], [ENH] (reference §1.8)."""

    enable_enhanced_metrics: StrictBool = Field(
        default=False, description="add InstanceId (and per-GPU) dimensions; invocation metrics follow the frequency")
    metric_publish_frequency_in_seconds: StrictInt = Field(
        default=60, description="10, 30, 60, 120, 180, 240 or 300; utilization metrics always follow it")

    @field_validator("metric_publish_frequency_in_seconds")
    @classmethod
    def _frequency(cls, value: int) -> int:
        if value not in PUBLISH_FREQUENCIES_S:
            raise ValueError(f"metric_publish_frequency_in_seconds must be one of "
                             f"{', '.join(str(p) for p in PUBLISH_FREQUENCIES_S)}, got {value}")
        return value


class OutputSection(StrictModel):
    requests: StrictBool = Field(default=False, description="also write requests.parquet (one row per request)")


class PlatformSection(StrictModel):
    """SageMaker's own part of each request: overhead latency, payload and timeout limits.

    AWS documents what `OverheadLatency` contains but no typical value; the default overhead below
    is an ASSUMPTION (a few milliseconds), to be calibrated against a real endpoint's metrics.
    """

    overhead_latency: TimeDistribution = Field(
        default_factory=lambda: {"kind": "lognormal", "median": "3ms", "sigma": 0.3}, validate_default=True)
    overhead_per_kb: Duration = Field(default=0.0, description="extra overhead per KB of request payload")
    max_payload_size: Size = Field(default=6 * 2**20, description="InvokeEndpoint body limit, 6 MiB")
    invocation_timeout: Duration = Field(default=60.0, description="the container must answer within it")


class RoutingConfig(StrictModel):
    routing_strategy: Literal["LEAST_OUTSTANDING_REQUESTS", "RANDOM"] = Field(
        default="RANDOM",
        description="the API marks RoutingStrategy required inside RoutingConfig and documents no default "
                    "for a variant without RoutingConfig; simfleet assumes RANDOM there")


NO_MODEL_MESSAGE = ("give exactly one of model_name (one container) or containers (a pipeline or multi-container "
                    "endpoint), or neither on a variant that hosts inference components")


def _key_errors(model: str, errors: list[tuple[tuple, str, str]]) -> ValidationError:
    """Problems of a model validator located at the keys they concern (``(loc, type, message)``, type
    "missing" for a key that must be given), so that each is reported on its own key path."""
    return ValidationError.from_exception_data(model, [
        InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=None)
        for loc, kind, message in errors])


class ProductionVariant(StrictModel):
    """A production variant and the model it serves: one model profile in one container
    (`model_name`), or an inference pipeline / multi-container endpoint (`containers`, with
    `inference_execution_config`; see `simfleet.config.containers`). It runs on instances
    (`instance_type`, `initial_instance_count`, both required) or is serverless
    (`serverless_config`, with neither: AWS's ProductionVariant takes "ServerlessConfig instead of
    instance type and count")."""

    variant_name: str = Field(pattern=AWS_NAME)
    model_name: str | None = Field(default=None, min_length=1, description="a model profile name (one container)")
    inference_execution_config: InferenceExecutionConfig | None = Field(
        default=None, description="with containers: Serial (a pipeline, the default) or Direct invocation")
    containers: list[ContainerDefinition] | None = Field(
        default=None, description="CreateModel.Containers: 2 to 15 containers, each a model profile")
    serverless_config: ServerlessConfig | None = Field(
        default=None, description="ServerlessConfig: a serverless variant (no instance_type or initial_instance_count)")
    instance_type: str | None = Field(default=None, pattern=INSTANCE_TYPE_PATTERN,
                                      description="required unless serverless_config is given")
    initial_instance_count: int | None = Field(default=None, ge=1, le=1000,
                                               description="required unless serverless_config is given")
    initial_variant_weight: float = Field(default=1.0, ge=0, le=1e6)
    routing_config: RoutingConfig = Field(default_factory=RoutingConfig)
    workers: int | None = Field(
        default=None, ge=1, le=1024,
        description="override the profile's workers of the variant's one container (with containers, each "
                    "container takes its own workers; both together are refused)")
    model_error_rate: float = Field(default=0.0, ge=0, le=1)
    model_error_status: int = Field(default=500, ge=400, le=599,
                                    description="HTTP status the container answers on a model error")
    mode: Literal["SingleModel", "MultiModel"] = Field(
        default="SingleModel", description="ContainerDefinition.Mode of the variant's model: MultiModel serves "
                                           "model_population from one container (a multi-model endpoint)")
    multi_model_config: MultiModelConfig | None = Field(
        default=None, description="MultiModelConfig (mode = \"MultiModel\" only): model_cache_setting")
    model_population: ModelPopulationSpec | None = Field(
        default=None, description="the models a MultiModel variant serves (required there, refused elsewhere)")
    managed_instance_scaling: ManagedInstanceScaling | None = Field(
        default=None, description="ManagedInstanceScaling of a variant that hosts inference components: min and max "
                                  "instances (min 0: scale to zero) and the scale-in policy")

    @field_validator("inference_execution_config")
    @classmethod
    def _config_needs_containers(cls, value, info: ValidationInfo):
        if value is not None and info.data.get("model_name") is not None:
            raise ValueError("inference_execution_config applies to containers; a model_name variant has one container")
        return value

    @field_validator("containers")
    @classmethod
    def _containers(cls, value, info: ValidationInfo):
        if value is not None:
            config = info.data.get("inference_execution_config")
            problems = container_problems(value, "Serial" if config is None else config.mode)
            if problems:
                raise ValueError("; ".join(problems))
        return value

    @field_validator("workers")
    @classmethod
    def _workers(cls, value, info: ValidationInfo):
        if value is not None and info.data.get("containers") is not None:
            raise ValueError("workers applies to a model_name variant; with containers give each container its own "
                             "workers")
        return value

    @model_validator(mode="after")
    def _model_or_containers(self):
        # Neither is a variant that hosts inference components: `Experiment` checks that some do.
        if self.model_name is not None and self.containers is not None:
            raise ValueError(NO_MODEL_MESSAGE)
        return self

    @model_validator(mode="after")
    def _instances_or_serverless(self):
        errors = []
        if self.serverless_config is None:
            for key in ("instance_type", "initial_instance_count"):
                if getattr(self, key) is None:
                    errors.append(((key,), "missing", "required key is missing (a variant without serverless_config "
                                                      "runs on instances)"))
        else:
            for key in ("instance_type", "initial_instance_count"):
                if getattr(self, key) is not None:
                    errors.append(((key,), "value_error", f"a serverless variant has no {key} (AWS takes "
                                                          "serverless_config instead of instance type and count)"))
            if self.containers is not None:
                errors.append((("containers",), "value_error",
                               "serverless endpoints do not support inference pipelines or multi-container "
                               "endpoints (AWS, Serverless Inference feature exclusions); give model_name"))
            if "routing_config" in self.model_fields_set:
                errors.append((("routing_config",), "value_error",
                               "routing_config chooses among a variant's instances; a serverless variant has none "
                               "(simfleet refuses it rather than ignore it)"))
            if self.mode == "MultiModel":
                errors.append((("mode",), "value_error",
                               "serverless endpoints do not support multi-model endpoints (AWS, Serverless "
                               "Inference feature exclusions); give mode = \"SingleModel\" or run on instances"))
            if self.workers is not None and self.workers != 1:
                errors.append((("workers",), "value_error",
                               f"a serverless variant runs 1 worker, got {self.workers}: AWS recommends one worker "
                               "per container, and in simfleet each execution environment serves one request "
                               "at a time"))
        if errors:
            raise _key_errors("ProductionVariant", errors)
        return self

    @model_validator(mode="after")
    def _multi_model(self):
        errors = []
        if self.mode == "MultiModel":
            if self.containers is not None:
                errors.append((("mode",), "value_error",
                               "mode applies to a model_name variant; with containers give the multi-model "
                               "container its own mode"))
            elif self.model_population is None:
                errors.append((("model_population",), "missing",
                               "required key is missing (a MultiModel variant serves a population of models: "
                               "models = [...] or count with artifact_size)"))
        else:
            for key in ("model_population", "multi_model_config"):
                if getattr(self, key) is not None:
                    errors.append(((key,), "value_error",
                                   f"{key} applies to a multi-model variant; add mode = \"MultiModel\" "
                                   "(simfleet refuses it rather than ignore it)"))
        if errors:
            raise _key_errors("ProductionVariant", errors)
        return self

    @property
    def serverless(self) -> bool:
        return self.serverless_config is not None

    @property
    def multi_model(self) -> bool:
        """Serves a model population from a `MultiModel` container."""
        return self.mode == "MultiModel"

    @property
    def model_cache_setting(self) -> str:
        """`MultiModelConfig.ModelCacheSetting`: "Enabled" unless Disabled is given (AWS's default)."""
        config = self.multi_model_config
        return "Enabled" if config is None else config.model_cache_setting

    @property
    def execution_mode(self) -> str:
        """`InferenceExecutionConfig.Mode`: "Serial" unless Direct is given ("The default mode is Serial")."""
        config = self.inference_execution_config
        return "Serial" if config is None else config.mode


class Endpoint(StrictModel):
    endpoint_name: str = Field(pattern=AWS_NAME)
    production_variants: list[ProductionVariant] = Field(min_length=1, max_length=10)
    metrics_config: MetricsConfig = Field(default_factory=MetricsConfig)

    @model_validator(mode="after")
    def _variants(self):
        names = [v.variant_name for v in self.production_variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"variant names must be unique within an endpoint, repeated: {', '.join(duplicates)}")
        if sum(v.initial_variant_weight for v in self.production_variants) <= 0:
            raise ValueError("at least one production variant needs initial_variant_weight > 0")
        if len(self.production_variants) > 1:
            errors = [(("production_variants", k, "serverless_config"), "value_error",
                       f"a serverless variant must be its endpoint's only variant, this endpoint has "
                       f"{len(self.production_variants)} (AWS, Serverless Inference feature exclusions: multiple "
                       "production variants are not supported)")
                      for k, v in enumerate(self.production_variants) if v.serverless_config is not None]
            if errors:
                raise _key_errors("Endpoint", errors)
        return self


def _check_knot_times(times: list[float]) -> None:
    """A traffic schedule's knots: from time 0, strictly increasing."""
    if not times or times[0] != 0:
        raise ValueError("schedule must start at time 0s")
    if any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError("schedule times must be strictly increasing")


class Burst(StrictModel):
    """Extra arrivals on top of the base rate during [start, start + duration)."""

    start: Duration
    duration: Duration
    extra_rate: Rate

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("a burst needs a duration greater than zero")
        return value


class _TrafficCommon(StrictModel):
    endpoint_name: str | None = Field(default=None, description="optional when there is one endpoint")
    target_variant: str | None = Field(default=None, description="TargetVariant header: bypass the weights")
    target_container_hostname: Hostname | None = Field(
        default=None, description="TargetContainerHostname header of every request: the container a Direct "
                                  "multi-container variant runs. A name no container has, none on a Direct "
                                  "variant, or one on any other variant is a 400 at run time, not refused here")
    target_model: TargetModel | None = Field(
        default=None, description="TargetModel header of every request (multi-model endpoints; default: each "
                                  "request draws its model by the population's popularity). A model the "
                                  "population does not have is a 4XX at run time, not refused here")
    target_inference_component: str | None = Field(
        default=None, pattern=INFERENCE_COMPONENT_NAME, max_length=63,
        description="InferenceComponentName header of every request: the inference component it invokes (required "
                    "on an endpoint that hosts components; an unknown name is refused when the file is validated)")
    payload: SizeDistribution = Field(default_factory=lambda: {"kind": "constant", "value": "1 KB"},
                                      validate_default=True)


class OpenLoopTraffic(_TrafficCommon):
    """Poisson or evenly spaced arrivals at a rate that may follow a schedule, plus bursts."""

    kind: Literal["poisson", "constant"]
    rate: Rate | None = None
    schedule: list[Pair(Duration, Rate)] | None = Field(
        default=None, description="[[time, rate], ...] knots from the start of the run")
    interpolation: Literal["linear", "step"] = "linear"
    bursts: list[Burst] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rate_or_schedule(self):
        if (self.rate is None) == (self.schedule is None):
            raise ValueError("give exactly one of rate or schedule")
        if self.schedule is not None:
            _check_knot_times([t for t, _ in self.schedule])
        return self


class ReplayTraffic(_TrafficCommon):
    """Replay of request timestamps from a CSV or Parquet file (path relative to the experiment)."""

    kind: Literal["replay"]
    file: str = Field(min_length=1)
    time_column: str = "timestamp"
    payload_column: str | None = Field(default=None, description="bytes per request; else `payload` draws them")
    target_container_hostname_column: str | None = Field(
        default=None, description="TargetContainerHostname per request (empty cells: none); instead of "
                                  "target_container_hostname")
    target_model_column: str | None = Field(
        default=None, min_length=1, description="TargetModel per request (multi-model endpoints); instead of "
                                                "target_model")
    time_offset: Duration = Field(default=0.0, description="shift numeric times by this much")

    @model_validator(mode="after")
    def _one_hostname_source(self):
        if self.target_container_hostname is not None and self.target_container_hostname_column is not None:
            raise ValueError("give target_container_hostname (every request) or target_container_hostname_column "
                             "(per request), not both")
        if self.target_model is not None and self.target_model_column is not None:
            raise ValueError("give target_model (every request) or target_model_column (per request), not both")
        return self


class ClosedLoopTraffic(_TrafficCommon):
    """Closed-loop users: each sends a request, waits for the response (errors included), thinks,
    and sends the next. The number of users is constant (`users`) or a step schedule.

    Users added at an instant send their first request then; users removed (the most recently
    added first) send nothing more. An endpoint may take users and open-loop traffic together.
    """

    kind: Literal["users"]
    users: StrictInt | None = Field(default=None, ge=0, le=100_000)
    schedule: list[Pair(Duration, StrictInt)] | None = Field(
        default=None, description="[[time, users], ...] from the start of the run, a step function")
    think_time: TimeDistribution = Field(
        default_factory=lambda: {"kind": "constant", "value": "0s"}, validate_default=True,
        description="pause between a response and the user's next request (Inference Recommender: none)")
    job_name: str | None = Field(
        default=None, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$",
        description="Inference Recommender job name: these users are its load generator and publish "
                    "ClientInvocations, ClientInvocationErrors, ClientLatency and NumberOfUsers with the "
                    "dimensions JobName, EndpointName")

    @model_validator(mode="after")
    def _users_or_schedule(self):
        if (self.users is None) == (self.schedule is None):
            raise ValueError("give exactly one of users or schedule")
        if self.schedule is not None:
            _check_knot_times([t for t, _ in self.schedule])
            if any(not 0 <= n <= 100_000 for _, n in self.schedule):
                raise ValueError("user counts must be between 0 and 100000")
        return self

    def knots(self) -> list[tuple[float, int]]:
        """(time, users) from time 0 on."""
        return [(0.0, self.users)] if self.users is not None else [(float(t), int(n)) for t, n in self.schedule]


TrafficSource = Annotated[Union[OpenLoopTraffic, ReplayTraffic, ClosedLoopTraffic], Field(discriminator="kind")]


class InstancesSection(StrictModel):
    """Instance lifecycle: how long a launch takes, how often instances fail, which ones scale-in stops.

    A new instance is billed from the launch on, enters service after `provisioning_time` (drawn
    per launch, by instance family) plus its model profile's `load_time`, and is billed until it
    has drained. AWS publishes no launch times (reference §3.7): the default is the SECONDARY
    figure of [S-ZERO] (instance provisioning about 1.75 min); its spread is an ASSUMPTION.
    """

    provisioning_time: TimeDistribution = Field(
        default_factory=lambda: {"kind": "lognormal", "median": "105s", "sigma": 0.25}, validate_default=True,
        description="from the launch until the instance can load the model; [S-ZERO] reports about 1.75 min "
                    "(third party); sigma 0.25 is an assumption")
    provisioning_time_by_family: dict[str, TimeDistribution] = Field(
        default_factory=dict, description="per instance family (\"g5\", \"c5\"), overriding provisioning_time")
    mean_time_to_failure: Duration | None = Field(
        default=None, description="each in-service instance fails after an exponential time with this mean; "
                                  "none by default")
    scale_in_order: Literal["newest", "oldest"] = Field(
        default="newest", description="which in-service instances a scale-in drains first (AWS does not say)")
    bill_provisioning: StrictBool = Field(
        default=True, description="bill an instance from its launch (true) or only from when it enters service")

    @field_validator("provisioning_time_by_family")
    @classmethod
    def _families(cls, value: dict) -> dict:
        for family in value:
            if not re.fullmatch(r"[a-z][a-z0-9-]*", family):
                raise ValueError(f"keys are instance families such as 'g5' or 'c5', got {family!r}")
        return value

    @field_validator("mean_time_to_failure")
    @classmethod
    def _mttf(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("mean_time_to_failure must be greater than zero (leave it out for no failures)")
        return value


class AutoscalingSettings(StrictModel):
    """simfleet's choices where Application Auto Scaling is silent (DESIGN §4, reference §3.3)."""

    target_tracking_period: StrictInt = Field(
        default=60, description="period of the managed alarms on 1-minute metrics [TT]")
    high_resolution_out_period: StrictInt = Field(
        default=10, description="scale-out alarm period on the 10 s metrics (not documented)")
    scale_out_datapoints: StrictInt = Field(
        default=3, ge=1, le=1440, description="AlarmHigh: N of N periods above target (observed [REPOST-AS])")
    scale_in_datapoints: StrictInt = Field(
        default=15, ge=1, le=1440, description="AlarmLow: N of N periods below the scale-in threshold "
                                               "(observed [REPOST-AS])")
    scale_in_ratio: float = Field(
        default=0.9, gt=0, le=1, description="AlarmLow threshold = ratio x TargetValue (observed [REPOST-AS])")
    invocations_statistic: Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"] = Field(
        default="Sum", description="statistic of SageMakerVariantInvocationsPerInstance: the per-minute Sum "
                                   "is invocations per instance [MCW]")
    concurrency_statistic: Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"] = Field(
        default="Maximum", description="statistic of SageMakerVariantConcurrentRequestsPerModelHighResolution "
                                       "(not documented; [S-CONCMAX] reports Maximum)")
    provisioned_concurrency_statistic: Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"] = Field(
        default="Average", description="statistic of SageMakerVariantProvisionedConcurrencyUtilization (not "
                                       "documented): the Average of ServerlessProvisionedConcurrencyUtilization, "
                                       "the mean share of the provisioned environments busy over the period")
    evaluation_range_extra: StrictInt = Field(
        default=2, ge=0, le=100, description="CloudWatch reads N + this many periods when data is missing")
    step_at_threshold: Literal["alarm", "below"] = Field(
        default="alarm", description="step scaling, a metric value equal to the alarm threshold (not documented): "
                                     "'alarm' puts it above (in the step whose lower bound is 0) when the alarm is "
                                     "GreaterThanOrEqualToThreshold, below otherwise; 'below' always below")
    action_repeat_interval: Duration = Field(
        default=60.0, description="an alarm in ALARM invokes its scaling policy again this often "
                                  "(CloudWatch: Auto Scaling actions repeat while the state lasts)")

    @field_validator("target_tracking_period", "high_resolution_out_period")
    @classmethod
    def _alarm_period(cls, value: int) -> int:
        if not (value in (10, 20, 30) or (value > 0 and value % 60 == 0)):
            raise ValueError(f"an alarm period is 10, 20, 30 or a multiple of 60 seconds, got {value}")
        return value

    @field_validator("action_repeat_interval")
    @classmethod
    def _repeat(cls, value: float) -> float:
        if value < 1:  # a shorter one is a unit mistake and makes a control event per microsecond
            raise ValueError(f"action_repeat_interval must be at least 1s (CloudWatch evaluates alarms every 10 s at "
                             f"best), got {value:g}s")
        return value


class AutoscalingSection(StrictModel):
    """Application Auto Scaling requests, inline (the JSON of each request, as TOML) or in a JSON `file`.

    The requests themselves are validated by `simfleet.autoscaling.document.load_autoscaling`
    (from the loader), against the experiment's endpoints and variants.
    """

    file: str | None = Field(default=None, min_length=1,
                             description="a JSON document {targets, policies, scheduled_actions, alarms}")
    targets: list = Field(default_factory=list)
    policies: list = Field(default_factory=list)
    scheduled_actions: list = Field(default_factory=list)
    alarms: list = Field(default_factory=list)
    settings: AutoscalingSettings = Field(default_factory=AutoscalingSettings)

    @model_validator(mode="after")
    def _one_source(self):
        inline = self.targets or self.policies or self.scheduled_actions or self.alarms
        if self.file is not None and inline:
            raise ValueError("give the requests inline or in `file`, not both")
        if self.file is None and not self.targets:
            raise ValueError("register at least one scalable target (targets), or give `file`")
        return self

    def requests(self) -> dict:
        """The inline requests as a document for `load_autoscaling`."""
        return {"targets": self.targets, "policies": self.policies, "scheduled_actions": self.scheduled_actions,
                "alarms": self.alarms}


class Experiment(StrictModel):
    experiment: ExperimentSection
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    output: OutputSection = Field(default_factory=OutputSection)
    platform: PlatformSection = Field(default_factory=PlatformSection)
    catalog: dict[str, InstanceOverride] = Field(default_factory=dict)
    instances: InstancesSection = Field(default_factory=InstancesSection)
    autoscaling: AutoscalingSection | None = None
    serverless: ServerlessSettings = Field(default_factory=ServerlessSettings,
                                           description="choices and limits for serverless variants")
    multi_model: MultiModelSettings = Field(default_factory=MultiModelSettings,
                                            description="choices and limits for multi-model variants")
    inference_component_settings: InferenceComponentSettings = Field(
        default_factory=InferenceComponentSettings, description="choices for inference components")
    endpoints: list[Endpoint] = Field(min_length=1)
    inference_components: list[InferenceComponent] = Field(
        default_factory=list, description="CreateInferenceComponent requests: models hosted as copies that reserve "
                                          "cores, accelerators and memory on a variant's instances")
    traffic: list[TrafficSource] = Field(min_length=1)
    limits: LimitsSection = Field(default_factory=LimitsSection,
                                  description="caps on the work one run creates (`simfleet.run_limits`)")

    @model_validator(mode="after")
    def _every_variant_serves(self):
        """A variant with neither model_name nor containers must host inference components. Left to
        `component_problems` while a component names an endpoint or variant that does not exist: the
        variant it meant may be this one."""
        names = {(e.endpoint_name, v.variant_name) for e in self.endpoints for v in e.production_variants}
        if any((c.endpoint_name, self.component_variant(c)) not in names for c in self.inference_components):
            return self
        errors = []
        for e_index, endpoint in enumerate(self.endpoints):
            for v_index, variant in enumerate(endpoint.production_variants):
                if (variant.model_name is None and variant.containers is None
                        and not self.hosts_components(endpoint.endpoint_name, variant.variant_name)):
                    errors.append((("endpoints", e_index, "production_variants", v_index), "value_error",
                                   NO_MODEL_MESSAGE + " (no [[inference_components]] names this variant)"))
        if errors:
            raise _key_errors("Experiment", errors)
        return self

    def component_variant(self, component: InferenceComponent) -> str | None:
        """The variant a component names, or its endpoint's only variant when it names none (None when
        its endpoint is unknown, or has several variants and none is named)."""
        if component.variant_name is not None:
            return component.variant_name
        for endpoint in self.endpoints:
            if endpoint.endpoint_name == component.endpoint_name and len(endpoint.production_variants) == 1:
                return endpoint.production_variants[0].variant_name
        return None

    def hosts_components(self, endpoint_name: str, variant_name: str) -> bool:
        """Some inference component names this endpoint and variant."""
        return any(c.endpoint_name == endpoint_name and self.component_variant(c) == variant_name
                   for c in self.inference_components)
