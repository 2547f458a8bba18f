"""Whole-run figures per variant for `summary.json`: counts, latency, throughput, Little's law.

Kept in constant memory: counts and sums are exact; run-level latency percentiles come from a
log-spaced histogram (200 bins per decade from 1 µs to 10⁴ s, so a reported percentile is the
upper edge of its bin: at most 1.2 % above the exact value). Per-period percentiles in
`metrics.parquet` come from each datapoint's `Distribution` (exact up to 150 distinct values).
"""

from __future__ import annotations

import numpy as np

from simfleet.engine.records import RequestRecords
from simfleet.metrics.emission import REACHED_CONTAINER, STATUS_NAMES, status_in

__all__ = ["LatencyHistogram", "VariantTotals", "RunTotals", "ExactSum"]

class ExactSum:
    """A running sum in integer units of `resolution` (1 ns for seconds), exact in any order.

    Floating-point sums depend on how values are grouped, and the engine groups requests by
    segment; an integer sum makes the totals independent of the segmentation, byte for byte.
    """

    def __init__(self, resolution: float = 1e-9):
        self.resolution = resolution
        self._units = 0

    def add(self, values: np.ndarray) -> None:
        if len(values):
            units = np.round(np.asarray(values, dtype=np.float64) / self.resolution).astype(np.int64)
            self._units += int(units.sum(dtype=np.int64))

    @property
    def value(self) -> float:
        return self._units * self.resolution


class LatencyHistogram:
    BINS_PER_DECADE = 200
    LOW_S, HIGH_S = 1e-6, 1e4

    def __init__(self):
        decades = np.log10(self.HIGH_S / self.LOW_S)
        self.edges = self.LOW_S * 10 ** (np.arange(int(decades * self.BINS_PER_DECADE) + 1) / self.BINS_PER_DECADE)
        self.counts = np.zeros(len(self.edges) + 1, np.int64)  # [below LOW, bins..., above HIGH]

    def add(self, seconds: np.ndarray) -> None:
        # Bin j holds (edges[j-1], edges[j]]: j = ceil(log10(x / LOW) · bins per decade), clipped.
        with np.errstate(divide="ignore"):
            position = np.ceil(np.log10(np.asarray(seconds) / self.LOW_S) * self.BINS_PER_DECADE)
        index = np.clip(np.nan_to_num(position, neginf=0.0), 0, len(self.edges)).astype(np.int64)
        # One step of correction where rounding in the logarithm crossed an edge.
        seconds = np.asarray(seconds)
        index -= (index > 0) & (seconds <= self.edges[np.maximum(index - 1, 0)])
        index += (index < len(self.edges)) & (seconds > self.edges[np.minimum(index, len(self.edges) - 1)])
        self.counts += np.bincount(index, minlength=len(self.counts))

    def percentile(self, p: float) -> float | None:
        total = int(self.counts.sum())
        if total == 0:
            return None
        rank = max(1, int(np.ceil(p / 100 * total - 1e-9)))
        index = int(np.searchsorted(np.cumsum(self.counts), rank, side="left"))
        return float(self.edges[min(index, len(self.edges) - 1)])


class VariantTotals:
    def __init__(self):
        self.status_counts = np.zeros(len(STATUS_NAMES), np.int64)
        self.e2e = LatencyHistogram()
        self.e2e_sum_s = ExactSum()
        self.model_latency_sum_s = ExactSum()
        self.queue_wait_sum_s = ExactSum()
        self.answered = 0

    def add(self, records: RequestRecords) -> None:
        self.status_counts += np.bincount(records.status, minlength=len(STATUS_NAMES))
        reached = status_in(records.status, REACHED_CONTAINER)
        e2e = (records.response_s - records.arrival_s)[reached]
        self.e2e.add(e2e)
        self.e2e_sum_s.add(e2e)
        self.model_latency_sum_s.add(records.model_latency_s[reached])
        self.queue_wait_sum_s.add((records.start_s - records.arrival_s)[reached])
        self.answered += int(reached.sum())


class RunTotals:
    """Per-variant totals plus the Little's-law terms of the whole run."""

    def __init__(self, n_variants: int, duration_s: float):
        self.duration_s = duration_s
        self.variants = [VariantTotals() for _ in range(n_variants)]
        self.arrivals = 0
        self.sojourn_sum_s = ExactSum()        # Σ (response − arrival) over every arrival
        self.sojourn_in_window_s = ExactSum()  # Σ |[arrival, response) ∩ [0, duration)|

    def add(self, records: RequestRecords) -> None:
        if not len(records):
            return
        for index, mine in records.by_variant(len(self.variants)):
            self.variants[index].add(mine)
        sojourn = records.response_s - records.arrival_s
        self.arrivals += len(records)
        self.sojourn_sum_s.add(sojourn)
        self.sojourn_in_window_s.add(np.minimum(records.response_s, self.duration_s) - records.arrival_s)

    def end_early(self, end_s: float, unfinished: RequestRecords) -> None:
        """The run ends at `end_s`, before its duration: clip the sojourns of the requests still in
        the system then (`unfinished`, every request answered at or after `end_s`) at the new end,
        as if the run had been that long from the start."""
        arrival, response = unfinished.arrival_s, unfinished.response_s
        self.sojourn_in_window_s.add(np.minimum(response, end_s) - arrival)
        self.sojourn_in_window_s.add(-(np.minimum(response, self.duration_s) - arrival))
        self.duration_s = end_s

    def littles_law(self) -> dict:
        """L (time-average requests in the system) against λ·W over the run."""
        rate = self.arrivals / self.duration_s
        mean_sojourn = self.sojourn_sum_s.value / self.arrivals if self.arrivals else 0.0
        in_system = self.sojourn_in_window_s.value / self.duration_s
        return {"arrival_rate_per_s": rate, "mean_time_in_system_s": mean_sojourn,
                "mean_requests_in_system": in_system, "lambda_times_w": rate * mean_sojourn}
