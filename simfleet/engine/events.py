"""The control-plane event log behind `events.parquet`: launches, state changes, traffic changes.

Each event's `detail` is typed JSON: its members are checked against `event_details.EVENT_DETAILS`
as the event is logged, so an undocumented kind or member, or a stringified number, fails the run
that logs it (and the test that runs it) instead of reaching a file.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from simfleet.engine.event_details import detail_problems

__all__ = ["EventLog", "EVENTS_SCHEMA"]

EVENTS_SCHEMA = pa.schema([
    pa.field("timestamp", pa.timestamp("ms", tz="UTC"), nullable=False),
    pa.field("time_s", pa.float64(), nullable=False),
    pa.field("event", pa.string(), nullable=False),
    pa.field("EndpointName", pa.string()),
    pa.field("VariantName", pa.string()),
    pa.field("InstanceId", pa.string()),
    pa.field("detail", pa.string(), nullable=False),
])


class EventLog:
    """Events in the order they happen (SimPy's order for simultaneous ones)."""

    def __init__(self, start: dt.datetime):
        self.start = start
        self.rows: list[dict] = []

    def add(self, time_s: float, event: str, endpoint: str | None = None, variant: str | None = None,
            instance: str | None = None, **detail) -> None:
        problems = detail_problems(event, detail)
        if problems:
            raise ValueError(f"event detail not as documented in simfleet/engine/event_details.py: {'; '.join(problems)}")
        self.rows.append({
            "timestamp": self.start + dt.timedelta(seconds=time_s), "time_s": float(time_s),
            "event": event, "EndpointName": endpoint, "VariantName": variant, "InstanceId": instance,
            "detail": json.dumps(detail, sort_keys=True),
        })

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=EVENTS_SCHEMA)
