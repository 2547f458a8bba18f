"""The report job: output directories in, one HTML page (and PNGs on request) out.

Reads the directories (`run_data`), picks the views (`views`), draws them (`figures`, the optional
Bokeh extra, imported here only), assembles and writes the page (`page`), and for `--png` loads the
written page in headless Chromium (`browser`) to photograph each chart as the page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simfleet.errors import InputError
from simfleet.report.run_data import load_runs
from simfleet.report.views import build_sections

__all__ = ["build_report", "ReportOutcome", "MissingDependency", "default_out", "PAGE_READY"]

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


def default_out(dirs: list[Path]) -> Path:
    """One run: DIR/report.html, beside its data. Several: report.html in the working directory."""
    return Path(dirs[0]) / "report.html" if len(dirs) == 1 else Path("report.html")


def build_report(dirs: list[Path], out: Path | None = None, png_dir: Path | None = None) -> ReportOutcome:
    """Write the report of `dirs` to `out` (default `default_out`); raises `InputError` for bad input
    (every directory's problem at once) and `MissingDependency` when an optional part is missing."""
    from simfleet.report.page import check_out_path, render_page, write_page

    problems = []
    try:
        runs = load_runs([Path(d) for d in dirs])
    except InputError as error:
        problems += error.problems
    if out is not None or not problems:  # a default --out under a bad DIR would only repeat its problem
        out = Path(out) if out is not None else default_out(dirs)
        try:
            check_out_path(out)
        except InputError as error:
            problems += error.problems
    if png_dir is not None and Path(png_dir).exists() and not Path(png_dir).is_dir():
        problems.append(InputError.single(png_dir, "--png: not a directory; expected a folder for the PNG files")
                        .problems[0])
    if problems:
        raise InputError(problems)
    try:
        from simfleet.report.figures import draw_sections
    except ImportError as error:
        missing = (error.name or "bokeh").split(".")[0]
        raise MissingDependency(f"simfleet report needs its plotting extra ({missing} is missing): "
                                "pip install -e '.[report]'") from None
    if png_dir is not None:
        from simfleet.report.browser import find_chromium
        if find_chromium() is None:
            raise MissingDependency("--png draws the page in headless Chromium, which is not installed "
                                    "(apt-get install chromium, or set SIMFLEET_CHROMIUM)")
    sections = build_sections(runs)
    figures = draw_sections(sections)
    write_page(render_page(runs, sections, figures), out)
    panels = [panel for section in sections for panel in section.panels]
    pngs = tuple(write_pngs(out, Path(png_dir), [p.key for p in panels if p.key in figures])) if png_dir else ()
    return ReportOutcome(out, len(runs), len(figures), len(panels) - len(figures), pngs)


def write_pngs(page: Path, png_dir: Path, keys: list[str]) -> list[Path]:
    """`page.png` (the whole page) and `<panel key>.png` per chart, as headless Chromium draws them."""
    from simfleet.report.browser import Browser, BrowserError

    try:
        png_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError.single(png_dir, f"--png: cannot create the folder ({error.strerror or error})") from None
    written = []
    try:
        with Browser(width=1100, height=900) as browser:
            browser.open(page, ready=PAGE_READY)
            written.append(browser.screenshot(png_dir / "page.png"))
            for key in keys:
                written.append(browser.screenshot(png_dir / f"{key}.png", f'.panel[data-panel="{key}"]'))
    except BrowserError as error:
        raise MissingDependency(f"--png: headless Chromium failed: {error}") from None
    return written
