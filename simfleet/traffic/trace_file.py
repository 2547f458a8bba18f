"""Reading request traces (CSV or Parquet) for replay: columns, and times relative to the run.

Used twice: by the loader, which checks a trace's columns when the experiment is validated, and
by `ReplaySource`, which reads the times (and the payload sizes and container hostnames, where the
trace has them) when the run starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from simfleet.config.containers import HOSTNAME_MAX_LENGTH, HOSTNAME_PATTERN
from simfleet.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["trace_columns", "read_trace", "trace_times", "trace_hostnames", "ReplayWindow", "replay_window"]

_PARQUET = {".parquet", ".pq"}
#: Numeric times at least this large are not offsets within a run (at most 31 days, 2.7e6 s) but,
#: most likely, Unix epoch seconds (1e8 s is March 1973) or milliseconds.
_EPOCH_LIKE_S = 1e8


def _readable(path: Path, max_bytes: float | None = None) -> None:
    """Refuse a trace that is no regular file (a folder, a device, a FIFO) or larger than `max_bytes`
    (`[limits] max_trace_size`) before any reader opens it."""
    from simfleet.input_files import file_problem

    problem = file_problem(path, "trace file")
    if problem is not None:
        raise InputError.single(path, problem)
    if max_bytes is not None and (size := path.stat().st_size) > max_bytes:
        raise InputError.single(path, f"the trace is {size:,} bytes, more than limits.max_trace_size "
                                      f"({max_bytes:,.0f} bytes); raise limits.max_trace_size to replay it")


def trace_columns(path: Path) -> list[str]:
    """Column names, read from the header only."""
    import pandas as pd  # only replayed traces need it (importing pandas takes ~0.3 s)

    _readable(path)
    try:
        if path.suffix.lower() in _PARQUET:
            return list(pq.read_schema(path).names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except Exception as error:  # noqa: BLE001 - any reader failure is a problem with the user's file
        raise InputError.single(path, f"cannot read trace file: {error}") from None


def read_trace(path: Path, max_bytes: float | None = None) -> pd.DataFrame:
    import pandas as pd  # only replayed traces need it (importing pandas takes ~0.3 s)

    _readable(path, max_bytes)
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

    if pd.api.types.is_bool_dtype(column):
        raise InputError.single(path, "the time column holds true/false values, not times (seconds from the start, "
                                      "or ISO 8601 timestamps)", key)
    if pd.api.types.is_numeric_dtype(column):
        times = column.to_numpy(np.float64)
    else:
        try:
            parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
            if parsed.isna().any():
                bad = column[parsed.isna()].iloc[0]
                raise InputError.single(path, f"cannot read {bad!r} as a time (use seconds from the start, "
                                              "or ISO 8601 timestamps)", key)
            times = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64) - start_epoch_s
        except (ValueError, OverflowError) as error:  # pandas' OutOfBoundsDatetime is a ValueError
            raise InputError.single(path, f"cannot read the times: {' '.join(str(error).split())} (use seconds "
                                          "from the start, or ISO 8601 timestamps of years 1678 to 2261)", key) from None
    finite = np.isfinite(times)
    if not finite.all():
        row = int(np.argmin(finite))
        raise InputError.single(path, f"times must be finite numbers, row {row + 1} holds {times[row]} "
                                      "(an empty cell?)", key)
    return times


@dataclass(frozen=True)
class ReplayWindow:
    """How a trace's times fall in a run's window [0, duration): what a replay will and will not send."""

    rows: int
    before: int          # times before the start
    after: int           # times at or after the end
    out_of_order: int    # rows earlier than the row before them (the replay sorts them)
    epoch_like: bool     # numeric times that look like Unix epoch seconds or milliseconds

    @property
    def replayed(self) -> int:
        return self.rows - self.before - self.after


def replay_window(times: np.ndarray, duration_s: float, numeric: bool) -> ReplayWindow:
    """Where `times` (seconds from the run's start, as `trace_times` gives them) fall in [0, duration_s)."""
    before = int(np.count_nonzero(times < 0))
    after = int(np.count_nonzero(times >= duration_s))
    # Compared and picked, never subtracted or averaged: times near the float limit would overflow.
    out_of_order = int(np.count_nonzero(times[1:] < times[:-1]))
    epoch_like = numeric and len(times) > 0 and float(np.partition(times, len(times) // 2)[len(times) // 2]) >= _EPOCH_LIKE_S
    return ReplayWindow(len(times), before, after, out_of_order, epoch_like)


def trace_hostnames(path: Path, column: str, key: str) -> tuple[tuple[str, ...], np.ndarray]:
    """A column of `TargetContainerHostname`s: (the distinct names in order of first use, one int32
    code per row into them, -1 where the cell is empty). A CSV column is read as text, so a
    hostname of digits stays one; a Parquet column must hold strings. A value that is not a
    hostname AWS accepts is refused (`InputError` on `key`)."""
    names, codes = _trace_names(path, column, key, "hostnames")
    pattern = re.compile(HOSTNAME_PATTERN)
    for name in names:
        if len(name) > HOSTNAME_MAX_LENGTH or not pattern.fullmatch(name):
            raise InputError.single(path, f"column {column!r} holds {name!r}, not a hostname AWS accepts (up to "
                                          f"{HOSTNAME_MAX_LENGTH} letters, digits and hyphens, starting and ending "
                                          "with a letter or digit; leave a cell empty for none)", key)
    return names, codes


def trace_models(path: Path, column: str, key: str) -> tuple[tuple[str, ...], np.ndarray]:
    """A column of `TargetModel`s, as `trace_hostnames` reads hostnames (any text is a name: a name
    the population lacks is answered at run time, as SageMaker answers it)."""
    return _trace_names(path, column, key, "model names")


def _trace_names(path: Path, column: str, key: str, what: str) -> tuple[tuple[str, ...], np.ndarray]:
    import pandas as pd

    try:
        if path.suffix.lower() in _PARQUET:
            values = pq.read_table(path, columns=[column]).column(0).to_pandas()
        else:
            values = pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False)[column]
    except Exception as error:  # noqa: BLE001
        raise InputError.single(path, f"cannot read trace file: {error}") from None
    values = values.astype(object)
    values[values.isna() | values.eq("")] = None  # an empty cell names none
    codes, names = pd.factorize(values, use_na_sentinel=True)
    for name in names:
        if not isinstance(name, str):
            raise InputError.single(path, f"column {column!r} must hold {what} (text), got {name!r}", key)
    return tuple(names), codes.astype(np.int32)
