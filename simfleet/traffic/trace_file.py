"""Reading request traces (CSV or Parquet) for replay: columns, and times relative to the run.

Used twice: by the loader, which checks a trace's columns when the experiment is validated, and
by `ReplaySource`, which reads the times when the run starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from simfleet.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["trace_columns", "read_trace", "trace_times"]

_PARQUET = {".parquet", ".pq"}


def trace_columns(path: Path) -> list[str]:
    """Column names, read from the header only."""
    import pandas as pd  # only replayed traces need it (importing pandas takes ~0.3 s)

    try:
        if path.suffix.lower() in _PARQUET:
            return list(pq.read_schema(path).names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except Exception as error:  # noqa: BLE001 - any reader failure is a problem with the user's file
        raise InputError.single(path, f"cannot read trace file: {error}") from None


def read_trace(path: Path) -> pd.DataFrame:
    import pandas as pd  # only replayed traces need it (importing pandas takes ~0.3 s)

    try:
        if path.suffix.lower() in _PARQUET:
            return pq.read_table(path).to_pandas()
        return pd.read_csv(path)
    except Exception as error:  # noqa: BLE001
        raise InputError.single(path, f"cannot read trace file: {error}") from None


def trace_times(column: pd.Series, start_epoch_s: float, path: Path, key: str) -> np.ndarray:
    """Seconds from the run start: numbers are offsets already; strings and datetimes are absolute
    times (UTC unless they say otherwise)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column):
        times = column.to_numpy(np.float64)
    else:
        parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
        if parsed.isna().any():
            bad = column[parsed.isna()].iloc[0]
            raise InputError.single(path, f"cannot read {bad!r} as a time (use seconds from the start, "
                                          "or ISO 8601 timestamps)", key)
        times = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64) - start_epoch_s
    if not np.all(np.isfinite(times)):
        raise InputError.single(path, "times must be finite numbers", key)
    return times
