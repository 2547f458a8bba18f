"""The value an alarm sees each period: published datapoints of one stream, aggregated like CloudWatch.

A `MetricWatch` receives every datapoint of its stream as it is published (the `Distribution`
behind it and its period start) and, when an alarm period ends, merges the datapoints whose
timestamps fall in that period and evaluates the alarm's statistic on the merged values, so a
60 s Sum read from six 10 s datapoints equals the Sum CloudWatch would compute over the
minute, and a percentile is taken over the raw values, never averaged. No datapoint in the
period gives None: missing data.
"""

from __future__ import annotations

from simfleet.autoscaling.metric_sources import WatchSpec
from simfleet.cloudwatch.distribution import Distribution
from simfleet.cloudwatch.statistics import parse_statistic

__all__ = ["MetricWatch"]


class MetricWatch:
    """Datapoints of one stream, consumed one alarm period at a time."""

    def __init__(self, spec: WatchSpec):
        self.spec = spec
        self.statistic = parse_statistic(spec.statistic)
        self._parts: list[tuple[float, Distribution]] = []
        self.last: Distribution | None = None  # the merged values of the period `value` last evaluated

    def add(self, start_s: float, dist: Distribution) -> None:
        """A datapoint whose period starts `start_s` seconds after the run start."""
        self._parts.append((start_s, dist))

    def value(self, end_s: float) -> float | None:
        """The statistic over the datapoints of [end_s - period, end_s); forgets them and older ones."""
        begin = end_s - self.spec.period_s
        inside = [dist for start, dist in self._parts if begin <= start < end_s]
        self._parts = [(start, dist) for start, dist in self._parts if start >= end_s]
        self.last = Distribution.merge(inside) if inside else None
        return None if self.last is None else self.statistic.evaluate(self.last)
