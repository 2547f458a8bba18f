"""Querying a run like CloudWatch: ListMetrics, GetMetricStatistics, GetMetricData, EMF and CSV.

Data flow: `store` (a run directory's stored datapoints and distributions) → `shapes` + `requests`
(CloudWatch request parameters checked against the API's input shapes and rules; `timestamps`
reads and writes times) → `operations` (streams found, `rebucket`-ed into the query period) →
`responses` (AWS JSON) / `tables` (DataFrames, CSV) / `emf` (log lines). `run_metrics.RunMetrics`
is the Python API and `cli` the `simfleet metrics` command.
"""

# Imported on first use (PEP 562): `simfleet metrics` registers its command without loading the
# query engine (numpy, pyarrow, the store), so `simfleet --help` stays fast.
_LAZY = {
    "emf_events": "simfleet.query.emf", "to_emf": "simfleet.query.emf",
    "DataResult": "simfleet.query.operations", "ListResult": "simfleet.query.operations",
    "SeriesResult": "simfleet.query.operations", "StatisticsResult": "simfleet.query.operations",
    "OPERATIONS": "simfleet.query.run_metrics", "QueryAnswer": "simfleet.query.run_metrics",
    "RunMetrics": "simfleet.query.run_metrics",
    "INPUT_SHAPES": "simfleet.query.shapes",
    "MetricStream": "simfleet.query.store", "RunStore": "simfleet.query.store",
    "iso_timestamp": "simfleet.query.timestamps", "parse_timestamp": "simfleet.query.timestamps",
}

__all__ = ["RunMetrics", "QueryAnswer", "OPERATIONS", "RunStore", "MetricStream", "StatisticsResult",
           "SeriesResult", "DataResult", "ListResult", "INPUT_SHAPES", "parse_timestamp", "iso_timestamp",
           "to_emf", "emf_events"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
