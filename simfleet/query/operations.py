"""ListMetrics, GetMetricStatistics and GetMetricData answered from a run's stored datapoints.

Takes the typed requests of `requests.py`, finds the metric streams in the `RunStore`, re-buckets
them (`rebucket.py`) and returns plain results that `responses.py` shapes into AWS JSON and
`tables.py` into DataFrames and CSV. Choices where CloudWatch is silent or where a simulator
should speak up:

* A namespace, a metric name, or a set of dimension *names* that the run never published is an
  error naming what exists (CloudWatch would answer with no datapoints, which hides typos); known
  dimension names with values that never occur, or a Unit that does not match, give no datapoints,
  as in CloudWatch [CW-API].
* GetMetricStatistics returns its datapoints in ascending time order (CloudWatch's order is
  unspecified [CW-API]); a statistic with no value in a period (e.g. `TM(a:b)` bounds that hold no
  value) is left out of that datapoint's ExtendedStatistics map.
* GetMetricData pagination: the datapoints of the returned queries, in request order and each in
  ScanBy order, are cut into pages of MaxDatapoints; every page has a result for every returned
  query, `PartialData` when that query has datapoints on later pages, else `Complete`. NextToken is
  opaque and only valid for the same request.
* ListMetrics pages hold 500 metrics (as CloudWatch); dimension filters match metrics that *have*
  the named dimensions (with the given value when one is given); RecentlyActive=PT3H keeps the
  metrics with a datapoint in the run's last 3 hours.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from simfleet.cloudwatch.statistics import parse_statistic
from simfleet.errors import InputError, Problem
from simfleet.query.rebucket import align_start, bucket_count, rebucket, statistic_values
from simfleet.query.requests import DataRequest, ListRequest, MetricRef, StatisticsRequest
from simfleet.query.store import MetricStream, RunStore

__all__ = ["StatisticsResult", "SeriesResult", "DataResult", "ListResult", "GET_METRIC_STATISTICS_LIMIT",
           "LIST_METRICS_PAGE_SIZE", "find_stream", "list_metrics", "get_metric_statistics", "get_metric_data",
           "metric_series"]

GET_METRIC_STATISTICS_LIMIT = 1440
LIST_METRICS_PAGE_SIZE = 500
_THREE_HOURS_MS = 3 * 3_600_000


@dataclass(frozen=True)
class StatisticsResult:
    """GetMetricStatistics: one row per non-empty period, one column per requested statistic."""

    label: str
    unit: str | None
    timestamps_ms: np.ndarray
    statistics: tuple[str, ...]          # basic statistics requested, in order
    extended: tuple[str, ...]            # extended statistics requested, as spelled in the request
    values: dict[str, np.ndarray]        # statistic -> value per timestamp (NaN: no value)


@dataclass(frozen=True)
class SeriesResult:
    """One MetricDataResult: a query's timestamps and values, already in ScanBy order."""

    id: str
    label: str
    stat: str
    unit: str | None
    timestamps_ms: np.ndarray
    values: np.ndarray
    status: str = "Complete"


@dataclass(frozen=True)
class DataResult:
    results: tuple[SeriesResult, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class ListResult:
    streams: tuple[MetricStream, ...]
    next_token: str | None = None


def find_stream(store: RunStore, metric: MetricRef, key_prefix: str = "") -> MetricStream | None:
    """The stream with exactly `metric`'s dimensions; None when only the dimension values are unknown.

    Raises InputError when the namespace, the metric name or the set of dimension names never occurs.
    """
    def fail(member: str, message: str):
        raise InputError([Problem(store.path.as_posix(), f"{key_prefix}{member}", message)])

    if metric.namespace not in store.namespaces:
        fail("Namespace", f"no metrics in namespace {metric.namespace!r} in this run"
                          f"{_suggest(metric.namespace, store.namespaces, 'namespaces')}")
    candidates = store.streams_named(metric.namespace, metric.metric_name)
    if not candidates:
        fail("MetricName", f"no metric {metric.metric_name!r} in namespace {metric.namespace} in this run"
                           f"{_suggest(metric.metric_name, store.metric_names(metric.namespace), 'metrics')}")
    names = frozenset(name for name, _ in metric.dimensions)
    if not any(stream.dimension_names == names for stream in candidates):
        sets = sorted({tuple(n for n, _ in s.dimensions) for s in candidates})
        shown = "; ".join("[" + ", ".join(s) + "]" if s else "[] (no dimensions)" for s in sets)
        given = ", ".join(sorted(names)) or "no dimensions"
        fail("Dimensions", f"{metric.namespace} {metric.metric_name} has no stream with dimensions "
                           f"[{given}]; its dimension sets are: {shown} (a metric is identified by its "
                           "exact dimension set)")
    for stream in candidates:
        if stream.dimension_set == metric.dimension_set:
            return stream
    return None


def _suggest(word: str, options, what: str) -> str:
    close = difflib.get_close_matches(word, options, n=3)
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    shown = ", ".join(options[:12]) + (", …" if len(options) > 12 else "")
    return f" ({what}: {shown})" if options else " (it has no metrics)"


def _check_period(store: RunStore, stream: MetricStream, period_s: int, key: str) -> None:
    bad = [p for p in stream.periods_s if period_s % p]
    if bad:
        raise InputError([Problem(store.path.as_posix(), key,
                                  f"period {period_s} s is not a multiple of the stored period {bad[0]} s of "
                                  f"{stream.namespace} {stream.metric_name}; use a multiple of {bad[0]}")])


def _rows(store: RunStore, stream: MetricStream, unit: str | None) -> np.ndarray:
    rows = stream.rows
    return rows if unit is None else rows[store.units[rows] == unit]


def metric_series(store: RunStore, stream: MetricStream | None, unit: str | None, start_ms: int, end_ms: int,
                  period_s: int, statistics) -> tuple[np.ndarray, list[np.ndarray]]:
    """Bucket timestamps and one value array per statistic (NaN = no value) for one stream."""
    if stream is None:
        return np.empty(0, dtype=np.int64), [np.empty(0) for _ in statistics]
    aligned = align_start(start_ms, period_s, store.window_ms[1])
    buckets = rebucket(_rows(store, stream, unit), store.timestamps_ms, store.sample_count, store.sum,
                       store.minimum, store.maximum, aligned, end_ms, period_s)
    return buckets.timestamps_ms, [statistic_values(buckets, s, store.distribution) for s in statistics]


def get_metric_statistics(store: RunStore, request: StatisticsRequest) -> StatisticsResult:
    aligned = align_start(request.start_ms, request.period_s, store.window_ms[1])
    requested = bucket_count(aligned, request.end_ms, request.period_s)
    if requested > GET_METRIC_STATISTICS_LIMIT:
        raise InputError([Problem("GetMetricStatistics", "Period",
                                  f"you have requested up to {requested:,} datapoints, which exceeds the limit of "
                                  f"{GET_METRIC_STATISTICS_LIMIT:,}; increase Period or shorten the time range")])
    stream = find_stream(store, request.metric)
    if stream is not None:
        _check_period(store, stream, request.period_s, "Period")
    parsed = [parse_statistic(s) for s in request.statistics] + [s for _, s in request.extended]
    names = list(request.statistics) + [text for text, _ in request.extended]
    timestamps, columns = metric_series(store, stream, request.unit, request.start_ms, request.end_ms,
                                        request.period_s, parsed)
    unit = request.unit or (stream.units[0] if stream is not None and stream.units else None)
    return StatisticsResult(request.metric.metric_name, unit, timestamps, tuple(request.statistics),
                            tuple(text for text, _ in request.extended), dict(zip(names, columns)))


def get_metric_data(store: RunStore, request: DataRequest, paginate: bool = True) -> DataResult:
    """All returned queries' series; one page of them when `paginate` (MaxDatapoints / NextToken)."""
    series = []
    problems = []
    for i, query in enumerate(request.queries):
        prefix = f"MetricDataQueries[{i}].MetricStat.Metric."
        try:
            stream = find_stream(store, query.metric, prefix)
            if stream is not None:
                _check_period(store, stream, query.period_s, f"MetricDataQueries[{i}].MetricStat.Period")
        except InputError as error:
            problems.extend(error.problems)
            continue
        if not query.return_data:
            continue
        timestamps, (values,) = metric_series(store, stream, query.unit, request.start_ms, request.end_ms,
                                              query.period_s, [query.stat])
        keep = ~np.isnan(values)
        timestamps, values = timestamps[keep], values[keep]
        if request.scan_by == "TimestampDescending":
            timestamps, values = timestamps[::-1], values[::-1]
        unit = query.unit or (stream.units[0] if stream is not None and stream.units else None)
        series.append(SeriesResult(query.id, query.label, query.stat.text, unit, timestamps, values))
    if problems:
        raise InputError(problems)
    if not paginate:
        return DataResult(tuple(series))
    digest = _digest(("GetMetricData", [(q.id, q.metric, q.period_s, q.stat.text, q.unit, q.label, q.return_data)
                                        for q in request.queries], request.start_ms, request.end_ms,
                      request.scan_by))
    offset = _read_token(request.next_token, digest, "GetMetricData")
    page_end = offset + request.max_datapoints
    paged, position = [], 0
    for s in series:
        lo = min(max(offset - position, 0), len(s.values))
        hi = min(max(page_end - position, 0), len(s.values))
        status = "PartialData" if hi < len(s.values) else "Complete"
        paged.append(SeriesResult(s.id, s.label, s.stat, s.unit, s.timestamps_ms[lo:hi], s.values[lo:hi], status))
        position += len(s.values)
    token = _make_token(page_end, digest) if page_end < position else None
    return DataResult(tuple(paged), token)


def list_metrics(store: RunStore, request: ListRequest, paginate: bool = True) -> ListResult:
    window_end = store.window_ms[1]
    selected = []
    for stream in store.streams:
        if request.namespace is not None and stream.namespace != request.namespace:
            continue
        if request.metric_name is not None and stream.metric_name != request.metric_name:
            continue
        values = dict(stream.dimensions)
        if any(name not in values or (value is not None and values[name] != value)
               for name, value in request.dimensions):
            continue
        if request.recently_active and store.timestamps_ms[stream.rows[-1]] < window_end - _THREE_HOURS_MS:
            continue
        selected.append(stream)
    if not paginate:
        return ListResult(tuple(selected))
    digest = _digest(("ListMetrics", request.namespace, request.metric_name, request.dimensions,
                      request.recently_active))
    offset = _read_token(request.next_token, digest, "ListMetrics")
    end = offset + LIST_METRICS_PAGE_SIZE
    return ListResult(tuple(selected[offset:end]), _make_token(end, digest) if end < len(selected) else None)


def _digest(request) -> str:
    return hashlib.sha256(repr(request).encode("utf-8")).hexdigest()[:16]


def _make_token(offset: int, digest: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, digest]).encode("ascii")).decode("ascii").rstrip("=")


def _read_token(token: str | None, digest: str, operation: str) -> int:
    if token is None:
        return 0
    try:
        offset, token_digest = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if token_digest == digest and isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, TypeError, binascii.Error):
        pass
    raise InputError([Problem(operation, "NextToken",
                              "is not a token returned by a previous call with the same parameters")])
