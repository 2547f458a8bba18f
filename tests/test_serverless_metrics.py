"""The metrics of serverless variants (issue 16) against naive computations on synthetic records.

Records are built by hand (`serverless_records`), shaped as the request plane's interface says; every
expected value here is recomputed from those records in the plainest way (loops, per-sample counts,
sorted step functions), never read from the program's output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_records import serverless_fleet, synthetic_run
from simfleet.metrics.aggregator import MetricsAggregator
from simfleet.metrics.run_totals import RunTotals
from simfleet.metrics.serverless_activity import COUNTS, ServerlessActivity
from simfleet.metrics.serverless_billing import serverless_cost
from simfleet.metrics.serverless_gauges import SampledState, memory_utilization_percent
from simfleet.metrics.serverless_totals import ServerlessTotals
from simfleet.metrics.summary import FleetTime, build_summary
from simfleet.request_records import (ENV_COLD, ENV_NONE, ENV_PROVISIONED, ENV_PROVISIONED_ADDED, ENV_REAPED,
                                      ENV_RELEASED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, ENV_STARTED, ENV_WARM,
                                      MODEL_ERROR, THROTTLED, EnvironmentRecords)

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

DURATION_S = 600.0


def _parts(records, cuts):
    bounds = sorted({0, len(records), *[min(c, len(records)) for c in cuts]})
    return [records.select(slice(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _batches(records, ticks, cuts):
    """Per tick, the batches of the records arriving since the previous tick (as the engine hands
    them over before it closes the tick), cut further at the record numbers in `cuts`."""
    out, lo = [], 0
    for t in ticks:
        hi = int(np.searchsorted(records.arrival_s, t, side="left"))
        inner = sorted({lo, hi, *[c for c in cuts if lo < c < hi]})
        out.append([records.select(slice(a, b)) for a, b in zip(inner[:-1], inner[1:])])
        lo = hi
    return out


def _run_aggregator(fleet, experiment, records, environments, cuts=(), end_s=DURATION_S + 600):
    """Feed the records in batches (each batch's arrivals before the tick that follows it) and close
    every 10 s tick up to `end_s`; returns the metrics table as pandas."""
    aggregator = MetricsAggregator(fleet, experiment.metrics, experiment.experiment.start_time)
    ticks = np.arange(10.0, end_s + 1, 10.0)
    for tick, batches in zip(ticks, _batches(records, ticks, cuts)):
        for batch in batches:
            aggregator.add(batch)
        if tick == 10.0:
            aggregator.add_environment(environments)
        aggregator.close_tick(tick, np.zeros((0, 1)), np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(0, np.int64))
    metrics, _ = aggregator.buffer.tables()
    return metrics.to_pandas()


def _total(frame, metric, column="sum"):
    return float(frame.loc[frame.metric_name == metric, column].sum())


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), provisioned=st.sampled_from([0, 3]),
       cuts=st.lists(st.integers(0, 400), max_size=3))
def test_invocation_metrics_of_a_serverless_variant(seed, n, provisioned, cuts):
    fleet, experiment = serverless_fleet(provisioned=provisioned)
    records, environments = synthetic_run(np.random.default_rng(seed), n, DURATION_S, provisioned)
    frame = _run_aggregator(fleet, experiment, records, environments, cuts)
    env, status = records.environment, records.status

    # one ModelSetupTime sample per cold-started request, its values the cold starts in microseconds
    cold = [k for k in range(n) if env[k] in (ENV_COLD, ENV_SPILLOVER_COLD)]
    assert _total(frame, "ModelSetupTime", "sample_count") == len(cold)
    if cold:
        assert _total(frame, "ModelSetupTime") == pytest.approx(sum(records.setup_s[k] * 1e6 for k in cold))
    # every request counts in Invocations; a throttle is a 4XX (and a model error answering 500 a 5XX)
    assert _total(frame, "Invocations") == n
    throttles = sum(1 for k in range(n) if status[k] == THROTTLED)
    model_errors = sum(1 for k in range(n) if status[k] == MODEL_ERROR)
    four = throttles + (model_errors if fleet.variants[0].model_error_status < 500 else 0)
    assert _total(frame, "Invocation4XXErrors") == four
    # ModelLatency and OverheadLatency for the served requests (overhead includes the cold start)
    served = [k for k in range(n) if env[k] != ENV_NONE]
    assert _total(frame, "OverheadLatency", "sample_count") == len(served)
    if served:
        assert _total(frame, "OverheadLatency") == pytest.approx(sum(records.overhead_s[k] * 1e6 for k in served))
    # Provisioned Concurrency counts: PC + spillover + plain on-demand = served
    pc = _total(frame, "ServerlessProvisionedConcurrencyInvocations")
    spill = _total(frame, "ServerlessProvisionedConcurrencySpilloverInvocations")
    plain = sum(1 for k in range(n) if env[k] in (ENV_WARM, ENV_COLD))
    if provisioned:
        assert pc == sum(1 for k in range(n) if env[k] == ENV_PROVISIONED)
        assert spill == sum(1 for k in range(n) if env[k] in (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD))
        # one value per period: Average, Maximum and Minimum are that count
        rows = frame[frame.metric_name == "ServerlessProvisionedConcurrencyInvocations"]
        assert (rows.sample_count == 1).all() and (rows.average == rows["sum"]).all()
        assert (rows.maximum == rows.minimum).all()
    else:
        assert pc == spill == 0 and "ServerlessProvisionedConcurrencyExecutions" not in set(frame.metric_name)
    assert pc + spill + plain == len(served)


def test_a_serverless_variant_publishes_no_host_or_instance_metric():
    fleet, experiment = serverless_fleet(provisioned=2)
    records, environments = synthetic_run(np.random.default_rng(7), 300, DURATION_S, 2)
    frame = _run_aggregator(fleet, experiment, records, environments)
    names = set(frame.metric_name)
    assert not names & {"CPUUtilization", "GPUUtilization", "InvocationsPerInstance", "InvocationModelErrors",
                        "ConcurrentRequestsPerModel", "CPUUtilizationNormalized"}
    assert not any(name.startswith("Instance") or name.endswith("Instances") for name in names)
    assert frame.InstanceId.isna().all() if "InstanceId" in frame else True
    assert {"ServerlessConcurrentExecutionsUtilization", "ServerlessProvisionedConcurrencyExecutions",
            "ServerlessProvisionedConcurrencyUtilization", "ModelSetupTime", "MemoryUtilization"} <= names


def _naive_level(environments, kinds_up, kinds_down, t):
    return sum(1 for time, kind in zip(environments.time_s, environments.kind) if time <= t and kind in kinds_up) \
        - sum(1 for time, kind in zip(environments.time_s, environments.kind) if time <= t and kind in kinds_down)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 200), provisioned=st.sampled_from([0, 2]),
       period=st.sampled_from([10, 60]), interval=st.sampled_from([1.0, 5.0, 10.0]),
       cuts=st.lists(st.integers(0, 200), max_size=3))
def test_sampled_gauges_equal_a_naive_count_at_every_instant(seed, n, provisioned, period, interval, cuts):
    fleet, _ = serverless_fleet(provisioned=provisioned, max_concurrency=7)
    variant = fleet.variants[0]
    rng = np.random.default_rng(seed)
    duration = 120.0
    records, environments = synthetic_run(rng, n, duration, provisioned)
    state = SampledState(variant)
    ticks = np.arange(period, duration + 1, period)
    batches = _batches(records, ticks, cuts)
    # environment records handed over in two batches, before the closes that need them
    early = environments.time_s < duration / 2
    state.add_environment(EnvironmentRecords(environments.time_s[early], environments.variant[early],
                                             environments.kind[early]))
    for t, batch in zip(ticks, batches):
        if t > duration / 2 and (~early).any():
            state.add_environment(EnvironmentRecords(environments.time_s[~early], environments.variant[~early],
                                                     environments.kind[~early]))
            early = np.ones(len(environments), bool)
        for part in batch:
            state.add(part.arrival_s, part.complete_s, part.environment)
        published = {metric: values for _, metric, _, values in state.close(float(t), period, interval)}
        instants = t - period + np.arange(int(round(period / interval))) * interval
        busy = [sum(1 for k in range(n) if records.environment[k] != ENV_NONE
                    and records.arrival_s[k] <= s < records.complete_s[k]) for s in instants]
        on_pc = [sum(1 for k in range(n) if records.environment[k] == ENV_PROVISIONED
                     and records.arrival_s[k] <= s < records.complete_s[k]) for s in instants]
        np.testing.assert_allclose(published["ServerlessConcurrentExecutionsUtilization"], np.array(busy) / 7)
        if provisioned:
            np.testing.assert_array_equal(published["ServerlessProvisionedConcurrencyExecutions"], on_pc)
            level = [_naive_level(environments, (ENV_PROVISIONED_ADDED,), (ENV_RELEASED,), s) for s in instants]
            expected = [b / lv for b, lv in zip(on_pc, level) if lv > 0]
            np.testing.assert_allclose(published.get("ServerlessProvisionedConcurrencyUtilization", []), expected)
        alive = [_naive_level(environments, (ENV_STARTED, ENV_PROVISIONED_ADDED), (ENV_REAPED, ENV_RELEASED), s)
                 for s in instants]
        assert len(published.get("MemoryUtilization", [])) == sum(1 for a in alive if a > 0)
        assert all(0 < value <= 100 for value in published.get("MemoryUtilization", []))


def test_memory_utilization_is_the_footprint_over_the_memory_size():
    fleet, _ = serverless_fleet(memory_size_mb=1024)
    variant = fleet.variants[0]
    footprint = variant.entry.workers * variant.entry.memory_per_worker_bytes
    assert memory_utilization_percent(variant) == pytest.approx(min(100.0, 100 * footprint / 2**30))


def _naive_integral(environments, up, down, end):
    """∫_0^end of the step function, by walking the sorted records."""
    events = sorted((t, (1 if k in up else -1 if k in down else 0)) for t, k in zip(environments.time_s,
                                                                                   environments.kind))
    total, level, last = 0.0, 0, 0.0
    for t, step in events:
        if t >= end:
            break
        total += level * (t - last)
        level, last = level + step, t
    return total + level * (end - last)


def _naive_billed_ms(seconds):
    return math.ceil(round(seconds * 1000, 6))


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), provisioned=st.sampled_from([0, 4]),
       bill_cold_start=st.booleans(), response=st.sampled_from([None, 0.0, 5000.0]),
       cuts=st.lists(st.integers(0, 300), max_size=3))
def test_billing_equals_a_naive_per_request_sum(seed, n, provisioned, bill_cold_start, response, cuts):
    fleet, _ = serverless_fleet(provisioned=provisioned, bill_cold_start=bill_cold_start)
    runtime = fleet.variants[0].serverless
    records, environments = synthetic_run(np.random.default_rng(seed), n, DURATION_S, provisioned)
    totals = ServerlessTotals(fleet, DURATION_S, response)
    for part in _parts(records, cuts):
        totals.add(part)
    totals.add_environment(environments)
    response_bytes = 1024.0 if response is None else response

    on_demand_ms = provisioned_ms = 0
    data = 0.0
    for k in range(n):
        if records.environment[k] == ENV_NONE:
            continue
        seconds = records.complete_s[k] - records.start_s[k] + (records.setup_s[k] if bill_cold_start else 0.0)
        if records.environment[k] == ENV_PROVISIONED:
            provisioned_ms += _naive_billed_ms(seconds)
        else:
            on_demand_ms += _naive_billed_ms(seconds)
        data += records.payload_bytes[k] + response_bytes
    level_s = _naive_integral(environments, (ENV_PROVISIONED_ADDED,), (ENV_RELEASED,), DURATION_S)
    expected = (on_demand_ms / 1000 * runtime.price_per_second
                + provisioned_ms / 1000 * runtime.provisioned_inference_price_per_second
                + level_s * runtime.provisioned_price_per_second
                + data / 2**30 * runtime.data_price_per_gb)
    cost = serverless_cost(runtime, totals.variants[0], totals.provisioned_seconds(0))
    assert cost.missing == ()
    assert cost.total == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert totals.provisioned_seconds(0) == pytest.approx(level_s, abs=1e-6)

    alive = _naive_integral(environments, (ENV_STARTED, ENV_PROVISIONED_ADDED), (ENV_REAPED, ENV_RELEASED), DURATION_S)
    assert totals.mean_alive(0) == pytest.approx(alive / DURATION_S, abs=1e-9)
    executions = sum(min(records.complete_s[k], DURATION_S) - records.arrival_s[k] for k in range(n)
                     if records.environment[k] != ENV_NONE)
    assert totals.mean_executions(0) == pytest.approx(executions / DURATION_S, abs=1e-9)


def test_billing_rounds_each_request_up_to_the_millisecond():
    fleet, _ = serverless_fleet()
    records, _ = synthetic_run(np.random.default_rng(3), 50, DURATION_S)
    served = records.environment != ENV_NONE
    # 1 ms exactly bills 1 ms, a hair over bills 2, 0.1 ms bills 1
    records.complete_s[:] = records.start_s + np.resize([0.001, 0.0010001, 0.0001], len(records))
    totals = ServerlessTotals(fleet, DURATION_S)
    totals.add(records)
    per = np.resize([1, 2, 1], len(records))
    assert totals.variants[0].billed_ms == int(per[served].sum())


@pytest.mark.parametrize("missing", ["price_per_second", "data_price_per_gb", "provisioned_price_per_second",
                                     "provisioned_inference_price_per_second"])
def test_a_missing_price_makes_the_cost_unknown_and_is_named(missing):
    fleet, _ = serverless_fleet(provisioned=2, **{missing: None})
    records, environments = synthetic_run(np.random.default_rng(5), 200, DURATION_S, 2)
    totals = ServerlessTotals(fleet, DURATION_S)
    totals.add(records)
    totals.add_environment(environments)
    cost = serverless_cost(fleet.variants[0].serverless, totals.variants[0], totals.provisioned_seconds(0))
    assert math.isnan(cost.total) and cost.missing == (missing,)
    summary = _summary(fleet, records, totals)
    variant = summary["variants"][0]
    assert variant["cost"] is None and variant["cost_per_hour"] is None and summary["cost"] is None
    assert summary["missing_prices"] == [{"EndpointName": "serverless", "VariantName": "A", "price": missing,
                                          "of": "serverless 2048 MB"}]


def test_provisioned_prices_are_not_needed_without_provisioned_concurrency():
    fleet, _ = serverless_fleet(provisioned=0, provisioned_price_per_second=None,
                                provisioned_inference_price_per_second=None)
    records, environments = synthetic_run(np.random.default_rng(5), 200, DURATION_S, 0)
    totals = ServerlessTotals(fleet, DURATION_S)
    totals.add(records)
    totals.add_environment(environments)
    summary = _summary(fleet, records, totals)
    assert summary["missing_prices"] == [] and summary["variants"][0]["cost"] > 0


def _summary(fleet, records, serverless):
    totals = RunTotals(len(fleet.variants), DURATION_S)
    totals.add(records)
    return build_summary(fleet, totals, [FleetTime(0.0, 0.0, 0)], [0.0], DURATION_S, serverless)


def test_the_summary_reads_like_an_instance_variant_with_the_serverless_counts():
    fleet, _ = serverless_fleet(provisioned=2)
    rng = np.random.default_rng(11)
    records, environments = synthetic_run(rng, 500, DURATION_S, 2)
    totals = ServerlessTotals(fleet, DURATION_S)
    totals.add(records)
    totals.add_environment(environments)
    variant = _summary(fleet, records, totals)["variants"][0]
    env, status = records.environment, records.status
    served = int((env != ENV_NONE).sum())
    cold = int(np.isin(env, (ENV_COLD, ENV_SPILLOVER_COLD)).sum())
    assert variant["instance_type"] is None and variant["instance_count"] == 0
    assert variant["cost_per_hour"] == pytest.approx(variant["cost"] / DURATION_S * 3600)
    assert variant["cost_per_million_requests"] == pytest.approx(variant["cost"] / 500 * 1e6)
    serverless = variant["serverless"]
    assert serverless["cold_starts"] == cold and serverless["cold_start_rate"] == pytest.approx(cold / served)
    assert serverless["throttles"] == int((status == THROTTLED).sum()) == variant["outcomes"]["Throttled"]
    assert serverless["throttle_rate"] == pytest.approx(serverless["throttles"] / 500)
    assert serverless["spillovers"] == int(np.isin(env, (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD)).sum())


def test_activity_rows_count_each_minute_once_per_variant():
    fleet, _ = serverless_fleet(provisioned=2)
    records, environments = synthetic_run(np.random.default_rng(2), 400, DURATION_S, 2)
    activity = ServerlessActivity(fleet)
    rows = []
    for part in _parts(records, [100, 250]):
        activity.add(part)
    activity.add_environment(environments)
    for t in np.arange(60.0, DURATION_S + 1, 60.0):
        rows += activity.close(t)
    rows += activity.flush(DURATION_S)
    minutes = [(row.variant_name, row.detail["window_start_s"]) for row in rows]
    assert len(minutes) == len(set(minutes))
    assert [row.time_s for row in rows] == sorted(row.time_s for row in rows)
    totals = {name: sum(row.counts[name] for row in rows) for name in COUNTS}
    assert totals["throttles"] == int((records.status == THROTTLED).sum())
    assert totals["spillovers"] == int(np.isin(records.environment, (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD)).sum())
    for name, kind in (("cold_starts", ENV_STARTED), ("reaps", ENV_REAPED),
                       ("provisioned_added", ENV_PROVISIONED_ADDED), ("provisioned_released", ENV_RELEASED)):
        assert totals[name] == int(((environments.kind == kind) & (environments.time_s < DURATION_S)).sum())
    for row in rows:  # each row counts its own minute
        lo, hi = row.detail["window_start_s"], row.detail["window_start_s"] + 60
        assert row.counts["cold_starts"] == int(((environments.kind == ENV_STARTED) & (environments.time_s >= lo)
                                                 & (environments.time_s < hi)).sum())


# -- requests.parquet and the sweep's row -----------------------------------------------------------------

def test_the_request_trace_writes_setup_and_environment(tmp_path):
    import pyarrow.parquet as pq

    from small_experiments import base_experiment, scenario
    from simfleet.fleet import build_fleet
    from simfleet.metrics.emission import ENVIRONMENT_NAMES
    from simfleet.outputs.requests_trace import RequestTrace

    fleet, experiment = serverless_fleet(provisioned=2)
    records, _ = synthetic_run(np.random.default_rng(4), 300, DURATION_S, 2)
    trace = RequestTrace(tmp_path / "requests.parquet", fleet, experiment.experiment.start_time)
    for part in _parts(records, [120]):
        trace(part)
    trace.commit()
    table = pq.read_table(tmp_path / "requests.parquet").to_pydict()
    assert table["setup_s"] == records.setup_s.tolist()
    names = {0: "None", 1: "Warm", 2: "Cold", 3: "Provisioned", 4: "SpilloverWarm", 5: "SpilloverCold"}
    assert names == {code: ENVIRONMENT_NAMES[code] for code in names}
    assert table["environment"] == [names[int(code)] for code in records.environment]
    assert all(i is None for i in table["InstanceId"])
    throttled = records.status == THROTTLED
    assert [c for c, t in zip(table["error_class"], throttled) if t] == ["4XX"] * int(throttled.sum())
    assert set(s for s, t in zip(table["status"], throttled) if t) <= {"Throttled"}

    # an instance-based variant's requests (no serverless columns): 0 and "None"
    plain = build_fleet(scenario(base_experiment()))
    instance_records = records.select(slice(0, 20))
    instance_records = type(instance_records)(**{**vars(instance_records), "setup_s": None, "environment": None,
                                                 "instance": np.zeros(20, np.int32)})
    trace = RequestTrace(tmp_path / "plain.parquet", plain, experiment.experiment.start_time)
    trace(instance_records)
    trace.commit()
    table = pq.read_table(tmp_path / "plain.parquet").to_pydict()
    assert table["setup_s"] == [0.0] * 20 and table["environment"] == ["None"] * 20


def test_the_sweep_row_sums_the_serverless_variants():
    import pyarrow as pa

    from simfleet.sweep.execute import HEADLINE_FIELDS, headline

    fleet, _ = serverless_fleet(provisioned=2)
    records, environments = synthetic_run(np.random.default_rng(9), 400, DURATION_S, 2)
    totals = ServerlessTotals(fleet, DURATION_S)
    totals.add(records)
    totals.add_environment(environments)
    summary = _summary(fleet, records, totals)
    events = pa.table({"event": pa.array([], pa.string())})
    row = headline(summary, events)
    names = [name for name, _ in HEADLINE_FIELDS]
    first = names.index("cold_starts")
    assert names[first:first + 7] == ["cold_starts", "cold_start_rate", "throttles", "throttle_rate", "spillovers",
                                      "mean_warm_environments", "mean_concurrent_executions"]
    assert names[first + 7] == "hit_ratio"   # the multi-model columns follow
    served = int((records.environment != ENV_NONE).sum())
    cold = int(np.isin(records.environment, (ENV_COLD, ENV_SPILLOVER_COLD)).sum())
    assert row["cold_starts"] == cold and row["cold_start_rate"] == pytest.approx(cold / served)
    assert row["throttles"] == int((records.status == THROTTLED).sum())
    assert row["throttle_rate"] == pytest.approx(row["throttles"] / 400)
    assert row["cost_per_hour"] == pytest.approx(summary["cost"] / DURATION_S * 3600)
    assert row["mean_concurrent_executions"] == pytest.approx(totals.mean_executions(0))


def test_activity_rows_become_events_rows():
    import json

    from simfleet.engine.events import EventLog
    from simfleet.engine.simulation import _log_activity

    fleet, experiment = serverless_fleet(provisioned=1)
    records, environments = synthetic_run(np.random.default_rng(8), 100, 150.0, 1)
    activity = ServerlessActivity(fleet)
    activity.add(records)
    activity.add_environment(environments)
    log = EventLog(experiment.experiment.start_time)
    _log_activity(log, activity.close(120.0))
    _log_activity(log, activity.flush(150.0))
    table = log.table().to_pydict()
    assert set(table["event"]) == {"ServerlessActivity"} and set(table["VariantName"]) == {"A"}
    details = [json.loads(d) for d in table["detail"]]
    assert sum(d["throttles"] for d in details) == int((records.status == THROTTLED).sum())
    assert table["time_s"] == sorted(table["time_s"])
    # nothing after the run's end (reaps scheduled past it are dropped)
    assert max(table["time_s"]) <= 150.0 and all(d["window_start_s"] < 150.0 for d in details)
