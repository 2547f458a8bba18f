"""Which reader reads which SOURCE file, and all of them merged into one `Observations`.

By content, not by name: JSON with `MetricDataResults` or `Datapoints` (or a list of
`MetricDataQueries`) is a CloudWatch export, JSON with `JobName` and `InferenceRecommendations`
an Inference Recommender response; a CSV with Locust's columns is a Locust file; any other CSV,
or a Parquet file, is a request log. CloudWatch files are read together (queries beside results,
several statistics in several files), so are Locust files.
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from simfleet.calibration import cloudwatch_export, locust_csv, recommender_response, request_log
from simfleet.calibration.observations import Observations, merge
from simfleet.errors import InputError
from simfleet.input_files import file_problem

__all__ = ["read_sources", "CsvHeader", "looks_like_source", "check_source"]


@dataclass(frozen=True)
class CsvHeader:
    """The first line of a CSV file, for recognising a Locust file without reading the rest."""

    columns: tuple[str, ...]

    @classmethod
    def of(cls, path: Path) -> "CsvHeader":
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                return cls(tuple(next(csv.reader(handle), [])))
        except (OSError, UnicodeDecodeError):
            return cls(())


def looks_like_source(suffix: str, document) -> bool:
    """A CloudWatch response JSON or a Locust CSV (`simfleet validate` recognises calibrate's inputs)."""
    if suffix == ".json":
        return cloudwatch_export.is_get_metric_data(document) or cloudwatch_export.is_get_metric_statistics(document)
    if suffix == ".csv" and isinstance(document, CsvHeader):
        return locust_csv.locust_kind(list(document.columns)) in ("stats", "history")
    return False


def check_source(path: Path) -> str:
    """Read `path` as calibrate would, alone; a get-metric-data response needs its queries to be read
    in full, so alone its shape is checked (results with Id, Timestamps and Values of one length)."""
    from simfleet.input_files import parse_json, read_input_text

    text = read_input_text(path, "calibration source", encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        observations = locust_csv.read_locust([(str(path), text)])
        return f"Locust, {len(observations.periods)} period(s) with traffic"
    data = parse_json(text, path)
    _refuse_non_finite(data, path, "")
    if not isinstance(data, dict):
        raise InputError.single(path, f"expected a JSON object (a CloudWatch response), got {type(data).__name__}")
    if cloudwatch_export.is_get_metric_statistics(data):
        observations = cloudwatch_export.read_cloudwatch([(str(path), data)])
        return f"CloudWatch get-metric-statistics, {len(observations.periods)} period(s) with traffic"
    results = data.get("MetricDataResults")
    if not isinstance(results, list) or not results:
        raise InputError.single(path, "empty: the export holds no results", key="MetricDataResults")
    for index, result in enumerate(results):
        key = f"MetricDataResults[{index}]"
        if not isinstance(result, dict) or not isinstance(result.get("Id"), str):
            raise InputError.single(path, "expected an object with an Id (a string)", key=key)
        timestamps, values = result.get("Timestamps", []), result.get("Values", [])
        if not isinstance(timestamps, list) or not isinstance(values, list):
            raise InputError.single(path, "Timestamps and Values must be lists", key=key)
        if len(timestamps) != len(values):
            raise InputError.single(path, "Timestamps and Values differ in length", key=key)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise InputError.single(path, "Values must be finite numbers", key=key + ".Values")
        if not all(isinstance(t, str) for t in timestamps):
            raise InputError.single(path, "Timestamps must be ISO 8601 strings", key=key + ".Timestamps")
        cloudwatch_export.check_result(str(path), key, result)
    return f"CloudWatch get-metric-data, {len(results)} results (calibrate reads them with their queries)"


def _refuse_non_finite(value, path: Path, key: str) -> None:
    """A NaN or an infinity anywhere in an export (Python's JSON reader takes them; JSON has none), or
    an integer past the float range (read exactly by Python, it overflows every float conversion)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError.single(path, f"{value} is not a JSON number (an export holds finite numbers only)",
                                key=key)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        raise InputError.single(path, f"a {len(str(abs(value)))}-digit integer is past the float range "
                                "(an export holds floats)", key=key)
    if isinstance(value, dict):
        for name, item in value.items():
            _refuse_non_finite(item, path, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_non_finite(item, path, f"{key}[{index}]")


def read_sources(paths: list[Path], instance_type: str, period_s: float = 60.0) -> Observations:
    cloudwatch: list[tuple[str, object]] = []
    locust: list[tuple[str, str]] = []
    parts: list[Observations] = []
    for path in paths:
        problem = file_problem(path, "file")
        if problem is not None:  # no such file, a folder, a name too long for the system, ...
            raise InputError.single(path, problem)
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            parts.append(request_log.read_request_log(path, period_s))
            continue
        from simfleet.input_files import parse_json, read_input_text

        text = read_input_text(path, "calibration source")
        if suffix == ".json" or text.lstrip().startswith(("{", "[")):
            data = parse_json(text, path)
            _refuse_non_finite(data, path, "")
            if recommender_response.is_recommendations_job(data):
                parts.append(recommender_response.read_recommendations(str(path), data, instance_type))
            elif (cloudwatch_export.is_get_metric_data(data) or cloudwatch_export.is_get_metric_statistics(data)
                  or cloudwatch_export.is_queries(data)):
                cloudwatch.append((str(path), data))
            else:
                raise InputError.single(path, "not a source calibrate reads (expected a CloudWatch get-metric-data "
                                              "or get-metric-statistics response, its MetricDataQueries, or a "
                                              "DescribeInferenceRecommendationsJob response)")
            continue
        header = text.splitlines()[0] if text else ""
        if locust_csv.locust_kind(next(csv.reader([header]), [])) is not None:
            locust.append((str(path), text))
        else:
            parts.append(request_log.read_request_log(path, period_s))
    if cloudwatch:
        if not any(cloudwatch_export.is_get_metric_data(d) or cloudwatch_export.is_get_metric_statistics(d)
                   for _, d in cloudwatch):
            raise InputError.single(cloudwatch[0][0], "MetricDataQueries without their results: give the "
                                                      "get-metric-data response too")
        parts.append(cloudwatch_export.read_cloudwatch(cloudwatch))
    if locust:
        parts.append(locust_csv.read_locust(locust))
    try:
        return merge(parts)
    except ValueError as error:
        raise InputError.single(", ".join(str(p) for p in paths), str(error)) from None
