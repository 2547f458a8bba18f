"""The `metrics.parquet` contract (DESIGN §5): one row per CloudWatch datapoint.

Columns: `timestamp` (period start, UTC), `period_s`, `namespace`, `metric_name`, `unit`, one
nullable string column per dimension name, `sample_count`, `sum`, `minimum`, `maximum`,
`average`, then one column per requested percentile (`p50`, `p99`, `p99_9`, …).
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["DIMENSIONS", "STAT_COLUMNS", "percentile_column", "metrics_schema"]

DIMENSIONS = (
    "EndpointName", "VariantName", "ContainerName", "InstanceId",
    "InferenceComponentName", "ContainerId", "AcceleratorId",
)
STAT_COLUMNS = ("sample_count", "sum", "minimum", "maximum", "average")


def percentile_column(percentile: float) -> str:
    """``99.9`` → ``"p99_9"``, ``50`` → ``"p50"`` (CloudWatch writes them p99.9 and p50)."""
    text = f"{percentile:g}"
    return "p" + text.replace(".", "_")


def metrics_schema(percentiles: list[float]) -> pa.Schema:
    fields = [
        pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("period_s", pa.int32(), nullable=False),
        pa.field("namespace", pa.string(), nullable=False),
        pa.field("metric_name", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
    ]
    fields += [pa.field(name, pa.string(), nullable=True) for name in DIMENSIONS]
    fields += [pa.field("sample_count", pa.int64(), nullable=False)]
    fields += [pa.field(name, pa.float64(), nullable=False) for name in STAT_COLUMNS[1:]]
    fields += [pa.field(percentile_column(p), pa.float64(), nullable=False) for p in percentiles]
    return pa.schema(fields)
