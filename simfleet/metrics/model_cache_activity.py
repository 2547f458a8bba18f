"""Per-minute counts of what the model caches of multi-model variants did, for `events.parquet`.

A download, a load or a miss per row would make the event log grow with the traffic; the log gets
instead one `ModelCacheActivity` row per multi-model variant per minute in which anything happened:
the minute's downloads, loads, unloads and deletions (by their start), downloads and loads given up
at the load limit (`downloads_abandoned`, `loads_abandoned`: `CACHE_DOWNLOAD_ABANDONED`,
`CACHE_LOAD_ABANDONED`, also by their start, so the rows add up to the run totals of
`metrics.model_cache_totals`; `downloads` and `loads` count the completed ones), misses (requests
that waited for their model, `CACHE_MISS`) and `ModelNotReadyException`s (429), both by arrival. Rows
are dated and cut as `ServerlessActivity` rows are (`metrics.serverless_activity`, whose counting
this reuses): at the end of their minute, the last one at the run's end; events at or after the
end are dropped. Cache events carry their instance: `instance_variant()` gives the run's instance
→ variant map when they come in.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from simfleet.fleet import Fleet
from simfleet.metrics.serverless_activity import ServerlessActivity
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_UNLOAD, MODEL_NOT_READY, CacheRecords,
                                      RequestRecords)

__all__ = ["ModelCacheActivity", "ACTIVITY_EVENT", "COUNTS"]

ACTIVITY_EVENT = "ModelCacheActivity"
#: The counts of a row, in the order they are written.
COUNTS = ("downloads", "loads", "unloads", "deletions", "downloads_abandoned", "loads_abandoned", "misses",
          "model_not_ready")
_KIND_COUNT = {CACHE_DOWNLOAD: 0, CACHE_LOAD: 1, CACHE_UNLOAD: 2, CACHE_DELETE: 3, CACHE_DOWNLOAD_ABANDONED: 4,
               CACHE_LOAD_ABANDONED: 5}
#: The column of each kind of cache event (by its code; -1: not counted).
_COLUMN = np.full(max(_KIND_COUNT) + 1, -1, np.int64)
_COLUMN[list(_KIND_COUNT)] = list(_KIND_COUNT.values())


class ModelCacheActivity(ServerlessActivity):
    """Counts per (multi-model variant, minute) until the minute is closed."""

    counts_names = COUNTS
    event = ACTIVITY_EVENT

    def __init__(self, fleet: Fleet, instance_variant: Callable[[], np.ndarray]):
        super().__init__(fleet)
        self.multi_model = frozenset(v.index for v in fleet.variants if v.multi_model is not None)
        self.instance_variant = instance_variant

    def add(self, records: RequestRecords) -> None:
        """Misses and 429s of a dispatched batch, by arrival."""
        if not self.multi_model or not len(records):
            return
        if records.cache is not None:
            miss = records.cache == CACHE_MISS
            self._count(records.variant[miss], records.arrival_s[miss], COUNTS.index("misses"))
        refused = records.status == MODEL_NOT_READY
        self._count(records.variant[refused], records.arrival_s[refused], COUNTS.index("model_not_ready"))

    def add_cache(self, records: CacheRecords) -> None:
        if not self.multi_model or not len(records):
            return
        variant = self.instance_variant()[records.instance]
        column = _COLUMN[records.kind]
        counted = column >= 0
        self._count(variant[counted], records.time_s[counted], column[counted])
