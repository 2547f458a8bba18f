"""Regenerate the README's screenshots of `simfleet report`: one PNG per kind of page.

    python docs/screenshots.py            # needs the report extra and Chromium

Simulates the shipped experiments into a temporary folder, writes their reports, and photographs
the top of each page in headless Chromium (`simfleet.report.browser`), as a reader first sees it:

    docs/report-run.png          simfleet report runs/quickstart
    docs/report-serverless.png   simfleet report runs/serverless-vs-realtime (serverless and one instance)
    docs/report-compare.png      simfleet report runs/diurnal-day runs/diurnal-autoscaling (overlay)

The images are reduced to a 128-colour palette to keep the repository small.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PIL import Image

from simfleet.outputs.run_directory import run_to_directory
from simfleet.report.browser import Browser
from simfleet.report.build import PAGE_READY, build_report
from simfleet.scenario import load_experiment

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "report-run.png": ["quickstart"],
    "report-serverless.png": ["serverless-vs-realtime"],
    "report-compare.png": ["diurnal-day", "diurnal-autoscaling"],
}
WIDTH, HEIGHT = 1000, 1500


def main() -> int:
    os.chdir(ROOT)  # the pages name the experiment files as a reader of the repository would type them
    with tempfile.TemporaryDirectory(prefix="simfleet-screenshots-") as folder:
        runs = Path(folder)
        needed = sorted({name for names in PAGES.values() for name in names})
        for name in needed:
            print(f"simulating {name}", file=sys.stderr)
            run_to_directory(load_experiment(Path("experiments") / f"{name}.toml"), runs / name)
        with Browser(width=WIDTH, height=HEIGHT) as browser:
            for image, names in PAGES.items():
                page = build_report([runs / name for name in names], runs / f"{image}.html").page
                browser.open(page, ready=PAGE_READY)
                errors = browser.errors()
                if errors:
                    print(f"error: {page}: console errors {errors}", file=sys.stderr)
                    return 1
                shot = browser.screenshot(runs / image, max_height=HEIGHT)
                out = ROOT / "docs" / image
                Image.open(shot).convert("RGB").quantize(colors=128).save(out, optimize=True)
                print(f"{out.relative_to(ROOT)} ({out.stat().st_size / 1024:.0f} KB) from {page.stat().st_size / 1024:.0f} KB "
                      "of HTML", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
