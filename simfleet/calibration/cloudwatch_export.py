"""CloudWatch exports read into observations: `aws cloudwatch get-metric-data` / `get-metric-statistics` JSON.

What is read, per period (timestamp):

* `ModelLatency` (AWS/SageMaker, **Microseconds**): percentiles `pNN`, `Average`, `SampleCount`;
* `Invocations` (Sum, unit None): the period's requests (else ModelLatency's SampleCount);
* `InvocationsPerInstance` (Sum, unit None): instances in service = Invocations / InvocationsPerInstance;
* `CPUUtilization` (/aws/sagemaker/Endpoints, Percent, optional): kept beside the period.

A get-metric-data response holds values without saying which metric and statistic each result
is: its queries (the `--metric-data-queries` JSON: a list, or `{"MetricDataQueries": [...]}`) must
come too, as another SOURCE or in the same file beside `MetricDataResults`; results are matched
to queries by `Id`. A get-metric-statistics response names its metric in `Label` and each
datapoint's `Unit`; its period is the smallest spacing of its timestamps (60 s, SageMaker's
invocation-metric period, when it has one datapoint). Units are checked wherever the export
states them; `ModelLatency` values under 10 µs are refused as values in another unit (no
SageMaker container answers that fast: the choice of simfleet, `MIN_MODEL_LATENCY_US`).
Refused, with one line each: another metric, a wrong unit, empty datapoints, results of two
variants, no period with traffic.
"""

from __future__ import annotations

import re
from datetime import datetime

from simfleet.calibration.observations import Observations, Period
from simfleet.errors import InputError

__all__ = ["read_cloudwatch", "check_result", "STATUS_CODES", "is_get_metric_data", "is_get_metric_statistics",
           "is_queries", "MIN_MODEL_LATENCY_US"]

MIN_MODEL_LATENCY_US = 10.0
DEFAULT_PERIOD_S = 60.0

_UNITS = {"ModelLatency": "Microseconds", "Invocations": "None", "InvocationsPerInstance": "None",
          "CPUUtilization": "Percent"}
_PERCENTILE = re.compile(r"^p(\d+(\.\d+)?)$")
_USED_STATS = {"ModelLatency": "pNN, Average or SampleCount", "Invocations": "Sum",
               "InvocationsPerInstance": "Sum", "CPUUtilization": "Average"}


def is_get_metric_data(data) -> bool:
    return isinstance(data, dict) and "MetricDataResults" in data


def is_get_metric_statistics(data) -> bool:
    return isinstance(data, dict) and "Datapoints" in data


def is_queries(data) -> bool:
    queries = data.get("MetricDataQueries") if isinstance(data, dict) else data
    return isinstance(queries, list) and bool(queries) and all(isinstance(q, dict) and "Id" in q for q in queries)


def _queries(data) -> list:
    return data.get("MetricDataQueries") if isinstance(data, dict) else data


def _fail(file: str, key: str, message: str):
    raise InputError.single(file, message, key=key)


#: `MetricDataResult.StatusCode` (CloudWatch API reference, GetMetricData): the values of a query that
#: ran; the last two say its values are no data
STATUS_CODES = ("Complete", "PartialData", "InternalError", "Forbidden")


def check_result(file: str, key: str, result: dict) -> None:
    """The members of one `MetricDataResults` entry as AWS types them: `Timestamps` ISO 8601
    strings, `StatusCode` one of `STATUS_CODES` (and not a failed query's), `Label` a string,
    `Messages` a list. (`Id` and `Values` are checked where they are read.)"""
    status = result.get("StatusCode", "Complete")
    if not isinstance(status, str) or status not in STATUS_CODES:
        _fail(file, f"{key}.StatusCode", f"expected one of {', '.join(STATUS_CODES)}, got {status!r}")
    if status in ("InternalError", "Forbidden"):
        _fail(file, f"{key}.StatusCode", f"{status}: this query failed, its values are no data (export it again)")
    if not isinstance(result.get("Label", ""), str):
        _fail(file, f"{key}.Label", f"expected a string, got {result['Label']!r}")
    if not isinstance(result.get("Messages", []), list):
        _fail(file, f"{key}.Messages", f"expected a list of messages, got {result['Messages']!r}")
    timestamps = result.get("Timestamps", [])
    if not isinstance(timestamps, list):
        _fail(file, f"{key}.Timestamps", f"expected a list of ISO 8601 timestamps, got {timestamps!r}")
    for i, stamp in enumerate(timestamps):
        _timestamp(file, f"{key}.Timestamps[{i}]", stamp)


class _Series:
    """(metric, statistic) -> {timestamp: value}, from every file, with where each came from."""

    def __init__(self):
        self.values: dict[tuple[str, str], dict[str, float]] = {}
        self.periods: dict[tuple[str, str], float | None] = {}
        self.dimensions: dict[str, tuple] = {}

    def add(self, file: str, key: str, metric: str, stat: str, unit: str | None, points: dict[str, float],
            period: float | None, dimensions: tuple | None):
        if metric not in _UNITS:
            _fail(file, key, f"metric {metric!r} is not one calibrate reads (expected ModelLatency, Invocations, "
                             "InvocationsPerInstance or CPUUtilization)")
        if unit is not None and unit != _UNITS[metric]:
            _fail(file, key, f"{metric} in {unit!r}: expected {_UNITS[metric]} (CloudWatch's unit of {metric})")
        if not points:
            _fail(file, key, f"{metric} {stat}: no datapoints (the query matched no data: check the metric "
                             "name, dimensions and time range)")
        if metric == "ModelLatency" and stat != "SampleCount":
            smallest = min(points.values())
            if smallest < MIN_MODEL_LATENCY_US:
                _fail(file, key, f"ModelLatency {stat} of {smallest:g}: expected Microseconds (values under "
                                 f"{MIN_MODEL_LATENCY_US:g} us look like milliseconds or seconds)")
        if dimensions is not None:   # every metric of one variant: the same EndpointName, VariantName
            earlier = self.dimensions.setdefault("", dimensions)
            if earlier != dimensions:
                _fail(file, key, f"{metric} of another variant than the other results ({_names(dimensions)}, not "
                                 f"{_names(earlier)}): metrics of two variants; calibrate one variant at a time")
        series = self.values.setdefault((metric, stat), {})
        for timestamp, value in points.items():
            if timestamp in series and series[timestamp] != value:
                _fail(file, key, f"{metric} {stat} at {timestamp} given twice with different values")
            series[timestamp] = value
        if period is not None:
            self.periods[(metric, stat)] = period


def _names(dimensions: tuple) -> str:
    return ",".join(f"{name}={value}" for name, value in dimensions) or "no dimensions"


def _stat_used(metric: str, stat: str) -> bool:
    if metric == "ModelLatency":
        return bool(_PERCENTILE.match(stat)) or stat in ("Average", "SampleCount")
    return stat == {"Invocations": "Sum", "InvocationsPerInstance": "Sum", "CPUUtilization": "Average"}[metric]


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _number(file: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(file, key, f"expected a number, got {value!r}")
    return float(value)


def _timestamp(file: str, key: str, value) -> str:
    try:
        _seconds(value)
    except (AttributeError, TypeError, ValueError):
        _fail(file, key, f"expected an ISO 8601 timestamp (2026-01-05T09:00:00Z), got {value!r}")
    return value


def read_cloudwatch(files: list[tuple[str, object]]) -> Observations:
    """Observations from CloudWatch exports: `files` are (name, parsed JSON) of responses and query lists."""
    queries: dict[str, tuple[str, dict]] = {}
    read: list[str] = []
    for name, data in files:
        if is_queries(data):
            for query in _queries(data):
                queries[query["Id"]] = (name, query)
            if not is_get_metric_data(data):
                read.append(f"{name} (MetricDataQueries)")
    series = _Series()
    ignored: list[str] = []
    for name, data in files:
        if is_get_metric_data(data):
            results = data["MetricDataResults"]
            if not isinstance(results, list) or not results:
                _fail(name, "MetricDataResults", "empty: the export holds no results")
            for index, result in enumerate(results):
                key = f"MetricDataResults[{index}]"
                if not isinstance(result, dict):
                    _fail(name, key, "expected a result object (Id, Timestamps, Values)")
                rid = result.get("Id")
                if rid not in queries:
                    _fail(name, f"{key}.Id", f"no MetricDataQueries entry with Id {rid!r}: give the queries "
                                             "(--metric-data-queries JSON) as another SOURCE or beside the results")
                stat_query = queries[rid][1].get("MetricStat")
                if not isinstance(stat_query, dict):
                    _fail(queries[rid][0], f"MetricDataQueries (Id {rid})", "expected a MetricStat query "
                                                                             "(math expressions are not read)")
                metric = stat_query.get("Metric", {})
                metric_name, stat = metric.get("MetricName", ""), stat_query.get("Stat", "")
                check_result(name, key, result)
                timestamps, values = result.get("Timestamps", []), result.get("Values", [])
                if len(timestamps) != len(values):
                    _fail(name, key, "Timestamps and Values differ in length")
                if metric_name in _UNITS and not _stat_used(metric_name, stat):
                    ignored.append(f"{metric_name} {stat}")
                    continue
                dims = tuple(sorted((d.get("Name"), d.get("Value")) for d in metric.get("Dimensions", [])))
                series.add(name, key, metric_name, stat, stat_query.get("Unit"),
                           {t: _number(name, f"{key}.Values[{i}]", v)   # times checked by `check_result`
                            for i, (t, v) in enumerate(zip(timestamps, values))}, stat_query.get("Period"), dims)
            read.append(f"{name} (get-metric-data)")
        elif is_get_metric_statistics(data):
            metric_name = data.get("Label", "")
            points = data["Datapoints"]
            if not isinstance(points, list) or not points:
                _fail(name, "Datapoints", f"{metric_name or 'the metric'}: no datapoints (the request matched "
                                          "no data: check the metric name, dimensions and time range)")
            by_stat: dict[str, dict[str, float]] = {}
            units = {p.get("Unit") for p in points}
            for index, point in enumerate(points):
                key = f"Datapoints[{index}]"
                if not isinstance(point, dict):
                    _fail(name, key, "expected a datapoint object")
                stamp = _timestamp(name, f"{key}.Timestamp", point.get("Timestamp"))
                for stat in ("SampleCount", "Average", "Sum", "Minimum", "Maximum"):
                    if stat in point:
                        by_stat.setdefault(stat, {})[stamp] = _number(name, f"{key}.{stat}", point[stat])
                for stat, value in (point.get("ExtendedStatistics") or {}).items():
                    by_stat.setdefault(stat, {})[stamp] = _number(name, f"{key}.ExtendedStatistics.{stat}", value)
            stamps = sorted({_seconds(p["Timestamp"]) for p in points})
            gaps = [b - a for a, b in zip(stamps, stamps[1:])]
            period = min(gaps) if gaps else DEFAULT_PERIOD_S
            unit = next(iter(units)) if len(units) == 1 else None
            if len(units) > 1:
                _fail(name, "Datapoints", f"{metric_name}: datapoints in several units ({sorted(map(str, units))})")
            if metric_name not in _UNITS:
                series.add(name, "Label", metric_name, "", unit, {}, period, None)
            for stat, stat_points in by_stat.items():
                if _stat_used(metric_name, stat):
                    series.add(name, "Datapoints", metric_name, stat, unit, stat_points, period, None)
                else:
                    ignored.append(f"{metric_name} {stat}")
            read.append(f"{name} (get-metric-statistics {metric_name})")
    return _observations(series, read, ignored, [name for name, _ in files])


def _observations(series: _Series, read: list[str], ignored: list[str], files: list[str]) -> Observations:
    where = ", ".join(files)
    latency = {stat: points for (metric, stat), points in series.values.items() if metric == "ModelLatency"}
    if not any(stat != "SampleCount" for stat in latency):
        raise InputError.single(where, "no ModelLatency percentile or Average: nothing to fit a service time to "
                                       "(export ModelLatency with --extended-statistics p50 p90 p99, or Average)")
    counts = series.values.get(("Invocations", "Sum")) or latency.get("SampleCount")
    if counts is None:
        raise InputError.single(where, "neither Invocations Sum nor ModelLatency SampleCount: the periods' "
                                       "traffic is unknown")
    per_instance = series.values.get(("InvocationsPerInstance", "Sum"), {})
    cpu = series.values.get(("CPUUtilization", "Average"), {})
    periods_s = [p for p in series.periods.values() if p]
    period_s = float(min(periods_s)) if periods_s else DEFAULT_PERIOD_S
    periods = []
    skipped = 0
    for timestamp in sorted(counts, key=_seconds):
        requests = counts[timestamp]
        stats = {stat: points[timestamp] for stat, points in latency.items() if timestamp in points}
        percentiles = {float(_PERCENTILE.match(s).group(1)): v / 1e6 for s, v in stats.items() if _PERCENTILE.match(s)}
        mean = stats["Average"] / 1e6 if "Average" in stats else None
        if requests <= 0 or (not percentiles and mean is None):
            skipped += 1
            continue
        instances = requests / per_instance[timestamp] if per_instance.get(timestamp) else None
        periods.append(Period(timestamp, period_s, requests, percentiles, mean, instances,
                              cpu_utilization_pct=cpu.get(timestamp)))
    if not periods:
        raise InputError.single(where, "no period with traffic and latency (every Invocations datapoint is 0, "
                                       "or no ModelLatency datapoint shares a timestamp with one)")
    stats = sorted({s for s in latency} | {f"{m} {s}" for (m, s) in series.values if m != "ModelLatency"})
    notes = [f"CloudWatch {', '.join(stats)}; {len(periods)} periods of {period_s:g} s with traffic, "
             f"{periods[0].label} .. {periods[-1].label}"]
    if skipped:
        notes.append(f"{skipped} period(s) without traffic or latency left out")
    cpu_values = [p.cpu_utilization_pct for p in periods if p.cpu_utilization_pct is not None]
    if cpu_values:
        notes.append(f"CPUUtilization {min(cpu_values):.4g} .. {max(cpu_values):.4g} % over the periods (reported, "
                     "not fitted: cpu_cores_per_busy_worker stays an assumption)")
    if ignored:
        notes.append(f"not used: {', '.join(sorted(set(ignored)))}")
    return Observations(sources=tuple(read), latency="model", periods=tuple(periods), notes=tuple(notes))
