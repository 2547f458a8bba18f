"""Executing a sweep: each planned run → its `metrics.parquet` in the dataset and a headline row.

This is the task every executor ships to its workers (a local process pool or Dask). A task
carries only small, picklable things: the resolved experiment dict, the paths it needs and its
identity; the worker validates and simulates from scratch, so the result depends on the task
alone, never on which worker or process ran it. A run that is invalid or whose simulation raises
comes back as a `failed` row with a one-line error instead of an exception.

The worker writes the run's `metrics.parquet` (temporary name, then rename) before it returns;
the parent writes the completion mark (`runs/<run_id>.json`) only after that, so a run killed
half-way leaves no mark and is simulated again by the next attempt (`simfleet.sweep.runner`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

__all__ = ["RunTask", "run_task", "one_line", "headline", "HEADLINE_FIELDS", "INSTANCE_ENDING_EVENTS"]

#: Headline columns of `runs.parquet`, in order, with their Arrow types.
HEADLINE_FIELDS = (
    ("requests", pa.int64()),
    ("error_rate", pa.float64()),
    ("latency_p50_ms", pa.float64()),
    ("latency_p90_ms", pa.float64()),
    ("latency_p99_ms", pa.float64()),
    ("throughput_per_s", pa.float64()),
    ("cost_per_hour", pa.float64()),
    ("cost_per_million", pa.float64()),
    ("peak_instances", pa.int64()),
    ("mean_instances", pa.float64()),
    # serverless variants, summed over them (null in a run without any)
    ("cold_starts", pa.int64()),
    ("cold_start_rate", pa.float64()),
    ("throttles", pa.int64()),
    ("throttle_rate", pa.float64()),
    ("spillovers", pa.int64()),
    ("mean_warm_environments", pa.float64()),
    ("mean_concurrent_executions", pa.float64()),
    # multi-model variants, pooled over them (null in a run without any): ratios of the summed counts,
    # latency percentiles the largest of the variants' (an upper bound, as above)
    ("hit_ratio", pa.float64()),
    ("loads_per_minute", pa.float64()),
    ("unloads_per_minute", pa.float64()),
    ("model_mean_wait_s", pa.float64()),
    ("model_not_ready", pa.int64()),
    ("downloads_abandoned", pa.int64()),
    ("loads_abandoned", pa.int64()),
    ("hit_latency_p99_ms", pa.float64()),
    ("miss_latency_p99_ms", pa.float64()),
    # inference components (null in a run without any): each component's share of its instances' cost
    # per hour, by InferenceComponentName, the unreserved remainder, and requests that found no copy
    ("component_cost_per_hour", pa.map_(pa.string(), pa.float64())),
    ("idle_cost_per_hour", pa.float64()),
    ("no_capacity_failures", pa.int64()),
)

#: Control-plane events that take an instance out of service (`simfleet.engine.instances`): a drained
#: instance leaves routing when draining starts; its later InstanceTerminated changes nothing here.
INSTANCE_ENDING_EVENTS = frozenset({"InstanceDraining", "InstanceFailed"})


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run; small enough to ship to a Dask worker."""

    run_id: str
    seed: int
    experiment: dict      # the base experiment with the run's overrides and seed applied
    source: str           # the base experiment's path, for error messages
    base_dir: str         # the base experiment's folder: model_paths and trace files resolve here
    metrics_dir: str      # the run's Hive partition folder under DIR/metrics
    metadata: tuple[tuple[str, str], ...] = ()  # extra schema metadata for metrics.parquet


def run_task(task: RunTask) -> dict:
    """Validate and simulate `task`, write its metrics file; return the headline row.

    The row holds `run_id`, `seed`, `status`, `error`, the headline figures and `wall_s`; the
    caller adds the axis values. Never raises for a bad experiment or a failing simulation.
    """
    from simfleet.scenario import scenario_from_dict
    from simfleet.engine.simulation import simulate
    from simfleet.errors import InputError

    began = time.perf_counter()
    row = {"run_id": task.run_id, "seed": task.seed, "status": "failed", "error": None}
    row.update({name: None for name, _ in HEADLINE_FIELDS})
    stage = "invalid experiment"
    try:
        scenario = scenario_from_dict(task.experiment, task.source, Path(task.base_dir))
        stage = "run stopped"   # an input problem only the simulation finds (closed-loop users that stall)
        result = simulate(scenario)
        _write_metrics(Path(task.metrics_dir), result.metrics, task)
        row.update(headline(result.summary, result.events))
        row["status"] = "ok"
    except InputError as error:
        row["error"] = f"{stage}: " + "; ".join(str(p) for p in error.problems)
    except Exception as error:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        row["error"] = one_line(f"{type(error).__name__}: {error}")
    row["wall_s"] = time.perf_counter() - began
    return row


def one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _write_metrics(folder: Path, metrics: pa.Table, task: RunTask) -> None:
    from simfleet.outputs.atomic import write_table

    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".tmp-*"):  # from an attempt that was killed mid-write
        leftover.unlink(missing_ok=True)
    metadata = dict(metrics.schema.metadata or {})
    metadata.update({b"simfleet.run_id": task.run_id.encode(), b"simfleet.seed": str(task.seed).encode()})
    metadata.update({key.encode(): value.encode() for key, value in task.metadata})
    write_table(folder / "metrics.parquet", metrics.replace_schema_metadata(metadata))


def headline(summary: dict, events: pa.Table) -> dict:
    """The run's headline figures from `summary.json` and the event log.

    Latency percentiles: with one variant, that variant's run-level percentile; with several, the
    largest of the variants' — an upper bound on the pooled percentile (if every variant has 99 %
    of its requests under x, so has the whole endpoint), the figure a p99 target must be held to.
    """
    variants = summary["variants"]
    duration_s = summary["duration_s"]
    requests = int(summary["requests"])
    from simfleet.metrics.emission import OK, STATUS_NAMES

    failed = sum(v["requests"] - v["outcomes"].get(STATUS_NAMES[OK], 0) for v in variants)
    row = {
        "requests": requests,
        "error_rate": failed / requests if requests else None,
        "throughput_per_s": requests / duration_s if duration_s else None,
    }
    for p in ("p50", "p90", "p99"):
        values = [v["latency_s"].get(p) for v in variants]
        values = [x for x in values if x is not None]
        row[f"latency_{p}_ms"] = max(values) * 1e3 if values else None
    cost = summary.get("cost")
    row["cost_per_hour"] = cost / duration_s * 3600 if cost is not None and duration_s else None
    row["cost_per_million"] = cost / requests * 1e6 if cost is not None and requests else None
    row["mean_instances"] = sum(v["mean_instances_in_service"] for v in variants)
    row["peak_instances"] = peak_instances(events)
    row.update(_serverless_headline(variants))
    row.update(_multi_model_headline(variants, duration_s))
    row.update(_component_headline(variants, duration_s))
    return {name: _finite(row[name]) for name, _ in HEADLINE_FIELDS}


def _component_headline(variants: list[dict], duration_s: float) -> dict:
    """Cost per hour of each inference component (its share) and of the idle remainder, summed over the
    hosting variants, and the requests answered NoCapacity (see HEADLINE_FIELDS)."""
    hosts = [v for v in variants if v.get("hosting") is not None]
    if not hosts:
        return dict.fromkeys(("component_cost_per_hour", "idle_cost_per_hour", "no_capacity_failures"))
    from simfleet.metrics.emission import NO_CAPACITY, STATUS_NAMES

    def per_hour(cost):
        return None if cost is None or not duration_s else cost / duration_s * 3600

    components = [v for v in variants if v.get("InferenceComponentName")]
    idle = [v["cost"] for v in hosts]
    return {"component_cost_per_hour": [(v["InferenceComponentName"], per_hour(v["cost"])) for v in components],
            "idle_cost_per_hour": per_hour(sum(idle)) if all(c is not None for c in idle) else None,
            "no_capacity_failures": sum(v["outcomes"].get(STATUS_NAMES[NO_CAPACITY], 0) for v in components)}


def _serverless_headline(variants: list[dict]) -> dict:
    """Cold starts, throttles, spillovers, environments and executions of the serverless variants:
    counts and time averages summed, rates over their served (cold starts) or all (throttles) requests."""
    mine = [v for v in variants if v.get("serverless") is not None]
    names = ("cold_starts", "cold_start_rate", "throttles", "throttle_rate", "spillovers", "mean_warm_environments",
             "mean_concurrent_executions")
    if not mine:
        return dict.fromkeys(names)
    total = {name: sum(v["serverless"][name] for v in mine) for name in
             ("cold_starts", "throttles", "spillovers", "served", "mean_warm_environments", "mean_concurrent_executions")}
    requests = sum(v["requests"] for v in mine)
    total["cold_start_rate"] = total["cold_starts"] / total["served"] if total["served"] else None
    total["throttle_rate"] = total["throttles"] / requests if requests else None
    return {name: total[name] for name in names}


def _multi_model_headline(variants: list[dict], duration_s: float) -> dict:
    """Hit ratio, loads and unloads per minute, mean wait, 429s, downloads and loads given up at the
    load limit, and the p99 of hits and of misses of the multi-model variants (see HEADLINE_FIELDS)."""
    mine = [v["multi_model"] for v in variants if v.get("multi_model") is not None]
    names = ("hit_ratio", "loads_per_minute", "unloads_per_minute", "model_mean_wait_s",
             "model_not_ready", "downloads_abandoned", "loads_abandoned", "hit_latency_p99_ms", "miss_latency_p99_ms")
    if not mine:
        return dict.fromkeys(names)
    reached, hits, waited = (sum(m[k] for m in mine) for k in ("requests_reaching_cache", "hits", "waited"))
    minutes = duration_s / 60

    def worst(key):
        values = [m[key]["p99"] for m in mine if m[key]["p99"] is not None]
        return max(values) * 1e3 if values else None

    return {
        "hit_ratio": hits / reached if reached else None,
        "loads_per_minute": sum(m["loads"] for m in mine) / minutes if minutes else None,
        "unloads_per_minute": sum(m["unloads"] for m in mine) / minutes if minutes else None,
        "model_mean_wait_s": sum(m["mean_wait_s"] * m["waited"] for m in mine if m["waited"]) / waited
        if waited else None,
        "model_not_ready": sum(m["model_not_ready"] for m in mine),
        "downloads_abandoned": sum(m["downloads_abandoned"] for m in mine),
        "loads_abandoned": sum(m["loads_abandoned"] for m in mine),
        "hit_latency_p99_ms": worst("hit_latency_s"),
        "miss_latency_p99_ms": worst("miss_latency_s"),
    }


def peak_instances(events: pa.Table) -> int:
    """Most instances in service at once, replaying the event log in order."""
    now = peak = 0
    for name in events.column("event").to_pylist():
        if name == "InstanceInService":
            now += 1
            peak = max(peak, now)
        elif name in INSTANCE_ENDING_EVENTS:
            now -= 1
    return peak


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
