"""Open-loop throughput benchmark: simfleet end to end, its bare dispatch kernel, and naive SimPy.

The workload of the issue: one hour of Poisson traffic at 500 requests/s on one endpoint with one
variant of 4 `ml.c5.xlarge` instances, `LEAST_OUTSTANDING_REQUESTS` routing, 60 s CloudWatch
periods with p50/p90/p99. The model is `benchmarks/models/bench.toml`: exponential service with a
10 ms mean and 2 workers per instance, so the fleet is 500 × 0.010 / (4 × 2) = 62.5 % busy.

Figures (each timing is the median of `--repeat` runs, with min and max):

(a) simfleet end to end: `scenario_from_dict` + `simulate` with metrics, as a user runs it;
(b) the bare dispatch kernel (`RequestPlane.dispatch`) in one call on the same requests,
    pre-drawn (captured from a simfleet run, so they are exactly simfleet's arrivals and draws);
(c) the naive one-SimPy-process-per-request model (`tests/oracle.py`) on a leading slice of the
    same requests (it is slow);
(d) peak memory of one simfleet run, in a fresh process: `tracemalloc` peak (Python and NumPy
    allocations made during `simulate`) and `ru_maxrss` (peak resident set of the whole process);
(e) JIT compile cost: a tiny experiment in a fresh process with an empty `NUMBA_CACHE_DIR`
    (cold: numba compiles the kernels), then again with the same directory (warm: loads them).

Run: ``python benchmarks/open_loop.py [--quick] [--repeat N] [--json PATH]``.
Timings never go into tests; `tests/test_benchmark_quick.py` only checks this script runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"

RATE_PER_S = 500.0
INSTANCES = 4
INSTANCE_TYPE = "ml.c5.xlarge"
MODEL = "bench"
SEED = 1
ENDPOINT, VARIANT = "bench", "AllTraffic"

FULL = {"duration_s": 3600, "slice_s": 300, "repeat": 5}
QUICK = {"duration_s": 120, "slice_s": 20, "repeat": 1}
TINY_DURATION_S = 60  # the JIT probe's experiment: one metric period


def experiment(duration_s: int) -> dict:
    """The benchmark experiment as a dict (the shape of an experiment TOML file)."""
    return {
        "experiment": {"name": "open-loop-bench", "start_time": "2026-01-05T09:00:00Z",
                       "duration": f"{duration_s}s", "seed": SEED, "model_paths": ["models"]},
        "metrics": {"percentiles": [50, 90, 99]},  # 60 s invocation metrics (the default MetricsConfig)
        "endpoints": [{
            "endpoint_name": ENDPOINT,
            "production_variants": [{
                "variant_name": VARIANT, "model_name": MODEL, "instance_type": INSTANCE_TYPE,
                "initial_instance_count": INSTANCES,
                "routing_config": {"routing_strategy": "LEAST_OUTSTANDING_REQUESTS"},
            }],
        }],
        "traffic": [{"kind": "poisson", "rate": RATE_PER_S}],
    }


def run_simfleet(duration_s: int, requests_sink=None):
    """What a user does: validate the experiment, then simulate it."""
    from simfleet.config.loader import scenario_from_dict
    from simfleet.engine.simulation import simulate

    scenario = scenario_from_dict(experiment(duration_s), "benchmarks/open_loop.py", HERE)
    return scenario, simulate(scenario, requests_sink=requests_sink)


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def timed(function, repeat: int) -> tuple[list[float], object]:
    """Wall times of `repeat` calls, and what the last call returned."""
    walls = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        walls.append(time.perf_counter() - began)
    return walls, result


def throughput(requests: int, walls: list[float]) -> dict:
    return {"requests": requests, "wall_s": spread(walls),
            "requests_per_s": spread([requests / wall for wall in walls])}


# --- the request arrays every engine is given ----------------------------------------------------

def capture_requests(duration_s: int) -> dict:
    """Run simfleet once with a requests sink; return its inputs and outputs per request.

    The routing draws are not part of the records, so they are drawn again from the run's named
    stream (`RandomStreams` is deterministic in seed and name); the `exactness` figures tell
    whether this reconstruction still matches simfleet.
    """
    from simfleet.rng import RandomStreams

    batches = []
    keep = ("arrival_s", "variant", "service_s", "payload_bytes", "instance", "start_s", "status")
    scenario, result = run_simfleet(duration_s, lambda r: batches.append([getattr(r, k) for k in keep]))
    columns = {k: np.concatenate([b[i] for b in batches]) for i, k in enumerate(keep)}
    n = len(columns["arrival_s"])
    streams = RandomStreams(scenario.experiment.experiment.seed)
    route = streams.draws(f"variant/{ENDPOINT}/{VARIANT}/route", lambda rng, size: rng.random(size))
    variant = result.fleet.variants[0]
    platform_ = scenario.experiment.platform
    return {
        "variant_runtime": variant,
        "times": columns["arrival_s"], "variants": columns["variant"], "services": columns["service_s"],
        "payloads": columns["payload_bytes"], "us": route.take(n), "model_errors": np.zeros(n, np.bool_),
        "max_payload": platform_.max_payload_size, "timeout": platform_.invocation_timeout,
        "simfleet_out": (columns["instance"], columns["start_s"], columns["status"]),
        "utilization": result.summary["variants"][0]["mean_busy_workers_per_instance"] / variant.entry.workers,
    }


def kernel_inputs(req: dict, n: int | None = None) -> tuple:
    cut = slice(None) if n is None else slice(0, n)
    return (req["times"][cut], req["variants"][cut], req["services"][cut], req["payloads"][cut],
            req["us"][cut], req["model_errors"][cut], req["max_payload"], req["timeout"])


def run_kernel(req: dict):
    """The bare request plane: a fresh `RequestPlane` and one `dispatch` call over every request."""
    from simfleet.engine.request_plane import RequestPlane

    variant = req["variant_runtime"]
    plane = RequestPlane([variant.routing])
    for _ in range(variant.initial_instance_count):
        plane.add_instance(variant.index, variant.entry.workers, variant.entry.max_queue_size)
    return plane.dispatch(*kernel_inputs(req))


def run_naive(req: dict, n: int):
    """`tests/oracle.py`: one SimPy process per request, on the first `n` requests."""
    sys.path.insert(0, str(TESTS))
    try:
        from oracle import NaiveInstance, naive_dispatch
    finally:
        sys.path.remove(str(TESTS))
    variant = req["variant_runtime"]
    instances = [NaiveInstance(variant.index, variant.entry.workers, variant.entry.max_queue_size)
                 for _ in range(variant.initial_instance_count)]
    return naive_dispatch(instances, [variant.routing], *kernel_inputs(req, n))


# --- fresh-process probes --------------------------------------------------------------------------

def child_memory(duration_s: int) -> dict:
    """Peak memory of one simfleet run: tracemalloc (allocations) and ru_maxrss (whole process)."""
    import tracemalloc

    run_simfleet(TINY_DURATION_S)  # imports and JIT loading count in the baseline, not in the run
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    tracemalloc.start()
    run_simfleet(duration_s)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"tracemalloc_peak_bytes": peak, "maxrss_before_run_bytes": before, "maxrss_after_run_bytes": after,
            "vmhwm_after_run_bytes": _vmhwm_bytes()}


def _vmhwm_bytes() -> int | None:
    """This process's own peak RSS (Linux `VmHWM`), which unlike ru_maxrss owes nothing to the parent."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def child_jit() -> dict:
    """Import time, then the first and second `simulate` of a tiny experiment, in this process."""
    began = time.perf_counter()
    import simfleet.engine.simulation  # noqa: F401  (numba, SimPy, pyarrow, pydantic...)
    imported = time.perf_counter()
    run_simfleet(TINY_DURATION_S)
    first = time.perf_counter()
    run_simfleet(TINY_DURATION_S)
    second = time.perf_counter()
    return {"import_s": imported - began, "first_run_s": first - imported, "second_run_s": second - first}


def in_fresh_process(args: list[str], env: dict | None = None) -> dict:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True,
                          text=True, env=env, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"child {args} failed ({done.returncode}):\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = wall
    return out


def measure_jit() -> dict:
    with tempfile.TemporaryDirectory(prefix="simfleet-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = in_fresh_process(["--child", "jit"], env)
        warm = in_fresh_process(["--child", "jit"], env)
    return {"experiment_duration_s": TINY_DURATION_S, "cold": cold, "warm": warm,
            "compile_s": cold["first_run_s"] - warm["first_run_s"]}


# --- the benchmark ---------------------------------------------------------------------------------

def machine() -> dict:
    import numba
    import simpy

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "simpy": simpy.__version__}


def benchmark(quick: bool, repeat: int | None) -> dict:
    sizes = QUICK if quick else FULL
    repeat = repeat or sizes["repeat"]
    duration_s, slice_s = sizes["duration_s"], sizes["slice_s"]

    # Fresh processes first: on Linux a child's ru_maxrss starts from its parent's peak RSS at
    # spawn (exec keeps the high-water mark), so spawn them while this process is still small.
    memory = in_fresh_process(["--child", "memory", "--duration", str(duration_s)])
    jit = measure_jit()

    req = capture_requests(duration_s)  # also the JIT warm-up of this process
    n = len(req["times"])
    n_slice = int(np.searchsorted(req["times"], slice_s, side="left"))
    variant = req["variant_runtime"]

    simfleet_walls, _ = timed(lambda: run_simfleet(duration_s), repeat)
    kernel_walls, kernel_out = timed(lambda: run_kernel(req), repeat)
    naive_walls, naive_out = timed(lambda: run_naive(req, n_slice), repeat)

    instance, start, status = req["simfleet_out"]
    exact = {
        "kernel_matches_simfleet": all(np.array_equal(a, b) for a, b in
                                       zip((kernel_out[0], kernel_out[1], kernel_out[3]), (instance, start, status))),
        "naive_matches_kernel": all(np.array_equal(a[:n_slice], b) for a, b in zip(kernel_out, naive_out)),
    }

    simfleet = throughput(n, simfleet_walls)
    kernel = throughput(n, kernel_walls)
    naive = {"slice_s": slice_s, **throughput(n_slice, naive_walls)}
    speed = {name: figures["requests_per_s"]["median"] for name, figures in
             (("simfleet", simfleet), ("kernel", kernel), ("naive", naive))}
    return {
        "benchmark": "open_loop",
        "quick": quick,
        "repeat": repeat,
        "machine": machine(),
        "workload": {
            "duration_s": duration_s, "rate_per_s": RATE_PER_S, "requests": n, "seed": SEED,
            "instance_type": INSTANCE_TYPE, "instances": variant.initial_instance_count,
            "workers_per_instance": variant.entry.workers, "routing": "LEAST_OUTSTANDING_REQUESTS",
            "service": f"exponential, mean {variant.entry.service_time.mean * 1e3:g} ms",
            "offered_utilization": RATE_PER_S * variant.entry.service_time.mean
                                   / (variant.initial_instance_count * variant.entry.workers),
            "simulated_utilization": req["utilization"],
            "metric_period_s": 60, "percentiles": [50, 90, 99],
        },
        "simfleet": simfleet,
        "kernel": kernel,
        "naive_simpy": naive,
        "ratios": {"simfleet_over_naive": speed["simfleet"] / speed["naive"],
                   "simfleet_over_kernel": speed["simfleet"] / speed["kernel"],
                   "kernel_over_naive": speed["kernel"] / speed["naive"],
                   "target_simfleet_over_naive": 20.0},
        "exactness": exact,
        "memory": memory,
        "jit": jit,
    }


def _rate(value: float) -> str:
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.1f} k"


def _row(label: str, figures: dict) -> str:
    w, r = figures["wall_s"], figures["requests_per_s"]
    return (f"{label:<44} {figures['requests']:>10,} {w['median']:>8.3f} {w['min']:>7.3f} {w['max']:>7.3f}"
            f" {_rate(r['median']):>9} {_rate(r['min']):>9} {_rate(r['max']):>9}")


def _memory_lines(m: dict) -> list[str]:
    rows = [("tracemalloc peak during simulate (Python + NumPy allocations)", m["tracemalloc_peak_bytes"]),
            ("ru_maxrss, whole-process peak RSS, before the run", m["maxrss_before_run_bytes"]),
            ("ru_maxrss, whole-process peak RSS, after the run", m["maxrss_after_run_bytes"])]
    if m["vmhwm_after_run_bytes"] is not None:
        rows.append(("VmHWM (/proc/self/status), cross-check of the above", m["vmhwm_after_run_bytes"]))
    return [f"    {label:<62} {value / 2**20:8.1f} MiB" for label, value in rows]


def _jit_line(label: str, run: dict) -> str:
    return (f"    {label:<34} {run['import_s']:6.2f} / {run['first_run_s']:6.2f} / {run['second_run_s']:6.3f}"
            f" / {run['process_s']:6.2f} s")


def report(out: dict) -> str:
    wl, jit, ratios, exact = out["workload"], out["jit"], out["ratios"], out["exactness"]
    versions = ", ".join(f"{name} {out['machine'][name]}" for name in ("python", "numpy", "numba", "simpy"))
    return "\n".join([
        f"open-loop benchmark{' (--quick)' if out['quick'] else ''}: Poisson {wl['rate_per_s']:g} req/s for "
        f"{wl['duration_s']} s simulated, {wl['instances']} x {wl['instance_type']}, "
        f"{wl['workers_per_instance']} workers each, {wl['routing']}, {wl['service']}",
        f"utilization offered {wl['offered_utilization']:.1%}, simulated {wl['simulated_utilization']:.1%}; "
        f"median of {out['repeat']} repeat(s), min, max; {out['machine']['cpus']} CPUs; {versions}",
        "",
        f"{'':<44} {'requests':>10} {'wall s':>8} {'min':>7} {'max':>7} {'req/s':>9} {'min':>9} {'max':>9}",
        _row("(a) simfleet end to end (validate+simulate)", out["simfleet"]),
        _row("(b) bare dispatch kernel, one call", out["kernel"]),
        _row(f"(c) naive SimPy, first {out['naive_simpy']['slice_s']} s of arrivals", out["naive_simpy"]),
        "",
        f"simfleet / naive SimPy = {ratios['simfleet_over_naive']:6.1f}x  (target >= 20x)",
        f"simfleet / bare kernel = {ratios['simfleet_over_kernel']:6.2f}   (share of kernel speed kept end to end)",
        f"bare kernel / naive    = {ratios['kernel_over_naive']:6.1f}x",
        f"same per-request results: kernel = simfleet {exact['kernel_matches_simfleet']}, "
        f"naive = kernel on the slice {exact['naive_matches_kernel']}",
        "",
        f"(d) memory, one {wl['duration_s']} s run in a fresh process:",
        *_memory_lines(out["memory"]),
        f"(e) JIT, {jit['experiment_duration_s']} s experiment in a fresh process "
        "(import / first simulate / second simulate / whole process):",
        _jit_line("empty NUMBA_CACHE_DIR (compiles):", jit["cold"]),
        _jit_line("same cache again (loads):", jit["warm"]),
        f"    compile cost (cold first - warm first): {jit['compile_s']:.2f} s",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['duration_s']} s simulated, 1 repeat, {QUICK['slice_s']} s baseline slice")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help=f"repeats per timing (default {FULL['repeat']}, 1 with --quick)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures here")
    parser.add_argument("--child", choices=("memory", "jit"), help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=FULL["duration_s"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.child == "memory":
        print(json.dumps(child_memory(args.duration)))
        return 0
    if args.child == "jit":
        print(json.dumps(child_jit()))
        return 0

    out = benchmark(args.quick, args.repeat)
    print(report(out))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
