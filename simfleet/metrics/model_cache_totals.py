"""Whole-run figures of multi-model variants for `summary.json` and the sweep rows: how often a
request found its model loaded, how long the others waited, how often models moved.

Kept in constant memory (counts, `ExactSum`s, latency histograms), exact in any order of the batches:

* requests that reached a cache (`cache` ≠ CACHE_NONE), hits, misses; the requests that waited
  (a miss with `setup_s` > 0) and the sum of their waits (`ModelLoadingWaitTime`);
  `ModelNotReadyException`s (429), unknown TargetModels (400), no room in the cache (507);
* end-to-end latency (arrival to response) of the hits and of the misses that a container answered
  (`emission.REACHED_CONTAINER`: a 429 is counted apart, not as a miss's latency), in the
  histogram `RunTotals` uses;
* cache events **that start within the run** (time < its end): downloads, loads, unloads, deletions,
  and the downloads and loads given up at the load limit (`downloads_abandoned`, `loads_abandoned`:
  `CACHE_DOWNLOAD_ABANDONED`, `CACHE_LOAD_ABANDONED`, counted by their start as the others). The
  kernel records a download or a load either as completed or as abandoned, never both: `downloads`
  and `loads` count the ones that complete, so the downloads started in the run are `downloads +
  downloads_abandoned` (and likewise for loads).
  Cache events carry their instance, not their variant: `instance_variant()` gives the run's
  instance → variant map when they come in (every instance they name exists by then). A run that
  a watcher ends early keeps the events counted until then that start before its planned end
  (they are decided at most minutes ahead); its requests are counted as `RunTotals` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

from simfleet.fleet import Fleet
from simfleet.metrics.aggregation_kernels import accumulate_totals, histogram_lookup
from simfleet.metrics.emission import REACHED_CONTAINER, status_in
from simfleet.metrics.model_cache_metrics import waited
from simfleet.metrics.run_totals import ExactSum, LatencyHistogram
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_UNLOAD, MODEL_NOT_FOUND, MODEL_NOT_READY,
                                      NO_CACHE_ROOM, CacheRecords, RequestRecords)

__all__ = ["ModelCacheVariantTotals", "ModelCacheTotals", "add_latencies"]

#: The count of each kind of cache event, in the order `summary.json` writes them.
_EVENTS = {CACHE_DOWNLOAD: "downloads", CACHE_LOAD: "loads", CACHE_UNLOAD: "unloads", CACHE_DELETE: "deletions",
           CACHE_DOWNLOAD_ABANDONED: "downloads_abandoned", CACHE_LOAD_ABANDONED: "loads_abandoned"}


_LOOKUP = histogram_lookup(LatencyHistogram.EDGES)
_EVERY_STATUS = np.ones(256, np.bool_)


def add_latencies(histogram: LatencyHistogram, records: RequestRecords, rows: np.ndarray) -> None:
    """Add the end-to-end latency (response - arrival) of `records[rows]` into `histogram`, binned by
    the run totals' own compiled kernel (`aggregation_kernels.accumulate_totals`, one variant, every
    row counted), so the bins are the ones `RunTotals` uses."""
    if not rows.any():
        return
    picked = SimpleNamespace(variant=np.zeros(int(rows.sum()), np.int32), status=records.status[rows],
                             arrival_s=records.arrival_s[rows], start_s=records.start_s[rows],
                             model_latency_s=records.model_latency_s[rows], response_s=records.response_s[rows])
    accumulate_totals(picked, _EVERY_STATUS, np.inf, LatencyHistogram.EDGES, _LOOKUP,
                      np.zeros((1, 256), np.int64), histogram.counts[None, :])


@dataclass
class ModelCacheVariantTotals:
    """One multi-model variant's cache figures over the run."""

    reached: int = 0
    hits: int = 0
    misses: int = 0
    waited: int = 0
    model_not_ready: int = 0
    model_not_found: int = 0
    no_cache_room: int = 0
    wait_sum_s: ExactSum = field(default_factory=ExactSum)
    hit_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    miss_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    events: dict = field(default_factory=lambda: dict.fromkeys(_EVENTS.values(), 0))


class ModelCacheTotals:
    """The run's `ModelCacheVariantTotals`, one per multi-model variant (by variant index)."""

    def __init__(self, fleet: Fleet, duration_s: float, instance_variant: Callable[[], np.ndarray]):
        self.duration_s = duration_s
        self.instance_variant = instance_variant
        self.variants = {v.index: ModelCacheVariantTotals() for v in fleet.variants if v.multi_model is not None}

    def add(self, records: RequestRecords) -> None:
        """A dispatched batch (requests of other variants are ignored)."""
        if not self.variants or not len(records):
            return
        for index, mine in records.by_variant(int(records.variant.max()) + 1):
            if index in self.variants and mine.cache is not None:
                self._add(self.variants[index], mine)

    @staticmethod
    def _add(totals: ModelCacheVariantTotals, records: RequestRecords) -> None:
        cache, status = records.cache, records.status
        hit, miss = cache == CACHE_HIT, cache == CACHE_MISS
        totals.hits += int(hit.sum())
        totals.misses += int(miss.sum())
        totals.reached += int(hit.sum() + miss.sum())
        wait = waited(cache, records.setup_s)
        totals.waited += int(wait.sum())
        totals.wait_sum_s.add(records.setup_s[wait])
        totals.model_not_ready += int((status == MODEL_NOT_READY).sum())
        totals.model_not_found += int((status == MODEL_NOT_FOUND).sum())
        totals.no_cache_room += int((status == NO_CACHE_ROOM).sum())
        answered = status_in(status, REACHED_CONTAINER)
        add_latencies(totals.hit_latency, records, hit & answered)
        add_latencies(totals.miss_latency, records, miss & answered)

    def add_cache(self, records: CacheRecords) -> None:
        """Cache events (those starting at or after the run's end are not counted)."""
        if not self.variants or not len(records):
            return
        variant = self.instance_variant()[records.instance]
        inside = records.time_s < self.duration_s
        for index, totals in self.variants.items():
            mine = inside & (variant == index)
            if mine.any():
                for code, name in _EVENTS.items():
                    totals.events[name] += int((records.kind[mine] == code).sum())
