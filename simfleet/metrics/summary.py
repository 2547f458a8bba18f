"""`summary.json`: what a capacity planner reads first — volumes, errors, latency, cost per variant."""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.fleet import Fleet
from simfleet.metrics.emission import STATUS_NAMES
from simfleet.metrics.run_totals import RunTotals

__all__ = ["build_summary", "FleetTime"]

PERCENTILES = (50, 90, 99, 99.9)


@dataclass(frozen=True)
class FleetTime:
    """A variant's instance time over the run: what is billed, what served, and the most at once."""

    billed_s: float       # instance-seconds billed (launch or entry into service, until drained)
    in_service_s: float   # instance-seconds in service (taking requests)
    peak_in_service: int


def build_summary(fleet: Fleet, totals: RunTotals, fleet_time: list[FleetTime], mean_busy_workers: list[float],
                  duration_s: float) -> dict:
    variants = []
    for variant, vt in zip(fleet.variants, totals.variants):
        requests = int(vt.status_counts.sum())
        ok = int(vt.status_counts[0])
        price = variant.instance_type.price_per_hour
        time = fleet_time[variant.index]
        cost = price * time.billed_s / 3600 if price is not None else None
        variants.append({
            "EndpointName": variant.endpoint_name,
            "VariantName": variant.variant_name,
            "model": variant.model_name,
            "instance_type": variant.instance_type.name,
            "instance_count": variant.initial_instance_count,
            "peak_instances_in_service": time.peak_in_service,
            "mean_instances_in_service": time.in_service_s / duration_s,
            "workers_per_instance": variant.entry.workers,
            "requests": requests,
            "outcomes": {STATUS_NAMES[code]: int(n) for code, n in enumerate(vt.status_counts)},
            "error_rate": (requests - ok) / requests if requests else None,
            "throughput_per_s": requests / duration_s,
            "latency_s": {
                "mean": vt.e2e_sum_s.value / vt.answered if vt.answered else None,
                **{f"p{p:g}".replace(".", "_"): vt.e2e.percentile(p) for p in PERCENTILES},
            },
            "model_latency_mean_s": vt.model_latency_sum_s.value / vt.answered if vt.answered else None,
            "queue_wait_mean_s": vt.queue_wait_sum_s.value / vt.answered if vt.answered else None,
            "mean_busy_workers_per_instance": mean_busy_workers[variant.index],
            "instance_hours": time.billed_s / 3600,
            "in_service_instance_hours": time.in_service_s / 3600,
            "price_per_hour": price,
            "price_source": variant.instance_type.price_source,
            "cost": cost,
            "cost_per_million_requests": cost / requests * 1e6 if cost is not None and requests else None,
        })
    costs = [v["cost"] for v in variants]
    total_requests = sum(v["requests"] for v in variants)
    return {
        "duration_s": duration_s,
        "requests": total_requests,
        "cost": sum(costs) if all(c is not None for c in costs) else None,
        "littles_law": totals.littles_law(),
        "latency_note": "run-level percentiles from a log histogram (at most 1.2% above exact); "
                        "metrics.parquet percentiles are exact up to 150 distinct values per datapoint, "
                        "else within half a histogram bucket (metrics.histogram_scale)",
        "variants": variants,
    }
