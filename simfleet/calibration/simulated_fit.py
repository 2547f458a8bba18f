"""The fit by simulation: candidates simulated on the observed traffic, the closest one kept.

Distance (stated in the output and the profile): the root mean square, over load levels and the
percentiles both sides have (p50, p90, p99), of `ln(simulated / observed)`; closed-loop levels add
`ln(simulated / observed throughput)`, which is what identifies the worker count at saturation.
Log ratios weigh a 10 % miss at p50 and at p99 alike.

Search: Nelder–Mead over (ln median, ln sigma) of the lognormal, from the direct fit, with a
first step of `settings.search_step` (in log units) downwards (queueing only adds latency), until
the simplex is within `settings.search_tolerance` or `settings.max_candidates` candidates were
simulated. When the data give one latency statistic (sigma assumed) only the median is searched.
Every candidate runs with the same seed (common random numbers: candidates differ by their
parameters, not by noise). With `--workers auto` each worker count in `worker_candidates` is
fitted and the closest kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simfleet.calibration.candidate import Candidate
from simfleet.calibration.direct_fit import MIN_SIGMA
from simfleet.calibration.observations import LoadLevel
from simfleet.calibration.workload import SimulatedLevel, Workload

__all__ = ["DISTANCE", "distance", "SimulatedFit", "fit_by_simulation", "worker_candidates", "nelder_mead"]

DISTANCE = ("RMS over load levels and percentiles of ln(simulated/observed) (closed-loop levels: "
            "throughput too)")
MAX_SIGMA = 5.0   # the profile schema's bound on a lognormal's sigma


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


def nelder_mead(f, x0: np.ndarray, step: float, tolerance: float, max_evaluations: int) -> tuple[np.ndarray, float]:
    """Minimise `f` from `x0` (Nelder–Mead, standard coefficients 1, 2, 1/2, 1/2); deterministic."""
    n = len(x0)
    simplex = [np.array(x0, dtype=float)] + [np.array(x0, dtype=float) - step * np.eye(n)[i] for i in range(n)]
    values = [f(x) for x in simplex]
    evaluations = len(simplex)
    while evaluations < max_evaluations:
        order = np.argsort(values, kind="stable")
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if max(float(np.max(np.abs(x - simplex[0]))) for x in simplex[1:]) < tolerance:
            break
        centroid = np.mean(simplex[:-1], axis=0)
        reflected = centroid + (centroid - simplex[-1])
        fr = f(reflected)
        evaluations += 1
        if fr < values[0]:
            expanded = centroid + 2 * (centroid - simplex[-1])
            fe = f(expanded)
            evaluations += 1
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(contracted)
            evaluations += 1
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                for i in range(1, len(simplex)):
                    simplex[i] = simplex[0] + 0.5 * (simplex[i] - simplex[0])
                    values[i] = f(simplex[i])
                    evaluations += 1
    best = int(np.argmin(values))
    return simplex[best], values[best]


def fit_by_simulation(workload: Workload, levels: list[LoadLevel], start: Candidate, step: float, tolerance: float,
                      max_candidates: int, seed: int, fix_sigma: bool = False) -> SimulatedFit:
    """Nelder–Mead over the lognormal's parameters for `start.workers` workers (see the module docstring)."""
    before = workload.simulations
    cache: dict[tuple, float] = {}

    def candidate_of(x) -> Candidate:
        sigma = start.sigma if fix_sigma else float(np.clip(math.exp(x[1]), MIN_SIGMA, MAX_SIGMA))
        return Candidate(math.exp(x[0]), sigma, start.workers)

    def f(x) -> float:
        candidate = candidate_of(x)
        key = candidate.distribution()["median"], candidate.distribution()["sigma"]
        if key not in cache:
            cache[key] = distance(levels, [workload.simulate(level, candidate, seed) for level in levels])
        return cache[key]

    x0 = np.array([math.log(start.median_s)] if fix_sigma else [math.log(start.median_s), math.log(start.sigma)])
    x, value = nelder_mead(f, x0, step, tolerance, max_candidates)
    return SimulatedFit(candidate_of(x), value, workload.simulations - before)


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
