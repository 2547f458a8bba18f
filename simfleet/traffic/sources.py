"""Open-loop traffic sources: arrival times and payload sizes, served segment by segment.

Each source owns its random streams and serves `take_until(t)`: every arrival in
[previous t, t) with its payload size. The sequence does not depend on how time is cut, which
is what makes the segmented engine equal to a one-shot run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from simfleet.config.experiment import OpenLoopTraffic, ReplayTraffic
from simfleet.errors import InputError
from simfleet.rng import BLOCK, RandomStreams
from simfleet.traffic.rate import RateFunction

__all__ = ["Arrivals", "TrafficSource", "RateDrivenSource", "ReplaySource", "build_source"]


@dataclass
class Arrivals:
    times: np.ndarray  # seconds from the start of the run, non-decreasing
    payload_bytes: np.ndarray


class TrafficSource:
    """What the engine asks of any open-loop source."""

    endpoint_name: str
    target_variant: str | None

    def take_until(self, t: float) -> Arrivals:  # pragma: no cover
        raise NotImplementedError


class RateDrivenSource(TrafficSource):
    """Arrivals at Λ⁻¹ of unit-rate points: Poisson (exponential gaps) or evenly spaced (k − ½)."""

    def __init__(self, spec: OpenLoopTraffic, endpoint_name: str, duration_s: float,
                 streams: RandomStreams, name: str):
        self.endpoint_name = endpoint_name
        self.target_variant = spec.target_variant
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

    def take_until(self, t: float) -> Arrivals:
        t = min(t, self.duration_s)
        while not self._exhausted and (len(self._points) == 0 or self._points[-1] < t):
            self._refill()
        count = int(np.searchsorted(self._points, t, side="left"))
        times, self._points = self._points[:count], self._points[count:]
        return Arrivals(times, self._payload.take(count))


class ReplaySource(TrafficSource):
    """Request timestamps (and optionally payload sizes) read from a CSV or Parquet file."""

    def __init__(self, spec: ReplayTraffic, endpoint_name: str, duration_s: float, start_epoch_s: float,
                 base_dir: Path, streams: RandomStreams, name: str, source: str):
        self.endpoint_name = endpoint_name
        self.target_variant = spec.target_variant
        path = base_dir / spec.file
        table = _read_trace(path, source)
        where = f"{path}"
        if spec.time_column not in table.columns:
            raise InputError.single(where, f"no column {spec.time_column!r} "
                                           f"(columns: {', '.join(map(str, table.columns))})", spec.time_column)
        times = _trace_times(table[spec.time_column], start_epoch_s, where, spec.time_column) + spec.time_offset
        keep = (times >= 0) & (times < duration_s)
        order = np.argsort(times[keep], kind="stable")
        self._times = times[keep][order]
        if spec.payload_column is not None:
            if spec.payload_column not in table.columns:
                raise InputError.single(where, f"no column {spec.payload_column!r}", spec.payload_column)
            payload = pd.to_numeric(table[spec.payload_column], errors="coerce").to_numpy(np.float64)
            if not np.all(np.isfinite(payload)) or np.any(payload < 0):
                raise InputError.single(where, "payload sizes must be finite, non-negative byte counts",
                                        spec.payload_column)
            self._payloads = payload[keep][order]
            self._payload = None
        else:
            self._payloads = None
            self._payload = _payload_draws(spec, streams, name)
        self._position = 0

    def take_until(self, t: float) -> Arrivals:
        end = int(np.searchsorted(self._times, t, side="left"))
        times = self._times[self._position:end]
        if self._payloads is not None:
            payload = self._payloads[self._position:end]
        else:
            payload = self._payload.take(end - self._position)
        self._position = end
        return Arrivals(times, payload)


def _payload_draws(spec, streams: RandomStreams, name: str):
    distribution = spec.payload.build()
    return streams.draws(f"{name}/payload", distribution.sample)


def _read_trace(path: Path, source: str) -> pd.DataFrame:
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            return pq.read_table(path).to_pandas()
        return pd.read_csv(path)
    except Exception as error:  # noqa: BLE001 - any reader failure is the user's file
        raise InputError.single(path, f"cannot read trace file (referenced from {source}): {error}") from None


def _trace_times(column: pd.Series, start_epoch_s: float, where: str, key: str) -> np.ndarray:
    """Seconds from the run start: numbers are offsets already; datetimes are absolute UTC."""
    if pd.api.types.is_numeric_dtype(column):
        times = column.to_numpy(np.float64)
    else:
        parsed = pd.to_datetime(column, utc=True, errors="coerce")
        if parsed.isna().any():
            bad = column[parsed.isna()].iloc[0]
            raise InputError.single(where, f"cannot read {bad!r} as a time (use seconds from the start, "
                                           "or ISO 8601 timestamps)", key)
        epoch = pd.Timestamp(0, tz="UTC")
        times = (parsed - epoch).dt.total_seconds().to_numpy(np.float64) - start_epoch_s
    if not np.all(np.isfinite(times)):
        raise InputError.single(where, "times must be finite numbers", key)
    return times


def build_source(spec, endpoint_name: str, index: int, duration_s: float, start_epoch_s: float,
                 base_dir: Path, streams: RandomStreams, source: str) -> TrafficSource:
    name = f"traffic/{index}"
    if isinstance(spec, ReplayTraffic):
        return ReplaySource(spec, endpoint_name, duration_s, start_epoch_s, base_dir, streams, name, source)
    return RateDrivenSource(spec, endpoint_name, duration_s, streams, name)
