"""CloudWatch statistics [CW-STATS] against naive numpy implementations on the raw values.

The references below are written from the documented definitions, independently of the module:
absolute bounds keep ``lower < v <= upper``; percentage bounds trim data points by rank ("removing
the 2% lowest data points and the 2% highest"): the sorted values ranked in (ceil(a·n/100),
ceil(b·n/100)] stay; WM clamps to the bound values (for percentages, the percentile values);
PR is the share of all values inside, in percent.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.cloudwatch.distribution import Distribution
from simfleet.cloudwatch.statistics import BASIC_STATISTICS, datapoint_statistics, parse_statistic


# ----------------------------------------------------------------------------- references

def ref_percentile(raw: np.ndarray, p: Fraction) -> float:
    """Smallest raw value x with #(values <= x) / n >= p / 100."""
    ordered = np.sort(raw)
    at_or_below = np.searchsorted(ordered, ordered, side="right")
    for x, k in zip(ordered.tolist(), at_or_below.tolist()):
        if k * 100 >= p * len(raw):
            return x
    raise AssertionError("unreachable")


def ref_limits(raw, lower: str | None, upper: str | None):
    """(exclusive lower, inclusive upper) as values; None = unbounded."""
    def value(bound: str | None, is_lower: bool):
        if bound is None:
            return None
        if bound.endswith("%"):
            share = Fraction(bound[:-1])
            if is_lower and share == 0:
                return None
            return ref_percentile(raw, share)
        return float(Fraction(bound))
    return value(lower, True), value(upper, False)


def ref_statistic(raw: np.ndarray, kind: str, lower: str | None, upper: str | None):
    low, high = ref_limits(raw, lower, upper)
    if kind == "WM":
        return float(np.mean(np.clip(raw, -np.inf if low is None else low, np.inf if high is None else high)))
    if (lower or "").endswith("%") or (upper or "").endswith("%"):
        ordered = np.sort(raw)
        n = len(raw)
        first = 0 if lower is None else math.ceil(Fraction(lower[:-1]) * n / 100)
        last = n if upper is None else max(1, math.ceil(Fraction(upper[:-1]) * n / 100))
        inside = ordered[first:last]
    else:
        keep = np.ones(len(raw), dtype=bool)
        if low is not None:
            keep &= raw > low
        if high is not None:
            keep &= raw <= high
        inside = raw[keep]
    return {
        "TM": float(inside.mean()) if len(inside) else None,
        "TC": float(len(inside)),
        "TS": float(inside.sum()),
        "PR": 100.0 * len(inside) / len(raw),
    }[kind]


def ref_basic(raw: np.ndarray, name: str) -> float:
    return {"SampleCount": float(len(raw)), "Sum": float(raw.sum()), "Average": float(raw.sum()) / len(raw),
            "Minimum": float(raw.min()), "Maximum": float(raw.max())}[name]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


# ----------------------------------------------------------------------------- strategies

def number_text(max_value: int, decimals: st.SearchStrategy[int] = st.integers(0, 10)):
    @st.composite
    def build(draw):
        places = draw(decimals)
        scaled = draw(st.integers(0, max_value * 10**places))
        if not places:
            return str(scaled)
        return f"{scaled // 10**places}.{scaled % 10**places:0{places}d}"
    return build()


@st.composite
def grid_values(draw):
    """Values on a 1/10 grid (ties likely, bounds can hit values exactly), at most 150 distinct."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 300))
    top = draw(st.integers(1, 150))
    return rng.integers(0, top, n) / 10


@st.composite
def range_statistics(draw):
    """(text, kind, lower, upper) for a valid range statistic, bounds as texts ("10%", "2.5", None)."""
    kind = draw(st.sampled_from(["TM", "WM", "TC", "TS", "PR"]))
    percent = kind != "PR" and draw(st.booleans())
    if percent:
        bound = (st.sampled_from(["0", "100"]) | number_text(100, st.integers(0, 3))).map(lambda t: t + "%")
    else:
        bound = number_text(16, st.integers(0, 2))
    lower = draw(st.none() | bound)
    upper = draw(st.none() | bound) if lower is not None else draw(bound)
    if lower is not None and upper is not None:
        a, b = sorted([Fraction(lower.rstrip("%")), Fraction(upper.rstrip("%"))])
        if a == b:
            upper = None
        elif Fraction(lower.rstrip("%")) > Fraction(upper.rstrip("%")):
            lower, upper = upper, lower
    text = f"{kind}({lower or ''}:{upper or ''})"
    return text, kind, lower, upper


@st.composite
def short_statistics(draw):
    name = draw(st.sampled_from(["tm", "wm", "tc", "ts"]))
    number = draw(number_text(100))
    return f"{name}{number}", name.upper(), None, number + "%"


# ------------------------------------------------------------------------ exact distributions

@given(grid_values(), range_statistics() | short_statistics())
@settings(max_examples=300)
def test_range_statistics_equal_the_naive_reference(raw, spec):
    text, kind, lower, upper = spec
    statistic = parse_statistic(text)
    assert statistic.text == text and statistic.extended
    got = statistic.evaluate(Distribution.from_values(raw))
    assert close(got, ref_statistic(raw, kind, lower, upper)), text


@given(grid_values(), number_text(100))
@settings(max_examples=200)
def test_percentiles_equal_the_naive_reference(raw, number):
    statistic = parse_statistic(f"p{number}")
    assert statistic.evaluate(Distribution.from_values(raw)) == ref_percentile(raw, Fraction(number))


@given(grid_values(), st.sampled_from(BASIC_STATISTICS))
@settings(max_examples=100)
def test_basic_statistics_equal_the_naive_reference(raw, name):
    statistic = parse_statistic(name)
    assert not statistic.extended
    assert close(statistic.evaluate(Distribution.from_values(raw)), ref_basic(raw, name))


@given(grid_values(), range_statistics())
@settings(max_examples=200)
def test_trimmed_sum_is_trimmed_mean_times_trimmed_count(raw, spec):
    text, kind, lower, upper = spec
    dist = Distribution.from_values(raw)
    bounds = text[2:]
    if kind == "PR":
        return
    tm, tc, ts = (parse_statistic(k + bounds).evaluate(dist) for k in ("TM", "TC", "TS"))
    if tc == 0:
        assert tm is None and ts == 0
    else:
        assert math.isclose(ts, tm * tc, rel_tol=1e-12)


# ------------------------------------------------------------- documented examples [CW-STATS]

ONE_TO_100 = np.arange(1, 101, dtype=float)


@pytest.mark.parametrize("text, expected", [
    ("tm90", np.mean(np.arange(1, 91))),              # removes the 10 % highest
    ("TM(2%:98%)", np.mean(np.arange(3, 99))),        # removes the 2 % lowest and 2 % highest
    ("TM(:95%)", np.mean(np.arange(1, 96))),
    ("TM(10%:)", np.mean(np.arange(11, 101))),
    ("TM(0%:100%)", 50.5),                            # 0 % lower bound: nothing removed
    ("TC(0%:)", 100.0),
    ("TM(0.5%:99.5%)", np.mean(np.arange(2, 101))),   # P0.5 = 1 is excluded, P99.5 = 100 included
    ("IQM", np.mean(np.arange(26, 76))),
    ("TM(25%:75%)", np.mean(np.arange(26, 76))),
    ("wm98", (np.arange(1, 99).sum() + 2 * 98) / 100),  # the highest 2 % count as p98
    ("WM(10%:90%)", (10 * 10 + np.arange(11, 91).sum() + 10 * 90) / 100),
    ("tc90", 90.0),
    ("ts90", float(np.arange(1, 91).sum())),
    ("TS(80%:)", float(np.arange(81, 101).sum())),    # without the lowest 80 %
    ("TM(15:30)", np.mean(np.arange(16, 31))),        # <= 15 and > 30 removed
    ("TC(80:500)", 20.0),                             # 80 exclusive, 500 inclusive
    ("TC(:50)", 50.0),
    ("PR(:30)", 30.0),                                # share of values <= 30, in percent
    ("PR(10:20)", 10.0),
    ("PR(10:)", 90.0),
    ("p99", 99.0),
    ("p99.9", 100.0),
    ("p0", 1.0),
    ("p0.0", 1.0),
    ("p100", 100.0),
])
def test_documented_examples_on_one_to_100(text, expected):
    assert parse_statistic(text).evaluate(Distribution.from_values(ONE_TO_100)) == pytest.approx(expected, rel=1e-15)


def test_absolute_bounds_exclude_the_lower_and_include_the_upper_value():
    raw = np.array([0.005, 0.01, 0.02, 0.03, 0.04])
    dist = Distribution.from_values(raw)
    assert parse_statistic("TC(0.005:0.030)").evaluate(dist) == 3.0
    assert parse_statistic("TC(:0.5)").evaluate(dist) == 5.0
    assert parse_statistic("PR(0.01:0.03)").evaluate(dist) == 40.0
    assert parse_statistic("WM(0.01:0.03)").evaluate(dist) == pytest.approx((0.01 + 0.01 + 0.02 + 0.03 + 0.03) / 5)


def test_no_value_inside_the_bounds():
    dist = Distribution.from_values(np.array([1.0, 2.0, 3.0]))
    assert parse_statistic("TM(5:9)").evaluate(dist) is None
    assert parse_statistic("TC(5:9)").evaluate(dist) == 0.0
    assert parse_statistic("TS(5:9)").evaluate(dist) == 0.0
    assert parse_statistic("PR(5:9)").evaluate(dist) == 0.0
    assert parse_statistic("WM(5:9)").evaluate(dist) == 5.0
    tied = Distribution.from_values(np.full(10, 4.0))
    assert parse_statistic("TM(10%:90%)").evaluate(tied) == 4.0       # ranks 2..9 of ten equal values
    assert parse_statistic("TC(10%:90%)").evaluate(tied) == 8.0
    assert parse_statistic("tm90").evaluate(tied) == 4.0


@pytest.mark.parametrize("short, long", [("tm99", "TM(:99%)"), ("wm99", "WM(:99%)"), ("tc99", "TC(:99%)"),
                                         ("ts99", "TS(:99%)"), ("IQM", "TM(25%:75%)")])
def test_short_forms_equal_their_range_forms(short, long):
    dist = Distribution.from_values(np.random.default_rng(5).integers(0, 140, 1000) / 7)
    assert parse_statistic(short).evaluate(dist) == parse_statistic(long).evaluate(dist)


# ----------------------------------------------------------------------------- histograms

@given(st.integers(0, 2**32 - 1), st.integers(-6, 4), st.integers(1, 8), st.sampled_from(["TC", "PR", "TM", "TS"]))
@settings(max_examples=100)
def test_on_histograms_bounds_at_bucket_edges_match_the_raw_values(seed, low_exp, span, kind):
    """Powers of two are bucket edges: buckets then fall wholly inside or outside, as the raw values do."""
    raw = np.random.default_rng(seed).lognormal(-1, 2, 2000)
    dist = Distribution.from_values(raw)
    assert not dist.exact
    lower, upper = (f"{2.0 ** e:.10f}".rstrip("0").rstrip(".") for e in (low_exp, low_exp + span))
    assert float(lower) == 2.0 ** low_exp and float(upper) == 2.0 ** (low_exp + span)
    got = parse_statistic(f"{kind}({lower}:{upper})").evaluate(dist)
    expected = ref_statistic(raw, kind, lower, upper)
    if kind in ("TC", "PR"):
        assert got == expected
    elif expected is None:
        assert got is None
    else:                                      # each value replaced by its bucket's representative
        half_width = 2.0 ** (2.0 ** -dist.scale / 2) - 1
        assert got == pytest.approx(expected, rel=half_width)


def test_on_histograms_trimmed_statistics_use_the_representatives():
    raw = np.random.default_rng(11).lognormal(0, 1, 5000)
    dist = Distribution.from_values(raw)
    bound = float(dist.values[len(dist.values) // 2])                # a representative as the bound
    text = f"TC(:{bound:.10f})"
    kept = dist.counts[dist.values <= float(f"{bound:.10f}")].sum()
    assert parse_statistic(text).evaluate(dist) == float(kept)


# ------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize("text", [
    "SampleCount", "Average", "Sum", "Minimum", "Maximum", "p0", "p0.0", "p50", "p99.9", "p99.9999999999",
    "p100", "tm90", "tm99.5", "wm98", "tc90", "ts99", "IQM", "TM(10%:90%)", "TM(:95%)", "TM(10%:)",
    "TM(150:1000)", "WM(10%:90%)", "TC(0.005:0.030)", "TS(80%:)", "PR(:300)", "PR(100:2000)", "PR(10:)",
    "TC(:0.5)", "TM(0%:100%)", "TM(0.0000000001%:99.9999999999%)",
])
def test_valid_statistics_parse_and_keep_their_spelling(text):
    assert parse_statistic(text).text == text


@pytest.mark.parametrize("text, fragment", [
    ("", "unknown statistic"),
    ("average", "did you mean Average"),
    ("P99", "did you mean p99"),
    ("TM90", "did you mean tm90"),
    ("tm(10%:90%)", "did you mean TM(10%:90%)"),
    ("iqm", "did you mean IQM"),
    ("pr(:300)", "did you mean PR(:300)"),
    ("p101", "from p0 to p100"),
    ("p100.0000000001", "from p0 to p100"),
    ("tm101", "from 0 to 100"),
    ("p99.12345678901", "up to 10 decimals"),
    ("p-1", "unknown statistic"),
    (" p99", "unknown statistic"),
    ("p99%", "unknown statistic"),
    ("TM(:)", "at least one bound"),
    ("TM(10%:900)", "both bounds must be percentages or both absolute"),
    ("TM(90%:10%)", "lower bound must be below"),
    ("TM(10:10)", "lower bound must be below"),
    ("TM(:190%)", "from 0% to 100%"),
    ("PR(10%:20%)", "absolute bounds only"),
    ("TM(-1:2)", "unknown statistic"),
    ("TM(1e2:2e2)", "unknown statistic"),
    ("IQM(1:2)", "unknown statistic"),
    ("XX(1:2)", "unknown statistic"),
])
def test_invalid_statistics_give_one_line_naming_the_text(text, fragment):
    with pytest.raises(ValueError) as info:
        parse_statistic(text)
    message = str(info.value)
    assert fragment in message and repr(text) in message and "\n" not in message


def test_non_string_is_refused():
    with pytest.raises(ValueError, match="expected a string"):
        parse_statistic(99)


# --------------------------------------------------------------------- datapoint statistics

@given(grid_values(), st.lists(number_text(100, st.integers(0, 2)), max_size=4))
@settings(max_examples=100)
def test_datapoint_statistics_match_the_naive_reference(raw, numbers):
    dist = Distribution.from_values(raw)
    count, total, minimum, maximum, average, percentiles = datapoint_statistics(dist, [float(x) for x in numbers])
    assert count == len(raw) and minimum == raw.min() and maximum == raw.max()
    assert close(total, float(raw.sum())) and close(average, float(raw.sum()) / len(raw))
    assert percentiles == [ref_percentile(raw, Fraction(x)) for x in numbers]


def test_datapoint_percentiles_of_a_histogram_are_within_half_a_bucket():
    raw = np.random.default_rng(2).lognormal(0, 1, 20_000)
    dist = Distribution.from_values(raw, 6)
    stats = datapoint_statistics(dist, [50, 99, 99.9])
    assert not dist.exact and dist.scale == 6
    half_width = 2.0 ** (2.0 ** -6 / 2) - 1
    for got, p in zip(stats[5], ["50", "99", "99.9"]):
        assert got == pytest.approx(ref_percentile(raw, Fraction(p)), rel=half_width)
