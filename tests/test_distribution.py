"""Distribution: exact values and exponential histograms against naive references on the raw values.

References here are deliberately slow and obviously correct: bucket membership is decided with
exact integer arithmetic (``v**(2**scale) <= 2**j``), percentiles straight from the definition
(the smallest value with at least p % of the values at or below it).
"""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import simfleet.cloudwatch.distribution as distribution_module
from simfleet.cloudwatch.distribution import (DEFAULT_HISTOGRAM_SCALE, EXACT_DISTINCT_LIMIT, Distribution,
                                           bucket_index, bucket_representative, nearest_rank)

SCALES = st.sampled_from([-2, 0, 1, 3, 8])


# ----------------------------------------------------------------------------- references

def below_edge(v: float, j: int, scale: int) -> bool:
    """Exactly: v <= base**j with base = 2**(2**-scale)."""
    if scale <= 0:
        return Fraction(v) <= Fraction(2) ** (j << -scale)
    num, den = v.as_integer_ratio()          # den is a power of two
    power = 1 << scale
    left, right = num ** power, den ** power
    return left <= right << j if j >= 0 else left << -j <= right


def in_bucket(v: float, i: int, scale: int) -> bool:
    """Exactly: base**i < v <= base**(i+1)."""
    return below_edge(v, i + 1, scale) and not below_edge(v, i, scale)


def ref_index(v: float, scale: int) -> int:
    i = math.ceil(math.log2(v) * 2.0 ** scale) - 1
    for candidate in (i, i - 1, i + 1, i - 2, i + 2):
        if in_bucket(v, candidate, scale):
            return candidate
    raise AssertionError(f"no bucket found for {v!r}")


def ref_percentile(raw: np.ndarray, p) -> float:
    """Smallest raw value x with #(values <= x) / n >= p / 100."""
    p = Fraction(str(p))
    ordered = np.sort(raw)
    for x in ordered:
        if Fraction(int((ordered <= x).sum()) * 100) >= p * len(raw):
            return float(x)
    raise AssertionError("unreachable")


def ref_histogram(raw: np.ndarray, scale: int) -> dict[int | None, int]:
    """Counts per bucket index (None = the zero bucket)."""
    counts: dict[int | None, int] = {}
    for v in raw.tolist():
        key = None if v == 0 else ref_index(v, scale)
        counts[key] = counts.get(key, 0) + 1
    return counts


# ----------------------------------------------------------------------------- strategies

@st.composite
def value_arrays(draw, max_size: int = 400):
    """Non-negative arrays of varied shape: few or many distinct values, zeros, wide ranges."""
    kind = draw(st.sampled_from(["few", "many", "wide", "explicit"]))
    if kind == "explicit":
        values = draw(st.lists(st.floats(0, 1e300, allow_nan=False, allow_infinity=False),
                               min_size=1, max_size=40))
        return np.array(values, dtype=np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, max_size))
    if kind == "few":
        pool = rng.lognormal(0, 2, draw(st.integers(1, 160)))
        values = rng.choice(pool, n)
    elif kind == "many":
        values = rng.lognormal(draw(st.floats(-10, 10)), draw(st.floats(0.01, 3)), n)
    else:
        values = 10.0 ** rng.uniform(-300, 300, n)
    if draw(st.booleans()):
        values[rng.random(n) < 0.2] = 0.0
    return values


@st.composite
def splits(draw, values: np.ndarray):
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=6)))
    pieces = [p for p in np.split(values, cuts) if len(p)]
    return pieces


def assert_same(a: Distribution, b: Distribution) -> None:
    assert (a.count, a.minimum, a.maximum, a.exact, a.scale) == (b.count, b.minimum, b.maximum, b.exact, b.scale)
    assert a.values.tobytes() == b.values.tobytes()
    assert a.counts.tobytes() == b.counts.tobytes()
    assert math.isclose(a.total, b.total, rel_tol=1e-12)


# ------------------------------------------------------------------------------ bucket index

@pytest.mark.parametrize("scale", [-3, -1, 0, 1, 2, 5, 8, 10])
def test_bucket_index_is_exact_at_bucket_edges(scale):
    rng = np.random.default_rng(scale + 100)
    width = 2.0 ** -scale
    ks = np.unique(np.concatenate([rng.integers(int(-1000 / width), int(1000 / width), 60 if scale < 10 else 12),
                                   np.arange(-3, 4) * max(1, int(1 / width)), [0, 1, -1]]))
    probes = []
    for k in ks.tolist():
        edge = 2.0 ** (k * width)
        below, above = edge, edge
        probes.append(edge)
        for _ in range(3):
            below, above = np.nextafter(below, 0.0), np.nextafter(above, np.inf)
            probes += [float(below), float(above)]
    probes = np.array(probes)
    got = bucket_index(probes, scale)
    for v, i in zip(probes.tolist(), got.tolist()):
        assert in_bucket(v, i, scale), (v, i)


@given(st.floats(min_value=5e-324, max_value=1.7e308), SCALES)
@settings(max_examples=200)
def test_bucket_index_matches_exact_reference(v, scale):
    assert bucket_index(np.array([v]), scale)[0] == ref_index(v, scale)


@given(st.integers(-1022 * 2**3, 1023 * 2**3), st.sampled_from([0, 1, 3]))
@settings(max_examples=200)
def test_representative_lies_inside_its_bucket(k, scale):
    i = k >> (3 - scale)
    rep = float(bucket_representative(np.array([i]), scale)[0])
    assert in_bucket(rep, i, scale)
    assert bucket_index(np.array([rep]), scale)[0] == i


def test_subnormal_buckets_keep_recoverable_representatives():
    raw = np.array([5e-324, 1e-323, 3e-322, 7.1e-320, 2.2e-308, 1.0]) * np.ones((40, 1))
    raw = (raw * np.arange(1, 41)[:, None]).ravel()
    dist = Distribution.from_values(raw, 8)
    assert not dist.exact
    for v in dist.values.tolist():
        assert in_bucket(v, ref_index(v, 8), 8)
    assert {ref_index(v, 8) for v in dist.values.tolist()} == set(ref_histogram(raw, 8))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_bucket_index_refuses_values_without_a_bucket(bad):
    with pytest.raises(ValueError, match="positive and finite"):
        bucket_index(np.array([1.0, bad]))


def test_representative_at_default_scale_is_the_bucket_midpoint():
    i = np.arange(-2000, 2000)
    base = 2.0 ** 2.0 ** -DEFAULT_HISTOGRAM_SCALE
    reps = bucket_representative(i)
    np.testing.assert_allclose(reps, base ** (i + 0.5), rtol=1e-12)
    np.testing.assert_array_equal(bucket_index(reps), i)


# ------------------------------------------------------------------------------ from_values

@given(value_arrays(), SCALES)
@settings(max_examples=200)
def test_from_values_matches_the_raw_values(raw, scale):
    dist = Distribution.from_values(raw, scale)
    assert dist.count == len(raw)
    assert dist.minimum == raw.min() and dist.maximum == raw.max()
    assert math.isclose(dist.total, math.fsum(raw), rel_tol=1e-12)
    distinct, counts = np.unique(raw, return_counts=True)
    assert dist.exact == (len(distinct) <= EXACT_DISTINCT_LIMIT)
    assert (np.diff(dist.values) > 0).all() and (dist.counts > 0).all()
    if dist.exact:
        np.testing.assert_array_equal(dist.values, distinct)
        np.testing.assert_array_equal(dist.counts, counts)
        return
    expected = ref_histogram(raw, scale)
    got: dict[int | None, int] = {}
    for v, c in zip(dist.values.tolist(), dist.counts.tolist()):
        key = None if v == 0 else ref_index(v, scale)      # the bucket index is recoverable
        assert key not in got
        got[key] = c
    assert got == expected
    assert dist.minimum <= dist.values[0] and dist.values[-1] <= dist.maximum


def test_exact_up_to_150_distinct_values_then_histogram():
    values = np.arange(1, EXACT_DISTINCT_LIMIT + 2, dtype=float) / 7
    assert Distribution.from_values(values[:EXACT_DISTINCT_LIMIT]).exact
    assert not Distribution.from_values(values).exact


def test_exact_when_a_large_array_repeats_few_values():
    rng = np.random.default_rng(7)
    raw = np.sort(rng.choice(rng.uniform(0, 9, 150), 200_000))        # sorted: a strided sample sees all
    dist = Distribution.from_values(raw)
    distinct, counts = np.unique(raw, return_counts=True)
    assert dist.exact
    np.testing.assert_array_equal(dist.counts, counts)


def test_negative_zero_is_stored_as_zero():
    dist = Distribution.from_values(np.array([-0.0, 0.0, 1.0]))
    assert dist.values.tobytes() == np.array([0.0, 1.0]).tobytes()
    np.testing.assert_array_equal(dist.counts, [2, 1])


@pytest.mark.parametrize("bad, message", [
    (np.array([]), "no values"),
    (np.array([1.0, -1.0]), ">= 0"),
    (np.array([1.0, np.nan]), "finite"),
    (np.array([np.inf]), "finite"),
])
def test_bad_values_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        Distribution.from_values(bad)


@pytest.mark.parametrize("scale", [-11, 21, 2.5, True])
def test_bad_scale_is_refused(scale):
    with pytest.raises(ValueError, match="histogram scale"):
        Distribution.from_values(np.array([1.0]), scale)


def test_constructor_checks_invariants():
    ok = dict(count=3, total=4.0, minimum=1.0, maximum=2.0, values=[1.0, 2.0], counts=[2, 1],
              exact=True, scale=8)
    Distribution(**ok)
    for change in [dict(values=[2.0, 1.0]), dict(counts=[2, 2]), dict(counts=[3, 0]),
                   dict(minimum=0.5), dict(values=[1.0, -2.0]), dict(values=[1.0, 2.0, 3.0])]:
        with pytest.raises(ValueError, match="invalid distribution"):
            Distribution(**{**ok, **change})


def test_arrays_are_read_only():
    dist = Distribution.from_values(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        dist.values[0] = 5.0


@contextlib.contextmanager
def small_arrays_up_to(size: int):
    """Within it, `from_values` counts arrays of at most `size` values in Python (64 normally)."""
    saved = distribution_module._SMALL
    distribution_module._SMALL = size
    try:
        yield
    finally:
        distribution_module._SMALL = saved


@settings(max_examples=300)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e-300, 5e-324, 3.0, 1e300]) | st.floats(0, 1e3),
                min_size=1, max_size=64), SCALES)
@example([-0.0], 8)
@example([-0.0, -0.0, 0.0], 0)
def test_few_values_counted_in_python_equal_the_numpy_path(values, scale):
    """`from_values` counts up to 64 values in Python; the result equals the NumPy path's bit for bit
    (Sum, minimum, maximum, values, counts), -0.0 and duplicates included."""
    raw = np.array(values, dtype=np.float64)
    small = Distribution.from_values(raw, scale)
    with small_arrays_up_to(0):
        assert Distribution.from_values(raw, scale) == small


@pytest.mark.parametrize("bad, message", [
    (np.array([1.0, -1.0]), ">= 0"), (np.array([-0.5]), ">= 0"), (np.array([np.nan, 1.0]), "finite"),
    (np.array([np.inf, -np.inf]), "finite"), (np.array([1.0] * 64 + [np.nan]), "finite"),
])
def test_bad_values_are_refused_on_both_paths(bad, message):
    for size in (0, 64):
        with small_arrays_up_to(size), pytest.raises(ValueError, match=message):
            Distribution.from_values(bad)


# ------------------------------------------------------------------------------------ merge

@given(st.data(), value_arrays(), SCALES)
@settings(max_examples=200)
def test_merge_of_any_split_equals_the_whole(data, raw, scale):
    pieces = data.draw(splits(raw))
    merged = Distribution.merge([Distribution.from_values(p, scale) for p in pieces])
    assert_same(merged, Distribution.from_values(raw, scale))


@given(value_arrays(max_size=200), value_arrays(max_size=200), value_arrays(max_size=200), SCALES)
@settings(max_examples=200)
def test_merge_is_associative(a, b, c, scale):
    a, b, c = (Distribution.from_values(x, scale) for x in (a, b, c))
    left = Distribution.merge([Distribution.merge([a, b]), c])
    right = Distribution.merge([a, Distribution.merge([b, c])])
    assert_same(left, right)
    assert_same(left, Distribution.merge([a, b, c]))


def test_merge_total_is_the_exact_sum_of_totals():
    parts = [Distribution.from_values(np.array([x])) for x in (1e16, 1.0, -0.0 + 1.0, 3.0)]
    assert Distribution.merge(parts).total == math.fsum([1e16, 1.0, 1.0, 3.0])


def test_merge_refuses_mixed_scales_and_nothing():
    a = Distribution.from_values(np.array([1.0]), 8)
    b = Distribution.from_values(np.array([1.0]), 4)
    with pytest.raises(ValueError, match="different histogram scales"):
        Distribution.merge([a, b])
    with pytest.raises(ValueError, match="no distributions"):
        Distribution.merge([])


# ------------------------------------------------------------------------------- percentiles

percentages = st.one_of(st.integers(0, 100), st.decimals(0, 100, places=3).map(str),
                        st.sampled_from([0, 50, 90, 99, 99.9, 99.99, 100]))


@given(value_arrays(max_size=150), percentages)
@settings(max_examples=200)
def test_percentile_is_nearest_rank_on_exact_data_and_within_half_a_bucket_otherwise(raw, p):
    dist = Distribution.from_values(raw)
    expected = ref_percentile(raw, p)
    got = dist.percentile(p if not isinstance(p, str) else Fraction(p))
    if dist.exact:
        assert got == expected
    else:
        half_width = 2.0 ** (2.0 ** -dist.scale / 2) - 1
        assert got == pytest.approx(expected, rel=half_width * (1 + 1e-9), abs=0)


@given(st.integers(1, 10**6), st.sampled_from(["99.9", "50", "0.1", "12.3456789012", "100", "0"]))
def test_nearest_rank_uses_the_decimal_not_its_float(n, p):
    exact = max(1, math.ceil(Fraction(p) * n / 100))
    assert nearest_rank(float(p), n) == exact == nearest_rank(Fraction(p), n)


@pytest.mark.parametrize("p", [-0.1, 100.01, float("nan"), "x"])
def test_percentile_out_of_range_is_refused(p):
    with pytest.raises(ValueError, match="percentile"):
        Distribution.from_values(np.array([1.0])).percentile(p)


def test_percentiles_agrees_with_percentile():
    dist = Distribution.from_values(np.random.default_rng(1).lognormal(0, 1, 5000))
    ps = [0, 1, 50, 90, 99, 99.9, 100]
    assert dist.percentiles(ps) == [dist.percentile(p) for p in ps]
