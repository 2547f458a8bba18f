"""Querying a run like CloudWatch: ListMetrics, GetMetricStatistics, GetMetricData, EMF and CSV.

Data flow: `store` (a run directory's stored datapoints and distributions) → `shapes` + `requests`
(CloudWatch request parameters checked against the API's input shapes and rules; `timestamps`
reads and writes times) → `operations` (streams found, `rebucket`-ed into the query period) →
`responses` (AWS JSON) / `tables` (DataFrames, CSV) / `emf` (log lines). `run_metrics.RunMetrics`
is the Python API and `cli` the `simfleet metrics` command.
"""

from simfleet.query.emf import emf_events, to_emf
from simfleet.query.operations import DataResult, ListResult, SeriesResult, StatisticsResult
from simfleet.query.run_metrics import OPERATIONS, QueryAnswer, RunMetrics
from simfleet.query.shapes import INPUT_SHAPES
from simfleet.query.store import MetricStream, RunStore
from simfleet.query.timestamps import iso_timestamp, parse_timestamp

__all__ = ["RunMetrics", "QueryAnswer", "OPERATIONS", "RunStore", "MetricStream", "StatisticsResult",
           "SeriesResult", "DataResult", "ListResult", "INPUT_SHAPES", "parse_timestamp", "iso_timestamp",
           "to_emf", "emf_events"]
