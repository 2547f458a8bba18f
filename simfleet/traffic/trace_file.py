"""Reading request traces (CSV or Parquet) for replay: columns, and times relative to the run.

Used twice: by the loader, which checks a trace's columns when the experiment is validated, and
by `ReplaySource`, which reads the times (and the payload sizes and container hostnames, where the
trace has them) when the run starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from simfleet.config.containers import HOSTNAME_MAX_LENGTH, HOSTNAME_PATTERN
from simfleet.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["trace_columns", "read_trace", "trace_times", "trace_payloads", "replay_columns", "trace_hostnames"]

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
        try:
            parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
            if parsed.isna().any():
                bad = column[parsed.isna()].iloc[0]
                raise InputError.single(path, f"cannot read {bad!r} as a time (use seconds from the start, "
                                              "or ISO 8601 timestamps)", key)
            epoch_s = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64)
        except (ValueError, OverflowError) as error:  # a date past pandas' range (years 1678 to 2261)
            raise InputError.single(path, f"cannot read the times: {' '.join(str(error).split())} (use seconds "
                                          "from the start, or ISO 8601 timestamps from 1678 to 2261)", key) from None
        times = epoch_s - start_epoch_s
    if not np.all(np.isfinite(times)):
        raise InputError.single(path, "times must be finite numbers", key)
    return times


def trace_payloads(column: pd.Series, path: Path, key: str) -> np.ndarray:
    """Payload sizes in bytes: finite, non-negative numbers."""
    import pandas as pd

    payload = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    if not np.all(np.isfinite(payload)) or np.any(payload < 0):
        raise InputError.single(path, "payload sizes must be finite, non-negative byte counts", key)
    return payload


def replay_columns(spec, base_dir: Path, start_epoch_s: float, key: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A replay's request times (seconds from the run start, `time_offset` added) and payload sizes
    (None without a `payload_column`), as the run reads them; raises `InputError` for a trace that
    cannot be read or holds values that are not times or sizes."""
    path = base_dir / spec.file
    table = read_trace(path)
    for column in (spec.time_column, spec.payload_column, spec.target_container_hostname_column,
                   spec.target_model_column):
        if column is not None and column not in table.columns:
            raise InputError.single(path, f"no column {column!r} (columns: {', '.join(map(str, table.columns))})",
                                    f"{key}.file")
    times = trace_times(table[spec.time_column], start_epoch_s, path, f"{key}.time_column") + spec.time_offset
    payloads = (None if spec.payload_column is None
                else trace_payloads(table[spec.payload_column], path, f"{key}.payload_column"))
    return times, payloads


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
