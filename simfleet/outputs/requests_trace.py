"""`requests.parquet`: one row per simulated request, streamed in chunks (opt-in).

`start_s` and `queue_wait_s` are those of a request's first container; `complete_s` is when its
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

__all__ = ["RequestTrace", "REQUESTS_SCHEMA"]

REQUESTS_SCHEMA = pa.schema([
    pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("arrival_s", pa.float64(), nullable=False),
    pa.field("EndpointName", pa.string(), nullable=False),
    pa.field("VariantName", pa.string(), nullable=False),
    pa.field("InstanceId", pa.string()),
    pa.field("status", pa.string(), nullable=False),
    pa.field("error_class", pa.string()),
    pa.field("payload_bytes", pa.float64(), nullable=False),
    pa.field("service_s", pa.float64(), nullable=False),
    pa.field("start_s", pa.float64(), nullable=False),
    pa.field("queue_wait_s", pa.float64(), nullable=False),
    pa.field("model_latency_s", pa.float64(), nullable=False),
    pa.field("overhead_latency_s", pa.float64(), nullable=False),
    pa.field("response_s", pa.float64(), nullable=False),
    pa.field("complete_s", pa.float64(), nullable=False),
    pa.field("ContainerName", pa.string()),
    pa.field("source", pa.int16(), nullable=False),
    pa.field("setup_s", pa.float64(), nullable=False),
    pa.field("environment", pa.string(), nullable=False),
    pa.field("model", pa.string()),
    pa.field("cache", pa.string()),
])

CHUNK_ROWS = 1 << 18


class RequestTrace:
    """A sink for `simulate(requests_sink=...)` that streams rows into `requests.parquet`."""

    def __init__(self, final: Path, fleet: Fleet, start: dt.datetime):
        self.file = StreamingParquet(final, REQUESTS_SCHEMA)
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
            "arrival_s": records.arrival_s,
            "EndpointName": endpoints[records.variant],
            "VariantName": variants[records.variant],
            "InstanceId": ids[records.instance + 1],
            "status": names[records.status],
            "error_class": classes,
            "payload_bytes": records.payload_bytes,
            "service_s": records.service_s,
            "start_s": records.start_s,
            "queue_wait_s": np.where(reached, records.start_s - records.arrival_s, 0.0),
            "model_latency_s": records.model_latency_s,
            "overhead_latency_s": records.overhead_s,
            "response_s": records.response_s,
            "complete_s": records.complete_s,
            "ContainerName": containers,
            "source": records.source,
            "setup_s": records.setup_s if records.setup_s is not None else np.zeros(len(records)),
            "environment": environments[environment],
            "model": self._models(records),
            "cache": self._caches(records),
        }, schema=REQUESTS_SCHEMA)
        self.file.write(table)

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
