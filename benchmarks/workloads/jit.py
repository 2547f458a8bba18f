"""JIT: first-run compile time against a cached start, and `simfleet run` of a tiny experiment.

The experiment is `experiments/tiny.toml`: one simulated minute with an open-loop and a
closed-loop endpoint, so that both request-plane kernels are compiled (cold) or loaded (warm).

* cold start: a fresh process with `NUMBA_CACHE_DIR` set to an empty folder (numba compiles every
  kernel): import time, first `load_experiment` + `simulate`, second one;
* cached start: a fresh process with the same folder again (numba loads the kernels);
  compile cost = cold first simulate − cached first simulate;
* `simfleet run experiments/tiny.toml --out TMP` as a user types it (the console script, in a
  subprocess, Parquet and JSON outputs written), with the default numba cache warmed by one
  untimed run first: the issue's target is under 2 s of wall time for the whole command.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import engine_figures, run_child, timed, vmhwm_bytes
from registry import Settings, Workload
from targets import TINY_RUN_MAX_S, target

TINY = Path(__file__).resolve().parent.parent / "experiments" / "tiny.toml"
FULL = {"repeat": 3}


def start(spec: dict) -> dict:
    """In a fresh process: import, then two runs of the tiny experiment, each timed."""
    began = time.perf_counter()
    from simfleet.scenario import load_experiment
    from simfleet.engine.simulation import simulate

    imported = time.perf_counter()
    result = simulate(load_experiment(TINY))
    first = time.perf_counter()
    simulate(load_experiment(TINY))
    second = time.perf_counter()
    return {"import_s": imported - began, "first_run_s": first - imported, "second_run_s": second - first,
            "requests": int(result.summary["requests"]), "vmhwm_bytes": vmhwm_bytes()}


def _command() -> list[str]:
    script = Path(sys.executable).parent / "simfleet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "simfleet"]


def _simfleet_run() -> None:
    with tempfile.TemporaryDirectory(prefix="simfleet-tiny-") as out:
        done = subprocess.run([*_command(), "run", str(TINY), "--out", out], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"simfleet run failed ({done.returncode}):\n{done.stderr}")


def run(settings: Settings) -> dict:
    repeat = settings.repeats(FULL["repeat"])
    cold, warm = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="simfleet-numba-cache-") as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            cold.append(run_child(["--child", "jit.start"], env))
            warm.append(run_child(["--child", "jit.start"], env))
    _simfleet_run()  # warms the default numba cache
    run_walls, _ = timed(_simfleet_run, repeat)

    n = cold[0]["requests"]
    engines = {
        "cold_first_run": engine_figures("first simulate, empty numba cache (compiles)", n,
                                         [c["first_run_s"] for c in cold], cold[-1]["vmhwm_bytes"],
                                         "peak RSS of the process (VmHWM)"),
        "cached_first_run": engine_figures("first simulate, same cache (loads)", n,
                                           [w["first_run_s"] for w in warm], warm[-1]["vmhwm_bytes"],
                                           "peak RSS of the process (VmHWM)"),
        "second_run": engine_figures("second simulate in the same process", n,
                                     [w["second_run_s"] for w in warm]),
        "simfleet_run": engine_figures("`simfleet run` tiny.toml, whole command, warm", n, run_walls,
                                       peak_source="not measured (a separate process)"),
    }
    compile_s = [c["first_run_s"] - w["first_run_s"] for c, w in zip(cold, warm)]
    imports = [w["import_s"] for w in warm]
    return {
        "title": f"JIT: {TINY.relative_to(TINY.parent.parent)} (60 s, an open-loop and a closed-loop endpoint, "
                 f"{n:,} requests) in fresh processes",
        "repeat": repeat,
        "workload": {"experiment": str(TINY.relative_to(TINY.parent.parent)), "requests": n},
        "engines": engines,
        "ratios": {},
        "checks": {},
        "memory": {},
        "jit": {"cold": cold, "warm": warm, "compile_s": compile_s, "import_s": imports},
        "extra_lines": [
            f"compile cost (cold first - cached first simulate): median {statistics.median(compile_s):.2f} s; "
            f"importing simfleet's engine: median {statistics.median(imports):.2f} s; "
            f"whole cached process {warm[-1]['process_s']:.2f} s"],
        "targets": [target("`simfleet run` tiny experiment, warm cache, whole command",
                           engines["simfleet_run"]["wall_s"]["median"], "<", TINY_RUN_MAX_S, "s")],
        "notes": [],
    }


WORKLOAD = Workload("jit", run, {"start": start})
