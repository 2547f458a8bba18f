"""How the benchmark suite measures: repeated wall times, spreads, peak memory, fresh processes.

Every timing is a list of wall times of repeated calls, reported as its median with min and max
(`spread`); throughput is simulated requests per second of wall time, computed per repeat.
Peak memory is measured two ways:

* `traced_peak`: the `tracemalloc` peak of one extra, untimed call in this process: bytes
  allocated through Python's allocators during the call, NumPy arrays included (NumPy reports
  its data buffers to tracemalloc); arrays that numba allocates inside a compiled function and
  memory held before the call are not counted;
* `fresh_probe`: one run in a new Python process (`suite.py --child …`) after a warm-up run,
  reporting its `tracemalloc` peak and its own peak resident set (`VmHWM` in
  `/proc/self/status`: interpreter, NumPy, numba/LLVM, pyarrow… the whole process), before and
  after the run. `VmHWM` belongs to the new process alone; `ru_maxrss` does not (on Linux a
  child starts with its parent's high-water mark, so a child of a large benchmark process
  would report the parent's peak), so it is not used.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["spread", "timed", "engine_figures", "skipped", "traced_peak", "vmhwm_bytes", "fresh_probe",
           "child_probe", "run_child", "machine"]

SUITE = Path(__file__).resolve().parent / "suite.py"


def spread(values: list[float]) -> dict:
    """Median, min and max of repeated measurements."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def timed(function: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Wall times of `repeat` calls of `function`, and what the last call returned."""
    walls = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        walls.append(time.perf_counter() - began)
    return walls, result


def engine_figures(label: str, requests: int, walls: list[float], peak_bytes: int | None = None,
                   peak_source: str = "tracemalloc peak of one extra call in the suite process",
                   **extra) -> dict:
    """One row of a workload's table: requests, wall time and requests/s spreads, peak memory."""
    return {"label": label, "requests": int(requests), "wall_s": spread(walls),
            "requests_per_s": spread([requests / wall for wall in walls]),
            "peak_bytes": peak_bytes, "peak_source": peak_source, **extra}


def skipped(label: str, reason: str) -> dict:
    """A row whose engine could not run here (the suite says why and goes on)."""
    return {"label": label, "skipped": reason}


def traced_peak(function: Callable[[], object]) -> int:
    """Peak bytes allocated through Python's allocators (NumPy included) during one call."""
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def vmhwm_bytes() -> int | None:
    """This process's own peak resident set (Linux `VmHWM`), or None where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def child_probe(warm_up: Callable[[], object], run: Callable[[], object]) -> dict:
    """In a fresh process: warm up (imports, JIT loading), then one traced run of `run`.

    When `run` returns a simfleet `RunResult`, also the size of its metric tables (the datapoints
    and the values behind them, which a run keeps to the end: they are its output).
    """
    warm_up()
    before = vmhwm_bytes()
    tracemalloc.start()
    began = time.perf_counter()
    result = run()
    wall = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = {"tracemalloc_peak_bytes": peak, "vmhwm_before_run_bytes": before,
           "vmhwm_after_run_bytes": vmhwm_bytes(), "traced_wall_s": wall}
    if hasattr(result, "metric_values"):  # a simfleet RunResult: what it hands back, as Arrow tables
        out["result_table_bytes"] = result.metrics.nbytes + result.metric_values.nbytes
        # the part of them built in traced (NumPy) memory during the run: each datapoint's values and
        # counts; the rest of the tables is built by Arrow at the end, outside tracemalloc's view
        out["kept_values_bytes"] = sum(result.metric_values.column(name).nbytes for name in ("values", "counts"))
        out["metric_rows_bytes"] = result.metrics.nbytes  # the datapoints' rows (statistics, dimensions), as Arrow
        out["datapoints"] = result.metrics.num_rows
        out["requests"] = int(result.summary["requests"])
    return out


def run_child(args: list[str], env: dict | None = None) -> dict:
    """`suite.py --child …` in a new Python process; its last stdout line is JSON."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, str(SUITE), *args], capture_output=True, text=True, env=env,
                          check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"child {args} failed ({done.returncode}):\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_s"] = wall
    return out


def fresh_probe(workload: str, probe: str, spec: dict) -> dict:
    """Run `probe` of `workload` with `spec` in a fresh process (see `child_probe`)."""
    return {"spec": spec, **run_child(["--child", f"{workload}.{probe}", "--spec", json.dumps(spec)])}


def machine() -> dict:
    import numba
    import simpy

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor(),
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "simpy": simpy.__version__}
