"""The fit by simulation: candidates simulated on the observed traffic, the closest one kept.

Distance (stated in the output and the profile): the root mean square, over load levels and the
percentiles both sides have (p50, p90, p99), of `ln(simulated / observed)`; closed-loop levels add
`ln(simulated / observed throughput)`, which is what identifies the worker count at saturation.
Log ratios weigh a 10 % miss at p50 and at p99 alike.

Search: a `grid_points` x `grid_points` grid over (median, sigma) of the lognormal, around the
direct fit (median from 0.25x to 1.1x of the direct median: queueing only adds latency, and
sigma from 0.3x to 1.5x), refined `grid_rounds` times around the best point, every candidate
with the same seed (common random numbers, so candidates differ by their parameters, not by
noise). With `--workers auto` each worker count in `worker_candidates` is fitted and the
closest kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simfleet.calibration.candidate import Candidate
from simfleet.calibration.direct_fit import MIN_SIGMA
from simfleet.calibration.observations import LoadLevel
from simfleet.calibration.workload import SimulatedLevel, Workload

__all__ = ["DISTANCE", "distance", "SimulatedFit", "fit_by_simulation", "worker_candidates"]

DISTANCE = ("RMS over load levels and percentiles of ln(simulated/observed) (closed-loop levels: "
            "throughput too)")


def distance(levels: list[LoadLevel], simulated: list[SimulatedLevel]) -> float:
    terms = []
    for level, sim in zip(levels, simulated):
        for q, observed in level.latency_s.items():
            value = sim.latency_s.get(q)
            if value is None or not observed > 0:
                continue
            terms.append(math.log(value / observed) if value > 0 and math.isfinite(value) else 10.0)
        if level.users is not None:
            terms.append(math.log(sim.throughput_per_s / level.rate_per_s) if sim.throughput_per_s > 0 else 10.0)
    return float(math.sqrt(np.mean(np.square(terms)))) if terms else math.inf


@dataclass(frozen=True)
class SimulatedFit:
    candidate: Candidate
    distance: float
    simulations: int


def _evaluate(workload: Workload, levels: list[LoadLevel], candidate: Candidate, seed: int) -> float:
    return distance(levels, [workload.simulate(level, candidate, seed) for level in levels])


def fit_by_simulation(workload: Workload, levels: list[LoadLevel], start: Candidate, points: int, rounds: int,
                      seed: int) -> SimulatedFit:
    """Grid search over (median, sigma) for `start.workers` workers (see the module docstring)."""
    before = workload.simulations
    low_m, high_m = math.log(start.median_s * 0.25), math.log(start.median_s * 1.1)
    low_s, high_s = math.log(max(MIN_SIGMA, start.sigma * 0.3)), math.log(max(MIN_SIGMA * 2, start.sigma * 1.5))
    best = (math.inf, start)
    seen: dict[tuple[float, float], float] = {}
    for _ in range(max(1, rounds)):
        for log_median in np.linspace(low_m, high_m, points):
            for log_sigma in np.linspace(low_s, high_s, points):
                key = (round(float(log_median), 9), round(float(log_sigma), 9))
                if key not in seen:
                    candidate = Candidate(math.exp(key[0]), max(MIN_SIGMA, math.exp(key[1])), start.workers)
                    seen[key] = _evaluate(workload, levels, candidate, seed)
                    if seen[key] < best[0]:
                        best = (seen[key], candidate)
        step_m = (high_m - low_m) / max(1, points - 1)
        step_s = (high_s - low_s) / max(1, points - 1)
        centre_m, centre_s = math.log(best[1].median_s), math.log(best[1].sigma)
        low_m, high_m = centre_m - step_m, centre_m + step_m
        low_s, high_s = centre_s - step_s, centre_s + step_s
    return SimulatedFit(best[1], best[0], workload.simulations - before)


def worker_candidates(vcpus: int, accelerators: int, levels: list[LoadLevel], median_s: float) -> list[int]:
    """Worker counts `--workers auto` tries: powers of two up to twice the vCPUs, the vCPU and
    accelerator counts, and the count the busiest level's throughput needs at the direct median
    (utilization law: busy workers = throughput x service time / instances)."""
    counts = {1, vcpus, max(1, accelerators)}
    power = 2
    while power <= 2 * vcpus:
        counts.add(power)
        power *= 2
    busiest = max(levels, key=lambda level: level.rate_per_s / level.instances)
    counts.add(max(1, math.ceil(busiest.rate_per_s * median_s / busiest.instances)))
    return sorted(c for c in counts if c <= 1024)
