"""The CloudWatch API's input shapes for ListMetrics, GetMetricStatistics and GetMetricData, and a checker.

The first gate of every query (`requests.py` calls it): a request dict spelled as the CloudWatch API
spells it is checked against the operation's input shape — member names, required members, types,
string lengths and patterns, list sizes, enumerations — as written in the CloudWatch service model
[CW-API]. A test keeps `INPUT_SHAPES` equal to botocore's model; unlike botocore's client-side
validator, maxima, patterns and enumerations are checked too (CloudWatch checks them server-side).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from simfleet.cloudwatch.statistics import BASIC_STATISTICS
from simfleet.query.timestamps import parse_timestamp

__all__ = ["StringShape", "IntegerShape", "BooleanShape", "TimestampShape", "ListShape", "StructureShape",
           "INPUT_SHAPES", "STANDARD_UNITS", "check_shape"]

STANDARD_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)


@dataclass(frozen=True)
class StringShape:
    min: int | None = None
    max: int | None = None
    enum: tuple[str, ...] = ()
    pattern: str | None = None


@dataclass(frozen=True)
class IntegerShape:
    min: int | None = None


@dataclass(frozen=True)
class BooleanShape:
    pass


@dataclass(frozen=True)
class TimestampShape:
    pass


@dataclass(frozen=True)
class ListShape:
    member: object
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class StructureShape:
    members: Mapping[str, object]
    required: tuple[str, ...] = ()


_NAMESPACE = StringShape(1, 255, pattern="[^:].*")
_METRIC_NAME = StringShape(1, 255)
_DIMENSION_NAME = StringShape(1, 255)
_DIMENSION_VALUE = StringShape(1, 1024)
_DIMENSIONS = ListShape(StructureShape({"Name": _DIMENSION_NAME, "Value": _DIMENSION_VALUE}, ("Name", "Value")),
                        max=30)
_UNIT = StringShape(enum=STANDARD_UNITS)
_PERIOD = IntegerShape(1)
_METRIC = StructureShape({"Namespace": _NAMESPACE, "MetricName": _METRIC_NAME, "Dimensions": _DIMENSIONS})
_METRIC_DATA_QUERY = StructureShape({
    "Id": StringShape(1, 255),
    "MetricStat": StructureShape({"Metric": _METRIC, "Period": _PERIOD, "Stat": StringShape(), "Unit": _UNIT},
                                 ("Metric", "Period", "Stat")),
    "Expression": StringShape(1, 2048),
    "Label": StringShape(),
    "ReturnData": BooleanShape(),
    "Period": _PERIOD,
    "AccountId": StringShape(1, 255),
}, ("Id",))

INPUT_SHAPES: dict[str, StructureShape] = {
    "ListMetrics": StructureShape({
        "Namespace": _NAMESPACE,
        "MetricName": _METRIC_NAME,
        "Dimensions": ListShape(StructureShape({"Name": _DIMENSION_NAME, "Value": _DIMENSION_VALUE}, ("Name",)),
                                max=10),
        "NextToken": StringShape(),
        "RecentlyActive": StringShape(enum=("PT3H",)),
        "IncludeLinkedAccounts": BooleanShape(),
        "OwningAccount": StringShape(1, 255),
    }),
    "GetMetricStatistics": StructureShape({
        "Namespace": _NAMESPACE,
        "MetricName": _METRIC_NAME,
        "Dimensions": _DIMENSIONS,
        "StartTime": TimestampShape(),
        "EndTime": TimestampShape(),
        "Period": _PERIOD,
        "Statistics": ListShape(StringShape(enum=BASIC_STATISTICS), 1, 5),
        "ExtendedStatistics": ListShape(StringShape(), 1, 10),
        "Unit": _UNIT,
    }, ("Namespace", "MetricName", "StartTime", "EndTime", "Period")),
    "GetMetricData": StructureShape({
        "MetricDataQueries": ListShape(_METRIC_DATA_QUERY),
        "StartTime": TimestampShape(),
        "EndTime": TimestampShape(),
        "NextToken": StringShape(),
        "ScanBy": StringShape(enum=("TimestampDescending", "TimestampAscending")),
        "MaxDatapoints": IntegerShape(),
        "LabelOptions": StructureShape({"Timezone": StringShape()}),
    }, ("MetricDataQueries", "StartTime", "EndTime")),
}


def check_shape(value, shape, path: str, problems: list[tuple[str, str]]) -> None:
    """Append (path, message) problems for `value` against `shape` (botocore-like checks plus enums)."""
    def bad(message: str) -> None:
        problems.append((path, message))

    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return bad(f"expected an object with members {', '.join(shape.members)}, got {_show(value)}")
        for name in shape.required:
            if name not in value:
                problems.append((_join(path, name), "missing required parameter"))
        for name, member in value.items():
            if name not in shape.members:
                problems.append((_join(path, str(name)),
                                 f"unknown parameter (expected one of: {', '.join(shape.members)})"))
            else:
                check_shape(member, shape.members[name], _join(path, name), problems)
    elif isinstance(shape, ListShape):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            return bad(f"expected a list, got {_show(value)}")
        if shape.min is not None and len(value) < shape.min:
            bad(f"needs at least {shape.min} item{'s' if shape.min > 1 else ''}, got {len(value)}")
        if shape.max is not None and len(value) > shape.max:
            bad(f"takes at most {shape.max} items, got {len(value)}")
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{i}]", problems)
    elif isinstance(shape, StringShape):
        if not isinstance(value, str):
            return bad(f"expected a string, got {_show(value)}")
        if shape.min is not None and len(value) < shape.min:
            bad(f"must be at least {shape.min} character{'s' if shape.min > 1 else ''} long")
        if shape.max is not None and len(value) > shape.max:
            bad(f"must be at most {shape.max} characters long, got {len(value)}")
        if shape.enum and value not in shape.enum:
            bad(f"{value!r} is not one of: {', '.join(shape.enum)}")
        if shape.pattern and value and not re.fullmatch(shape.pattern, value, re.DOTALL):
            bad(f"{value!r} does not match the pattern {shape.pattern}")
    elif isinstance(shape, IntegerShape):
        if isinstance(value, bool) or not isinstance(value, int):
            return bad(f"expected an integer, got {_show(value)}")
        if shape.min is not None and value < shape.min:
            bad(f"must be at least {shape.min}, got {value}")
    elif isinstance(shape, BooleanShape):
        if not isinstance(value, bool):
            bad(f"expected true or false, got {_show(value)}")
    elif isinstance(shape, TimestampShape):
        try:
            parse_timestamp(value)
        except ValueError as error:
            bad(str(error))
    else:  # pragma: no cover - the shapes above are all there is
        raise TypeError(shape)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
