"""Closed-loop users of one endpoint: who is active, when each sends next, and the draws they consume.

The population is the Python side of `engine.kernels.closed_loop`: it owns the per-user arrays
the kernel updates (next send time, active flag, TargetVariant), fills the draw buffers from the
run's named streams (the same streams open-loop traffic uses for variant choice, overhead,
service, routing and model errors, plus the source's own payload and think-time streams), and
changes the number of users when the engine tells it to. Users are numbered in the order they are
added; removing users deactivates the most recently added ones, which then send nothing more.
"""

from __future__ import annotations

import numpy as np

from simfleet.config.experiment import ClosedLoopTraffic
from simfleet.engine.kernels.closed_loop import STOP_UNTIL, closed_loop_batch
from simfleet.request_records import RequestRecords
from simfleet.rng import BLOCK, BufferedDraws, RandomStreams

__all__ = ["UserPopulation"]

#: Requests collected per kernel call; only bounds memory per call.
OUTPUT_CAPACITY = 65_536


class UserPopulation:
    """The users of one closed-loop traffic source and their next sends."""

    def __init__(self, spec: ClosedLoopTraffic, endpoint_name: str, variants, name: str, streams: RandomStreams,
                 endpoint_streams: dict[str, BufferedDraws], variant_streams: list[dict[str, BufferedDraws]],
                 overhead_per_kb: float, max_payload: float, timeout: float):
        self.endpoint_name = endpoint_name
        self.target_variant = spec.target_variant
        self.knots = spec.knots()
        local = {v.variant_name: k for k, v in enumerate(variants)}
        self._target = -1 if spec.target_variant is None else local[spec.target_variant]
        weights = np.array([v.weight for v in variants], dtype=np.float64)
        self.cumulative = np.cumsum(weights) / weights.sum()
        self.variant_ids = np.array([v.index for v in variants], dtype=np.int64)
        self.error_rate = np.array([v.model_error_rate for v in variants], dtype=np.float64)
        self.payload_time_per_kb = np.array([v.entry.payload_time_per_kb_s for v in variants], dtype=np.float64)
        self.overhead_per_kb, self.max_payload, self.timeout = overhead_per_kb, max_payload, timeout
        payload, think = spec.payload.build(), spec.think_time.build()
        self._endpoint_sources = [endpoint_streams["choice"], endpoint_streams["overhead"],
                                  streams.draws(f"{name}/payload", payload.sample),
                                  streams.draws(f"{name}/think", think.sample)]
        self._variant_sources = [[s["service"], s["route"], s["error"]] for s in variant_streams]
        self.endpoint_draws = np.empty((4, BLOCK))
        self.cursor_endpoint = np.array([BLOCK], dtype=np.int64)  # empty: filled before the first request
        self.variant_draws = np.empty((len(variants), 3, BLOCK))
        self.cursor_variant = np.full(len(variants), BLOCK, dtype=np.int64)
        self.user_next = np.empty(0)
        self.user_active = np.empty(0, dtype=np.bool_)
        self.user_variant = np.empty(0, dtype=np.int64)

    @property
    def active_users(self) -> int:
        return int(self.user_active.sum())

    def set_users(self, count: int, now: float) -> None:
        """Add users (their first send is `now`) or deactivate the most recently added ones."""
        active = np.flatnonzero(self.user_active)
        if count > len(active):
            added = count - len(active)
            self.user_next = np.append(self.user_next, np.full(added, float(now)))
            self.user_active = np.append(self.user_active, np.ones(added, dtype=np.bool_))
            self.user_variant = np.append(self.user_variant, np.full(added, self._target, dtype=np.int64))
        elif count < len(active):
            self.user_active[active[count:]] = False

    def dispatch_until(self, plane, until: float) -> RequestRecords | None:
        """Every send before `until`, routed and queued on `plane`, as records in send order."""
        parts = []
        while True:
            self._refill()
            columns, count, reason = closed_loop_batch(plane, until, self, OUTPUT_CAPACITY)
            if count:
                parts.append(columns)
            if reason == STOP_UNTIL:
                break  # otherwise STOP_BUFFER or STOP_OUTPUT: refill, collect, go on
        if not parts:
            return None
        joined = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
        response = joined["arrival_s"] + joined["model_latency_s"] + joined["overhead_s"]
        return RequestRecords(response_s=response, **joined)

    def _refill(self) -> None:
        if self.cursor_endpoint[0] >= BLOCK:
            for row, source in enumerate(self._endpoint_sources):
                self.endpoint_draws[row] = source.take(BLOCK)
            self.cursor_endpoint[0] = 0
        for local, sources in enumerate(self._variant_sources):
            if self.cursor_variant[local] >= BLOCK:
                for row, source in enumerate(sources):
                    self.variant_draws[local, row] = source.take(BLOCK)
                self.cursor_variant[local] = 0
