"""The `simfleet` command line (typer): run, validate, catalog, plus sweep, recommend, metrics and report.

Exit codes (listed in `simfleet --help`): 0 success, 1 a job ran but failed (some sweep runs, or a
recommender job with no recommendation), 2 usage error (typer/click), 3 invalid input or an output
that cannot be written (`errors.EXIT_INVALID_INPUT`), with one line per problem on stderr and never
a traceback for a user's mistake; 130 and 143 when Ctrl-C (SIGINT) or SIGTERM ended the command
(`outputs.interrupts`). `run`, `sweep` and `recommend` take `--quiet` (errors only) and `--json` (one
JSON object on stdout instead of the table); `run` shows its progress on stderr when that is a
terminal (`outputs.run_progress`). Startup stays light: the engine (numba), the query layer and pandas are imported
inside the commands that need them, so `--help`, `--version` and `validate` never load them.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from simfleet.calibration.cli import calibrate as calibrate_command
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.query.cli import app as metrics_app
from simfleet.recommender.cli import recommend as recommend_command
from simfleet.report.cli import report as report_command
from simfleet.sweep.cli import sweep as sweep_command

_EXIT_CODES = ("Exit codes: 0 success; 1 a sweep or recommender job ran but failed (some runs failed, or no "
               "recommendation); 2 usage error (unknown command or option, bad option value); 3 invalid input "
               "(one 'error:' line per problem, naming file, line and key), or an --out that cannot be "
               "written (a file, no permission, a full disk; nothing is written); 130 interrupted by Ctrl-C "
               "(SIGINT), 143 by SIGTERM (nothing half-written is left).")

# rich_markup_mode=None: click's plain help and one-line usage errors ("Error: Invalid value for
# '--cost': 'urgent' is not one of …"), not rich's boxes, which wrap a message over several lines.
app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, epilog=_EXIT_CODES,
                  help="Simulate SageMaker-style inference endpoint fleets before deploying them.")
app.add_typer(metrics_app, name="metrics")
app.command(name="sweep")(sweep_command)
app.command(name="recommend")(recommend_command)
app.command(name="report")(report_command)
app.command(name="calibrate")(calibrate_command)


def _print_version(value: bool) -> None:
    if value:
        from simfleet.version import simfleet_version

        typer.echo(f"simfleet {simfleet_version() or 'unknown'}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print simfleet's version and exit.")) -> None:
    """Simulate SageMaker-style inference endpoint fleets before deploying them."""


def _warn(warnings) -> None:
    """What will run but may mislead or take long, and what a finished run found misleading
    (`outputs.run_warnings`), one `warning:` line each on stderr."""
    for problem in warnings:
        typer.echo(f"warning: {problem}", err=True)


def _fail(error: InputError) -> None:
    for problem in error.problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(EXIT_INVALID_INPUT)


@app.command()
def run(
    experiment: Path = typer.Argument(..., help="experiment TOML file"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run directory (default: runs/<name>)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="override experiment.seed"),
    set_: List[str] = typer.Option([], "--set", help="override a key: --set endpoints.0.production_variants.0.initial_instance_count=3"),
    requests: Optional[bool] = typer.Option(None, "--requests/--no-requests", help="write requests.parquet"),
    report: bool = typer.Option(False, "--report", help="also write the run's HTML report (RUN_DIR/report.html)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing but errors: no progress, no run table"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout instead of the run table: "
                                                       "run_dir, wall_s, report and summary (summary.json's content)"),
    force: bool = typer.Option(False, "--force", help="replace --out even if it is a directory simfleet did not "
                                                      "write (an earlier run directory is always replaced whole)"),
) -> None:
    """Simulate EXPERIMENT and write its run directory (replacing an earlier run's as a whole).

    On a terminal, a progress line on stderr shows the simulated time, the requests so far, the wall
    time and an estimate of the time left; it is silent when stderr is not a terminal."""
    from simfleet.outputs.interrupts import interruptible

    state: dict = {}
    with interruptible(lambda: _run_interrupted(state)):
        _run(experiment, out, seed, set_, requests, report, force, quiet, as_json, state)


def _run_interrupted(state: dict) -> str:
    output = state.get("output")
    if output is None:
        return "nothing was written"
    if output.committed:
        return f"the run directory {output.shown} was written" + ("; its report was not" if state["report"] else "")
    return f"nothing was written ({output.shown} is as it was)"


def _run(experiment: Path, out: Optional[Path], seed: Optional[int], set_: List[str], requests: Optional[bool],
         report: bool, force: bool, quiet: bool, as_json: bool, state: dict) -> None:
    from simfleet.scenario import load_experiment
    from simfleet.outputs.directory import OutputDirectory
    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.outputs.run_progress import RunProgress
    from simfleet.outputs.run_warnings import input_warnings

    overrides = list(set_) + ([f"experiment.seed={seed}"] if seed is not None else [])
    state["report"] = report
    progress = None
    try:
        scenario = load_experiment(experiment, overrides)
        _warn(scenario.warnings)
        out_dir = out or Path("runs") / scenario.experiment.experiment.name
        state["output"] = output = OutputDirectory(out_dir, force=force)
        if not quiet:
            progress = RunProgress(scenario.experiment.experiment.duration)
        began = time.perf_counter()
        result = run_to_directory(scenario, output, requests,
                                  on_requests=progress.add if progress is not None and progress.tty else None)
    except InputError as error:
        _fail(error)
    finally:
        if progress is not None:
            progress.close()
    elapsed = time.perf_counter() - began
    summary = result.summary
    said = {(w.code, w.where, w.message) for w in input_warnings(scenario)}
    _warn(f"{w['where']}: {w['message']}" if w["where"] else w["message"] for w in summary["warnings"]
          if (w["code"], w["where"], w["message"]) not in said)
    if not quiet and not as_json:
        typer.echo(f"simulated {summary['requests']:,} requests over {summary['duration_s']:g} s "
                   f"in {elapsed:.2f} s of wall time -> {out_dir}")
        for line in run_table(summary):
            typer.echo(line)
    written = None
    if report:
        from simfleet.report.cli import write_run_report
        written = write_run_report(out_dir)
        if not quiet and not as_json:
            typer.echo(f"report -> {written}")
    if as_json:
        typer.echo(json.dumps({"run_dir": str(out_dir), "wall_s": round(elapsed, 3),
                               "report": None if written is None else str(written), "summary": summary},
                              indent=2, allow_nan=False))


#: The run table's columns after the endpoint/variant one: (header, width).
_COLUMNS = (("mean inst", 9), ("peak inst", 9), ("req/s", 7), ("err %", 6), ("p50 ms", 7), ("p99 ms", 7),
            ("$/hour", 7), ("run cost $", 10))


def run_table(summary: dict) -> list[str]:
    """What `simfleet run` prints after a run: one row per variant, then what each column is.

    70 columns plus the longest endpoint/variant name, so a 100-column terminal holds names of up
    to 30 characters."""
    # an inference component's row is endpoint/variant/component (copies, its share of the cost); its
    # hosting variant's row carries the idle capacity
    names = [f"{v['EndpointName']}/{v['VariantName']}" + (f"/{v['InferenceComponentName']}"
             if v.get("InferenceComponentName") else " (idle)" if v.get("hosting") else "")
             for v in summary["variants"]]
    width = max(len("endpoint/variant"), *map(len, names))
    rows = [["endpoint/variant", *(header for header, _ in _COLUMNS)]]
    serverless = False
    for name, v in zip(names, summary["variants"]):
        latency = v["latency_s"]
        if v.get("serverless") is not None:   # a serverless variant has environments, not instances
            serverless = True
            mean, peak = "-", "-"
        elif v.get("inference_component") is not None:  # copies
            copies = v["inference_component"]
            mean, peak = f"{copies['mean_copies_in_service']:.2f}", str(copies["peak_copies_in_service"])
        else:
            mean, peak = f"{v['mean_instances_in_service']:.2f}", str(v["peak_instances_in_service"])
        rate = v["error_rate"]
        rows.append([name, mean, peak, f"{v['throughput_per_s']:.1f}", "n/a" if rate is None else f"{rate:.2%}"[:-1],
                     _ms(latency["p50"]), _ms(latency["p99"]), _usd(v.get("cost_per_hour")), _usd(v["cost"])])
    lines = [" ".join([row[0].ljust(width), *(cell.rjust(w) for cell, (_, w) in zip(row[1:], _COLUMNS))])
             for row in rows]
    lines.append(f"mean, peak inst: instances in service over the run{' (-: serverless)' if serverless else ''}; "
                 "err %: error rate")
    lines.append("p50, p99 ms: end-to-end latency, arrival to answer; $/hour: cost per hour; run cost $: whole run")
    if any(v.get("hosting") for v in summary["variants"]):
        lines.append("inference components (endpoint/variant/component): inst = copies, cost = its share of the "
                     "instances by reservation; (idle): what no copy reserved")
    return lines


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.1f}"


class InputKindName(str, Enum):
    """`simfleet validate --kind`: the names of `input_kinds.KINDS` (a test keeps them in step)."""

    experiment = "experiment"
    profile = "profile"
    sweep = "sweep"
    job = "job"
    autoscaling = "autoscaling"
    endpoint_config = "endpoint_config"
    model = "model"
    queries = "queries"
    calibration_source = "calibration_source"
    trace = "trace"


@app.command()
def validate(
    files: List[Path] = typer.Argument(..., help="input files: experiment, model profile, sweep, recommender job "
                                                 "(TOML or JSON), autoscaling requests JSON, metric data queries JSON, "
                                                 "CreateEndpointConfig or CreateModel request JSON, "
                                                 "calibration source (CloudWatch export, Locust CSV), "
                                                 "replay trace (CSV, Parquet)"),
    kind: Optional[InputKindName] = typer.Option(None, "--kind", help="check every FILE as this kind "
                                                                      "(default: recognised from each file's content)"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="model profile for recommender jobs "
                                                                    "(as `simfleet recommend --model`)"),
) -> None:
    """Check input files as the commands that read them would; report every problem in every file."""
    from simfleet.input_kinds import check_file

    problems: dict = {}  # each problem once, even when two files share it (a sweep and its base experiment)
    for path in files:
        try:
            name, note, warnings = check_file(path, kind.value if kind else None, model)
            typer.echo(f"ok: {path} ({name}{': ' + note if note else ''})")
            _warn(warnings)
        except InputError as error:
            problems.update(dict.fromkeys(error.problems))
    if problems:
        _fail(InputError(list(problems)))


def _catalog_families(incomplete: str) -> list[str]:
    """Shell completion of `catalog --family` (the families are data: read only when completing)."""
    from simfleet.catalog import load_catalog

    return sorted({item.family for item in load_catalog().values() if item.family.startswith(incomplete)})


@app.command()
def catalog(family: Optional[str] = typer.Option(None, help="only this family, e.g. g5 (the families are the "
                                                            "catalog's: see `simfleet catalog`)",
                                                 autocompletion=_catalog_families)) -> None:
    """List the instance catalog: hardware and on-demand price per hour, with its source."""
    from simfleet.catalog import load_catalog

    types = load_catalog()
    families = sorted({item.family for item in types.values()})
    if family is not None and family not in families:
        typer.echo(f"error: --family: unknown family {family!r} (families: {', '.join(families)})", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT)
    typer.echo(f"{'instance type':<20} {'vCPU':>5} {'memory GiB':>10} {'accelerators':<26} {'$/hour':>8}  source")
    for item in types.values():
        if family and item.family != family:
            continue
        accel = (f"{item.accelerators} x {item.accelerator_model} {item.accelerator_memory_bytes / 2**30:g} GiB"
                 if item.accelerators else "-")
        price = "-" if item.price_per_hour is None else f"{item.price_per_hour:.4g}"
        source = (item.price_source or "no established price").split(":")[0]
        typer.echo(f"{item.name:<20} {item.vcpus:>5} {item.memory_bytes / 2**30:>10g} {accel:<26} {price:>8}  {source}")
    region = types.meta.get("region", "")
    typer.echo(f"\nprices: on-demand {region} real-time inference, USD/hour; source codes are explained in "
               "simfleet/catalog/instances.toml; override any entry under [catalog] in an experiment")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="simfleet")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
