"""Hand-built serverless variants and synthetic serverless records, for the metrics tests.

A serverless run is not simulated end to end yet (the request plane's station comes separately):
these helpers build what the metrics layer reads — a `Fleet` whose variant has a `ServerlessRuntime`
and no instance type, and `RequestRecords` / `EnvironmentRecords` shaped as the interface says
(request_records.py): a served request is busy from arrival to completion, starts service after its
cold start, has no instance; a throttled one has no environment.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from small_experiments import base_experiment, scenario
from simfleet.fleet import Fleet, ServerlessRuntime, build_fleet
from simfleet.request_records import (ENV_COLD, ENV_NONE, ENV_PROVISIONED, ENV_PROVISIONED_ADDED, ENV_REAPED,
                                      ENV_RELEASED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, ENV_STARTED, ENV_WARM,
                                      MODEL_ERROR, MODEL_TIMEOUT, OK, THROTTLED, EnvironmentRecords, RequestRecords)

PRICES = dict(price_per_second=0.00002 * 2, provisioned_price_per_second=0.000004,
              provisioned_inference_price_per_second=0.00001, data_price_per_gb=0.016)


def serverless_fleet(provisioned: int = 0, max_concurrency: int = 20, memory_size_mb: int = 2048,
                     bill_cold_start: bool = False, endpoint_name: str = "serverless", **prices) -> tuple[Fleet, object]:
    """(fleet of one serverless variant, its scenario's experiment)."""
    raw = base_experiment(duration="10min")
    raw["endpoints"][0]["endpoint_name"] = endpoint_name
    raw["traffic"] = [{"kind": "poisson", "rate": 1, "endpoint_name": endpoint_name}]
    built = scenario(raw)
    variant = build_fleet(built).variants[0]
    runtime = ServerlessRuntime(
        memory_size_mb=memory_size_mb, max_concurrency=max_concurrency, provisioned_concurrency=provisioned,
        idle_timeout_s=300.0, setup_time=variant.entry.service_time, vcpus=1.0, service_basis="test",
        bill_cold_start=bill_cold_start, **{**PRICES, **prices})
    variant = dataclasses.replace(variant, instance_type=None, initial_instance_count=0, serverless=runtime)
    return Fleet((endpoint_name,), (variant,)), built.experiment


def synthetic_run(rng: np.random.Generator, n: int, duration_s: float, provisioned: int = 0,
                  variant: int = 0) -> tuple[RequestRecords, EnvironmentRecords]:
    """`n` requests arriving over [0, duration_s) with random environments and outcomes, and lifecycle
    records: `provisioned` environments added at 0 (some released and re-added later), one start per
    cold start at its arrival, a reap some time after some completions."""
    arrival = np.sort(rng.random(n) * duration_s)
    kinds = [ENV_NONE, ENV_WARM, ENV_COLD] + ([ENV_PROVISIONED, ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD]
                                              if provisioned else [])
    environment = rng.choice(np.array(kinds, np.int8), n)
    cold = np.isin(environment, (ENV_COLD, ENV_SPILLOVER_COLD))
    served = environment != ENV_NONE
    status = np.where(served, rng.choice(np.array([OK, OK, OK, MODEL_ERROR, MODEL_TIMEOUT], np.int8), n),
                      THROTTLED).astype(np.int8)
    # millisecond-exact durations now and then, to meet the billing's rounding edge
    setup = np.where(cold, rng.exponential(2.0, n), 0.0)
    service = np.where(rng.random(n) < 0.2, rng.integers(1, 50, n) / 1000, rng.exponential(0.3, n)) * served
    start = arrival + setup
    complete = start + service
    overhead_base = rng.exponential(0.002, n)
    records = RequestRecords(
        arrival_s=arrival, variant=np.full(n, variant, np.int32), instance=np.full(n, -1, np.int32), status=status,
        payload_bytes=rng.integers(100, 100_000, n).astype(np.float64), service_s=service, start_s=start,
        complete_s=complete, model_latency_s=complete - start, overhead_s=overhead_base + setup,
        response_s=complete + overhead_base, active_instances=np.zeros(n, np.int32),
        container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16), setup_s=setup, environment=environment)
    times = [arrival[cold], np.zeros(provisioned)]
    kinds_out = [np.full(int(cold.sum()), ENV_STARTED), np.full(provisioned, ENV_PROVISIONED_ADDED)]
    reaped = served & ~np.isin(environment, (ENV_PROVISIONED,)) & (rng.random(n) < 0.5)
    times.append(complete[reaped] + rng.exponential(60.0, int(reaped.sum())))
    kinds_out.append(np.full(int(reaped.sum()), ENV_REAPED))
    if provisioned:
        released = rng.random(provisioned) * duration_s
        readded = released + rng.random(provisioned) * duration_s / 4
        times += [released, readded]
        kinds_out += [np.full(provisioned, ENV_RELEASED), np.full(provisioned, ENV_PROVISIONED_ADDED)]
    time = np.concatenate(times)
    kind = np.concatenate(kinds_out).astype(np.int8)
    order = rng.permutation(len(time))  # records come in no particular order
    environments = EnvironmentRecords(time[order], np.full(len(time), variant, np.int32), kind[order])
    return records, environments
