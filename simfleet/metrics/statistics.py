"""CloudWatch statistics of one period's raw values: SampleCount, Sum, Minimum, Maximum, Average, pNN.

Percentiles are computed from every raw value of the period (CloudWatch's rule: percentiles need
raw data), by the nearest-rank definition: pNN is the smallest value with at least NN % of the
values at or below it. CloudWatch does not document its interpolation; nearest rank always
returns a value that was observed and is what re-bucketing can reproduce exactly.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["summarize", "nearest_rank"]


def nearest_rank(sorted_values: np.ndarray, percentile: float) -> float:
    n = len(sorted_values)
    rank = max(1, math.ceil(percentile / 100.0 * n - 1e-9))
    return float(sorted_values[min(rank, n) - 1])


def summarize(values: np.ndarray, percentiles: list[float]):
    """(sample_count, sum, minimum, maximum, average, [percentiles]) of a non-empty array."""
    ordered = np.sort(values, kind="stable")
    total = float(ordered.sum())
    count = len(ordered)
    return (count, total, float(ordered[0]), float(ordered[-1]), total / count,
            [nearest_rank(ordered, p) for p in percentiles])
