"""`simfleet report DIR… [--out FILE] [--png DIR] [--slo p99=100ms] [--axes a,b]`: the command; the work
is in `report.build`.

Only typer is imported here, so `simfleet --help` and the other commands never load the plotting
library: `report.build` (and through it Bokeh) is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE, InputError

__all__ = ["report", "write_run_report"]


def report(
    dirs: List[Path] = typer.Argument(..., help="run directories (several are overlaid on one page), or one "
                                                "recommender job folder, or one sweep dataset"),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="HTML file to write (default: DIR/report.html for one run, "
                                            "./report.html for several)"),
    png: Optional[Path] = typer.Option(None, "--png", help="also write each chart as a PNG into this folder "
                                                           "(needs Chromium)"),
    slo: Optional[str] = typer.Option(None, "--slo", help="sweep: the latency objective, e.g. p99=100ms (p50, p90, "
                                                          "p99); the cheapest run within it is marked"),
    axes: Optional[str] = typer.Option(None, "--axes", help="sweep: the heat map's two axes, e.g. "
                                                            "instance_type,instances (default: the first two "
                                                            "configuration axes)"),
    force: bool = typer.Option(False, "--force", help="replace --png DIR even if it holds files other than a "
                                                      "report's PNGs (an earlier report's are always replaced)"),
) -> None:
    """Write one self-contained HTML page (hover, zoom; opens offline) of the runs, job or sweep in DIR…"""
    from simfleet.outputs.interrupts import interruptible

    with interruptible(lambda: "nothing half-written is left (the page and the PNG folder are each written "
                               "whole or not at all)"):
        outcome = _build(dirs, out, png, slo, axes, force)
    size_kb = outcome.page.stat().st_size / 1024
    empty = f", {outcome.empty_panels} empty" if outcome.empty_panels else ""
    typer.echo(f"{outcome.subject}: {outcome.charts} charts{empty} -> {outcome.page} ({size_kb:,.0f} KB)")
    if outcome.pngs:
        typer.echo(f"{len(outcome.pngs)} PNG files -> {outcome.pngs[0].parent}")


def write_run_report(run_dir: Path) -> Path:
    """`simfleet run --report`: the report of the run just written, as RUN_DIR/report.html."""
    return _build([run_dir], None, None).page


def _build(dirs: list[Path], out: Path | None, png: Path | None, slo: str | None = None, axes: str | None = None,
           force: bool = False):
    from simfleet.report.build import MissingDependency, build_report

    try:
        return build_report(list(dirs), out, png, slo=slo, axes=axes, force=force)
    except InputError as error:
        for problem in error.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT)
    except MissingDependency as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE)
