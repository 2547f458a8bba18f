"""`simfleet calibrate`: a profile entry fitted to measurements, with its sources and fit quality.

Registered in `simfleet/cli.py` (imported lazily: the engine loads only when the command runs).
Reads the SOURCE files (`sources`), fits (`fit`), replays (`replay`), writes (`profile_writer`)
and prints which method gave which part. Bad input: one `error:` line per problem and exit 3,
nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from simfleet.errors import EXIT_INVALID_INPUT, InputError

__all__ = ["calibrate"]


def calibrate(
    sources: List[Path] = typer.Argument(None, help="CloudWatch get-metric-data/get-metric-statistics JSON "
                                                    "(with the get-metric-data queries), Locust _stats.csv / "
                                                    "_stats_history.csv, a DescribeInferenceRecommendationsJob "
                                                    "response, or a request log (CSV/Parquet)"),
    instance_type: str = typer.Option(..., "--instance-type", help="the measured instance type, e.g. ml.c5.xlarge"),
    out: Path = typer.Option(..., "--out", help="the profile to write, e.g. models/my-model.toml"),
    workers: str = typer.Option("auto", "--workers", help="workers per instance: a number, or auto (fitted)"),
    merge: bool = typer.Option(False, "--merge", help="add the entry to the existing profile --out"),
    p50: Optional[str] = typer.Option(None, "--p50", help="stated median latency, e.g. 40ms (no SOURCE needed)"),
    p90: Optional[str] = typer.Option(None, "--p90", help="stated p90 latency"),
    p99: Optional[str] = typer.Option(None, "--p99", help="stated p99 latency"),
    at_rate: Optional[str] = typer.Option(None, "--at-rate", help="the load of the stated percentiles, "
                                                                   "e.g. 300 or 18000/min (default: light load)"),
    instances: Optional[int] = typer.Option(None, "--instances", min=1, help="instances that served the traffic "
                                                                             "when the source does not say (default 1)"),
    period: str = typer.Option("60s", "--period", help="period a request log is cut into"),
    warn_error: float = typer.Option(10.0, "--warn-error", help="warn when a replayed percentile or throughput "
                                                                "differs from the observed by more (%)"),
) -> None:
    """Fit a model profile entry (service time, workers) for INSTANCE-TYPE to measurements in SOURCE files."""
    from simfleet.calibration.run import CalibrateRequest, run_calibration

    try:
        request = CalibrateRequest.from_options(sources or [], instance_type, out, workers, merge,
                                                {50.0: p50, 90.0: p90, 99.0: p99}, at_rate, instances, period,
                                                warn_error)
        lines, warnings = run_calibration(request)
    except InputError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT)
    for line in lines:
        typer.echo(line)
    for line in warnings:
        typer.echo(line, err=True)
