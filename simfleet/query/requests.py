"""Request parameters of ListMetrics, GetMetricStatistics and GetMetricData: validated and typed.

The entry point of every query (CLI, `RunMetrics.call`, the DataFrame methods): a request is a
dict spelled as the CloudWatch API spells it (`Namespace`, `MetricDataQueries`, … as boto3 takes
them). It is first checked against the operation's input shape (`shapes.py`) and then against
CloudWatch's documented rules [CW-API]: period values, Statistics xor ExtendedStatistics, statistic
syntax, query ids (`^[a-z][a-zA-Z0-9_]*$`, unique, at most 500 queries), StartTime before EndTime,
one value per dimension name. Every problem is reported at once, one line each, as an
`InputError` whose `file` is the operation name and whose `key` is the parameter path
(`MetricDataQueries[1].MetricStat.Period`). Metric math and Metrics Insights expressions are
refused as not supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from simfleet.cloudwatch.statistics import BASIC_STATISTICS, Statistic, parse_statistic
from simfleet.errors import InputError, Problem
from simfleet.query.rebucket import valid_period
from simfleet.query.shapes import INPUT_SHAPES, check_shape
from simfleet.query.timestamps import parse_timestamp

__all__ = [
    "MAX_METRIC_DATA_QUERIES", "DEFAULT_MAX_DATAPOINTS", "QUERY_ID_PATTERN",
    "MetricRef", "StatisticsRequest", "DataQuery", "DataRequest", "ListRequest",
    "parse_list_metrics", "parse_get_metric_statistics", "parse_get_metric_data",
]

MAX_METRIC_DATA_QUERIES = 500
DEFAULT_MAX_DATAPOINTS = 100_800
QUERY_ID_PATTERN = r"^[a-z][a-zA-Z0-9_]*$"


@dataclass(frozen=True)
class MetricRef:
    """A metric as a request names it: namespace, name and the exact dimension set."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @property
    def dimension_set(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.dimensions)


@dataclass(frozen=True)
class StatisticsRequest:
    metric: MetricRef
    start_ms: int
    end_ms: int
    period_s: int
    statistics: tuple[str, ...]              # basic statistics, in request order
    extended: tuple[tuple[str, Statistic], ...]   # (text as requested, parsed)
    unit: str | None = None


@dataclass(frozen=True)
class DataQuery:
    id: str
    metric: MetricRef
    period_s: int
    stat: Statistic
    unit: str | None
    label: str
    return_data: bool


@dataclass(frozen=True)
class DataRequest:
    queries: tuple[DataQuery, ...]
    start_ms: int
    end_ms: int
    scan_by: str = "TimestampDescending"
    max_datapoints: int = DEFAULT_MAX_DATAPOINTS
    next_token: str | None = None


@dataclass(frozen=True)
class ListRequest:
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str | None], ...] = ()
    recently_active: bool = False
    next_token: str | None = None


@dataclass
class _Problems:
    operation: str
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.items.append((key, message))

    def clean(self, key: str) -> bool:
        """No problem found so far at `key` or inside it (so CloudWatch's rules can look at it)."""
        return not any(k == key or k.startswith((key + ".", key + "[")) or k == "" for k, _ in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError([Problem(self.operation, key, message) for key, message in self.items])


def _validated(operation: str, params) -> _Problems:
    """Shape problems of `params`; raised at once only if `params` is not even an object."""
    problems = _Problems(operation)
    if not isinstance(params, Mapping):
        problems.add("", f"expected the request parameters as an object, got {type(params).__name__}")
        problems.raise_if_any()
    check_shape(params, INPUT_SHAPES[operation], "", problems.items)
    return problems


def _dimensions(items, key: str, problems: _Problems) -> tuple[tuple[str, str], ...]:
    if not problems.clean(key):
        return ()
    pairs = tuple((d["Name"], d.get("Value")) for d in items or ())
    seen = set()
    for name, _ in pairs:
        if name in seen:
            problems.add(key, f"dimension {name!r} is given twice; a metric has one value per dimension")
        seen.add(name)
    return pairs


def _period(params: Mapping, key: str, problems: _Problems) -> None:
    if "Period" in params and problems.clean(key) and not valid_period(params["Period"]):
        problems.add(key, f"must be 1, 5, 10, 20, 30, 60 or a multiple of 60 seconds, got {params['Period']}")


def _time_range(params, problems: _Problems) -> tuple[int, int]:
    if not all(k in params and problems.clean(k) for k in ("StartTime", "EndTime")):
        return 0, 0
    start, end = parse_timestamp(params["StartTime"]), parse_timestamp(params["EndTime"])
    if start >= end:
        problems.add("StartTime", "must be earlier than EndTime")
    return start, end


def parse_list_metrics(params: Mapping) -> ListRequest:
    problems = _validated("ListMetrics", params)
    filters = _dimensions(params.get("Dimensions"), "Dimensions", problems)
    problems.raise_if_any()
    return ListRequest(params.get("Namespace"), params.get("MetricName"), filters,
                       params.get("RecentlyActive") == "PT3H", params.get("NextToken"))


def parse_get_metric_statistics(params: Mapping) -> StatisticsRequest:
    problems = _validated("GetMetricStatistics", params)
    dimensions = _dimensions(params.get("Dimensions"), "Dimensions", problems)
    _period(params, "Period", problems)
    start, end = _time_range(params, problems)
    if "Statistics" not in params and "ExtendedStatistics" not in params:
        problems.add("Statistics", "give Statistics or ExtendedStatistics (one of the two is required)")
    if "Statistics" in params and "ExtendedStatistics" in params:
        problems.add("ExtendedStatistics", "Statistics and ExtendedStatistics cannot both be given "
                                           "(CloudWatch's GetMetricStatistics takes one or the other)")
    statistics = tuple(params.get("Statistics", ())) if problems.clean("Statistics") else ()
    extended_texts = tuple(params.get("ExtendedStatistics", ())) if problems.clean("ExtendedStatistics") else ()
    extended = []
    for i, text in enumerate(extended_texts):
        if text in BASIC_STATISTICS:
            problems.add(f"ExtendedStatistics[{i}]", f"{text} is a basic statistic; request it in Statistics")
            continue
        try:
            extended.append((text, parse_statistic(text)))
        except ValueError as error:
            problems.add(f"ExtendedStatistics[{i}]", _one_line(error))
    problems.raise_if_any()
    metric = MetricRef(params["Namespace"], params["MetricName"], dimensions)
    return StatisticsRequest(metric, start, end, params["Period"], statistics, tuple(extended), params.get("Unit"))


def parse_get_metric_data(params: Mapping) -> DataRequest:
    problems = _validated("GetMetricData", params)
    raw_queries = params.get("MetricDataQueries")
    raw_queries = raw_queries if isinstance(raw_queries, (list, tuple)) else []
    if "MetricDataQueries" in params and problems.clean("MetricDataQueries") and not raw_queries:
        problems.add("MetricDataQueries", "needs at least one query")
    if len(raw_queries) > MAX_METRIC_DATA_QUERIES:
        problems.add("MetricDataQueries", f"takes at most {MAX_METRIC_DATA_QUERIES} queries, got {len(raw_queries)}")
    queries, ids = [], set()
    for i, raw in enumerate(raw_queries):
        if not isinstance(raw, Mapping):
            continue                  # its shape problem is reported
        query = _data_query(raw, f"MetricDataQueries[{i}]", ids, problems)
        if query is not None:
            queries.append(query)
    start, end = _time_range(params, problems)
    max_datapoints = params.get("MaxDatapoints", DEFAULT_MAX_DATAPOINTS)
    if problems.clean("MaxDatapoints") and max_datapoints < 1:
        problems.add("MaxDatapoints", f"must be at least 1, got {max_datapoints}")
    problems.raise_if_any()
    return DataRequest(tuple(queries), start, end, params.get("ScanBy", "TimestampDescending"), max_datapoints,
                       params.get("NextToken"))


def _data_query(raw: Mapping, key: str, ids: set, problems: _Problems) -> DataQuery | None:
    """One MetricDataQuery checked against CloudWatch's rules; None when it has problems."""
    query_id = raw.get("Id")
    if problems.clean(f"{key}.Id") and query_id is not None:
        if not re.match(QUERY_ID_PATTERN, query_id):
            problems.add(f"{key}.Id", f"{query_id!r} does not match {QUERY_ID_PATTERN} "
                                      "(a lower-case letter, then letters, digits or _)")
        elif query_id in ids:
            problems.add(f"{key}.Id", f"{query_id!r} is used by two queries; ids must be unique")
        ids.add(query_id)
    if "Expression" in raw:
        problems.add(f"{key}.Expression", "metric math and Metrics Insights expressions are not supported "
                                          "by simfleet; use MetricStat")
        return None
    if "MetricStat" not in raw:
        problems.add(f"{key}.MetricStat", "missing: each query needs a MetricStat")
        return None
    stat_key = f"{key}.MetricStat"
    if not problems.clean(stat_key):
        return None
    stat_params = raw["MetricStat"]
    metric_params = stat_params["Metric"]
    for member in ("Namespace", "MetricName"):
        if member not in metric_params:
            problems.add(f"{stat_key}.Metric.{member}", "missing required parameter")
    _period(stat_params, f"{stat_key}.Period", problems)
    try:
        stat = parse_statistic(stat_params["Stat"])
    except ValueError as error:
        problems.add(f"{stat_key}.Stat", _one_line(error))
        return None
    dimensions = _dimensions(metric_params.get("Dimensions"), f"{stat_key}.Metric.Dimensions", problems)
    if not problems.clean(key):
        return None
    metric = MetricRef(metric_params["Namespace"], metric_params["MetricName"], dimensions)
    return DataQuery(query_id, metric, stat_params["Period"], stat, stat_params.get("Unit"),
                     raw.get("Label", metric.metric_name), raw.get("ReturnData", True))


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
