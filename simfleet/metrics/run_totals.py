"""Whole-run figures per variant for `summary.json`: counts, latency, throughput, Little's law.

Kept in constant memory: counts and sums are exact; run-level latency percentiles come from a
log-spaced histogram (200 bins per decade from 1 µs to 10⁴ s, so a reported percentile is the
upper edge of its bin: at most 1.2 % above the exact value). Per-period percentiles in
`metrics.parquet` come from each datapoint's `Distribution` (exact up to 150 distinct values).
"""

from __future__ import annotations

import numpy as np

from simfleet.metrics.aggregation_kernels import accumulate_totals, histogram_lookup
from simfleet.request_records import RequestRecords
from simfleet.metrics.emission import REACHED_CONTAINER, STATUS_NAMES

__all__ = ["LatencyHistogram", "VariantTotals", "RunTotals", "ExactSum"]

_REACHED_TABLE = np.zeros(len(STATUS_NAMES), np.bool_)
_REACHED_TABLE[list(REACHED_CONTAINER)] = True


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

    def add_units(self, units: int) -> None:
        """Add a sum already in units (from a kernel that rounds each value as `add` does)."""
        self._units += int(units)

    @property
    def value(self) -> float:
        return self._units * self.resolution


class LatencyHistogram:
    BINS_PER_DECADE = 200
    # HIGH_S: about 3 years, above any latency a run of at most 31 days can give (a latency of 1e4 s,
    # the former bound, is reachable: a queue that grows for hours)
    LOW_S, HIGH_S = 1e-6, 1e8
    EDGES = LOW_S * 10 ** (np.arange(int(np.log10(HIGH_S / LOW_S) * BINS_PER_DECADE) + 1) / BINS_PER_DECADE)
    EDGES.flags.writeable = False

    def __init__(self, counts: np.ndarray | None = None):
        """Bin j of `counts` (length ``len(EDGES) + 1``) holds the latencies in (EDGES[j-1], EDGES[j]]
        (bin 0 everything up to LOW_S, the last everything above HIGH_S); `RunTotals` counts them
        with the compiled `accumulate_totals`."""
        self.edges = self.EDGES
        # [below LOW, bins..., above HIGH]
        self.counts = np.zeros(len(self.edges) + 1, np.int64) if counts is None else counts

    def percentile(self, p: float) -> float | None:
        total = int(self.counts.sum())
        if total == 0:
            return None
        rank = max(1, int(np.ceil(p / 100 * total - 1e-9)))
        index = int(np.searchsorted(np.cumsum(self.counts), rank, side="left"))
        if index >= len(self.edges):  # above HIGH_S: unknown, never clamped to HIGH_S
            return None
        return float(self.edges[index])


class VariantTotals:
    def __init__(self, status_counts: np.ndarray, histogram_counts: np.ndarray):
        """`status_counts` and `histogram_counts` are this variant's rows of the run's arrays."""
        self.status_counts = status_counts
        self.e2e = LatencyHistogram(histogram_counts)
        self.e2e_sum_s = ExactSum()
        self.model_latency_sum_s = ExactSum()
        self.queue_wait_sum_s = ExactSum()
        self.answered = 0


_LOOKUP = histogram_lookup(LatencyHistogram.EDGES)


class RunTotals:
    """Per-variant totals plus the Little's-law terms of the whole run.

    Each batch is one pass of the compiled `accumulate_totals` (outcome counts and histogram bins
    into the arrays below, nanosecond-unit sums returned per batch and added here in Python ints).
    """

    def __init__(self, n_variants: int, duration_s: float):
        self.duration_s = duration_s
        self._status_counts = np.zeros((n_variants, len(STATUS_NAMES)), np.int64)
        self._histograms = np.zeros((n_variants, len(LatencyHistogram.EDGES) + 1), np.int64)
        self.variants = [VariantTotals(self._status_counts[v], self._histograms[v]) for v in range(n_variants)]
        self.arrivals = 0
        self.sojourn_sum_s = ExactSum()        # Σ (response − arrival) over every arrival
        self.sojourn_in_window_s = ExactSum()  # Σ |[arrival, response) ∩ [0, duration)|

    def add(self, records: RequestRecords) -> None:
        if not len(records):
            return
        unit_sums, sojourn_units = accumulate_totals(
            records, _REACHED_TABLE, self.duration_s, LatencyHistogram.EDGES, _LOOKUP, self._status_counts,
            self._histograms)
        for totals, (e2e, model_latency, queue_wait, answered) in zip(self.variants, unit_sums.tolist()):
            totals.e2e_sum_s.add_units(e2e)
            totals.model_latency_sum_s.add_units(model_latency)
            totals.queue_wait_sum_s.add_units(queue_wait)
            totals.answered += answered
        self.arrivals += len(records)
        self.sojourn_sum_s.add_units(int(sojourn_units[0]))
        self.sojourn_in_window_s.add_units(int(sojourn_units[1]))

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
