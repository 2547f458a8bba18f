"""Query results shaped as the CloudWatch API's JSON responses [CW-API].

The last step of `simfleet metrics … --output json` and `RunMetrics.call`: results from
`operations.py` become the dicts the AWS CLI prints for ListMetrics, GetMetricStatistics and
GetMetricData, as boto3's `cloudwatch` client returns them: timestamps are timezone-aware
`datetime`s in UTC (botocore parses the service's timestamps into `datetime`s with `tzutc()`),
numbers are plain floats, members CloudWatch leaves out when empty (NextToken) are left out, so
every response validates against the CloudWatch service model's output shapes (a test checks that
with botocore) and code written against boto3 runs unchanged. `to_json` writes a response as the
AWS CLI prints it, timestamps as ISO 8601 strings ending in `Z`.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from simfleet.query.operations import DataResult, ListResult, StatisticsResult
from simfleet.query.timestamps import iso_timestamp, parse_timestamp

__all__ = ["list_metrics_response", "metric_statistics_response", "metric_data_response", "to_json"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _moment(epoch_ms: int) -> dt.datetime:
    """A response timestamp: an aware `datetime` in UTC, as botocore returns one."""
    return _EPOCH + dt.timedelta(milliseconds=int(epoch_ms))


def _json_default(value):
    if isinstance(value, dt.datetime):
        return iso_timestamp(parse_timestamp(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(response: dict, indent: int | None = 4) -> str:
    """A response as the AWS CLI prints it: timestamps as `2026-01-05T09:00:00Z`."""
    return json.dumps(response, indent=indent, default=_json_default)

def list_metrics_response(result: ListResult) -> dict:
    response = {"Metrics": [
        {"Namespace": s.namespace, "MetricName": s.metric_name,
         "Dimensions": [{"Name": name, "Value": value} for name, value in s.dimensions]}
        for s in result.streams]}
    if result.next_token:
        response["NextToken"] = result.next_token
    return response


def metric_statistics_response(result: StatisticsResult) -> dict:
    """Datapoints in ascending time order, each with only the requested statistics."""
    datapoints = []
    for i, timestamp in enumerate(result.timestamps_ms):
        point: dict = {"Timestamp": _moment(timestamp)}
        for name in result.statistics:
            value = result.values[name][i]
            if not np.isnan(value):
                point[name] = float(value)
        if result.unit is not None:
            point["Unit"] = result.unit
        if result.extended:
            point["ExtendedStatistics"] = {name: float(result.values[name][i]) for name in result.extended
                                           if not np.isnan(result.values[name][i])}
        datapoints.append(point)
    return {"Label": result.label, "Datapoints": datapoints}


def metric_data_response(result: DataResult) -> dict:
    response: dict = {"MetricDataResults": [
        {"Id": s.id, "Label": s.label,
         "Timestamps": [_moment(t) for t in s.timestamps_ms],
         "Values": [float(v) for v in s.values],
         "StatusCode": s.status,
         "Messages": []}
        for s in result.results]}
    if result.next_token:
        response["NextToken"] = result.next_token
    response["Messages"] = []
    return response
