"""Streaming aggregation of raw metric values into CloudWatch datapoints, period by period.

The engine hands over each dispatched batch; a request's values belong to the period in which
its response is sent. When simulated time reaches a period's end every request answered in it
has been dispatched (responses come after arrivals), so the period is closed: its datapoints
are computed from the raw values and the values are dropped. Memory is therefore bounded by one
period of requests, not by the length of the run.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simfleet.engine.records import RequestRecords
from simfleet.fleet import Fleet
from simfleet.metrics.emission import (ENDPOINT_NAMESPACE, INVOCATION_NAMESPACE, request_values,
                                       utilization_values)
from simfleet.metrics.schema import DIMENSIONS, STAT_COLUMNS, percentile_column
from simfleet.metrics.statistics import summarize

__all__ = ["MetricsAggregator", "DatapointBuffer"]


class DatapointBuffer:
    """Datapoint rows collected column by column, handed to a writer in chunks."""

    def __init__(self, percentiles: list[float]):
        self.percentile_columns = [percentile_column(p) for p in percentiles]
        self.columns = (["timestamp", "period_s", "namespace", "metric_name", "unit", *DIMENSIONS,
                         *STAT_COLUMNS, *self.percentile_columns])
        self.clear()

    def clear(self) -> None:
        self.data: dict[str, list] = {name: [] for name in self.columns}

    def __len__(self) -> int:
        return len(self.data["timestamp"])

    def add(self, timestamp, period_s, namespace, metric, unit, dimensions: dict, stats) -> None:
        count, total, minimum, maximum, average, percentiles = stats
        row = {"timestamp": timestamp, "period_s": period_s, "namespace": namespace,
               "metric_name": metric, "unit": unit, "sample_count": count, "sum": total,
               "minimum": minimum, "maximum": maximum, "average": average}
        row.update(zip(self.percentile_columns, percentiles))
        for name in DIMENSIONS:
            row[name] = dimensions.get(name)
        for name, value in row.items():
            self.data[name].append(value)


class MetricsAggregator:
    """Turns request records and instance busy time into datapoints at each period's end."""

    def __init__(self, fleet: Fleet, period_s: float, percentiles: list[float], start: dt.datetime):
        self.fleet = fleet
        self.period_s = period_s
        self.percentiles = list(percentiles)
        self.start = start
        self.buffer = DatapointBuffer(percentiles)
        self._pending: list[RequestRecords] = []
        self._busy_before: np.ndarray = np.zeros(0)

    def add(self, records: RequestRecords) -> None:
        if len(records):
            self._pending.append(records)

    def close_period(self, index: int, busy_integral: np.ndarray, instance_variant: np.ndarray,
                     in_service: np.ndarray) -> None:
        """Emit the datapoints of period `index` ([index·P, (index+1)·P) from the start)."""
        end_s = (index + 1) * self.period_s
        timestamp = self.start + dt.timedelta(seconds=index * self.period_s)
        period = int(self.period_s)
        self._emit_requests(end_s, timestamp, period)
        self._emit_instances(busy_integral, instance_variant, in_service, timestamp, period)

    def _emit_requests(self, end_s: float, timestamp, period: int) -> None:
        if not self._pending:
            return
        records = RequestRecords.concat(self._pending)
        answered = records.response_s < end_s
        closed, rest = records.select(answered), records.select(~answered)
        self._pending = [rest] if len(rest) else []
        if not len(closed):
            return
        for index, mine in closed.by_variant(len(self.fleet.variants)):
            variant = self.fleet.variants[index]
            dims = {"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name}
            for metric, unit, values in request_values(mine, variant):
                if len(values):
                    self.buffer.add(timestamp, period, INVOCATION_NAMESPACE, metric, unit, dims,
                                    summarize(values, self.percentiles))

    def _emit_instances(self, busy_integral, instance_variant, in_service, timestamp, period: int) -> None:
        before = np.zeros(len(busy_integral))
        before[: len(self._busy_before)] = self._busy_before
        busy_workers = (busy_integral - before) / self.period_s
        self._busy_before = busy_integral
        for variant in self.fleet.variants:
            members = np.flatnonzero((instance_variant == variant.index) & in_service)
            if not len(members):
                continue
            dims = {"EndpointName": variant.endpoint_name, "VariantName": variant.variant_name}
            for metric, unit, values in utilization_values(variant, busy_workers[members]):
                self.buffer.add(timestamp, period, ENDPOINT_NAMESPACE, metric, unit, dims,
                                summarize(values, self.percentiles))

    def pending_requests(self) -> RequestRecords:
        """Requests dispatched but answered after the last closed period (in flight at the end)."""
        return RequestRecords.concat(self._pending) if self._pending else RequestRecords.empty()
