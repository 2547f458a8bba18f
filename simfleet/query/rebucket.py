"""Re-bucketing stored datapoints into a query's period, and the statistics of each bucket.

Sits between the store (stored datapoints of one metric stream, at the stream's period) and the
operations (GetMetricStatistics / GetMetricData). CloudWatch's rules [CW-API]:

* the query period is 1, 5, 10, 20, 30, 60 or any multiple of 60 seconds; simfleet also requires it
  to be a multiple of the stream's stored period, since a stored datapoint cannot be split;
* StartTime is rounded down: to an even 5/10/20/30-second division of the minute (whole second for
  a 1-second period) for sub-minute periods, otherwise to the whole minute when it lies less than 15
  days before "now", to 5 minutes between 15 and 63 days, to the hour beyond. simfleet answers every
  query as if it were made at the end of the run, so "now" is the end of the run's window;
* buckets are [start + k·period, start + (k+1)·period); StartTime is inclusive, EndTime exclusive; a
  stored datapoint belongs to the bucket that holds its timestamp (the start of its period), which
  is how CloudWatch files a datum published with a timestamp;
* Sum, SampleCount, Minimum and Maximum combine exactly (sum, sum, min, max); Average is
  ΣSum / ΣSampleCount, never an average of averages; every other statistic (percentiles, trimmed and
  winsorized means, PR, TC, TS) is evaluated on the merge of the bucket's stored distributions;
* a bucket without samples has no datapoint.

Not emulated: retention and roll-up (CloudWatch keeps sub-minute data 3 hours, 1-minute data 15
days, …); every stored datapoint stays queryable at its stored period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simfleet.cloudwatch.distribution import Distribution
from simfleet.cloudwatch.statistics import Statistic

__all__ = ["Buckets", "HIGH_RESOLUTION_PERIODS", "valid_period", "align_start", "bucket_count", "rebucket",
           "statistic_values", "MINUTE_MS"]

HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
MINUTE_MS = 60_000
_DAY_MS = 86_400_000


def valid_period(period_s: int) -> bool:
    """CloudWatch's allowed periods: 1, 5, 10, 20, 30, or any multiple of 60 seconds [CW-API]."""
    return period_s in HIGH_RESOLUTION_PERIODS or (period_s > 0 and period_s % 60 == 0)


def align_start(start_ms: int, period_s: int, now_ms: int) -> int:
    """StartTime rounded down as CloudWatch does [CW-API]; `now_ms` is when the query is made."""
    if period_s < 60:
        granularity = period_s * 1000
    else:
        age = now_ms - start_ms
        granularity = MINUTE_MS if age < 15 * _DAY_MS else 5 * MINUTE_MS if age < 63 * _DAY_MS else 60 * MINUTE_MS
    return start_ms - start_ms % granularity


def bucket_count(start_ms: int, end_ms: int, period_s: int) -> int:
    """How many periods [start, end) spans (the last one may be partial): CloudWatch's 'datapoints requested'."""
    span = max(0, end_ms - start_ms)
    return -(-span // (period_s * 1000))


@dataclass(frozen=True)
class Buckets:
    """The non-empty query periods of one metric stream, ascending by timestamp."""

    timestamps_ms: np.ndarray      # bucket starts
    sample_count: np.ndarray       # int64
    sum: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    rows: tuple[np.ndarray, ...]   # the stored rows of each bucket

    def __len__(self) -> int:
        return len(self.timestamps_ms)


def rebucket(rows: np.ndarray, timestamps_ms: np.ndarray, sample_count: np.ndarray, sums: np.ndarray,
             minimum: np.ndarray, maximum: np.ndarray, start_ms: int, end_ms: int, period_s: int) -> Buckets:
    """Group the stored rows `rows` (indices into the column arrays, sorted by timestamp) into periods
    of `period_s` starting at `start_ms` (already aligned), keeping rows with start <= t < end."""
    t = timestamps_ms[rows]
    keep = (t >= start_ms) & (t < end_ms) & (sample_count[rows] > 0)
    rows, t = rows[keep], t[keep]
    if len(rows) == 0:
        empty = np.empty(0, dtype=np.int64)
        return Buckets(empty, empty, np.empty(0), np.empty(0), np.empty(0), ())
    index = (t - start_ms) // (period_s * 1000)
    firsts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    return Buckets(
        timestamps_ms=start_ms + index[firsts] * period_s * 1000,
        sample_count=np.add.reduceat(sample_count[rows], firsts),
        sum=np.add.reduceat(sums[rows], firsts),
        minimum=np.minimum.reduceat(minimum[rows], firsts),
        maximum=np.maximum.reduceat(maximum[rows], firsts),
        rows=tuple(np.split(rows, firsts[1:])),
    )


_BASIC = {
    "SampleCount": lambda b: b.sample_count.astype(np.float64),
    "Sum": lambda b: b.sum,
    "Minimum": lambda b: b.minimum,
    "Maximum": lambda b: b.maximum,
    "Average": lambda b: b.sum / b.sample_count,
}


def statistic_values(buckets: Buckets, statistic: Statistic,
                     distribution: Callable[[int], Distribution]) -> np.ndarray:
    """One value per bucket; NaN where CloudWatch returns no value (e.g. TM bounds that hold no value).

    The five basic statistics come from the stored columns; the others merge the stored
    distributions of the bucket's rows (`distribution(row)`) and evaluate the statistic on that.
    """
    basic = _BASIC.get(statistic.text)
    if basic is not None:
        return np.asarray(basic(buckets), dtype=np.float64)
    out = np.full(len(buckets), np.nan)
    for i, rows in enumerate(buckets.rows):
        parts = [distribution(int(r)) for r in rows]
        merged = parts[0] if len(parts) == 1 else Distribution.merge(parts)
        value = statistic.evaluate(merged)
        if value is not None:
            out[i] = value
    return out
