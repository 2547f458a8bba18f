"""The contract between the request plane and everything that reads its results.

The engine writes, and the metrics, summaries, traces and jobs read, the same things: a request's
outcome code, a variant's routing code and the per-request records of each dispatched batch. They
live here, below both (DESIGN §2.2), so that neither package imports the other for them.

Records are read, never written, once built: `select`, `by_variant`, `by_instance` and `concat`
hand back the same arrays, without copying them, whenever the result holds every request in its
original order (a mask that keeps all, a single group, a single part). Copying every column on
each of those steps was the largest cost of a run's metrics (benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "OK", "MODEL_ERROR", "MODEL_TIMEOUT", "PAYLOAD_TOO_LARGE", "QUEUE_FULL", "NO_CAPACITY", "INVALID_TARGET",
    "THROTTLED", "MODEL_NOT_READY", "MODEL_NOT_FOUND", "NO_CACHE_ROOM", "ROUTING_RANDOM",
    "ROUTING_LEAST_OUTSTANDING", "CACHE_NONE", "CACHE_HIT", "CACHE_MISS", "CACHE_DOWNLOAD", "CACHE_LOAD",
    "CACHE_UNLOAD", "CACHE_DELETE", "CACHE_DOWNLOAD_ABANDONED", "CACHE_LOAD_ABANDONED", "CacheRecords",
    "ENV_NONE", "ENV_WARM", "ENV_COLD", "ENV_PROVISIONED", "ENV_SPILLOVER_WARM", "ENV_SPILLOVER_COLD",
    "ENV_STARTED", "ENV_REAPED", "ENV_PROVISIONED_ADDED", "ENV_RELEASED",
    "RequestRecords", "HopRecords", "EnvironmentRecords", "group_slices",
]

# Request outcomes (the `status` column).
OK = 0
MODEL_ERROR = 1        # the container answered with the model's error status
MODEL_TIMEOUT = 2      # no answer within the invocation timeout
PAYLOAD_TOO_LARGE = 3  # rejected by SageMaker before any instance (ValidationError, 400)
QUEUE_FULL = 4         # the container's job queue was full (503)
NO_CAPACITY = 5        # the variant had no in-service instance
INVALID_TARGET = 6     # TargetContainerHostname missing, unknown or not accepted (ValidationError, 400)
THROTTLED = 7          # serverless: MaxConcurrency or the account's concurrency reached (ThrottlingException, 400)
MODEL_NOT_READY = 8    # multi-model: its model was not loaded within the limit (ModelNotReadyException, 429)
MODEL_NOT_FOUND = 9    # multi-model: its TargetModel is not in the population (ValidationError, 400)
NO_CACHE_ROOM = 10     # multi-model: memory or disk held by models in use (the container's 507)

# Whether a multi-model request found its model loaded (the `cache` column; ModelCacheHit).
CACHE_NONE = 0         # not a multi-model request, or refused before an instance's cache
CACHE_HIT = 1          # its model was loaded on the instance
CACHE_MISS = 2         # it waited for a download, a load, or a load in progress

# Model cache events (`CacheRecords.kind`).
CACHE_DOWNLOAD = 0     # a download from S3 starts (duration: until the model is on disk)
CACHE_LOAD = 1         # a load into the container starts (duration: until it is loaded)
CACHE_UNLOAD = 2       # an unused model is unloaded to make room (duration: the unload)
CACHE_DELETE = 3       # an unused model is deleted from disk to make room (no duration)
CACHE_DOWNLOAD_ABANDONED = 4  # a download given up at the load limit (duration: from its start until then)
CACHE_LOAD_ABANDONED = 5      # a load given up at the load limit (duration: from its start until then)

# Which serverless execution environment served a request (the `environment` column; DESIGN §2.1).
ENV_NONE = 0            # none: not a serverless variant, or refused before an environment (throttled...)
ENV_WARM = 1            # an idle warm on-demand environment
ENV_COLD = 2            # a new on-demand environment (a cold start: `setup_s` > 0)
ENV_PROVISIONED = 3     # an idle provisioned-concurrency environment
ENV_SPILLOVER_WARM = 4  # ENV_WARM while provisioned concurrency is configured: every one was busy
ENV_SPILLOVER_COLD = 5  # ENV_COLD likewise

# Serverless environment lifecycle events (`EnvironmentRecords.kind`).
ENV_STARTED = 0            # an on-demand environment starts cold (for the request that needed it)
ENV_REAPED = 1             # an idle on-demand environment is reaped after the idle timeout
ENV_PROVISIONED_ADDED = 2  # a provisioned-concurrency environment is created (run start, scaling out)
ENV_RELEASED = 3           # a provisioned environment is released (scaling in: idle at once, else when it frees)

# Routing strategies of a production variant (`RoutingConfig.RoutingStrategy`).
ROUTING_RANDOM = 0
ROUTING_LEAST_OUTSTANDING = 1


@dataclass
class RequestRecords:
    """Columns of equal length; times in seconds from the start of the run."""

    arrival_s: np.ndarray
    variant: np.ndarray          # global variant index
    instance: np.ndarray         # per-run instance index, -1 when no instance was reached
    status: np.ndarray           # outcome codes above
    payload_bytes: np.ndarray
    service_s: np.ndarray        # model work drawn for the request
    start_s: np.ndarray          # start of service at a worker slot (of its first container)
    complete_s: np.ndarray       # when its last container finished it (its arrival when never served)
    model_latency_s: np.ndarray  # dispatch to container answer (or the timeout)
    overhead_s: np.ndarray
    response_s: np.ndarray       # when the client gets its answer
    active_instances: np.ndarray  # in-service instances of the variant at dispatch
    container: np.ndarray        # the container its TargetContainerHostname named (-1: none)
    source: np.ndarray           # the traffic source that sent it (its index in the experiment's traffic)
    # serverless flows only (None for instance-based ones): the cold start's duration (0 when warm),
    # counted in `overhead_s`, and the environment that served it (ENV_* codes)
    setup_s: np.ndarray | None = None
    environment: np.ndarray | None = None
    # multi-model flows only: the TargetModel's code (-1: none) and whether its model was loaded
    # (CACHE_* codes); `setup_s` then holds its wait for the model (ModelLoadingWaitTime)
    model: np.ndarray | None = None
    cache: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.arrival_s)

    def select(self, mask) -> "RequestRecords":
        """The records a boolean mask, an index array or a slice picks (shared arrays if it keeps all)."""
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and len(mask) == len(self) and mask.all():
            return self
        return RequestRecords(**{name: _pick(getattr(self, name), mask) for name in _NAMES})

    def by_variant(self, n_variants: int):
        """(variant index, its records in their original order) for each variant with records."""
        return self._grouped(self.variant, n_variants)

    def by_instance(self, n_instances: int):
        """(instance index, its records in their original order) for each instance reached."""
        return self._grouped(self.instance, n_instances)

    def _grouped(self, keys: np.ndarray, n_groups: int):
        order, groups = group_slices(keys, n_groups)
        if order is None:                      # one group: the same arrays
            yield groups[0][0], self
            return
        grouped = self.select(order)
        for index, rows in groups:
            yield index, grouped.select(rows)

    @classmethod
    def concat(cls, parts: list["RequestRecords"]) -> "RequestRecords":
        if len(parts) == 1:
            return parts[0]
        columns = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _NAMES
                   if name not in _SERVERLESS}
        for name, dtype in _SERVERLESS.items():
            if any(getattr(p, name) is not None for p in parts):
                columns[name] = np.concatenate([np.zeros(len(p), dtype) if getattr(p, name) is None
                                                else getattr(p, name) for p in parts])
        return cls(**columns)

    @classmethod
    def empty(cls) -> "RequestRecords":
        dtypes = {"variant": np.int32, "instance": np.int32, "status": np.int8, "active_instances": np.int32,
                  "container": np.int32, "source": np.int16}
        return cls(**{f.name: np.empty(0, dtypes.get(f.name, np.float64)) for f in fields(cls)
                      if f.name not in _SERVERLESS})


_NAMES = tuple(f.name for f in fields(RequestRecords))
#: The columns only serverless and multi-model flows have, and their types.
_SERVERLESS = {"setup_s": np.float64, "environment": np.int8, "model": np.int32, "cache": np.int8}


def _pick(column, mask):
    return None if column is None else column[mask]


@dataclass
class EnvironmentRecords:
    """Lifecycle events of serverless execution environments (cold starts, reaps, provisioned
    concurrency added and released), in no particular order: times in seconds from the run's start."""

    time_s: np.ndarray
    variant: np.ndarray      # global variant index (int32)
    kind: np.ndarray         # ENV_STARTED, ENV_REAPED, ENV_PROVISIONED_ADDED, ENV_RELEASED (int8)

    def __len__(self) -> int:
        return len(self.time_s)

    @classmethod
    def concat(cls, parts: list["EnvironmentRecords"]) -> "EnvironmentRecords":
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


@dataclass
class HopRecords:
    """One row per hop of a request through a container of a serial pipeline of several containers
    (what `ContainerLatency` needs): times in seconds from the start of the run."""

    variant: np.ndarray      # global variant index
    instance: np.ndarray
    container: np.ndarray    # the container's position in the variant's route
    arrival_s: np.ndarray    # when the request reached the container
    start_s: np.ndarray      # start of service at one of its worker slots
    complete_s: np.ndarray   # when the container answered

    def __len__(self) -> int:
        return len(self.arrival_s)

    def select(self, mask) -> "HopRecords":
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and len(mask) == len(self) and mask.all():
            return self
        return HopRecords(*(getattr(self, f.name)[mask] for f in fields(HopRecords)))

    @classmethod
    def concat(cls, parts: list["HopRecords"]) -> "HopRecords":
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def group_slices(keys: np.ndarray, n_groups: int):
    """(order, [(group, slice)]) for grouping rows by `keys` (integers from 0 to n_groups - 1): `order`
    sorts the rows stably by key (None when every key is the same: nothing to reorder), and each
    group with rows has its slice of the rows so ordered, groups ascending."""
    if len(keys) and 0 <= keys[0] < n_groups and (keys == keys[0]).all():
        return None, [(int(keys[0]), slice(0, len(keys)))]
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n_groups + 1))
    return order, [(index, slice(bounds[index], bounds[index + 1])) for index in range(n_groups)
                   if bounds[index] < bounds[index + 1]]


@dataclass
class CacheRecords:
    """Model cache events of multi-model instances, in no particular order: times in seconds from the
    run's start."""

    time_s: np.ndarray
    instance: np.ndarray     # int32
    model: np.ndarray        # int32: the model's code in its variant's population
    kind: np.ndarray         # int8: CACHE_* event kinds
    duration_s: np.ndarray   # float64 (0 for deletions)

    def __len__(self) -> int:
        return len(self.time_s)
