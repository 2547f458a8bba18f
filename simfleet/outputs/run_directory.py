"""Write a run directory: `metrics.parquet`, `metric_values.parquet`, `events.parquet`, `summary.json` (with the
run's `warnings`), `manifest.json`, and `requests.parquet` when the experiment asks for it (DESIGN §5).

The directory is assembled under a temporary name and swapped in whole (`outputs.directory`): it
holds this run's files only, and a failed or interrupted run leaves the destination as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from simfleet.engine.simulation import RunResult, simulate
from simfleet.fleet import build_fleet
from simfleet.outputs.atomic import write_json, write_table
from simfleet.outputs.directory import OutputDirectory
from simfleet.outputs.file_form import file_table, provenance
from simfleet.outputs.manifest import build_manifest
from simfleet.outputs.requests_trace import RequestTrace
from simfleet.outputs.run_warnings import as_json, run_warnings
from simfleet.request_records import RequestRecords
from simfleet.rng import RandomStreams
from simfleet.scenario import Scenario

__all__ = ["run_to_directory", "write_run", "RUN_FILES"]

RUN_FILES = ("metrics.parquet", "metric_values.parquet", "events.parquet", "summary.json", "manifest.json")


def run_to_directory(scenario: Scenario, out_dir: str | Path | OutputDirectory, requests: bool | None = None,
                     force: bool = False, on_requests: Callable[[RequestRecords], None] | None = None) -> RunResult:
    """Simulate `scenario` and write its run directory; returns the in-memory result too.

    `out_dir` replaces an earlier run directory as a whole; a directory simfleet did not write is
    refused (`InputError`) unless `force`. An `OutputDirectory` may be given instead, to keep its state.
    `on_requests`, when given, is handed every dispatched batch too (the command line's progress
    display); it only reads them, so the run does not depend on it."""
    output = out_dir if isinstance(out_dir, OutputDirectory) else OutputDirectory(out_dir, force=force)
    write_requests = scenario.experiment.output.requests if requests is None else requests
    with output as out:
        trace = None
        if write_requests:
            trace = RequestTrace(out / "requests.parquet", build_fleet(scenario),
                                 scenario.experiment.experiment.start_time, provenance(scenario))
        sinks = [sink for sink in (trace, on_requests) if sink is not None]

        def hand_over(records: RequestRecords) -> None:
            for sink in sinks:
                sink(records)

        try:
            result = simulate(scenario, requests_sink=hand_over if len(sinks) > 1 else sinks[0] if sinks else None)
        except BaseException:
            if trace is not None:
                trace.abort()
            raise
        if trace is not None:
            trace.commit()
        write_run(out, scenario, result)
    return result


def write_run(out_dir: str | Path, scenario: Scenario, result: RunResult) -> None:
    """Write a simulated run's files (all but the optional request trace) into `out_dir`.

    `summary.json` gets the run's `warnings` (`outputs.run_warnings`), added to `result.summary` too.
    The Parquet files are the result's tables in their file form (`file_form`): provenance in the
    schema metadata, dictionary-encoded low-cardinality strings."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    origin = provenance(scenario)
    write_table(out / "metrics.parquet", file_table(result.metrics, origin))
    write_table(out / "metric_values.parquet", file_table(result.metric_values, origin))
    write_table(out / "events.parquet", file_table(result.events, origin))
    summary = result.summary
    if "warnings" not in summary:  # the run's figures stay as simulated; its warnings join them here
        summary["warnings"] = as_json(run_warnings(scenario, summary))
    write_json(out / "summary.json", summary)
    entropy = RandomStreams(scenario.experiment.experiment.seed).entropy
    write_json(out / "manifest.json", build_manifest(scenario, entropy))
