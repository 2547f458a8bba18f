"""The `metrics.parquet` contract (DESIGN §5): one row per CloudWatch datapoint.

Columns: `timestamp` (period start, UTC), `period_s`, `namespace`, `metric_name`, `unit`, one
nullable string column per dimension name, `sample_count`, `sum`, `minimum`, `maximum`,
`average`, then one column per requested percentile (`p50`, `p99`, `p99_9`, …).
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["DIMENSIONS", "STAT_COLUMNS", "KEY_COLUMNS", "HISTOGRAM_SCALE_KEY", "dimension_names", "percentile_column",
           "metrics_schema", "metric_values_schema"]

DIMENSIONS = (
    "EndpointName", "VariantName", "ContainerName", "InstanceId",
    "InferenceComponentName", "ContainerId", "AcceleratorId", "JobName",
)
STAT_COLUMNS = ("sample_count", "sum", "minimum", "maximum", "average")
#: Columns before the dimensions, shared by both files.
KEY_COLUMNS = ("timestamp", "period_s", "namespace", "metric_name", "unit")
#: `metric_values.parquet` schema metadata: the exponential histograms' scale.
HISTOGRAM_SCALE_KEY = b"simfleet.histogram_scale"


def dimension_names(accelerator_dimension: str = "AcceleratorId") -> tuple[str, ...]:
    """The dimension columns, with the per-GPU one under the name the run chose."""
    return tuple(accelerator_dimension if name == "AcceleratorId" else name for name in DIMENSIONS)


def percentile_column(percentile: float) -> str:
    """``99.9`` → ``"p99_9"``, ``50`` → ``"p50"`` (CloudWatch writes them p99.9 and p50)."""
    text = f"{percentile:g}"
    return "p" + text.replace(".", "_")


def _key_fields(accelerator_dimension: str) -> list[pa.Field]:
    fields = [
        pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("period_s", pa.int32(), nullable=False),
        pa.field("namespace", pa.string(), nullable=False),
        pa.field("metric_name", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
    ]
    return fields + [pa.field(name, pa.string(), nullable=True) for name in dimension_names(accelerator_dimension)]


def metrics_schema(percentiles: list[float], accelerator_dimension: str = "AcceleratorId") -> pa.Schema:
    fields = _key_fields(accelerator_dimension)
    fields += [pa.field("sample_count", pa.int64(), nullable=False)]
    fields += [pa.field(name, pa.float64(), nullable=False) for name in STAT_COLUMNS[1:]]
    fields += [pa.field(percentile_column(p), pa.float64(), nullable=False) for p in percentiles]
    return pa.schema(fields)


def metric_values_schema(accelerator_dimension: str = "AcceleratorId", histogram_scale: int = 8) -> pa.Schema:
    """`metric_values.parquet`: the same rows as `metrics.parquet`, with each datapoint's values.

    `values`/`counts` are CloudWatch's `Values`/`Counts` form: the distinct raw values when
    `exact`, else the representatives of the exponential histogram's non-empty buckets.
    """
    fields = _key_fields(accelerator_dimension)
    fields += [pa.field("values", pa.list_(pa.float64()), nullable=False),
               pa.field("counts", pa.list_(pa.int64()), nullable=False),
               pa.field("exact", pa.bool_(), nullable=False)]
    return pa.schema(fields, metadata={HISTOGRAM_SCALE_KEY: str(histogram_scale).encode()})
