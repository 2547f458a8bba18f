"""Stored datapoints as CloudWatch Embedded Metric Format log lines (`--output emf`, `RunMetrics.to_emf`).

EMF is the JSON log-event format CloudWatch Logs turns into metrics [EMF]. Each stored datapoint's
value distribution is written out as its raw values (each stored value repeated by its count), so
ingesting the lines would give CloudWatch the same samples, hence the same statistics, as the run
stored. Rules followed [EMF]:

* every event is one JSON object on one line with `_aws = {Timestamp, CloudWatchMetrics}`;
  Timestamp is the start of the datapoint's period in epoch milliseconds;
* one MetricDirective per event: Namespace, one DimensionSet (the stream's dimension names, 0–30,
  each a root member holding the string value), and at most 100 MetricDefinitions
  `{Name, Unit[, StorageResolution: 1 when the stored period is under 60 s]}`;
* each metric member is an array of at most 100 numbers; a datapoint with more samples is split
  across consecutive events with the same timestamp and dimensions;
* metrics sharing timestamp, namespace, dimensions and resolution share events.

Histogram datapoints (more than 150 distinct values) are written as their bucket representatives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import numpy as np

from simfleet.query.store import RunStore

__all__ = ["MAX_VALUES_PER_MEMBER", "MAX_METRICS_PER_DIRECTIVE", "emf_events", "to_emf"]

MAX_VALUES_PER_MEMBER = 100
MAX_METRICS_PER_DIRECTIVE = 100


def emf_events(store: RunStore, rows: Iterable[int]) -> Iterator[dict]:
    """EMF events (dicts) for the stored datapoints `rows`, ordered by timestamp, namespace, dimensions."""
    stream_of = {}
    for stream in store.streams:
        for row in stream.rows:
            stream_of[int(row)] = stream
    groups: dict[tuple, list[int]] = {}
    for row in sorted(set(int(r) for r in rows),
                      key=lambda r: (store.timestamps_ms[r], stream_of[r].namespace, stream_of[r].dimensions,
                                     stream_of[r].metric_name)):
        stream = stream_of[row]
        key = (int(store.timestamps_ms[row]), stream.namespace, stream.dimensions, bool(store.period_s[row] < 60))
        groups.setdefault(key, []).append(row)
    for (timestamp, namespace, dimensions, high_resolution), members in groups.items():
        dimension_names = {name for name, _ in dimensions}
        batches: list[list[int]] = []
        for row in members:           # a metric appears once per event
            name = stream_of[row].metric_name
            if name in dimension_names:
                raise ValueError(f"metric {name!r} has the name of one of its dimensions; EMF cannot express it")
            target = next((b for b in batches if len(b) < MAX_METRICS_PER_DIRECTIVE
                           and all(stream_of[r].metric_name != name for r in b)), None)
            if target is None:
                batches.append([row])
            else:
                target.append(row)
        for batch in batches:
            yield from _batch_events(store, stream_of, batch, timestamp, namespace, dimensions, high_resolution)


def _batch_events(store, stream_of, batch, timestamp, namespace, dimensions, high_resolution) -> Iterator[dict]:
    samples = {}
    for row in batch:
        values, counts = store.stored_values(row)
        samples[row] = np.repeat(values, counts)
    events = max(-(-len(s) // MAX_VALUES_PER_MEMBER) for s in samples.values())
    for part in range(events):
        definitions, members = [], {}
        for row in batch:
            chunk = samples[row][part * MAX_VALUES_PER_MEMBER:(part + 1) * MAX_VALUES_PER_MEMBER]
            if len(chunk) == 0:
                continue
            name = stream_of[row].metric_name
            definition = {"Name": name, "Unit": str(store.units[row])}
            if high_resolution:
                definition["StorageResolution"] = 1
            definitions.append(definition)
            members[name] = [float(v) for v in chunk]
        event = {"_aws": {"Timestamp": timestamp,
                          "CloudWatchMetrics": [{"Namespace": namespace,
                                                 "Dimensions": [[name for name, _ in dimensions]],
                                                 "Metrics": definitions}]}}
        event.update({name: value for name, value in dimensions})
        event.update(members)
        yield event


def to_emf(store: RunStore, rows: Iterable[int]) -> Iterator[str]:
    """One compact JSON line per EMF event."""
    for event in emf_events(store, rows):
        yield json.dumps(event, separators=(",", ":"), allow_nan=False)
