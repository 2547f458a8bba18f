"""simfleet as a user runs it, and the per-request record of a run that the baselines replay.

`run(raw)` is what every "simfleet end to end" figure times: `scenario_from_dict` (validation,
catalog, model profiles) then `simulate` with metrics, percentiles and summary, as
`simfleet run` does it, without writing Parquet. The experiments are dicts of the shape of an
experiment TOML file; their model is `benchmarks/models/bench.toml`, a benchmark-owned profile.

`capture_open` and `capture_closed` run an experiment once with a requests sink and keep what the
bare kernels and the naive SimPy models need to run exactly the same requests: simfleet's inputs
(arrival times, service times, payloads, the routing draws, re-drawn from the run's named
streams) and its outputs (instance, start of service, outcome), so that each baseline's results
can be compared with simfleet's, request for request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["HERE", "MODEL", "SEED", "ENDPOINT", "VARIANT", "INSTANCE_TYPE", "experiment", "run",
           "capture_open", "capture_closed", "closed_loop_draws"]

HERE = Path(__file__).resolve().parent
MODEL = "bench"                    # benchmarks/models/bench.toml: exponential service, 10 ms mean, 2 workers on c5
INSTANCE_TYPE = "ml.c5.xlarge"
SEED = 1
ENDPOINT, VARIANT = "bench", "AllTraffic"


def experiment(name: str, duration_s: float, instances: int, traffic: dict,
               percentiles=(50, 90, 99)) -> dict:
    """One endpoint, one variant of `instances` x ml.c5.xlarge with least-outstanding-requests
    routing, 60 s invocation metrics (the default MetricsConfig) with `percentiles`."""
    return {
        "experiment": {"name": name, "start_time": "2026-01-05T00:00:00Z", "duration": f"{duration_s:g}s",
                       "seed": SEED, "model_paths": ["models"]},
        "metrics": {"percentiles": list(percentiles)},
        "endpoints": [{
            "endpoint_name": ENDPOINT,
            "production_variants": [{
                "variant_name": VARIANT, "model_name": MODEL, "instance_type": INSTANCE_TYPE,
                "initial_instance_count": instances,
                "routing_config": {"routing_strategy": "LEAST_OUTSTANDING_REQUESTS"},
            }],
        }],
        "traffic": [traffic],
    }


def scenario(raw: dict):
    from simfleet.scenario import scenario_from_dict

    return scenario_from_dict(raw, f"benchmarks/{raw['experiment']['name']}", HERE)


def run(raw: dict, requests_sink: Callable | None = None):
    """What a user does: validate the experiment, then simulate it."""
    from simfleet.engine.simulation import simulate

    return simulate(scenario(raw), requests_sink=requests_sink)


def _plane_setup(result, sc) -> dict:
    variant = result.fleet.variants[0]
    platform = sc.experiment.platform
    return {"variant_index": variant.index, "routing": variant.routing, "instances": variant.initial_instance_count,
            "workers": variant.entry.workers, "queue_limit": variant.entry.max_queue_size,
            "max_payload": platform.max_payload_size, "timeout": platform.invocation_timeout,
            "service_mean_s": variant.entry.service_time.mean,
            "busy_fraction": result.summary["variants"][0]["mean_busy_workers_per_instance"] / variant.entry.workers}


def capture_open(raw: dict, window: tuple[float, float] | None = None) -> dict:
    """Run open-loop `raw` once; keep every request (or those arriving in `window`) as kernel inputs.

    Returns the plane setup, the total number of requests, the kept requests' index range in the
    run, their inputs (`times`, `variants`, `services`, `payloads`, `us`, `model_errors`) and
    simfleet's outputs for them (`instance`, `start`, `status`).
    """
    from simfleet.rng import RandomStreams

    keep = ("arrival_s", "variant", "service_s", "payload_bytes", "instance", "start_s", "status")
    batches, seen = [], [0]
    lo, hi = window if window is not None else (-np.inf, np.inf)

    def sink(records):
        inside = (records.arrival_s >= lo) & (records.arrival_s < hi)
        if inside.any():
            first = seen[0] + int(np.argmax(inside))
            batches.append((first, [getattr(records, k)[inside] for k in keep]))
        seen[0] += len(records)

    sc = scenario(raw)
    from simfleet.engine.simulation import simulate

    result = simulate(sc, requests_sink=sink)
    columns = {k: np.concatenate([b[1][i] for b in batches]) for i, k in enumerate(keep)}
    first, n = (batches[0][0] if batches else 0), len(columns["arrival_s"])
    streams = RandomStreams(sc.experiment.experiment.seed)
    route = streams.draws(f"variant/{ENDPOINT}/{VARIANT}/route", lambda rng, size: rng.random(size))
    us = route.take(first + n)[first:]
    return {
        **_plane_setup(result, sc), "total_requests": seen[0], "first": first,
        "times": columns["arrival_s"], "variants": columns["variant"], "services": columns["service_s"],
        "payloads": columns["payload_bytes"], "us": us, "model_errors": np.zeros(n, np.bool_),
        "simfleet_out": {"instance": columns["instance"], "start": columns["start_s"], "status": columns["status"]},
    }


def closed_loop_draws(sc, n: int) -> dict:
    """The first `n` values of every stream a one-variant closed-loop endpoint consumes, per send.

    The same named streams `engine.endpoint_flow.EndpointFlow` fills its buffers from: the endpoint's
    variant choice and overhead, the source's payload and think time, the variant's service time,
    routing and model-error draws. With one variant, send k takes the k-th value of each.
    """
    from simfleet.rng import RandomStreams

    streams = RandomStreams(sc.experiment.experiment.seed)
    spec = sc.experiment.traffic[0]
    variant_spec = sc.experiment.endpoints[0].production_variants[0]
    entry = sc.profiles[variant_spec.model_name].entry_for(sc.catalog[variant_spec.instance_type],
                                                           variant_spec.workers)
    uniform = lambda rng, size: rng.random(size)  # noqa: E731
    prefix = f"variant/{ENDPOINT}/{VARIANT}"
    take = lambda name, draw: streams.draws(name, draw).take(n)  # noqa: E731
    error_u = take(f"{prefix}/error", uniform)
    return {
        "choice": take(f"endpoint/{ENDPOINT}/variant", uniform),
        "overhead": take(f"endpoint/{ENDPOINT}/overhead", sc.experiment.platform.overhead_latency.build().sample),
        "payload": take("traffic/0/payload", spec.payload.build().sample),
        "think": take("traffic/0/think", spec.think_time.build().sample),
        "service": take(f"{prefix}/service", entry.service_time.sample),
        "route": take(f"{prefix}/route", uniform),
        "error_u": error_u,
        "error": error_u < variant_spec.model_error_rate,
        "error_rate": variant_spec.model_error_rate,
        "payload_time_per_kb": entry.payload_time_per_kb_s,
        "overhead_per_kb": sc.experiment.platform.overhead_per_kb,
    }


def capture_closed(raw: dict) -> dict:
    """Run closed-loop `raw` once; keep its per-send results, the users' schedule and their draws."""
    keep = ("arrival_s", "instance", "start_s", "status", "model_latency_s", "overhead_s")
    batches = []
    sc = scenario(raw)
    from simfleet.engine.simulation import simulate

    result = simulate(sc, requests_sink=lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    n = len(columns["arrival_s"])
    return {
        **_plane_setup(result, sc), "total_requests": n, "knots": sc.experiment.traffic[0].knots(),
        "duration_s": sc.experiment.experiment.duration, "draws": closed_loop_draws(sc, n + 1),
        "simfleet_out": {"arrival": columns["arrival_s"], "instance": columns["instance"],
                         "start": columns["start_s"], "status": columns["status"]},
    }
