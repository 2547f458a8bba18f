"""What an output directory holds, for the report: a run directory loaded, or a one-line refusal.

The report reads the files `simfleet run` writes (README "Outputs"): `metrics.parquet`,
`events.parquet`, `summary.json` and `manifest.json`. It never imports the engine. `directory_kind`
tells the three kinds of output directory apart by their own files (a run, an Inference Recommender
job: `job_data`, a sweep dataset: `sweep_data`); anything else is refused naming what was expected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from simfleet.errors import InputError, Problem
from simfleet.outputs.file_form import plain_strings

__all__ = ["RunData", "load_run", "load_runs", "REQUIRED_FILES", "directory_kind", "KIND_NAMES", "is_component",
           "is_hosting"]

#: The files of a run directory the report reads (the others are not needed for the page).
REQUIRED_FILES = ("metrics.parquet", "events.parquet", "summary.json", "manifest.json")
_EXPECTED = "expected a run directory written by `simfleet run`"


@dataclass(frozen=True)
class RunData:
    """One run directory, read: its summary and manifest as written, its metrics and events as frames."""

    path: Path
    label: str  # how the page names this run (unique among the runs of one report)
    summary: dict
    manifest: dict
    metrics: pd.DataFrame
    events: pd.DataFrame

    @property
    def start(self) -> pd.Timestamp:
        """The run's start instant (UTC): its `RunStart` event, else the experiment's start_time."""
        run_start = self.events.loc[self.events["event"].eq("RunStart"), "timestamp"]
        if len(run_start):
            return pd.Timestamp(run_start.iloc[0])
        start = self.manifest.get("resolved", {}).get("experiment", {}).get("experiment", {}).get("start_time")
        return pd.Timestamp(start) if start else pd.Timestamp(0, tz="UTC")

    @property
    def duration_s(self) -> float:
        return float(self.summary.get("duration_s", 0.0))

    @property
    def name(self) -> str:
        """The experiment's name (the manifest's), else the directory's."""
        name = self.manifest.get("resolved", {}).get("experiment", {}).get("experiment", {}).get("name")
        return name or self.path.name

    def event_details(self, event: str) -> pd.DataFrame:
        """The rows of one event kind, with their `detail` JSON parsed into a `details` column of dicts."""
        rows = self.events[self.events["event"].eq(event)].copy()
        rows["details"] = [json.loads(text) if isinstance(text, str) and text else {} for text in rows["detail"]]
        return rows


def is_component(row: dict) -> bool:
    """A summary.json `variants` row of an inference component (its cost: its share of the instances')."""
    return bool(row.get("InferenceComponentName"))


def is_hosting(row: dict) -> bool:
    """A `variants` row of a variant whose instances host inference components (its cost: the idle part)."""
    return row.get("hosting") is not None


#: How the report names each kind of directory in its messages.
KIND_NAMES = {"run": "a run directory", "job": "an Inference Recommender job folder (recommendations.json)",
              "sweep": "a sweep dataset (sweep.json, runs.parquet)"}


def directory_kind(path: str | Path) -> str | None:
    """"job" (recommendations.json), "sweep" (sweep.json or runs.parquet), else "run" for an existing
    directory (whose files `load_run` checks); None when `path` is not a directory."""
    path = Path(path)
    if not os.path.isdir(path):  # False, not an error, for a path too long or holding a NUL
        return None
    if (path / "recommendations.json").is_file():
        return "job"
    if (path / "sweep.json").is_file() or (path / "runs.parquet").is_file():
        return "sweep"
    return "run"


def _kind_problem(path: Path) -> str | None:
    """Why `path` is not a run directory, in one line; None when it has the run files."""
    if not os.path.exists(path):  # False, not an error, for a path too long or holding a NUL
        return f"no such directory; {_EXPECTED}"
    if not path.is_dir():
        return f"not a directory; {_EXPECTED}"
    if directory_kind(path) != "run":
        return f"{KIND_NAMES[directory_kind(path)]}; {_EXPECTED}"
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        return f"not a simfleet run directory (no {', '.join(missing)}); {_EXPECTED}"
    return None


def load_run(path: str | Path, label: str | None = None) -> RunData:
    """Read the run directory at `path`; raises `InputError` (one line, naming the path) otherwise."""
    from simfleet.outputs.directory import recover_swap

    path = Path(path)
    recover_swap(path)  # a writer killed in the middle of swapping it in left it aside
    problem = _kind_problem(path)
    if problem is not None:
        raise InputError.single(path, problem)
    problems: list[Problem] = []
    loaded: dict[str, object] = {}
    for name in REQUIRED_FILES:
        file = path / name
        try:
            if name.endswith(".json"):
                loaded[name] = json.loads(file.read_text(encoding="utf-8"))
            else:
                # the files' dictionary columns as plain strings, not categoricals (whose groupby and
                # pivot would carry every category of the file into each chart)
                loaded[name] = plain_strings(pq.read_table(file)).to_pandas()
        except (OSError, ValueError, UnicodeDecodeError) as error:  # pyarrow's errors are ValueErrors or OSErrors
            problems.append(Problem(str(file), "", f"unreadable ({type(error).__name__}: {str(error).splitlines()[0]}); "
                                                   f"{_EXPECTED}"))
    if not problems:
        summary, manifest = loaded["summary.json"], loaded["manifest.json"]
        if not isinstance(summary, dict) or "variants" not in summary:
            problems.append(Problem(str(path / "summary.json"), "variants", f"missing; {_EXPECTED}"))
        if not isinstance(manifest, dict):
            problems.append(Problem(str(path / "manifest.json"), "", f"not a JSON object; {_EXPECTED}"))
        for name, columns in (("metrics.parquet", ("timestamp", "metric_name", "VariantName", "sum")),
                              ("events.parquet", ("timestamp", "event", "detail"))):
            absent = [c for c in columns if c not in loaded[name].columns]
            if absent:
                problems.append(Problem(str(path / name), "", f"no column {', '.join(absent)}; {_EXPECTED}"))
    if problems:
        raise InputError(problems)
    return RunData(path=path, label=label or path.name, summary=loaded["summary.json"],
                   manifest=loaded["manifest.json"], metrics=loaded["metrics.parquet"],
                   events=loaded["events.parquet"])


def load_runs(paths: list[Path]) -> list[RunData]:
    """Read every directory, reporting every problem at once; each run gets a unique label."""
    labels = _labels([Path(p) for p in paths])
    runs, problems = [], []
    for path, label in zip(paths, labels):
        try:
            runs.append(load_run(path, label))
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    return runs


def _labels(paths: list[Path]) -> list[str]:
    """Directory names, lengthened by their parents where two runs would otherwise share one."""
    depth = 1
    while True:
        labels = ["/".join(p.resolve().parts[-depth:]) for p in paths]
        if len(set(labels)) == len(labels) or depth > 8:
            return labels
        depth += 1
