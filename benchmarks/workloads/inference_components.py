"""Inference components: four models of uneven traffic as copies on two shared instances, one hour.

One endpoint whose variant (2 x `ml.c5.xlarge`, least outstanding requests routing) hosts four
inference components of the benchmark model (`models/bench.toml`: exponential 10 ms, 2 workers per
copy on c5), each copy reserving 1 CPU core and 1 GiB, their copies placed by SPREAD and in service
from the start (no scaling): "a" 500 requests/s on 4 copies, "b" 150 on 2, "c" 40 on 1, "d" 10 on 1,
each its own Poisson source naming its component. Copies are then 62.5 %, 37.5 %, 20 % and 5 % busy.
About 2.5 M requests.

Engines: simfleet end to end; and the naive model with one SimPy process per request and a
`simpy.Resource` per copy (`tests/oracle.py`, `naive_dispatch`; every copy a naive instance of
its component, the hosting instances' own rows instances nobody routes to) on the first `slice_s`
seconds of arrivals, fed the run's own draws: each component's routing and service values
re-drawn from its named streams (`component/{endpoint}/{component}/route`, `.../service`), the
k-th of its requests taking the k-th. It must reproduce simfleet's copy, start of service,
completion and outcome of every request of the slice.
"""

from __future__ import annotations

import json

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed, traced_peak
from registry import Settings, Workload

INSTANCES = 2
#: (component, requests/s, copies)
COMPONENTS = (("a", 500.0, 4), ("b", 150.0, 2), ("c", 40.0, 1), ("d", 10.0, 1))
CORES, MEMORY_MB = 1, 1024          # each copy's reservation: 8 copies fill the 8 cores of two c5.xlarge
FULL = {"duration_s": 3600, "slice_s": 60, "repeat": 5}
QUICK = {"duration_s": 120, "slice_s": 10}
WARM_UP_S = 60


def experiment(duration_s: float) -> dict:
    raw = simfleet_runs.experiment("inference-components-bench", duration_s, INSTANCES, {})
    del raw["endpoints"][0]["production_variants"][0]["model_name"]   # the models come with the components
    raw["inference_components"] = [{
        "inference_component_name": name, "endpoint_name": simfleet_runs.ENDPOINT,
        "specification": {"model_name": simfleet_runs.MODEL, "compute_resource_requirements": {
            "number_of_cpu_cores_required": CORES, "min_memory_required_in_mb": MEMORY_MB}},
        "runtime_config": {"copy_count": copies}} for name, _, copies in COMPONENTS]
    raw["traffic"] = [{"kind": "poisson", "rate": rate, "target_inference_component": name}
                      for name, rate, _ in COMPONENTS]
    return raw


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(WARM_UP_S)),
            lambda: simfleet_runs.run(experiment(spec["duration_s"])))


def copy_rows(events, fleet) -> list[tuple[int, int, int]]:
    """(variant, workers, queue limit) of each request-plane row, from the run's event log: a hosting
    instance's row when it enters service (no request is routed to it), a copy's when it is placed.
    The workload's copies serve from the start to the end: a run where they do not is refused."""
    by_name = {v.component.name: v for v in fleet.variants if v.component is not None}
    host = next(v for v in fleet.variants if v.hosting is not None)
    rows = []
    for kind, detail in zip(events["event"], events["detail"]):
        detail = json.loads(detail)
        if kind == "InstanceInService":
            rows.append((host.index, 1, 0))
        elif kind == "CopyPlaced":
            if detail["load_s"] > 0:
                raise RuntimeError("the workload's copies serve from the start, but one was placed later")
            variant = by_name[detail["inference_component"]]
            rows.append((variant.index, variant.entry.workers, variant.entry.max_queue_size))
        elif kind in ("CopyRemoved", "CopyDisplaced", "CopyPending", "InstanceLaunched"):
            raise RuntimeError(f"the workload's copies are fixed, but the run has {kind}")
    return rows


def capture(raw: dict) -> dict:
    """Run `raw` once; keep every request (in arrival order), the copies, and every value the
    components' named streams gave."""
    from simfleet.rng import RandomStreams

    keep = ("arrival_s", "variant", "instance", "start_s", "complete_s", "status", "payload_bytes")
    batches = []
    sc = simfleet_runs.scenario(raw)
    result = simfleet_runs.run(raw, requests_sink=lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    order = np.argsort(columns["arrival_s"], kind="stable")
    out = {k: columns[c][order] for k, c in (("arrival", "arrival_s"), ("variant", "variant"),
                                              ("instance", "instance"), ("start", "start_s"),
                                              ("complete", "complete_s"), ("status", "status"),
                                              ("payload", "payload_bytes"))}
    streams = RandomStreams(sc.experiment.experiment.seed)
    us, services = np.zeros(len(order)), np.zeros(len(order))
    for variant in result.fleet.variants:
        if variant.component is None:
            continue
        mine = out["variant"] == variant.index       # its requests, in the order they drew
        prefix = variant.stream_prefix
        us[mine] = streams.draws(f"{prefix}/route", lambda rng, size: rng.random(size)).take(int(mine.sum()))
        services[mine] = streams.draws(f"{prefix}/service", variant.entry.service_time.sample).take(int(mine.sum()))
    summary = {v["InferenceComponentName"]: v for v in result.summary["variants"] if v.get("InferenceComponentName")}
    # each copy's offered load over its workers: the component's rate / copies x mean service / workers
    busy = {v.component.name: rate / copies * v.entry.service_time.mean / v.entry.workers
            for v in result.fleet.variants if v.component is not None
            for name, rate, copies in COMPONENTS if name == v.component.name}
    return {"requests": len(order), "out": out, "us": us, "services": services,
            "rows": copy_rows(result.events.to_pandas(), result.fleet),
            "routing": result.fleet.variants[0].routing, "variants": len(result.fleet.variants),
            "copy_utilization": busy,
            "max_payload": sc.experiment.platform.max_payload_size, "timeout": sc.experiment.platform.invocation_timeout,
            "cost": {name: row["cost"] for name, row in summary.items()},
            "idle_cost": result.summary["variants"][0]["cost"]}


def naive(req: dict, slice_s: float) -> dict:
    """`tests/oracle.py`'s `naive_dispatch` on the first `slice_s` seconds of arrivals: a process per
    request, a Resource per copy (and one per hosting instance, never routed to)."""
    oracle = baselines._oracle()
    times = req["out"]["arrival"]
    n = int(np.searchsorted(times, slice_s, side="left"))
    instances = [oracle.NaiveInstance(variant, workers, queue) for variant, workers, queue in req["rows"]]
    instance, start, complete, status, _ = oracle.naive_dispatch(
        instances, [req["routing"]] * req["variants"], times[:n], req["out"]["variant"][:n], req["services"][:n],
        req["out"]["payload"][:n], req["us"][:n], np.zeros(n, np.bool_), req["max_payload"], req["timeout"])
    return {"instance": instance, "start": start, "complete": complete, "status": status}


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]
    raw = experiment(duration_s)

    memory = fresh_probe("inference_components", "simfleet", {"duration_s": duration_s})
    req = capture(raw)  # also loads the JIT in this process
    n = req["requests"]
    n_slice = int(np.searchsorted(req["out"]["arrival"], slice_s, side="left"))

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    naive_walls, naive_out = timed(lambda: naive(req, slice_s), repeat)
    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n, simfleet_walls,
                                   memory["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "naive_simpy": engine_figures(f"naive SimPy per request, a Resource per copy, first {slice_s:g} s",
                                      n_slice, naive_walls, traced_peak(lambda: naive(req, slice_s)),
                                      slice_s=slice_s),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    same = baselines.same_results(naive_out, req["out"], keys=("instance", "start", "complete", "status"), n=n_slice)
    return {
        "title": f"inference_components: {len(COMPONENTS)} components ("
                 + ", ".join(f"{name} {rate:g} req/s on {copies} cop{'y' if copies == 1 else 'ies'}"
                             for name, rate, copies in COMPONENTS)
                 + f") on {INSTANCES} x {simfleet_runs.INSTANCE_TYPE}, Poisson, {duration_s:g} s, "
                   "least outstanding requests, 60 s metrics",
        "repeat": repeat,
        "workload": {"duration_s": duration_s, "requests": n, "seed": simfleet_runs.SEED, "instances": INSTANCES,
                     "copies": sum(c for _, _, c in COMPONENTS),
                     "copy_utilization": req["copy_utilization"], "cost_share": req["cost"],
                     "idle_cost": req["idle_cost"]},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"]},
        "checks": {"naive_equals_simfleet_on_slice": bool(same) and len(naive_out["status"]) == n_slice},
        "memory": {"simfleet_fresh_process": memory},
        "targets": [],   # issue 17 sets no speed target for this workload
        "notes": ["no target: issue 17 asks for the workload and its figures, and sets no bound"],
    }


WORKLOAD = Workload("inference_components", run, {"simfleet": probe})
