"""A per-request latency log (CSV or Parquet) read into observations, one period per `period_s`.

Columns: `timestamp` (ISO 8601, or epoch seconds) and one latency column whose name says what
and in which unit: `model_latency_us|ms|s` (container time, as CloudWatch's ModelLatency) or
`latency_us|ms|s` (client-side, as a load generator sees it). An optional `status` column keeps
rows with a 2xx status (or `ok`) only. Periods of `period_s` seconds (60, CloudWatch's invocation
period, unless set) pool the requests; their percentiles are exact (nearest rank interpolated
linearly, numpy's default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simfleet.calibration.observations import Observations, Period
from simfleet.errors import InputError

__all__ = ["read_request_log", "LATENCY_COLUMNS"]

LATENCY_COLUMNS = {f"{prefix}latency_{unit}": (kind, scale)
                   for prefix, kind in (("model_", "model"), ("", "client"))
                   for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0))}


def _table(path: Path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        return pacsv.read_csv(path)
    except Exception as error:  # pyarrow raises several types for unreadable files
        raise InputError.single(path, f"cannot read the request log: {str(error).splitlines()[0]}") from None


def read_request_log(path: Path, period_s: float = 60.0) -> Observations:
    table = _table(path)
    names = table.column_names
    latency_columns = [c for c in names if c in LATENCY_COLUMNS]
    if "timestamp" not in names or len(latency_columns) != 1:
        raise InputError.single(path, "a request log needs a 'timestamp' column and exactly one latency column "
                                      f"({', '.join(LATENCY_COLUMNS)}); found {', '.join(names) or 'none'}")
    column = latency_columns[0]
    kind, scale = LATENCY_COLUMNS[column]
    stamps = table.column("timestamp")
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(stamps.type):
        seconds = pc.cast(pc.cast(stamps, pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(zero_copy_only=False) / 1e6
    elif pa.types.is_integer(stamps.type) or pa.types.is_floating(stamps.type):
        seconds = stamps.to_numpy(zero_copy_only=False).astype(float)
    else:
        try:
            parsed = pc.strptime(pc.cast(stamps, pa.string()), format="%Y-%m-%dT%H:%M:%S%z", unit="us")
        except pa.ArrowInvalid:
            raise InputError.single(path, "expected ISO 8601 timestamps (2026-01-05T09:00:00Z) or epoch "
                                          "seconds", key="timestamp") from None
        seconds = pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False) / 1e6
    latency = table.column(column).to_numpy(zero_copy_only=False).astype(float) * scale
    keep = np.isfinite(latency) & np.isfinite(seconds)
    if "status" in names:
        status = np.array([str(s).strip().lower() for s in table.column("status").to_pylist()])
        keep &= np.char.startswith(status, "2") | (status == "ok")
    if np.any(latency[keep] < 0):
        raise InputError.single(path, "negative latency", key=column)
    seconds, latency = seconds[keep], latency[keep]
    if seconds.size == 0:
        raise InputError.single(path, "no answered request in the log: nothing to calibrate from", key=column)
    start = np.floor(seconds.min() / period_s) * period_s
    index = ((seconds - start) // period_s).astype(np.int64)
    periods = []
    for bucket in np.unique(index):
        values = latency[index == bucket]
        q = np.percentile(values, [50, 90, 99])
        begin = start + bucket * period_s
        label = np.datetime_as_string(np.datetime64(int(begin), "s"), unit="s") + "Z"
        periods.append(Period(label, period_s, float(values.size), {50.0: q[0], 90.0: q[1], 99.0: q[2]},
                              float(values.mean())))
    return Observations(sources=(f"{path} (request log, {column})",), latency=kind, periods=tuple(periods),
                        notes=(f"request log {path.name}: {int(seconds.size)} answered requests in "
                               f"{len(periods)} periods of {period_s:g} s",))
