"""Ctrl-C (SIGINT) and SIGTERM end `simfleet run`, `recommend` and `sweep` with one line and exit 130 / 143.

Real `python -m simfleet` processes, each in its own session, are signalled once their work has
started (polled: the run's temporary directory exists, the job has printed its first line, the
sweep has finished a run). Nothing half-written may be left: no run directory, no temporary
directory, an earlier run directory untouched; a sweep keeps the runs it finished (and
`runs.parquet` lists exactly those) and no metrics of the others; no process of the command
outlives it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simfleet.outputs.interrupts import Terminated
from simfleet.sweep.dataset import run_marks

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SIMFLEET = [sys.executable, "-m", "simfleet"]
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

EXPERIMENT = """\
[experiment]
name = "interrupted"
start_time = 2026-01-05T09:00:00Z
duration = "{duration}"
seed = 5
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2

[[traffic]]
kind = "poisson"
rate = 200
"""

SWEEP = """\
[sweep]
name = "interrupted-sweep"
base = "experiment.toml"
seed = 1

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2, 3, 4, 5, 6, 7, 8]
"""

JOB = """\
JobName = "interrupted-job"
JobType = "Advanced"
RoleArn = "arn:aws:iam::123456789012:role/SageMakerInferenceRecommender"

[InputConfig]
ModelPackageVersionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-fraud/1"
ResourceLimit = { MaxNumberOfTests = 10, MaxParallelOfTests = 2 }
EndpointConfigurations = [{ InstanceType = "ml.c5.large" }, { InstanceType = "ml.m5.large" },
                          { InstanceType = "ml.c5.xlarge" }, { InstanceType = "ml.m5.xlarge" }]

[InputConfig.TrafficPattern]
TrafficType = "PHASES"
Phases = [{ InitialNumberOfUsers = 1, SpawnRate = 1, DurationInSeconds = 3600 }]

[StoppingConditions]
MaxInvocations = 30000

[simfleet]
model = "xgboost-tabular"
seed = 3
think_time = "200ms"
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "models", tmp_path / "models")
    return tmp_path


class Command:
    """A `simfleet` process in its own session, its stderr lines collected as they come."""

    def __init__(self, args: list, cwd: Path, env: dict | None = None):
        env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.process = subprocess.Popen(SIMFLEET + [str(a) for a in args], cwd=cwd, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert self.process.poll() is None, f"ended before the signal: {self.lines}"
            assert time.monotonic() < deadline, f"not started within {timeout_s} s: {self.lines}"
            time.sleep(0.02)

    def interrupt(self, signum: int, timeout_s: float = 30.0) -> int:
        """Send `signum` to the command alone (not its workers) and wait for it to end; its exit code."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout_s)
        self._reader.join(5)
        return code

    def assert_no_process_left(self, timeout_s: float = 10.0) -> None:
        """Every process of the session (pool workers, the fork server) has ended."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, "a process of the command outlived it"
            time.sleep(0.05)

    def descendants(self) -> list[tuple[int, str]]:
        """(pid, command line) of every process below the command (Linux: /proc), children first."""
        found, todo = [], [self.process.pid]
        while todo:
            parent = todo.pop(0)
            for task in Path(f"/proc/{parent}/task").glob("*"):
                try:
                    children = [int(pid) for pid in (task / "children").read_text().split()]
                except OSError:
                    continue
                for child in children:
                    try:
                        found.append((child, Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
                    except OSError:
                        continue
                    todo.append(child)
        return found

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def hidden(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".")]


@pytest.mark.parametrize("signum, earlier", [(signal.SIGINT, False), (signal.SIGTERM, True)],
                         ids=["SIGINT-new", "SIGTERM-over-an-earlier-run"])
def test_an_interrupted_run_writes_nothing_and_keeps_an_earlier_run(workdir, signum, earlier):
    out = workdir / "run"
    if earlier:  # what the run would replace: an earlier run's files (a simfleet manifest among them)
        out.mkdir()
        (out / "manifest.json").write_text(json.dumps({"simfleet_version": "0"}))
        (out / "requests.parquet").write_bytes(b"an earlier run's requests")
    (workdir / "experiment.toml").write_text(EXPERIMENT.format(duration="100h"))
    before = {str(p.relative_to(workdir)): p.read_bytes() for p in workdir.rglob("*") if p.is_file()}
    command = Command(["run", "experiment.toml", "--out", "run"], workdir)
    try:
        command.wait_for(lambda: any(p.name.startswith(".run.simfleet-new-") for p in workdir.iterdir()))
        time.sleep(0.3)  # into the simulation
        code = command.interrupt(signum)
    finally:
        command.kill()
    name = signal.Signals(signum).name
    assert code == CODES[signum], command.lines
    assert command.lines == [f"error: interrupted by {name}; nothing was written (run is as it was)"]
    after = {str(p.relative_to(workdir)): p.read_bytes() for p in workdir.rglob("*") if p.is_file()}
    assert after == before and not hidden(workdir)
    assert out.is_dir() == earlier


def test_an_interrupted_job_writes_nothing_and_stops_its_workers(workdir):
    (workdir / "job.toml").write_text(JOB)
    command = Command(["recommend", "job.toml", "--out", "job", "--workers", "2"], workdir)
    try:
        command.wait_for(lambda: command.lines)  # "job interrupted-job (Advanced), model …": the tests start
        time.sleep(1.0)
        code = command.interrupt(signal.SIGINT)
        command.assert_no_process_left()
    finally:
        command.kill()
    assert code == 130, command.lines
    assert command.lines[-1] == "error: interrupted by SIGINT; nothing was written (job is as it was)"
    assert "Traceback" not in "\n".join(command.lines)
    assert sorted(p.name for p in workdir.iterdir()) == ["job.toml", "models"]


def test_an_interrupted_sweep_keeps_its_finished_runs_only(workdir):
    (workdir / "experiment.toml").write_text(EXPERIMENT.format(duration="20min"))
    (workdir / "sweep.toml").write_text(SWEEP)
    out = workdir / "out"
    command = Command(["sweep", "sweep.toml", "--out", "out", "--workers", "2"], workdir)
    try:
        command.wait_for(lambda: out.is_dir() and run_marks(out))
        code = command.interrupt(signal.SIGINT)
        command.assert_no_process_left()
    finally:
        command.kill()
    assert code == 130, command.lines
    marks = {p.stem for p in run_marks(out)}
    assert 1 <= len(marks) < 8, "the interruption came too late"
    assert command.lines[-1] == (f"error: interrupted by SIGINT; {len(marks)} finished run"
                                 f"{'s are' if len(marks) > 1 else ' is'} kept in out; run the same command "
                                 "again to resume")
    assert set(pq.read_table(out / "runs.parquet").column("run_id").to_pylist()) == marks
    with_metrics = {p.parent.name.removeprefix("run_id=") for p in (out / "metrics").rglob("metrics.parquet")}
    assert with_metrics == marks
    assert not hidden(out)


def test_a_sweep_terminated_before_any_run_finished_leaves_no_dataset(workdir):
    (workdir / "experiment.toml").write_text(EXPERIMENT.format(duration="100h"))
    (workdir / "sweep.toml").write_text(SWEEP)
    command = Command(["sweep", "sweep.toml", "--out", "out", "--workers", "2"], workdir)
    try:
        command.wait_for(lambda: (workdir / "out" / "sweep.json").is_file())
        code = command.interrupt(signal.SIGTERM)
        command.assert_no_process_left()
    finally:
        command.kill()
    assert code == 143, command.lines
    assert command.lines[-1] == "error: interrupted by SIGTERM; nothing was written"
    assert sorted(p.name for p in workdir.iterdir()) == ["experiment.toml", "models", "sweep.toml"]


def _forked(command: Command) -> int:
    """How many processes of the command run the fork server's command line: the fork server and
    the pool's workers it forked (a fork keeps its parent's command line)."""
    return sum("multiprocessing.forkserver" in line for _, line in command.descendants())


def _fork_server(command: Command) -> bool:
    """The pool's start has begun: the fork server runs (and imports the simulator)."""
    return _forked(command) >= 1


def _pool_workers(command: Command) -> bool:
    """A pool worker runs (with an empty numba cache, it compiles the kernels first)."""
    return _forked(command) >= 2


# Python runs a `sitecustomize` module found on its path at start-up: this one makes the fork server
# (alone) start as slowly as its import of the simulator has on a fresh clone of a busy machine
SLOW_FORK_SERVER = """\
import time
with open("/proc/self/cmdline", "rb") as cmdline:
    if b"multiprocessing.forkserver" in cmdline.read():
        time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the pool's processes are found in /proc")
@pytest.mark.parametrize("started, slow_fork_server", [(_fork_server, True), (_pool_workers, False)],
                         ids=["fork-server-importing", "workers-compiling"])
def test_a_sweep_answers_sigterm_while_its_pool_starts_with_a_cold_numba_cache(workdir, tmp_path_factory, started,
                                                                                 slow_fork_server):
    """With an empty numba cache, as on a fresh clone, the pool's start is long: the fork server
    imports the simulator (here made to take a minute), then each worker compiles the kernels. A
    SIGTERM then ends the command without waiting for either (it was once held until the fork server
    was ready), and no process of it is left. The bound is generous: the point is not waiting for
    the start to finish."""
    (workdir / "experiment.toml").write_text(EXPERIMENT.format(duration="100h"))
    (workdir / "sweep.toml").write_text(SWEEP)
    env = {"NUMBA_CACHE_DIR": str(tmp_path_factory.mktemp("numba-cache"))}
    if slow_fork_server:
        site = tmp_path_factory.mktemp("site")
        (site / "sitecustomize.py").write_text(SLOW_FORK_SERVER)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(site)])
    command = Command(["sweep", "sweep.toml", "--out", "out", "--workers", "2"], workdir, env=env)
    try:
        command.wait_for(lambda: started(command))
        code = command.interrupt(signal.SIGTERM, timeout_s=20.0)
        command.assert_no_process_left()
    finally:
        command.kill()
    assert code == 143, command.lines
    assert [line for line in command.lines if line.startswith("error:")] == [
        "error: interrupted by SIGTERM; nothing was written"]
    assert command.lines[-1].startswith("error:") and "Traceback" not in "\n".join(command.lines), command.lines
    assert sorted(p.name for p in workdir.iterdir()) == ["experiment.toml", "models", "sweep.toml"]


def test_an_interrupt_out_of_code_run_from_a_string_still_exits_130(tmp_path):
    """CPython marks a KeyboardInterrupt leaving `exec("…")` (numba and dataclasses run such code) as
    unhandled and, for a program run with `python -m` as simfleet is, ends the process by SIGINT (-2)
    instead of exit code 130 even though the interrupt was handled; the command resets the mark.
    (Without the reset this test gets -2.)"""
    script = ("import typer\n"
              "from simfleet.outputs.interrupts import interruptible\n"
              "app = typer.Typer()\n"
              "@app.command()\n"
              "def main() -> None:\n"
              "    with interruptible(lambda: 'nothing was written'):\n"
              "        exec('raise KeyboardInterrupt')\n"
              "app()\n")
    (tmp_path / "exec_interrupted.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    done = subprocess.run([sys.executable, "-m", "exec_interrupted"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (130, "error: interrupted by SIGINT; nothing was written\n")


def test_a_copy_of_terminated_names_the_same_signal():
    original = Terminated(signal.SIGTERM)
    copy = type(original)(*original.args)  # as SimPy re-raises the exception of a failed process
    assert copy.signum == original.signum == signal.SIGTERM and str(copy) == "terminated by SIGTERM"
