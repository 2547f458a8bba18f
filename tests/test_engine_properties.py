"""Properties every run must have, on hypothesis-generated fleets and traffic.

* cutting time into segments changes nothing; the same seed gives the same tables;
* Little's law: the time-average number of requests in the system, sampled independently from
  the request trace, equals λ·W;
* every datapoint of metrics.parquet equals a naive recomputation from the request trace
  (group by response period, exact statistics with NumPy's inverted-CDF percentiles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import base_experiment, scenario
from simfleet.engine.kernels.dispatch import MODEL_ERROR, MODEL_TIMEOUT, OK, QUEUE_FULL
from simfleet.engine.records import RequestRecords
from simfleet.engine.simulation import simulate


@st.composite
def experiments(draw):
    raw = base_experiment(duration=draw(st.sampled_from(["1min", "2min", "3min"])),
                          seed=draw(st.integers(0, 2**31)))
    raw["metrics"] = {"period": draw(st.sampled_from(["1s", "10s", "30s", "60s"])),
                      "percentiles": draw(st.sampled_from([[50], [50, 99], [10, 90, 99.9]]))}
    variants = []
    for index in range(draw(st.integers(1, 3))):
        variants.append({
            "variant_name": f"V{index}",
            "model_name": "toy",
            "instance_type": draw(st.sampled_from(["ml.c5.large", "ml.c5.xlarge", "ml.m5.large"])),
            "initial_instance_count": draw(st.integers(1, 4)),
            "initial_variant_weight": draw(st.sampled_from([0.5, 1.0, 3.0])),
            "routing_config": {"routing_strategy": draw(st.sampled_from(["RANDOM", "LEAST_OUTSTANDING_REQUESTS"]))},
            "model_error_rate": draw(st.sampled_from([0.0, 0.05])),
            "model_error_status": draw(st.sampled_from([400, 500])),
        })
    raw["endpoints"][0]["production_variants"] = variants
    kind = draw(st.sampled_from(["poisson", "constant"]))
    traffic = {"kind": kind, "payload": {"kind": "lognormal", "median": "2 KB", "sigma": 2.0}}
    if draw(st.booleans()):
        traffic["rate"] = draw(st.integers(5, 900))
    else:
        traffic["schedule"] = [["0s", draw(st.integers(0, 300))], ["30s", draw(st.integers(0, 900))]]
        traffic["interpolation"] = draw(st.sampled_from(["linear", "step"]))
    raw["traffic"] = [traffic]
    if draw(st.booleans()):  # a second source, possibly aimed at one variant
        raw["traffic"].append({"kind": draw(st.sampled_from(["poisson", "constant"])),
                               "rate": draw(st.integers(1, 200)),
                               "target_variant": draw(st.sampled_from([None, "V0"]))})
        if raw["traffic"][-1]["target_variant"] is None:
            del raw["traffic"][-1]["target_variant"]
    raw["platform"] = {"max_payload_size": "100 KB", "invocation_timeout": draw(st.sampled_from(["50ms", "60s"]))}
    return raw


def _run(raw, **kwargs):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append, **kwargs)
    return result, RequestRecords.concat(parts) if parts else RequestRecords.empty()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(), st.sampled_from([0.37, 3.0, 1000.0]))
def test_segmentation_changes_nothing(raw, segment):
    reference, reference_records = _run(raw)
    result, records = _run(raw, max_segment_s=segment)
    assert result.metrics.equals(reference.metrics)
    assert result.summary == reference.summary
    for name in ("arrival_s", "instance", "status", "start_s", "response_s"):
        np.testing.assert_array_equal(getattr(records, name), getattr(reference_records, name))


def test_same_seed_same_results_other_seed_other_results():
    raw = base_experiment(duration="2min")
    first, second = simulate(scenario(raw)), simulate(scenario(raw))
    assert first.metrics.equals(second.metrics) and first.events.equals(second.events)
    raw["experiment"]["seed"] = 2
    assert not simulate(scenario(raw)).metrics.equals(first.metrics)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_littles_law(raw):
    result, records = _run(raw)
    duration = result.summary["duration_s"]
    law = result.summary["littles_law"]
    if len(records) < 50:
        return
    # Independent estimate of L: sample the number of requests in the system on a fine grid.
    grid = np.arange(0.0005, duration, 0.001)
    arrivals = np.sort(records.arrival_s)
    responses = np.sort(records.response_s)
    in_system = np.searchsorted(arrivals, grid, side="right") - np.searchsorted(responses, grid, side="right")
    sampled_l = in_system.mean()
    assert law["arrival_rate_per_s"] == pytest.approx(len(records) / duration)
    # λ·W counts the whole sojourn of requests still in flight at the end; L only their part
    # inside the window. The difference is exactly that tail, and the sampled L matches L.
    tail = np.clip(records.response_s - duration, 0, None).sum() / duration
    assert law["lambda_times_w"] - law["mean_requests_in_system"] == pytest.approx(tail, rel=1e-6, abs=1e-9)
    assert sampled_l == pytest.approx(law["mean_requests_in_system"], rel=0.02, abs=0.02)


def _naive_metrics(records: RequestRecords, raw: dict, result) -> pd.DataFrame:
    """Recompute the invocation datapoints from the trace with pandas and NumPy."""
    period = float(raw["metrics"]["period"][:-1])
    duration = result.summary["duration_s"]
    fleet = result.fleet
    rows = []
    answered = records.response_s < duration
    for variant in fleet.variants:
        mine = answered & (records.variant == variant.index)
        index = np.floor(records.response_s[mine] / period).astype(int)
        status = records.status[mine]
        model_4xx = variant.model_error_status < 500
        reached = np.isin(status, (OK, MODEL_ERROR, MODEL_TIMEOUT, QUEUE_FULL))
        values = {
            "Invocations": (np.ones(mine.sum()), np.ones(mine.sum(), bool)),
            "Invocation4XXErrors": ((status == 3) | ((status == MODEL_ERROR) & model_4xx), np.ones(mine.sum(), bool)),
            "ModelLatency": (records.model_latency_s[mine] * 1e6, reached),
        }
        for name, (value, keep) in values.items():
            value = np.asarray(value, dtype=float)
            for k in np.unique(index[keep]):
                sample = value[keep & (index == k)]
                rows.append({"VariantName": variant.variant_name, "metric_name": name, "k": int(k),
                             "sample_count": len(sample), "sum": sample.sum(), "minimum": sample.min(),
                             "maximum": sample.max(),
                             **{f"q{p}": np.percentile(sample, p, method="inverted_cdf")
                                for p in raw["metrics"]["percentiles"]}})
    return pd.DataFrame(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_datapoints_equal_a_naive_recomputation(raw):
    result, records = _run(raw)
    metrics = result.metrics.to_pandas()
    expected = _naive_metrics(records, raw, result)
    invocation = metrics[metrics.metric_name.isin(["Invocations", "Invocation4XXErrors", "ModelLatency"])]
    assert len(invocation) == len(expected)
    if not len(expected):
        return
    period = float(raw["metrics"]["period"][:-1])
    invocation = invocation.assign(k=((invocation.timestamp - pd.Timestamp(raw["experiment"]["start_time"]))
                                      .dt.total_seconds() / period).round().astype(int))
    merged = invocation.merge(expected, on=["VariantName", "metric_name", "k"], suffixes=("", "_naive"))
    assert len(merged) == len(expected)
    for column in ("sample_count", "sum", "minimum", "maximum"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_naive"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(merged["average"], merged["sum"] / merged["sample_count"], rtol=1e-12)
    for p in raw["metrics"]["percentiles"]:
        column = "p" + f"{p:g}".replace(".", "_")
        np.testing.assert_allclose(merged[column], merged[f"q{p}"], rtol=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_invocations_per_instance_and_utilization(raw):
    result, records = _run(raw)
    metrics = result.metrics.to_pandas()
    period = float(raw["metrics"]["period"][:-1])
    for variant in result.fleet.variants:
        mine = metrics[metrics.VariantName == variant.variant_name]
        invocations = mine[mine.metric_name == "Invocations"]["sum"].sum()
        per_instance = mine[mine.metric_name == "InvocationsPerInstance"]["sum"].sum()
        assert per_instance * variant.initial_instance_count == pytest.approx(invocations)
        cpu = mine[mine.metric_name == "CPUUtilization"]
        assert (cpu["sample_count"] == variant.initial_instance_count).all()
        assert (cpu["minimum"] >= 0).all() and (cpu["maximum"] <= 100 * variant.instance_type.vcpus + 1e-9).all()
        # Busy worker-seconds from the trace, per period, equal CPUUtilization × period / 100 (1 core/worker).
        served = (records.variant == variant.index) & (records.instance >= 0) & (records.status != QUEUE_FULL)
        start, end = records.start_s[served], records.start_s[served] + records.service_s[served]
        for _, row in cpu.iterrows():
            k = round((row.timestamp - pd.Timestamp(raw["experiment"]["start_time"])).total_seconds() / period)
            lo, hi = k * period, (k + 1) * period
            busy = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None).sum()
            assert row["sum"] == pytest.approx(100 * busy / period, rel=1e-9, abs=1e-6)
