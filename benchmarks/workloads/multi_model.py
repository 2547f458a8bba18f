"""Multi-model: 1,000 models on a 4-instance multi-model endpoint, one hour at 500 requests/s.

One multi-model variant of the benchmark model (`models/bench.toml`: exponential 10 ms, 2 workers
per `ml.c5.xlarge`) on 4 instances serves 1,000 models (artifacts lognormal, median 20 MB, each
loaded once per worker), requested with Zipf popularity (exponent 1); each instance's container
memory holds about 170 of them. Downloads are queued at 100 MB/s, loads take 0.3 s + size / 200
MB/s: the cache hit ratio is well below 1, and models are loaded and unloaded all the time. About
1.8 M requests.

Engines: simfleet end to end; and the naive model with one SimPy process per request and a
dict per cache tier (`tests/oracle.py`, `naive_mme`) on the first `slice_s` seconds, fed the run's
own draws (re-drawn from its named streams) and its own population. The naive model must
reproduce simfleet's instance, outcome and hit or miss of every request in the slice, and the
start of service of those served within it. Memory: the caches' state is models × instances, so simfleet's peak must not grow with the
run's length: the peak of a fresh 1 h run is compared with a fresh 10 min one.
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed
from registry import Settings, Workload
from targets import MULTI_MODEL_MEMORY_GROWTH_MAX, MULTI_MODEL_NAIVE_RATIO_MIN, target

RATE_PER_S = 500.0
INSTANCES = 4
MODELS = 1000
FULL = {"duration_s": 3600, "short_s": 600, "slice_s": 20, "repeat": 3}
QUICK = {"duration_s": 120, "short_s": 60, "slice_s": 5}
WARM_UP_S = 60


def experiment(duration_s: float) -> dict:
    raw = simfleet_runs.experiment("multi-model-bench", duration_s, INSTANCES, {"kind": "poisson", "rate": RATE_PER_S})
    variant = raw["endpoints"][0]["production_variants"][0]
    variant["mode"] = "MultiModel"
    variant["model_population"] = {"count": MODELS,
                                   "artifact_size": {"kind": "lognormal", "median": "20 MB", "sigma": 0.6},
                                   "popularity": {"kind": "zipf", "exponent": 1.0}}
    raw["multi_model"] = {"load_time_rule": "bandwidth", "load_bandwidth": "200 MB/s", "load_fixed_time": "0.3s"}
    return raw


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_S)),
            lambda: simfleet_runs.run(experiment(spec["duration_s"])))


def capture(raw: dict) -> dict:
    """Run `raw` once; keep every request (in arrival order) and every value its named streams gave."""
    from simfleet.rng import RandomStreams

    keep = ("arrival_s", "instance", "status", "cache", "start_s", "payload_bytes")
    batches = []
    sc = simfleet_runs.scenario(raw)
    result = simfleet_runs.run(raw, requests_sink=lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    order = np.argsort(columns["arrival_s"], kind="stable")
    out = {k: columns[c][order] for k, c in (("arrival", "arrival_s"), ("instance", "instance"),
                                              ("status", "status"), ("cache", "cache"), ("start", "start_s"),
                                              ("payload", "payload_bytes"))}
    n = len(order) + 1
    variant = result.fleet.variants[0]
    streams = RandomStreams(sc.experiment.experiment.seed)
    prefix = f"variant/{simfleet_runs.ENDPOINT}/{simfleet_runs.VARIANT}"
    totals = result.summary["variants"][0]["multi_model"]
    return {
        "variant": variant, "requests": len(order), "out": out,
        "overhead": streams.draws(f"endpoint/{simfleet_runs.ENDPOINT}/overhead",
                                  sc.experiment.platform.overhead_latency.build().sample).take(n),
        "route": streams.draws(f"{prefix}/route", lambda rng, size: rng.random(size)).take(n),
        "model": streams.draws(f"{prefix}/model", lambda rng, size: rng.random(size)).take(n),
        "service": streams.draws(f"{prefix}/service", variant.entry.service_time.sample).take(n),
        "max_payload": sc.experiment.platform.max_payload_size, "timeout": sc.experiment.platform.invocation_timeout,
        "hit_ratio": totals["hit_ratio"], "loads_per_minute": totals["loads_per_minute"],
    }


def naive(req: dict, slice_s: float) -> dict:
    """`tests/oracle.py`'s `naive_mme` on the first `slice_s` seconds of arrivals."""
    oracle = baselines._oracle()
    variant = req["variant"]
    m = variant.multi_model
    times = req["out"]["arrival"]
    n = int(np.searchsorted(times, slice_s, side="left"))
    memory = (m.gpu_memory_bytes if m.gpu else m.memory_bytes) * m.copies_per_load
    cache = oracle.NaiveModelCache(
        mem_need=list(memory), disk_need=list(m.artifact_bytes),
        download_s=list(m.download_latency_s + m.artifact_bytes / m.download_bandwidth_bps),
        load_s=list(m.load_time_s), unload_s=[m.unload_time_s] * len(m), scale=list(m.latency_scale),
        cdf=list(m.popularity_cdf), spread_at=m.spread_outstanding_requests, wait_limit=m.invocation_timeout_s,
        mem_cap=m.tiers.gpu_memory_bytes if m.gpu else m.tiers.memory_bytes, disk_cap=m.tiers.disk_bytes,
        channels=1 if m.download_sharing == "queued" else len(m), disabled=not m.cache_enabled)
    streams = {"overhead": list(req["overhead"][:n + 1]), ("route", 0): list(req["route"][:n + 1]),
               ("model", 0): list(req["model"][:n + 1]), ("service", 0): list(req["service"][:n + 1])}
    mme = oracle.NaiveMMVariant(cache, [(variant.entry.workers, variant.entry.max_queue_size)] * INSTANCES,
                                [str(c) for c in range(len(m))])
    requests, _ = oracle.naive_mme([mme], (times[:n], [-1] * n, [None] * n, req["out"]["payload"][:n]), streams,
                                   [0.0], req["max_payload"], req["timeout"], slice_s)
    requests.sort(key=lambda row: row["arrival"])
    return {"instance": np.array([r["instance"] for r in requests], np.int32),
            "status": np.array([r["status"] for r in requests], np.int8),
            "cache": np.array([r["cache"] for r in requests], np.int8),
            "start": np.array([r["start"] for r in requests])}


def _same_on_slice(naive_out: dict, out: dict, n: int, slice_s: float) -> bool:
    """The slice's requests: the same instance, outcome and hit or miss; the same start of service for
    those that reach their worker slots within the slice (after it, simfleet's requests queue behind
    arrivals the naive run, which stops its arrivals there, does not have)."""
    same = baselines.same_results(naive_out, out, keys=("instance", "status", "cache"), n=n)
    inside = out["start"][:n] < slice_s
    return same and len(naive_out["start"]) == n and bool(np.array_equal(naive_out["start"][inside],
                                                                          out["start"][:n][inside]))


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]
    raw = experiment(duration_s)

    memory = fresh_probe("multi_model", "simfleet", {"duration_s": duration_s})
    short = fresh_probe("multi_model", "simfleet", {"duration_s": sizes["short_s"]})
    req = capture(raw)  # also loads the JIT in this process
    n = req["requests"]
    n_slice = int(np.searchsorted(req["out"]["arrival"], slice_s, side="left"))

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    naive_walls, naive_out = timed(lambda: naive(req, slice_s), repeat)
    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "naive_simpy": engine_figures(f"naive SimPy per request, dict caches, first {slice_s:g} s of arrivals",
                                      n_slice, naive_walls, None, slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    growth = memory["tracemalloc_peak_bytes"] / short["tracemalloc_peak_bytes"]
    return {
        "title": f"multi_model: {MODELS} Zipf-popular models on {INSTANCES} x {simfleet_runs.INSTANCE_TYPE}, Poisson "
                 f"{RATE_PER_S:g} req/s for {duration_s:g} s, queued downloads, LRU caches, 60 s metrics",
        "repeat": repeat,
        "workload": {"duration_s": duration_s, "requests": n, "seed": simfleet_runs.SEED,
                     "hit_ratio": req["hit_ratio"], "loads_per_minute": req["loads_per_minute"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"],
                   "peak_memory_long_over_short": growth},
        "checks": {"naive_equals_simfleet_on_slice": _same_on_slice(naive_out, req["out"], n_slice, slice_s)},
        "memory": {"simfleet_fresh_process": memory, "simfleet_fresh_process_short": short},
        "targets": [
            target("simfleet end to end / naive SimPy per request", rates["simfleet"] / rates["naive_simpy"],
                   ">=", MULTI_MODEL_NAIVE_RATIO_MIN, "x"),
            target(f"peak memory, {duration_s:g} s run / {sizes['short_s']:g} s run", growth, "<=",
                   MULTI_MODEL_MEMORY_GROWTH_MAX, "x"),
        ],
        "notes": [],
    }


WORKLOAD = Workload("multi_model", run, {"simfleet": probe})
