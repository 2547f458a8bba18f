"""Serverless: spiky traffic on a serverless endpoint, one hour, 60 s metrics.

One serverless variant (2048 MB, MaxConcurrency 200) of the benchmark model (`models/bench.toml`:
its c5 entry, exponential 10 ms, which the compute share of 2048 MB leaves unscaled) takes Poisson
traffic at 250 requests/s with a burst of +750 requests/s for 5 s every minute. Idle environments
are reaped after 2 s and a cold start takes 0.2 s plus the model's download and load (1 s), so
each burst starts environments cold, and so do the background's upward swings: a cold-start rate
that is not negligible. About 1.1 M requests.

Engines: simfleet end to end; and the naive model with one SimPy process per request, free, reap
and environment (`tests/oracle.py`, `naive_serverless`) on the first `slice_s` seconds, fed the
run's own draws (re-drawn from its named streams). The naive model must reproduce simfleet's
outcome, environment and start of service of every request in the slice.
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed
from registry import Settings, Workload
from targets import SERVERLESS_NAIVE_RATIO_MIN, target

BASE_RATE_PER_S = 250.0
BURST_RATE_PER_S = 750.0
BURST_EVERY_S, BURST_S = 60.0, 5.0
MAX_CONCURRENCY = 200
FULL = {"duration_s": 3600, "slice_s": 60, "repeat": 3}  # the slice: one period of the traffic (background and a burst)
QUICK = {"duration_s": 120, "slice_s": 10}
WARM_UP_S = 60


def experiment(duration_s: float) -> dict:
    bursts = [{"start": f"{t:g}s", "duration": f"{BURST_S:g}s", "extra_rate": BURST_RATE_PER_S}
              for t in np.arange(BURST_EVERY_S / 2, duration_s - BURST_S, BURST_EVERY_S)]
    raw = simfleet_runs.experiment("serverless-bench", duration_s, 1,
                                   {"kind": "poisson", "rate": BASE_RATE_PER_S, "bursts": bursts})
    variant = raw["endpoints"][0]["production_variants"][0]
    for key in ("instance_type", "initial_instance_count", "routing_config"):
        del variant[key]
    variant["serverless_config"] = {"memory_size_in_mb": 2048, "max_concurrency": MAX_CONCURRENCY}
    raw["serverless"] = {"idle_timeout": "2s", "container_start_time": {"kind": "constant", "value": "0.2s"}}
    return raw


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_S)),
            lambda: simfleet_runs.run(experiment(spec["duration_s"])))


def capture(raw: dict) -> dict:
    """Run `raw` once; keep every request (in arrival order) and every value its named streams gave."""
    from simfleet.rng import RandomStreams

    keep = ("arrival_s", "status", "environment", "start_s", "payload_bytes")
    batches = []
    sc = simfleet_runs.scenario(raw)
    result = simfleet_runs.run(raw, requests_sink=lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    order = np.argsort(columns["arrival_s"], kind="stable")
    out = {k: columns[c][order] for k, c in (("arrival", "arrival_s"), ("status", "status"),
                                              ("environment", "environment"), ("start", "start_s"),
                                              ("payload", "payload_bytes"))}
    n = len(order) + 1
    variant = result.fleet.variants[0]
    streams = RandomStreams(sc.experiment.experiment.seed)
    prefix = f"variant/{simfleet_runs.ENDPOINT}/{simfleet_runs.VARIANT}"
    totals = result.summary["variants"][0]["serverless"]
    return {
        "variant": variant, "requests": len(order), "out": out,
        "overhead": streams.draws(f"endpoint/{simfleet_runs.ENDPOINT}/overhead",
                                  sc.experiment.platform.overhead_latency.build().sample).take(n),
        "route": streams.draws(f"{prefix}/route", lambda rng, size: rng.random(size)).take(n),
        "service": streams.draws(f"{prefix}/service", variant.entry.service_time.sample).take(n),
        "setup": streams.draws(f"{prefix}/setup", variant.serverless.setup_time.sample).take(n),
        "max_payload": sc.experiment.serverless.max_payload_size, "timeout": sc.experiment.serverless.invocation_timeout,
        "cold_start_rate": totals["cold_start_rate"], "throttle_rate": totals["throttle_rate"],
    }


def naive(req: dict, slice_s: float) -> dict:
    """`tests/oracle.py`'s `naive_serverless` on the first `slice_s` seconds of arrivals."""
    oracle = baselines._oracle()
    variant = req["variant"]
    times = req["out"]["arrival"]
    n = int(np.searchsorted(times, slice_s, side="left"))
    streams = {("overhead", 0): list(req["overhead"][:n + 1]), ("route", 0): list(req["route"][:n + 1]),
               ("service", 0): list(req["service"][:n + 1]), ("setup", 0): list(req["setup"][:n + 1])}
    pool = oracle.NaivePool(variant.serverless.max_concurrency, variant.serverless.idle_timeout_s,
                            variant.serverless.provisioned_concurrency)
    requests, _ = oracle.naive_serverless([pool], variant.serverless.account_max_concurrency,
                                          (times[:n], np.zeros(n, np.int64), req["out"]["payload"][:n]), streams,
                                          [0.0], req["max_payload"], req["timeout"], slice_s)
    return {"status": np.array([r["status"] for r in requests], np.int8),
            "environment": np.array([r["environment"] for r in requests], np.int8),
            "start": np.array([r["start"] for r in requests])}


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]
    raw = experiment(duration_s)

    memory = fresh_probe("serverless", "simfleet", {"duration_s": duration_s})
    req = capture(raw)  # also loads the JIT in this process
    n = req["requests"]
    n_slice = int(np.searchsorted(req["out"]["arrival"], slice_s, side="left"))

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    naive_walls, naive_out = timed(lambda: naive(req, slice_s), repeat)
    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "naive_simpy": engine_figures(f"naive SimPy per request and environment, first {slice_s:g} s of arrivals",
                                      n_slice, naive_walls, None, slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    return {
        "title": f"serverless: Poisson {BASE_RATE_PER_S:g} req/s + {BURST_RATE_PER_S:g} req/s for {BURST_S:g} s "
                 f"every {BURST_EVERY_S:g} s, {duration_s:g} s, 2048 MB, MaxConcurrency {MAX_CONCURRENCY}, "
                 "idle timeout 2 s, 60 s metrics",
        "repeat": repeat,
        "workload": {"duration_s": duration_s, "requests": n, "seed": simfleet_runs.SEED,
                     "cold_start_rate": req["cold_start_rate"], "throttle_rate": req["throttle_rate"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"]},
        "checks": {"naive_equals_simfleet_on_slice": baselines.same_results(
            naive_out, req["out"], keys=("status", "environment", "start"), n=n_slice)},
        "memory": {"simfleet_fresh_process": memory},
        "targets": [target("simfleet end to end / naive SimPy per request", rates["simfleet"] / rates["naive_simpy"],
                           ">=", SERVERLESS_NAIVE_RATIO_MIN, "x")],
        "notes": [],
    }


WORKLOAD = Workload("serverless", run, {"simfleet": probe})
