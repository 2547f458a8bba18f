"""Query results as pandas DataFrames and CSV (the Python API and `--output csv`).

Datapoints are in long form, one row per (timestamp, query, statistic): columns `timestamp`
(datetime64[ms, UTC], period start), `id` (the GetMetricData query id; empty for
GetMetricStatistics), `label`, `stat` (CloudWatch spelling), `value` and `unit`. A statistic with no
value in a period has no row. ListMetrics becomes one row per metric stream with one column per
dimension (null when the stream lacks it), its unit, stored period and number of stored datapoints.
In CSV, timestamps are ISO 8601 UTC with `Z`, like the JSON responses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simfleet.query.operations import DataResult, StatisticsResult
from simfleet.query.timestamps import iso_timestamp
from simfleet.query.store import MetricStream

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DATAPOINT_COLUMNS", "statistics_frame", "data_frame", "metrics_frame", "frame_to_csv"]

DATAPOINT_COLUMNS = ("timestamp", "id", "label", "stat", "value", "unit")


def _frame(timestamps_ms: np.ndarray, ids, labels, stats, values: np.ndarray, units) -> pd.DataFrame:
    """Build the long-form frame from per-row arrays of equal length."""
    import pandas as pd  # imported on first query, not at startup (importing pandas takes ~0.3 s)

    return pd.DataFrame({
        "timestamp": pd.to_datetime(np.asarray(timestamps_ms, dtype=np.int64), unit="ms", utc=True)
                       .astype("datetime64[ms, UTC]"),
        "id": pd.Series(np.asarray(ids, dtype=object), dtype=object),
        "label": pd.Series(np.asarray(labels, dtype=object), dtype=object),
        "stat": pd.Series(np.asarray(stats, dtype=object), dtype=object),
        "value": np.asarray(values, dtype=np.float64),
        "unit": pd.Series(np.asarray(units, dtype=object), dtype=object),
    }, columns=list(DATAPOINT_COLUMNS))


def statistics_frame(result: StatisticsResult) -> pd.DataFrame:
    """GetMetricStatistics in long form, ascending by timestamp, statistics in request order."""
    names = list(result.statistics) + list(result.extended)
    n = len(result.timestamps_ms)
    if not names or n == 0:
        return _frame(np.empty(0), [], [], [], np.empty(0), [])
    values = np.stack([result.values[name] for name in names], axis=1).reshape(-1)   # time-major
    keep = ~np.isnan(values)
    count = int(keep.sum())
    return _frame(np.repeat(result.timestamps_ms, len(names))[keep], [None] * count, [result.label] * count,
                  np.tile(np.array(names, dtype=object), n)[keep], values[keep], [result.unit] * count)


def data_frame(result: DataResult) -> pd.DataFrame:
    """GetMetricData in long form: queries in request order, each in its ScanBy order."""
    series = result.results
    lengths = [len(s.values) for s in series]

    def per_row(attribute: str) -> np.ndarray:
        return np.repeat(np.array([getattr(s, attribute) for s in series], dtype=object), lengths)

    if not series:
        return _frame(np.empty(0), [], [], [], np.empty(0), [])
    return _frame(np.concatenate([s.timestamps_ms for s in series]), per_row("id"), per_row("label"),
                  per_row("stat"), np.concatenate([s.values for s in series]), per_row("unit"))


def metrics_frame(streams: tuple[MetricStream, ...], dimension_columns: tuple[str, ...]) -> pd.DataFrame:
    """ListMetrics: one row per stream."""
    rows = []
    for s in streams:
        dims = dict(s.dimensions)
        rows.append({"namespace": s.namespace, "metric_name": s.metric_name,
                     **{c: dims.get(c) for c in dimension_columns},
                     "unit": ",".join(s.units), "period_s": int(min(s.periods_s)) if s.periods_s else None,
                     "datapoints": len(s.rows)})
    columns = ["namespace", "metric_name", *dimension_columns, "unit", "period_s", "datapoints"]
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def frame_to_csv(frame: pd.DataFrame) -> str:
    """CSV text; a `timestamp` column is written as ISO 8601 UTC with `Z`."""
    out = frame.copy()
    if "timestamp" in out.columns:
        stamps = out["timestamp"].astype("datetime64[ms, UTC]").astype("int64").to_numpy()
        out["timestamp"] = [iso_timestamp(t) for t in stamps]
    return out.to_csv(index=False, lineterminator="\n")
