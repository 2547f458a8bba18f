"""Running a sweep into its dataset: layout, runs.parquet, metrics partitions, failures, resume.

References are computed independently of the sweep machinery: each run is re-simulated here
through the ordinary `--set` path (`load_experiment`) and its headline figures recomputed with
naive formulas (price × instance count for the cost, the instance counts for peak and mean).
The kill test interrupts a real `simfleet sweep` process with SIGKILL and resumes it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from multiprocessing import forkserver
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from simfleet.catalog import load_catalog
from simfleet.cli import app
from simfleet.engine.simulation import simulate
from simfleet.scenario import load_experiment
from simfleet.sweep.dataset import FIXED_COLUMNS, SweepDataset, metrics_dataset, run_marks, run_metrics_dir
from simfleet.sweep.execute import RunTask, run_task
from simfleet.sweep import executors
from simfleet.sweep.executors import LocalExecutor
from simfleet.sweep.plan import load_sweep
from simfleet.sweep.progress import Progress
from simfleet.sweep.runner import run_sweep
from small_experiments import DATA

SIMFLEET = [sys.executable, "-m", "simfleet"]

BASE = """\
[experiment]
name = "sweep-test"
start_time = 2026-01-05T09:00:00Z
duration = "{duration}"
seed = 1
model_paths = ["models"]

[metrics]
percentiles = [50, 99]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]
kind = "poisson"
rate = 100
"""

SWEEP = """\
[sweep]
name = "test-sweep"
base = "experiment/base.toml"
seed = 2026
replicates = {replicates}

[[axes]]
name = "instance_type"
key = "endpoints.0.production_variants.0.instance_type"
values = ["ml.c5.xlarge", "ml.m5.large"]

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = {counts}
"""


def write_sweep(folder: Path, duration: str = "2min", replicates: int = 1, counts=(1, 2)) -> Path:
    """A sweep file and its base experiment in `folder/experiment/`, with the toy model beside it
    (model_paths relative to the base experiment, so runs must resolve them from there)."""
    (folder / "experiment").mkdir(parents=True, exist_ok=True)
    shutil.copytree(DATA / "models", folder / "experiment" / "models", dirs_exist_ok=True)
    (folder / "experiment" / "base.toml").write_text(BASE.format(duration=duration))
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(replicates=replicates, counts=json.dumps(list(counts))))
    return path


def reference_row(base: Path, run) -> dict:
    """The run re-simulated through `--set`, and its headline figures by naive formulas."""
    overrides = [f"{key}={json.dumps(value)}" for key, value in run.overrides]
    scenario = load_experiment(base, overrides + [f"experiment.seed={run.seed}"])
    result = simulate(scenario)
    summary = result.summary
    variants = scenario.experiment.endpoints[0].production_variants
    hours = scenario.experiment.experiment.duration / 3600
    count = sum(v.initial_instance_count for v in variants)
    price = sum(load_catalog()[v.instance_type].price_per_hour * v.initial_instance_count for v in variants)
    outcomes = summary["variants"][0]["outcomes"]
    return {
        "requests": summary["requests"],
        "error_rate": 1 - outcomes["OK"] / summary["requests"],
        "latency_p99_ms": summary["variants"][0]["latency_s"]["p99"] * 1000,
        "throughput_per_s": summary["requests"] / (hours * 3600),
        "cost_per_hour": price,
        "cost_per_million": price * hours / summary["requests"] * 1e6,
        "peak_instances": count,
        "mean_instances": count,
        "metrics": result.metrics,
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One small sweep (2 types × 2 counts × 2 replicates) run through the CLI with 2 workers."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(folder, replicates=2)
    out = folder / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return load_sweep(path), out, result


def test_runs_table_has_one_typed_row_per_run_and_provenance(finished):
    plan, out, _ = finished
    table = pq.read_table(out / "runs.parquet")
    assert table.num_rows == len(plan.runs) == 8
    assert table.column_names == ["run_id", "instance_type", "instances", *FIXED_COLUMNS[1:]]
    types = dict(zip(table.column_names, table.schema.types))
    assert types["instance_type"] == pa.string() and types["instances"] == pa.int64()
    assert types["seed"] == pa.int64() and types["latency_p99_ms"] == pa.float64()
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta["simfleet.sweep_hash"] == plan.sweep_hash
    assert meta["simfleet.sweep_seed"] == "2026"
    assert json.loads(meta["simfleet.versions"])["libraries"]["pyarrow"] == pa.__version__
    rows = table.to_pylist()
    assert [r["run_id"] for r in rows] == [run.run_id for run in plan.runs]
    for row, run in zip(rows, plan.runs):
        assert (row["instance_type"], row["instances"], row["replicate"], row["seed"]) == (
            run.point["instance_type"], run.point["instances"], run.point["replicate"], run.seed)
        assert row["status"] == "ok" and row["error"] is None and row["wall_s"] > 0
    document = json.loads((out / "sweep.json").read_text())
    assert document["sweep_hash"] == plan.sweep_hash
    assert [r["run_id"] for r in document["runs"]] == [run.run_id for run in plan.runs]
    assert document["sweep_file"] == plan.source.read_text()


def test_headline_figures_match_an_independent_simulation(finished):
    plan, out, _ = finished
    rows = {r["run_id"]: r for r in pq.read_table(out / "runs.parquet").to_pylist()}
    for run in plan.runs[::3]:
        expected = reference_row(plan.base, run)
        row = rows[run.run_id]
        for name in ("requests", "peak_instances"):
            assert row[name] == expected[name], name
        for name in ("error_rate", "latency_p99_ms", "throughput_per_s", "cost_per_hour", "cost_per_million",
                     "mean_instances"):
            assert row[name] == pytest.approx(expected[name], rel=1e-9), name
        assert row["latency_p50_ms"] <= row["latency_p90_ms"] <= row["latency_p99_ms"]
        stored = pq.read_table(run_metrics_dir(out, run) / "metrics.parquet")
        assert stored.replace_schema_metadata(None).equals(expected["metrics"].replace_schema_metadata(None))
        assert stored.schema.metadata[b"simfleet.run_id"].decode() == run.run_id


def test_replicates_differ_and_seeds_are_distinct(finished):
    plan, out, _ = finished
    table = pq.read_table(out / "runs.parquet").to_pylist()
    assert len({r["seed"] for r in table}) == len(table)
    pairs = {}
    for r in table:
        pairs.setdefault((r["instance_type"], r["instances"]), []).append(r["requests"])
    assert all(len(v) == 2 for v in pairs.values())
    assert any(a != b for a, b in pairs.values())  # different seeds, different Poisson draws


def test_metrics_dataset_reads_with_hive_partitions(finished):
    plan, out, _ = finished
    dataset = ds.dataset(out / "metrics", format="parquet", partitioning="hive")
    assert {"instance_type", "instances", "run_id"} <= set(dataset.schema.names)
    table = dataset.to_table(columns=["instance_type", "instances", "run_id", "metric_name"])
    seen = set(zip(*(table.column(c).to_pylist() for c in ("instance_type", "instances", "run_id"))))
    assert seen == {(r.point["instance_type"], r.point["instances"], r.run_id) for r in plan.runs}
    assert "Invocations" in set(table.column("metric_name").to_pylist())
    typed = metrics_dataset(out)
    assert typed.schema.field("instances").type == pa.int64()
    assert typed.schema.field("run_id").type == pa.string()
    assert typed.count_rows() == dataset.count_rows()
    for run in plan.runs:
        parts = run_metrics_dir(out, run).relative_to(out / "metrics").parts
        assert parts == (f"instance_type={run.point['instance_type']}", f"instances={run.point['instances']}",
                         f"run_id={run.run_id}")


def test_progress_lines_and_summary(finished):
    plan, _, result = finished
    lines = [line for line in result.output.splitlines() if line.startswith("run ")]
    assert len(lines) == len(plan.runs)
    assert {line.split()[1] for line in lines} == {f"{i}/{len(plan.runs)}" for i in range(1, len(plan.runs) + 1)}
    assert all(line.split()[2] == "ok" and line.endswith(" s)") for line in lines)
    assert "8 ok, 0 failed" in result.output


def test_rerun_skips_every_finished_run(finished, tmp_path):
    plan, out, _ = finished
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    marks = {p: p.stat().st_mtime_ns for p in run_marks(copy)}
    result = CliRunner().invoke(app, ["sweep", str(plan.source), "--out", str(copy), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "8 already finished" in result.output and "run 1/" not in result.output
    assert {p: p.stat().st_mtime_ns for p in marks} == marks


def test_temporary_names_are_ignored_by_dataset_discovery(finished, tmp_path):
    plan, out, _ = finished
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    folder = run_metrics_dir(copy, plan.runs[0])
    (folder / ".tmp-12345-metrics.parquet").write_bytes(b"PAR1 half a file")
    (copy / "metrics" / "_scratch.parquet").write_bytes(b"not parquet")
    dataset = ds.dataset(copy / "metrics", format="parquet", partitioning="hive")
    assert dataset.count_rows() == ds.dataset(out / "metrics", format="parquet", partitioning="hive").count_rows()
    marks = run_marks(copy)
    (copy / "runs" / f".tmp-12345-{plan.runs[0].run_id}.json").write_text("")  # a mark being written
    assert run_marks(copy) == marks and all(not p.name.startswith(".") for p in marks)


def test_a_failing_run_is_recorded_and_retried_and_the_sweep_goes_on(tmp_path, monkeypatch):
    path = write_sweep(tmp_path, duration="1min")
    plan = load_sweep(path)
    bad = dataclasses.replace(plan.runs[1], overrides=plan.runs[1].overrides[:-1] + (
        ("endpoints.0.production_variants.0.initial_instance_count", "many"),))
    broken = dataclasses.replace(plan, runs=(plan.runs[0], bad) + plan.runs[2:])
    monkeypatch.setattr("simfleet.sweep.plan.load_sweep", lambda *args, **kwargs: broken)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "1 of 4 runs failed" in result.output
    rows = pq.read_table(out / "runs.parquet").to_pylist()
    assert [r["status"] for r in rows] == ["ok", "failed", "ok", "ok"]
    error = rows[1]["error"]
    assert "\n" not in error and "initial_instance_count" in error and "base.toml" in error
    assert rows[1]["requests"] is None and rows[1]["latency_p99_ms"] is None
    assert not run_metrics_dir(out, bad).exists()
    mark = out / "runs" / f"{bad.run_id}.json"
    assert json.loads(mark.read_text())["status"] == "failed"
    before = mark.stat().st_mtime_ns
    time.sleep(0.01)
    again = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert again.exit_code == 1 and "3 already finished" in again.output
    assert mark.stat().st_mtime_ns != before  # retried


def test_cli_quiet_and_json(tmp_path, monkeypatch):
    """--json: one JSON object on stdout, its counts those of runs.parquet; --quiet: nothing but the
    error line of the failed run."""
    path = write_sweep(tmp_path, duration="1min")
    plan = load_sweep(path)
    bad = dataclasses.replace(plan.runs[1], overrides=plan.runs[1].overrides[:-1] + (
        ("endpoints.0.production_variants.0.initial_instance_count", "many"),))
    monkeypatch.setattr("simfleet.sweep.plan.load_sweep",
                        lambda *args, **kwargs: dataclasses.replace(plan, runs=(plan.runs[0], bad) + plan.runs[2:]))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1", "--json"])
    assert result.exit_code == 1, result.output
    printed = json.loads(result.stdout)
    statuses = [row["status"] for row in pq.read_table(out / "runs.parquet").to_pylist()]
    assert (printed["total"], printed["ok"], printed["failed"], printed["skipped"]) == (
        len(statuses), statuses.count("ok"), statuses.count("failed"), 0)
    assert printed["sweep"] == plan.name and printed["runs_file"] == str(out / "runs.parquet")
    again = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert again.exit_code == 1 and again.stdout == ""
    assert again.stderr.splitlines() == [line for line in again.stderr.splitlines() if line.startswith("error: ")]
    assert len(again.stderr.splitlines()) == 1


def test_run_task_reports_an_invalid_experiment_in_one_line(tmp_path):
    raw = {"experiment": {"name": "x"}}
    row = run_task(RunTask("0" * 16, 1, raw, "base.toml", str(tmp_path), str(tmp_path / "m")))
    assert row["status"] == "failed" and row["error"].startswith("invalid experiment: base.toml")
    assert "\n" not in row["error"] and row["requests"] is None
    assert not (tmp_path / "m").exists()


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    path = write_sweep(tmp_path, duration="1min")
    plan = load_sweep(path)
    tables = []
    for workers in (1, 2):
        with LocalExecutor(workers) as pool:
            outcome = run_sweep(plan, tmp_path / f"w{workers}", pool, stream=io.StringIO())
        assert outcome.ok == len(plan.runs)
        tables.append(pq.read_table(tmp_path / f"w{workers}" / "runs.parquet").drop(["wall_s"]))
    assert tables[0].equals(tables[1], check_metadata=True)
    for run in plan.runs:
        files = [(tmp_path / f"w{w}").joinpath(run_metrics_dir(Path("."), run), "metrics.parquet") for w in (1, 2)]
        assert files[0].read_bytes() == files[1].read_bytes()


def test_an_aborted_pool_leaves_no_thread_of_it_running(monkeypatch):
    """`abort` returns only once every thread of the pool has ended (its starter, its manager, the
    queue's feeder), not only its workers: a daemon thread still releasing the queues' semaphores as
    the process exits is stopped half-way, and multiprocessing's resource tracker then writes
    warnings after the command's last line (seen on a sweep ended by SIGTERM). No thread fails on
    the way (the pool's manager thread did, on futures cancelled outside it, with a traceback)."""
    failures = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    before = set(threading.enumerate())
    pool = LocalExecutor(2)
    outcomes = pool.map_unordered(time.sleep, [0.0] + [60.0] * 5)
    assert next(outcomes)[2] is None  # the workers run two long tasks; three wait
    started = set(threading.enumerate()) - before
    processes = list(pool._pool._processes.values())
    assert len(started) >= 2 and processes, (started, processes)  # (the manager, the feeder; the starter may be done)
    outcomes.close()  # as an interrupted sweep leaves its loop, then aborts
    os.kill(processes[0].pid, signal.SIGKILL)  # (as an abort while the pool starts kills its workers)
    time.sleep(0.5)
    pool.abort()
    assert [thread.name for thread in started if thread.is_alive()] == []
    assert [process.pid for process in processes if process.is_alive()] == []
    assert [f"{failure.exc_type.__name__} in {failure.thread.name}" for failure in failures] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")
def test_a_pool_started_after_its_fork_server_was_ended_runs():
    """After an abort has ended the fork server (a sweep interrupted from Python), the next pool of
    the same process launches a new one: its runs do not fail on the old one's closed connection,
    as they did while the old one was still ending (a process of several threads)."""
    with LocalExecutor(1) as pool:
        assert [error for _, _, error in pool.map_unordered(time.sleep, [0.0])] == [None]
    executors._end_fork_server()
    with LocalExecutor(1) as pool:
        assert [error for _, _, error in pool.map_unordered(time.sleep, [0.0, 0.0])] == [None, None]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")
def test_abort_ends_a_fork_server_it_did_not_find_at_first(tmp_path, monkeypatch):
    """A pool whose fork server still imports the simulator is aborted at once, even when the fork
    server is not found at the first looks (its process id is set only once its process runs, and
    a dead one is relaunched). Looking once and then waiting left `abort` waiting for the pool's
    lock, held by the start, for the whole import (seen as a sweep that ignored SIGTERM)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import time\n"
        "with open('/proc/self/cmdline', 'rb') as cmdline:\n"
        "    if b'multiprocessing.forkserver' in cmdline.read():\n"
        "        time.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    end_fork_server = executors._end_fork_server
    end_fork_server()  # a fork server left by an earlier test: the pool is to start a slow one
    earlier = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    looks = []

    def found_at_the_fourth_look():
        looks.append(time.monotonic())
        if len(looks) >= 4:
            end_fork_server()

    monkeypatch.setattr(executors, "_end_fork_server", found_at_the_fourth_look)
    pool = LocalExecutor(2)
    outcomes = pool.map_unordered(time.sleep, [0.0])
    consumer = threading.Thread(target=lambda: list(outcomes), daemon=True)
    consumer.start()
    try:
        deadline = time.monotonic() + 30
        while getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None) in (None, earlier):
            assert time.monotonic() < deadline, "the fork server did not start"
            time.sleep(0.01)
        started = time.monotonic()
        pool.abort()
        assert time.monotonic() - started < 20, "abort waited for the fork server's import"
        assert len(looks) >= 4
        consumer.join(10)
        assert not consumer.is_alive()
    finally:
        end_fork_server()


def test_progress_plain_lines_and_terminal_bar():
    plain = io.StringIO()
    progress = Progress(5, skipped=2, stream=plain, tty=False)
    progress.update("a" * 16, "ok", 1.23)
    progress.update("b" * 16, "failed", None)
    progress.close()
    assert plain.getvalue().splitlines() == [f"run 3/5 ok {'a' * 16} (1.2 s)", f"run 4/5 failed {'b' * 16}"]
    bar = io.StringIO()
    progress = Progress(4, stream=bar, tty=True)
    for _ in range(4):
        progress.update("c" * 16, "ok", 0.5)
    progress.close()
    text = bar.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "[" + "#" * 24 + "] 4/4" in text.split("\r")[-1]


class _Writes(io.StringIO):
    """A stream that records each write call."""

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_each_plain_progress_line_is_one_write():
    """A signal is handled between two writes, never inside one: a line written in pieces (text, then
    its newline, as `print` does) could be left open, and the interruption's `error:` line would be
    glued onto it."""
    stream = _Writes()
    progress = Progress(3, stream=stream, tty=False)
    for status in ("ok", "failed", "ok"):
        progress.update("d" * 16, status, 0.1)
    assert len(stream.calls) == 3 and all(call.endswith("\n") and call.count("\n") == 1 for call in stream.calls)


def test_dataset_ignores_marks_of_runs_not_in_the_plan_and_unreadable_marks(tmp_path):
    path = write_sweep(tmp_path, duration="1min")
    plan = load_sweep(path)
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    (out / "runs" / "ffffffffffffffff.json").write_text(json.dumps({"run_id": "ffffffffffffffff", "status": "ok"}))
    (out / "runs" / f"{plan.runs[0].run_id}.json").write_text('{"run_id": "trunc')
    dataset = SweepDataset(out, plan)
    dataset.prepare()
    assert dataset.rows == {} and not dataset.is_finished(plan.runs[0].run_id)
    assert pq.read_table(out / "runs.parquet").num_rows == 0


def test_cli_usage_and_input_errors(tmp_path):
    path = write_sweep(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "--scheduler" in result.output
    assert runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "0"]).exit_code == 2
    assert runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"), "--executor", "ray"]).exit_code == 2
    text = path.read_text().replace('"ml.m5.large"', '"ml.c5.huge"')
    path.write_text(text)
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors and all("sweep.toml" in line for line in errors)
    assert any("ml.c5.huge" in line for line in errors)
    assert not (tmp_path / "o").exists()


def _mtimes(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in run_marks(out) + list(out.rglob("metrics.parquet"))}


def test_a_killed_sweep_leaves_a_readable_dataset_and_resumes(tmp_path):
    path = write_sweep(tmp_path, duration="30min", counts=(1, 2, 3))  # 6 runs of ~0.4 s each
    out = tmp_path / "out"
    command = SIMFLEET + ["sweep", str(path), "--out", str(out), "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    process = subprocess.Popen(command, cwd=tmp_path / "experiment" / "models", env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not run_marks(out) and process.poll() is None:
            assert time.monotonic() < deadline, "no run finished within 60 s"
            time.sleep(0.005)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its pool workers, at once
        process.wait()
    plan = load_sweep(path)
    marks = {p.stem: json.loads(p.read_text()) for p in run_marks(out)}
    assert 1 <= len(marks) < len(plan.runs), "the kill came too late to interrupt the sweep"
    assert all(mark["status"] == "ok" for mark in marks.values())
    listed = pq.read_table(out / "runs.parquet")
    assert set(listed.column("run_id").to_pylist()) <= set(marks)
    assert set(listed.column("status").to_pylist()) <= {"ok"}
    ds.dataset(out / "metrics", format="parquet", partitioning="hive").to_table()  # every visible file reads
    finished = {run.run_id for run in plan.runs if run.run_id in marks}
    assert {run.run_id for run in plan.runs if (run_metrics_dir(out, run) / "metrics.parquet").exists()} >= finished
    assert metrics_dataset(out).count_rows() >= 0
    before = _mtimes(out)
    time.sleep(0.01)

    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished)} already finished" in resumed.stdout
    after = _mtimes(out)
    for file, mtime in before.items():
        if any(run_id in str(file) for run_id in finished):
            assert after[file] == mtime, f"{file} was rewritten"

    fresh = tmp_path / "fresh"
    with LocalExecutor(2) as pool:
        run_sweep(plan, fresh, pool, stream=io.StringIO())
    resumed_table = pq.read_table(out / "runs.parquet")
    fresh_table = pq.read_table(fresh / "runs.parquet")
    assert resumed_table.drop(["wall_s"]).equals(fresh_table.drop(["wall_s"]), check_metadata=True)
    assert resumed_table.column("status").to_pylist() == ["ok"] * len(plan.runs)
    for run in plan.runs:
        relative = run_metrics_dir(Path("."), run) / "metrics.parquet"
        assert (out / relative).read_bytes() == (fresh / relative).read_bytes()
    left = [p for p in out.rglob("*") if p.name.startswith((".", "_"))]
    assert not left, left


def test_a_partition_may_not_shadow_a_metrics_column(tmp_path):
    from simfleet.errors import InputError
    from simfleet.sweep.dataset import check_column_names

    plan = load_sweep(write_sweep(tmp_path))
    axis = dataclasses.replace(plan.axes[0], names=("unit",))
    bad = dataclasses.replace(plan, axes=(axis,) + plan.axes[1:], partition_by=("unit", "instances"))
    with pytest.raises(InputError) as caught:
        check_column_names(bad)
    assert [p.key for p in caught.value.problems] == ["sweep.partition_by"]
    assert "'unit'" in str(caught.value) and "sweep.toml" in str(caught.value)
    check_column_names(plan)


def test_peak_instances_replays_entries_into_and_exits_from_service():
    from simfleet.sweep.execute import peak_instances
    from simfleet.engine.events import EventLog
    import datetime as dt
    log = EventLog(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    for t, name in enumerate(["InstanceInService", "InstanceInService", "InstanceLaunched", "InstanceInService",
                              "InstanceDraining", "InstanceTerminated", "InstanceFailed", "InstanceLaunched",
                              "InstanceInService", "InstanceInService", "InstanceLaunchCancelled"]):
        detail = {"InstanceInService": {"instance_type": "ml.c5.large", "workers": 1},
                  "InstanceLaunched": {"instance_type": "ml.c5.large", "reason": "policy", "provisioning_s": 1.0,
                                       "model_load_s": 1.0},
                  "InstanceDraining": {"reason": "policy", "in_flight_until_s": None}}.get(
                      name, {"reason": "policy", "billed_s": 1.0})
        log.add(float(t), name, **detail)
    assert peak_instances(log.table()) == 3  # 3 in service, then 1 after a drain and a failure, then 3 again


def test_peak_instances_of_an_autoscaled_run_equals_the_engine_count():
    """The event replay against the instance manager's own in-service count (the summary)."""
    from simfleet.sweep.execute import peak_instances
    from small_experiments import base_experiment, scenario
    raw = base_experiment(duration="20min")
    rid = "endpoint/ep/variant/A"
    target = {"ServiceNamespace": "sagemaker", "ResourceId": rid,
              "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
    raw["instances"] = {"provisioning_time": {"kind": "constant", "value": "30s"}, "mean_time_to_failure": "15min"}
    raw["autoscaling"] = {"targets": [{**target, "MinCapacity": 1, "MaxCapacity": 6}], "scheduled_actions": [
        {**target, "ScheduledActionName": "up", "Schedule": "at(2026-01-05T09:05:00)",
         "ScalableTargetAction": {"MinCapacity": 5}},
        {**target, "ScheduledActionName": "down", "Schedule": "at(2026-01-05T09:12:00)",
         "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 1}}]}
    result = simulate(scenario(raw))
    engine_peak = result.summary["variants"][0]["peak_instances_in_service"]
    assert engine_peak >= 5
    assert peak_instances(result.events) == engine_peak
