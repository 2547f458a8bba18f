"""The sweep dataset under `--out DIR`: its layout, `runs.parquet`, and what resume reads back.

```
DIR/sweep.json                                     the resolved sweep (file texts, plan, hash, versions)
DIR/runs.parquet                                   one row per finished run, in plan order
DIR/metrics/<axis>=<value>/.../run_id=<id>/metrics.parquet   each run's metrics (Hive partitions)
DIR/runs/<run_id>.json                             a finished run's row: its completion mark
```
Every file is written to a temporary name starting with "." and renamed, so pyarrow's dataset
discovery (which skips names starting with "." or "_") and readers of `runs.parquet` only ever
see complete files. A run's json is written after its metrics file, and `runs.parquet` is
rebuilt from the rows of `runs/*.json` after every completed run: a killed sweep leaves a valid
table of what finished, and the next attempt skips runs marked ok and retries the others.

A dataset grows in place (it resumes, so it is never swapped in whole as a run directory is):
`check_destination` lets `--out` be a new path, an empty directory or a sweep dataset only.
"""

from __future__ import annotations

import json
import math
import re
import time
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from simfleet.errors import InputError, Problem
from simfleet.metrics.schema import DIMENSIONS, KEY_COLUMNS, STAT_COLUMNS
from simfleet.outputs.atomic import write_json, write_table
from simfleet.outputs.directory import check_new_or_directory
from simfleet.outputs.manifest import software_versions
from simfleet.version import simfleet_version
from simfleet.sweep.execute import HEADLINE_FIELDS

__all__ = [
    "SweepDataset", "RUNS_FILE", "SWEEP_FILE", "METRICS_DIR", "ROWS_DIR", "FIXED_COLUMNS",
    "axis_fields", "runs_schema", "run_metrics_dir", "run_marks", "read_runs", "metrics_dataset", "versions",
    "check_column_names", "check_destination",
]

RUNS_FILE = "runs.parquet"
SWEEP_FILE = "sweep.json"
METRICS_DIR = "metrics"
ROWS_DIR = "runs"

_LEADING = (("run_id", pa.string()),)
_TRAILING = (("replicate", pa.int64()), ("seed", pa.int64()), ("status", pa.string()), ("error", pa.string()),
             *HEADLINE_FIELDS, ("wall_s", pa.float64()))
#: Column names of `runs.parquet` that are not axes (an axis may not take one of these names).
FIXED_COLUMNS = tuple(name for name, _ in _LEADING + _TRAILING)
#: Names used by every run's metrics.parquet, which a Hive partition column may not shadow.
_METRICS_COLUMNS = (*KEY_COLUMNS, *DIMENSIONS, *STAT_COLUMNS)
_PERCENTILE_COLUMN = re.compile(r"p\d+(_\d+)?")
#: Temporary files of `outputs.atomic` (a writer killed before its rename leaves one).
_ATOMIC_LEFTOVERS = ".tmp-*"


def versions() -> dict:
    return software_versions()


_ARROW_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "bool": pa.bool_()}


def axis_fields(plan) -> list[pa.Field]:
    """One typed column per axis name, in axis order, typed as the plan says (int64, float64,
    string or bool), so the schema does not depend on which runs have finished."""
    return [pa.field(name, _ARROW_TYPES.get(dtype, pa.string())) for name, dtype in plan.column_types.items()]


def _cell(value, kind: pa.DataType):
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def check_column_names(plan) -> None:
    """Axis names may not shadow the fixed columns of `runs.parquet`, nor (when they are Hive
    partitions) the columns of metrics.parquet. Raises `InputError` naming the sweep file."""
    problems = []
    for field in axis_fields(plan):
        if field.name in FIXED_COLUMNS:
            problems.append(Problem(str(plan.source), "axes", f"axis name {field.name!r} is a column of "
                                    f"runs.parquet already ({', '.join(FIXED_COLUMNS)}); choose another name"))
    for name in plan.partition_by:
        if name in _METRICS_COLUMNS or _PERCENTILE_COLUMN.fullmatch(name):
            problems.append(Problem(str(plan.source), "sweep.partition_by", f"axis {name!r} cannot be a "
                                    "partition: metrics.parquet has a column of that name"))
    if problems:
        raise InputError(problems)


def check_destination(out: str | Path) -> None:
    """`--out` can hold the sweep's dataset: a new path, an empty directory, or a sweep dataset (its
    `sweep.json`) to resume; not a file, nor a directory holding anything else. One-line `InputError`."""
    check_new_or_directory(out, "sweep dataset", in_place=True)
    folder = Path(out)
    if not folder.is_dir() or (folder / SWEEP_FILE).is_file():
        return
    try:  # a temporary file of a sweep killed while writing its sweep.json is no one else's
        entries = sorted(entry.name for entry in folder.iterdir() if not fnmatch(entry.name, _ATOMIC_LEFTOVERS))
    except OSError as error:
        raise InputError.single(out, f"cannot be read ({error.strerror or error})") from None
    if entries:
        raise InputError.single(out, f"is not a sweep dataset (no {SWEEP_FILE}; it holds {entries[0]!r}); a sweep "
                                     "writes into a new or empty folder, or resumes its own dataset: choose "
                                     "another --out")


def runs_schema(plan) -> pa.Schema:
    """`runs.parquet`'s schema, with provenance in its metadata."""
    fields = [pa.field(n, t) for n, t in _LEADING] + axis_fields(plan) + [pa.field(n, t) for n, t in _TRAILING]
    meta = {
        "simfleet.version": simfleet_version() or "",
        "simfleet.versions": json.dumps(versions(), sort_keys=True),
        "simfleet.sweep_name": plan.name,
        "simfleet.sweep_hash": plan.sweep_hash,
        "simfleet.sweep_seed": str(plan.seed),
    }
    return pa.schema(fields, metadata={k.encode(): v.encode() for k, v in meta.items()})


def run_metrics_dir(out: Path, run) -> Path:
    """`DIR/metrics/<p1>=<v1>/.../run_id=<id>`; values URI-encoded, as pyarrow's Hive
    partitioning decodes them."""
    folder = Path(out) / METRICS_DIR
    for name, value in run.partition:
        folder = folder / f"{name}={quote(str(value), safe='')}"
    return folder / f"run_id={run.run_id}"


class SweepDataset:
    """The output folder of one sweep: which runs are finished, and the files that say so."""

    def __init__(self, out: str | Path, plan, min_rewrite_interval_s: float | None = None, warnings: list = ()):
        self.out = Path(out)
        self.plan = plan
        self.warnings = list(warnings)  # `outputs.run_warnings.RunWarning`s of the plan, for sweep.json
        self.schema = runs_schema(plan)
        self.rows: dict[str, dict] = {}
        self._planned = {run.run_id for run in plan.runs}
        # Rewriting runs.parquet is O(rows): after every run for small sweeps, at most once a
        # second for large ones (and always at the end, see `close`).
        self.min_interval_s = (0.0 if len(plan.runs) <= 2000 else 1.0) if min_rewrite_interval_s is None \
            else min_rewrite_interval_s
        self._written_at = -math.inf
        self._dirty = False

    @property
    def rows_dir(self) -> Path:
        return self.out / ROWS_DIR

    def prepare(self) -> None:
        """Create the folders, write `sweep.json`, and read the rows of runs already recorded."""
        # sweep.json first: a folder holding anything else without it is not taken for a dataset
        # (`check_destination`), so a sweep killed here must not leave its subfolders before it
        self.out.mkdir(parents=True, exist_ok=True)
        for leftover in list(self.out.glob(_ATOMIC_LEFTOVERS)) + list(self.rows_dir.glob(_ATOMIC_LEFTOVERS)):
            leftover.unlink(missing_ok=True)
        write_json(self.out / SWEEP_FILE, self._sweep_document())
        self.rows_dir.mkdir(exist_ok=True)
        (self.out / METRICS_DIR).mkdir(exist_ok=True)
        self.read_marks()
        self.write_runs_table()

    def read_marks(self) -> None:
        """The rows of the planned runs from their completion marks (`runs/<run_id>.json`) on disk."""
        for path in run_marks(self.out):
            row = _read_row(path)
            if row is not None and row.get("run_id") == path.stem and path.stem in self._planned:
                self.rows[path.stem] = row

    def is_finished(self, run_id: str) -> bool:
        row = self.rows.get(run_id)
        return row is not None and row.get("status") == "ok"

    def record(self, row: dict) -> None:
        """Mark a run complete (its json, atomically) and refresh `runs.parquet`."""
        write_json(self.rows_dir / f"{row['run_id']}.json", row)
        self.rows[row["run_id"]] = row
        self._dirty = True
        if time.monotonic() - self._written_at >= self.min_interval_s:
            self.write_runs_table()

    def close(self) -> None:
        if self._dirty:
            self.write_runs_table()

    def table(self) -> pa.Table:
        columns: dict[str, list] = {field.name: [] for field in self.schema}
        for run in self.plan.runs:
            row = self.rows.get(run.run_id)
            if row is None:
                continue
            values = {**row, **run.point, "run_id": run.run_id, "seed": run.seed}
            for field in self.schema:
                columns[field.name].append(_cell(values.get(field.name), field.type))
        return pa.Table.from_pydict(columns, schema=self.schema)

    def write_runs_table(self) -> None:
        write_table(self.out / RUNS_FILE, self.table())
        self._written_at = time.monotonic()
        self._dirty = False

    def _sweep_document(self) -> dict:
        plan = self.plan
        return {
            **plan.summary(),
            "sweep_file": plan.text,
            "base_file": _text(plan.base),
            "versions": versions(),
            "runs": [{"run_id": run.run_id, "seed": run.seed, "point": _jsonable(run.point),
                      "overrides": [[key, _jsonable(value)] for key, value in run.overrides],
                      "metrics": run_metrics_dir(Path("."), run).as_posix()}
                     for run in plan.runs],
            "warnings": [warning.as_json() for warning in self.warnings],
        }


def _text(path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return None


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def run_marks(out: str | Path) -> list[Path]:
    """The completion marks `runs/<run_id>.json` of the sweep in `out`, without files still being written.

    pathlib's glob matches names starting with "." (unlike a shell's), so temporary files are
    excluded by name here, in the one place every reader goes through.
    """
    return sorted(p for p in (Path(out) / ROWS_DIR).glob("*.json") if not p.name.startswith("."))


def _read_row(path: Path) -> dict | None:
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def read_runs(out: str | Path) -> pa.Table:
    """`runs.parquet` of the sweep in `out`."""
    return pq.read_table(Path(out) / RUNS_FILE)


def metrics_dataset(out: str | Path, finished_only: bool = True):
    """The runs' metrics as one pyarrow dataset, partition columns typed as in `runs.parquet`.

    With `finished_only`, only the files of runs that `runs.parquet` lists as ok (a run killed
    between writing its metrics and its completion mark is left out). Plain
    ``pyarrow.dataset.dataset(DIR / "metrics", partitioning="hive")`` reads the folder too, but
    infers the partition types itself and includes such a run.
    """
    import pyarrow.dataset as ds

    out = Path(out)
    runs = read_runs(out)
    document = json.loads((out / SWEEP_FILE).read_text(encoding="utf-8"))
    fields = [runs.schema.field(name) for name in document["partition_by"]] + [pa.field("run_id", pa.string())]
    partitioning = ds.partitioning(pa.schema(fields), flavor="hive")
    if not finished_only:
        return ds.dataset(out / METRICS_DIR, format="parquet", partitioning=partitioning)
    ok = {run_id for run_id, status in zip(runs.column("run_id").to_pylist(), runs.column("status").to_pylist())
          if status == "ok"}
    files = [str(out / entry["metrics"] / "metrics.parquet") for entry in document["runs"] if entry["run_id"] in ok]
    return ds.dataset(files, format="parquet", partitioning=partitioning,
                      partition_base_dir=str(out / METRICS_DIR))
