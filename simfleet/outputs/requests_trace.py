"""`requests.parquet`: one row per simulated request, streamed in chunks (opt-in).

Column names say what a number is: `*_at_s` are instants, seconds from the run's start
(`arrival_at_s`, `start_at_s`, `response_at_s`: when the client got its answer, `complete_at_s`);
the other `*_s` are durations in seconds. Each field's metadata says the same (`kind`: instant,
duration, size, label or index; `unit`). Strings with few values are dictionary-encoded and the
schema metadata carries the run's provenance (`file_form`).

`start_at_s` and `queue_wait_s` are those of a request's first container; `complete_at_s` is when its
last container finished it; `ContainerName` the container its TargetContainerHostname named (a
direct-invocation endpoint's), null for none; `source` the index of the traffic source that sent it.
Serverless variants: `setup_s` is the cold start the request waited for (in `overhead_latency_s`
too; 0 when warm), `environment` the kind of environment that served it, written as `status` is,
by name (`emission.ENVIRONMENT_NAMES`: Warm, Cold, Provisioned, SpilloverWarm, SpilloverCold);
every request of an instance-based variant, and one no environment took, has 0 and "None".
Multi-model variants: `model` is the request's TargetModel (its name in the population; an unknown
one keeps the code's place as "#<code>"), `cache` "Hit" or "Miss" (`emission.CACHE_NAMES`), and
`setup_s` its wait for the model (ModelLoadingWaitTime); both null for other requests and for a
request that reached no cache.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from simfleet.request_records import RequestRecords
from simfleet.fleet import Fleet, instance_id
from simfleet.metrics.emission import CACHE_NAMES, ENVIRONMENT_NAMES, STATUS_NAMES, error_class
from simfleet.outputs.atomic import StreamingParquet
from simfleet.outputs.file_form import file_schema

__all__ = ["RequestTrace", "REQUESTS_SCHEMA"]


def _field(name: str, type_: pa.DataType, kind: str, unit: str = "", nullable: bool = True) -> pa.Field:
    """A column with what it is in its field metadata: `kind` (instant, duration, size, label,
    index) and `unit` (`s`: seconds; instants `*_at_s` are seconds from the run's start)."""
    meta = {"kind": kind, **({"unit": unit} if unit else {})}
    return pa.field(name, type_, nullable=nullable, metadata=meta)


_SECONDS = pa.float64()

REQUESTS_SCHEMA = pa.schema([
    _field("timestamp", pa.timestamp("us", tz="UTC"), "instant", nullable=False),   # the arrival, in UTC
    _field("arrival_at_s", _SECONDS, "instant", "s", nullable=False),
    _field("EndpointName", pa.string(), "label", nullable=False),
    _field("VariantName", pa.string(), "label", nullable=False),
    _field("InstanceId", pa.string(), "label"),
    _field("status", pa.string(), "label", nullable=False),
    _field("error_class", pa.string(), "label"),
    _field("payload_bytes", pa.float64(), "size", "bytes", nullable=False),
    _field("service_s", _SECONDS, "duration", "s", nullable=False),
    _field("start_at_s", _SECONDS, "instant", "s", nullable=False),
    _field("queue_wait_s", _SECONDS, "duration", "s", nullable=False),
    _field("model_latency_s", _SECONDS, "duration", "s", nullable=False),
    _field("overhead_latency_s", _SECONDS, "duration", "s", nullable=False),
    _field("response_at_s", _SECONDS, "instant", "s", nullable=False),
    _field("complete_at_s", _SECONDS, "instant", "s", nullable=False),
    _field("ContainerName", pa.string(), "label"),
    _field("source", pa.int16(), "index", nullable=False),
    _field("setup_s", _SECONDS, "duration", "s", nullable=False),
    _field("environment", pa.string(), "label", nullable=False),
    _field("model", pa.string(), "label"),
    _field("cache", pa.string(), "label"),
])

CHUNK_ROWS = 1 << 18


class RequestTrace:
    """A sink for `simulate(requests_sink=...)` that streams rows into `requests.parquet`."""

    def __init__(self, final: Path, fleet: Fleet, start: dt.datetime, metadata: dict[bytes, bytes] | None = None):
        """`metadata`: the run's provenance (`file_form.provenance`), added to the file's schema."""
        self.file = StreamingParquet(final, file_schema(REQUESTS_SCHEMA, metadata))
        self.fleet = fleet
        self.start_us = int(start.timestamp() * 1e6)
        self._pending: list[RequestRecords] = []
        self._rows = 0

    def __call__(self, records: RequestRecords) -> None:
        self._pending.append(records)
        self._rows += len(records)
        if self._rows >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        records = RequestRecords.concat(self._pending)
        self._pending, self._rows = [], 0
        endpoints = np.array([v.endpoint_name for v in self.fleet.variants], dtype=object)
        variants = np.array([v.variant_name for v in self.fleet.variants], dtype=object)
        ids = np.array([None] + [instance_id(i + 1) for i in range(int(records.instance.max()) + 1)], dtype=object)
        classes = np.full(len(records), None, dtype=object)
        for variant in self.fleet.variants:
            mask = records.variant == variant.index
            is_4xx, is_5xx = error_class(records.status[mask], variant)
            classes[np.flatnonzero(mask)[is_4xx]] = "4XX"
            classes[np.flatnonzero(mask)[is_5xx]] = "5XX"
        containers = np.full(len(records), None, dtype=object)
        for variant in self.fleet.variants:
            mask = (records.variant == variant.index) & (records.container >= 0) \
                & (records.container < len(variant.containers))
            if mask.any():
                containers[mask] = np.array(variant.hostnames, dtype=object)[records.container[mask]]
        names = np.array([STATUS_NAMES[code] for code in range(len(STATUS_NAMES))], dtype=object)
        reached = records.instance >= 0
        environments = np.array([ENVIRONMENT_NAMES.get(code, str(code)) for code in range(max(ENVIRONMENT_NAMES) + 1)],
                                dtype=object)
        environment = records.environment if records.environment is not None else np.zeros(len(records), np.int8)
        table = pa.table({
            "timestamp": pa.array(self.start_us + np.round(records.arrival_s * 1e6).astype(np.int64),
                                  pa.timestamp("us", tz="UTC")),
            "arrival_at_s": records.arrival_s,
            "EndpointName": endpoints[records.variant],
            "VariantName": variants[records.variant],
            "InstanceId": ids[records.instance + 1],
            "status": names[records.status],
            "error_class": classes,
            "payload_bytes": records.payload_bytes,
            "service_s": records.service_s,
            "start_at_s": records.start_s,
            "queue_wait_s": np.where(reached, records.start_s - records.arrival_s, 0.0),
            "model_latency_s": records.model_latency_s,
            "overhead_latency_s": records.overhead_s,
            "response_at_s": records.response_s,
            "complete_at_s": records.complete_s,
            "ContainerName": containers,
            "source": records.source,
            "setup_s": records.setup_s if records.setup_s is not None else np.zeros(len(records)),
            "environment": environments[environment],
            "model": self._models(records),
            "cache": self._caches(records),
        }, schema=REQUESTS_SCHEMA)
        self.file.write(table.cast(self.file.schema))

    def _models(self, records: RequestRecords) -> np.ndarray:
        """Each request's TargetModel name (null: not a multi-model request, or no model named)."""
        out = np.full(len(records), None, dtype=object)
        if records.model is None:
            return out
        for variant in self.fleet.variants:
            runtime = variant.multi_model
            mask = (records.variant == variant.index) & (records.model >= 0)
            if runtime is None or not mask.any():
                continue
            codes = records.model[mask]
            names = np.array(list(runtime.names) + [None], dtype=object)
            named = names[np.minimum(codes, len(runtime.names))]
            unknown = codes >= len(runtime.names)
            named[unknown] = [f"#{code}" for code in codes[unknown]]
            out[mask] = named
        return out

    @staticmethod
    def _caches(records: RequestRecords) -> np.ndarray:
        out = np.full(len(records), None, dtype=object)
        if records.cache is not None:
            for code, name in CACHE_NAMES.items():
                out[records.cache == code] = name
        return out

    def commit(self) -> None:
        self.flush()
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()
