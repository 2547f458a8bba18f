"""A sweep dataset, read for the report: `runs.parquet` (one row per finished run) and `sweep.json`.

The report reads what `simfleet sweep` writes (README "Sweeps") and never imports the sweep
runner: the axes and their keys come from `sweep.json`'s resolved plan, the results from
`runs.parquet` as written (`status` ok/failed, `error`, the headline columns). An axis whose keys
all set the traffic (`traffic.…`) is a *workload* axis: it says what the fleet must carry, not
what the user picks, so the page compares configurations within each workload point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simfleet.errors import InputError, Problem

__all__ = ["SweepData", "load_sweep_dir", "RESULT_COLUMNS"]

#: The runs.parquet columns the page reads besides the axes.
RESULT_COLUMNS = ("run_id", "replicate", "status", "error", "requests", "error_rate", "latency_p50_ms",
                  "latency_p90_ms", "latency_p99_ms", "cost_per_hour", "cost_per_million")
_EXPECTED = "expected a sweep dataset written by `simfleet sweep`"


@dataclass(frozen=True)
class SweepAxis:
    names: tuple[str, ...]  # runs.parquet columns (a zip axis has several)
    keys: tuple[str, ...]
    kind: str  # "grid", "zip" or "range"

    @property
    def workload(self) -> bool:
        return all(key.startswith("traffic.") for key in self.keys)


@dataclass(frozen=True)
class SweepData:
    path: Path
    label: str
    name: str
    source: str
    axes: tuple[SweepAxis, ...]
    runs: pd.DataFrame  # runs.parquet, as written, in plan order

    @property
    def axis_names(self) -> list[str]:
        return [name for axis in self.axes for name in axis.names if name in self.runs.columns]

    @property
    def workload_names(self) -> list[str]:
        return [name for axis in self.axes if axis.workload for name in axis.names if name in self.runs.columns]

    @property
    def configuration_names(self) -> list[str]:
        return [name for name in self.axis_names if name not in self.workload_names]

    @property
    def ok(self) -> pd.DataFrame:
        return self.runs[self.runs["status"].eq("ok")]

    @property
    def failed(self) -> pd.DataFrame:
        return self.runs[~self.runs["status"].eq("ok")]


def load_sweep_dir(path: str | Path, label: str | None = None) -> SweepData:
    """Read the sweep dataset at `path`; `InputError` naming the file and what was expected otherwise."""
    path = Path(path)
    runs_file, sweep_file = path / "runs.parquet", path / "sweep.json"
    problems: list[Problem] = []
    document: dict = {}
    runs = pd.DataFrame()
    if not runs_file.is_file():
        problems.append(Problem(str(runs_file), "", f"missing (no run of this sweep has finished yet); {_EXPECTED}"))
    else:
        try:
            runs = pd.read_parquet(runs_file)
        except (OSError, ValueError) as error:
            problems.append(Problem(str(runs_file), "", f"unreadable ({type(error).__name__}: "
                                                         f"{str(error).splitlines()[0]}); {_EXPECTED}"))
        else:
            absent = [c for c in RESULT_COLUMNS if c not in runs.columns]
            if absent:
                problems.append(Problem(str(runs_file), "", f"no column {', '.join(absent)}; {_EXPECTED}"))
    if sweep_file.is_file():
        try:
            document = json.loads(sweep_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(Problem(str(sweep_file), "", f"unreadable ({type(error).__name__}); {_EXPECTED}"))
        if not isinstance(document, dict):
            problems.append(Problem(str(sweep_file), "", f"not a JSON object; {_EXPECTED}"))
    if problems:
        raise InputError(problems)
    axes = tuple(SweepAxis(tuple(a.get("names", ())), tuple(a.get("keys", ())), a.get("kind", "grid"))
                 for a in document.get("axes", []))
    if not axes:  # without sweep.json: every column that is not a fixed one is an axis of unknown key
        fixed = set(RESULT_COLUMNS) | {"seed", "wall_s"}
        fixed |= {c for c in runs.columns if c.startswith(("latency_", "cost_", "throughput", "peak_", "mean_"))}
        axes = tuple(SweepAxis((c,), (c,), "grid") for c in runs.columns[:list(runs.columns).index("replicate")]
                     if c not in fixed) if "replicate" in runs.columns else ()
    return SweepData(path=path, label=label or path.name, name=document.get("name") or path.name,
                     source=document.get("source", ""), axes=axes, runs=runs.reset_index(drop=True))
