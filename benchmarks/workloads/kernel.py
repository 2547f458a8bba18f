"""Kernel: the bare request-plane kernel on DESIGN §2's M/M/4 workload, against naive SimPy and ciw.

DESIGN §2 measured its engine choices on an M/M/4 queue at 80 % load with 10⁶ requests: one
SimPy process per request ≈ 50 k requests/s, ciw ≈ 22 k/s, a compiled FIFO multi-server kernel
≈ 11–18 M/s. Here: Poisson arrivals at 320 requests/s, exponential service of mean 10 ms, one
instance with 4 workers and a FIFO queue deep enough never to fill (so 320 × 0.010 / 4 = 80 %),
seed 1, named streams. The kernel is `RequestPlane.dispatch`, one call over every request; the
naive model (`tests/oracle.py`) and ciw run the first requests of the same sequence (they are
slow), and both must reproduce the kernel's starts of service.
"""

from __future__ import annotations

import numpy as np

import baselines
from measure import engine_figures, skipped, timed, traced_peak
from registry import Settings, Workload

SERVERS = 4
MEAN_SERVICE_S = 0.010
LOAD = 0.8
RATE_PER_S = LOAD * SERVERS / MEAN_SERVICE_S
QUEUE_LIMIT = 10_000
SEED = 1
FULL = {"requests": 1_000_000, "naive": 200_000, "ciw": 50_000, "repeat": 5}
QUICK = {"requests": 100_000, "naive": 2_500, "ciw": 2_000}


def requests(n: int) -> dict:
    """Inter-arrival gaps, arrival times and service times of the first `n` customers."""
    from simfleet.rng import RandomStreams

    streams = RandomStreams(SEED)
    gaps = streams.draws("mm4/arrivals", lambda rng, size: rng.exponential(1 / RATE_PER_S, size)).take(n)
    services = streams.draws("mm4/service", lambda rng, size: rng.exponential(MEAN_SERVICE_S, size)).take(n)
    return {"gaps": gaps, "times": np.cumsum(gaps), "services": services}


def as_plane_inputs(mm4: dict) -> dict:
    n = len(mm4["times"])
    return {"variant_index": 0, "routing": 0, "instances": 1, "workers": SERVERS, "queue_limit": QUEUE_LIMIT,
            "times": mm4["times"], "variants": np.zeros(n, np.int32), "services": mm4["services"],
            "payloads": np.zeros(n), "us": np.zeros(n), "model_errors": np.zeros(n, np.bool_),
            "max_payload": np.inf, "timeout": np.inf}


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    mm4 = requests(sizes["requests"])
    req = as_plane_inputs(mm4)
    n, n_naive, n_ciw = sizes["requests"], sizes["naive"], sizes["ciw"]
    baselines.open_kernel(req, slice(0, 10))  # loads the JIT outside the timings

    kernel_walls, kernel_out = timed(lambda: baselines.open_kernel(req), repeat)
    naive_walls, naive_out = timed(lambda: baselines.naive_open(req, slice(0, n_naive)), repeat)
    engines = {
        "kernel": engine_figures("bare dispatch kernel, one call", n, kernel_walls,
                                 traced_peak(lambda: baselines.open_kernel(req))),
        "naive_simpy": engine_figures(f"naive SimPy, first {n_naive:,} requests", n_naive, naive_walls,
                                      traced_peak(lambda: baselines.naive_open(req, slice(0, n_naive)))),
    }
    checks = {"all_served_fifo": bool(np.all(kernel_out["status"] == 0)),
              "naive_equals_kernel": baselines.same_results(naive_out, kernel_out, n=n_naive)}
    notes = []
    missing = baselines.ciw_missing()
    if missing is None:
        gaps, services = mm4["gaps"][:n_ciw], mm4["services"][:n_ciw]
        ciw_walls, ciw_out = timed(lambda: baselines.ciw_fifo(gaps, services, SERVERS), repeat)
        engines["ciw"] = engine_figures(f"ciw {_ciw_version()}, first {n_ciw:,} requests", len(ciw_out["id"]),
                                        ciw_walls, traced_peak(lambda: baselines.ciw_fifo(gaps, services, SERVERS)))
        index = ciw_out["id"] - 1
        difference = np.max(np.abs(ciw_out["start"] - kernel_out["start"][index])) if len(index) else np.inf
        checks["ciw_equals_kernel"] = bool(len(index) == n_ciw and difference <= 1e-9)
        if difference > 0:
            notes.append(f"ciw's starts of service differ from the kernel's by up to {difference:.2g} s "
                         "(floating-point order of its additions)")
    else:
        engines["ciw"] = skipped("ciw", missing)
        notes.append(f"the ratio against ciw is missing: {missing}")
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items() if "skipped" not in e}
    ratios = {"kernel_over_naive": rates["kernel"] / rates["naive_simpy"]}
    if "ciw" in rates:
        ratios["kernel_over_ciw"] = rates["kernel"] / rates["ciw"]
        ratios["naive_over_ciw"] = rates["naive_simpy"] / rates["ciw"]
    notes.append("DESIGN §2 measured on this kind of machine: naive SimPy ~50 k req/s, ciw ~22 k req/s, "
                 "a compiled FIFO kernel 11-18 M req/s")
    return {
        "title": f"kernel: M/M/{SERVERS} at {LOAD:.0%} load (Poisson {RATE_PER_S:g} req/s, exponential service "
                 f"{MEAN_SERVICE_S * 1e3:g} ms, FIFO), {n:,} requests, as in DESIGN §2",
        "repeat": repeat,
        "workload": {"servers": SERVERS, "load": LOAD, "rate_per_s": RATE_PER_S, "mean_service_s": MEAN_SERVICE_S,
                     "requests": n, "naive_requests": n_naive, "ciw_requests": n_ciw, "seed": SEED},
        "engines": engines,
        "ratios": ratios,
        "checks": checks,
        "memory": {},
        "targets": [],
        "notes": notes,
    }


def _ciw_version() -> str:
    import ciw

    return ciw.__version__


WORKLOAD = Workload("kernel", run)
