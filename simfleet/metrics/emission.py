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

from simfleet.request_records import (CACHE_HIT, CACHE_MISS, ENV_COLD, ENV_NONE, ENV_PROVISIONED, ENV_SPILLOVER_COLD,
                                      ENV_SPILLOVER_WARM, ENV_WARM, INVALID_TARGET, MODEL_ERROR, MODEL_NOT_FOUND,
                                      MODEL_NOT_READY, MODEL_TIMEOUT, NO_CACHE_ROOM, NO_CAPACITY, OK,
                                      PAYLOAD_TOO_LARGE, QUEUE_FULL, THROTTLED)
from simfleet.fleet import VariantRuntime

__all__ = ["INVOCATION_NAMESPACE", "ENDPOINT_NAMESPACE", "SIMFLEET_NAMESPACE", "fleet_gauge_values", "STATUS_NAMES", "ENVIRONMENT_NAMES", "CACHE_NAMES", "REACHED_CONTAINER", "MODEL_ERROR_OUTCOMES",
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
    INVALID_TARGET: "InvalidTarget",
    THROTTLED: "Throttled",
    MODEL_NOT_READY: "ModelNotReady",
    MODEL_NOT_FOUND: "ModelNotFound",
    NO_CACHE_ROOM: "NoCacheRoom",
}

#: Whether a multi-model request found its model loaded (`RequestRecords.cache`), as
#: `requests.parquet` writes it; a request that reached no cache (CACHE_NONE) has none (null).
CACHE_NAMES = {CACHE_HIT: "Hit", CACHE_MISS: "Miss"}

#: The serverless execution environment that served a request (`RequestRecords.environment`), as
#: `requests.parquet` writes it; "None" for instance-based variants and requests no environment took.
ENVIRONMENT_NAMES = {
    ENV_NONE: "None",
    ENV_WARM: "Warm",
    ENV_COLD: "Cold",
    ENV_PROVISIONED: "Provisioned",
    ENV_SPILLOVER_WARM: "SpilloverWarm",
    ENV_SPILLOVER_COLD: "SpilloverCold",
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
    payloads over the limit and a missing, unknown or unneeded TargetContainerHostname are SageMaker's
    400 ValidationError [MCE]; a serverless throttle is a ThrottlingException, HTTP 400 (DESIGN §4:
    AWS does not say whether it counts in Invocation4XXErrors; simfleet counts it); timeouts, full job queues (503)
    and a variant without capacity count as 5XX. AWS does not document the class of a timeout.
    Multi-model endpoints: `ModelNotReadyException` (429) and a TargetModel not in the population
    (400) are 4XX; no room in the cache (the container's 507) is a 5XX.
    """
    model_4xx = variant.model_error_status < 500
    is_4xx = status_in(status, (PAYLOAD_TOO_LARGE, INVALID_TARGET, THROTTLED, MODEL_NOT_READY, MODEL_NOT_FOUND)) \
        | ((status == MODEL_ERROR) & model_4xx)
    is_5xx = status_in(status, (MODEL_TIMEOUT, QUEUE_FULL, NO_CAPACITY, NO_CACHE_ROOM)) \
        | ((status == MODEL_ERROR) & (not model_4xx))
    return is_4xx, is_5xx


def utilization_values(variant: VariantRuntime, busy_workers: list[np.ndarray], only: int | None = None,
                       held: np.ndarray | None = None):
    """(metric name, unit, per-instance values) from each instance's mean busy workers in the period,
    one array per container of the variant (host metrics sum all containers of an instance [PIPE]),
    or those of container `only` alone (a direct-invocation container's own metrics [MCE]).

    A busy worker keeps `cpu_cores_per_busy_worker` vCPUs and `gpus_per_busy_worker`
    accelerators busy (profile figures); memory is what the loaded workers hold.

    A multi-model variant passes `held`: per instance, the mean bytes its model cache held over the
    period's sample instants (instance × (loaded, memory, GPU memory, disk), `model_cache_gauges`).
    simfleet's rule (AWS only says these metrics follow what the containers use): the cache's
    models are added to what the workers hold — `MemoryUtilization` = (workers' footprint + host
    memory held by models) ÷ instance memory, `GPUMemoryUtilization` likewise over the GPU's memory
    (both capped as before) — and `DiskUtilization` = artifacts on disk ÷ the storage volume
    (`multi_model.storage_volume_size`), 0–100; the model server's own files are not counted.
    """
    instance = variant.instance_type
    entries = [c.entry for c in variant.containers]
    if only is not None:
        entries, busy_workers = [entries[only]], [busy_workers[only]]
    n = len(busy_workers[0])
    cores = _summed([100.0 * e.cpu_cores_per_busy_worker * busy for e, busy in zip(entries, busy_workers)])
    cpu = np.minimum(100.0 * instance.vcpus, cores)
    workers_memory = _summed([100.0 * e.workers * e.memory_per_worker_bytes for e in entries])
    if held is None:
        memory = np.full(n, min(100.0, workers_memory / instance.memory_bytes))
    else:
        memory = np.minimum(100.0, (workers_memory + 100.0 * held[:, 1]) / instance.memory_bytes)
    out = [
        ("CPUUtilization", "Percent", cpu),
        ("MemoryUtilization", "Percent", memory),
    ]
    if instance.accelerators > 0:
        devices = _summed([100.0 * e.gpus_per_busy_worker * busy for e, busy in zip(entries, busy_workers)])
        gpu = np.minimum(100.0 * instance.accelerators, devices)
        workers_gpu = _summed([e.workers * e.gpu_memory_per_worker_bytes for e in entries])
        gpu_held = np.full(n, float(workers_gpu)) if held is None else workers_gpu + held[:, 2]
        per_device = instance.accelerator_memory_bytes
        gpu_memory = np.minimum(100.0 * instance.accelerators, 100.0 * gpu_held / per_device) if per_device > 0 \
            else np.zeros(n)
        out += [
            ("GPUUtilization", "Percent", gpu),
            ("GPUMemoryUtilization", "Percent", gpu_memory),
        ]
    if held is not None:
        disk = variant.multi_model.tiers.disk_bytes
        out.append(("DiskUtilization", "Percent", np.minimum(100.0, 100.0 * held[:, 3] / disk)))
    return out


def _summed(terms: list):
    """The sum of per-container terms; one container's term itself (the same bits as before pipelines)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


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


def device_utilization(variant: VariantRuntime, slot_busy: list[np.ndarray], held_gpu_bytes: float = 0.0):
    """(metric name, unit, one value per device) for one instance with enhanced metrics.

    `slot_busy` is each worker slot's busy fraction of the period, one array per container (each
    container's workers laid over the devices as `device_shares` lays them, their shares added).
    Each device reports 0–100. `held_gpu_bytes`: GPU memory a multi-model cache held (mean over the
    period), spread evenly over the devices like the workers' (GPU MMEs have one GPU).
    """
    instance = variant.instance_type
    devices = instance.accelerators
    if devices == 0:
        return []
    entries = [c.entry for c in variant.containers]
    busy = _summed([busy[: e.workers] @ device_shares(e.workers, e.gpus_per_busy_worker, devices)
                    for e, busy in zip(entries, slot_busy)])
    gpu = np.minimum(100.0, 100.0 * busy)
    per_device = instance.accelerator_memory_bytes
    held = (_summed([e.workers * e.gpu_memory_per_worker_bytes for e in entries]) + held_gpu_bytes) / devices
    memory = min(100.0, 100.0 * held / per_device) if per_device > 0 else 0.0
    return [("GPUUtilization", "Percent", gpu), ("GPUMemoryUtilization", "Percent", np.full(devices, memory))]


def fleet_gauge_values(counts: dict[str, np.ndarray]):
    """(metric name, unit, raw values) of the instance-count gauges: one value per sample instant."""
    return [(metric, "Count", np.asarray(values, dtype=np.float64)) for metric, values in counts.items()]
