"""The request plane's state: per-instance worker slots and queues, per-variant routing members.

Owned by the engine, mutated only by the dispatch kernel (requests) and by the control plane
(instances entering or leaving service). Everything is a flat NumPy array indexed by a per-run
instance number, so kernels take it as-is and later capabilities add arrays, not objects.
"""

from __future__ import annotations

import numpy as np

from simfleet.engine.kernels.dispatch import dispatch_batch

__all__ = ["RequestPlane"]


class RequestPlane:
    """Worker slots, job queues and routing tables of every instance in a run."""

    def __init__(self, strategies: list[int]):
        self.strategy = np.asarray(strategies, dtype=np.int8)
        self.n_variants = len(strategies)
        self.instance_variant = np.empty(0, np.int32)
        self.in_service = np.empty(0, np.bool_)
        self.n_workers = np.empty(0, np.int32)
        self.q_limit = np.empty(0, np.int64)
        self.slot_free = np.empty((0, 1))
        self.slot_accum = np.empty((0, 1))
        self.q_start = np.empty((0, 1))
        self.q_head = np.empty(0, np.int64)
        self.q_len = np.empty(0, np.int64)
        self._rebuild_members()

    @property
    def n_instances(self) -> int:
        return len(self.instance_variant)

    def add_instance(self, variant: int, workers: int, queue_limit: int, in_service: bool = True) -> int:
        """Append an instance (idle, empty queue); returns its index."""
        width = max(self.slot_free.shape[1], workers)
        depth = max(self.q_start.shape[1], queue_limit)
        self.slot_free = _grow(self.slot_free, width, np.inf)
        self.slot_accum = _grow(self.slot_accum, width, 0.0)
        self.q_start = _grow_ring(self.q_start, self.q_head, self.q_len, depth)
        self.q_head[:] = 0
        self.slot_free[-1, :workers] = 0.0  # slots beyond `workers` stay at +inf: never the earliest
        self.instance_variant = np.append(self.instance_variant, np.int32(variant))
        self.in_service = np.append(self.in_service, in_service)
        self.n_workers = np.append(self.n_workers, np.int32(workers))
        self.q_limit = np.append(self.q_limit, np.int64(queue_limit))
        self.q_head = np.append(self.q_head, np.int64(0))
        self.q_len = np.append(self.q_len, np.int64(0))
        self._rebuild_members()
        return self.n_instances - 1

    def set_in_service(self, index: int, in_service: bool) -> None:
        """Put an instance into routing or take it out; its accepted requests are unaffected.

        The caller advances the request plane to the current time first, so the change applies to
        exactly the arrivals from now on.
        """
        self.in_service[index] = in_service
        self._rebuild_members()

    def idle_at(self, index: int) -> float:
        """When the instance finishes the last request it accepted (0 when it never had one).

        FIFO with known service times: its busiest slot's free time, queued requests included.
        """
        free = self.slot_free[index, : self.n_workers[index]]
        return float(free.max()) if len(free) else 0.0

    def _rebuild_members(self) -> None:
        """Per-variant lists of in-service instances, as CSR arrays (`member_ptr`, `members`)."""
        members = [np.flatnonzero((self.instance_variant == v) & self.in_service) for v in range(self.n_variants)]
        self.member_ptr = np.zeros(self.n_variants + 1, np.int64)
        self.member_ptr[1:] = np.cumsum([len(m) for m in members])
        self.members = (np.concatenate(members) if members else np.empty(0)).astype(np.int64)

    def dispatch(self, times, variants, services, payloads, us, model_errors, max_payload, timeout):
        return dispatch_batch(self, times, variants, services, payloads, us, model_errors, max_payload, timeout)

    def busy_integral(self, t: float) -> np.ndarray:
        """Per instance: worker-seconds of service performed in [0, t) (see `slot_busy_integral`)."""
        return self.slot_busy_integral(t).sum(axis=1)

    def slot_busy_integral(self, t: float) -> np.ndarray:
        """Per instance and worker slot: seconds of service performed in [0, t).

        Exact when every arrival before t has been dispatched and none after: a slot's assigned
        intervals then leave no idle gap after t, so the part of its work still ahead is
        max(0, free time − t).
        """
        ahead = np.where(np.isfinite(self.slot_free), np.maximum(self.slot_free - t, 0.0), 0.0)
        return self.slot_accum - ahead


def _grow(array: np.ndarray, width: int, fill: float) -> np.ndarray:
    """One more row, and columns up to `width`."""
    rows, old_width = array.shape
    out = np.full((rows + 1, width), fill)
    out[:rows, :old_width] = array
    return out


def _grow_ring(rings: np.ndarray, heads: np.ndarray, lengths: np.ndarray, depth: int) -> np.ndarray:
    """One more ring, all rings `depth` deep and unwrapped so that each starts at column 0."""
    rows, old_depth = rings.shape
    out = np.zeros((rows + 1, depth))
    for row in range(rows):
        order = (heads[row] + np.arange(lengths[row])) % old_depth
        out[row, : lengths[row]] = rings[row, order]
    return out
