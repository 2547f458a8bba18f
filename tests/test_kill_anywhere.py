"""SIGKILL `simfleet run`, `recommend` and `sweep` at random moments: nothing half-written, a re-run succeeds.

Real `python -m simfleet` processes, each in its own session, are killed outright (SIGKILL to the
command's process alone, as `kill -9` or the kernel's out-of-memory killer does: nothing of it
runs any more, no `finally`, no handler) at seeded random moments of each phase: while it starts
and validates, while it simulates (or its pool workers run the load tests or sweep runs), and
while it writes its files and swaps its directory in. Several kills follow one another on the
same `--out`, then the same command runs to its end in this process.

After every kill:

* every file under a final name is complete: a run directory or a job folder is, file for file and
  byte for byte, either the one that was there before the kill or the one an uninterrupted command
  writes (the runs are deterministic: same seed, same bytes); a sweep dataset holds only complete
  files of the uninterrupted sweep (its metrics files byte for byte, its completion marks and the
  rows of `runs.parquet` but for the wall time);
* the only other files are hidden temporary ones (`.<name>.simfleet-new-<pid>` beside the output,
  `.tmp-<pid>-<name>` inside a sweep dataset);
* no process of the command outlives it: its pool workers, fork server and resource tracker end
  when they see it gone (left alone, workers would run the tasks already queued, write their
  metrics into the dataset after the kill, and then wait for work forever).

After the re-run: the output equals the uninterrupted command's (a resumed sweep: `runs.parquet`
without its wall-time column, every completion mark without it, every metrics file byte for byte),
and no temporary file is left: the re-run removes those of the killed processes.

The default tier kills each command three times, once in each phase; the `slow` campaign kills
each many times at moments drawn from all phases. Signals that let the command end cleanly
(SIGINT, SIGTERM): `test_interrupts.py`.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.outputs import directory
from simfleet.outputs.directory import OutputDirectory
from simfleet.sweep.dataset import SweepDataset, check_destination, run_marks
from simfleet.sweep.plan import load_sweep

REPO = Path(__file__).resolve().parents[1]
SIMFLEET = [sys.executable, "-m", "simfleet"]
WALL_TIME = "wall_s"

EXPERIMENT = """\
[experiment]
name = "killed"
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
name = "killed-sweep"
base = "experiment.toml"
seed = 1

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2, 3, 4]
"""

JOB = """\
JobName = "killed-job"
JobType = "Advanced"
RoleArn = "arn:aws:iam::123456789012:role/SageMakerInferenceRecommender"

[InputConfig]
ModelPackageVersionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-fraud/1"
ResourceLimit = {{ MaxNumberOfTests = 10, MaxParallelOfTests = 2 }}
EndpointConfigurations = [{{ InstanceType = "ml.c5.large" }}, {{ InstanceType = "ml.m5.large" }}]

[InputConfig.TrafficPattern]
TrafficType = "PHASES"
Phases = [{{ InitialNumberOfUsers = 1, SpawnRate = 1, DurationInSeconds = 300 }}]

[StoppingConditions]
MaxInvocations = 3000

[simfleet]
model = "xgboost-tabular"
seed = {seed}
think_time = "200ms"
"""

#: `.<name>.simfleet-new-<pid>` / `-old-<pid>` beside an output directory; `.tmp-<pid>-<name>` of an atomic write.
STAGING = re.compile(r"\.(?P<name>.+)\.simfleet-(new|old)-(?P<pid>\d+)")
ATOMIC = re.compile(r"\.tmp-(?P<pid>\d+)-.+")


# --- the killed command ---------------------------------------------------------------------------


class Command:
    """A `simfleet` process in its own session, its stderr lines collected as they come."""

    def __init__(self, args: list, cwd: Path):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(SIMFLEET + [str(a) for a in args], cwd=cwd, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition: Callable[[], bool], poll_s: float, timeout_s: float = 90.0) -> None:
        """Until `condition()` holds or the command has ended by itself."""
        deadline = time.monotonic() + timeout_s
        while not condition() and self.process.poll() is None:
            assert time.monotonic() < deadline, f"not there within {timeout_s} s: {self.lines}"
            time.sleep(poll_s)

    def kill(self) -> None:
        """SIGKILL the command's process alone (not its workers), as `kill -9 <pid>` does."""
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait(30)
        self._reader.join(5)

    def session_left(self, timeout_s: float = 15.0) -> bool:
        """Whether a process of the session (a pool worker, the fork server) is still there after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return False
            time.sleep(0.05)
        return True

    def end_session(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@dataclass(frozen=True)
class Moment:
    """When to kill: once `reached(command)` holds (None: at once), after a random delay of up to `delay_s`."""

    phase: str
    reached: Callable[[Command], bool] | None
    delay_s: float
    poll_s: float = 0.01


def kill_at(args: list, cwd: Path, moment: Moment, rng: random.Random) -> int:
    """Run `simfleet args` in `cwd`, SIGKILL it at `moment`; its pid. Fails if a process of it outlives it."""
    command = Command(args, cwd)
    try:
        if moment.reached is not None:
            command.wait_for(lambda: moment.reached(command), moment.poll_s)
        time.sleep(rng.uniform(0.0, moment.delay_s))
        command.kill()
        assert "Traceback" not in "\n".join(command.lines), command.lines
        orphans = command.session_left()
    finally:
        command.end_session()
    assert not orphans, f"a process of the killed command outlived it ({moment.phase})"
    return command.process.pid


def invoke(*args) -> None:
    """The command run to its end in this process (the working directory is the test's)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)


# --- what is on disk -------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file under `folder` with its bytes (hidden ones too); None when there is no folder."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def strays(parent: Path, name: str, inputs: set[str], killed: set[int]) -> list[str]:
    """Entries of `parent` beside the inputs and the output `name` that are not a temporary directory of
    that output left by a killed process."""
    found = []
    for entry in parent.iterdir():
        if entry.name in inputs or entry.name == name:
            continue
        match = STAGING.fullmatch(entry.name)
        if not (match and match["name"] == name and int(match["pid"]) in killed and entry.is_dir()):
            found.append(entry.name)
    return found


def hidden(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


def workdir_with(workdir: Path, **files: str) -> Path:
    for name, text in files.items():
        (workdir / name).write_text(text)
    return workdir


def phases_for(rng: random.Random, phases: list[str], count: int | None) -> list[str]:
    """One kill in each phase, in order (count None), or `count` kills in phases drawn at random."""
    return list(phases) if count is None else [rng.choice(phases) for _ in range(count)]


def staging_of(parent: Path, name: str, command: Command) -> Path | None:
    """The command's own temporary directory of the output `name` (not one an earlier killed command left)."""
    folder = parent / f".{name}.simfleet-new-{command.process.pid}"
    return folder if folder.is_dir() else None


def files_in(folder: Path | None) -> list[str]:
    try:
        return os.listdir(folder) if folder is not None else []
    except FileNotFoundError:
        return []


# --- simfleet run ----------------------------------------------------------------------------------


RUN_PHASES = ["validation", "simulation", "writing"]


def _run_moment(workdir: Path, phase: str) -> Moment:
    def writing(command) -> bool:  # its metrics, the first of the files written after the simulation
        return any("metrics" in name for name in files_in(staging_of(workdir, "run", command)))

    return {"validation": Moment("validation", None, 1.0),
            "simulation": Moment("simulation", lambda command: staging_of(workdir, "run", command) is not None, 0.6),
            "writing": Moment("writing", writing, 0.03, poll_s=0.001)}[phase]


def _kill_runs(workdir: Path, monkeypatch, seed: int, count: int | None, earlier: bool) -> None:
    rng = random.Random(seed)
    workdir_with(workdir, **{"experiment.toml": EXPERIMENT.format(duration="40min")})
    monkeypatch.chdir(workdir)
    args = ["run", "experiment.toml", "--out", "run", "--requests", "-q"]
    invoke(*args[:3], "reference", *args[4:])
    reference = snapshot(workdir / "reference")
    if earlier:  # an earlier run of another seed, which the killed runs would replace
        invoke(*args, "--seed", "9")
    before = snapshot(workdir / "run")
    inputs = {"experiment.toml", "models", "reference"}
    killed: set[int] = set()
    for phase in phases_for(rng, RUN_PHASES, count):
        moment = _run_moment(workdir, phase)
        killed.add(kill_at(args, workdir, moment, rng))
        now = snapshot(workdir / "run")
        assert now == before or now == reference, f"a half-written run directory after a kill ({moment.phase})"
        assert not strays(workdir, "run", inputs, killed), moment.phase
        before = now
    invoke(*args)
    assert snapshot(workdir / "run") == reference
    assert sorted(p.name for p in workdir.iterdir()) == ["experiment.toml", "models", "reference", "run"]


def test_a_run_killed_while_validating_simulating_and_writing_leaves_whole_directories(workdir, monkeypatch):
    _kill_runs(workdir, monkeypatch, seed=20, count=None, earlier=True)


# --- simfleet recommend ----------------------------------------------------------------------------


JOB_PHASES = ["validation", "load tests", "writing"]


def _job_moment(workdir: Path, phase: str) -> Moment:
    # "load tests": the job has printed its first line, and its pool workers start the tests
    return {"validation": Moment("validation", None, 1.0),
            "load tests": Moment("load tests", lambda command: bool(command.lines), 1.5),
            "writing": Moment("writing", lambda command: staging_of(workdir, "job", command) is not None, 0.1,
                              poll_s=0.001)}[phase]


def _kill_jobs(workdir: Path, monkeypatch, seed: int, count: int | None, earlier: bool) -> None:
    rng = random.Random(seed)
    monkeypatch.chdir(workdir)
    args = ["recommend", "job.toml", "--out", "job", "--workers", "2"]
    if earlier:  # an earlier job of another seed, from the same file name (the manifest names it)
        workdir_with(workdir, **{"job.toml": JOB.format(seed=4)})
        invoke(*args[:4], "-q", "--workers", "1")
    workdir_with(workdir, **{"job.toml": JOB.format(seed=3)})
    invoke(*args[:3], "reference", "-q", "--workers", "1")  # the workers change nothing
    reference = snapshot(workdir / "reference")
    before = snapshot(workdir / "job")
    inputs = {"job.toml", "models", "reference"}
    killed: set[int] = set()
    for phase in phases_for(rng, JOB_PHASES, count):
        moment = _job_moment(workdir, phase)
        killed.add(kill_at(args, workdir, moment, rng))
        now = snapshot(workdir / "job")
        assert now == before or now == reference, f"a half-written job folder after a kill ({moment.phase})"
        assert not strays(workdir, "job", inputs, killed), moment.phase
        before = now
    invoke(*args[:4], "-q", "--workers", "1")  # the same job; one worker is quicker to start
    assert snapshot(workdir / "job") == reference
    assert sorted(p.name for p in workdir.iterdir()) == ["job", "job.toml", "models", "reference"]


def test_a_job_killed_while_validating_testing_and_writing_leaves_whole_folders(workdir, monkeypatch):
    _kill_jobs(workdir, monkeypatch, seed=20, count=None, earlier=False)


# --- simfleet sweep --------------------------------------------------------------------------------


SWEEP_PHASES = ["validation", "runs", "recording"]


def _sweep_moment(out: Path, phase: str, rng: random.Random, runs: int) -> Moment:
    """"runs": the sweep has printed its first line (its dataset and pool come next); "recording": it has
    marked one more run finished than there were (or a few more), as it records runs."""
    target = len(run_marks(out)) + rng.randint(1, max(1, runs // 2))
    return {"validation": Moment("validation", None, 1.0),
            "runs": Moment("runs", lambda command: bool(command.lines), 2.0),
            "recording": Moment("recording", lambda command: len(run_marks(out)) >= target, 0.05,
                                poll_s=0.002)}[phase]


def _without_wall_time(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != WALL_TIME}


def _runs_table(out: Path) -> list[dict]:
    return pq.read_table(out / "runs.parquet").drop([WALL_TIME]).to_pylist()


def _assert_parts_of(out: Path, reference: Path, killed_pids: set[int]) -> None:
    """Every file of the dataset at `out` is complete and one of the uninterrupted sweep's (see the module docstring)."""
    if not out.exists():
        return
    marks = set()
    for path in sorted(out.rglob("*")):
        name = path.relative_to(out)
        if path.is_dir():
            assert (reference / name).is_dir(), f"{name}: a folder the sweep does not write"
            continue
        if path.name.startswith("."):
            assert ATOMIC.fullmatch(path.name), f"{name}: not a temporary file of an atomic write"
            continue
        if path.name == "runs.parquet":
            continue
        if name.parts[0] == "runs":
            row = json.loads(path.read_text())
            assert _without_wall_time(row) == _without_wall_time(json.loads((reference / name).read_text())), name
            marks.add(row["run_id"])
        else:
            assert path.read_bytes() == (reference / name).read_bytes(), f"{name}: half-written or different"
    if (out / "runs.parquet").exists():
        rows = _runs_table(out)
        reference_rows = {row["run_id"]: row for row in _runs_table(reference)}
        assert all(row == reference_rows[row["run_id"]] for row in rows)
        assert {row["run_id"] for row in rows} <= marks


def _assert_same_sweep(out: Path, reference: Path) -> None:
    """A resumed sweep equals the uninterrupted one: the same files, byte for byte but for the wall time."""
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert files == {str(p.relative_to(reference)) for p in reference.rglob("*") if p.is_file()}
    assert not hidden(out)
    mine, theirs = pq.read_table(out / "runs.parquet"), pq.read_table(reference / "runs.parquet")
    assert mine.drop([WALL_TIME]).equals(theirs.drop([WALL_TIME]), check_metadata=True)
    for name in sorted(files - {"runs.parquet"}):
        if name.startswith("runs/"):
            assert (_without_wall_time(json.loads((out / name).read_text()))
                    == _without_wall_time(json.loads((reference / name).read_text()))), name
        else:
            assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def _kill_sweeps(workdir: Path, monkeypatch, seed: int, count: int | None) -> None:
    rng = random.Random(seed)
    workdir_with(workdir, **{"experiment.toml": EXPERIMENT.format(duration="10min"), "sweep.toml": SWEEP})
    monkeypatch.chdir(workdir)
    args = ["sweep", "sweep.toml", "--out", "out", "--workers", "2"]
    invoke(*args[:3], "reference", "-q", "--workers", "1")  # the workers change nothing
    out, reference = workdir / "out", workdir / "reference"
    runs = len(load_sweep(workdir / "sweep.toml").runs)
    killed: set[int] = set()
    for phase in phases_for(rng, SWEEP_PHASES, count):
        moment = _sweep_moment(out, phase, rng, runs)
        killed.add(kill_at(args, workdir, moment, rng))
        _assert_parts_of(out, reference, killed)
        assert sorted(p.name for p in workdir.iterdir()) in (
            ["experiment.toml", "models", "reference", "sweep.toml"],
            ["experiment.toml", "models", "out", "reference", "sweep.toml"]), moment.phase
    invoke(*args, "-q")
    _assert_same_sweep(out, reference)


def test_a_sweep_killed_while_validating_running_and_recording_resumes_to_the_same_dataset(workdir, monkeypatch):
    _kill_sweeps(workdir, monkeypatch, seed=20, count=None)


def test_a_sweep_killed_while_writing_its_sweep_json_is_resumed_not_refused(workdir, monkeypatch):
    """A kill before the rename of sweep.json leaves `.tmp-<pid>-sweep.json` alone in a new dataset folder."""
    workdir_with(workdir, **{"experiment.toml": EXPERIMENT.format(duration="1min"), "sweep.toml": SWEEP})
    monkeypatch.chdir(workdir)
    (workdir / "out").mkdir()
    (workdir / "out" / ".tmp-999999999-sweep.json").write_text('{"name": "killed-sw')
    check_destination(workdir / "out")
    invoke("sweep", "sweep.toml", "--out", "out", "--workers", "1", "-q")
    assert len(run_marks(workdir / "out")) == 4 and not hidden(workdir / "out")


def test_a_sweep_killed_while_preparing_its_dataset_leaves_nothing_a_rerun_refuses(workdir, monkeypatch):
    """Killed (here: stopped by an exception no clean-up sees) as it writes sweep.json, a sweep has
    written nothing else: its folder is new or empty, which the next attempt accepts."""
    workdir_with(workdir, **{"experiment.toml": EXPERIMENT.format(duration="1min"), "sweep.toml": SWEEP})
    plan = load_sweep(workdir / "sweep.toml")

    class Killed(BaseException):
        pass

    def killed(path, document):
        raise Killed()

    monkeypatch.setattr("simfleet.sweep.dataset.write_json", killed)
    with pytest.raises(Killed):
        SweepDataset(workdir / "out", plan).prepare()
    assert list((workdir / "out").iterdir()) == []
    check_destination(workdir / "out")


# --- leftovers of a killed writer -------------------------------------------------------------------

HOLDER = """\
import fcntl, os, sys, time
path = os.path.join(sys.argv[1], f".run.simfleet-new-{os.getpid()}")
os.mkdir(path)
fd = os.open(path, os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print(path, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="flock: POSIX")
def test_a_killed_writers_leftover_goes_even_when_its_process_number_is_taken_and_a_live_writers_stays(tmp_path):
    """After a kill the process number is free, and another process may get it: the leftover of the
    killed writer still goes (nobody holds its lock), while a live writer's (locked) is left alone."""
    taken = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # has the dead writer's number
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        live = Path(holder.stdout.readline().strip())
        stale = tmp_path / f".run.simfleet-new-{taken.pid}"
        stale.mkdir()
        (stale / ".tmp-1-requests.parquet").write_bytes(b"half a trace")
        with OutputDirectory(tmp_path / "run") as folder:
            assert directory._locked(folder) is True  # held while it is assembled
            (folder / "summary.json").write_text("{}")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "run"])
    finally:
        for process in (taken, holder):
            process.kill()
            process.wait()
    with OutputDirectory(tmp_path / "run", force=True) as folder:  # its writer gone, the live one's goes too
        (folder / "summary.json").write_text("{}")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


# --- the long campaign -----------------------------------------------------------------------------


_CAMPAIGN_SEEDS = [int(s) for s in os.environ.get("SIMFLEET_KILL_SEEDS", "").split(",") if s.strip()]


@pytest.mark.slow
@pytest.mark.skipif(not _CAMPAIGN_SEEDS, reason="the long kill campaign runs with SIMFLEET_KILL_SEEDS=1,2,3 (the "
                                                "suite's kill tests above cover every command and phase)")
@pytest.mark.parametrize("seed", _CAMPAIGN_SEEDS or [0])
def test_a_long_campaign_of_kills_at_random_moments(workdir, monkeypatch, seed):
    """22 kills at seeded random moments per seed; SIMFLEET_KILL_SEEDS=1,2,3 runs it (about a minute a seed)."""
    rng = random.Random(seed)
    for command in ("run", "recommend", "sweep"):
        folder = workdir / command
        folder.mkdir()
        (folder / "models").symlink_to(workdir / "models", target_is_directory=True)
        if command == "run":
            _kill_runs(folder, monkeypatch, rng.randrange(10**6), count=8, earlier=rng.random() < 0.5)
        elif command == "recommend":
            _kill_jobs(folder, monkeypatch, rng.randrange(10**6), count=6, earlier=rng.random() < 0.5)
        else:
            _kill_sweeps(folder, monkeypatch, rng.randrange(10**6), count=8)
