"""Open loop: one hour of Poisson traffic at 500 requests/s on 4 instances, 60 s metrics with percentiles.

The model (`models/bench.toml`) serves in an exponential time of mean 10 ms with 2 workers per
`ml.c5.xlarge`, so the fleet is 500 × 0.010 / (4 × 2) = 62.5 % busy. Engines: simfleet end to end,
the bare dispatch kernel on exactly simfleet's requests, and the naive one-SimPy-process-per-request
model on the first `slice_s` seconds of them (it is slow).
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed, traced_peak
from registry import Settings, Workload
from targets import speed_targets

RATE_PER_S = 500.0
INSTANCES = 4
FULL = {"duration_s": 3600, "slice_s": 300, "repeat": 5}
QUICK = {"duration_s": 120, "slice_s": 5}  # the naive model runs its slice twice (timed, traced): ~2.5 k requests
WARM_UP_S = 60


def experiment(duration_s: float) -> dict:
    return simfleet_runs.experiment("open-loop-bench", duration_s, INSTANCES, {"kind": "poisson", "rate": RATE_PER_S})


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_S)),
            lambda: simfleet_runs.run(experiment(spec["duration_s"])))


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]
    raw = experiment(duration_s)

    memory = fresh_probe("open_loop", "simfleet", {"duration_s": duration_s})
    req = simfleet_runs.capture_open(raw)  # also loads the JIT in this process
    n = len(req["times"])
    n_slice = int(np.searchsorted(req["times"], slice_s, side="left"))
    naive_cut = slice(0, n_slice)

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    kernel_walls, kernel_out = timed(lambda: baselines.open_kernel(req), repeat)
    naive_walls, naive_out = timed(lambda: baselines.naive_open(req, naive_cut), repeat)

    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "kernel": engine_figures("bare dispatch kernel, one call", n, kernel_walls,
                                 traced_peak(lambda: baselines.open_kernel(req))),
        "naive_simpy": engine_figures(f"naive SimPy, first {slice_s:g} s of arrivals", n_slice, naive_walls,
                                      traced_peak(lambda: baselines.naive_open(req, naive_cut)),
                                      slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    return {
        "title": f"open loop: Poisson {RATE_PER_S:g} req/s for {duration_s:g} s on {INSTANCES} x "
                 f"{simfleet_runs.INSTANCE_TYPE} ({req['workers']} workers each, exponential 10 ms), "
                 "least outstanding requests, 60 s metrics with p50/p90/p99",
        "repeat": repeat,
        "workload": {"duration_s": duration_s, "rate_per_s": RATE_PER_S, "instances": INSTANCES,
                     "workers_per_instance": req["workers"], "requests": n, "seed": simfleet_runs.SEED,
                     "offered_utilization": RATE_PER_S * req["service_mean_s"] / (INSTANCES * req["workers"]),
                     "simulated_utilization": req["busy_fraction"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"],
                   "kernel_over_simfleet": rates["kernel"] / rates["simfleet"],
                   "kernel_over_naive": rates["kernel"] / rates["naive_simpy"]},
        "checks": {"kernel_equals_simfleet": baselines.same_results(kernel_out, req["simfleet_out"]),
                   "naive_equals_simfleet_on_slice": baselines.same_results(naive_out, req["simfleet_out"],
                                                                            n=n_slice)},
        "memory": {"simfleet_fresh_process": memory},
        "targets": speed_targets(rates["simfleet"], rates["naive_simpy"], rates["kernel"]),
        "notes": [],
    }


WORKLOAD = Workload("open_loop", run, {"simfleet": probe})
