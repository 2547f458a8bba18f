"""The model cache of one instance of a multi-model variant: how much memory, GPU memory and disk
it offers (`CacheTiers`), how many copies of a model one load holds, and which models can never
fit (`model_fit_problems`).

The tiers (reference §5, §11.1): container memory (host RAM on CPU variants, GPU memory on GPU
variants) and the instance's storage volume. The capacities are simfleet's choices, each a
`[multi_model]` setting: instance memory minus `memory_reserve`, the GPU's memory minus
`gpu_memory_reserve` (GPU multi-model endpoints run on single-GPU types only), and
`storage_volume_size` (per type or family in `storage_volume_size_by_type`; AWS publishes no size
table and the catalog records no local disk). A loaded model holds its memory once per worker:
the instance's worker count with the shared arrangement, `workers_per_model` with per-model pools.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfleet.catalog import InstanceType
from simfleet.config.multi_model import MultiModelSettings
from simfleet.multi_model.population import ModelPopulation

__all__ = ["CacheTiers", "cache_tiers", "is_gpu_variant", "copies_per_load", "model_fit_problems", "GIB"]

GIB = 2**30


@dataclass(frozen=True)
class CacheTiers:
    """What one instance offers the model cache, in bytes."""

    memory_bytes: float       # host memory for loaded models
    gpu_memory_bytes: float   # GPU memory for loaded models (0: not a GPU variant)
    disk_bytes: float         # the storage volume for downloaded artifacts


def is_gpu_variant(instance: InstanceType, gpus_per_busy_worker: float) -> bool:
    """A GPU multi-model endpoint: the instance has accelerators and the model's requests use them."""
    return instance.accelerators > 0 and gpus_per_busy_worker > 0


def cache_tiers(instance: InstanceType, gpu: bool, settings: MultiModelSettings) -> CacheTiers:
    """The tiers of one `instance` under `settings` (capacities below zero are reported as 0)."""
    gpu_memory = instance.accelerator_memory_bytes - settings.gpu_memory_reserve if gpu else 0.0
    return CacheTiers(memory_bytes=max(0.0, instance.memory_bytes - settings.memory_reserve),
                      gpu_memory_bytes=max(0.0, gpu_memory),
                      disk_bytes=settings.storage_volume_bytes(instance.name))


def copies_per_load(settings: MultiModelSettings, workers: int) -> int:
    """Copies of a model's memory one load holds: one per worker that can serve it."""
    return workers if settings.worker_arrangement == "shared" else settings.workers_per_model


def _gib(value: float) -> str:
    return f"{value / GIB:.3g} GiB"


def model_fit_problems(population: ModelPopulation, tiers: CacheTiers, copies: int, instance_name: str,
                       every_model: bool = True) -> list[tuple[int, tuple[str, ...], str]]:
    """(model index, tiers, message) for each model that cannot fit: its artifact larger than the
    storage volume ("disk"), or its loaded copies larger than the memory ("memory") or GPU memory
    ("gpu_memory") for models; one message per model naming every tier it overflows. With
    `every_model` false (generated populations), only the first such model, counting the others."""
    checks = [
        ("disk", population.artifact_bytes, tiers.disk_bytes, "artifact", "the storage volume",
         "(set multi_model.storage_volume_size or storage_volume_size_by_type)"),
        ("memory", population.memory_bytes * copies, tiers.memory_bytes, "memory", "the memory for models",
         "(instance memory - multi_model.memory_reserve)"),
        ("gpu_memory", population.gpu_memory_bytes * copies, tiers.gpu_memory_bytes, "GPU memory",
         "the GPU memory for models", "(the GPU's memory - multi_model.gpu_memory_reserve)"),
    ]
    too_big = np.zeros(len(population), dtype=bool)
    for _, need, capacity, *_rest in checks:
        too_big |= need > capacity
    failing = np.flatnonzero(too_big).tolist()
    out = []
    for k in failing if every_model else failing[:1]:
        names, reasons = [], []
        for name, need, capacity, what, tier, hint in checks:
            if need[k] > capacity:
                per_copy = f" ({copies} copies, one per worker)" if name != "disk" and copies > 1 else ""
                names.append(name)
                reasons.append(f"its {what} needs {_gib(need[k])}{per_copy}, {tier} of {instance_name} holds "
                               f"{_gib(capacity)} {hint}")
        more = "" if every_model or len(failing) == 1 else f"; {len(failing) - 1} more models never fit either"
        out.append((k, tuple(names), f"model {population.names[k]!r} never fits: {'; '.join(reasons)}{more}"))
    return out
