"""CloudWatch statistics of one datapoint's values, as CloudWatch defines and spells them [CW-STATS].

Where it sits: the datapoint buffer calls `datapoint_statistics` once per datapoint (the columns
of `metrics.parquet` from its `Distribution`); queries parse the statistics a request names with
`parse_statistic` and `evaluate` them on the (merged) distribution of each period.

Definitions [CW-STATS], over the n values of the period:

* ``SampleCount`` number of values; ``Sum`` their sum; ``Average`` = Sum / SampleCount;
  ``Minimum`` / ``Maximum`` the lowest / highest value.
* ``pNN`` (p0 to p100, e.g. ``p99.9``): NN % of the data lie at or below it. simfleet uses the
  nearest rank: the ``max(1, ceil(NN/100 · n))``-th smallest value, so p0 is the minimum and
  p100 the maximum (CloudWatch does not document its interpolation).
* Range statistics ``TM`` trimmed mean, ``WM`` winsorized mean, ``TC`` trimmed count, ``TS``
  trimmed sum (``TS = TM · TC``) and ``PR`` percentile rank take bounds ``(a:b)``:
  - absolute bounds (``TM(150:1000)``): the values v with ``a < v <= b`` — the lower bound is
    exclusive, the upper inclusive, for TM, TC, TS, WM and PR alike;
  - percentage bounds (``TM(10%:90%)``) trim data points by rank, as the page words it
    ("``TM(2%:98%)`` calculates the average after removing the 2% lowest data points and the 2%
    highest data points"): of the n values in ascending order, those ranked in
    ``(ceil(a/100 · n), max(1, ceil(b/100 · n))]`` are kept — the upper rank is pNN's nearest rank.
    ``TM(2%:98%)`` of 100 values keeps ranks 3 to 98, ``tm90`` the lowest 90 %, ``TS(80%:)`` the
    highest 20 %. Values tied across a bound are kept as many times as their ranks are inside;
    ten equal values keep 8 of them under ``TM(10%:90%)``;
  - either bound may be omitted (``TM(:95%)``, ``TS(80%:)``, ``PR(:300)``, ``PR(10:)``), not both;
    both bounds must be of one kind (percent or absolute), the lower below the upper; percentages
    run from 0 to 100; numbers have up to 10 decimals; PR takes absolute bounds only;
  - short forms ``tmNN``, ``wmNN``, ``tcNN``, ``tsNN`` mean ``TM(:NN%)`` etc. (``tm99`` ignores
    the highest 1 %); ``IQM`` is ``TM(25%:75%)``;
  - WM clamps instead of dropping: values below the lower bound count as the lower bound, values
    above the upper bound as the upper bound (``wm98``: the highest 2 % count as p98); for
    absolute bounds the bound value itself is the edge, for percentage bounds the values at the
    two ranks above (by rank or by value the result is the same);
  - PR is the percentage (0–100) of all n values inside the bounds (``PR(:300)``: share of values
    <= 300).
* Case: basic names as spelled above; ``p``, ``tm``, ``wm``, ``tc``, ``ts`` lower case with a single
  number; ``TM(...)``, ``WM(...)``, ``TC(...)``, ``TS(...)``, ``PR(...)`` and ``IQM`` upper case
  [CW-STATS]. Anything else is refused with a one-line ValueError naming the text.

When no value falls inside the bounds, TM has no value (``evaluate`` returns None, as CloudWatch
gives no datapoint rather than a NaN), while TC, TS and PR are 0. WM always has a value.

On histogram distributions (more than 150 distinct values, see `simfleet.cloudwatch.distribution`)
every statistic but SampleCount, Sum, Average, Minimum and Maximum works on the stored bucket
representatives: a bucket lies wholly inside or outside a bound, decided by its representative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from simfleet.cloudwatch.distribution import Distribution, nearest_rank

__all__ = ["BASIC_STATISTICS", "RANGE_KINDS", "Statistic", "parse_statistic", "datapoint_statistics"]

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
RANGE_KINDS = ("TM", "WM", "TC", "TS", "PR")

_NUMBER = r"\d+(?:\.\d{1,10})?"
_PERCENTILE = re.compile(rf"p({_NUMBER})")
_SHORT = re.compile(rf"(tm|wm|tc|ts)({_NUMBER})")
_RANGE = re.compile(rf"(TM|WM|TC|TS|PR)\(({_NUMBER}%?)?:({_NUMBER}%?)?\)")
_EXPECTED = ("expected SampleCount, Average, Sum, Minimum, Maximum, pNN, tmNN, wmNN, tcNN, tsNN, IQM "
             "or TM/WM/TC/TS/PR(lower:upper) (p/tm/wm/tc/ts lower case, TM(...)/IQM upper case, "
             "numbers with up to 10 decimals)")


@dataclass(frozen=True)
class Statistic:
    """One statistic as a request names it. Build with `parse_statistic`.

    `kind` is a basic statistic name, ``"p"`` or one of RANGE_KINDS; `lower`/`upper` are the
    bounds (None = omitted; for ``p`` the percentile is `upper`), `percent` tells whether they
    are percentages.
    """

    text: str                       # as CloudWatch spells it in responses
    kind: str
    lower: Fraction | None = None
    upper: Fraction | None = None
    percent: bool = False

    @property
    def extended(self) -> bool:
        """True for everything GetMetricStatistics takes as ExtendedStatistics (not a basic one)."""
        return self.kind not in BASIC_STATISTICS

    def __str__(self) -> str:
        return self.text

    def evaluate(self, dist: Distribution) -> float | None:
        """The statistic's value on `dist`, or None when CloudWatch would return no value."""
        kind, n = self.kind, dist.count
        if kind == "SampleCount":
            return float(n)
        if kind == "Sum":
            return dist.total
        if kind == "Average":
            return dist.total / n
        if kind == "Minimum":
            return dist.minimum
        if kind == "Maximum":
            return dist.maximum
        if kind == "p":
            return dist.value_at_rank(nearest_rank(self.upper, n))
        low, high = self._limits(dist)
        values, counts = dist.values, dist.counts
        if kind == "WM":
            clamped = np.clip(values, -math.inf if low is None else low, math.inf if high is None else high)
            return math.fsum(clamped * counts) / n
        if self.percent:
            kept = self._kept_by_rank(dist)
        else:
            inside = np.ones(len(values), dtype=bool)
            if low is not None:
                inside &= values > low
            if high is not None:
                inside &= values <= high
            kept = np.where(inside, counts, 0)
        inside_count = int(kept.sum())
        if kind == "TC":
            return float(inside_count)
        if kind == "PR":
            return 100.0 * inside_count / n
        inside_sum = math.fsum(values[kept > 0] * kept[kept > 0])
        if kind == "TS":
            return inside_sum
        return inside_sum / inside_count if inside_count else None       # TM

    def _kept_by_rank(self, dist: Distribution) -> np.ndarray:
        """How many of each stored value rank inside (lower rank, upper rank] of the n data points."""
        n = dist.count
        low = 0 if self.lower is None else -((-self.lower.numerator * n) // (self.lower.denominator * 100))
        high = n if self.upper is None else nearest_rank(self.upper, n)
        last = np.cumsum(dist.counts)          # rank of each value's last copy
        first = last - dist.counts             # rank just before its first copy
        return np.clip(np.minimum(last, high) - np.maximum(first, low), 0, None)

    def _limits(self, dist: Distribution) -> tuple[float | None, float | None]:
        """The bounds as values: exclusive lower, inclusive upper (None = no limit)."""
        if not self.percent:
            return (None if self.lower is None else float(self.lower),
                    None if self.upper is None else float(self.upper))
        n = dist.count
        low = None
        if self.lower is not None:
            rank = -((-self.lower.numerator * n) // (self.lower.denominator * 100))   # ceil(a/100·n)
            low = dist.value_at_rank(rank) if rank >= 1 else None
        high = None if self.upper is None else dist.value_at_rank(nearest_rank(self.upper, n))
        return low, high


def _bound(text: str | None) -> tuple[Fraction | None, bool | None]:
    if text is None:
        return None, None
    if text.endswith("%"):
        return Fraction(text[:-1]), True
    return Fraction(text), False


def parse_statistic(text: str) -> Statistic:
    """Parse a CloudWatch statistic string; ValueError with a one-line message naming it otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"statistic {text!r}: expected a string")
    if text in BASIC_STATISTICS:
        return Statistic(text, text)
    if text == "IQM":
        return Statistic(text, "TM", Fraction(25), Fraction(75), True)
    match = _PERCENTILE.fullmatch(text)
    if match:
        value = Fraction(match.group(1))
        if value > 100:
            raise ValueError(f"statistic {text!r}: the percentile must be from p0 to p100")
        return Statistic(text, "p", None, value, True)
    match = _SHORT.fullmatch(text)
    if match:
        value = Fraction(match.group(2))
        if value > 100:
            raise ValueError(f"statistic {text!r}: the percentage must be from 0 to 100")
        return Statistic(text, match.group(1).upper(), None, value, True)
    match = _RANGE.fullmatch(text)
    if match:
        return _range_statistic(text, *match.groups())
    raise ValueError(f"unknown statistic {text!r}: {_hint(text) or _EXPECTED}")


def _range_statistic(text: str, kind: str, lower_text: str | None, upper_text: str | None) -> Statistic:
    lower, lower_percent = _bound(lower_text)
    upper, upper_percent = _bound(upper_text)
    if lower is None and upper is None:
        raise ValueError(f"statistic {text!r}: give at least one bound, e.g. {kind}(:95%) or {kind}(10:)")
    kinds = {flag for flag in (lower_percent, upper_percent) if flag is not None}
    if len(kinds) > 1:
        raise ValueError(f"statistic {text!r}: both bounds must be percentages or both absolute values")
    percent = kinds.pop()
    if percent and kind == "PR":
        raise ValueError(f"statistic {text!r}: percentile rank takes absolute bounds only, e.g. PR(100:2000)")
    if percent and any(bound is not None and bound > 100 for bound in (lower, upper)):
        raise ValueError(f"statistic {text!r}: percentage bounds must be from 0% to 100%")
    if lower is not None and upper is not None and lower >= upper:
        raise ValueError(f"statistic {text!r}: the lower bound must be below the upper bound")
    return Statistic(text, kind, lower, upper, percent)


def _hint(text: str) -> str | None:
    """A targeted message for the usual mistakes: wrong case or a range on a short form."""
    lowered = text.lower()
    for name in BASIC_STATISTICS:
        if lowered == name.lower():
            return f"statistic names are case-sensitive, did you mean {name}?"
    if lowered == "iqm":
        return "did you mean IQM (upper case)?"
    if _PERCENTILE.fullmatch(lowered) or _SHORT.fullmatch(lowered):
        return f"a single-number form is lower case, did you mean {lowered}?"
    upper = text[:2].upper() + text[2:]
    if _RANGE.fullmatch(upper):
        return f"a range form is upper case, did you mean {upper}?"
    return None


def datapoint_statistics(dist: Distribution, percentiles: Sequence[float]) -> tuple:
    """The `metrics.parquet` statistics of a datapoint's distribution.

    The tuple is ``(sample_count, sum, minimum, maximum, average, [percentile values])``. The
    percentiles are read from the distribution (exact up to 150 distinct values, bucket
    representatives beyond), so the stored columns equal what a query at the same period
    computes from `metric_values.parquet`.
    """
    return (dist.count, dist.total, dist.minimum, dist.maximum, dist.average, dist.percentiles(percentiles))
