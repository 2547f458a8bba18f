"""Hashes of every output of the reference runs: the check that a refactor changed no result.

    python benchmarks/reference_runs.py > before.txt
    ... change the engine ...
    python benchmarks/reference_runs.py | diff before.txt -

One line per run and output: the sha256 of its content (metrics, metric values, events, the summary
and every column of every request record, batches joined). Tables are hashed after joining their
chunks, so a different chunk layout of equal content hashes the same. The runs:
the shipped quickstart, diurnal-autoscaling and bursts-and-replay experiments, the first 6 h of
diurnal-day, the benchmarks' tiny experiment (an open- and a closed-loop endpoint) whole and cut
into 3 s segments, a 10 s enhanced-metrics run with uncommon percentiles, and the open- and
closed-loop benchmark workloads.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "workloads"))


def _table_hash(table: pa.Table) -> str:
    table = table.combine_chunks()
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()[:16]


class _RequestsHash:
    """Hashes every column of every request record, variant by variant in the order the sink receives
    them (so that how a run is cut, which interleaves the batches of endpoints, does not matter)."""

    def __init__(self):
        self.digests: dict[str, "hashlib._Hash"] = {}
        self.count = 0
        self.fields: list[str] = []

    def __call__(self, records) -> None:
        from dataclasses import fields

        self.fields = [field.name for field in fields(records) if getattr(records, field.name) is not None]
        for variant in np.unique(records.variant):
            mine = records.variant == variant
            for field in fields(records):
                if getattr(records, field.name) is None:  # a column of serverless flows only
                    continue
                column = np.ascontiguousarray(getattr(records, field.name)[mine])
                self.digests.setdefault(f"{variant}/{field.name}", hashlib.sha256()).update(column.tobytes())
        self.count += len(records)

    def hexdigest(self, fields=None) -> str:
        """The hash of the columns named in `fields` (all when None)."""
        total = hashlib.sha256()
        for name in sorted(self.digests):
            if fields is None or name.split("/", 1)[1] in fields:
                total.update(name.encode() + self.digests[name].digest())
        return total.hexdigest()[:16]


#: The request columns the reference hashes were first taken over; columns added since are hashed
#: apart ("added columns"), so that the first hash still compares with the earliest figures.
BASELINE_FIELDS = {"arrival_s", "variant", "instance", "status", "payload_bytes", "service_s", "start_s",
                   "model_latency_s", "overhead_s", "response_s", "active_instances"}


def _runs():
    """(name, scenario factory, max_segment_s) of each reference run."""
    from simfleet.scenario import load_experiment

    import simfleet_runs
    from workloads import closed_loop, open_loop

    def shipped(path, *overrides):
        return lambda: load_experiment(ROOT / path, list(overrides))

    def enhanced():
        raw = simfleet_runs.experiment("enhanced-ref", 900, 3, {"kind": "poisson", "rate": 300},
                                       percentiles=(12.5, 50, 99.9, 100))
        raw["endpoints"][0]["metrics_config"] = {"enable_enhanced_metrics": True,
                                                 "metric_publish_frequency_in_seconds": 10}
        return simfleet_runs.scenario(raw)

    return [
        ("quickstart", shipped("experiments/quickstart.toml"), None),
        ("diurnal-autoscaling", shipped("experiments/diurnal-autoscaling.toml"), None),
        ("bursts-and-replay", shipped("experiments/bursts-and-replay.toml"), None),
        ("diurnal-day-6h", shipped("experiments/diurnal-day.toml", "experiment.duration=6h"), None),
        ("tiny", shipped("benchmarks/experiments/tiny.toml"), None),
        ("tiny-3s-segments", shipped("benchmarks/experiments/tiny.toml"), 3.0),
        ("enhanced-10s", enhanced, None),
        ("open-loop-bench", lambda: simfleet_runs.scenario(open_loop.experiment(3600)), None),
        ("closed-loop-bench", lambda: simfleet_runs.scenario(closed_loop.experiment(120.0)), None),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated run names")
    args = parser.parse_args(argv)
    from simfleet.engine.simulation import MAX_SEGMENT_S, simulate

    wanted = None if args.only is None else set(args.only.split(","))
    for name, factory, segment in _runs():
        if wanted is not None and name not in wanted:
            continue
        requests = _RequestsHash()
        result = simulate(factory(), requests_sink=requests, max_segment_s=segment or MAX_SEGMENT_S)
        summary = json.dumps(result.summary, sort_keys=True, default=str).encode()
        print(f"{name:<20} requests={requests.count:>9} {requests.hexdigest(BASELINE_FIELDS)}  "
              f"metrics {_table_hash(result.metrics)}  values {_table_hash(result.metric_values)}  "
              f"events {_table_hash(result.events)}  summary {hashlib.sha256(summary).hexdigest()[:16]}  "
              f"added columns {requests.hexdigest(set(requests.fields) - BASELINE_FIELDS)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
