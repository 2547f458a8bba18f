"""Driving a whole sweep: the unfinished runs of a plan through an executor, into the dataset.

Finds the plan's warnings first (`outputs.run_warnings.sweep_warnings`: points that differ only in
price), for `sweep.json` and the end of `simfleet sweep`. Skips the runs already marked ok in the dataset, ships the others to the executor (a local
process pool or Dask) as `RunTask`s, records each outcome as it arrives (a worker that dies
becomes a `failed` row) and reports progress.

Ended early (Ctrl-C, SIGTERM, a full disk), it stops the executor's workers, keeps every run
marked finished so far (`runs.parquet` is rebuilt from the marks on disk: the interruption may
have come between a mark and the table), removes the metrics folders of the runs it was running
that are not marked ok (whatever their workers had written), and removes the dataset folder
altogether when this invocation created it and no run is marked; then the exception goes on.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from simfleet.outputs.directory import signals_held
from simfleet.outputs.run_warnings import sweep_warnings
from simfleet.sweep.dataset import METRICS_DIR, SweepDataset, check_column_names, run_marks, run_metrics_dir
from simfleet.sweep.execute import HEADLINE_FIELDS, RunTask, one_line, run_task
from simfleet.sweep.progress import Progress

__all__ = ["SweepOutcome", "tasks_for", "run_sweep"]


@dataclass
class SweepOutcome:
    """What one invocation did: planned runs, runs skipped as finished, and the new rows."""

    total: int
    skipped: int
    rows: list[dict] = field(default_factory=list)
    warnings: list = field(default_factory=list)  # `outputs.run_warnings.RunWarning`s of the plan

    @property
    def failed(self) -> int:
        return sum(row["status"] != "ok" for row in self.rows)

    @property
    def ok(self) -> int:
        return len(self.rows) - self.failed


def tasks_for(plan, out: Path, runs) -> list[RunTask]:
    """The tasks of `runs` (RunPlans of `plan`) writing into the dataset at `out`."""
    base = Path(plan.base)
    base_dir = str(base.resolve().parent)
    out = Path(out).resolve()
    return [RunTask(run_id=run.run_id, seed=run.seed, experiment=plan.experiment_dict(run), source=str(base),
                    base_dir=base_dir, metrics_dir=str(run_metrics_dir(out, run)),
                    metadata=(("simfleet.sweep_name", plan.name),))
            for run in runs]


def run_sweep(plan, out: str | Path, executor, stream: TextIO | None = None, tty: bool | None = None) -> SweepOutcome:
    """Run every unfinished run of `plan` on `executor` into the dataset at `out`."""
    check_column_names(plan)
    out = Path(out)
    created = not os.path.lexists(out)
    warnings = sweep_warnings(plan)
    dataset = SweepDataset(out, plan, warnings=warnings)
    todo = []  # the runs this invocation attempts
    progress = None
    try:
        dataset.prepare()
        todo = [run for run in plan.runs if not dataset.is_finished(run.run_id)]
        outcome = SweepOutcome(total=len(plan.runs), skipped=len(plan.runs) - len(todo), warnings=warnings)
        points = {run.run_id: run.point for run in plan.runs}
        progress = Progress(outcome.total, outcome.skipped, stream, tty)
        for task, row, error in executor.map_unordered(run_task, tasks_for(plan, out, todo)):
            if error is not None:
                row = {"run_id": task.run_id, "seed": task.seed, "status": "failed",
                       "error": one_line(f"{type(error).__name__}: {error}"), "wall_s": None}
                row.update({name: None for name, _ in HEADLINE_FIELDS})
            row = {"run_id": row["run_id"], **points[task.run_id], **{k: v for k, v in row.items() if k != "run_id"}}
            dataset.record(row)
            outcome.rows.append(row)
            progress.update(task.run_id, row["status"], row["wall_s"])
        dataset.close()
    except BaseException:
        with signals_held():
            getattr(executor, "abort", executor.close)()
            _keep_what_finished(dataset, todo, created)
        raise
    finally:
        if progress is not None:
            progress.close()
    return outcome


def _keep_what_finished(dataset: SweepDataset, attempted, created: bool) -> None:
    """After an early end, with the workers stopped: `runs.parquet` of the marked runs, no metrics
    folder of an attempted run not marked ok, and no dataset at all if this invocation created it
    and no run is marked."""
    out = dataset.out
    marks = run_marks(out) if out.is_dir() else []
    if created and not marks:
        shutil.rmtree(out, ignore_errors=True)
        return
    try:
        dataset.read_marks()
        dataset.write_runs_table()
    except OSError:
        pass  # the table of the last successful write stays; the marks are the record
    top = out / METRICS_DIR
    for run in attempted:
        if dataset.is_finished(run.run_id):
            continue
        folder = run_metrics_dir(out, run)
        shutil.rmtree(folder, ignore_errors=True)
        for parent in folder.parents:  # partition folders left empty
            if parent == top or top not in parent.parents:
                break
            try:
                parent.rmdir()
            except OSError:
                break
