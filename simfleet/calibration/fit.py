"""A calibration from observations to a fitted entry, saying which method gave which part.

1. The periods are grouped into load levels (`observations.load_levels`).
2. Service time: the direct fit of the least loaded level (`direct_fit`). It is kept when a
   simulation of the levels with it is within `settings.direct_tolerance_pct` of the observed
   percentiles (and, closed loop, throughput) as the fit's distance measures it: queueing did not
   inflate the latency. Otherwise the
   fit is by simulation (`simulated_fit`), starting from the direct fit.
3. Workers: stated (`--workers N`), or with `--workers auto` fitted by simulation over
   `simulated_fit.worker_candidates` (the service time searched for the `auto_searched_counts`
   counts whose direct start is closest, the others judged by their direct start); when the data cannot tell worker counts apart (no level
   queues), the profile convention (one per vCPU, or per accelerator) among the closest.
4. The fitted entry is replayed (`replay`) for the fit's quality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.calibration.candidate import Candidate
from simfleet.calibration.direct_fit import direct_fit
from simfleet.calibration.observations import LoadLevel, Observations, load_levels
from simfleet.calibration.replay import ReplayRow, replay
from simfleet.calibration.settings import CalibrationSettings
from simfleet.calibration.simulated_fit import DISTANCE, distance, fit_by_simulation, worker_candidates
from simfleet.calibration.workload import Workload
from simfleet.catalog import InstanceType

__all__ = ["Calibration", "calibrate"]

#: Distances closer than this (in log-ratio RMS) do not tell two worker counts apart.
_TIE = 0.01


@dataclass(frozen=True)
class Calibration:
    candidate: Candidate
    levels: list[LoadLevel]
    methods: dict[str, str]          # part ("service time", "workers") -> method in words
    replay: list[ReplayRow]
    distance: float
    simulations: int


def calibrate(observations: Observations, instance: InstanceType, key: str, workers: int | None,
              settings: CalibrationSettings, default_instances: int = 1) -> Calibration:
    levels = load_levels(observations, settings.max_levels, default_instances)
    workload = Workload(instance, key, observations.latency, settings)
    overhead = settings.overhead_median_s if observations.latency == "client" else 0.0
    direct = direct_fit(levels[0], settings.assumed_sigma, overhead)
    convention = max(1, instance.accelerators) if instance.accelerators else instance.vcpus
    if workers is not None:
        counts, worker_method = [workers], "stated (--workers)"
    else:
        counts = worker_candidates(instance.vcpus, instance.accelerators, levels, direct.median_s)
        worker_method = None
    directs = []
    for count in counts:
        start = Candidate(direct.median_s, direct.sigma, count)
        directs.append((distance(levels, [workload.simulate(level, start, settings.fit_seed) for level in levels]),
                        start))
    # Only the worker counts whose direct start is closest are searched (--workers auto tries several).
    ranked = sorted(range(len(directs)), key=lambda i: directs[i][0])
    searched = set(ranked[:settings.auto_searched_counts])
    results = []
    for index, (direct_distance, start) in enumerate(directs):
        if direct_distance <= math.log(1 + settings.direct_tolerance_pct / 100):
            results.append((direct_distance, start, "direct"))
        elif index in searched:
            fitted = fit_by_simulation(workload, levels, start, settings.search_step, settings.search_tolerance,
                                       settings.max_candidates, settings.fit_seed, fix_sigma=direct.sigma_assumed)
            results.append((fitted.distance, fitted.candidate, "simulation"))
        else:
            results.append((direct_distance, start, "direct, not searched"))
    best_distance = min(r[0] for r in results)
    close = [r for r in results if r[0] <= best_distance + _TIE]
    if workers is None:
        tied = len(close) > 1
        chosen = next((r for r in close if r[1].workers == convention), None) if tied else None
        if chosen is None:
            chosen = min(results, key=lambda r: (r[0], r[1].workers))
            worker_method = (f"fitted by simulation (--workers auto): {chosen[1].workers} of "
                             f"{', '.join(str(c) for c in counts)} gave the smallest distance")
            if tied:
                worker_method += " (others within 0.01: the data hardly tell them apart)"
        else:
            worker_method = (f"not identifiable from these data (worker counts {', '.join(str(r[1].workers) for r in close)} "
                             f"fit within 0.01): the profile convention, one per "
                             f"{'accelerator' if instance.accelerators else 'vCPU'} ({convention})")
    else:
        chosen = results[0]
    dist, candidate, how = chosen
    if how == "direct":
        service_method = (f"direct ({direct.method}); its simulation reproduces the levels within "
                          f"{settings.direct_tolerance_pct:g} % (distance {dist:.4f} <= ln(1 + "
                          f"{settings.direct_tolerance_pct:g} %)), so queueing did not inflate the latency")
    elif how == "direct, not searched":
        service_method = (f"direct ({direct.method}), not searched further: distance {dist:.4f}, above ln(1 + "
                          f"{settings.direct_tolerance_pct:g} %)")
    else:
        service_method = (f"by simulation: lognormal minimising the distance {DISTANCE}, from the direct "
                          f"estimate ({direct.method}), whose simulation missed by more than "
                          f"{settings.direct_tolerance_pct:g} % (queueing or overhead inflates the observed "
                          f"latency); distance {dist:.4f}")
        if direct.sigma_assumed:
            service_method += f"; only the median searched, sigma {direct.sigma:g} ASSUMED"
    if direct.sigma_assumed and how == "direct":
        service_method += "; sigma ASSUMED"
    methods = {"service time": service_method, "workers": worker_method}
    rows = replay(workload, levels, candidate, settings.replay_seed, settings.replay_max_requests)
    return Calibration(candidate, levels, methods, rows, dist, workload.simulations)

