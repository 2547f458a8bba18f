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


def _rank_index(n: int, percentile: float) -> int:
    """0-based index of the nearest-rank percentile among n sorted values."""
    return min(max(1, math.ceil(percentile / 100.0 * n - 1e-9)), n) - 1


def nearest_rank(sorted_values: np.ndarray, percentile: float) -> float:
    return float(sorted_values[_rank_index(len(sorted_values), percentile)])


def summarize(values: np.ndarray, percentiles: list[float]):
    """(sample_count, sum, minimum, maximum, average, [percentiles]) of a non-empty array.

    The values come in a fixed order (responses by arrival), so the float sum is reproducible;
    percentiles select their ranks with a partial sort.
    """
    count = len(values)
    total = float(values.sum())
    ranks = [_rank_index(count, p) for p in percentiles]
    selected = np.partition(values, ranks) if ranks else values
    return (count, total, float(values.min()), float(values.max()), total / count,
            [float(selected[r]) for r in ranks])
