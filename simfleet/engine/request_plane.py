"""The request plane's state: stations (containers' worker pools and queues), instances and routes.

Owned by the engine, mutated only by the request kernel (`kernels.flow`: requests) and by the
control plane (instances launched, entering or leaving service). Everything is a flat NumPy array
(struct of arrays) indexed by a per-run instance or station number, so kernels take it as-is and
later station kinds add arrays, not objects. Rows are allocated by doubling: a launch copies the
arrays only when they are full, not on every launch.

An instance of a variant holds one station per container of the variant's route, numbered
consecutively from `first_station`: one for a real-time endpoint's model, 2–15 for an inference
pipeline or a multi-container endpoint; a multi-model variant whose models have their own worker
pools (`worker_arrangement = "per_model"`) holds one per model of its population, by model code.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from simfleet.engine.kernels.flow import Routes, Stations

__all__ = ["RequestPlane"]


class RequestPlane:
    """Worker slots, job queues and routing tables of every instance in a run."""

    def __init__(self, strategies: Sequence[int], containers: Sequence[int] | None = None,
                 direct: Sequence[bool] | None = None, stations: Sequence[int] | None = None):
        """`strategies`: each variant's routing code; `containers`: the containers of its route (1 by
        default); `direct`: whether its requests name their container; `stations`: the stations on
        each of its instances (by default one per container)."""
        self.strategy = np.asarray(strategies, dtype=np.int8)
        self.n_variants = len(strategies)
        self.containers = np.asarray(containers if containers is not None else [1] * self.n_variants, np.int64)
        self.stations_per_instance = np.asarray(stations if stations is not None else self.containers, np.int64)
        self.direct = np.asarray(direct if direct is not None else [False] * self.n_variants, np.bool_)
        self.pools = None  # EnvironmentPools of the run's serverless variants (engine.environment_pools), if any
        self.caches = None  # ModelCaches of the run's multi-model variants (engine.model_caches), if any
        self.n_instances = 0
        self.n_stations = 0
        self._instance_variant = np.empty(0, np.int32)
        self._in_service = np.empty(0, np.bool_)
        self._first_station = np.empty(0, np.int64)
        self._inflight = np.empty(0, np.int64)
        self._workers = np.empty(0, np.int32)
        self._queue_limit = np.empty(0, np.int64)
        self._slot_free = np.empty((0, 1))
        self._slot_accum = np.empty((0, 1))
        self._q_start = np.empty((0, 1))
        self._q_head = np.empty(0, np.int64)
        self._q_len = np.empty(0, np.int64)
        self._rebuild_members()

    # -- views --------------------------------------------------------------------------------------
    @property
    def instance_variant(self) -> np.ndarray:
        return self._instance_variant[: self.n_instances]

    @property
    def in_service(self) -> np.ndarray:
        return self._in_service[: self.n_instances]

    @property
    def first_station(self) -> np.ndarray:
        return self._first_station[: self.n_instances]

    def routes(self) -> Routes:
        return Routes(self.strategy, self.member_ptr, self.members, self._first_station, self.containers,
                      self.direct, self._inflight)

    def stations(self) -> Stations:
        return Stations(self._workers, self._queue_limit, self._slot_free, self._slot_accum, self._q_start,
                        self._q_head, self._q_len)

    # -- control plane ------------------------------------------------------------------------------
    def add_instance(self, variant: int, workers: int | Sequence[int], queue_limit: int | Sequence[int],
                     in_service: bool = True) -> int:
        """Append an instance (idle, empty queues); returns its index.

        `workers` and `queue_limit` are per station of the variant (one number: the same for each).
        """
        n_containers = int(self.stations_per_instance[variant])
        workers = np.broadcast_to(np.asarray(workers, np.int64), (n_containers,))
        queue_limit = np.broadcast_to(np.asarray(queue_limit, np.int64), (n_containers,))
        self._reserve_instances(self.n_instances + 1)
        self._reserve_stations(self.n_stations + n_containers, int(workers.max()), int(queue_limit.max()))
        index, first = self.n_instances, self.n_stations
        self._instance_variant[index] = variant
        self._in_service[index] = in_service
        self._first_station[index] = first
        self._inflight[index] = 0
        rows = slice(first, first + n_containers)
        self._workers[rows] = workers
        self._queue_limit[rows] = queue_limit
        self._slot_free[rows] = np.inf  # slots beyond `workers` stay at +inf: never the earliest
        for row, count in zip(range(first, first + n_containers), workers):
            self._slot_free[row, :count] = 0.0
        self._slot_accum[rows] = 0.0
        self._q_head[rows] = 0
        self._q_len[rows] = 0
        self.n_instances += 1
        self.n_stations += n_containers
        if self.caches is not None and variant in self.caches.cache_of:
            self.caches.add_instance(index, variant)
        self._rebuild_members()
        return index

    def set_in_service(self, index: int, in_service: bool) -> None:
        """Put an instance into routing or take it out; its accepted requests are unaffected.

        The caller advances the request plane to the current time first, so the change applies to
        exactly the arrivals from now on.
        """
        self._in_service[index] = in_service
        self._rebuild_members()

    def idle_at(self, index: int) -> float | None:
        """When the instance finishes the last request it accepted (0 when it never had one), or
        None while a request routed to it still has containers ahead of it (not known yet).

        FIFO with known service times: its busiest slot's free time, queued requests included.
        """
        return None if self._inflight[index] > 0 else self.busy_until(index)

    def busy_until(self, index: int) -> float:
        """When the instance's containers finish the work assigned to them so far (0: none ever)."""
        first = self._first_station[index]
        latest = 0.0
        for row in range(first, first + int(self.stations_per_instance[self._instance_variant[index]])):
            free = self._slot_free[row, : self._workers[row]]
            if len(free):
                latest = max(latest, float(free.max()))
        return latest

    def _rebuild_members(self) -> None:
        """Per-variant lists of in-service instances, as CSR arrays (`member_ptr`, `members`)."""
        variant, serving = self.instance_variant, self.in_service
        members = [np.flatnonzero((variant == v) & serving) for v in range(self.n_variants)]
        self.member_ptr = np.zeros(self.n_variants + 1, np.int64)
        self.member_ptr[1:] = np.cumsum([len(m) for m in members])
        self.members = (np.concatenate(members) if members else np.empty(0)).astype(np.int64)

    # -- observations -------------------------------------------------------------------------------
    def busy_integral(self, t: float) -> np.ndarray:
        """Per instance: worker-seconds of service performed in [0, t), over all its containers."""
        per_station = self.station_busy_integral(t).sum(axis=1)
        return np.add.reduceat(per_station, self.first_station) if self.n_instances else np.zeros(0)

    def station_busy_integral(self, t: float) -> np.ndarray:
        """Per station and worker slot: seconds of service performed in [0, t).

        Exact when every event before t has been taken and none after: a slot's assigned intervals
        then leave no idle gap after t, so the part of its work still ahead is max(0, free time − t).
        """
        free = self._slot_free[: self.n_stations]
        ahead = np.where(np.isfinite(free), np.maximum(free - t, 0.0), 0.0)
        return self._slot_accum[: self.n_stations] - ahead

    # -- growth -------------------------------------------------------------------------------------
    def _reserve_instances(self, needed: int) -> None:
        if needed <= len(self._instance_variant):
            return
        size = max(needed, 2 * len(self._instance_variant), 4)
        self._instance_variant = _resized(self._instance_variant, size, 0)
        self._in_service = _resized(self._in_service, size, False)
        self._first_station = _resized(self._first_station, size, 0)
        self._inflight = _resized(self._inflight, size, 0)

    def _reserve_stations(self, needed: int, width: int, depth: int) -> None:
        rows = len(self._workers)
        old_width, old_depth = self._slot_free.shape[1], self._q_start.shape[1]
        if needed <= rows and width <= old_width and depth <= old_depth:
            return
        size = max(needed, 2 * rows, 4) if needed > rows else rows
        width, depth = max(width, old_width), max(depth, old_depth)
        self._workers = _resized(self._workers, size, 0)
        self._queue_limit = _resized(self._queue_limit, size, 0)
        self._q_head = _resized(self._q_head, size, 0)
        self._q_len = _resized(self._q_len, size, 0)
        slot_free = np.full((size, width), np.inf)
        slot_free[:rows, :old_width] = self._slot_free
        slot_accum = np.zeros((size, width))
        slot_accum[:rows, :old_width] = self._slot_accum
        self._slot_free, self._slot_accum = slot_free, slot_accum
        if depth == old_depth:
            self._q_start = _resized(self._q_start, size, 0.0)
        else:  # a deeper ring: unwrap each so that it starts at column 0
            q_start = np.zeros((size, depth))
            for row in range(self.n_stations):
                order = (self._q_head[row] + np.arange(self._q_len[row])) % old_depth
                q_start[row, : self._q_len[row]] = self._q_start[row, order]
            self._q_head[: self.n_stations] = 0
            self._q_start = q_start


def _resized(array: np.ndarray, size: int, fill) -> np.ndarray:
    """`array` with `size` rows: its rows first, then rows of `fill`."""
    out = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    out[: len(array)] = array
    return out
