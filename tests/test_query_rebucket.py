"""Re-bucketing: CloudWatch's start-time rounding, and coarse periods recomputed from stored fine ones.

The key property (issue 3 item 6): querying stored fine datapoints at a coarser period gives the
same datapoints as building each coarse period's distribution straight from the raw values —
SampleCount, Minimum, Maximum and percentiles equal, Sum and Average close — and, on exact data,
the same values as naive numpy statistics of the raw values.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfleet.cloudwatch.distribution import Distribution
from simfleet.query import RunMetrics
from simfleet.query.rebucket import align_start, bucket_count, valid_period
from reference_statistics import naive_statistic
from stored_runs import START_S, Stream, write_run

DAY_MS = 86_400_000


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


# -- CloudWatch's documented examples [CW-API] ------------------------------------------------------

@pytest.mark.parametrize("age_days, period, expected", [
    (1, 60, "2026-01-05T12:32:00"),      # < 15 days: whole minute
    (1, 300, "2026-01-05T12:32:00"),
    (20, 60, "2026-01-05T12:30:00"),     # 15-63 days: 5 minutes
    (70, 3600, "2026-01-05T12:00:00"),   # > 63 days: hour
])
def test_start_time_rounding_by_age(age_days, period, expected):
    start = _ms("2026-01-05T12:32:34")
    assert align_start(start, period, now_ms=start + age_days * DAY_MS) == _ms(expected)


@pytest.mark.parametrize("start, period, expected", [
    ("2026-01-05T01:05:23", 10, "2026-01-05T01:05:20"),
    ("2026-01-05T15:02:17", 5, "2026-01-05T15:02:15"),
    ("2026-01-05T15:02:47", 20, "2026-01-05T15:02:40"),
    ("2026-01-05T15:02:47", 30, "2026-01-05T15:02:30"),
    ("2026-01-05T15:02:47.250", 1, "2026-01-05T15:02:47"),
])
def test_start_time_rounding_for_sub_minute_periods(start, period, expected):
    assert align_start(_ms(start), period, now_ms=_ms(start) + 1000) == _ms(expected)


def test_valid_periods_and_bucket_count():
    assert [p for p in range(1, 181) if valid_period(p)] == [1, 5, 10, 20, 30, 60, 120, 180]
    assert bucket_count(0, 3_600_000, 60) == 60
    assert bucket_count(0, 3_600_001, 60) == 61           # a partial last period counts
    assert bucket_count(5, 5, 60) == 0


# -- the property -------------------------------------------------------------------------------

STATS = ["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p0", "p50", "p90", "p99.9", "p100", "tm90"]
PAIRS = [(f, f * k) for f in (1, 5, 10, 20, 30, 60) for k in range(1, 7) if valid_period(f * k)]


def _naive_start(start_s: int, period: int) -> int:
    return start_s - start_s % (period if period < 60 else 60)


@st.composite
def scenarios(draw):
    fine, coarse = draw(st.sampled_from(PAIRS))
    n = draw(st.integers(1, 2500))
    mode = draw(st.sampled_from(["few", "many", "zeros"]))
    seed = draw(st.integers(0, 2**32 - 1))
    span = draw(st.integers(1, 1800))
    start_offset = draw(st.integers(-120, 600))
    length = draw(st.integers(1, 2400))
    return fine, coarse, n, mode, seed, span, start_offset, length


def _raw(n, mode, seed, span):
    rng = np.random.default_rng(seed)
    times = START_S + np.floor(rng.uniform(0, span, n))
    if mode == "few":
        values = rng.choice(rng.integers(0, 1000, 12).astype(float), n)
    elif mode == "many":
        values = rng.lognormal(8, 1.0, n)
    else:
        values = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(3, 2.0, n))
    return times, values


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_rebucketing_equals_building_the_coarse_period_from_raw_values(scenario):
    fine, coarse, n, mode, seed, span, start_offset, length = scenario
    times, values = _raw(n, mode, seed, span)
    with tempfile.TemporaryDirectory() as folder:
        run = RunMetrics.open(write_run(Path(folder) / "run", [
            Stream("ModelLatency", {"EndpointName": "ep", "VariantName": "A"}, times, values, period_s=fine)]))
        start_s, end_s = START_S + start_offset, START_S + start_offset + length
        queries = [{"Id": f"q{i}", "MetricStat": {
            "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency",
                       "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "A"}]},
            "Period": coarse, "Stat": stat}} for i, stat in enumerate(STATS)]
        frame = run.get_metric_data(queries, start_s, end_s, scan_by="TimestampAscending")

    # expected, from the raw values alone
    aligned = _naive_start(start_s, coarse)
    stored_start = times - times % fine
    inside = (stored_start >= aligned) & (stored_start < end_s)
    bucket = aligned + (stored_start - aligned) // coarse * coarse
    expected_buckets = np.unique(bucket[inside]).astype(np.int64)
    for stat in STATS:
        got = frame[frame["stat"] == stat]
        got_times = (got["timestamp"].astype("int64").to_numpy() // 1000)
        got_values = got["value"].to_numpy()
        raw_by_bucket = [values[inside & (bucket == b)] for b in expected_buckets]
        expected = []
        for raw in raw_by_bucket:
            direct = Distribution.from_values(raw)
            if stat in ("SampleCount", "Minimum", "Maximum", "Sum", "Average"):
                expected.append(naive_statistic(raw, stat))
            elif stat.startswith("p"):
                expected.append(direct.percentile(float(stat[1:])))
                if direct.exact:
                    assert expected[-1] == naive_statistic(raw, stat)
            else:
                expected.append(naive_statistic(raw, stat) if direct.exact else None)
        if stat == "tm90" and any(e is None for e in expected):
            continue       # histogram: trimmed means work on bucket representatives (statistics tests)
        keep = [i for i, e in enumerate(expected) if e is not None]
        assert got_times.tolist() == expected_buckets[keep].tolist(), stat
        for value, want in zip(got_values, [expected[i] for i in keep]):
            if stat in ("Sum", "Average", "tm90"):
                assert math.isclose(value, want, rel_tol=1e-12, abs_tol=1e-12), (stat, value, want)
            else:
                assert value == want, (stat, value, want)


def test_no_datapoint_for_a_period_without_samples(tmp_path):
    times = np.array([START_S + 5, START_S + 10, START_S + 400])          # nothing in 09:01–09:06
    run = RunMetrics.open(write_run(tmp_path / "run", [
        Stream("ModelLatency", {"EndpointName": "ep", "VariantName": "A"}, times, np.array([1.0, 2.0, 3.0]))]))
    frame = run.get_metric_statistics("AWS/SageMaker", "ModelLatency", {"EndpointName": "ep", "VariantName": "A"},
                                      period=60, statistics=["SampleCount"])
    assert (frame["timestamp"].astype("int64") // 1000).tolist() == [START_S, START_S + 360]
    assert frame["value"].tolist() == [2.0, 1.0]


def test_average_is_never_an_average_of_averages(tmp_path):
    times = np.array([START_S + 1] * 9 + [START_S + 61])                 # 9 samples, then 1
    values = np.array([1.0] * 9 + [100.0])
    run = RunMetrics.open(write_run(tmp_path / "run", [
        Stream("ModelLatency", {"EndpointName": "ep", "VariantName": "A"}, times, values)]))
    frame = run.get_metric_statistics("AWS/SageMaker", "ModelLatency", {"EndpointName": "ep", "VariantName": "A"},
                                      period=120, statistics=["Average"])
    assert frame["value"].tolist() == [pytest.approx(109.0 / 10)]       # not (1 + 100) / 2
