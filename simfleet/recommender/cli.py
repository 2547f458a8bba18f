"""`simfleet recommend JOB [--out DIR]`: run an Inference Recommender job and rank its recommendations.

Registered on the main `simfleet` app as the `recommend` command. JOB is the
`CreateInferenceRecommendationsJob` request JSON, unchanged (give the model profile with
`--model`), or the same keys in TOML or JSON with a `simfleet` member. Exit codes: 0 the job
COMPLETED (at least one recommendation), 1 it FAILED (no load test gave a recommendation; the
output folder says why), 2 usage error, 3 invalid job or an output folder that cannot be written
(one line per problem on stderr, before anything runs), 130/143 interrupted by SIGINT/SIGTERM
(nothing written).
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE, InputError

__all__ = ["recommend", "ImportanceLevel", "CostMetric"]


class ImportanceLevel(str, Enum):
    """The console's five importance levels (`ranking.Importance`), as `--cost/--latency/--throughput` take them."""

    lowest = "lowest"
    low = "low"
    moderate = "moderate"
    high = "high"
    highest = "highest"


class CostMetric(str, Enum):
    """What `--cost` ranks by (`ranking.COST_METRICS`)."""

    CostPerHour = "CostPerHour"
    CostPerInference = "CostPerInference"


def recommend(
    job_file: Path = typer.Argument(..., help="job: a CreateInferenceRecommendationsJob request (.json) or TOML"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output folder (default: runs/<JobName>)"),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="model profile to load test (replaces the job's simfleet.model)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1,
                                          help="processes simulating tests (default: MaxParallelOfTests, at most "
                                               "the number of cores); results do not depend on it"),
    cost: ImportanceLevel = typer.Option(ImportanceLevel.moderate, "--cost", case_sensitive=False,
                                         help="importance of cost in the ranking"),
    latency: ImportanceLevel = typer.Option(ImportanceLevel.moderate, "--latency", case_sensitive=False,
                                            help="importance of latency in the ranking"),
    throughput: ImportanceLevel = typer.Option(ImportanceLevel.moderate, "--throughput", case_sensitive=False,
                                               help="importance of throughput in the ranking"),
    cost_metric: CostMetric = typer.Option(CostMetric.CostPerHour, "--cost-metric",
                                           help="the cost the ranking compares"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors: no progress, no table"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout instead of the table: "
                                                       "out, load_tests, simulated_s, requests, wall_s and response "
                                                       "(the DescribeInferenceRecommendationsJob response, as "
                                                       "recommendations.json holds it)"),
    force: bool = typer.Option(False, "--force", help="replace --out even if it is a directory simfleet did not "
                                                      "write (an earlier job folder is always replaced whole)"),
) -> None:
    """Load test every endpoint configuration of JOB_FILE and write recommendations.json."""
    from simfleet.outputs.interrupts import interruptible

    state: dict = {}
    with interruptible(lambda: _interrupted(state)):
        _recommend(job_file, out, model, workers, cost, latency, throughput, cost_metric, force, quiet, as_json, state)


def _interrupted(state: dict) -> str:
    output = state.get("output")
    if output is not None and output.committed:
        return f"the job folder {output.shown} was written"
    return "nothing was written" + (f" ({output.shown} is as it was)" if output is not None else "")


def _recommend(job_file, out, model, workers, cost, latency, throughput, cost_metric, force, quiet, as_json,
               state) -> None:
    from simfleet.recommender.job_file import load_job_file
    from simfleet.recommender.job_output import job_folder, write_job
    from simfleet.recommender.job_runner import run_job
    from simfleet.recommender.ranking import Preferences, table
    from simfleet.recommender.responses import to_json

    try:
        preferences = Preferences(cost.value, latency.value, throughput.value, cost_metric.value)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        job = load_job_file(job_file, model=model)
        out_dir = out or Path("runs") / job.request.JobName
        state["output"] = output = job_folder(out_dir, force)
        output.check()  # before the load tests run
    except InputError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT)
    name = job.request.JobName

    def progress(spec, result) -> None:
        if quiet:
            return
        verdict = (f"{result.max_invocations} invocations/min, {result.model_latency_ms:.1f} ms"
                   if result.succeeded and result.model_latency_ms is not None else
                   f"{result.max_invocations} invocations/min" if result.succeeded else result.failure_reason)
        typer.echo(f"  test {spec.index + 1} {spec.label}: {result.stop.condition} -> {verdict}", err=True)

    began = time.perf_counter()
    if not quiet:
        typer.echo(f"job {name} ({job.request.JobType}), model {job.model}", err=True)
    outcome = run_job(job, workers=workers, progress=progress)
    try:
        response = write_job(outcome, output, preferences)
    except InputError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT)
    for warning in response.get("simfleet", {}).get("warnings", ()):
        where = f"{warning['where']}: " if warning["where"] else ""
        typer.echo(f"warning: {where}{warning['message']}", err=True)
    elapsed = time.perf_counter() - began
    simulated = sum(o.length_s for o in outcome.outcomes if o is not None)
    requests = sum(o.requests for o in outcome.outcomes if o is not None)
    if as_json:
        typer.echo(to_json({"out": str(out_dir), "load_tests": len(outcome.results), "simulated_s": simulated,
                            "requests": requests, "wall_s": round(elapsed, 3), "response": response}))
    elif not quiet:
        typer.echo(f"{len(outcome.results)} load tests, {simulated / 60:.0f} simulated minutes, {requests:,} requests "
                   f"in {elapsed:.1f} s of wall time -> {out_dir}")
        typer.echo(table(outcome.results, preferences))
    if response["Status"] != "COMPLETED":
        typer.echo(f"error: job {name} FAILED: {response.get('FailureReason', '')}", err=True)
        raise typer.Exit(1)
