"""Per-minute counts of what serverless environments did, for `events.parquet`.

A cold start, a reap or a throttle per row would make the event log grow with the traffic; the
log gets instead one `ServerlessActivity` row per serverless variant per minute in which anything
happened: the minute's cold starts (`ENV_STARTED`), reaps (`ENV_REAPED`), provisioned environments
added and released, throttled requests (by arrival) and spillovers (by arrival). Rows are dated at
the end of their minute (when the counts are complete, so the log stays in time order) and give
the minute's start in `window_start_s`.

This is the metrics layer's part (counting); the engine, which owns the event log, takes the rows
`close(t)` returns at each tick of its metric clock and writes them (the metrics package never
imports the engine, tests/test_layering.py). A record that comes in after its minute was written
(none should: the engine hands over everything before t before it closes t) is counted in a
second row for that minute rather than lost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from simfleet.fleet import Fleet
from simfleet.metrics.serverless_gauges import codes_in
from simfleet.request_records import (ENV_PROVISIONED_ADDED, ENV_REAPED, ENV_RELEASED, ENV_SPILLOVER_COLD,
                                      ENV_SPILLOVER_WARM, ENV_STARTED, THROTTLED, EnvironmentRecords, RequestRecords)

__all__ = ["ServerlessActivity", "ActivityRow", "ACTIVITY_EVENT", "WINDOW_S", "COUNTS"]

ACTIVITY_EVENT = "ServerlessActivity"
WINDOW_S = 60
#: The counts of a row, in the order they are written.
COUNTS = ("cold_starts", "reaps", "provisioned_added", "provisioned_released", "throttles", "spillovers")
_KIND_COUNT = {ENV_STARTED: 0, ENV_REAPED: 1, ENV_PROVISIONED_ADDED: 2, ENV_RELEASED: 3}


@dataclass(frozen=True)
class ActivityRow:
    """One variant's activity in [window_start_s, time_s): a minute, or the part of the last one in the run."""

    time_s: float
    window_start_s: float
    endpoint_name: str
    variant_name: str
    counts: dict[str, int]

    @property
    def detail(self) -> dict:
        return {"window_start_s": self.window_start_s, "window_s": self.time_s - self.window_start_s, **self.counts}


class ServerlessActivity:
    """Counts per (variant, minute) until the minute is closed (`counts_names`: a row's counts, a
    subclass may count others: `metrics.model_cache_activity`)."""

    counts_names = COUNTS

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        self.serverless = frozenset(v.index for v in fleet.variants if v.serverless is not None)
        self._counts: dict[tuple[int, int], np.ndarray] = defaultdict(
            lambda: np.zeros(len(self.counts_names), np.int64))

    def _count(self, variant: np.ndarray, time_s: np.ndarray, column) -> None:
        """Count each record in its (variant, minute)'s `column` (one column, or one per record)."""
        if not len(time_s):
            return
        minute = np.floor(np.asarray(time_s) / WINDOW_S).astype(np.int64)
        stride = len(self.fleet.variants)
        width = len(self.counts_names)
        # one key per (minute, variant, column)
        keys, n = np.unique((minute * stride + variant.astype(np.int64)) * width + column, return_counts=True)
        for key, count in zip(keys.tolist(), n.tolist()):
            cell = key // width
            self._counts[(cell % stride, cell // stride)][key % width] += count

    def add(self, records: RequestRecords) -> None:
        """Throttles and spillovers of a dispatched batch, by arrival."""
        if not self.serverless or not len(records):
            return
        throttled = records.status == THROTTLED
        self._count(records.variant[throttled], records.arrival_s[throttled], COUNTS.index("throttles"))
        if records.environment is not None:
            spilled = codes_in(records.environment, (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD))
            self._count(records.variant[spilled], records.arrival_s[spilled], COUNTS.index("spillovers"))

    def add_environment(self, records: EnvironmentRecords) -> None:
        for kind, column in _KIND_COUNT.items():
            mine = records.kind == kind
            self._count(records.variant[mine], records.time_s[mine], column)

    def close(self, t: float, end_s: float | None = None) -> list[ActivityRow]:
        """The rows of every minute ending at or before `t`, in time order then variant order;
        with `end_s` (the run's end) every minute left, the last cut at `end_s`."""
        ready = sorted((m, v) for v, m in self._counts if end_s is not None or (m + 1) * WINDOW_S <= t + 1e-9)
        rows = []
        for minute, index in ready:
            counts = self._counts.pop((index, minute))
            if end_s is not None and minute * WINDOW_S >= end_s:
                continue  # after the run (a reap scheduled past its end): not part of it
            variant = self.fleet.variants[index]
            end = float((minute + 1) * WINDOW_S)
            rows.append(ActivityRow(end if end_s is None else max(min(end, end_s), float(minute * WINDOW_S)),
                                    float(minute * WINDOW_S), variant.endpoint_name, variant.variant_name,
                                    dict(zip(self.counts_names, map(int, counts)))))
        return rows

    def flush(self, end_s: float) -> list[ActivityRow]:
        """Every minute still open at the run's end `end_s` (the last one cut there; records after
        the end are dropped)."""
        return self.close(end_s, end_s)
