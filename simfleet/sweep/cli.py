"""`simfleet sweep SWEEP.toml --out DIR`: expand a sweep file and run it into a Parquet dataset.

Registered on the main `simfleet` app as the `sweep` command. Exit codes: 0 every run ok, 1 some
runs failed (recorded in runs.parquet; the others still ran), 2 usage error, 3 invalid sweep or
base experiment, or an --out that cannot hold the dataset (one line per problem on stderr, before
anything runs), or a dataset that could not be written (a full disk: the finished runs are kept),
130/143 interrupted by SIGINT/SIGTERM (the finished runs are kept; the same command resumes).
"""

from __future__ import annotations

import io
import json
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE, InputError

__all__ = ["sweep", "ExecutorKind"]


class ExecutorKind(str, Enum):
    local = "local"
    dask = "dask"


def sweep(
    sweep_file: Path = typer.Argument(..., help="sweep TOML file"),
    out: Path = typer.Option(..., "--out", "-o", help="dataset folder (re-running the same command resumes it)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1,
                                          help="parallel runs (default: the number of cores)"),
    executor: ExecutorKind = typer.Option(ExecutorKind.local, "--executor", help="local process pool or Dask"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                            help="Dask scheduler address (default: a local Dask cluster)"),
    set_: List[str] = typer.Option([], "--set", help="override a key of the base experiment: --set key=value"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors: no progress, no summary line"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout instead of the summary line: "
                                                       "sweep, dataset, runs_file, total, ok, failed, skipped, wall_s, "
                                                       "warnings (as sweep.json's)"),
) -> None:
    """Run every point of SWEEP_FILE into the dataset DIR: runs.parquet plus per-run metrics."""
    from simfleet.outputs.interrupts import interruptible

    with interruptible(lambda: _interrupted(out)):
        _sweep(sweep_file, out, workers, executor, scheduler, set_, quiet, as_json)


def _interrupted(out: Path) -> str:
    from simfleet.sweep.dataset import run_marks

    if not out.is_dir():
        return "nothing was written"
    finished = len(run_marks(out))
    return (f"{finished} finished run{'s are' if finished != 1 else ' is'} kept in {out}; "
            "run the same command again to resume")


def _fail(error: InputError) -> None:
    for problem in error.problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(EXIT_INVALID_INPUT)


def _sweep(sweep_file: Path, out: Path, workers: Optional[int], executor: "ExecutorKind", scheduler: Optional[str],
           set_: List[str], quiet: bool, as_json: bool) -> None:
    from simfleet.outputs.directory import writing
    from simfleet.sweep.runner import run_sweep
    from simfleet.sweep.executors import MissingDependency, make_executor
    from simfleet.sweep.plan import load_sweep

    if scheduler is not None and executor is not ExecutorKind.dask:
        typer.echo("error: --scheduler: only with --executor dask", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        plan = load_sweep(sweep_file, list(set_))
        from simfleet.sweep.dataset import check_column_names, check_destination
        check_column_names(plan)
        check_destination(out)
    except InputError as error:
        _fail(error)
    try:
        pool = make_executor(executor.value, workers, scheduler)
    except MissingDependency as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if not quiet:
        typer.echo(f"sweep {plan.name}: {len(plan.runs)} runs on {pool.description} -> {out}", err=True)
    began = time.perf_counter()
    try:
        with pool, writing(out, "sweep dataset", "; the runs that finished are kept: run the same command "
                                                  "again to resume"):
            # quiet: the progress lines go nowhere
            outcome = run_sweep(plan, out, pool, **({"stream": io.StringIO(), "tty": False} if quiet else {}))
    except InputError as error:
        _fail(error)
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    skipped = f", {outcome.skipped} already finished" if outcome.skipped else ""
    if as_json:
        typer.echo(json.dumps({"sweep": plan.name, "dataset": str(out), "runs_file": str(out / "runs.parquet"),
                               "total": outcome.total, "ok": outcome.ok, "failed": outcome.failed,
                               "skipped": outcome.skipped, "wall_s": round(time.perf_counter() - began, 3),
                               "warnings": [warning.as_json() for warning in outcome.warnings]}, indent=2))
    elif not quiet:
        typer.echo(f"sweep {plan.name}: {outcome.total} runs: {outcome.ok} ok, {outcome.failed} failed{skipped} "
                   f"-> {out / 'runs.parquet'}")
    if outcome.failed:
        typer.echo(f"error: {outcome.failed} of {outcome.total} runs failed; their errors are in the "
                   "error column of runs.parquet; re-run the same command to retry them", err=True)
        raise typer.Exit(1)
