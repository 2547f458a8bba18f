"""`summary.json`: what a capacity planner reads first — volumes, errors, latency, cost per variant.

Every variant, instance-based or serverless, has the same fields, so a serverless variant reads
side by side with one of instances: `cost` (USD over the run), `cost_per_hour` and
`cost_per_million_requests`. A serverless variant has no instances (its instance fields are 0 or
null) and adds a `serverless` object: its configuration, cold starts, throttles, spillovers,
environments and executions over time, and its cost by term (`metrics.serverless_billing`).
A multi-model variant adds a `multi_model` object (`metrics.model_cache_totals`): requests that
reached a cache, hits, misses and the hit ratio, the requests that waited and their mean wait,
downloads, loads, unloads and deletions (and loads and unloads per minute of the run), the
downloads and loads given up at the load limit (`downloads_abandoned`, `loads_abandoned`; `downloads`
and `loads` count the completed ones), 429s, unknown models and 507s, and the p50/p99 latency of
hits and of misses (answered misses only).

A cost that needs a price nobody knows is null, never 0, and the price is named in the run's
`missing_prices` (variant and price name); the run's `cost` is then null too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.fleet import Fleet
from simfleet.metrics.component_costs import HostCosts
from simfleet.metrics.emission import STATUS_NAMES
from simfleet.metrics.model_cache_totals import ModelCacheTotals
from simfleet.metrics.run_totals import RunTotals
from simfleet.metrics.serverless_billing import serverless_cost
from simfleet.metrics.serverless_totals import ServerlessTotals

__all__ = ["build_summary", "FleetTime"]

PERCENTILES = (50, 90, 99, 99.9)


@dataclass(frozen=True)
class FleetTime:
    """A variant's instance time over the run: what is billed, what served, and the most at once."""

    billed_s: float       # instance-seconds billed (launch or entry into service, until drained)
    in_service_s: float   # instance-seconds in service (taking requests)
    peak_in_service: int


def build_summary(fleet: Fleet, totals: RunTotals, fleet_time: list[FleetTime], mean_busy_workers: list[float],
                  duration_s: float, serverless: ServerlessTotals | None = None,
                  multi_model: ModelCacheTotals | None = None,
                  component_costs: dict[int, HostCosts] | None = None) -> dict:
    """`serverless` and `multi_model` hold the run totals of the serverless and the multi-model
    variants, `component_costs` the cost split of the variants hosting inference components
    (needed when there are any)."""
    variants = []
    missing_prices = []
    for variant, vt in zip(fleet.variants, totals.variants):
        requests = int(vt.status_counts.sum())
        ok = int(vt.status_counts[0])
        time = fleet_time[variant.index]
        instance = variant.instance_type
        if variant.component is not None or variant.hosting is not None:
            price = instance.price_per_hour
            cost, extra = _components(fleet, variant, component_costs, time, duration_s)
            if price is None:
                missing_prices.append(_missing(variant, "price_per_hour", instance.name))
        elif variant.serverless is None:
            price = instance.price_per_hour
            cost = price * time.billed_s / 3600 if price is not None else None
            if price is None:
                missing_prices.append(_missing(variant, "price_per_hour", instance.name))
            extra = {}
            if variant.multi_model is not None:
                extra = {"multi_model": _multi_model(multi_model.variants[variant.index], duration_s)}
        else:
            price = None
            cost, extra = _serverless(variant, serverless, requests, duration_s, missing_prices)
        variants.append({
            "EndpointName": variant.endpoint_name,
            "VariantName": variant.variant_name,
            "model": variant.model_name,
            "instance_type": instance.name if instance is not None else None,
            "instance_count": variant.initial_instance_count,
            **({"InferenceComponentName": variant.component.name} if variant.component is not None else {}),
            "peak_instances_in_service": time.peak_in_service,
            "mean_instances_in_service": time.in_service_s / duration_s,
            "workers_per_instance": variant.entry.workers if instance is not None else None,
            "requests": requests,
            "outcomes": {STATUS_NAMES[code]: int(n) for code, n in enumerate(vt.status_counts)},
            "error_rate": (requests - ok) / requests if requests else None,
            "throughput_per_s": requests / duration_s,
            "latency_s": {
                "mean": vt.e2e_sum_s.value / vt.answered if vt.answered else None,
                **{f"p{p:g}".replace(".", "_"): vt.e2e.percentile(p) for p in PERCENTILES},
            },
            "model_latency_mean_s": vt.model_latency_sum_s.value / vt.answered if vt.answered else None,
            # for a serverless variant: the mean cold start (arrival to start of service)
            "queue_wait_mean_s": vt.queue_wait_sum_s.value / vt.answered if vt.answered else None,
            "mean_busy_workers_per_instance": mean_busy_workers[variant.index] if instance is not None else None,
            "instance_hours": time.billed_s / 3600,
            "in_service_instance_hours": time.in_service_s / 3600,
            "price_per_hour": price,
            "price_source": instance.price_source if instance is not None else None,
            "cost": cost,
            "cost_per_hour": cost / duration_s * 3600 if cost is not None and duration_s else None,
            "cost_per_million_requests": cost / requests * 1e6 if cost is not None and requests else None,
            **extra,
        })
        if variant.component is not None:  # copies, not instances: they are in its `inference_component` object
            variants[-1].update(peak_instances_in_service=0, mean_instances_in_service=0.0, instance_hours=0.0,
                                in_service_instance_hours=0.0, price_per_hour=None)
    costs = [v["cost"] for v in variants]
    total_requests = sum(v["requests"] for v in variants)
    tables = {}
    if component_costs:
        tables["inference_components"] = _component_table(fleet, variants, component_costs)
    return {
        "duration_s": duration_s,
        "requests": total_requests,
        "cost": sum(costs) if all(c is not None for c in costs) else None,
        "missing_prices": missing_prices,
        "littles_law": totals.littles_law(),
        "latency_note": "run-level percentiles from a log histogram (at most 1.2% above exact); "
                        "metrics.parquet percentiles are exact up to 150 distinct values per datapoint, "
                        "else within half a histogram bucket (metrics.histogram_scale)",
        "variants": variants,
        **tables,
    }


def _components(fleet: Fleet, variant, costs: dict[int, HostCosts], time: FleetTime,
                duration_s: float) -> tuple[float | None, dict]:
    """(cost, extra object) of an inference component (its share of its host's cost) or of a
    variant that hosts components (the idle part: what no copy reserved, and empty instances)."""
    if variant.hosting is not None:
        host = costs[variant.index]
        return host.idle, {"hosting": {
            "components": [fleet.variants[k].component.name for k in variant.hosting.components],
            "instances_cost": host.total, "idle_cost": host.idle,
            "managed_instance_scaling": None if variant.hosting.scaling is None else {
                "min_instance_count": variant.hosting.scaling.min_instances,
                "max_instance_count": variant.hosting.scaling.max_instances,
                "strategy": variant.hosting.scaling.strategy}}}
    component = variant.component
    host = costs[component.host]
    share = None if host.by_component is None else host.by_component[component.name]
    return share, {"inference_component": {
        "copies_initial": component.initial_copies,
        "peak_copies_in_service": time.peak_in_service,
        "mean_copies_in_service": time.in_service_s / duration_s if duration_s else None,
        "copy_hours": time.in_service_s / 3600,
        "reservation_per_copy": {"cpu_cores": component.cpu_cores, "accelerators": component.accelerators,
                                 "memory_mb": component.memory_mb},
        "share_of_instances_cost": share / host.total if share is not None and host.total else None,
    }}


def _component_table(fleet: Fleet, rows: list[dict], costs: dict[int, HostCosts]) -> list[dict]:
    """The per-model cost table: each component's share of its host's cost, then the host's idle
    part; the rows of one host add up to its instances' cost."""
    out = []
    for index, host in costs.items():
        variant = fleet.variants[index]
        for k in variant.hosting.components:
            row = rows[k]
            out.append({"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name,
                        "InferenceComponentName": fleet.variants[k].component.name, "model": row["model"],
                        "requests": row["requests"], "cost": row["cost"],
                        "share": row["cost"] / host.total if row["cost"] is not None and host.total else None,
                        "cost_per_million_requests": row["cost_per_million_requests"]})
        out.append({"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name,
                    "InferenceComponentName": None, "model": "(idle capacity)", "requests": 0, "cost": host.idle,
                    "share": host.idle / host.total if host.idle is not None and host.total else None,
                    "cost_per_million_requests": None})
    return out


def _missing(variant, price: str, of: str) -> dict:
    return {"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name, "price": price, "of": of}


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _serverless(variant, serverless: ServerlessTotals, requests: int, duration_s: float,
                missing_prices: list) -> tuple[float | None, dict]:
    """(cost, the `serverless` object) of a serverless variant."""
    runtime = variant.serverless
    st = serverless.variants[variant.index]
    provisioned_s = serverless.provisioned_seconds(variant.index)
    cost = serverless_cost(runtime, st, provisioned_s)
    missing_prices += [_missing(variant, name, f"serverless {runtime.memory_size_mb} MB") for name in cost.missing]
    return _or_none(cost.total), {"serverless": {
        "memory_size_mb": runtime.memory_size_mb,
        "max_concurrency": runtime.max_concurrency,
        "provisioned_concurrency": runtime.provisioned_concurrency,
        "served": st.served,
        "cold_starts": st.cold_starts,
        "cold_start_rate": st.cold_starts / st.served if st.served else None,
        "mean_setup_s": st.setup_sum_s.value / st.cold_starts if st.cold_starts else None,
        "throttles": st.throttles,
        "throttle_rate": st.throttles / requests if requests else None,
        "spillovers": st.spillovers,
        "provisioned_invocations": st.provisioned_invocations,
        "mean_warm_environments": serverless.mean_alive(variant.index),
        "mean_concurrent_executions": serverless.mean_executions(variant.index),
        "provisioned_environment_hours": provisioned_s / 3600,
        "billed_compute_s": st.billed_ms / 1000,
        "billed_provisioned_compute_s": st.provisioned_billed_ms / 1000,
        "data_processed_gb": st.data_bytes.value / (1 << 30),
        "response_bytes": serverless.response_bytes,
        "response_bytes_assumed": serverless.response_bytes_assumed,
        "bill_cold_start": runtime.bill_cold_start,
        "cost_by_term": {"compute": _or_none(cost.compute), "provisioned_compute": _or_none(cost.provisioned_compute),
                         "provisioned_concurrency": _or_none(cost.provisioned_concurrency),
                         "data": _or_none(cost.data)},
        "service_basis": runtime.service_basis,
    }}


def _multi_model(mt, duration_s: float) -> dict:
    """The `multi_model` object of a multi-model variant (`ModelCacheVariantTotals` `mt`)."""
    minutes = duration_s / 60
    return {
        "requests_reaching_cache": mt.reached,
        "hits": mt.hits,
        "misses": mt.misses,
        "hit_ratio": mt.hits / mt.reached if mt.reached else None,
        "waited": mt.waited,
        "mean_wait_s": mt.wait_sum_s.value / mt.waited if mt.waited else None,
        **mt.events,
        "loads_per_minute": mt.events["loads"] / minutes if minutes else None,
        "unloads_per_minute": mt.events["unloads"] / minutes if minutes else None,
        "model_not_ready": mt.model_not_ready,
        "model_not_found": mt.model_not_found,
        "no_cache_room": mt.no_cache_room,
        "hit_latency_s": {"p50": mt.hit_latency.percentile(50), "p99": mt.hit_latency.percentile(99)},
        "miss_latency_s": {"p50": mt.miss_latency.percentile(50), "p99": mt.miss_latency.percentile(99)},
    }
