"""The CloudWatch metrics only multi-model variants publish (reference §1.4), from their request
records and their instances' cache events.

Part of the metrics layer, beside `metrics.aggregator`, which feeds it and publishes what it
returns. Every one of them is published at the standard 1-minute period (the catalog's `standard`),
with the dimensions ``EndpointName, VariantName`` (per-model metrics are not supported for MMEs):

* per request, in the period its response falls in: `ModelCacheHit`, 1 for a request whose model
  was loaded at its arrival (`CACHE_HIT`), 0 for one that waited (`CACHE_MISS`), none for a request
  that reached no cache (`CACHE_NONE`: an unknown TargetModel, a request refused before an
  instance), so its Average is the hit ratio; `ModelLoadingWaitTime`, one sample in microseconds
  per request that waited (`CACHE_MISS` with `setup_s` > 0), a `ModelNotReadyException` (429)
  included with its wait up to the limit; none on a hit (DESIGN §4);
* per cache event: `ModelDownloadingTime`, `ModelLoadingTime`, `ModelUnloadingTime`, one sample in
  microseconds per download, load or unload (its duration), **in the period its event ends**
  (time + duration: when the container would report it). AWS does not say when they are
  published; an event that ends after the run is never published. **They count completed
  downloads and loads only** (simfleet's choice; AWS does not say): a download or a load given up
  at the load limit (`CACHE_DOWNLOAD_ABANDONED`, `CACHE_LOAD_ABANDONED`, `[multi_model] load_timeout`
  after the request that started it) never finished, so it is not a `ModelDownloadingTime` or
  `ModelLoadingTime` datapoint (its memory and disk still count in the host metrics while it lasted,
  `metrics.model_cache_gauges`; the run totals count it apart, `metrics.model_cache_totals`);
* per instance: `LoadedModelCount` (namespace ``/aws/sagemaker/Endpoints``), one value per
  in-service instance per period (AWS: "emitted per instance", so Sum adds the instances):
  **the mean of the instance's loaded models at the period's sample instants** (every
  `metrics.concurrency_sample_interval`, as the other sampled gauges), each count read from the
  cache events (`metrics.model_cache_gauges`).
"""

from __future__ import annotations

import math

import numpy as np

from simfleet.cloudwatch.distribution import Distribution
from simfleet.fleet import VariantRuntime
from simfleet.metrics.model_cache_gauges import LOADED, CacheOccupancy, cache_steps, sample_times
from simfleet.request_records import (CACHE_DOWNLOAD, CACHE_HIT, CACHE_LOAD, CACHE_MISS, CACHE_NONE, CACHE_UNLOAD,
                                      CacheRecords, RequestRecords)

__all__ = ["EVENT_METRICS", "request_values", "ModelCacheMetrics", "waited"]

#: The duration metric of each kind of cache event (a deletion has none, nor has a download or a load
#: given up at the load limit: only completed ones are datapoints).
EVENT_METRICS = {CACHE_DOWNLOAD: "ModelDownloadingTime", CACHE_LOAD: "ModelLoadingTime",
                 CACHE_UNLOAD: "ModelUnloadingTime"}
_ONE = np.array([1.0])
_ZERO_ONE = np.array([0.0, 1.0])


def waited(cache: np.ndarray, setup_s: np.ndarray) -> np.ndarray:
    """The requests that waited for their model (one `ModelLoadingWaitTime` sample each)."""
    return (cache == CACHE_MISS) & (setup_s > 0)


def request_values(cache: np.ndarray, setup_s: np.ndarray, scale: int):
    """(metric name, unit, Distribution) of the per-request multi-model metrics of one variant's
    requests answered in one period (see the module docstring)."""
    out = []
    hits = int((cache == CACHE_HIT).sum())
    reached = hits + int((cache == CACHE_MISS).sum())
    if reached:
        if hits == 0:
            dist = Distribution.from_distinct(_ZERO_ONE[:1], [reached], 0.0, scale)
        elif hits == reached:
            dist = Distribution.from_distinct(_ONE, [reached], float(reached), scale)
        else:
            dist = Distribution.from_distinct(_ZERO_ONE, [reached - hits, hits], float(hits), scale)
        out.append(("ModelCacheHit", "None", dist))
    wait = waited(cache, setup_s)
    if wait.any():
        out.append(("ModelLoadingWaitTime", "Microseconds", Distribution.from_values(setup_s[wait] * 1e6, scale)))
    return out


class ModelCacheMetrics:
    """One multi-model variant's pending requests and cache events, and its instances' loaded models,
    until the periods they fall in close."""

    def __init__(self, variant: VariantRuntime, sample_interval: float):
        self.variant = variant
        self.period_s = variant.plan.period_for("standard")
        self.sample_interval = sample_interval
        self._requests: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}   # period -> (cache, setup_s)
        self._events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []     # (end, kind, duration)
        self.loaded = CacheOccupancy()

    def add(self, records: RequestRecords) -> None:
        """This variant's dispatched requests (those that reached a cache are kept, by period)."""
        if records.cache is None:
            return
        mine = records.cache != CACHE_NONE
        if not mine.any():
            return
        period = np.floor(records.response_s[mine] / self.period_s).astype(np.int64)
        cache, setup = records.cache[mine], records.setup_s[mine]
        for key in np.unique(period).tolist():
            rows = period == key
            self._requests.setdefault(key, []).append((cache[rows], setup[rows]))

    def add_events(self, records: CacheRecords, steps=None) -> None:
        """This variant's cache events (`steps`: their `model_cache_gauges.cache_steps`, if the caller
        has them already)."""
        if not len(records):
            return
        timed = np.isin(records.kind, list(EVENT_METRICS))   # deletions and abandoned events have no datapoint
        if timed.any():
            self._events.append((records.time_s[timed] + records.duration_s[timed], records.kind[timed],
                                 records.duration_s[timed]))
        self.loaded.add_steps(cache_steps(records, self.variant.multi_model) if steps is None else steps)

    def close(self, t: float, members: np.ndarray, n_instances: int, scale: int):
        """(namespace, metric, unit, Distribution) of the period ending at `t` (`members`: the
        variant's in-service instances then)."""
        out = []
        closed = math.floor(round(t) / self.period_s)
        parts = [part for key in sorted(k for k in self._requests if k < closed) for part in self._requests.pop(key)]
        if parts:
            cache = np.concatenate([p[0] for p in parts])
            setup = np.concatenate([p[1] for p in parts])
            out += [("AWS/SageMaker", *value) for value in request_values(cache, setup, scale)]
        if self._events:
            end, kind, duration = (np.concatenate(c) for c in zip(*self._events))
            now = end < t
            for code, metric in EVENT_METRICS.items():
                rows = now & (kind == code)
                if rows.any():
                    out.append(("AWS/SageMaker", metric, "Microseconds",
                                Distribution.from_values(duration[rows] * 1e6, scale)))
            later = ~now
            self._events = [(end[later], kind[later], duration[later])] if later.any() else []
        times = sample_times(t, self.period_s, self.sample_interval)
        levels = self.loaded.sample(times, t, n_instances)
        if len(members):
            counts = levels[members, :, LOADED].mean(axis=1)
            out.append(("/aws/sagemaker/Endpoints", "LoadedModelCount", "None", Distribution.from_values(counts, scale)))
        return out
