"""A multi-model variant's population of models: names, artifact sizes, memory per loaded copy,
latency scale and popularity, as arrays indexed by model code (position in the population).

Built from a `ModelPopulationSpec`: a declared population keeps the models in the order written;
a generated one draws each model's artifact size, memory (when a distribution is given) and
latency scale independently, each from its own named random stream
``population/{endpoint}/{variant}/{quantity}`` of the run's seed, so the same seed gives the same
population and adding a quantity never shifts another's draws. Generated names are
``{name_prefix}{number}{name_suffix}``, ``model-00001.tar.gz`` by default: AWS's `TargetModel` is
the artifact's S3 key relative to `ModelDataUrl` (developer guide, "Invoke a multi-model
endpoint"), and the numbers are zero-padded so names sort in population order.

Rules that are simfleet's choices: artifact sizes are whole bytes, drawn sizes rounded up (at least
1 byte); memory not given follows memory_per_artifact_byte x artifact_size + memory_overhead, and
lands in GPU memory on a GPU variant (the models of a GPU multi-model endpoint are loaded by Triton
onto the GPU) and in host memory otherwise; popularity follows population order (Zipf rank k is
the k-th model), independent of the sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfleet.config.multi_model import (ModelPopulationSpec, UniformPopularity, WeightsPopularity, ZipfPopularity,
                                         generated_name)
from simfleet.rng import RandomStreams

__all__ = ["ModelPopulation", "build_population", "popularity_weights", "stream_name", "draw_models"]


@dataclass(frozen=True, eq=False)
class ModelPopulation:
    """The models of one multi-model variant; model k is ``names[k]`` (its code is k)."""

    names: tuple[str, ...]
    artifact_bytes: np.ndarray     # float64, whole bytes >= 1
    memory_bytes: np.ndarray       # float64, host memory per loaded copy
    gpu_memory_bytes: np.ndarray   # float64, GPU memory per loaded copy (0 on CPU variants)
    latency_scale: np.ndarray      # float64 > 0: service times x this
    weights: np.ndarray            # float64 >= 0, not all 0: relative popularity
    profiles: tuple[str | None, ...]  # a declared model's own profile, else None
    declared: bool

    def __len__(self) -> int:
        return len(self.names)

    @property
    def popularity_cdf(self) -> np.ndarray:
        """Cumulative request probabilities: non-decreasing, the last exactly 1."""
        return _cdf(self.weights)


def stream_name(endpoint_name: str, variant_name: str, quantity: str) -> str:
    """The random stream a generated population draws `quantity` from."""
    return f"population/{endpoint_name}/{variant_name}/{quantity}"


def popularity_weights(popularity, count: int) -> np.ndarray:
    """Relative popularity of `count` models in population order (not normalised)."""
    if isinstance(popularity, ZipfPopularity):
        return np.arange(1, count + 1, dtype=np.float64) ** -popularity.exponent
    if isinstance(popularity, WeightsPopularity):
        return np.asarray(popularity.weights, dtype=np.float64)
    assert isinstance(popularity, UniformPopularity)
    return np.ones(count, dtype=np.float64)


def draw_models(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Model codes (int32) for uniform draws in [0, 1): model k for u in [cdf[k-1], cdf[k]), so a model
    of weight 0 is never drawn."""
    codes = np.searchsorted(cdf, uniforms, side="right")
    return np.minimum(codes, len(cdf) - 1).astype(np.int32)


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=np.float64)
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    # after the last model with weight > 0 every entry is 1 exactly (no rounding below 1 there)
    last = int(np.flatnonzero(weights > 0)[-1])
    cdf[last:] = 1.0
    return cdf


def _rule(spec: ModelPopulationSpec, artifact: np.ndarray) -> np.ndarray:
    return spec.memory_per_artifact_byte * artifact + spec.memory_overhead


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float64)
    array.setflags(write=False)
    return array


def build_population(spec: ModelPopulationSpec, gpu: bool, seed: int, endpoint_name: str,
                     variant_name: str) -> ModelPopulation:
    """The population `spec` describes, for a GPU variant (`gpu`: memory not given goes to GPU
    memory) or a CPU one; generated draws come from the named streams of `seed`."""
    if spec.models is not None:
        models = spec.models
        names = tuple(m.name for m in models)
        artifact = np.array([m.artifact_size for m in models], dtype=np.float64)
        rule = _rule(spec, artifact)
        memory = np.array([m.memory if m.memory is not None else (0.0 if gpu else r)
                           for m, r in zip(models, rule)], dtype=np.float64)
        gpu_memory = np.array([m.gpu_memory if m.gpu_memory is not None else (r if gpu else 0.0)
                               for m, r in zip(models, rule)], dtype=np.float64)
        scale = np.array([m.latency_scale for m in models], dtype=np.float64)
        profiles = tuple(m.profile for m in models)
    else:
        count = spec.count
        streams = RandomStreams(seed)

        def draw(quantity: str, distribution) -> np.ndarray:
            generator = streams.generator(stream_name(endpoint_name, variant_name, quantity))
            return np.asarray(distribution.build().sample(generator, count), dtype=np.float64)

        names = tuple(generated_name(k, count, spec.name_prefix, spec.name_suffix) for k in range(count))
        artifact = np.maximum(np.ceil(draw("artifact_size", spec.artifact_size)), 1.0)
        footprint = _rule(spec, artifact) if spec.memory is None else draw("memory", spec.memory)
        memory, gpu_memory = (np.zeros(count), footprint) if gpu else (footprint, np.zeros(count))
        if isinstance(spec.latency_scale, (int, float)):
            scale = np.full(count, float(spec.latency_scale))
        else:
            scale = draw("latency_scale", spec.latency_scale)
        profiles = (None,) * count
    weights = popularity_weights(spec.popularity, len(names))
    return ModelPopulation(names, _frozen(artifact), _frozen(memory), _frozen(gpu_memory), _frozen(scale),
                           _frozen(weights), profiles, spec.models is not None)
