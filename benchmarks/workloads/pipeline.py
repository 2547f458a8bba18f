"""Pipeline: a three-container serial inference pipeline, one hour of Poisson traffic, 60 s metrics.

Each instance (4 x `ml.c5.xlarge`) runs a pre-processing container (`models/bench-pre.toml`:
exponential 2 ms, 4 workers), the model (`bench.toml`: exponential 10 ms, 2 workers) and a
post-processing container (`bench-post.toml`: exponential 1 ms, 4 workers); 600 requests/s make
the model's workers 75 % busy, so requests queue at the model and pass between containers at
instants the heap of pending hops orders. About 2.2 M requests, 6.5 M container visits.

Engines: simfleet end to end; the bare request kernel (`EndpointFlow` over the run's own draws,
re-drawn from its named streams, one call); and the naive model with one SimPy process per
request hop (`tests/oracle.py`, `naive_flow`) on the first `slice_s` seconds. Both must reproduce
simfleet's instance, first start of service and outcome of every request.
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed, traced_peak
from registry import Settings, Workload
from targets import PIPELINE_KERNEL_FACTOR_MAX, PIPELINE_NAIVE_RATIO_MIN, target

RATE_PER_S = 600.0
INSTANCES = 4
CONTAINERS = (("pre", "bench-pre"), ("model", "bench"), ("post", "bench-post"))
FULL = {"duration_s": 3600, "slice_s": 60, "repeat": 5}
QUICK = {"duration_s": 120, "slice_s": 2.5}  # the naive model runs its slice twice (timed, traced): ~1.5 k requests
WARM_UP_S = 60


def experiment(duration_s: float) -> dict:
    raw = simfleet_runs.experiment("pipeline-bench", duration_s, INSTANCES, {"kind": "poisson", "rate": RATE_PER_S})
    variant = raw["endpoints"][0]["production_variants"][0]
    del variant["model_name"]
    variant["containers"] = [{"container_hostname": name, "model_name": model} for name, model in CONTAINERS]
    return raw


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_S)),
            lambda: simfleet_runs.run(experiment(spec["duration_s"])))


def capture(raw: dict) -> dict:
    """Run `raw` once; keep every request (in arrival order) and every value its named streams gave."""
    from simfleet.rng import RandomStreams

    keep = ("arrival_s", "instance", "start_s", "status")
    batches = []
    sc = simfleet_runs.scenario(raw)
    result = simfleet_runs.run(raw, requests_sink=lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    order = np.argsort(columns["arrival_s"], kind="stable")
    out = {"arrival": columns["arrival_s"][order], "instance": columns["instance"][order],
           "start": columns["start_s"][order], "status": columns["status"][order]}
    n = len(order) + 4096  # the requests still between containers at the end drew too
    variant = result.fleet.variants[0]
    streams = RandomStreams(sc.experiment.experiment.seed)
    prefix = f"variant/{simfleet_runs.ENDPOINT}/{simfleet_runs.VARIANT}"
    services = [streams.draws(f"{prefix}/service" if c == 0 else f"{prefix}/container/{container.hostname}/service",
                              container.entry.service_time.sample).take(n)
                for c, container in enumerate(variant.containers)]
    return {
        "variant": variant, "requests": len(order), "out": out, "services": services,
        "route": streams.draws(f"{prefix}/route", lambda rng, size: rng.random(size)).take(n),
        "overhead": streams.draws(f"endpoint/{simfleet_runs.ENDPOINT}/overhead",
                                  sc.experiment.platform.overhead_latency.build().sample).take(n),
        "max_payload": sc.experiment.platform.max_payload_size, "timeout": sc.experiment.platform.invocation_timeout,
        "busy_fraction": result.summary["variants"][0]["mean_busy_workers_per_instance"],
    }


def _plane(req: dict):
    from simfleet.engine.request_plane import RequestPlane

    variant = req["variant"]
    plane = RequestPlane([variant.routing], [len(variant.containers)], [False])
    for _ in range(INSTANCES):
        plane.add_instance(0, [c.entry.workers for c in variant.containers],
                           [c.entry.max_queue_size for c in variant.containers])
    return plane


def bare_kernel(req: dict) -> dict:
    """The request kernel alone on the run's arrivals and draws: one call, then the in-flight drain."""
    from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
    from simfleet.engine.kernels.flow import Arrivals

    variant = req["variant"]
    plane = _plane(req)
    flow = EndpointFlow(plane, [FlowVariant(
        index=0, weight=1.0, route=GivenValues(req["route"]), services=tuple(GivenValues(s) for s in req["services"]),
        payload_time_per_kb=tuple(0.0 for _ in variant.containers), error=None, error_rate=0.0,
        hostnames=variant.hostnames)], GivenValues([]), GivenValues(req["overhead"]), 0.0, req["max_payload"],
        req["timeout"])
    flow.draws = flow.rows.buffer(len(req["route"]))
    times = req["out"]["arrival"]
    n = len(times)
    payload = np.full(n, 1000.0)  # the experiment's payload: a constant 1 KB
    columns, _ = flow.advance_columns(plane, Arrivals(times, np.zeros(n, np.int64), payload, np.zeros(n, np.int64),
                                                      np.zeros(n, np.int64), np.zeros(1, np.int64)), np.inf)
    order = np.argsort(columns["arrival"], kind="stable")
    return {"instance": columns["instance"][order], "start": columns["start"][order],
            "status": columns["status"][order]}


def naive(req: dict, slice_s: float) -> dict:
    """`tests/oracle.py`'s `naive_flow`: a SimPy process per user, request and hop, on the first `slice_s`."""
    oracle = baselines._oracle()
    variant = req["variant"]
    times = req["out"]["arrival"]
    n = int(np.searchsorted(times, slice_s, side="left"))
    streams = {"overhead": list(req["overhead"][:n + 1]), ("route", 0): list(req["route"][:n + 1])}
    for c, values in enumerate(req["services"]):
        streams[("service", 0, c)] = list(values[:n + 1])
    requests, _, _ = oracle.naive_flow(
        [oracle.NaiveVariant(variant.routing, len(variant.containers), False)],
        [oracle.NaiveStationInstance(0, tuple(c.entry.workers for c in variant.containers),
                                     tuple(c.entry.max_queue_size for c in variant.containers))
         for _ in range(INSTANCES)],
        [1.0], (times[:n], np.zeros(n, np.int64), np.full(n, 1000.0), np.full(n, -1, np.int64)), [], streams,
        [0.0], 0.0, [[0.0] * len(variant.containers)], req["max_payload"], req["timeout"], slice_s)
    requests.sort(key=lambda row: row["arrival"])
    return {"instance": np.array([r["instance"] for r in requests], np.int32),
            "start": np.array([r["start"] for r in requests]), "status": np.array([r["status"] for r in requests], np.int8)}


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]
    raw = experiment(duration_s)

    memory = fresh_probe("pipeline", "simfleet", {"duration_s": duration_s})
    req = capture(raw)  # also loads the JIT in this process
    n = req["requests"]
    n_slice = int(np.searchsorted(req["out"]["arrival"], slice_s, side="left"))
    n_settled = int(np.searchsorted(req["out"]["arrival"], duration_s - 1.0, side="left"))

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    kernel_walls, kernel_out = timed(lambda: bare_kernel(req), repeat)
    naive_walls, naive_out = timed(lambda: naive(req, slice_s), repeat)

    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "kernel": engine_figures("bare request kernel, one call", n, kernel_walls,
                                 traced_peak(lambda: bare_kernel(req))),
        "naive_simpy": engine_figures(f"naive SimPy per hop, first {slice_s:g} s of arrivals", n_slice, naive_walls,
                                      traced_peak(lambda: naive(req, slice_s)), slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    return {
        "title": f"pipeline: Poisson {RATE_PER_S:g} req/s for {duration_s:g} s on {INSTANCES} x "
                 f"{simfleet_runs.INSTANCE_TYPE}, three containers in series (2 ms / 10 ms / 1 ms, "
                 "4 / 2 / 4 workers), least outstanding requests, 60 s metrics with ContainerLatency",
        "repeat": repeat,
        "workload": {"duration_s": duration_s, "rate_per_s": RATE_PER_S, "instances": INSTANCES, "requests": n,
                     "container_visits": 3 * n, "seed": simfleet_runs.SEED,
                     "mean_busy_workers_per_instance": req["busy_fraction"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"],
                   "kernel_over_simfleet": rates["kernel"] / rates["simfleet"],
                   "kernel_over_naive": rates["kernel"] / rates["naive_simpy"]},
        # simfleet's records lack the requests its run ended with between two containers (the last few
        # milliseconds' arrivals), which the bare kernel never sees: compare up to a second before the end
        "checks": {"kernel_equals_simfleet": baselines.same_results(kernel_out, req["out"], n=n_settled),
                   "naive_equals_simfleet_on_slice": baselines.same_results(naive_out, req["out"], n=n_slice)},
        "memory": {"simfleet_fresh_process": memory},
        "targets": [
            target("simfleet end to end / naive SimPy per hop", rates["simfleet"] / rates["naive_simpy"], ">=",
                   PIPELINE_NAIVE_RATIO_MIN, "x"),
            target("bare kernel / simfleet end to end", rates["kernel"] / rates["simfleet"], "<=", PIPELINE_KERNEL_FACTOR_MAX,
                   "x"),
        ],
        "notes": [],
    }


WORKLOAD = Workload("pipeline", run, {"simfleet": probe})
