"""Naive reference statistics, computed with NumPy straight from raw values by their documented
definitions (CloudWatch's statistics: nearest-rank percentiles, trimmed means, percentile ranks),
never from the program's output."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def nearest_rank_value(values, p) -> float:
    """The nearest-rank percentile of `values`, with the rank ceil(p/100 * n) computed exactly on the
    decimal `p` spells (numpy's `inverted_cdf` computes it in floats: 99.9 % of 2000 comes out as
    rank 1999, not 1998)."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    rank = max(1, math.ceil(Fraction(repr(float(p))) * len(ordered) / 100))
    return float(ordered[rank - 1])


def naive_statistic(raw: np.ndarray, stat: str) -> float | None:
    """A CloudWatch statistic (`SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum`, `pNN`, `tmNN`,
    `PR(low:high)`) of the raw values."""
    raw = np.asarray(raw, dtype=np.float64)
    if stat == "SampleCount":
        return float(len(raw))
    if stat == "Sum":
        return float(raw.sum())
    if stat == "Average":
        return float(raw.sum() / len(raw))
    if stat == "Minimum":
        return float(raw.min())
    if stat == "Maximum":
        return float(raw.max())
    if stat.startswith("p"):
        return nearest_rank_value(raw, float(stat[1:]))
    if stat.startswith("tm"):                      # TM(:NN%): the lowest NN % of the data points
        ordered = np.sort(raw)
        kept = ordered[:max(1, math.ceil(Fraction(stat[2:]) * len(ordered) / 100))]
        return float(kept.mean())
    if stat.startswith("PR(") and stat.endswith(")"):
        low, high = stat[3:-1].split(":")
        inside = np.ones(len(raw), dtype=bool)
        if low:
            inside &= raw > float(low)
        if high:
            inside &= raw <= float(high)
        return 100.0 * inside.sum() / len(raw)
    raise AssertionError(f"no naive reference for {stat}")
