"""The report job: output directories in, one HTML page (and PNGs on request) out.

Tells what the directories are (`run_data.directory_kind`): run directories (overlaid on one
page), one Inference Recommender job folder, or one sweep dataset; a mix is refused in one line.
Each kind is a `PageKind` in `PAGE_KINDS`: it reads its directory (`run_data`, `job_data`,
`sweep_data`), builds its views (`views`, `job_views`, `sweep_views`), draws them (`figures` or
`plot_figures`: the optional Bokeh extra, imported here only) and gives its page's HTML (`page`,
`job_page`, `sweep_page`). The page is written atomically, and for `--png` the written page is
loaded in headless Chromium (`browser`) to photograph each chart as the page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from simfleet.errors import InputError, Problem
from simfleet.report.run_data import KIND_NAMES, directory_kind

__all__ = ["build_report", "ReportOutcome", "MissingDependency", "default_out", "PAGE_READY", "PAGE_KINDS",
           "PageKind", "load_report_input", "png_output"]

#: JavaScript that is true once BokehJS has drawn every chart of a report page.
PAGE_READY = ("(() => { const slots = document.querySelectorAll('.panel[data-drawn]').length;"
              " if (slots === 0) return document.readyState === 'complete';"
              " if (!window.Bokeh || Bokeh.documents.length === 0) return false;"
              " const views = [...Bokeh.index];"
              " return views.length >= slots && views.every(v => v.is_idle); })()")


class MissingDependency(RuntimeError):
    """The plotting extra or, for --png, Chromium is not installed."""


@dataclass(frozen=True)
class ReportOutcome:
    page: Path
    runs: int
    charts: int
    empty_panels: int
    pngs: tuple[Path, ...] = ()
    subject: str = ""  # what the page is of, for the command's last line


@dataclass(frozen=True)
class Loaded:
    """Directories read, with what their page needs to be drawn."""

    kind: str
    data: object
    options: dict


@dataclass(frozen=True)
class PageKind:
    """How one kind of input becomes a page: read, views, drawing, HTML around them."""

    load: Callable  # (dirs) -> data; InputError with every problem
    sections: Callable  # (data, options) -> (sections, extra passed to head/tail)
    draw: Callable  # (sections) -> {panel key: figure}; imports Bokeh
    render: Callable  # (data, options, sections, extra, figures) -> HTML
    subject: Callable  # (data) -> e.g. "report of 2 runs"
    count: Callable  # (data) -> number of runs (or load tests)


def _run_kind() -> PageKind:
    from simfleet.report.run_data import load_runs

    def sections(runs, options):
        from simfleet.report.views import build_sections
        return build_sections(runs), None

    def draw(sections):
        from simfleet.report.figures import draw_sections
        return draw_sections(sections)

    def render(runs, options, sections, extra, figures):
        from simfleet.report.page import render_page
        return render_page(runs, sections, figures)

    return PageKind(load_runs, sections, draw, render,
                    lambda runs: f"report of {len(runs)} run{'s' if len(runs) > 1 else ''}", len)


def _job_kind() -> PageKind:
    from simfleet.report.job_data import load_job_dir

    def sections(job, options):
        from simfleet.report.job_views import job_sections
        return job_sections(job), None

    def render(job, options, sections, extra, figures):
        from simfleet.report.job_page import job_head, job_tail
        from simfleet.report.page import render_blocks
        return render_blocks(f"simfleet report: job {job.name}", job_head(job), sections, figures, job_tail(job))

    return PageKind(lambda dirs: load_job_dir(dirs[0]), sections, _draw_plots, render,
                    lambda job: (f"report of job {job.name} ({job.status}, {len(job.tests)} load tests, "
                                 f"{len(job.ranked)} recommendations)"), lambda job: len(job.tests))


def _sweep_kind() -> PageKind:
    from simfleet.report.sweep_data import load_sweep_dir

    def sections(sweep, options):
        from simfleet.report.sweep_views import sweep_sections
        return sweep_sections(sweep, options.get("slo"), options.get("axes"))

    def render(sweep, options, sections, picked, figures):
        from simfleet.report.page import render_blocks
        from simfleet.report.sweep_page import sweep_head, sweep_tail
        return render_blocks(f"simfleet report: sweep {sweep.name}", sweep_head(sweep, options.get("slo"), picked),
                             sections, figures, sweep_tail(sweep))

    return PageKind(lambda dirs: load_sweep_dir(dirs[0]), sections, _draw_plots, render,
                    lambda sweep: (f"report of sweep {sweep.name} ({len(sweep.runs)} runs, "
                                   f"{len(sweep.failed)} failed)"), lambda sweep: len(sweep.runs))


def _draw_plots(sections):
    from simfleet.report.plot_figures import draw_plots
    return draw_plots(sections)


#: Each kind of output directory and how its page is made (a registry, not an if chain).
PAGE_KINDS: dict[str, Callable[[], PageKind]] = {"run": _run_kind, "job": _job_kind, "sweep": _sweep_kind}


def load_report_input(dirs: list[Path], slo: str | None = None, axes: str | None = None) -> Loaded:
    """Tell what `dirs` are and read them; `InputError` for a mix of kinds, several jobs or sweeps, an
    option that does not apply, a bad --slo or --axes, or unreadable directories (all at once)."""
    kinds = [directory_kind(d) for d in dirs]
    known = [(d, k) for d, k in zip(dirs, kinds) if k is not None]
    kind = known[0][1] if known else "run"
    for d, k in known[1:]:
        if k != kind:
            raise InputError.single(d, f"is {KIND_NAMES[k]} but {known[0][0]} is {KIND_NAMES[kind]}; a report "
                                       "is of run directories (overlaid), or of one job folder, or of one sweep "
                                       "dataset, not a mix")
    if kind != "run" and len(dirs) > 1:
        raise InputError.single(dirs[1], f"a report of {KIND_NAMES[kind]} takes that one DIR; "
                                         "report each job or sweep on its own page")
    problems: list[Problem] = []
    options: dict = {}
    for name, value in (("--slo", slo), ("--axes", axes)):
        if value is not None and kind != "sweep":
            problems.append(Problem(name, "", f"applies to a sweep dataset; {dirs[0]} is {KIND_NAMES[kind]}"))
    if kind == "sweep":
        from simfleet.report.sweep_options import parse_axes, parse_slo
        for name, value, parse in (("slo", slo, parse_slo), ("axes", axes, parse_axes)):
            if value is not None:
                try:
                    options[name] = parse(value)
                except InputError as error:
                    problems += error.problems
    data = None
    try:
        data = PAGE_KINDS[kind]().load(list(dirs))
    except InputError as error:
        problems += error.problems
    if data is not None and "axes" in options:
        from simfleet.report.sweep_options import check_axes
        try:
            check_axes(options["axes"], data.axis_names, data.name)
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return Loaded(kind, data, options)


def default_out(dirs: list[Path]) -> Path:
    """One run: DIR/report.html, beside its data. Several: report.html in the working directory."""
    return Path(dirs[0]) / "report.html" if len(dirs) == 1 else Path("report.html")


def build_report(dirs: list[Path], out: Path | None = None, png_dir: Path | None = None, *,
                 slo: str | None = None, axes: str | None = None, force: bool = False) -> ReportOutcome:
    """Write the report of `dirs` to `out` (default `default_out`); raises `InputError` for bad input
    (every directory's problem at once) and `MissingDependency` when an optional part is missing.
    `slo` ("p99=100ms") and `axes` ("a,b") are the sweep page's options, as typed. `png_dir` replaces
    an earlier folder of report PNGs as a whole (`force`: any directory; `png_output`)."""
    from simfleet.report.page import check_out_path, write_page

    problems = []
    loaded = None
    try:
        loaded = load_report_input([Path(d) for d in dirs], slo, axes)
    except InputError as error:
        problems += error.problems
    if out is not None or not problems:  # a default --out under a bad DIR would only repeat its problem
        out = Path(out) if out is not None else default_out(dirs)
        try:
            check_out_path(out)
        except InputError as error:
            problems += error.problems
    if png_dir is not None:
        try:
            png_output(png_dir, force).check()
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    try:
        import bokeh  # noqa: F401
    except ImportError as error:
        missing = (error.name or "bokeh").split(".")[0]
        raise MissingDependency(f"simfleet report needs its plotting extra ({missing} is missing): "
                                "pip install -e '.[report]'") from None
    if png_dir is not None:
        from simfleet.report.browser import find_chromium
        if find_chromium() is None:
            raise MissingDependency("--png draws the page in headless Chromium, which is not installed "
                                    "(apt-get install chromium, or set SIMFLEET_CHROMIUM)")
    kind = PAGE_KINDS[loaded.kind]()
    sections, extra = kind.sections(loaded.data, loaded.options)
    figures = kind.draw(sections)
    write_page(kind.render(loaded.data, loaded.options, sections, extra, figures), out)
    panels = [panel for section in sections for panel in section.panels]
    pngs = tuple(write_pngs(out, png_output(png_dir, force), [p.key for p in panels if p.key in figures])) \
        if png_dir else ()
    return ReportOutcome(out, kind.count(loaded.data), len(figures), len(panels) - len(figures), pngs,
                         kind.subject(loaded.data))


def png_output(png_dir: Path, force: bool = False):
    """`--png DIR` as an output directory: a folder of report PNGs, replaced as a whole."""
    from simfleet.outputs.directory import OutputDirectory, png_folder

    return OutputDirectory(png_dir, what="PNG folder", option="--png", force=force, recognise=png_folder)


def write_pngs(page: Path, png_dir, keys: list[str]) -> list[Path]:
    """`page.png` (the whole page) and `<panel key>.png` per chart, as headless Chromium draws them, into
    `png_dir` (a path or a `png_output`), which they replace as a whole; returns their final paths."""
    from simfleet.outputs.directory import OutputDirectory
    from simfleet.report.browser import Browser, BrowserError

    output = png_dir if isinstance(png_dir, OutputDirectory) else png_output(Path(png_dir))
    names = []
    try:
        with output as folder, Browser(width=1100, height=900) as browser:
            browser.open(page, ready=PAGE_READY)
            names.append(browser.screenshot(folder / "page.png").name)
            for key in keys:
                names.append(browser.screenshot(folder / f"{key}.png", f'.panel[data-panel="{key}"]').name)
    except BrowserError as error:
        raise MissingDependency(f"--png: headless Chromium failed: {error}") from None
    return [output.shown / name for name in names]
