"""Closed loop: an Inference Recommender STAIRS-like load test, up to 60 users on 2 instances.

Traffic kind "users" with a step schedule: 6 users at the start and 6 more every 2 minutes up to
60 (10 steps, 20 minutes), no think time, as an Inference Recommender load test drives an
endpoint (its STAIRS pattern adds `UsersPerStep` users per step). The model is the suite's
(`models/bench.toml`: exponential 10 ms, 2 workers per instance): from the first step on the 4
workers are saturated, so the endpoint answers about 4 / 10 ms = 400 requests/s (less the
moments the platform overhead leaves a worker idle) and the users queue.

Engines: simfleet end to end; the bare closed-loop kernel on a fresh plane with the same draws,
one call per step; and the naive model with one SimPy process per user (`tests/oracle.py`,
`naive_closed_loop`) on the first `slice_s` seconds. Both must reproduce simfleet's sends.
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed, traced_peak
from registry import Settings, Workload
from targets import speed_targets

INSTANCES = 2
USERS_PER_STEP = 6
STEPS = 10
FULL = {"step_s": 120.0, "slice_s": 240.0, "repeat": 5}
QUICK = {"step_s": 12.0, "slice_s": 24.0}
WARM_UP_STEP_S = 6.0


def experiment(step_s: float) -> dict:
    schedule = [[f"{k * step_s:g}s", USERS_PER_STEP * (k + 1)] for k in range(STEPS)]
    return simfleet_runs.experiment("closed-loop-bench", STEPS * step_s, INSTANCES,
                                    {"kind": "users", "schedule": schedule})


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_STEP_S)),
            lambda: simfleet_runs.run(experiment(spec["step_s"])))


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    step_s, slice_s = sizes["step_s"], sizes["slice_s"]
    raw = experiment(step_s)

    memory = fresh_probe("closed_loop", "simfleet", {"step_s": step_s})
    req = simfleet_runs.capture_closed(raw)  # also loads the JIT in this process
    n = req["total_requests"]
    out = req["simfleet_out"]
    n_slice = int(np.searchsorted(out["arrival"], slice_s, side="left"))

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    kernel_walls, kernel_out = timed(lambda: baselines.closed_kernel(req), repeat)
    naive_walls, naive_out = timed(lambda: baselines.naive_closed(req, slice_s), repeat)

    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "kernel": engine_figures(f"bare closed-loop kernel, {STEPS} calls", len(kernel_out["arrival"]),
                                 kernel_walls, traced_peak(lambda: baselines.closed_kernel(req))),
        "naive_simpy": engine_figures(f"naive SimPy, a process per user, first {slice_s:g} s",
                                      len(naive_out["arrival"]), naive_walls,
                                      traced_peak(lambda: baselines.naive_closed(req, slice_s)), slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    keys = ("arrival", "instance", "start", "status")
    return {
        "title": f"closed loop: users +{USERS_PER_STEP} every {step_s:g} s up to {USERS_PER_STEP * STEPS} "
                 f"({STEPS * step_s:g} s, no think time) on {INSTANCES} x {simfleet_runs.INSTANCE_TYPE} "
                 f"({req['workers']} workers each, exponential 10 ms), 60 s metrics with p50/p90/p99",
        "repeat": repeat,
        "workload": {"duration_s": STEPS * step_s, "step_s": step_s, "users_per_step": USERS_PER_STEP,
                     "steps": STEPS, "instances": INSTANCES, "workers_per_instance": req["workers"],
                     "requests": n, "throughput_per_s": n / (STEPS * step_s),
                     "saturation_throughput_per_s": INSTANCES * req["workers"] / req["service_mean_s"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"],
                   "kernel_over_simfleet": rates["kernel"] / rates["simfleet"],
                   "kernel_over_naive": rates["kernel"] / rates["naive_simpy"]},
        "checks": {"kernel_equals_simfleet": baselines.same_results(kernel_out, out, keys),
                   "naive_equals_simfleet_on_slice": n_slice == len(naive_out["arrival"])
                   and baselines.same_results(naive_out, out, keys, n=n_slice)},
        "memory": {"simfleet_fresh_process": memory},
        "targets": speed_targets(rates["simfleet"], rates["naive_simpy"], rates["kernel"]),
        "notes": [],
    }


WORKLOAD = Workload("closed_loop", run, {"simfleet": probe})
