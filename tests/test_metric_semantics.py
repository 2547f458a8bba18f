"""CloudWatch metric semantics, as hypothesis properties on generated fleets and traffic (issue 3).

Every datapoint a run emits is recomputed here from the per-request trace by a naive
implementation of the documented emission rules (reference §1.1, §1.2, §1.10; DESIGN §4), written
independently of `simfleet.metrics`: group by publish period, count, sum, min, max, NumPy's
inverted-CDF percentile (= nearest rank). The set of emitted datapoints must equal the naive set
(so a period without samples has no datapoint), and each statistic must match:

* SampleCount, Minimum, Maximum exactly; Sum to float rounding; Average = Sum / SampleCount;
* percentiles exactly when the datapoint holds at most 150 distinct values, else within half an
  exponential-histogram bucket; Minimum <= percentiles <= Maximum, non-decreasing;
* error indicators are 1/0 per request (Average = the error rate);
* InvocationsPerInstance × instances = Invocations on a fixed fleet;
* ModelLatency + OverheadLatency = each request's end-to-end time;
* utilization = busy time / period, within 0–100 × vCPUs (or GPUs); per-GPU values within 0–100
  and adding up to the instance's GPUUtilization;
* ConcurrentRequestsPerModel = requests in the container at each sampling instant;
* re-bucketing 10 s datapoints into 60 s equals publishing at 60 s directly.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_statistics import nearest_rank_value
from small_experiments import base_experiment, scenario
from fleet_strategies import experiments
from simfleet.request_records import (MODEL_ERROR, MODEL_TIMEOUT, NO_CAPACITY, OK, PAYLOAD_TOO_LARGE,
                                              QUEUE_FULL)
from simfleet.cloudwatch.distribution import Distribution
from simfleet.engine.simulation import simulate
from simfleet.request_records import RequestRecords

INVOCATIONS_NS = "AWS/SageMaker"
ENDPOINTS_NS = "/aws/sagemaker/Endpoints"
PROPERTY_SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _run(raw):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append)
    return result, (RequestRecords.concat(parts) if parts else RequestRecords.empty())


def _periods(raw) -> tuple[int, int, int, bool]:
    """(invocation, utilization, concurrency) periods and enhanced, from the documented rules."""
    config = raw["endpoints"][0].get("metrics_config", {})
    enhanced = config.get("enable_enhanced_metrics", False)
    if raw["metrics"].get("high_resolution"):
        return 1, 1, 1, enhanced
    frequency = config.get("metric_publish_frequency_in_seconds", 60)
    return (frequency if enhanced else 60), frequency, 10, enhanced


def _iid(index: int) -> str:
    return f"i-{index + 1:017x}"


def _groups(out: dict, namespace: str, metric: str, variant: str, starts, owners, values) -> None:
    """Append `values` to out[(namespace, metric, variant, owner, None, start)], group by group."""
    frame = pd.DataFrame({"start": np.asarray(starts, np.int64), "owner": owners})
    for (start, owner), rows in frame.groupby(["start", "owner"], dropna=False).indices.items():
        out[(namespace, metric, variant, _text(owner), None, int(start))].extend(np.asarray(values)[rows])


def naive_values(raw, result, records: RequestRecords) -> dict:
    """{(namespace, metric, variant, instance id | None, device | None, period start s): raw values}."""
    invocation_s, utilization_s, concurrency_s, enhanced = _periods(raw)
    duration = result.summary["duration_s"]
    out: dict = defaultdict(list)
    instance_variant = np.repeat(np.arange(len(result.fleet.variants)),
                                 [v.initial_instance_count for v in result.fleet.variants])
    interval = float(str(raw["metrics"]["concurrency_sample_interval"]).rstrip("s"))
    for variant in result.fleet.variants:
        name = variant.variant_name
        mine = (records.variant == variant.index) & (records.response_s < duration)
        status = records.status[mine]
        start = (records.response_s[mine] // invocation_s).astype(np.int64) * invocation_s
        instance = records.instance[mine]
        model_error_4xx = (status == MODEL_ERROR) & (variant.model_error_status < 500)
        model_error_5xx = (status == MODEL_ERROR) & (variant.model_error_status >= 500)
        reached = np.isin(status, (OK, MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL))
        active = records.active_instances[mine]
        everyone = np.ones(len(status), bool)
        values = {
            "Invocations": (np.ones(len(status)), everyone),
            "InvocationsPerInstance": (1.0 / np.maximum(active, 1), active > 0),
            "Invocation4XXErrors": (((status == PAYLOAD_TOO_LARGE) | model_error_4xx).astype(float), everyone),
            "Invocation5XXErrors": ((np.isin(status, (MODEL_TIMEOUT, QUEUE_FULL, NO_CAPACITY)) | model_error_5xx)
                                    .astype(float), everyone),
            "InvocationModelErrors": (np.isin(status, (MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL)).astype(float), everyone),
            "ModelLatency": (records.model_latency_s[mine] * 1e6, reached),
            "OverheadLatency": (records.overhead_s[mine] * 1e6, reached),
        }
        for metric, (value, keep) in values.items():
            _groups(out, INVOCATIONS_NS, metric, name, start[keep], [None] * int(keep.sum()), value[keep])
            if enhanced:
                on = keep & (instance >= 0)
                _groups(out, INVOCATIONS_NS, metric, name, start[on], [_iid(i) for i in instance[on]], value[on])
        # Utilization: busy worker-seconds of each instance in each period, 1 vCPU per busy worker (toy).
        served = ((records.variant == variant.index) & (records.instance >= 0)
                  & np.isin(records.status, (OK, MODEL_ERROR, MODEL_TIMEOUT)))
        begin, end = records.start_s[served], records.start_s[served] + records.service_s[served]
        arrival = records.arrival_s[served]
        samples = max(1, int(round(concurrency_s / interval)))  # at least one per period
        sample_times = (np.arange(0, int(duration), concurrency_s)[:, None]
                        + np.arange(samples)[None, :] * (concurrency_s / samples))
        for instance in np.flatnonzero(instance_variant == variant.index):
            on = records.instance[served] == instance
            owners = [None] + ([_iid(instance)] if enhanced else [])
            for lo in range(0, int(duration), utilization_s):
                busy = np.clip(np.minimum(end[on], lo + utilization_s) - np.maximum(begin[on], lo), 0, None).sum()
                cpu = min(100.0 * variant.instance_type.vcpus, 100.0 * busy / utilization_s)
                for owner in owners:
                    out[(ENDPOINTS_NS, "CPUUtilization", name, owner, None, lo)].append(cpu)
            # Concurrency: requests in the container (queued or in service) at each sampling instant.
            inside = ((arrival[on][:, None, None] <= sample_times[None]) & (sample_times[None] < end[on][:, None, None]))
            counts = inside.sum(axis=0).astype(float)  # (periods, samples)
            for row, lo in enumerate(range(0, int(duration), concurrency_s)):
                for owner in owners:
                    out[(INVOCATIONS_NS, "ConcurrentRequestsPerModel", name, owner, None, lo)].extend(counts[row])
    return out


def emitted(result, raw) -> pd.DataFrame:
    frame = result.metrics.to_pandas()
    start = pd.Timestamp(raw["experiment"]["start_time"])
    frame["start_s"] = ((frame.timestamp - start).dt.total_seconds()).round().astype(int)
    return frame


def _text(value):
    return value if isinstance(value, str) else None  # pandas reads a null dimension as NaN or None


def _key(row) -> tuple:
    return (row.namespace, row.metric_name, row.VariantName, _text(row.InstanceId), _text(row.AcceleratorId),
            row.start_s)


def _half_bucket(scale: int) -> float:
    return 2.0 ** (2.0 ** -scale / 2) - 1


@PROPERTY_SETTINGS
@given(experiments())
def test_every_datapoint_equals_a_naive_recomputation(raw):
    result, records = _run(raw)
    frame = emitted(result, raw)
    expected = naive_values(raw, result, records)
    checked = {"Invocations", "InvocationsPerInstance", "Invocation4XXErrors", "Invocation5XXErrors",
               "InvocationModelErrors", "ModelLatency", "OverheadLatency", "CPUUtilization",
               "ConcurrentRequestsPerModel"}
    rows = frame[frame.metric_name.isin(checked) & frame.AcceleratorId.isna()]
    got = {_key(row): row for row in rows.itertuples(index=False)}
    assert set(got) == set(expected), "the datapoints emitted differ from the periods that have samples"
    invocation_s, utilization_s, concurrency_s, _ = _periods(raw)
    period_of = {INVOCATIONS_NS: invocation_s, ENDPOINTS_NS: utilization_s}
    tolerance = _half_bucket(raw["metrics"]["histogram_scale"])
    for key, values in expected.items():
        row = got[key]
        values = np.asarray(values)
        period = concurrency_s if key[1] == "ConcurrentRequestsPerModel" else period_of[key[0]]
        assert row.period_s == period and key[5] % period == 0
        assert row.sample_count == len(values)
        if key[0] == ENDPOINTS_NS:  # busy time is integrated differently here: equal to float rounding
            assert (row.minimum, row.maximum) == pytest.approx((values.min(), values.max()), rel=1e-9, abs=1e-9)
            assert row.sum == pytest.approx(values.sum(), rel=1e-9, abs=1e-9)
            continue
        assert row.minimum == values.min() and row.maximum == values.max()
        assert row.sum == pytest.approx(values.sum(), rel=1e-9, abs=1e-9)
        for p in raw["metrics"]["percentiles"]:
            value = getattr(row, "p" + f"{p:g}".replace(".", "_"))
            exact = nearest_rank_value(values, p)
            if len(np.unique(values)) <= 150:
                assert value == exact, (key, p)
            else:
                assert value == pytest.approx(exact, rel=tolerance * 1.000001), (key, p)


@PROPERTY_SETTINGS
@given(experiments(gpu=True))
def test_statistics_are_consistent_on_every_datapoint(raw):
    result, _ = _run(raw)
    frame = result.metrics.to_pandas()
    assert (frame.sample_count >= 1).all(), "a period without samples must have no datapoint"
    np.testing.assert_allclose(frame.average, frame["sum"] / frame.sample_count, rtol=1e-12)
    columns = ["minimum"] + ["p" + f"{p:g}".replace(".", "_") for p in raw["metrics"]["percentiles"]] + ["maximum"]
    ordered = frame[columns].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all(), "Minimum <= p.. <= Maximum, non-decreasing"
    indicators = frame[frame.metric_name.isin(["Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors"])]
    assert ((indicators.average >= 0) & (indicators.average <= 1)).all()
    assert indicators.minimum.isin([0.0, 1.0]).all() and indicators.maximum.isin([0.0, 1.0]).all()
    # Utilization ranges [MCW]: CPU 0–100 × vCPUs, GPU 0–100 × GPUs, per GPU 0–100, memory 0–100.
    vcpus = {v.variant_name: v.instance_type.vcpus for v in result.fleet.variants}
    gpus = {v.variant_name: v.instance_type.accelerators for v in result.fleet.variants}
    for row in frame[frame.namespace == ENDPOINTS_NS].itertuples(index=False):
        top = {"CPUUtilization": 100 * vcpus[row.VariantName], "MemoryUtilization": 100,
               "GPUUtilization": 100 * gpus[row.VariantName], "GPUMemoryUtilization": 100 * gpus[row.VariantName]}
        limit = 100 if isinstance(row.AcceleratorId, str) else top[row.metric_name]
        assert 0 <= row.minimum and row.maximum <= limit + 1e-9, row


@PROPERTY_SETTINGS
@given(experiments(gpu=True))
def test_per_gpu_utilization_adds_up_to_the_instance(raw):
    raw["endpoints"][0]["metrics_config"]["enable_enhanced_metrics"] = True
    result, _ = _run(raw)
    frame = result.metrics.to_pandas()
    gpu = frame[(frame.metric_name == "GPUUtilization") & frame.InstanceId.notna()]
    per_instance = gpu[gpu.AcceleratorId.isna()].set_index(["InstanceId", "timestamp"])["sum"]
    per_device = gpu[gpu.AcceleratorId.notna()].groupby(["InstanceId", "timestamp"])["sum"].sum()
    assert set(per_device.index) == set(per_instance.index)
    device_max = gpu[gpu.AcceleratorId.notna()].groupby(["InstanceId", "timestamp"])["maximum"].max()
    for key, total in per_device.items():
        # Each device is clamped at 100 % on its own: the devices add up to the instance's value
        # unless one of them sits at that clamp, and never exceed it.
        assert total <= per_instance[key] * (1 + 1e-9) + 1e-9
        if device_max[key] < 100:
            assert total == pytest.approx(per_instance[key], rel=1e-9, abs=1e-9)
    devices = gpu[gpu.AcceleratorId.notna()]
    counts = devices.groupby(["InstanceId", "timestamp"]).size()
    accelerators = {v.variant_name: v.instance_type.accelerators for v in result.fleet.variants}
    first = devices.groupby(["InstanceId", "timestamp"]).VariantName.first()
    assert all(counts[k] == accelerators[first[k]] for k in counts.index)


@PROPERTY_SETTINGS
@given(experiments())
def test_request_totals_latency_decomposition_and_per_instance_counts(raw):
    result, records = _run(raw)
    frame = result.metrics.to_pandas()
    duration = result.summary["duration_s"]
    variant_level = frame[frame.InstanceId.isna()]
    answered = records.response_s < duration
    for variant in result.fleet.variants:
        mine = variant_level[variant_level.VariantName == variant.variant_name]
        sums = mine.groupby(["metric_name", "timestamp"])["sum"].sum()
        invocations = sums.get("Invocations", pd.Series(dtype=float))
        # Invocations Sum = the requests that reached the variant (answered inside the run).
        assert invocations.sum() == np.sum(answered & (records.variant == variant.index))
        # Fixed fleet: Sum(InvocationsPerInstance) × instances = Invocations, datapoint by datapoint.
        per_instance = sums.get("InvocationsPerInstance", pd.Series(dtype=float))
        for timestamp, count in invocations.items():
            assert per_instance[timestamp] * variant.initial_instance_count == pytest.approx(count)
    # ModelLatency + OverheadLatency = end-to-end time of each request.
    np.testing.assert_allclose(records.model_latency_s + records.overhead_s, records.response_s - records.arrival_s,
                               rtol=1e-12, atol=1e-12)
    reached = answered & np.isin(records.status, (OK, MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL))
    latency = variant_level[variant_level.metric_name.isin(["ModelLatency", "OverheadLatency"])]["sum"].sum()
    assert latency == pytest.approx(1e6 * (records.response_s - records.arrival_s)[reached].sum(), rel=1e-9)


def _rebucket(frame: pd.DataFrame, values: pd.DataFrame, period: int, scale: int, percentiles) -> pd.DataFrame:
    """Merge stored datapoints into `period`-second buckets (what a CloudWatch query does)."""
    dims = ["namespace", "metric_name", "EndpointName", "VariantName", "InstanceId", "AcceleratorId"]
    frame = frame.assign(bucket=(frame.timestamp.astype("int64") // 10**9 // period) * period,
                         dist=[Distribution(int(r.sample_count), float(r.sum), float(r.minimum), float(r.maximum),
                                            np.asarray(v, float), np.asarray(c, np.int64), bool(e), scale)
                               for r, v, c, e in zip(frame.itertuples(), values["values"], values["counts"],
                                                     values["exact"])])
    rows = []
    for key, group in frame.groupby(dims + ["bucket"], dropna=False, sort=True):
        merged = Distribution.merge(list(group.dist))
        rows.append({**dict(zip(dims + ["bucket"], key)), "sample_count": merged.count, "sum": merged.total,
                     "minimum": merged.minimum, "maximum": merged.maximum, "dist": merged,
                     **{f"q{i}": merged.percentile(p) for i, p in enumerate(percentiles)}})
    return pd.DataFrame(rows)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_rebucketing_10s_into_60s_equals_publishing_at_60s(raw):
    raw["metrics"]["high_resolution"] = False
    config = raw["endpoints"][0]["metrics_config"]
    config["enable_enhanced_metrics"] = True
    config["metric_publish_frequency_in_seconds"] = 10
    fine = simulate(scenario(raw))
    config["metric_publish_frequency_in_seconds"] = 60
    coarse = simulate(scenario(raw))
    scale = raw["metrics"]["histogram_scale"]
    percentiles = raw["metrics"]["percentiles"]

    def per_request(result):  # invocation metrics: one raw value per request, so periods merge exactly
        frame = result.metrics.to_pandas()
        keep = (frame.namespace == INVOCATIONS_NS) & (frame.metric_name != "ConcurrentRequestsPerModel")
        return _rebucket(frame[keep], result.metric_values.to_pandas()[keep], 60, scale, percentiles)

    rebucketed, direct = per_request(fine), per_request(coarse)
    assert len(rebucketed) == len(direct)
    for a, b in zip(rebucketed.itertuples(index=False), direct.itertuples(index=False)):
        assert [_text(x) for x in a[:6]] + [a[6]] == [_text(y) for y in b[:6]] + [b[6]]
        assert (a.sample_count, a.minimum, a.maximum) == (b.sample_count, b.minimum, b.maximum)
        assert math.isclose(a.sum, b.sum, rel_tol=1e-12, abs_tol=1e-12)
        assert a.dist.exact == b.dist.exact
        np.testing.assert_array_equal(a.dist.values, b.dist.values)
        np.testing.assert_array_equal(a.dist.counts, b.dist.counts)
        for i in range(len(percentiles)):
            assert getattr(a, f"q{i}") == getattr(b, f"q{i}")
    # Utilization is a gauge, one value per instance per publish period: six 10 s values are not one
    # 60 s value, but their Average is the 60 s time-weighted utilization.
    cpu = []
    for result in (fine, coarse):
        frame = result.metrics.to_pandas()
        frame = frame[(frame.metric_name == "CPUUtilization") & frame.InstanceId.notna()]
        minute = frame.timestamp.dt.floor("60s")
        cpu.append(frame.groupby([frame.InstanceId, minute])["sum"].sum()
                   / frame.groupby([frame.InstanceId, minute])["sample_count"].sum())
    pd.testing.assert_series_equal(cpu[0], cpu[1], rtol=1e-9, atol=1e-9)


def test_invocation_metrics_stay_at_60s_without_enhanced_metrics():
    raw = base_experiment(duration="2min")
    raw["endpoints"][0]["metrics_config"] = {"metric_publish_frequency_in_seconds": 10}
    frame = simulate(scenario(raw)).metrics.to_pandas()
    periods = frame.groupby("metric_name").period_s.unique().apply(list).to_dict()
    assert periods["Invocations"] == [60] and periods["ModelLatency"] == [60]
    assert periods["CPUUtilization"] == [10] and periods["MemoryUtilization"] == [10]
    assert periods["ConcurrentRequestsPerModel"] == [10]
    assert frame.InstanceId.isna().all()


def test_enhanced_metrics_follow_the_frequency_and_add_instance_dimensions():
    raw = base_experiment(duration="2min")
    raw["endpoints"][0]["metrics_config"] = {"enable_enhanced_metrics": True, "metric_publish_frequency_in_seconds": 30}
    frame = simulate(scenario(raw)).metrics.to_pandas()
    invocations = frame[frame.metric_name == "Invocations"]
    assert set(invocations.period_s) == {30}
    assert set(invocations.InstanceId.dropna()) == {_iid(0), _iid(1)}
    # per-instance Invocations add up to the variant's (every request reached an instance here)
    by_time = invocations.groupby([invocations.InstanceId.isna(), "timestamp"])["sum"].sum()
    assert (by_time[True].sort_index().to_numpy() == by_time[False].sort_index().to_numpy()).all()


def test_rejected_requests_can_be_left_out_of_invocation_metrics():
    raw = base_experiment(duration="1min")
    raw["platform"] = {"max_payload_size": "1 KB"}
    raw["traffic"][0]["payload"] = {"kind": "lognormal", "median": "1 KB", "sigma": 1.0}
    counted = simulate(scenario(raw)).metrics.to_pandas()
    raw["metrics"]["invocations_include_rejected"] = False
    left_out = simulate(scenario(raw)).metrics.to_pandas()
    def total(frame, metric):
        return frame.loc[frame.metric_name == metric, "sum"].sum()
    assert total(counted, "Invocation4XXErrors") > 0 and total(left_out, "Invocation4XXErrors") == 0
    assert total(counted, "Invocations") - total(left_out, "Invocations") == total(counted, "Invocation4XXErrors")


@given(st.integers(1, 8), st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]), st.integers(1, 8))
def test_gpu_shares_spread_each_worker_over_its_devices(workers, share, devices):
    from simfleet.metrics.emission import device_shares
    shares = device_shares(workers, share, devices)
    np.testing.assert_allclose(shares.sum(axis=1), share)  # a busy worker keeps `share` GPUs busy
    # Workers are laid end to end: the devices' total load is spread as evenly as the layout allows.
    load = shares.sum(axis=0)
    assert load.max() - load.min() <= max(share, 1.0) + 1e-12
