"""What SageMaker emits for each request and each instance: the raw values behind every datapoint.

Follows `reference/sagemaker-semantics.md` §1.1, §1.2 and §1.10, and the defaults of DESIGN §4:
per-request counters (`Invocations` = 1), normalized counters (`InvocationsPerInstance` =
1 / in-service instances of the variant), 0/1 indicators (errors), per-request durations in
microseconds (`ModelLatency`, `OverheadLatency`), and per-instance utilization gauges
(time-weighted over the period; CPU 0–100 × vCPUs, GPU 0–100 × GPUs). The invocation metrics'
per-request values are counted rather than built as arrays (`invocation_datapoints`), from the
outcome classes defined here.
"""

from __future__ import annotations

import numpy as np

from simfleet.request_records import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK,
                                              PAYLOAD_TOO_LARGE, QUEUE_FULL)
from simfleet.fleet import VariantRuntime

__all__ = ["INVOCATION_NAMESPACE", "ENDPOINT_NAMESPACE", "SIMFLEET_NAMESPACE", "fleet_gauge_values", "STATUS_NAMES", "REACHED_CONTAINER", "MODEL_ERROR_OUTCOMES",
           "status_in",
           "utilization_values", "device_utilization", "device_shares", "error_class"]

INVOCATION_NAMESPACE = "AWS/SageMaker"
ENDPOINT_NAMESPACE = "/aws/sagemaker/Endpoints"
#: simfleet's own metrics, which SageMaker does not publish (instance counts over time).
SIMFLEET_NAMESPACE = "simfleet/Endpoints"

STATUS_NAMES = {
    OK: "OK",
    MODEL_ERROR: "ModelError",
    MODEL_TIMEOUT: "ModelTimeout",
    PAYLOAD_TOO_LARGE: "PayloadTooLarge",
    QUEUE_FULL: "QueueFull",
    NO_CAPACITY: "NoCapacity",
}

#: Outcomes in which a container answered (or timed out): they carry ModelLatency/OverheadLatency.
REACHED_CONTAINER = (OK, MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL)
#: Outcomes where the model invocation did not produce a 2xx (timeouts and 503s included) [MCW].
MODEL_ERROR_OUTCOMES = (MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL)


def status_in(status: np.ndarray, codes: tuple[int, ...]) -> np.ndarray:
    """``np.isin(status, codes)`` for outcome codes, by table lookup (a run asks this per batch)."""
    status = np.asarray(status)
    if status.dtype != np.int8:
        return np.isin(status, codes)
    table = _STATUS_TABLES.get(codes)
    if table is None:
        table = np.zeros(256, np.bool_)
        table[np.asarray(codes, np.int64) % 256] = True
        _STATUS_TABLES[codes] = table
    return table[status.view(np.uint8)]


_STATUS_TABLES: dict[tuple[int, ...], np.ndarray] = {}


def error_class(status: np.ndarray, variant: VariantRuntime) -> tuple[np.ndarray, np.ndarray]:
    """(is_4xx, is_5xx) per request of `variant`.

    A model error takes the class of the status the model answers (`model_error_status`);
    payloads over the limit are SageMaker's 400 ValidationError; timeouts, full job queues (503)
    and a variant without capacity count as 5XX. AWS does not document the class of a timeout.
    """
    model_4xx = variant.model_error_status < 500
    is_4xx = (status == PAYLOAD_TOO_LARGE) | ((status == MODEL_ERROR) & model_4xx)
    is_5xx = status_in(status, (MODEL_TIMEOUT, QUEUE_FULL, NO_CAPACITY)) | ((status == MODEL_ERROR) & (not model_4xx))
    return is_4xx, is_5xx


def utilization_values(variant: VariantRuntime, busy_workers: np.ndarray):
    """(metric name, unit, per-instance values) from each instance's mean busy workers in the period.

    A busy worker keeps `cpu_cores_per_busy_worker` vCPUs and `gpus_per_busy_worker`
    accelerators busy (profile figures); memory is what the loaded workers hold.
    """
    instance = variant.instance_type
    entry = variant.entry
    n = len(busy_workers)
    cpu = np.minimum(100.0 * instance.vcpus, 100.0 * entry.cpu_cores_per_busy_worker * busy_workers)
    memory = min(100.0, 100.0 * entry.workers * entry.memory_per_worker_bytes / instance.memory_bytes)
    out = [
        ("CPUUtilization", "Percent", cpu),
        ("MemoryUtilization", "Percent", np.full(n, memory)),
    ]
    if instance.accelerators > 0:
        gpu = np.minimum(100.0 * instance.accelerators, 100.0 * entry.gpus_per_busy_worker * busy_workers)
        held = entry.workers * entry.gpu_memory_per_worker_bytes
        per_device = instance.accelerator_memory_bytes
        gpu_memory = min(100.0 * instance.accelerators, 100.0 * held / per_device) if per_device > 0 else 0.0
        out += [
            ("GPUUtilization", "Percent", gpu),
            ("GPUMemoryUtilization", "Percent", np.full(n, gpu_memory)),
        ]
    return out


def device_shares(workers: int, gpus_per_busy_worker: float, devices: int) -> np.ndarray:
    """(workers × devices) share of each device a busy worker keeps busy.

    Worker w is pinned to the stretch [w·g, (w+1)·g) of the instance's devices laid end to end
    (g = `gpus_per_busy_worker`, wrapping around): two workers at g = 0.5 share device 0, a worker
    at g = 4 spans four devices. Each row sums to g, so the per-device values add up to the
    instance's `GPUUtilization` (an assumption: AWS does not say how work spreads over GPUs).
    """
    shares = np.zeros((workers, devices))
    if devices == 0 or gpus_per_busy_worker == 0:
        return shares
    for worker in range(workers):
        lo = worker * gpus_per_busy_worker
        hi = lo + gpus_per_busy_worker
        start = int(np.floor(lo))
        for unit in range(start, int(np.ceil(hi))):
            overlap = min(hi, unit + 1) - max(lo, unit)
            if overlap > 0:
                shares[worker, unit % devices] += overlap
    return shares


def device_utilization(variant: VariantRuntime, slot_busy: np.ndarray):
    """(metric name, unit, one value per device) for one instance with enhanced metrics.

    `slot_busy` is each worker slot's busy fraction of the period. Each device reports 0–100.
    """
    instance = variant.instance_type
    devices = instance.accelerators
    if devices == 0:
        return []
    entry = variant.entry
    shares = device_shares(entry.workers, entry.gpus_per_busy_worker, devices)
    gpu = np.minimum(100.0, 100.0 * slot_busy[: entry.workers] @ shares)
    per_device = instance.accelerator_memory_bytes
    held = entry.workers * entry.gpu_memory_per_worker_bytes / devices
    memory = min(100.0, 100.0 * held / per_device) if per_device > 0 else 0.0
    return [("GPUUtilization", "Percent", gpu), ("GPUMemoryUtilization", "Percent", np.full(devices, memory))]


def fleet_gauge_values(counts: dict[str, np.ndarray]):
    """(metric name, unit, raw values) of the instance-count gauges: one value per sample instant."""
    return [(metric, "Count", np.asarray(values, dtype=np.float64)) for metric, values in counts.items()]
