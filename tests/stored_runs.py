"""Run directories for the query tests, built from known raw values.

`write_run` plays the engine: it groups each stream's raw samples into stored periods and writes
`metrics.parquet` and `metric_values.parquet` as the contract says (same rows, same order, the
Distribution of each datapoint, `simfleet.histogram_scale` in the schema metadata). The reference
statistics the tests compare answers with are `reference_statistics`', from the raw values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reference_statistics import nearest_rank_value
from simfleet.cloudwatch.distribution import DEFAULT_HISTOGRAM_SCALE, Distribution
from simfleet.metrics.schema import DIMENSIONS, metrics_schema, percentile_column

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
            columns[percentile_column(p)].append(nearest_rank_value(raw, p))
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
