"""Sweep scaling benchmark: the same sweep of 20 short runs with 1 worker, then with 2 workers.

The workload: the open-loop benchmark's endpoint (`models/bench.toml`: exponential service with a
10 ms mean, 2 workers per `ml.c5.xlarge`) at 500 requests/s for 20 simulated minutes per run,
swept over 4, 5, 6 and 7 instances × 5 replicates = 20 runs (≈ 600 k requests each). Each
configuration runs the whole sweep into a fresh output folder through `run_sweep` and a fresh
`LocalExecutor`, so pool start-up, per-process JIT loading and every Parquet write are counted:
the wall time a user waits for `simfleet sweep --workers N`.

Figures: wall time per worker count (median of `--repeat`, with min and max), the speed-up
(1-worker median / 2-worker median; the issue's target is ≥ 1.6× on a machine with 2 free
cores), and a check that both sweeps wrote the same runs.parquet (but for `wall_s`).

Run: ``python benchmarks/sweep_scaling.py [--quick] [--repeat N] [--json PATH]``.
Timings never go into tests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

FULL = {"duration": "20min", "repeat": 3}
QUICK = {"duration": "2min", "repeat": 1}
WORKERS = (1, 2)

BASE = """\
[experiment]
name = "sweep-scaling-bench"
start_time = 2026-01-05T09:00:00Z
duration = "{duration}"
seed = 1
model_paths = ["models"]

[metrics]
percentiles = [50, 90, 99]

[[endpoints]]
endpoint_name = "bench"

[[endpoints.production_variants]]
variant_name = "AllTraffic"
model_name = "bench"
instance_type = "ml.c5.xlarge"
initial_instance_count = 4
routing_config = {{ routing_strategy = "LEAST_OUTSTANDING_REQUESTS" }}

[[traffic]]
kind = "poisson"
rate = 500
"""

SWEEP = """\
[sweep]
name = "sweep-scaling"
base = "base.toml"
seed = 2026
replicates = 5

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [4, 5, 6, 7]
"""


def prepare(folder: Path, duration: str) -> Path:
    shutil.copytree(HERE / "models", folder / "models")
    (folder / "base.toml").write_text(BASE.format(duration=duration), encoding="utf-8")
    (folder / "sweep.toml").write_text(SWEEP, encoding="utf-8")
    return folder / "sweep.toml"


def timed_sweep(plan, out: Path, workers: int) -> float:
    from simfleet.sweep.runner import run_sweep
    from simfleet.sweep.executors import LocalExecutor

    began = time.perf_counter()
    with LocalExecutor(workers) as pool:
        outcome = run_sweep(plan, out, pool, stream=io.StringIO())
    elapsed = time.perf_counter() - began
    if outcome.failed:
        raise SystemExit(f"{outcome.failed} runs failed: see {out / 'runs.parquet'}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 simulated minutes per run, 1 repeat")
    parser.add_argument("--repeat", type=int, default=None, help="sweeps per worker count (median reported)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args()
    settings = dict(QUICK if args.quick else FULL)
    if args.repeat:
        settings["repeat"] = args.repeat

    import pyarrow.parquet as pq

    from simfleet.sweep.plan import load_sweep

    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as tmp:
        folder = Path(tmp)
        plan = load_sweep(prepare(folder, settings["duration"]))
        times: dict[int, list[float]] = {w: [] for w in WORKERS}
        tables = {}
        for repeat in range(settings["repeat"]):
            for workers in WORKERS:  # alternate, so drift in machine load hits both alike
                out = folder / f"out-{workers}-{repeat}"
                times[workers].append(timed_sweep(plan, out, workers))
                tables[workers] = pq.read_table(out / "runs.parquet")
        same = tables[1].drop(["wall_s"]).equals(tables[2].drop(["wall_s"]))
        requests = sum(tables[1].column("requests").to_pylist())
        run_seconds = sum(tables[1].column("wall_s").to_pylist())

    figures = {w: {"median": statistics.median(t), "min": min(t), "max": max(t), "all": t} for w, t in times.items()}
    speedup = figures[1]["median"] / figures[2]["median"]
    print(f"sweep of {len(plan.runs)} runs, {settings['duration']} simulated each, {requests:,} requests in all; "
          f"{os.cpu_count()} cores; {settings['repeat']} repeat(s)")
    for workers in WORKERS:
        f = figures[workers]
        print(f"  {workers} worker{'s' if workers > 1 else ' '}: {f['median']:6.2f} s wall "
              f"(min {f['min']:.2f}, max {f['max']:.2f})")
    print(f"  speed-up 2 workers / 1 worker: {speedup:.2f}x (target >= 1.6x)")
    print(f"  time inside runs (1 worker, sum of wall_s): {run_seconds:.2f} s; identical runs.parquet: {same}")
    if args.json:
        args.json.write_text(json.dumps({
            "runs": len(plan.runs), "duration": settings["duration"], "repeat": settings["repeat"],
            "requests": requests, "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "wall_s": {str(w): figures[w] for w in WORKERS}, "speedup_2_over_1": speedup,
            "target_speedup": 1.6, "identical_results": same,
        }, indent=2) + "\n", encoding="utf-8")
    if not same:
        raise SystemExit("the 1- and 2-worker sweeps wrote different runs.parquet")


if __name__ == "__main__":
    main()
