"""Multi-model endpoints in the experiment file: a variant's `mode = "MultiModel"`, its
`multi_model_config`, its `model_population`, the `TargetModel` requests name, and the
experiment's `[multi_model]` section (simfleet's choices where AWS is silent).

Part of the experiment schema (`simfleet.config.experiment` puts these on a production variant, on
traffic sources and on the experiment); `simfleet.multi_model` generates the population and
sizes the cache for an instance type, `simfleet.fleet` turns both into a `MultiModelRuntime`.

AWS puts `Mode` and `MultiModelConfig` on `CreateModel`'s `ContainerDefinition`; simfleet has no
separate model object, so a `model_name` variant carries them itself (`mode`,
`multi_model_config.model_cache_setting`), as it carries `instance_type`. Facts and sources
(reference sagemaker-semantics.md §1.4, §5, §11.1):

* `ContainerDefinition.Mode` is `SingleModel` or `MultiModel`; `MultiModelConfig.ModelCacheSetting`
  is `Enabled` (the default: "By default, multi-model endpoints cache models") or `Disabled`
  (botocore's SageMaker service model; API reference "MultiModelConfig").
* `TargetModel` of InvokeEndpoint: 1 to 1024 characters, pattern ``\\A\\S[\\p{Print}]*\\z``
  (botocore's sagemaker-runtime service model, `TargetModelHeader`); its value is the model
  artifact's S3 key relative to the container's `ModelDataUrl` prefix (developer guide,
  "Invoke a multi-model endpoint": ``TargetModel = "mnist.tar.gz"``).
* "only one multi-model-enabled container can be included in an inference pipeline" (developer
  guide, "Inference pipelines"); serverless endpoints exclude "Multi-Model Endpoints" (developer
  guide, Serverless Inference, "Feature exclusions").
* GPU multi-model endpoints run on "all CPU instances types and on single-GPU instance types"
  (developer guide, "Multi-model endpoints", supported instances).
* InvokeEndpoint answers within 60 s; a model still loading then fails with
  `ModelNotReadyException` while it "continues to download and load into the inference container
  for up to 360 seconds" (developer guide, "Invoke a multi-model endpoint").
* With `ModelCacheSetting = Disabled`, download/load "concurrency is a factor of the number of the
  vCPUs"; the factor is not published (API reference "MultiModelConfig").

Everything else in `[multi_model]` is simfleet's choice: each setting's description says so, and
"ASSUMPTION" marks a default no published figure supports.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, field_validator, model_validator

from simfleet.schema.distributions import FactorDistribution, SizeDistribution, smallest_value
from simfleet.schema.quantities import Bandwidth, Duration, Size, StrictModel

__all__ = ["MultiModelConfig", "ModelPopulationSpec", "DeclaredModel", "ZipfPopularity", "UniformPopularity",
           "WeightsPopularity", "MultiModelSettings", "TargetModel", "TARGET_MODEL_MAX_LENGTH", "MAX_MODELS",
           "INVOCATION_TIMEOUT_S", "LOAD_TIMEOUT_S", "generated_name", "check_target_model"]

#: `TargetModelHeader`: 1 to 1024 characters (botocore sagemaker-runtime service model).
TARGET_MODEL_MAX_LENGTH = 1024
#: The most models simfleet generates or accepts in one population (memory: arrays per model).
MAX_MODELS = 1_000_000
#: "returns a response ... within 60 seconds"; the load goes on "for up to 360 seconds" (developer
#: guide, "Invoke a multi-model endpoint").
INVOCATION_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 360.0


def check_target_model(value: str) -> str:
    """A `TargetModel` AWS accepts: 1 to 1024 printable characters, the first not a space
    (``\\A\\S[\\p{Print}]*\\z``)."""
    if not 1 <= len(value) <= TARGET_MODEL_MAX_LENGTH:
        raise ValueError(f"a TargetModel has 1 to {TARGET_MODEL_MAX_LENGTH} characters, got {len(value)}")
    if value[0].isspace() or not value.isprintable():
        raise ValueError(f"a TargetModel is printable text that does not start with a space (AWS's pattern "
                         f"\\A\\S[\\p{{Print}}]*\\z), got {value!r}")
    return value


def _strict_str(value):
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


#: A model's name as requests give it in `TargetModel` (an S3 key relative to ModelDataUrl).
TargetModel = Annotated[str, BeforeValidator(_strict_str), AfterValidator(check_target_model)]


def generated_name(index: int, count: int, prefix: str, suffix: str) -> str:
    """The name of the `index`-th (0-based) of `count` generated models: ``model-00001.tar.gz`` style,
    numbered from 1 with at least five digits, all names of a population the same width."""
    width = max(5, len(str(count)))
    return f"{prefix}{index + 1:0{width}d}{suffix}"


def _positive(value: float | None, what: str) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{what} must be greater than zero, got {value:g}")


class MultiModelConfig(StrictModel):
    """`MultiModelConfig` of the variant's model (API reference "MultiModelConfig")."""

    model_cache_setting: Literal["Enabled", "Disabled"] = Field(
        default="Enabled", description="ModelCacheSetting: Enabled (AWS's default) keeps models loaded and on "
                                       "disk until space is needed; Disabled unloads and deletes each model "
                                       "after every invocation")


class ZipfPopularity(StrictModel):
    """The k-th model (1-based, in population order) is requested with probability ∝ 1 / k**exponent."""

    kind: Literal["zipf"]
    exponent: float = Field(description="s > 0, finite (s = 0 would be uniform: write kind = \"uniform\")")

    @field_validator("exponent")
    @classmethod
    def _exponent(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"a Zipf exponent must be a finite number greater than zero, got {value:g} "
                             "(for equal popularity use kind = \"uniform\")")
        return value


class UniformPopularity(StrictModel):
    """Every model equally likely."""

    kind: Literal["uniform"]


class WeightsPopularity(StrictModel):
    """The k-th model is requested with probability weights[k] / sum(weights)."""

    kind: Literal["weights"]
    weights: list[float] = Field(min_length=1, max_length=MAX_MODELS,
                                 description="one non-negative weight per model, in population order, not all zero")

    @field_validator("weights")
    @classmethod
    def _weights(cls, values: list[float]) -> list[float]:
        negative = [k for k, w in enumerate(values) if w < 0]
        if negative:
            raise ValueError(f"weights must be non-negative, weights[{negative[0]}] is {values[negative[0]]:g}")
        if not any(w > 0 for w in values):
            raise ValueError("at least one weight must be greater than zero")
        return values


def _popularity_shorthand(value):
    """``popularity = "uniform"`` is ``{ kind = "uniform" }``."""
    if value == "uniform":
        return {"kind": "uniform"}
    if value == "zipf":
        raise ValueError('a Zipf popularity needs its exponent: popularity = { kind = "zipf", exponent = 1.0 }')
    return value


Popularity = Annotated[Union[ZipfPopularity, UniformPopularity, WeightsPopularity],
                       Field(discriminator="kind"), BeforeValidator(_popularity_shorthand)]


class DeclaredModel(StrictModel):
    """One model of a declared population."""

    name: TargetModel = Field(description="the TargetModel requests give: its artifact's S3 key relative to "
                                          "ModelDataUrl, e.g. \"customer-17.tar.gz\"")
    artifact_size: Size = Field(description="bytes downloaded from S3 and kept on the storage volume")
    memory: Size | None = Field(
        default=None, description="host memory one loaded copy holds (default: the population's rule from "
                                  "artifact_size on a CPU variant, 0 on a GPU variant)")
    gpu_memory: Size | None = Field(
        default=None, description="GPU memory one loaded copy holds (GPU variants only; default: the "
                                  "population's rule from artifact_size)")
    latency_scale: float = Field(default=1.0, description="service times are the profile's times x this")
    profile: str | None = Field(
        default=None, min_length=1, description="a model profile whose service entry for the variant's instance "
                                                "type (and load_time) this model uses instead of the variant's "
                                                "model_name; latency_scale still applies")

    @field_validator("artifact_size")
    @classmethod
    def _artifact(cls, value: float) -> float:
        _positive(value, "artifact_size")
        return value

    @field_validator("memory", "gpu_memory")
    @classmethod
    def _memory(cls, value: float | None, info) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"{info.field_name} cannot be negative, got {value:g} bytes")
        return value

    @field_validator("latency_scale")
    @classmethod
    def _scale(cls, value: float) -> float:
        _positive(value, "latency_scale")
        return value


class ModelPopulationSpec(StrictModel):
    """The models a multi-model variant serves: declared one by one (`models`) or generated (`count`
    with `artifact_size`). Either way `popularity` says how often requests name each model, and a
    model's memory, unless given, follows the rule memory = memory_per_artifact_byte x artifact_size
    + memory_overhead (host memory on CPU variants, GPU memory on GPU variants)."""

    models: list[DeclaredModel] | None = Field(
        default=None, description="declared models, kept in the order written (Zipf ranks follow it)")
    count: StrictInt | None = Field(default=None, description=f"generated: how many models, 1 to {MAX_MODELS}")
    artifact_size: SizeDistribution | None = Field(
        default=None, description="generated: each model's artifact size, drawn independently")
    memory: SizeDistribution | None = Field(
        default=None, description="generated: each model's memory per loaded copy, drawn independently "
                                  "(default: the rule from its artifact size)")
    latency_scale: float | FactorDistribution = Field(
        default=1.0, description="generated: each model's service times are the variant profile's times x this "
                                 "factor (a number, or a distribution drawn per model)")
    name_prefix: str = Field(default="model-", description="generated names: prefix + number + suffix")
    name_suffix: str = Field(default=".tar.gz", description="generated names: prefix + number + suffix")
    popularity: Popularity = Field(default_factory=lambda: UniformPopularity(kind="uniform"),
                                   description="zipf (with exponent), uniform (the default), or weights")
    memory_per_artifact_byte: float = Field(
        default=1.0, description="the memory rule's factor. ASSUMPTION: 1, a loaded model holds about its "
                                 "artifact's size (weights compress little in a tar.gz); not published")
    memory_overhead: Size = Field(default=0.0, description="the memory rule's constant part per loaded copy "
                                                           "(ASSUMPTION: 0)")

    @field_validator("count")
    @classmethod
    def _count(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_MODELS:
            raise ValueError(f"count must be between 1 and {MAX_MODELS} (a population has at least one model), "
                             f"got {value}")
        return value

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[DeclaredModel] | None) -> list[DeclaredModel] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("a population needs at least one model")
        if len(value) > MAX_MODELS:
            raise ValueError(f"at most {MAX_MODELS} models, got {len(value)}")
        names = [m.name for m in value]
        seen: set[str] = set()
        repeated = [n for n in names if n in seen or seen.add(n)]
        if repeated:
            raise ValueError(f"model names must be unique within a population (they are TargetModel values), "
                             f"repeated: {', '.join(sorted(set(repeated))[:5])}")
        return value

    @field_validator("artifact_size", "memory")
    @classmethod
    def _sizes(cls, value, info):
        if value is not None:
            low = smallest_value(value)
            if low is not None and not low > 0:
                raise ValueError(f"{info.field_name} sizes must be greater than zero, this distribution gives "
                                 f"{low:g} bytes")
        return value

    @field_validator("latency_scale")
    @classmethod
    def _latency_scale(cls, value):
        low = value if isinstance(value, (int, float)) else smallest_value(value)
        if low is not None and not low > 0:
            raise ValueError(f"latency_scale must be greater than zero, got {low:g}")
        return value

    @field_validator("memory_per_artifact_byte")
    @classmethod
    def _factor(cls, value: float) -> float:
        if not 0 <= value <= 1000:
            raise ValueError(f"memory_per_artifact_byte must be between 0 and 1000, got {value:g}")
        return value

    @field_validator("memory_overhead")
    @classmethod
    def _overhead(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"memory_overhead cannot be negative, got {value:g} bytes")
        return value

    @field_validator("name_prefix", "name_suffix")
    @classmethod
    def _affix(cls, value: str, info) -> str:
        if not value.isprintable() or len(value) > 256 or (info.field_name == "name_prefix" and value[:1].isspace()):
            raise ValueError(f"{info.field_name} must be printable text of at most 256 characters (part of a "
                             f"TargetModel), got {value!r}")
        return value

    @model_validator(mode="after")
    def _declared_or_generated(self):
        generated_keys = [k for k in ("artifact_size", "memory", "latency_scale", "name_prefix", "name_suffix")
                          if k in self.model_fields_set]
        if self.models is not None:
            if self.count is not None:
                raise ValueError("give models (declared one by one) or count (generated), not both")
            if generated_keys:
                raise ValueError(f"{', '.join(generated_keys)} applies to a generated population (count); give "
                                 "each declared model its own")
            size = len(self.models)
        elif self.count is not None:
            if self.artifact_size is None:
                raise ValueError("a generated population (count) needs artifact_size, a size distribution, e.g. "
                                 "{ kind = \"lognormal\", median = \"200 MB\", sigma = 0.5 }")
            size = self.count
        else:
            raise ValueError("give models (declared one by one) or count with artifact_size (generated)")
        if isinstance(self.popularity, WeightsPopularity) and len(self.popularity.weights) != size:
            raise ValueError(f"popularity.weights needs one weight per model: {size} models, "
                             f"{len(self.popularity.weights)} weights")
        return self

    @property
    def size(self) -> int:
        return len(self.models) if self.models is not None else self.count


class MultiModelSettings(StrictModel):
    """`[multi_model]`: simfleet's choices for multi-model endpoints where AWS is silent, and AWS's limits.

    Each default says its source; "ASSUMPTION" means nothing is published. The engine's model
    cache (downloads, loads, eviction) reads them; today they are validated and resolved only.
    """

    download_bandwidth: Bandwidth = Field(
        default=100e6, description="S3 download speed of one instance. ASSUMPTION: 100 MB/s, as serverless's "
                                   "download_bandwidth; AWS publishes no figure")
    download_latency: Duration = Field(
        default=0.05, description="fixed time of each download before its bytes flow. ASSUMPTION: 50 ms; AWS's "
                                  "S3 performance guide speaks of small-request median latencies \"in the tens "
                                  "of milliseconds\" (whitepaper \"Best Practices Design Patterns: Optimizing "
                                  "Amazon S3 Performance\", Timeouts and Retries)")
    download_sharing: Literal["queued", "independent"] = Field(
        default="queued", description="how the downloads of one instance share download_bandwidth (simfleet's "
                                      "choice; AWS is silent): queued: one at a time at the whole bandwidth, in "
                                      "the order they are needed (the throughput of sharing it equally, with each "
                                      "download's end known when it is decided); independent: each gets the "
                                      "whole bandwidth")
    load_time_rule: Literal["profile_scaled", "bandwidth"] = Field(
        default="profile_scaled",
        description="how long a LoadModel takes. profile_scaled (simfleet's choice): the profile's load_time x "
                    "artifact_size / the profile's artifact_size; bandwidth: load_fixed_time + artifact_size / "
                    "load_bandwidth")
    load_bandwidth: Bandwidth | None = Field(
        default=None, description="with load_time_rule = \"bandwidth\": bytes loaded per second (required there)")
    load_fixed_time: Duration = Field(
        default=0.0, description="with load_time_rule = \"bandwidth\": the fixed part of each load")
    unload_time: Duration = Field(
        default=0.1, description="how long an UnloadModel takes. ASSUMPTION: 100 ms; AWS publishes "
                                 "ModelUnloadingTime but no typical value")
    storage_volume_size: Size = Field(
        default=100 * 2**30,
        description="the instance's storage volume, the disk tier of the cache. AWS says MME volumes are "
                    "larger than SingleModel ones but its \"Host Instance Storage Volumes Table\" could not be "
                    "retrieved (reference §11.1). ASSUMPTION: 100 GiB for every type; the catalog records no "
                    "local disk, so d-families and g5 (local NVMe, no EBS) take it too unless "
                    "storage_volume_size_by_type gives their NVMe size")
    storage_volume_size_by_type: dict[str, Size] = Field(
        default_factory=dict, description="per instance type (\"ml.g5.xlarge\") or family (\"g5\"), overriding "
                                          "storage_volume_size; the exact type wins")
    memory_reserve: Size = Field(
        default=2**30, description="host memory not available to the model cache (OS, SageMaker agents, the "
                                   "model server itself): cache = instance memory - this. ASSUMPTION: 1 GiB")
    gpu_memory_reserve: Size = Field(
        default=2**30, description="GPU memory not available to the model cache (CUDA context, Triton): cache = "
                                   "the GPU's memory - this. ASSUMPTION: 1 GiB")
    worker_arrangement: Literal["shared", "per_model"] = Field(
        default="shared",
        description="shared (simfleet's default): the instance's worker slots serve every loaded model, and a "
                    "loaded model holds its memory once per worker; per_model: each loaded model has its own "
                    "pool of workers_per_model workers, holding its memory once per worker")
    workers_per_model: StrictInt = Field(default=1, ge=1, le=1024,
                                         description="with worker_arrangement = \"per_model\": workers per loaded model")
    spread_outstanding_requests: StrictInt | Literal["workers"] = Field(
        default="workers",
        description="smart routing, simfleet's choice (AWS documents none): a model's requests go to an instance "
                    "where it is loaded; when each such instance already has this many requests for it in "
                    "flight, the request goes to another instance, which downloads and loads it. \"workers\" "
                    "(default): the instance's worker count")
    disabled_concurrency_per_vcpu: float = Field(
        default=1.0, description="ModelCacheSetting = Disabled: downloads and loads in progress per instance = "
                                 "ceil(this x vCPUs). AWS: \"a factor of the number of the vCPUs\", factor not "
                                 "published. ASSUMPTION: 1")
    invocation_timeout: Duration = Field(
        default=INVOCATION_TIMEOUT_S, description="a request still waiting for its model this long after it "
                                                  "arrived fails with ModelNotReadyException (429): 60 s (AWS)")
    load_timeout: Duration = Field(
        default=LOAD_TIMEOUT_S, description="a download and load still unfinished this long after it started "
                                            "is abandoned: 360 s (AWS)")

    @field_validator("download_latency", "load_fixed_time", "unload_time", "memory_reserve", "gpu_memory_reserve")
    @classmethod
    def _non_negative(cls, value: float, info) -> float:
        if value < 0:
            raise ValueError(f"{info.field_name} cannot be negative")
        return value

    @field_validator("storage_volume_size", "invocation_timeout", "load_timeout")
    @classmethod
    def _positive_value(cls, value: float, info) -> float:
        _positive(value, info.field_name)
        return value

    @field_validator("storage_volume_size_by_type")
    @classmethod
    def _by_type(cls, value: dict) -> dict:
        for key, size in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9-]*|ml\.[a-z0-9-]+\.[a-z0-9-]+", key):
                raise ValueError(f"keys are instance types such as 'ml.g5.xlarge' or families such as 'g5', "
                                 f"got {key!r}")
            _positive(size, f"the storage volume of {key!r}")
        return value

    @field_validator("spread_outstanding_requests")
    @classmethod
    def _spread(cls, value):
        if isinstance(value, int) and not 1 <= value <= 100_000:
            raise ValueError(f"spread_outstanding_requests must be between 1 and 100000, or \"workers\", got {value}")
        return value

    @field_validator("disabled_concurrency_per_vcpu")
    @classmethod
    def _per_vcpu(cls, value: float) -> float:
        if not 0 < value <= 1000:
            raise ValueError(f"disabled_concurrency_per_vcpu must be greater than 0 and at most 1000, got {value:g}")
        return value

    @model_validator(mode="after")
    def _load_rule(self):
        if self.load_time_rule == "bandwidth" and self.load_bandwidth is None:
            raise ValueError("load_time_rule = \"bandwidth\" needs load_bandwidth, e.g. \"500 MB/s\"")
        if self.load_timeout < self.invocation_timeout:
            raise ValueError(f"load_timeout ({self.load_timeout:g} s) cannot be shorter than invocation_timeout "
                             f"({self.invocation_timeout:g} s): AWS keeps loading after the request's timeout")
        return self

    def storage_volume_bytes(self, instance_type: str) -> float:
        """The storage volume of `instance_type`: its own entry, its family's, or the default."""
        family = instance_type.split(".")[1] if instance_type.count(".") == 2 else instance_type
        by_type = self.storage_volume_size_by_type
        return by_type.get(instance_type, by_type.get(family, self.storage_volume_size))
