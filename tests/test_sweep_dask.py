"""The same sweep through the local process pool and a real Dask `LocalCluster`: identical seeds,
runs.parquet (but for the wall times) and metrics files; and the error when Dask is missing."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.sweep.dataset import run_marks, run_metrics_dir
from simfleet.sweep.runner import run_sweep
from simfleet.sweep.executors import DaskExecutor, LocalExecutor
from simfleet.sweep.plan import load_sweep
from small_experiments import DATA

distributed = pytest.importorskip("distributed")


BASE = """\
[experiment]
name = "dask-test"
start_time = 2026-01-05T09:00:00Z
duration = "1min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]
kind = "poisson"
rate = 150
"""

SWEEP = """\
[sweep]
name = "dask-sweep"
base = "experiment/base.toml"
seed = 99
replicates = 2

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2]

[[axes]]
name = "rate"
key = "traffic.0.rate"
low = 50
high = 250

[sweep.sampling]
method = "lhs"
count = 2
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    (folder / "experiment").mkdir()
    shutil.copytree(DATA / "models", folder / "experiment" / "models")
    (folder / "experiment" / "base.toml").write_text(BASE)
    (folder / "sweep.toml").write_text(SWEEP)
    plan = load_sweep(folder / "sweep.toml")
    with LocalExecutor(2) as pool:
        outcome = run_sweep(plan, folder / "local", pool, stream=io.StringIO())
    assert outcome.ok == len(plan.runs) == 8
    return folder, plan


def assert_same_dataset(plan, a: Path, b: Path) -> None:
    left, right = pq.read_table(a / "runs.parquet"), pq.read_table(b / "runs.parquet")
    assert left.drop(["wall_s"]).equals(right.drop(["wall_s"]), check_metadata=True)
    assert left.column("status").to_pylist() == ["ok"] * len(plan.runs)
    for run in plan.runs:
        relative = run_metrics_dir(Path("."), run) / "metrics.parquet"
        assert (a / relative).read_bytes() == (b / relative).read_bytes(), run.run_id
    assert (a / "sweep.json").read_bytes() == (b / "sweep.json").read_bytes()


def test_cli_on_a_local_dask_cluster_matches_the_process_pool(sweep):
    folder, plan = sweep
    out = folder / "dask-cli"
    result = CliRunner().invoke(app, ["sweep", str(folder / "sweep.toml"), "--out", str(out),
                                      "--executor", "dask", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Dask LocalCluster, 2 workers" in result.output
    assert_same_dataset(plan, folder / "local", out)


def test_a_scheduler_address_is_used_and_resume_works_across_executors(sweep):
    folder, plan = sweep
    out = folder / "dask-address"
    shutil.copytree(folder / "local", out)
    for run in plan.runs[:3]:  # three runs left to do: forget they finished
        (out / "runs" / f"{run.run_id}.json").unlink()
    kept = {p: p.stat().st_mtime_ns for p in run_marks(out)}
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, ["sweep", str(folder / "sweep.toml"), "--out", str(out),
                                          "--executor", "dask", "--scheduler", cluster.scheduler_address])
        assert result.exit_code == 0, result.output
        assert cluster.scheduler_address in result.output
        assert "5 already finished" in result.output
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert_same_dataset(plan, folder / "local", out)


def test_dask_executor_records_a_task_that_raises_outside_the_run(sweep):
    folder, plan = sweep

    def explode(task):
        raise MemoryError(f"worker lost while running {task}")

    with DaskExecutor(workers=1, processes=False) as pool:
        outcomes = list(pool.map_unordered(explode, ["a", "b"]))
    assert sorted(task for task, _, _ in outcomes) == ["a", "b"]
    assert all(result is None and isinstance(error, MemoryError) for _, result, error in outcomes)


def test_missing_distributed_gives_a_clear_error(sweep, monkeypatch):
    folder, _ = sweep
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    result = CliRunner().invoke(app, ["sweep", str(folder / "sweep.toml"), "--out", str(folder / "x"),
                                      "--executor", "dask"])
    assert result.exit_code == 2
    assert "pip install 'simfleet[dask]'" in result.output
    assert not (folder / "x").exists()
