"""Distributions: samples against their analytic mean and variance, and spec validation."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from simfleet.distributions import Empirical
from simfleet.schema.distributions import TimeDistribution

SPECS = [
    {"kind": "constant", "value": "5ms"},
    {"kind": "exponential", "mean": "5ms"},
    {"kind": "lognormal", "median": "5ms", "sigma": 0.6},
    {"kind": "gamma", "mean": "5ms", "cv": 0.4},
    {"kind": "empirical", "quantiles": [[0.0, "1ms"], [0.5, "4ms"], [0.9, "9ms"], [1.0, "20ms"]]},
]


@pytest.mark.parametrize("spec", SPECS, ids=[s["kind"] for s in SPECS])
def test_sample_moments_match_analytic_moments(spec):
    dist = TypeAdapter(TimeDistribution).validate_python(spec).build()
    rng = np.random.default_rng(12345)
    n = 400_000
    sample = dist.sample(rng, n)
    assert (sample >= 0).all()
    # Mean within 5 standard errors; variance within 5 % (its standard error is ~1-2 % here).
    assert abs(sample.mean() - dist.mean) <= 5 * math.sqrt(dist.variance / n) + 1e-15
    assert sample.var() == pytest.approx(dist.variance, rel=0.05, abs=1e-15)


def test_lognormal_median_is_the_median():
    dist = TypeAdapter(TimeDistribution).validate_python({"kind": "lognormal", "median": "7ms", "sigma": 0.3}).build()
    assert np.median(dist.sample(np.random.default_rng(1), 200_001)) == pytest.approx(0.007, rel=0.01)


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=8))
def test_empirical_moments_against_numeric_integration(values):
    values = sorted(values)
    probabilities = np.linspace(0, 1, len(values))
    dist = Empirical(tuple(probabilities), tuple(values))
    u = (np.arange(200_000) + 0.5) / 200_000  # midpoint rule over the inverse CDF
    x = np.interp(u, probabilities, values)
    assert dist.mean == pytest.approx(x.mean(), rel=1e-6, abs=1e-9)
    assert dist.variance == pytest.approx(x.var(), rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("spec", [
    {"kind": "lognormal", "median": "5ms", "sigma": 0},
    {"kind": "lognormal", "median": "0ms", "sigma": 0.5},
    {"kind": "gamma", "mean": "5ms", "cv": -1},
    {"kind": "exponential", "mean": "0s"},
    {"kind": "empirical", "quantiles": [[0.1, "1ms"], [1.0, "2ms"]]},
    {"kind": "empirical", "quantiles": [[0.0, "3ms"], [1.0, "2ms"]]},
    {"kind": "empirical", "quantiles": [[0.0, "1ms"], [0.0, "2ms"], [1.0, "3ms"]]},
    {"kind": "weibull", "scale": "1ms"},
    {"kind": "constant", "value": "5ms", "extra": 1},
    {"kind": "constant", "value": 5},
])
def test_invalid_specs_are_refused(spec):
    with pytest.raises(ValidationError):
        TypeAdapter(TimeDistribution).validate_python(spec)
