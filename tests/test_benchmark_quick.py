"""The benchmark suite runs end to end in `--quick` mode and writes every figure.

Timings and ratios are never asserted (DESIGN §6): only that every figure is there and positive,
that spreads are ordered (min <= median <= max), that engines given the same workload report the
same request count and reproduced each other's per-request results, and that every target has a
verdict.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).resolve().parent.parent / "benchmarks" / "suite.py"
WORKLOADS = ("open_loop", "day", "closed_loop", "pipeline", "serverless", "multi_model", "inference_components",
             "recommender", "kernel", "jit", "scaling", "busy", "week", "sweep_1000")


def _spread(figures: dict) -> None:
    for key in ("median", "min", "max"):
        assert figures[key] > 0
    assert figures["min"] <= figures["median"] <= figures["max"]


def _engine(engine: dict) -> None:
    assert engine["requests"] > 0
    _spread(engine["wall_s"])
    _spread(engine["requests_per_s"])
    assert engine["peak_bytes"] is None or engine["peak_bytes"] > 0


def test_quick_suite_writes_every_figure(tmp_path):
    out_path = tmp_path / "suite.json"
    done = subprocess.run([sys.executable, str(SUITE), "--quick", "--json", str(out_path)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(out_path.read_text(encoding="utf-8"))
    assert out["quick"] is True and out["machine"]["cpus"] >= 1
    assert tuple(out["workloads"]) == WORKLOADS
    for name in WORKLOADS:
        assert f"{name}: " in done.stdout

    for name, workload in out["workloads"].items():
        assert workload["repeat"] == 1
        for engine in workload["engines"].values():
            if "skipped" not in engine:
                _engine(engine)
        for value in workload["ratios"].values():
            assert value > 0
        assert all(workload["checks"].values()), (name, workload["checks"])
        for target in workload["targets"]:
            assert target["measured"] > 0 and target["bound"] > 0 and isinstance(target["met"], bool)
            assert ("met   " if target["met"] else "MISSED") in done.stdout

    open_loop = out["workloads"]["open_loop"]
    engines = open_loop["engines"]
    assert engines["simfleet"]["requests"] == engines["kernel"]["requests"] == open_loop["workload"]["requests"]
    assert 0 < engines["naive_simpy"]["requests"] < engines["kernel"]["requests"]
    assert 0.6 <= open_loop["workload"]["offered_utilization"] <= 0.7
    assert set(open_loop["checks"]) == {"kernel_equals_simfleet", "naive_equals_simfleet_on_slice"}
    assert len(open_loop["targets"]) == 2
    memory = open_loop["memory"]["simfleet_fresh_process"]
    assert memory["tracemalloc_peak_bytes"] > 0
    assert memory["vmhwm_after_run_bytes"] >= memory["vmhwm_before_run_bytes"] > 0

    day = out["workloads"]["day"]
    assert day["engines"]["naive_simpy"]["scaled"]["requests"] == day["engines"]["simfleet"]["requests"]
    assert day["engines"]["naive_simpy"]["scaled"]["wall_s"] > 0
    hour, whole = day["memory"]["simfleet_peak_hour"], day["memory"]["simfleet_whole_day"]
    assert 0 < hour["requests"] < whole["requests"] == day["workload"]["requests"]
    assert 0 < hour["datapoints"] < whole["datapoints"]
    assert {t["unit"] for t in day["targets"]} == {"s", "MiB", "x"}

    closed = out["workloads"]["closed_loop"]
    engines = closed["engines"]
    assert engines["simfleet"]["requests"] == engines["kernel"]["requests"] == closed["workload"]["requests"]
    assert 0 < engines["naive_simpy"]["requests"] < engines["kernel"]["requests"]
    assert len(closed["targets"]) == 2

    kernel = out["workloads"]["kernel"]
    assert kernel["engines"]["kernel"]["requests"] == kernel["workload"]["requests"]
    assert kernel["engines"]["naive_simpy"]["requests"] == kernel["workload"]["naive_requests"]
    if importlib.util.find_spec("ciw") is not None:
        assert kernel["engines"]["ciw"]["requests"] == kernel["workload"]["ciw_requests"]
        assert kernel["ratios"]["kernel_over_ciw"] > 0 and kernel["checks"]["ciw_equals_kernel"]
    else:
        assert "ciw" in kernel["engines"]["ciw"]["skipped"]
        assert "skipped: ciw is not importable" in done.stdout

    week = out["workloads"]["week"]
    first_day, whole = week["memory"]["simfleet_first_day"], week["memory"]["simfleet_week"]
    assert 0 < first_day["requests"] < whole["requests"] == week["workload"]["requests"]
    assert whole["datapoints"] == week["workload"]["days"] * first_day["datapoints"]  # the same metrics every day
    assert week["progress"]["lines"] > 0 and week["progress"]["last"]["duration_s"] == week["workload"]["duration_s"]

    sweep = out["workloads"]["sweep_1000"]
    runs = sweep["workload"]["runs"]
    assert sweep["engines"]["sweep"]["runs"] == runs and sweep["engines"]["sweep_without"]["runs"] == runs - 1
    assert sweep["failed_run"]["payload"] == sweep["workload"]["failing_payload"]
    assert sweep["memory"]["parent_peak_rss_bytes"] > 0

    jit = out["workloads"]["jit"]
    for run in jit["jit"]["cold"] + jit["jit"]["warm"]:
        for key in ("import_s", "first_run_s", "second_run_s", "process_s"):
            assert run[key] > 0
    assert len(jit["jit"]["compile_s"]) == 1
    assert [t["unit"] for t in jit["targets"]] == ["s"]


def test_only_refuses_an_unknown_workload():
    done = subprocess.run([sys.executable, str(SUITE), "--quick", "--only", "nope"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "unknown workload(s) nope" in done.stderr
