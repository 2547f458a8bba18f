"""The direct fit: a lognormal service time from the latency of the least loaded periods.

At low utilization requests rarely wait, so the observed latency is the service time, and the
fitting formulas of `models/README.md` apply to the least loaded level's statistics:

* p50 and p99: `median = p50`, `sigma = ln(p99/p50) / 2.326`;
* p50 and p90 (no p99): `sigma = ln(p90/p50) / 1.2816`;
* mean and p99 (no p50): solve `ln(p99/mean) = 2.326 s - s^2/2` (the smaller root), then
  `median = mean / exp(s^2/2)`;
* one statistic only: `sigma = settings.assumed_sigma` (an ASSUMPTION) and the median from it.

Whether queueing did inflate the latency is not decided here: `fit` replays every level with the
direct fit and falls back to `simulated_fit` when the replay misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.calibration.candidate import Z90, Z99
from simfleet.calibration.observations import LoadLevel

__all__ = ["DirectFit", "direct_fit"]

MIN_SIGMA = 0.01


@dataclass(frozen=True)
class DirectFit:
    median_s: float
    sigma: float
    method: str               # how, in words, for the output and the profile's source
    sigma_assumed: bool


def direct_fit(level: LoadLevel, assumed_sigma: float, overhead_s: float = 0.0) -> DirectFit:
    """Fit a lognormal to `level`'s latency statistics (see the module docstring for the rules),
    less `overhead_s` (client-side latency: SageMaker's overhead median, an approximation that
    the fit by simulation, which simulates the overhead, then corrects)."""
    p = {q: max(v - overhead_s, v * 0.05) for q, v in level.latency_s.items()}
    where = f"the least loaded level ({level.label})"
    if overhead_s:
        where += f", less the overhead median {overhead_s * 1e3:g} ms"
    if 50.0 in p and 99.0 in p and p[99.0] > p[50.0]:
        sigma = math.log(p[99.0] / p[50.0]) / Z99
        return DirectFit(p[50.0], max(MIN_SIGMA, sigma), f"median = p50, sigma = ln(p99/p50)/2.326 from {where}",
                         False)
    if 50.0 in p and 90.0 in p and p[90.0] > p[50.0]:
        sigma = math.log(p[90.0] / p[50.0]) / Z90
        return DirectFit(p[50.0], max(MIN_SIGMA, sigma), f"median = p50, sigma = ln(p90/p50)/1.2816 from {where}",
                         False)
    mean = None if level.mean_latency_s is None else max(level.mean_latency_s - overhead_s, level.mean_latency_s * 0.05)
    if mean is not None and 99.0 in p and p[99.0] > mean:
        # ln(p99/mean) = Z s - s²/2 has a real root while ln(p99/mean) <= Z²/2.
        target = min(math.log(p[99.0] / mean), Z99**2 / 2)
        sigma = Z99 - math.sqrt(Z99**2 - 2 * target)
        sigma = max(MIN_SIGMA, sigma)
        return DirectFit(mean / math.exp(sigma**2 / 2), sigma,
                         f"sigma from ln(p99/mean) = 2.326 s - s^2/2, median = mean/exp(s^2/2), from {where}", False)
    if 50.0 in p:
        return DirectFit(p[50.0], assumed_sigma, f"median = p50 from {where}; sigma {assumed_sigma:g} ASSUMED "
                                                 "(one statistic gives no dispersion)", True)
    if mean is not None:
        return DirectFit(mean / math.exp(assumed_sigma**2 / 2), assumed_sigma,
                         f"median = mean/exp(sigma^2/2) from {where}; sigma {assumed_sigma:g} ASSUMED "
                         "(a mean gives no dispersion)", True)
    any_q = sorted(p)
    if any_q:
        q = any_q[0]
        z = _z(q / 100)
        median = p[q] / math.exp(assumed_sigma * z)
        return DirectFit(median, assumed_sigma, f"median = p{q:g}/exp(sigma z) from {where}; sigma "
                                                f"{assumed_sigma:g} ASSUMED", True)
    raise ValueError("a load level without latency statistics")


def _z(probability: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(probability)
