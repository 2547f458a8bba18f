"""Rate functions: the inverse of the cumulative rate, and the arrival processes built on it."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from small_experiments import base_experiment, scenario
from simfleet.request_records import RequestRecords
from simfleet.engine.simulation import simulate
from simfleet.traffic.rate import RateFunction


@st.composite
def rate_functions(draw):
    n = draw(st.integers(1, 6))
    times = [0.0] + sorted(draw(st.lists(st.floats(1, 1000), min_size=n - 1, max_size=n - 1, unique=True)))
    rates = draw(st.lists(st.floats(0, 500), min_size=n, max_size=n))
    bursts = draw(st.lists(st.tuples(st.floats(0, 900), st.floats(0.1, 200), st.floats(0, 300)), max_size=3))
    return RateFunction.build(list(zip(times, rates)), draw(st.sampled_from(["linear", "step"])), bursts)


@settings(max_examples=200)
@given(rate_functions(), st.floats(0, 1))
def test_inverse_of_the_cumulative_rate(rate, fraction):
    total = rate.integral(1500.0)
    s = np.sort(np.array([fraction * total, total * 0.5, total * 0.999]))
    t = rate.invert(s)
    finite = t[np.isfinite(t)]
    assert np.all(np.diff(finite) >= 0) and np.all(np.isfinite(t[: len(finite)]))
    recomputed = np.array([rate.integral(x) for x in t if np.isfinite(x)])
    np.testing.assert_allclose(recomputed, s[: len(recomputed)], rtol=1e-7, atol=1e-6)


def _naive_invert(rate: RateFunction, s: np.ndarray) -> np.ndarray:
    """Λ⁻¹ point by point: the segment of each point, then the root of its quadratic."""
    out = []
    for x in s:
        i = int(np.searchsorted(rate.cumulative, x, side="right")) - 1
        if i >= len(rate.lengths):
            with np.errstate(over="ignore"):
                out.append(rate.starts[-1] + (x - rate.cumulative[-1]) / rate.end_rate if rate.end_rate > 0 else np.inf)
            continue
        ds = x - rate.cumulative[i]
        a = rate.r0[i]
        half_slope = (rate.r1[i] - rate.r0[i]) / rate.lengths[i] / 2
        root = np.sqrt(max(a * a + 4 * half_slope * ds, 0.0))
        x_in = 2 * ds / (a + root) if a + root > 0 else 0.0
        out.append(rate.starts[i] + min(x_in, rate.lengths[i]))
    return np.array(out, dtype=np.float64)


@settings(max_examples=200)
@given(rate_functions(), st.lists(st.floats(0, 1), min_size=0, max_size=40), st.floats(1.0, 3.0))
def test_inverse_equals_a_point_by_point_inversion(rate, fractions, reach):
    """Blocks all before the constant tail, all in it, or across its start: each point is inverted
    as if alone, bit for bit."""
    s = np.sort(np.array(fractions, dtype=np.float64)) * reach * max(rate.cumulative[-1], 1.0)
    assert rate.invert(s).tobytes() == _naive_invert(rate, s).tobytes()


@settings(max_examples=200)
@given(rate_functions(), st.floats(0, 1500))
def test_cumulative_rate_is_the_integral_of_the_rate(rate, t):
    """Λ(t) against the midpoint rule over the rate's own breakpoints, exact for a piecewise-linear
    rate. (A trapezoid on a fixed grid is not a reference: a step, or a segment narrower than the
    grid, puts its error, the jump times half the spacing, above any fixed tolerance.)"""
    edges = np.unique(np.concatenate(([0.0], rate.starts[rate.starts < t], [t])))
    mids = (edges[:-1] + edges[1:]) / 2
    exact = float(np.sum(rate.rate(mids) * np.diff(edges)))
    assert rate.integral(t) == pytest.approx(exact, rel=1e-9, abs=1e-9)


def _arrivals(traffic: dict, duration: str = "10min", seed: int = 1) -> np.ndarray:
    raw = base_experiment(duration=duration, seed=seed)
    raw["traffic"] = [traffic]
    parts = []
    simulate(scenario(raw), requests_sink=parts.append)
    return RequestRecords.concat(parts).arrival_s


@pytest.mark.parametrize("interpolation", ["linear", "step"])
@pytest.mark.parametrize("rates", [[5e-324], [1.0, 5e-324], [5e-324, 1e300], [1e300, 1e300]])
def test_rates_at_the_float_limits_invert_without_overflow_warnings(rates, interpolation):
    """Rates near zero or near the float limit: a quotient or square that overflows means "never" (or
    the segment's end), and says nothing on stderr (a fuzzed sweep of rate 5e-324 printed numpy's
    overflow warning beside its progress lines)."""
    rate = RateFunction.build([(60.0 * i, r) for i, r in enumerate(rates)], interpolation, [])
    s = np.array([0.0, 0.5, 1.0, 10.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = rate.invert(s)
    assert not np.isnan(t).any() and np.all(t[1:] >= t[:-1]) and t[0] >= 0
    assert np.array_equal(t, _naive_invert_quietly(rate, s))


def _naive_invert_quietly(rate: RateFunction, s: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return np.array(_naive_invert(rate, s))


def test_constant_traffic_is_evenly_spaced_and_exact():
    times = _arrivals({"kind": "constant", "rate": 7})
    assert len(times) == 7 * 600
    np.testing.assert_allclose(np.diff(times), 1 / 7, rtol=1e-9)


def test_poisson_counts_follow_the_schedule():
    """Counts per minute of a linear ramp: mean Λ(b) − Λ(a), Poisson dispersion (index ≈ 1)."""
    traffic = {"kind": "poisson", "schedule": [["0s", 10], ["10min", 110]], "interpolation": "linear"}
    counts = []
    for seed in range(20):
        counts.append(np.histogram(_arrivals(traffic, seed=seed), bins=np.arange(0, 601, 60))[0])
    counts = np.array(counts)
    minute = np.arange(10)
    expected = 60 * (10 + 10 * (minute + 0.5))  # rate rises 10/s per minute
    se = np.sqrt(expected / counts.shape[0])
    assert np.all(np.abs(counts.mean(axis=0) - expected) < 5 * se)
    dispersion = counts.var(axis=0, ddof=1) / counts.mean(axis=0)
    assert 0.5 < dispersion.mean() < 1.5


def test_bursts_add_their_rate_during_their_window():
    traffic = {"kind": "constant", "rate": 10, "bursts": [{"start": "60s", "duration": "30s", "extra_rate": 20}]}
    times = _arrivals(traffic, duration="2min")
    assert np.sum((times >= 60) & (times < 90)) == pytest.approx(900, abs=1)
    assert np.sum(times < 60) == pytest.approx(600, abs=1)
