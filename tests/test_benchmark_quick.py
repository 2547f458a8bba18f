"""The open-loop benchmark runs end to end in `--quick` mode and writes its figures.

Timings and ratios are never asserted (DESIGN §6): only that every figure is there and positive,
and that the three engines were given the same requests (they reproduce each other's results).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "open_loop.py"


def _positive_spread(figures: dict) -> None:
    for key in ("median", "min", "max"):
        assert figures[key] > 0
    assert figures["min"] <= figures["median"] <= figures["max"]


def test_quick_benchmark_writes_its_figures(tmp_path):
    out_path = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out_path)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert "simfleet / naive SimPy" in done.stdout

    out = json.loads(out_path.read_text(encoding="utf-8"))
    assert out["quick"] is True and out["repeat"] == 1
    assert out["workload"]["requests"] > 0
    assert 0.6 <= out["workload"]["offered_utilization"] <= 0.7
    for engine in ("simfleet", "kernel", "naive_simpy"):
        assert out[engine]["requests"] > 0
        _positive_spread(out[engine]["wall_s"])
        _positive_spread(out[engine]["requests_per_s"])
    assert out["simfleet"]["requests"] == out["kernel"]["requests"] == out["workload"]["requests"]
    assert 0 < out["naive_simpy"]["requests"] <= out["kernel"]["requests"]
    assert out["naive_simpy"]["slice_s"] > 0
    for key in ("simfleet_over_naive", "simfleet_over_kernel", "kernel_over_naive"):
        assert out["ratios"][key] > 0
    assert out["exactness"] == {"kernel_matches_simfleet": True, "naive_matches_kernel": True}

    memory = out["memory"]
    for key in ("tracemalloc_peak_bytes", "maxrss_before_run_bytes", "maxrss_after_run_bytes"):
        assert memory[key] > 0
    assert memory["maxrss_after_run_bytes"] >= memory["maxrss_before_run_bytes"]

    jit = out["jit"]
    for run in ("cold", "warm"):
        for key in ("import_s", "first_run_s", "second_run_s", "process_s"):
            assert jit[run][key] > 0
    assert "compile_s" in jit
    assert out["machine"]["cpus"] >= 1
