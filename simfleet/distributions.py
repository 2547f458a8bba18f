"""Probability distributions of service times, payload sizes and overheads.

Runtime side of the declarative specs in `simfleet.schema.distributions`: each distribution
draws from a caller's `numpy.random.Generator` (never global state) and knows its analytic mean
and variance, so statistical tests can compare a simulation with theory cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Distribution", "Constant", "Exponential", "Lognormal", "Gamma", "Empirical", "Scaled", "Shifted"]


class Distribution:
    """A non-negative random quantity (seconds or bytes)."""

    mean: float
    variance: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, Var/mean² (the M/G/1 formulas use it)."""
        return self.variance / self.mean**2 if self.mean > 0 else 0.0


@dataclass(frozen=True)
class Constant(Distribution):
    value: float

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng, size):
        return np.full(size, self.value, dtype=np.float64)


@dataclass(frozen=True)
class Exponential(Distribution):
    mean_value: float

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.mean_value**2

    def sample(self, rng, size):
        return rng.exponential(self.mean_value, size)


@dataclass(frozen=True)
class Lognormal(Distribution):
    """Parameterised by its median and sigma, the standard deviation of the log."""

    median: float
    sigma: float

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        return (math.exp(self.sigma**2) - 1) * self.median**2 * math.exp(self.sigma**2)

    def sample(self, rng, size):
        return rng.lognormal(math.log(self.median), self.sigma, size)


@dataclass(frozen=True)
class Gamma(Distribution):
    """Parameterised by its mean and coefficient of variation (shape = 1/cv²)."""

    mean_value: float
    cv: float

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_value) ** 2

    def sample(self, rng, size):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_value / shape, size)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Inverse CDF interpolated linearly between (probability, value) points from 0 to 1."""

    probabilities: tuple[float, ...]
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        p, v = np.asarray(self.probabilities), np.asarray(self.values)
        return float(np.sum(np.diff(p) * (v[:-1] + v[1:]) / 2))

    @property
    def variance(self) -> float:
        p, v = np.asarray(self.probabilities), np.asarray(self.values)
        a, b = v[:-1], v[1:]
        second_moment = float(np.sum(np.diff(p) * (a * a + a * b + b * b) / 3))
        return max(0.0, second_moment - self.mean**2)

    def sample(self, rng, size):
        return np.interp(rng.random(size), self.probabilities, self.values)


@dataclass(frozen=True)
class Scaled(Distribution):
    """`base` multiplied by `factor` (> 0): a service time on slower compute (`simfleet.serverless_sizing`).

    Exact moments: mean = factor × base mean, variance = factor² × base variance."""

    base: Distribution
    factor: float

    def __post_init__(self):
        if not (self.factor > 0 and math.isfinite(self.factor)):
            raise ValueError(f"a scale factor must be a finite number greater than zero, got {self.factor!r}")

    @property
    def mean(self) -> float:
        return self.factor * self.base.mean

    @property
    def variance(self) -> float:
        return self.factor**2 * self.base.variance

    def sample(self, rng, size):
        return self.factor * self.base.sample(rng, size)


@dataclass(frozen=True)
class Shifted(Distribution):
    """`base` plus a fixed `offset` (>= 0): e.g. a cold start = container start (random) + download
    and load (fixed). Exact moments: mean = base mean + offset, variance = base variance."""

    base: Distribution
    offset: float

    def __post_init__(self):
        if not (self.offset >= 0 and math.isfinite(self.offset)):
            raise ValueError(f"an offset must be a finite number >= 0, got {self.offset!r}")

    @property
    def mean(self) -> float:
        return self.base.mean + self.offset

    @property
    def variance(self) -> float:
        return self.base.variance

    def sample(self, rng, size):
        return self.base.sample(rng, size) + self.offset
