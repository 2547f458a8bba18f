"""Declarative distribution specs, as written in experiment and profile files.

``{ kind = "lognormal", median = "7ms", sigma = 0.25 }`` validates into a `LognormalSpec`, whose
`build()` returns the runtime `simfleet.distributions.Lognormal` in engine units. The same kinds
serve durations (`TimeDistribution`), sizes (`SizeDistribution`) and plain factors
(`FactorDistribution`); only the unit parser differs.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar, Union

from pydantic import Field, model_validator

from simfleet import distributions as dist
from simfleet.schema.quantities import Duration, Pair, Size, StrictModel

__all__ = ["TimeDistribution", "SizeDistribution", "FactorDistribution", "smallest_value"]

Q = TypeVar("Q")


class ConstantSpec(StrictModel, Generic[Q]):
    kind: Literal["constant"]
    value: Q

    def build(self) -> dist.Distribution:
        return dist.Constant(self.value)


class ExponentialSpec(StrictModel, Generic[Q]):
    kind: Literal["exponential"]
    mean: Q = Field(gt=0)

    def build(self) -> dist.Distribution:
        return dist.Exponential(self.mean)


class LognormalSpec(StrictModel, Generic[Q]):
    kind: Literal["lognormal"]
    median: Q = Field(gt=0)
    sigma: float = Field(gt=0, le=5, description="standard deviation of the logarithm")

    def build(self) -> dist.Distribution:
        return dist.Lognormal(self.median, self.sigma)


class GammaSpec(StrictModel, Generic[Q]):
    kind: Literal["gamma"]
    mean: Q = Field(gt=0)
    cv: float = Field(gt=0, le=20, description="coefficient of variation (std / mean)")

    def build(self) -> dist.Distribution:
        return dist.Gamma(self.mean, self.cv)


class EmpiricalSpec(StrictModel, Generic[Q]):
    kind: Literal["empirical"]
    quantiles: list[Pair(float, Q)] = Field(min_length=2)

    @model_validator(mode="after")
    def _monotone(self):
        probs = [p for p, _ in self.quantiles]
        values = [v for _, v in self.quantiles]
        if probs[0] != 0.0 or probs[-1] != 1.0:
            raise ValueError("quantiles must start at probability 0.0 and end at 1.0")
        if any(b <= a for a, b in zip(probs, probs[1:])):
            raise ValueError("quantile probabilities must be strictly increasing")
        if any(b < a for a, b in zip(values, values[1:])):
            raise ValueError("quantile values must be non-decreasing")
        return self

    def build(self) -> dist.Distribution:
        return dist.Empirical(tuple(p for p, _ in self.quantiles), tuple(v for _, v in self.quantiles))


def _union(q):
    return Annotated[
        Union[ConstantSpec[q], ExponentialSpec[q], LognormalSpec[q], GammaSpec[q], EmpiricalSpec[q]],
        Field(discriminator="kind"),
    ]


TimeDistribution = _union(Duration)
SizeDistribution = _union(Size)
#: A dimensionless positive factor (a latency scale): the same kinds, plain numbers.
FactorDistribution = _union(float)


def smallest_value(spec) -> float | None:
    """The smallest value a spec can give where its kind allows one (constant, empirical); None
    for the kinds whose support is the positive half-line (exponential, lognormal, gamma)."""
    if isinstance(spec, ConstantSpec):
        return spec.value
    if isinstance(spec, EmpiricalSpec):
        return spec.quantiles[0][1]
    return None
