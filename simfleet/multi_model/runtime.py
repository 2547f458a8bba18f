"""`MultiModelRuntime`: everything the engine's model cache needs about one multi-model variant,
resolved and frozen: the models as arrays by code, the cache tiers of each instance, and the
`[multi_model]` settings in engine units.

Built by `simfleet.fleet` from the variant's spec, its base profile's service entry, the
instance type and the run's seed; the engine (a later step) reads it. Requests name models by
`TargetModel`; `model_code` turns a name into a code, as `VariantRuntime.container_index` does for
hostnames: a name the population does not have gets ``len(names)``, which the engine answers
with a 4XX (SageMaker fails such a request; it is never refused at validation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from simfleet.catalog import InstanceType
from simfleet.config.multi_model import MultiModelSettings
from simfleet.multi_model.capacity import CacheTiers, cache_tiers, copies_per_load, is_gpu_variant
from simfleet.multi_model.population import ModelPopulation, build_population, draw_models
from simfleet.profiles import ModelProfile, ServiceEntry

__all__ = ["MultiModelRuntime", "build_multi_model_runtime", "load_times"]

#: `MultiModelRuntime.entry_codes` of a model served with the variant's own entry.
BASE_ENTRY = -1


@dataclass(frozen=True, eq=False)
class MultiModelRuntime:
    """A multi-model variant, resolved. Arrays are indexed by model code (population order)."""

    names: tuple[str, ...]
    artifact_bytes: np.ndarray
    memory_bytes: np.ndarray          # host memory per loaded copy
    gpu_memory_bytes: np.ndarray      # GPU memory per loaded copy
    latency_scale: np.ndarray         # service times = the model's entry's times x this
    load_time_s: np.ndarray           # one LoadModel
    popularity_cdf: np.ndarray        # request k names model searchsorted(cdf, u_k, "right")
    entry_codes: np.ndarray           # int32: index into `entries`, or BASE_ENTRY (the variant's entry)
    entries: tuple[ServiceEntry, ...]  # service entries of the declared models' own profiles
    entry_names: tuple[str, ...]      # those profiles' names, one per entry
    tiers: CacheTiers                 # per instance
    gpu: bool                         # the memory tier is GPU memory (a GPU multi-model endpoint)
    copies_per_load: int              # memory copies one load holds (one per worker)
    cache_enabled: bool               # ModelCacheSetting = Enabled
    load_concurrency: int             # downloads/loads in progress per instance; 0: unlimited (cache on)
    download_bandwidth_bps: float
    download_latency_s: float
    download_sharing: str             # "queued" | "independent"
    unload_time_s: float
    worker_arrangement: str           # "shared" | "per_model"
    spread_outstanding_requests: int  # smart routing's threshold per instance
    invocation_timeout_s: float       # ModelNotReadyException after it (60 s)
    load_timeout_s: float             # a load is abandoned after it (360 s)
    _codes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._codes.update({name: code for code, name in enumerate(self.names)})

    def __len__(self) -> int:
        return len(self.names)

    def model_code(self, name: str) -> int:
        """The code of TargetModel `name`: its position, or ``len(names)`` for a model not in the population."""
        return self._codes.get(name, len(self.names))

    def draw_models(self, uniforms: np.ndarray) -> np.ndarray:
        """Model codes for uniform draws in [0, 1), by popularity (int32)."""
        return draw_models(self.popularity_cdf, uniforms)


def load_times(population: ModelPopulation, settings: MultiModelSettings,
               profile_of: Callable[[int], ModelProfile]) -> np.ndarray:
    """Each model's LoadModel time. profile_scaled: its profile's load_time x artifact / the profile's
    artifact_size; bandwidth: load_fixed_time + artifact / load_bandwidth."""
    if settings.load_time_rule == "bandwidth":
        return settings.load_fixed_time + population.artifact_bytes / settings.load_bandwidth
    out = np.empty(len(population))
    for k in range(len(population)):
        spec = profile_of(k).spec
        out[k] = spec.load_time * population.artifact_bytes[k] / spec.artifact_size
    return out


def _frozen(array: np.ndarray, dtype=np.float64) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=dtype)
    array.setflags(write=False)
    return array


def build_multi_model_runtime(spec, endpoint_name: str, base: ModelProfile, entry: ServiceEntry,
                              instance: InstanceType, profiles: dict[str, ModelProfile],
                              settings: MultiModelSettings, seed: int) -> MultiModelRuntime:
    """The runtime of production variant `spec` (mode MultiModel) whose base profile `base` has
    `entry` on `instance`; declared models' own profiles come from `profiles`."""
    gpu = is_gpu_variant(instance, entry.gpus_per_busy_worker)
    population = build_population(spec.model_population, gpu, seed, endpoint_name, spec.variant_name)
    own = sorted({p for p in population.profiles if p is not None})
    entries = tuple(profiles[name].entry_for(instance, entry.workers) for name in own)
    position = {name: k for k, name in enumerate(own)}
    entry_codes = np.array([BASE_ENTRY if p is None else position[p] for p in population.profiles], dtype=np.int32)
    times = load_times(population, settings,
                       lambda k: base if population.profiles[k] is None else profiles[population.profiles[k]])
    enabled = spec.model_cache_setting == "Enabled"
    spread = settings.spread_outstanding_requests
    return MultiModelRuntime(
        names=population.names,
        artifact_bytes=population.artifact_bytes,
        memory_bytes=population.memory_bytes,
        gpu_memory_bytes=population.gpu_memory_bytes,
        latency_scale=population.latency_scale,
        load_time_s=_frozen(times),
        popularity_cdf=_frozen(population.popularity_cdf),
        entry_codes=_frozen(entry_codes, np.int32),
        entries=entries,
        entry_names=tuple(own),
        tiers=cache_tiers(instance, gpu, settings),
        gpu=gpu,
        copies_per_load=copies_per_load(settings, entry.workers),
        cache_enabled=enabled,
        load_concurrency=0 if enabled else max(1, math.ceil(settings.disabled_concurrency_per_vcpu * instance.vcpus)),
        download_bandwidth_bps=settings.download_bandwidth,
        download_latency_s=settings.download_latency,
        download_sharing=settings.download_sharing,
        unload_time_s=settings.unload_time,
        worker_arrangement=settings.worker_arrangement,
        spread_outstanding_requests=entry.workers if spread == "workers" else spread,
        invocation_timeout_s=settings.invocation_timeout,
        load_timeout_s=settings.load_timeout,
    )
