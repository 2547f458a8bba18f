"""The datapoints a run has published: their `metrics.parquet` rows and their distributions.

A run keeps every datapoint to its end (they are its output), so they are kept compactly: numbers
in typed arrays, each distribution's values and counts appended to large flat chunks. Python
objects per datapoint (a float object per statistic, two NumPy arrays and a `Distribution` per
datapoint) made a day's working memory grow with its length (benchmarks/README.md).
"""

from __future__ import annotations

import array

import numpy as np
import pyarrow as pa

from simfleet.cloudwatch.distribution import Distribution
from simfleet.cloudwatch.statistics import datapoint_statistics
from simfleet.metrics.schema import KEY_COLUMNS, STAT_COLUMNS, metric_values_schema, metrics_schema, percentile_column

__all__ = ["DatapointBuffer"]

#: `array` type codes of the numeric columns of `metrics.parquet`
_TYPECODES = {pa.int32(): "i", pa.int64(): "q", pa.float64(): "d"}
#: the columns of a datapoint row other than its dimensions and percentiles, in `add_distribution`'s order
_FIXED_COLUMNS = (*KEY_COLUMNS, *STAT_COLUMNS)


class DatapointBuffer:
    """Datapoint rows (statistics and distributions) collected column by column."""

    def __init__(self, percentiles: list[float], histogram_scale: int, accelerator_dimension: str):
        self.metrics_schema = metrics_schema(percentiles, accelerator_dimension)
        self.values_schema = metric_values_schema(accelerator_dimension, histogram_scale)
        self.percentile_columns = [percentile_column(p) for p in percentiles]
        self.scale = histogram_scale
        self.percentiles = list(percentiles)
        #: called with (timestamp, period_s, namespace, metric, dimensions, distribution) for every
        #: datapoint as it is published (the autoscaler's alarms read the metrics this way)
        self.listeners: list = []
        self.clear()

    def clear(self) -> None:
        # Numbers are kept in typed arrays (8 bytes a value, not a Python object each): a run keeps
        # every datapoint to its end, and per-datapoint objects made memory grow with its length.
        self.rows: dict[str, list | array.array] = {
            name: array.array(_TYPECODES[field.type], []) if field.type in _TYPECODES else []
            for name, field in zip(self.metrics_schema.names, self.metrics_schema)}
        self.distributions = _DistributionColumns()
        statistics = [*_FIXED_COLUMNS, *self.percentile_columns]
        self._statistic_columns = [self.rows[name] for name in statistics]
        self._dimension_columns = [(name, self.rows[name]) for name in self.rows if name not in statistics]

    def __len__(self) -> int:
        return len(self.distributions)

    def add(self, timestamp, period_s: int, namespace: str, metric: str, unit: str, dimensions: dict,
            values: np.ndarray) -> None:
        """A datapoint of raw values."""
        self.add_distribution(timestamp, period_s, namespace, metric, unit, dimensions,
                              Distribution.from_values(values, self.scale))

    def add_distribution(self, timestamp, period_s: int, namespace: str, metric: str, unit: str, dimensions: dict,
                         dist: Distribution) -> None:
        """A datapoint whose distribution is already built (at this buffer's histogram scale)."""
        count, total, minimum, maximum, average, percentiles = datapoint_statistics(dist, self.percentiles)
        for column, value in zip(self._statistic_columns, (timestamp, period_s, namespace, metric, unit, count, total,
                                                           minimum, maximum, average, *percentiles)):
            column.append(value)
        for name, column in self._dimension_columns:
            column.append(dimensions.get(name))
        self.distributions.append(dist)
        for listener in self.listeners:
            listener(timestamp, period_s, namespace, metric, dimensions, dist)

    def tables(self) -> tuple[pa.Table, pa.Table]:
        """(`metrics.parquet` rows, `metric_values.parquet` rows), in the same order: the run's last
        call (the tables may share the buffer's memory; nothing may be added after it)."""
        columns = {name: np.frombuffer(column, column.typecode) if isinstance(column, array.array) else column
                   for name, column in self.rows.items()}
        metrics = pa.Table.from_pydict(columns, schema=self.metrics_schema)
        keys = {name: columns[name] for name in self.values_schema.names if name in columns}
        keys["values"], keys["counts"], keys["exact"] = self.distributions.arrays(self.values_schema)
        return metrics, pa.Table.from_pydict(keys, schema=self.values_schema)


class _DistributionColumns:
    """Each datapoint's (values, counts, exact), appended to flat chunks of `CHUNK` values.

    A datapoint's values never straddle two chunks (one larger than a chunk gets a chunk of its
    own), so each chunk becomes one Arrow list array without copying; unused chunk tails are the
    only memory beyond the values themselves.
    """

    CHUNK = 1 << 16

    def __init__(self):
        self._chunks: list[tuple[np.ndarray, np.ndarray, array.array]] = []   # values, counts, offsets
        self._used = 0
        self._exact = array.array("b")

    def __len__(self) -> int:
        return len(self._exact)

    def append(self, dist: Distribution) -> None:
        n = len(dist.values)
        if not self._chunks or self._used + n > len(self._chunks[-1][0]):
            size = max(self.CHUNK, n)
            self._chunks.append((np.empty(size), np.empty(size, np.int64), array.array("q", [0])))
            self._used = 0
        values, counts, offsets = self._chunks[-1]
        values[self._used: self._used + n] = dist.values
        counts[self._used: self._used + n] = dist.counts
        self._used += n
        offsets.append(self._used)
        self._exact.append(dist.exact)

    def arrays(self, schema: pa.Schema) -> tuple[pa.ChunkedArray, pa.ChunkedArray, np.ndarray]:
        """(values, counts, exact) columns of `metric_values.parquet`."""
        lists = {"values": [], "counts": []}
        for values, counts, offsets in self._chunks:
            offsets = np.frombuffer(offsets, np.int64).astype(np.int32)
            end = int(offsets[-1])
            lists["values"].append(pa.ListArray.from_arrays(offsets, values[:end]))
            lists["counts"].append(pa.ListArray.from_arrays(offsets, counts[:end]))
        columns = [pa.chunked_array(lists[name], type=schema.field(name).type) for name in ("values", "counts")]
        return columns[0], columns[1], np.frombuffer(self._exact, np.int8).astype(np.bool_)
