"""A run directory opened for querying: its stored datapoints, their metric streams and distributions.

This is the bottom of the query package (`simfleet metrics`, `RunMetrics`): it reads
`metrics.parquet` (one row per stored CloudWatch datapoint, DESIGN §5) and, lazily,
`metric_values.parquet` (the same rows with each datapoint's value distribution), groups the rows
into metric streams and hands out row indices, statistic columns and `Distribution` objects to the
re-bucketing layer. A metric stream is CloudWatch's metric identity: namespace, metric name and the
exact set of dimension name/value pairs [CW-API].
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simfleet.cloudwatch.distribution import Distribution
from simfleet.errors import InputError
from simfleet.metrics.schema import HISTOGRAM_SCALE_KEY, KEY_COLUMNS, STAT_COLUMNS
from simfleet.outputs.file_form import plain_strings

__all__ = ["MetricStream", "RunStore", "METRICS_FILE", "VALUES_FILE", "SCALE_METADATA_KEY"]

METRICS_FILE = "metrics.parquet"
VALUES_FILE = "metric_values.parquet"
SCALE_METADATA_KEY = HISTOGRAM_SCALE_KEY

_STAT_COLUMNS = STAT_COLUMNS[:4]  # sample_count, sum, minimum, maximum: what re-bucketing combines


@dataclass(frozen=True)
class MetricStream:
    """One CloudWatch metric: namespace, name, exact dimension set; `rows` sorted by timestamp."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]   # (name, value) in the run's dimension-column order
    units: tuple[str, ...]                    # distinct stored units (normally exactly one)
    periods_s: tuple[int, ...]                # distinct stored periods (normally exactly one)
    rows: np.ndarray                          # int64 row indices into the run's tables

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)

    @property
    def dimension_set(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.dimensions)


class RunStore:
    """The datapoints of one run directory, indexed by metric stream."""

    def __init__(self, path: Path, table: pa.Table, values_path: Path, dimension_columns: tuple[str, ...],
                 window_ms: tuple[int, int]):
        self.path = path
        self.dimension_columns = dimension_columns
        self.window_ms = window_ms
        self.timestamps_ms = table.column("timestamp").cast(pa.int64()).to_numpy()
        self.period_s = table.column("period_s").to_numpy().astype(np.int64)
        self.units = np.asarray(table.column("unit").to_pylist(), dtype=object)
        self.sample_count = table.column("sample_count").to_numpy().astype(np.int64)
        self.sum = table.column("sum").to_numpy().astype(np.float64)
        self.minimum = table.column("minimum").to_numpy().astype(np.float64)
        self.maximum = table.column("maximum").to_numpy().astype(np.float64)
        self.streams = _group_streams(table, dimension_columns, self.timestamps_ms, self.period_s, self.units)
        self._by_name: dict[tuple[str, str], list[MetricStream]] = {}
        for stream in self.streams:
            self._by_name.setdefault((stream.namespace, stream.metric_name), []).append(stream)
        self._values_path = values_path
        self._values: _StoredValues | None = None

    @classmethod
    def open(cls, run_dir: str | Path) -> "RunStore":
        """Open RUN_DIR; a missing directory or file is an `InputError` naming it."""
        from simfleet.outputs.directory import recover_swap

        path = Path(run_dir)
        recover_swap(path)  # a writer killed in the middle of swapping it in left it aside
        if not os.path.isdir(path):  # False, not an error, for a path too long or holding a NUL
            raise InputError.single(path, "run directory not found (expected the --out folder of `simfleet run`)")
        metrics_path, values_path = path / METRICS_FILE, path / VALUES_FILE
        for required in (metrics_path, values_path):
            if not required.is_file():
                raise InputError.single(path, f"no {required.name} in this run directory; it was written by a "
                                              "simfleet without queryable metrics, re-run the experiment")
        try:
            table = plain_strings(pq.read_table(metrics_path))   # dictionary columns as plain strings
            value_rows = pq.ParquetFile(values_path).metadata.num_rows
        except (OSError, pa.ArrowException) as error:
            raise InputError.single(path, f"cannot read {METRICS_FILE}/{VALUES_FILE}: {error}") from None
        missing = [c for c in (*KEY_COLUMNS, *_STAT_COLUMNS) if c not in table.column_names]
        if missing:
            raise InputError.single(metrics_path, f"not a simfleet metrics table (missing columns {missing})")
        if value_rows != table.num_rows:
            raise InputError.single(values_path, f"has {value_rows} rows but {METRICS_FILE} has {table.num_rows}; "
                                                 "the two files must hold the same datapoints")
        names = table.column_names
        dimension_columns = tuple(names[names.index("unit") + 1:names.index("sample_count")])
        timestamps = table.column("timestamp").cast(pa.int64()).to_numpy()
        periods = table.column("period_s").to_numpy().astype(np.int64)
        window = _run_window(path / "manifest.json", timestamps, periods)
        return cls(path, table, values_path, dimension_columns, window)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({s.namespace for s in self.streams}))

    def metric_names(self, namespace: str) -> tuple[str, ...]:
        return tuple(sorted({s.metric_name for s in self.streams if s.namespace == namespace}))

    def streams_named(self, namespace: str, metric_name: str) -> tuple[MetricStream, ...]:
        """Every stream (dimension combination) of one metric."""
        return tuple(self._by_name.get((namespace, metric_name), ()))

    # -- distributions -------------------------------------------------------------------------

    def distribution(self, row: int) -> Distribution:
        """The stored value distribution of one datapoint (reads metric_values.parquet on first use)."""
        if self._values is None:
            self._values = _StoredValues.read(self._values_path, self)
        return self._values.distribution(int(row), self)

    def stored_values(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(values, counts) of one stored datapoint, as written."""
        dist = self.distribution(row)
        return dist.values, dist.counts


class _StoredValues:
    """metric_values.parquet flattened: one values/counts buffer plus per-row offsets."""

    def __init__(self, offsets: np.ndarray, values: np.ndarray, counts: np.ndarray, exact: np.ndarray, scale: int):
        self.offsets, self.values, self.counts, self.exact, self.scale = offsets, values, counts, exact, scale

    @classmethod
    def read(cls, path: Path, store: RunStore) -> "_StoredValues":
        try:
            table = plain_strings(pq.read_table(path, columns=["timestamp", "metric_name", "values", "counts", "exact"]))
        except (OSError, pa.ArrowException, KeyError) as error:
            raise InputError.single(path, f"cannot read the value distributions: {error}") from None
        meta = table.schema.metadata or {}
        try:
            scale = int(meta[SCALE_METADATA_KEY].decode("ascii"))
        except (KeyError, ValueError, UnicodeDecodeError):
            raise InputError.single(path, "schema metadata lacks an integer simfleet.histogram_scale") from None
        if not np.array_equal(table.column("timestamp").cast(pa.int64()).to_numpy(), store.timestamps_ms):
            raise InputError.single(path, f"rows are not the rows of {METRICS_FILE} (timestamps differ)")
        values = table.column("values").combine_chunks()
        counts = table.column("counts").combine_chunks()
        offsets = values.offsets.to_numpy().astype(np.int64)
        if not np.array_equal(offsets, counts.offsets.to_numpy()):
            raise InputError.single(path, "values and counts lists differ in length")
        return cls(offsets, values.values.to_numpy().astype(np.float64),
                   counts.values.to_numpy().astype(np.int64),
                   table.column("exact").combine_chunks().to_numpy(zero_copy_only=False).astype(bool), scale)

    def distribution(self, row: int, store: RunStore) -> Distribution:
        lo, hi = self.offsets[row], self.offsets[row + 1]
        return Distribution(count=int(store.sample_count[row]), total=float(store.sum[row]),
                            minimum=float(store.minimum[row]), maximum=float(store.maximum[row]),
                            values=self.values[lo:hi], counts=self.counts[lo:hi],
                            exact=bool(self.exact[row]), scale=self.scale)


def _group_streams(table: pa.Table, dimension_columns: tuple[str, ...], timestamps: np.ndarray,
                   periods: np.ndarray, units: np.ndarray) -> tuple[MetricStream, ...]:
    namespaces = table.column("namespace").to_pylist()
    names = table.column("metric_name").to_pylist()
    dims = [table.column(c).to_pylist() for c in dimension_columns]
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(namespaces, names, *dims)):
        groups.setdefault(key, []).append(i)
    streams = []
    for key, rows in groups.items():
        rows_array = np.asarray(rows, dtype=np.int64)
        rows_array = rows_array[np.argsort(timestamps[rows_array], kind="stable")]
        dimensions = tuple((c, v) for c, v in zip(dimension_columns, key[2:]) if v is not None)
        streams.append(MetricStream(
            namespace=key[0], metric_name=key[1], dimensions=dimensions,
            units=tuple(sorted(set(units[rows_array]))),
            periods_s=tuple(sorted(set(int(p) for p in periods[rows_array]))),
            rows=rows_array))
    streams.sort(key=lambda s: (s.namespace, s.metric_name, s.dimensions))
    return tuple(streams)


def _run_window(manifest_path: Path, timestamps: np.ndarray, periods: np.ndarray) -> tuple[int, int]:
    """[start, end) of the run in epoch ms: the experiment's start_time + duration from manifest.json,
    else the span of the stored datapoints."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    for experiment in (manifest.get("experiment"), (manifest.get("resolved") or {}).get("experiment")):
        section = (experiment or {}).get("experiment") if isinstance(experiment, dict) else None
        if isinstance(section, dict) and "start_time" in section and "duration" in section:
            try:
                start = dt.datetime.fromisoformat(str(section["start_time"]).replace("Z", "+00:00"))
                if start.tzinfo is None:
                    start = start.replace(tzinfo=dt.timezone.utc)
                start_ms = int(round(start.timestamp() * 1000))
                return start_ms, start_ms + int(round(float(section["duration"]) * 1000))
            except (TypeError, ValueError):
                break
    if len(timestamps) == 0:
        return 0, 0
    return int(timestamps.min()), int((timestamps + periods * 1000).max())
