"""Regenerate the README's screenshots of `simfleet report`: one PNG per kind of page.

    python docs/screenshots.py            # needs the report extra and Chromium
    python docs/screenshots.py report-sweep.png   # only the images named

Simulates the shipped experiments into a temporary folder, writes their reports, and photographs
the top of each page in headless Chromium (`simfleet.report.browser`), as a reader first sees it:

    docs/report-run.png          simfleet report runs/quickstart
    docs/report-serverless.png   simfleet report runs/serverless-vs-realtime (serverless and one instance)
    docs/report-compare.png      simfleet report runs/diurnal-day runs/diurnal-autoscaling (overlay)
    docs/report-components.png   simfleet report runs/inference-components (per-model costs, copies)
    docs/report-job.png          simfleet recommend experiments/recommend-xgboost.toml; simfleet report runs/xgboost-fraud-sizing
    docs/report-sweep.png        simfleet sweep experiments/sweep-quickstart.toml; simfleet report DIR --slo p99=15ms

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
    "report-components.png": ["inference-components"],
}
#: image -> (what to produce, report options): a recommender job and a sweep
FOLDERS = {
    "report-job.png": ("recommend-xgboost.toml", {}),
    "report-sweep.png": ("sweep-quickstart.toml", {"slo": "p99=15ms"}),
}
WIDTH, HEIGHT = 1000, 1500


def produce(name: str, out: Path) -> Path:
    """Run the shipped recommender job or sweep `name` into `out`, as the README's commands do."""
    if name.startswith("recommend-"):
        from simfleet.recommender.job_file import load_job_file
        from simfleet.recommender.job_output import write_job
        from simfleet.recommender.job_runner import run_job
        write_job(run_job(load_job_file(Path("experiments") / name)), out)
    else:
        from simfleet.sweep.executors import LocalExecutor
        from simfleet.sweep.plan import load_sweep
        from simfleet.sweep.runner import run_sweep
        with LocalExecutor() as pool:
            run_sweep(load_sweep(Path("experiments") / name), out, pool, stream=sys.stderr, tty=False)
    return out


def main(wanted: list[str]) -> int:
    pages = {image: names for image, names in PAGES.items() if not wanted or image in wanted}
    folders = {image: spec for image, spec in FOLDERS.items() if not wanted or image in wanted}
    os.chdir(ROOT)  # the pages name the experiment files as a reader of the repository would type them
    with tempfile.TemporaryDirectory(prefix="simfleet-screenshots-") as folder:
        runs = Path(folder)
        needed = sorted({name for names in pages.values() for name in names})
        for name in needed:
            print(f"simulating {name}", file=sys.stderr)
            run_to_directory(load_experiment(Path("experiments") / f"{name}.toml"), runs / name)
        inputs = {image: ([runs / name for name in names], {}) for image, names in pages.items()}
        for image, (name, options) in folders.items():
            print(f"running {name}", file=sys.stderr)
            inputs[image] = ([produce(name, runs / Path(name).stem)], options)
        with Browser(width=WIDTH, height=HEIGHT) as browser:
            for image, (dirs, options) in inputs.items():
                page = build_report(dirs, runs / f"{image}.html", **options).page
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
    sys.exit(main(sys.argv[1:]))
