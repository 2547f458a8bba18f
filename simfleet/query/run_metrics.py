"""`RunMetrics`: the Python API for querying a run directory like CloudWatch.

The top of the query package, used by `simfleet metrics` and by notebooks:

    >>> run = RunMetrics.open("runs/quickstart")
    >>> run.list_metrics(namespace="AWS/SageMaker")
    >>> run.get_metric_statistics("AWS/SageMaker", "ModelLatency",
    ...                           {"EndpointName": "fraud-scoring", "VariantName": "Current"},
    ...                           period=300, extended_statistics=["p99", "TM(10%:90%)"])
    >>> run.call("GetMetricData", {"MetricDataQueries": [...], "StartTime": ..., "EndTime": ...})

The DataFrame methods return every datapoint (no pagination, long form, see `tables.py`);
`call` takes the request exactly as boto3's `cloudwatch` client does (PascalCase parameters) and
returns the AWS-shaped response dict, one page at a time, as boto3 returns it (timestamps are
timezone-aware `datetime`s in UTC, not strings). Omitted StartTime/EndTime default to
the run's window (the experiment's start_time + duration). Bad requests raise `InputError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simfleet.query import operations, responses, tables
from simfleet.query.emf import to_emf
from simfleet.query.rebucket import align_start
from simfleet.query.requests import parse_get_metric_data, parse_get_metric_statistics, parse_list_metrics
from simfleet.query.timestamps import parse_timestamp
from simfleet.query.store import RunStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunMetrics", "QueryAnswer", "OPERATIONS"]

OPERATIONS = ("ListMetrics", "GetMetricStatistics", "GetMetricData")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class QueryAnswer:
    """The answer to one request, ready to render as AWS JSON, a DataFrame, CSV or EMF."""

    operation: str
    result: object              # operations.ListResult | StatisticsResult | DataResult
    rows: np.ndarray            # the stored datapoints the request covers (for EMF)
    store: RunStore

    def response(self) -> dict:
        if self.operation == "ListMetrics":
            return responses.list_metrics_response(self.result)
        if self.operation == "GetMetricStatistics":
            return responses.metric_statistics_response(self.result)
        return responses.metric_data_response(self.result)

    def frame(self) -> pd.DataFrame:
        if self.operation == "ListMetrics":
            return tables.metrics_frame(self.result.streams, self.store.dimension_columns)
        if self.operation == "GetMetricStatistics":
            return tables.statistics_frame(self.result)
        return tables.data_frame(self.result)

    def csv(self) -> str:
        return tables.frame_to_csv(self.frame())

    def emf(self) -> Iterator[str]:
        """EMF lines whose ingestion reproduces the stored samples this request covers."""
        return to_emf(self.store, self.rows)


class RunMetrics:
    """The CloudWatch datapoints of one run directory, queryable like CloudWatch."""

    def __init__(self, store: RunStore):
        self.store = store

    @classmethod
    def open(cls, run_dir: str | Path) -> "RunMetrics":
        return cls(RunStore.open(run_dir))

    @property
    def run_dir(self) -> Path:
        return self.store.path

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[start, end) of the run, the default StartTime and EndTime."""
        import pandas as pd  # imported on first use, not at startup (importing pandas takes ~0.3 s)

        start, end = self.store.window_ms
        return pd.Timestamp(start, unit="ms", tz="UTC"), pd.Timestamp(end, unit="ms", tz="UTC")

    # -- AWS-shaped -----------------------------------------------------------------------------

    def answer(self, operation: str, params: Mapping, paginate: bool = True) -> QueryAnswer:
        """Run one request given as boto3 parameters; StartTime/EndTime default to the run window."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r} (expected one of {', '.join(OPERATIONS)})")
        params = dict(params)
        store = self.store
        if operation == "ListMetrics":
            result = operations.list_metrics(store, parse_list_metrics(params), paginate)
            rows = _concat([s.rows for s in result.streams])
            return QueryAnswer(operation, result, rows, store)
        params.setdefault("StartTime", _datetime(store.window_ms[0]))
        params.setdefault("EndTime", _datetime(store.window_ms[1]))
        if operation == "GetMetricStatistics":
            request = parse_get_metric_statistics(params)
            result = operations.get_metric_statistics(store, request)
            stream = operations.find_stream(store, request.metric)
            rows = self._covered(stream, request.unit, request.start_ms, request.end_ms, request.period_s)
            return QueryAnswer(operation, result, rows, store)
        request = parse_get_metric_data(params)
        result = operations.get_metric_data(store, request, paginate)
        rows = _concat([self._covered(operations.find_stream(store, q.metric), q.unit, request.start_ms,
                                      request.end_ms, q.period_s) for q in request.queries])
        return QueryAnswer(operation, result, np.unique(rows), store)

    def call(self, operation: str, params: Mapping) -> dict:
        """`boto3.client("cloudwatch").<operation>(**params)` answered from this run, in boto3's types."""
        return self.answer(operation, params).response()

    def _covered(self, stream, unit, start_ms, end_ms, period_s) -> np.ndarray:
        if stream is None:
            return np.empty(0, dtype=np.int64)
        rows = stream.rows if unit is None else stream.rows[self.store.units[stream.rows] == unit]
        t = self.store.timestamps_ms[rows]
        aligned = align_start(start_ms, period_s, self.store.window_ms[1])
        return rows[(t >= aligned) & (t < end_ms)]

    # -- DataFrames -----------------------------------------------------------------------------

    def list_metrics(self, namespace: str | None = None, metric_name: str | None = None,
                     dimensions: Mapping[str, str | None] | Sequence | None = None) -> pd.DataFrame:
        """One row per metric stream; `dimensions` filters ({name: value}, value None = any value)."""
        params = _drop_none({"Namespace": namespace, "MetricName": metric_name,
                             "Dimensions": _dimension_list(dimensions, allow_any=True)})
        return self.answer("ListMetrics", params, paginate=False).frame()

    def get_metric_statistics(self, namespace: str, metric_name: str,
                              dimensions: Mapping[str, str] | Sequence | None = None,
                              start_time=None, end_time=None, period: int | None = None,
                              statistics: Sequence[str] = (), extended_statistics: Sequence[str] = (),
                              unit: str | None = None) -> pd.DataFrame:
        """GetMetricStatistics as a long DataFrame; `period` defaults to the stream's stored period."""
        dims = _dimension_list(dimensions)
        if period is None:
            period = self._stored_period(namespace, metric_name, dims)
        params = _drop_none({"Namespace": namespace, "MetricName": metric_name, "Dimensions": dims,
                             "StartTime": start_time, "EndTime": end_time, "Period": period,
                             "Statistics": list(statistics) or None,
                             "ExtendedStatistics": list(extended_statistics) or None, "Unit": unit})
        return self.answer("GetMetricStatistics", params).frame()

    def get_metric_data(self, queries: Sequence[Mapping], start_time=None, end_time=None,
                        scan_by: str = "TimestampDescending") -> pd.DataFrame:
        """GetMetricData (MetricDataQueries as boto3 takes them) as a long DataFrame, all datapoints."""
        params = _drop_none({"MetricDataQueries": list(queries), "StartTime": start_time, "EndTime": end_time,
                             "ScanBy": scan_by})
        return self.answer("GetMetricData", params, paginate=False).frame()

    def to_emf(self, namespace: str | None = None, metric_name: str | None = None,
               dimensions: Mapping[str, str | None] | Sequence | None = None,
               start_time=None, end_time=None) -> Iterator[str]:
        """EMF lines for the stored datapoints of the matching streams (ListMetrics filters) in [start, end)."""
        params = _drop_none({"Namespace": namespace, "MetricName": metric_name,
                             "Dimensions": _dimension_list(dimensions, allow_any=True)})
        answer = self.answer("ListMetrics", params, paginate=False)
        start = self.store.window_ms[0] if start_time is None else parse_timestamp(start_time)
        end = self.store.window_ms[1] if end_time is None else parse_timestamp(end_time)
        t = self.store.timestamps_ms[answer.rows]
        return to_emf(self.store, answer.rows[(t >= start) & (t < end)])

    def _stored_period(self, namespace: str, metric_name: str, dims: list | None) -> int:
        wanted = frozenset((d.get("Name"), d.get("Value")) for d in dims or ())
        for stream in self.store.streams_named(namespace, metric_name):
            if stream.dimension_set == wanted:
                return max(stream.periods_s)
        return 60   # the request's validation names what is wrong


def _datetime(epoch_ms: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=int(epoch_ms))


def _drop_none(params: dict) -> dict:
    return {k: v for k, v in params.items() if v is not None}


def _dimension_list(dimensions, allow_any: bool = False) -> list | None:
    """{name: value} or [{"Name":…, "Value":…}] or [(name, value)] → the API's list of dicts."""
    if dimensions is None:
        return None
    if isinstance(dimensions, Mapping):
        items = list(dimensions.items())
    else:
        items = [(d.get("Name"), d.get("Value")) if isinstance(d, Mapping) else tuple(d) for d in dimensions]
    out = []
    for name, value in items:
        if value is None and allow_any:
            out.append({"Name": name})
        else:
            out.append({"Name": name, "Value": value})
    return out


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64) if arrays else np.empty(0, dtype=np.int64)
