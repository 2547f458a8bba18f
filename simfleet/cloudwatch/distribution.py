"""The underlying values of one CloudWatch datapoint, kept so that coarser periods can be recomputed.

Where it sits: the aggregator turns each period's raw values into a `Distribution` (stored in
`metric_values.parquet`); queries merge the distributions of finer periods into the coarser
period they ask for and evaluate statistics on the result (`simfleet.cloudwatch.statistics`).

Representation. Like a PutMetricData datum, a datapoint keeps its values as distinct values with
counts; a datum may carry at most 150 distinct values [CW-API]. While a datapoint has at most
`EXACT_DISTINCT_LIMIT` distinct values they are stored exactly (`exact=True`). Beyond that the
values become an exponential histogram in the OpenTelemetry convention, the form in which
CloudWatch stores OpenTelemetry histograms: with ``base = 2**(2**-scale)``, bucket ``i`` holds the
values in ``(base**i, base**(i+1)]``, and zero has a bucket of its own. Each non-empty bucket is
stored as one value, its representative ``base**(i + 0.5)`` clamped into ``[minimum, maximum]``
(the representative lies well inside its bucket, so the bucket index can be recovered from it),
with the bucket's count. At the default scale 8 a representative is within 0.14 % of every value
of its bucket.

SampleCount, Sum, Minimum and Maximum are always kept exactly, whatever the representation.
Values must be finite and non-negative: every SageMaker metric is, and CloudWatch gives no
percentiles for data with negative values [CW-API].

Merging is exact in this sense: for any split of a value array into pieces, merging the pieces'
distributions gives the distribution of the whole array, bit for bit (the Sum up to rounding),
and merging is associative. A coarser period's statistics are therefore the same whether computed
from raw values or from stored finer datapoints.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = [
    "EXACT_DISTINCT_LIMIT", "DEFAULT_HISTOGRAM_SCALE", "MIN_HISTOGRAM_SCALE", "MAX_HISTOGRAM_SCALE",
    "Distribution", "bucket_index", "bucket_representative", "nearest_rank",
]

EXACT_DISTINCT_LIMIT = 150
DEFAULT_HISTOGRAM_SCALE = 8          # base 2**(2**-8): buckets ~0.27 % wide
#: The scales OpenTelemetry allows for exponential histograms.
MIN_HISTOGRAM_SCALE = -10
MAX_HISTOGRAM_SCALE = 20

# Distinct values in a strided sample above which the exact check is skipped (see `_exact_counts`).
_SAMPLE_SIZE = 2048
#: arrays of at most this many values are counted in Python by `from_values` (measured faster)
_SMALL = 64


# ---------------------------------------------------------------------------- bucket arithmetic

def _check_scale(scale) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)):
        raise ValueError(f"histogram scale {scale!r}: expected an integer")
    if not MIN_HISTOGRAM_SCALE <= scale <= MAX_HISTOGRAM_SCALE:
        raise ValueError(f"histogram scale {scale}: expected an integer from {MIN_HISTOGRAM_SCALE} "
                         f"to {MAX_HISTOGRAM_SCALE}")
    return int(scale)


_LOG_DIGITS = 80
_LN2 = decimal.Decimal(2).ln(decimal.Context(prec=_LOG_DIGITS))


def _index_by_decimal(value: float, scale: int) -> int:
    """Bucket index of one positive value that is not a power of two, with 80-digit logarithms.

    Used for the few values whose float logarithm lies too close to a bucket edge to trust.
    Such a value never equals an edge exactly (the edges are irrational there), and 80 digits
    put the logarithm far closer to its true value than any float comes to an edge.
    """
    ctx = decimal.Context(prec=_LOG_DIGITS)
    position = ctx.multiply(ctx.divide(decimal.Decimal(value).ln(ctx), _LN2), decimal.Decimal(2) ** scale)
    return int(position.to_integral_value(rounding=decimal.ROUND_CEILING)) - 1


def bucket_index(values: np.ndarray, scale: int = DEFAULT_HISTOGRAM_SCALE) -> np.ndarray:
    """Index ``i`` with ``base**i < v <= base**(i+1)``, ``base = 2**(2**-scale)``, for positive finite values.

    Exact for every float: powers of two and (for scale <= 0) every value are handled with integer
    arithmetic on the binary exponent; otherwise the float logarithm decides, and values within a
    safety margin of a bucket edge are re-decided with high-precision logarithms.
    """
    scale = _check_scale(scale)
    v = np.asarray(values, dtype=np.float64)
    if not (np.isfinite(v) & (v > 0)).all():
        raise ValueError("bucket_index: every value must be positive and finite (zero has its own bucket)")
    return _bucket_index(v, scale)


def _bucket_index(v: np.ndarray, scale: int) -> np.ndarray:
    """`bucket_index` of values known to be positive and finite, at a checked scale."""
    if scale <= 0:
        mantissa, exponent = np.frexp(v)          # v = mantissa * 2**exponent, mantissa in [0.5, 1)
        log2_floor = exponent.astype(np.int64) - 1
        power_of_two = mantissa == 0.5            # v == 2**(exponent - 1): log2(v) is an integer
        shift = -scale                            # edges at log2(v) = k * 2**shift, all integers
        return np.where(power_of_two, -((-log2_floor) >> shift) - 1, log2_floor >> shift)
    position = np.log2(v)
    position *= float(2 ** scale)                 # exact scaling by a power of two
    ceiling = np.ceil(position)
    # The float log2 is good to a few ulps; values whose position lies within a margin of 4096
    # times that of an integer (a bucket edge) are decided again below, exactly. One margin for
    # the whole array, from its largest |position|, only widens that set.
    largest = max(abs(float(position.min())), abs(float(position.max()))) if position.size else 0.0
    margin = 1e-9 + largest * 2.0 ** -40
    below = ceiling - position                    # distance to the edge above, in [0, 1)
    doubtful = np.flatnonzero((below < margin) | (below > 1.0 - margin))
    index = ceiling.astype(np.int64)
    index -= 1
    if len(doubtful):
        mantissa, exponent = np.frexp(v.flat[doubtful])
        for k, m, e in zip(doubtful, mantissa, exponent):
            if m == 0.5:                          # v == 2**(e - 1): log2(v) is an integer
                index.flat[k] = ((int(e) - 1) << scale) - 1
            else:
                index.flat[k] = _index_by_decimal(float(v.flat[k]), scale)
    return index


def bucket_representative(index: np.ndarray, scale: int = DEFAULT_HISTOGRAM_SCALE) -> np.ndarray:
    """``base**(i + 0.5)`` for each bucket index (not clamped), moved inside its bucket if rounding left it.

    Only subnormal buckets, where floats are sparse, ever need the move: the representative is
    then the float inside the bucket nearest to the rounded midpoint.
    """
    scale = _check_scale(scale)
    index = np.asarray(index, dtype=np.int64)
    with np.errstate(over="ignore", under="ignore"):
        reps = np.exp2((index + 0.5) * 2.0 ** -scale)
    reps = np.clip(reps, np.nextafter(0.0, 1.0), np.finfo(np.float64).max)
    wrong = np.flatnonzero(bucket_index(reps, scale) != index)
    for k in wrong:
        reps.flat[k] = _nudge_into_bucket(float(reps.flat[k]), int(index.flat[k]), scale)
    return reps


def _nudge_into_bucket(value: float, index: int, scale: int) -> float:
    """The float nearest to `value` whose bucket is `index` (steps float by float; a few at most)."""
    direction = None
    for _ in range(64):
        found = int(bucket_index(np.array([value]), scale)[0])
        if found == index:
            return value
        step = np.inf if found < index else 0.0
        if direction is not None and step != direction:        # stepped over the bucket: empty
            break
        direction = step
        value = float(np.nextafter(value, step))
    raise ValueError(f"histogram bucket {index} at scale {scale} holds no float near {value!r}")


# ------------------------------------------------------------------------------- ranks

def nearest_rank(p, n: int) -> int:
    """1-based nearest rank of percentile `p` among `n` values: ``max(1, ceil(p/100 * n))``.

    Computed exactly on the decimal that `p` spells (a float p is read as its shortest repr, so
    ``p=99.9`` means 999/10), so ranks never drift by a float rounding.
    """
    numerator, denominator = _percent_ratio(p)
    return max(1, -((-numerator * int(n)) // denominator))


def _percent_ratio(p) -> tuple[int, int]:
    """p/100 as (numerator, denominator) integers, checked to be from 0 to 1.

    Cached: a run asks for the same few percentiles for every datapoint.
    """
    if isinstance(p, (float, np.floating)):
        if math.isfinite(p):
            return _float_ratio(float(p))
    elif isinstance(p, (int, np.integer, Fraction)) and not isinstance(p, bool):
        return _exact_ratio(p)
    return _ratio(_as_fraction(p), p)


@functools.lru_cache(maxsize=256)
def _float_ratio(p: float) -> tuple[int, int]:
    return _ratio(_float_fraction(p), p)


@functools.lru_cache(maxsize=256)
def _exact_ratio(p) -> tuple[int, int]:
    return _ratio(Fraction(p), p)


def _ratio(fraction: Fraction, p) -> tuple[int, int]:
    if not 0 <= fraction <= 100:
        raise ValueError(f"percentile {p!r}: expected a number from 0 to 100")
    return fraction.numerator, fraction.denominator * 100


def _as_fraction(p) -> Fraction:
    if isinstance(p, Fraction):
        return p
    if isinstance(p, (float, np.floating)):
        if not math.isfinite(p):
            raise ValueError(f"percentile {p!r}: expected a number from 0 to 100")
        return _float_fraction(float(p))
    try:
        return Fraction(p)
    except (TypeError, ValueError):
        raise ValueError(f"percentile {p!r}: expected a number from 0 to 100") from None


@functools.lru_cache(maxsize=256)
def _float_fraction(p: float) -> Fraction:
    """The decimal a float spells, as a Fraction (cached: a run asks for the same few percentiles)."""
    return Fraction(repr(p))


# ------------------------------------------------------------------------------ the datapoint

def _group_counts(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, summed integer weights) — exact integer sums."""
    order = np.argsort(keys, kind="stable")
    keys, weights = keys[order], weights[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(weights, starts).astype(np.int64)


def _exact_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct values and counts if there are at most EXACT_DISTINCT_LIMIT of them, else None.

    Arrays no longer than the limit are sorted at once. Longer ones: a strided sample answers
    "too many" cheaply for continuous data; only arrays that may have few distinct values are
    counted, and sorted only when the sample missed some of their values.
    """
    if len(values) > EXACT_DISTINCT_LIMIT:
        sample = values[:: max(1, len(values) // _SAMPLE_SIZE)]
        # Continuous data shows more distinct values than the limit in a fraction of the sample
        # already (a part of the sample with too many means the sample has too many).
        if len(sample) > 4 * EXACT_DISTINCT_LIMIT and len(np.unique(sample[::4])) > EXACT_DISTINCT_LIMIT:
            return None
        distinct = np.unique(sample)
        if len(distinct) > EXACT_DISTINCT_LIMIT:
            return None
        if len(distinct) == 1 and (values == distinct[0]).all():   # a counter: every value the same
            return distinct, np.array([len(values)], np.int64)
        # Usually the sample has met every distinct value (counters, 0/1 indicators, gauges): then
        # each value's position among the sample's distinct values gives the counts without a sort.
        position = np.minimum(np.searchsorted(distinct, values), len(distinct) - 1)
        if (distinct[position] == values).all():
            counts = np.bincount(position, minlength=len(distinct))
            present = counts > 0
            return distinct[present], counts[present].astype(np.int64)
    ordered = np.sort(values)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if len(starts) > EXACT_DISTINCT_LIMIT:
        return None
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts.astype(np.int64)


def _histogram(indices: np.ndarray, counts: np.ndarray, zeros: int, minimum: float, maximum: float,
               scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Stored (values, counts) of a histogram: the zero bucket, then clamped representatives."""
    reps = np.clip(_representatives(indices, scale), minimum, maximum)
    if zeros:
        return np.concatenate(([0.0], reps)), np.concatenate(([zeros], counts)).astype(np.int64)
    return reps, counts.astype(np.int64)


#: per scale, (first index, `bucket_representative` of a run of consecutive indices from it on)
_REPRESENTATIVES: dict[int, tuple[int, np.ndarray]] = {}
_REPRESENTATIVES_MAX = 1 << 16


def _representatives(indices: np.ndarray, scale: int) -> np.ndarray:
    """`bucket_representative(indices, scale)`, read from a table of the indices met so far.

    A representative depends on its index and scale only, and a run meets the same few thousand
    buckets in every datapoint; the table holds a consecutive range, grown as needed (elementwise
    the same computation, so the same bits), up to `_REPRESENTATIVES_MAX` entries.
    """
    if len(indices) == 0:
        return bucket_representative(indices, scale)
    low, high = int(indices.min()), int(indices.max()) + 1
    first, table = _REPRESENTATIVES.get(scale, (low, np.empty(0)))
    new_first, new_end = min(first, low), max(first + len(table), high)
    if new_end - new_first > _REPRESENTATIVES_MAX:
        return bucket_representative(indices, scale)
    if new_first < first or new_end > first + len(table):
        grown = np.empty(new_end - new_first)
        grown[first - new_first: first - new_first + len(table)] = table
        try:
            for lo, hi in ((new_first, first), (first + len(table), new_end)):
                if hi > lo:
                    grown[lo - new_first: hi - new_first] = bucket_representative(np.arange(lo, hi), scale)
        except ValueError:  # a bucket in the range holds no float (the extremes of the float range)
            return bucket_representative(indices, scale)
        first, table = new_first, grown
        _REPRESENTATIVES[scale] = (first, table)
    return table[indices - first]


def _check_values(values: np.ndarray, what: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"{what}: every value must be finite (no NaN or infinity)")
    if (values < 0).any():
        raise ValueError(f"{what}: every value must be >= 0 (CloudWatch gives no percentiles "
                         f"for negative data)")


@dataclass(frozen=True, eq=False, slots=True)
class Distribution:
    """The values behind one datapoint: exact distinct values or an exponential histogram.

    Build one with `from_values` or `merge`; the constructor checks the invariants, so a
    distribution read back from a file is validated too. Arrays are read-only.
    Two distributions are equal when every field is, bit for bit (the Sum included).
    """

    count: int            # SampleCount
    total: float          # Sum
    minimum: float
    maximum: float
    values: np.ndarray    # float64, strictly ascending
    counts: np.ndarray    # int64, > 0, same length, counts.sum() == count
    exact: bool           # True: the distinct raw values. False: histogram bucket representatives
    scale: int

    def __post_init__(self) -> None:
        self._normalize()
        problem = self._problem()
        if problem:
            raise ValueError(f"invalid distribution: {problem}")

    def _normalize(self) -> None:
        set_ = object.__setattr__
        values = np.array(self.values, dtype=np.float64).reshape(-1) + 0.0   # -0.0 becomes 0.0
        counts = np.array(self.counts, dtype=np.int64).reshape(-1)
        values.flags.writeable = False
        counts.flags.writeable = False
        set_(self, "values", values)
        set_(self, "counts", counts)
        set_(self, "count", int(self.count))
        set_(self, "total", float(self.total))
        set_(self, "minimum", float(self.minimum))
        set_(self, "maximum", float(self.maximum))
        set_(self, "exact", bool(self.exact))
        set_(self, "scale", _check_scale(self.scale))

    @classmethod
    def _built(cls, count, total, minimum, maximum, values, counts, exact, scale) -> "Distribution":
        """A distribution that `from_values`, `from_distinct` or `merge` built, whose invariants hold
        by construction: the same fields as the constructor gives, without checking or copying them
        again (a run builds one per datapoint, and that cost as much as building a small one).

        `values` (float64, no -0.0) and `counts` (int64) must be new 1-D arrays that nothing else
        holds: they become the distribution's, read-only.
        """
        self = object.__new__(cls)
        values.flags.writeable = False
        counts.flags.writeable = False
        set_ = object.__setattr__
        set_(self, "count", int(count))
        set_(self, "total", float(total))
        set_(self, "minimum", float(minimum))
        set_(self, "maximum", float(maximum))
        set_(self, "values", values)
        set_(self, "counts", counts)
        set_(self, "exact", bool(exact))
        set_(self, "scale", scale)
        return self

    def _problem(self) -> str | None:
        values, counts = self.values, self.counts
        if len(values) == 0 or len(values) != len(counts):
            return "values and counts must be non-empty and of the same length"
        if not (np.isfinite(values).all() and (values >= 0).all()):
            return "values must be finite and >= 0"
        if len(values) > 1 and not (np.diff(values) > 0).all():
            return "values must be strictly ascending"
        if not (counts > 0).all() or int(counts.sum()) != self.count:
            return "counts must be positive and add up to count"
        if not (math.isfinite(self.total) and self.total >= 0):
            return "total must be finite and >= 0"
        if not 0 <= self.minimum <= values[0] or not values[-1] <= self.maximum < math.inf:
            return "minimum <= values <= maximum must hold"
        if self.exact and (values[0] != self.minimum or values[-1] != self.maximum):
            return "exact values must start at minimum and end at maximum"
        if self.exact and len(values) > EXACT_DISTINCT_LIMIT:
            return f"exact distributions hold at most {EXACT_DISTINCT_LIMIT} distinct values"
        return None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Distribution):
            return NotImplemented
        return (self.count == other.count and self.exact == other.exact and self.scale == other.scale
                and _same_float(self.total, other.total) and _same_float(self.minimum, other.minimum)
                and _same_float(self.maximum, other.maximum)
                and self.values.tobytes() == other.values.tobytes()
                and self.counts.tobytes() == other.counts.tobytes())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = "exact" if self.exact else f"histogram(scale={self.scale})"
        return (f"Distribution(count={self.count}, total={self.total!r}, minimum={self.minimum!r}, "
                f"maximum={self.maximum!r}, {kind}, {len(self.values)} values)")

    @property
    def average(self) -> float:
        return self.total / self.count

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_values(cls, values: np.ndarray, scale: int = DEFAULT_HISTOGRAM_SCALE) -> "Distribution":
        """The distribution of a non-empty array of finite, non-negative values.

        The Sum is ``values.sum()`` in the order given (pairwise summation, reproducible).
        """
        scale = _check_scale(scale)
        raw = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(raw) == 0:
            raise ValueError("no values: a datapoint needs at least one value")
        if len(raw) <= _SMALL:
            return cls._small(raw, scale)
        # the checks of `_check_values` read from the extremes (NaN propagates into both)
        minimum, maximum = float(raw.min()), float(raw.max())
        if not (math.isfinite(minimum) and math.isfinite(maximum)) or minimum < 0:
            _check_values(raw, "values")
        if minimum == 0:
            raw = raw + 0.0                       # -0.0 becomes 0.0
            minimum, maximum = 0.0, maximum + 0.0
        count, total = len(raw), float(raw.sum())
        distinct = _exact_counts(raw)
        if distinct is not None:
            return cls._built(count, total, minimum, maximum, distinct[0], distinct[1], True, scale)
        positive = raw[raw > 0] if minimum == 0 else raw
        zeros = count - len(positive)
        indices = _bucket_index(positive, scale)
        low, high = int(indices.min()), int(indices.max())
        if high - low <= 4 * len(indices) + 65536:
            per_bucket = np.bincount(indices - low, minlength=high - low + 1)
            present = np.flatnonzero(per_bucket)
            keys, counts = present + low, per_bucket[present]
        else:
            keys, counts = _group_counts(indices, np.ones(len(indices), dtype=np.int64))
        hist_values, hist_counts = _histogram(keys, counts, zeros, minimum, maximum, scale)
        return cls._built(count, total, minimum, maximum, hist_values, hist_counts, False, scale)

    @classmethod
    def _small(cls, raw: np.ndarray, scale: int) -> "Distribution":
        """`from_values` of at most `_SMALL` values (always exact), counted in Python: for a few
        values a dozen NumPy calls cost more than the work (utilization, instance counts and
        concurrency datapoints hold a few to a few dozen values)."""
        with np.errstate(over="ignore", invalid="ignore"):  # (+inf and -inf: refused just below)
            total = float(raw.sum())
        if not math.isfinite(total):          # a NaN or an infinity (or an overflowing sum)
            _check_values(raw, "values")
        ordered = sorted(raw.tolist())
        if ordered[0] < 0:
            _check_values(raw, "values")
        distinct, counts = [ordered[0] + 0.0], [1]           # + 0.0: -0.0 becomes 0.0 (only zero can be)
        for value in ordered[1:]:
            if value == distinct[-1]:
                counts[-1] += 1
            else:
                distinct.append(value)
                counts.append(1)
        return cls._built(len(ordered), total, distinct[0], distinct[-1], np.array(distinct),
                          np.array(counts, dtype=np.int64), True, scale)

    @classmethod
    def from_distinct(cls, values: np.ndarray, counts: np.ndarray, total: float,
                      scale: int = DEFAULT_HISTOGRAM_SCALE) -> "Distribution":
        """The exact distribution of raw values already counted: `values` distinct and strictly
        ascending (at most EXACT_DISTINCT_LIMIT, each finite and >= 0), `counts` > 0, and `total`
        the Sum of the raw values as `from_values` computes it.

        For callers that count values by construction (the aggregator counts outcome codes instead
        of summing 0/1 arrays); the result equals `from_values` of the raw values, bit for bit,
        when `total` does. Not re-validated, like the results of `from_values` and `merge`.
        """
        scale = _check_scale(scale)
        counts = np.array(counts, dtype=np.int64).reshape(-1)
        values = np.array(values, dtype=np.float64).reshape(-1) + 0.0    # a copy; -0.0 becomes 0.0
        return cls._built(int(counts.sum()), total, float(values[0]), float(values[-1]), values, counts, True, scale)

    @classmethod
    def merge(cls, parts: Sequence["Distribution"]) -> "Distribution":
        """The distribution of the union of the parts' values (all parts must share one scale).

        Stays exact when every part is exact and the union has at most EXACT_DISTINCT_LIMIT
        distinct values; otherwise every part's values are put into buckets and counts added.
        """
        parts = list(parts)
        if not parts:
            raise ValueError("no distributions to merge: a datapoint needs at least one value")
        if not all(isinstance(part, Distribution) for part in parts):
            raise ValueError("merge expects Distribution objects")
        scales = {part.scale for part in parts}
        if len(scales) != 1:
            raise ValueError(f"cannot merge distributions of different histogram scales {sorted(scales)}")
        scale = scales.pop()
        if len(parts) == 1:
            return parts[0]
        count = sum(part.count for part in parts)
        total = math.fsum(part.total for part in parts)
        minimum = min(part.minimum for part in parts)
        maximum = max(part.maximum for part in parts)
        values = np.concatenate([part.values for part in parts])
        counts = np.concatenate([part.counts for part in parts])
        if all(part.exact for part in parts):
            distinct, summed = _group_counts(values, counts)
            if len(distinct) <= EXACT_DISTINCT_LIMIT:
                return cls._built(count, total, minimum, maximum, distinct, summed, True, scale)
        positive = values > 0
        zeros = int(counts[~positive].sum())
        keys, summed = _group_counts(bucket_index(values[positive], scale), counts[positive])
        hist_values, hist_counts = _histogram(keys, summed, zeros, minimum, maximum, scale)
        return cls._built(count, total, minimum, maximum, hist_values, hist_counts, False, scale)

    # ------------------------------------------------------------------ queries

    def value_at_rank(self, rank: int) -> float:
        """The `rank`-th smallest stored value (1-based, counting repeats), e.g. rank 1 = minimum."""
        if not 1 <= rank <= self.count:
            raise ValueError(f"rank {rank}: expected 1 to {self.count}")
        position = int(np.searchsorted(np.cumsum(self.counts), rank, side="left"))
        return float(self.values[position])

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile: the smallest stored value whose cumulative count reaches
        ``ceil(p/100 * count)`` (rank at least 1), for p from 0 to 100.

        On exact data this is the nearest-rank percentile of the raw values; on a histogram it is
        the representative of the bucket holding that raw value.
        """
        return self.value_at_rank(nearest_rank(p, self.count))

    def percentiles(self, ps: Sequence[float]) -> list[float]:
        """`percentile` for several p at once (one cumulative sum)."""
        cumulative = np.cumsum(self.counts)
        ranks = np.array([nearest_rank(p, self.count) for p in ps], dtype=np.int64)
        return [float(x) for x in self.values[np.searchsorted(cumulative, ranks, side="left")]]


def _same_float(a: float, b: float) -> bool:
    return np.float64(a).tobytes() == np.float64(b).tobytes()
