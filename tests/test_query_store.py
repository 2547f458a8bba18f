"""Run directories for the query tests, built from known raw values, and the store that reads them.

`write_run` plays the engine: it groups each stream's raw samples into stored periods and writes
`metrics.parquet` and `metric_values.parquet` as the contract says (same rows, same order, the
Distribution of each datapoint, `simfleet.histogram_scale` in the schema metadata). The naive
reference statistics (`naive_statistic`) are computed with numpy straight from the raw values,
never from the program's output. The other `test_query_*` files import these helpers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simfleet.cloudwatch.distribution import DEFAULT_HISTOGRAM_SCALE, Distribution
from simfleet.errors import InputError
from simfleet.metrics.schema import DIMENSIONS, metrics_schema, percentile_column
from simfleet.query.store import RunStore

START_S = 1_767_603_600            # 2026-01-05T09:00:00Z
START_ISO = "2026-01-05T09:00:00Z"
PERCENTILES = [50.0, 90.0, 99.0]


@dataclass
class Stream:
    """One metric stream's raw samples: times in seconds since epoch, values >= 0."""

    metric_name: str
    dimensions: dict
    times_s: np.ndarray
    values: np.ndarray
    namespace: str = "AWS/SageMaker"
    unit: str = "Microseconds"
    period_s: int = 60
    extra: dict = field(default_factory=dict)


def stored_rows(stream: Stream):
    """(period start, raw values of that period) for every non-empty stored period, in time order."""
    starts = (np.asarray(stream.times_s) // stream.period_s) * stream.period_s
    for start in np.unique(starts):
        yield int(start), np.asarray(stream.values, dtype=np.float64)[starts == start]


def write_run(path: Path, streams: list[Stream], duration_s: int = 3600, scale: int = DEFAULT_HISTOGRAM_SCALE,
              manifest: bool = True, values_file: bool = True) -> Path:
    """Write a run directory holding `streams` (rows ordered by timestamp, then stream order)."""
    path.mkdir(parents=True, exist_ok=True)
    records = []
    for order, stream in enumerate(streams):
        for start, raw in stored_rows(stream):
            records.append((start, order, stream, raw))
    records.sort(key=lambda r: (r[0], r[1]))
    columns: dict[str, list] = {name: [] for name in metrics_schema(PERCENTILES).names}
    values_col, counts_col, exact_col = [], [], []
    for start, _, stream, raw in records:
        dist = Distribution.from_values(raw, scale)
        columns["timestamp"].append(start * 1000)
        columns["period_s"].append(stream.period_s)
        columns["namespace"].append(stream.namespace)
        columns["metric_name"].append(stream.metric_name)
        columns["unit"].append(stream.unit)
        for name in DIMENSIONS:
            columns[name].append(stream.dimensions.get(name))
        columns["sample_count"].append(len(raw))
        columns["sum"].append(float(raw.sum()))
        columns["minimum"].append(float(raw.min()))
        columns["maximum"].append(float(raw.max()))
        columns["average"].append(float(raw.sum()) / len(raw))
        for p in PERCENTILES:
            columns[percentile_column(p)].append(naive_percentile(raw, p))
        values_col.append(dist.values.tolist())
        counts_col.append(dist.counts.tolist())
        exact_col.append(dist.exact)
    schema = metrics_schema(PERCENTILES)
    metrics = pa.table({name: pa.array(columns[name], type=schema.field(name).type) for name in schema.names},
                       schema=schema)
    pq.write_table(metrics, path / "metrics.parquet")
    if values_file:
        keys = ["timestamp", "period_s", "namespace", "metric_name", "unit", *DIMENSIONS]
        values = metrics.select(keys)
        values = values.append_column("values", pa.array(values_col, type=pa.list_(pa.float64())))
        values = values.append_column("counts", pa.array(counts_col, type=pa.list_(pa.int64())))
        values = values.append_column("exact", pa.array(exact_col, type=pa.bool_()))
        values = values.replace_schema_metadata({"simfleet.histogram_scale": str(scale)})
        pq.write_table(values, path / "metric_values.parquet")
    if manifest:
        experiment = {"experiment": {"name": "query-test", "start_time": START_ISO, "duration": float(duration_s)}}
        (path / "manifest.json").write_text(json.dumps({"experiment": experiment}), encoding="utf-8")
    return path


# -- naive reference statistics, from the documented definitions [CW-STATS] ---------------------

def naive_percentile(raw: np.ndarray, p: float) -> float:
    """Nearest rank: the max(1, ceil(p/100·n))-th smallest value."""
    ordered = np.sort(np.asarray(raw, dtype=np.float64))
    rank = max(1, math.ceil(Fraction(str(p)) * len(ordered) / 100))
    return float(ordered[rank - 1])


def naive_statistic(raw: np.ndarray, stat: str) -> float | None:
    raw = np.asarray(raw, dtype=np.float64)
    if stat == "SampleCount":
        return float(len(raw))
    if stat == "Sum":
        return float(raw.sum())
    if stat == "Average":
        return float(raw.sum() / len(raw))
    if stat == "Minimum":
        return float(raw.min())
    if stat == "Maximum":
        return float(raw.max())
    if stat.startswith("p"):
        return naive_percentile(raw, float(stat[1:]))
    if stat.startswith("tm"):                      # TM(:NN%): the lowest NN % of the data points
        ordered = np.sort(raw)
        kept = ordered[:max(1, math.ceil(Fraction(stat[2:]) * len(ordered) / 100))]
        return float(kept.mean())
    if stat.startswith("PR(") and stat.endswith(")"):
        low, high = stat[3:-1].split(":")
        inside = np.ones(len(raw), dtype=bool)
        if low:
            inside &= raw > float(low)
        if high:
            inside &= raw <= float(high)
        return 100.0 * inside.sum() / len(raw)
    raise AssertionError(f"no naive reference for {stat}")


def latency_stream(rng: np.random.Generator, n: int = 2000, span_s: int = 3600, distinct: int | None = 40,
                   **dimensions) -> Stream:
    """ModelLatency samples at random times over [START, START + span); `distinct` values or continuous."""
    times = START_S + rng.uniform(0, span_s, n)
    if distinct is None:
        values = rng.lognormal(10, 0.5, n)
    else:
        values = rng.choice(np.round(rng.lognormal(10, 0.5, distinct)), n)
    dims = dimensions or {"EndpointName": "ep", "VariantName": "A"}
    return Stream("ModelLatency", dims, times, values)


# -- the store ----------------------------------------------------------------------------------

def test_store_groups_rows_into_streams_with_exact_dimension_sets(tmp_path):
    rng = np.random.default_rng(1)
    run = write_run(tmp_path / "run", [
        latency_stream(rng, EndpointName="ep", VariantName="A"),
        latency_stream(rng, EndpointName="ep", VariantName="B"),
        latency_stream(rng, EndpointName="ep", VariantName="A", InstanceId="i-1"),
    ])
    store = RunStore.open(run)
    assert len(store.streams) == 3
    sets = {s.dimensions for s in store.streams}
    assert (("EndpointName", "ep"), ("VariantName", "A")) in sets
    assert (("EndpointName", "ep"), ("VariantName", "A"), ("InstanceId", "i-1")) in sets
    for stream in store.streams:
        assert np.all(np.diff(store.timestamps_ms[stream.rows]) > 0)
        assert stream.periods_s == (60,) and stream.units == ("Microseconds",)
    assert store.window_ms == (START_S * 1000, (START_S + 3600) * 1000)


def test_store_distributions_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    stream = latency_stream(rng, n=3000, distinct=None)
    store = RunStore.open(write_run(tmp_path / "run", [stream]))
    for row, (start, raw) in zip(store.streams[0].rows, stored_rows(stream)):
        assert store.timestamps_ms[row] == start * 1000
        assert store.distribution(row) == Distribution.from_values(raw)


def test_store_window_falls_back_to_the_data_span(tmp_path):
    rng = np.random.default_rng(3)
    stream = latency_stream(rng, span_s=600)
    store = RunStore.open(write_run(tmp_path / "run", [stream], manifest=False))
    starts = [s for s, _ in stored_rows(stream)]
    assert store.window_ms == (starts[0] * 1000, (starts[-1] + 60) * 1000)


@pytest.mark.parametrize("case", ["missing-dir", "no-values", "row-mismatch"])
def test_store_refuses_unusable_run_directories(tmp_path, case):
    rng = np.random.default_rng(4)
    run = tmp_path / "run"
    if case == "no-values":
        write_run(run, [latency_stream(rng)], values_file=False)
    elif case == "row-mismatch":
        write_run(run, [latency_stream(rng)])
        other = write_run(tmp_path / "other", [latency_stream(rng, span_s=120)])
        (other / "metric_values.parquet").replace(run / "metric_values.parquet")
    with pytest.raises(InputError) as raised:
        RunStore.open(run)
    message = str(raised.value)
    assert "\n" not in message and str(run) in message
    assert {"missing-dir": "not found", "no-values": "metric_values.parquet",
            "row-mismatch": "rows"}[case] in message
