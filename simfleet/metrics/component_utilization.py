"""The utilization metrics of inference components: each copy's over its reservation
(`/aws/sagemaker/InferenceComponents`), and each hosting instance's reservations and the use its
copies make of it (`/aws/sagemaker/Endpoints`).

What AWS documents (reference §1.2, §1.3): a copy's `*UtilizationNormalized` is its use over its
reservation when one is set, else over its limit; an instance's `CPUReservation`, `GPUReservation`
and `MemoryReservation` are the shares its copies reserve ("2 of 4 reserved → 50 %", "1024 MB of a
32 GiB instance → 3.125 %"), and its `*UtilizationNormalized` the host metric over the number of
CPUs or GPUs. How a copy uses what it reserved is simfleet's rule, the one of every instance
(`emission.utilization_values`): a busy worker keeps its profile's `cpu_cores_per_busy_worker`
vCPUs and `gpus_per_busy_worker` accelerators busy, and the copy's loaded workers hold their
memory and GPU memory. A copy without a CPU reservation is measured over the instance's vCPUs
(its limit).
"""

from __future__ import annotations

import numpy as np

from simfleet.config.inference_components import MIB
from simfleet.fleet import VariantRuntime
from simfleet.inference_components.placement import Capacity

__all__ = ["COMPONENT_NAMESPACE", "copy_values", "CopyUse", "copy_use", "host_values"]

COMPONENT_NAMESPACE = "/aws/sagemaker/InferenceComponents"


def copy_use(variant: VariantRuntime, busy_workers: np.ndarray) -> "CopyUse":
    """What copies of a component use, from each copy's mean busy workers over a period."""
    entry = variant.entry
    return CopyUse(cpu_vcpus=entry.cpu_cores_per_busy_worker * busy_workers,
                   gpus=entry.gpus_per_busy_worker * busy_workers,
                   memory_bytes=np.full(len(busy_workers), entry.workers * entry.memory_per_worker_bytes),
                   gpu_memory_bytes=np.full(len(busy_workers), entry.workers * entry.gpu_memory_per_worker_bytes))


class CopyUse:
    """Per copy: vCPUs and accelerators busy (means over the period), memory and GPU memory held."""

    def __init__(self, cpu_vcpus, gpus, memory_bytes, gpu_memory_bytes):
        self.cpu_vcpus = cpu_vcpus
        self.gpus = gpus
        self.memory_bytes = memory_bytes
        self.gpu_memory_bytes = gpu_memory_bytes


def copy_values(variant: VariantRuntime, use: CopyUse):
    """(metric, unit, one value per copy) of `/aws/sagemaker/InferenceComponents` (unit: "None",
    as the catalog: AWS states none for this namespace)."""
    component = variant.component
    instance = variant.instance_type
    cpu_over = component.cpu_vcpus if component.cpu_vcpus > 0 else instance.vcpus
    out = [("CPUUtilizationNormalized", "None", np.minimum(100.0, 100.0 * use.cpu_vcpus / cpu_over)),
           ("MemoryUtilizationNormalized", "None",
            np.minimum(100.0, 100.0 * use.memory_bytes / (component.memory_mb * MIB)))]
    if component.accelerators > 0:
        out.append(("GPUUtilizationNormalized", "None", np.minimum(100.0, 100.0 * use.gpus / component.accelerators)))
        gpu_memory = component.accelerators * instance.accelerator_memory_bytes
        if gpu_memory > 0:
            out.append(("GPUMemoryUtilizationNormalized", "None",
                        np.minimum(100.0, 100.0 * use.gpu_memory_bytes / gpu_memory)))
    return out


def host_values(variant: VariantRuntime, reserved: list[Capacity], used: list[CopyUse | None]):
    """(metric, unit, one value per instance) of a hosting variant's instances: their reservations,
    and the host metrics of what their copies use (`used[k]`: the copies on instance k, summed;
    None: none)."""
    instance = variant.instance_type
    capacity = variant.hosting.capacity

    def total(name):
        return np.array([0.0 if u is None else float(np.sum(getattr(u, name))) for u in used])

    cpu = np.minimum(100.0 * instance.vcpus, 100.0 * total("cpu_vcpus"))
    out = [("CPUReservation", "Percent", np.array([100.0 * float(r.cpu_cores / capacity.cpu_cores) for r in reserved])),
           ("MemoryReservation", "Percent",
            np.array([100.0 * float(r.memory_mb / capacity.memory_mb) if capacity.memory_mb else 0.0
                      for r in reserved])),
           ("CPUUtilization", "Percent", cpu),
           ("CPUUtilizationNormalized", "Percent", cpu / instance.vcpus),
           ("MemoryUtilization", "Percent", np.minimum(100.0, 100.0 * total("memory_bytes") / instance.memory_bytes))]
    if instance.accelerators > 0:
        gpu = np.minimum(100.0 * instance.accelerators, 100.0 * total("gpus"))
        out += [("GPUReservation", "Percent",
                 np.array([100.0 * r.accelerators / capacity.accelerators for r in reserved])),
                ("GPUUtilization", "Percent", gpu),
                ("GPUUtilizationNormalized", "Percent", gpu / instance.accelerators)]
        per_device = instance.accelerator_memory_bytes
        if per_device > 0:
            gpu_memory = np.minimum(100.0 * instance.accelerators, 100.0 * total("gpu_memory_bytes") / per_device)
            out += [("GPUMemoryUtilization", "Percent", gpu_memory),
                    ("GPUMemoryUtilizationNormalized", "Percent", gpu_memory / instance.accelerators)]
    return out
