"""Open-loop traffic sources: arrival times, payload sizes and target containers, served segment by segment.

Each source owns its random streams and serves `take_until(t)`: every arrival in
[previous t, t) with its payload size and, where the source names containers, its
`TargetContainerHostname` (`Arrivals.hostnames`). The sequence does not depend on how time is
cut, which is what makes the segmented engine equal to a one-shot run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simfleet.config.experiment import OpenLoopTraffic, ReplayTraffic
from simfleet.errors import InputError
from simfleet.rng import BLOCK, RandomStreams
from simfleet.traffic.hostnames import TargetHostnames
from simfleet.traffic.rate import RateFunction
from simfleet.traffic.trace_file import read_trace, trace_hostnames, trace_models, trace_times

__all__ = ["Arrivals", "TargetHostnames", "TrafficSource", "RateDrivenSource", "ReplaySource", "build_source"]


@dataclass
class Arrivals:
    times: np.ndarray  # seconds from the start of the run, non-decreasing
    payload_bytes: np.ndarray
    # Each request's TargetContainerHostname, or None when the source names no container at all
    # (then no request does: nothing per request is built). See `TargetHostnames`.
    hostnames: TargetHostnames | None = None
    # Each request's TargetModel (names and codes as for hostnames), or None when the source names
    # none: a multi-model variant then draws each request's model by its population's popularity.
    models: TargetHostnames | None = None


class TrafficSource:
    """What the engine asks of any open-loop source."""

    endpoint_name: str
    target_variant: str | None
    target_container_hostname: str | None  # the source's fixed TargetContainerHostname, if any
    target_model: str | None               # the source's fixed TargetModel, if any
    target_inference_component: str | None  # the source's InferenceComponentName, if any

    def take_until(self, t: float) -> Arrivals:  # pragma: no cover
        raise NotImplementedError

    def expected_arrivals(self, begin: float, end: float) -> float:  # pragma: no cover
        """Arrivals expected in [begin, end) (what the engine sizes its batches by; draws nothing)."""
        raise NotImplementedError


class RateDrivenSource(TrafficSource):
    """Arrivals at Λ⁻¹ of unit-rate points: Poisson (exponential gaps) or evenly spaced (k − ½)."""

    def __init__(self, spec: OpenLoopTraffic, endpoint_name: str, duration_s: float,
                 streams: RandomStreams, name: str):
        self.endpoint_name = endpoint_name
        self.target_variant = spec.target_variant
        self.target_container_hostname = spec.target_container_hostname
        self.target_model = spec.target_model
        self.target_inference_component = spec.target_inference_component
        knots = [(0.0, spec.rate)] if spec.rate is not None else [tuple(k) for k in spec.schedule]
        self.rate = RateFunction.build(knots, spec.interpolation,
                                       [(b.start, b.duration, b.extra_rate) for b in spec.bursts])
        self.duration_s = duration_s
        self.poisson = spec.kind == "poisson"
        self._gaps = streams.draws(f"{name}/arrivals", lambda rng, n: rng.standard_exponential(n))
        self._payload = _payload_draws(spec, streams, name)
        self._points = np.empty(0)
        self._last_point = 0.0 if self.poisson else -0.5
        self._exhausted = False

    def _refill(self) -> None:
        if self.poisson:
            points = self._last_point + np.cumsum(self._gaps.take(BLOCK))
        else:
            points = self._last_point + np.arange(1, BLOCK + 1, dtype=np.float64)
        self._last_point = float(points[-1])
        times = self.rate.invert(points)
        beyond = times >= self.duration_s
        if beyond.any():
            times = times[: int(np.argmax(beyond))]
            self._exhausted = True
        self._points = np.concatenate((self._points, times))

    def expected_arrivals(self, begin: float, end: float) -> float:
        begin, end = min(begin, self.duration_s), min(end, self.duration_s)
        return self.rate.integral(end) - self.rate.integral(begin) if end > begin else 0.0

    def take_until(self, t: float) -> Arrivals:
        t = min(t, self.duration_s)
        while not self._exhausted and (len(self._points) == 0 or self._points[-1] < t):
            self._refill()
        count = int(np.searchsorted(self._points, t, side="left"))
        times, self._points = self._points[:count], self._points[count:]
        return Arrivals(times, self._payload.take(count), _fixed(self.target_container_hostname, count),
                        _fixed(self.target_model, count))


class ReplaySource(TrafficSource):
    """Request timestamps (and optionally payload sizes and container hostnames) read from a CSV or
    Parquet file."""

    def __init__(self, spec: ReplayTraffic, endpoint_name: str, duration_s: float, start_epoch_s: float,
                 base_dir: Path, streams: RandomStreams, name: str, key: str):
        self.endpoint_name = endpoint_name
        self.target_variant = spec.target_variant
        self.target_container_hostname = spec.target_container_hostname
        self.target_model = spec.target_model
        self.target_inference_component = spec.target_inference_component
        path = base_dir / spec.file
        table = read_trace(path)
        for column in (spec.time_column, spec.payload_column, spec.target_container_hostname_column,
                       spec.target_model_column):
            if column is not None and column not in table.columns:
                raise InputError.single(path, f"no column {column!r} (columns: {', '.join(map(str, table.columns))})",
                                        f"{key}.file")
        times = trace_times(table[spec.time_column], start_epoch_s, path, f"{key}.time_column") + spec.time_offset
        keep = (times >= 0) & (times < duration_s)
        order = np.argsort(times[keep], kind="stable")
        self._times = times[keep][order]
        if spec.payload_column is not None:
            import pandas as pd  # only replayed traces need it (importing pandas takes ~0.3 s)

            payload = pd.to_numeric(table[spec.payload_column], errors="coerce").to_numpy(np.float64)
            if not np.all(np.isfinite(payload)) or np.any(payload < 0):
                raise InputError.single(path, "payload sizes must be finite, non-negative byte counts",
                                        f"{key}.payload_column")
            self._payloads = payload[keep][order]
            self._payload = None
        else:
            self._payloads = None
            self._payload = _payload_draws(spec, streams, name)
        self._hostnames = None
        if spec.target_container_hostname_column is not None:
            names, codes = trace_hostnames(path, spec.target_container_hostname_column,
                                           f"{key}.target_container_hostname_column")
            self._hostnames = TargetHostnames(names, codes[keep][order])
        self._models = None
        if spec.target_model_column is not None:
            names, codes = trace_models(path, spec.target_model_column, f"{key}.target_model_column")
            self._models = TargetHostnames(names, codes[keep][order])
        self._position = 0

    def expected_arrivals(self, begin: float, end: float) -> float:
        return float(np.searchsorted(self._times, end, side="left") - np.searchsorted(self._times, begin, side="left"))

    def take_until(self, t: float) -> Arrivals:
        end = int(np.searchsorted(self._times, t, side="left"))
        times = self._times[self._position:end]
        if self._payloads is not None:
            payload = self._payloads[self._position:end]
        else:
            payload = self._payload.take(end - self._position)
        if self._hostnames is not None:
            hostnames = self._hostnames.take(self._position, end)
        else:
            hostnames = _fixed(self.target_container_hostname, end - self._position)
        if self._models is not None:
            models = self._models.take(self._position, end)
        else:
            models = _fixed(self.target_model, end - self._position)
        self._position = end
        return Arrivals(times, payload, hostnames, models)


def _fixed(hostname: str | None, count: int) -> TargetHostnames | None:
    return None if hostname is None else TargetHostnames.fixed(hostname, count)


def _payload_draws(spec, streams: RandomStreams, name: str):
    distribution = spec.payload.build()
    return streams.draws(f"{name}/payload", distribution.sample)


def build_source(spec, endpoint_name: str, index: int, duration_s: float, start_epoch_s: float,
                 base_dir: Path, streams: RandomStreams) -> TrafficSource:
    name = f"traffic/{index}"
    if isinstance(spec, ReplayTraffic):
        return ReplaySource(spec, endpoint_name, duration_s, start_epoch_s, base_dir, streams, name,
                            f"traffic[{index}]")
    return RateDrivenSource(spec, endpoint_name, duration_s, streams, name)
