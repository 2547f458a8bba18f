"""Output directories hold their own files only, and a bad --out, a failed write or a full disk leaves nothing.

`outputs.directory.OutputDirectory` on its own (assembled aside, swapped in whole, refused or
discarded), then through each command that writes one: `simfleet run`, `simfleet recommend`,
`simfleet report --png` and `simfleet sweep` (whose dataset grows in place). A full disk is
simulated by making a writer raise ENOSPC; permission denied by making `mkdir` raise EACCES (the
suite may run as root, for whom `chmod` denies nothing), and for real under /sys where the
kernel refuses even root. Interruption by signals: `test_interrupts.py`.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.outputs import directory
from simfleet.outputs.directory import (JOB_FOLDER_FILES, RUN_DIRECTORY_FILES, OutputDirectory, png_folder,
                                        replaceable, signals_held)

DATA = Path(__file__).parent / "data"

EXPERIMENT = """\
[experiment]
name = "outputs-test"
start_time = 2026-01-05T09:00:00Z
duration = "1min"
seed = 5
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
rate = 20
"""

JOB = """\
JobName = "outputs-job"
JobType = "Advanced"
RoleArn = "arn:aws:iam::123456789012:role/SageMakerInferenceRecommender"

[InputConfig]
ModelPackageVersionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-fraud/1"
ResourceLimit = { MaxNumberOfTests = 10, MaxParallelOfTests = 1 }
EndpointConfigurations = [{ InstanceType = "ml.c5.large" }]

[InputConfig.TrafficPattern]
TrafficType = "PHASES"
Phases = [{ InitialNumberOfUsers = 1, SpawnRate = 1, DurationInSeconds = 120 }]

[StoppingConditions]
MaxInvocations = 3000
ModelLatencyThresholds = [{ Percentile = "P95", ValueInMilliseconds = 100 }]

[simfleet]
model = "xgboost-tabular"
seed = 3
think_time = "200ms"
"""

RUN_MANIFEST = json.dumps({"simfleet_version": "0", "seed": 1})
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error(result, code: int = EXIT_INVALID_INPUT, progress: bool = False) -> str:
    """Exit `code` through typer.Exit, no traceback, exactly one `error:` line on stderr (with
    `progress`, among a sweep's progress lines); returns it."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and (progress or lines == errors), result.stderr
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def earlier_run(folder: Path, *names: str) -> Path:
    """A directory that looks like an earlier run: a simfleet manifest and the given files."""
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(RUN_MANIFEST)
    for name in names:
        (folder / name).write_text(f"old {name}")
    return folder


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "models", tmp_path / "models")
    (tmp_path / "experiment.toml").write_text(EXPERIMENT)
    return tmp_path


# --- OutputDirectory on its own --------------------------------------------------------------------


def test_a_new_directory_appears_whole_with_its_missing_parents(tmp_path):
    final = tmp_path / "a" / "b" / "run"
    with OutputDirectory(final) as folder:
        assert not final.exists() and folder.parent == final.parent and folder.name.startswith(".run.simfleet-new-")
        (folder / "summary.json").write_text("{}")
    assert snapshot(final) == {"summary.json": b"{}"}
    assert sorted(p.name for p in final.parent.iterdir()) == ["run"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_an_earlier_run_is_replaced_as_a_whole(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(directory, "_exchange", lambda a, b: False)
    final = earlier_run(tmp_path / "run", "requests.parquet", "summary.json", "report.html")
    with OutputDirectory(final) as folder:
        (folder / "summary.json").write_text("new")
        (folder / "manifest.json").write_text(RUN_MANIFEST)
    assert snapshot(final) == {"summary.json": b"new", "manifest.json": RUN_MANIFEST.encode()}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_an_error_inside_leaves_the_destination_as_it_was(tmp_path):
    final = earlier_run(tmp_path / "run", "requests.parquet")
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="boom"):
        with OutputDirectory(final) as folder:
            (folder / "summary.json").write_text("half")
            raise ValueError("boom")
    assert snapshot(tmp_path) == before and [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit])
def test_an_interruption_inside_leaves_no_directory_and_no_parent_it_made(tmp_path, interruption):
    with pytest.raises(interruption):
        with OutputDirectory(tmp_path / "new" / "deeper" / "run") as folder:
            (folder / "metrics.parquet").write_bytes(b"x" * 1000)
            raise interruption()
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    final = earlier_run(tmp_path / "run", "events.parquet")
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as caught:
        with OutputDirectory(final) as folder:
            (folder / "events.parquet").write_bytes(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "events.parquet"))
    [problem] = caught.value.problems
    assert str(problem) == f"{final}: cannot write the run directory (No space left on device); nothing was written"
    assert snapshot(tmp_path) == before


def test_an_os_error_about_another_file_is_not_blamed_on_the_output(tmp_path):
    with pytest.raises(FileNotFoundError):
        with OutputDirectory(tmp_path / "run"):
            open(tmp_path / "some-input.csv")
    assert list(tmp_path.iterdir()) == []


def test_permission_denied_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    real = Path.mkdir

    def denied(self, *args, **kwargs):
        if self.name.startswith(".run.simfleet-new-"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(InputError) as caught:
        with OutputDirectory(tmp_path / "parent" / "run"):
            pytest.fail("the block must not run")
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'parent' / 'run'}: cannot write the run directory (Permission denied); nothing was written"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_parent_is_refused_before_any_work(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(InputError) as caught:
            OutputDirectory(parent / "run").check()
        [problem] = caught.value.problems
        assert "permission denied" in str(problem)
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o700)


def test_a_file_is_never_replaced_even_with_force(tmp_path):
    (tmp_path / "f").write_text("mine")
    for force in (False, True):
        with pytest.raises(InputError) as caught:
            with OutputDirectory(tmp_path / "f", force=force):
                pytest.fail("the block must not run")
        assert [str(p) for p in caught.value.problems] == [
            f"{tmp_path / 'f'}: is a file, not a directory; --out names the run directory to write "
            "(a new path or a directory)"]
    with pytest.raises(InputError, match="is not a directory"):
        OutputDirectory(tmp_path / "f" / "run").check()
    assert snapshot(tmp_path) == {"f": b"mine"}


def test_a_foreign_directory_is_refused_unless_forced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(InputError) as caught:
        OutputDirectory(mine).check()
    [problem] = caught.value.problems
    assert str(problem) == (f"{mine}: is not a directory simfleet wrote (no simfleet manifest.json; it holds "
                            "'notes.txt'); the run directory replaces --out as a whole: choose another --out, or "
                            "add --force to replace it")
    assert snapshot(mine) == {"notes.txt": b"keep me"}
    with OutputDirectory(mine, force=True) as folder:
        (folder / "summary.json").write_text("{}")
    assert snapshot(mine) == {"summary.json": b"{}"}


def test_an_earlier_run_with_a_file_of_the_user_inside_is_refused(tmp_path):
    final = earlier_run(tmp_path / "run", "summary.json", "analysis.ipynb")
    with pytest.raises(InputError, match="'analysis.ipynb' is not a file simfleet writes there"):
        OutputDirectory(final).check()


def test_the_current_directory_is_never_replaced(tmp_path, monkeypatch):
    final = earlier_run(tmp_path / "run")
    (final / "inner").mkdir()
    for cwd in (final, final / "inner"):
        monkeypatch.chdir(cwd)
        with pytest.raises(InputError, match="is the current directory"):
            OutputDirectory(final, force=True).check()


def test_a_symbolic_link_to_a_run_replaces_the_run_it_points_at(tmp_path):
    target = earlier_run(tmp_path / "target", "requests.parquet")
    (tmp_path / "link").symlink_to(target)
    with OutputDirectory(tmp_path / "link") as folder:
        (folder / "summary.json").write_text("new")
    assert (tmp_path / "link").is_symlink() and snapshot(target) == {"summary.json": b"new"}


def test_leftovers_of_a_killed_process_are_removed_and_a_live_ones_kept(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    assert not directory._process_alive(dead)
    gone = tmp_path / f".run.simfleet-new-{dead}"
    mine = tmp_path / f".run.simfleet-new-{os.getpid()}"  # as an earlier writer in this process left it
    alive = tmp_path / f".run.simfleet-old-{os.getppid()}"
    other = tmp_path / f".other.simfleet-new-{dead}"
    for folder in (gone, mine, alive, other):
        folder.mkdir()
        (folder / "metrics.parquet").write_text("half")
    with OutputDirectory(tmp_path / "run") as folder:
        (folder / "summary.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "run"])


#: A writer killed (SIGKILL) at one step of the two-rename swap (`_exchange` unavailable, as off
#: Linux): argv = destination, step.
KILLED_IN_THE_SWAP = """\
import os, shutil, signal, sys
from pathlib import Path
from simfleet.outputs import directory
from simfleet.outputs.directory import OutputDirectory

final, step = Path(sys.argv[1]), sys.argv[2]
directory._exchange = lambda a, b: False
renames, real_rename, real_rmtree = [], os.rename, shutil.rmtree

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

def rename(source, target):
    renames.append(target)
    if step == f"before-rename-{len(renames)}":
        killed()
    real_rename(source, target)
    if step == f"after-rename-{len(renames)}":
        killed()

def rmtree(path, *args, **kwargs):
    if step == "removing-the-old" and ".simfleet-old-" in str(path):
        sorted(Path(path).iterdir())[0].unlink()  # part of it removed
        killed()
    real_rmtree(path, *args, **kwargs)

os.rename, shutil.rmtree = rename, rmtree
with OutputDirectory(final) as folder:
    (folder / "manifest.json").write_text(%r)
    (folder / "summary.json").write_text("new")
"""


@pytest.mark.parametrize("step, holds", [("before-rename-1", "old"), ("after-rename-1", "new"),
                                         ("after-rename-2", "new"), ("removing-the-old", "new")])
def test_a_writer_killed_in_a_two_rename_swap_loses_nothing_and_the_next_one_finishes(tmp_path, step, holds):
    """Killed at each step of the swap, the destination holds the earlier output or the new one, whole,
    once a command that reads or writes it has looked (a kill between the renames leaves it missing
    until then: the next one completes the swap); re-writing it succeeds and leaves nothing aside."""
    final = earlier_run(tmp_path / "run", "summary.json")
    old = snapshot(final)
    new = {"manifest.json": RUN_MANIFEST.encode(), "summary.json": b"new"}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", KILLED_IN_THE_SWAP % RUN_MANIFEST, str(final), step], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert final.exists() == (step != "after-rename-1")  # what the kill left, as the docstring says
    directory.recover_swap(final)  # as the next command reading it does (a writer: `OutputDirectory.check`)
    assert snapshot(final) == {"old": old, "new": new}[holds]
    with OutputDirectory(final) as folder:
        (folder / "manifest.json").write_text(RUN_MANIFEST)
        (folder / "summary.json").write_text("third")
    assert snapshot(final) == {"manifest.json": RUN_MANIFEST.encode(), "summary.json": b"third"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_run_killed_between_the_renames_is_found_by_the_next_run(tmp_path):
    """The next writer completes the swap before checking the destination: here a run killed between
    the renames, then `simfleet run` to the same --out."""
    final = earlier_run(tmp_path / "run", "summary.json")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", KILLED_IN_THE_SWAP % RUN_MANIFEST, str(final), "after-rename-1"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL and not final.exists()
    OutputDirectory(final).check()  # what `simfleet run` does first: the killed writer's output is in place
    assert snapshot(final) == {"manifest.json": RUN_MANIFEST.encode(), "summary.json": b"new"}
    shutil.copytree(DATA / "models", tmp_path / "models")
    (tmp_path / "experiment.toml").write_text(EXPERIMENT)
    result = invoke("run", tmp_path / "experiment.toml", "--out", final, "--no-requests", "--quiet")
    assert result.exit_code == 0, result.output
    assert (final / "metrics.parquet").is_file() and (final / "summary.json").read_text() != "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment.toml", "models", "run"]


def test_an_old_directory_left_alone_is_put_back_and_a_live_writers_swap_is_left_to_it(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    final = tmp_path / "run"
    aside = earlier_run(tmp_path / f".run.simfleet-old-{dead}", "summary.json")
    old = snapshot(aside)
    assert directory.recover_swap(final) and snapshot(final) == old and not aside.exists()
    # a writer between its renames: its new directory is locked (here by this process)
    shutil.rmtree(final)
    aside = earlier_run(tmp_path / f".run.simfleet-old-{dead}", "summary.json")
    writing = tmp_path / f".run.simfleet-new-{dead}"
    writing.mkdir()
    held = directory._lock(writing)
    try:
        assert not directory.recover_swap(final)
        assert not final.exists() and aside.is_dir() and writing.is_dir()
    finally:
        if held is not None:
            os.close(held)


def test_signals_are_held_while_a_swap_runs_and_delivered_after():
    handler = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with signals_held():
            signal.raise_signal(signal.SIGINT)
            reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is handler


def test_ctrl_c_while_the_temporary_directory_is_made_leaves_nothing(tmp_path, monkeypatch):
    real = OutputDirectory._make_parents

    def interrupted(self):
        real(self)
        signal.raise_signal(signal.SIGINT)  # held back until the temporary directory exists

    monkeypatch.setattr(OutputDirectory, "_make_parents", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with OutputDirectory(tmp_path / "new" / "run"):
            pytest.fail("the block must not run")
    assert list(tmp_path.iterdir()) == []


def test_a_held_sigterm_reaches_the_commands_handler_after_the_block():
    from simfleet.outputs.interrupts import Terminated, _terminate

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        reached = False
        with pytest.raises(Terminated):
            with signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                reached = True
        assert reached and signal.getsignal(signal.SIGTERM) is _terminate
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- what counts as a simfleet directory (compared with a naive reading of the rule) ----------------

NAMES = sorted(RUN_DIRECTORY_FILES | JOB_FOLDER_FILES | {"notes.txt", "data.csv", "x.parquet"})


@settings(max_examples=60)
@given(names=st.sets(st.sampled_from(NAMES), max_size=6), manifest=st.booleans())
def test_replaceable_matches_the_rule(tmp_path_factory, names, manifest):
    folder = tmp_path_factory.mktemp("d")
    for name in names:
        (folder / name).write_text("x")
    if manifest:
        (folder / "manifest.json").write_text(RUN_MANIFEST)
    present = set(names) | ({"manifest.json"} if manifest else set())
    simfleet_manifest = manifest  # a "manifest.json" from `names` holds "x", not simfleet's
    job = bool(present & {"recommendations.json", "steps.json"})
    allowed = JOB_FOLDER_FILES if job else RUN_DIRECTORY_FILES
    expected = not present or (simfleet_manifest and present <= allowed)
    assert (replaceable(folder) is None) == expected, (present, replaceable(folder))


def test_what_simfleet_writes_is_replaceable(workdir):
    """A real run directory (with its request trace) and a real job folder are recognised as simfleet's."""
    from simfleet.outputs.run_directory import RUN_FILES

    assert set(RUN_FILES) | {"requests.parquet", "report.html"} <= RUN_DIRECTORY_FILES
    result = invoke("run", workdir / "experiment.toml", "--out", workdir / "run", "--requests")
    assert result.exit_code == 0, result.output
    assert replaceable(workdir / "run") is None
    (workdir / "job.toml").write_text(JOB)
    result = invoke("recommend", workdir / "job.toml", "--out", workdir / "job", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert (workdir / "job" / "tests").is_dir() and replaceable(workdir / "job") is None


def test_a_png_folder_is_recognised_by_its_files(tmp_path):
    assert png_folder(tmp_path) is None
    (tmp_path / "page.png").write_bytes(b"png")
    (tmp_path / "latency.png").write_bytes(b"png")
    assert png_folder(tmp_path) is None
    (tmp_path / "page.png").unlink()
    assert "no page.png" in png_folder(tmp_path)
    (tmp_path / "page.png").write_bytes(b"png")
    (tmp_path / "notes.md").write_text("mine")
    assert "'notes.md'" in png_folder(tmp_path)


# --- simfleet run ---------------------------------------------------------------------------------------


def test_a_run_into_an_earlier_runs_directory_holds_only_the_new_run(workdir):
    """The bug this guards against: an old requests.parquet beside a new summary.json."""
    experiment = workdir / "experiment.toml"
    assert invoke("run", experiment, "--out", workdir / "fresh").exit_code == 0
    assert invoke("run", experiment, "--out", workdir / "run", "--requests", "--seed", "9").exit_code == 0
    assert (workdir / "run" / "requests.parquet").is_file()
    result = invoke("run", experiment, "--out", workdir / "run")
    assert result.exit_code == 0, result.output
    assert snapshot(workdir / "run") == snapshot(workdir / "fresh")  # same files, same bytes
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]


def test_run_out_naming_a_file_is_one_line(workdir):
    (workdir / "file").write_text("mine")
    line = one_error(invoke("run", workdir / "experiment.toml", "--out", workdir / "file"))
    assert line == f"error: {workdir / 'file'}: is a file, not a directory; --out names the run directory to " \
                   "write (a new path or a directory)"
    assert (workdir / "file").read_text() == "mine"


def test_run_refuses_a_foreign_directory_before_simulating_and_force_replaces_it(workdir, monkeypatch):
    from simfleet.outputs import run_directory

    mine = workdir / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    monkeypatch.setattr(run_directory, "simulate", lambda *a, **k: pytest.fail("simulated before refusing"))
    line = one_error(invoke("run", workdir / "experiment.toml", "--out", mine))
    assert line.startswith(f"error: {mine}: is not a directory simfleet wrote (") and line.endswith("add --force to "
                                                                                                  "replace it")
    assert snapshot(mine) == {"notes.txt": b"keep"}
    monkeypatch.undo()
    result = invoke("run", workdir / "experiment.toml", "--out", mine, "--force")
    assert result.exit_code == 0, result.output
    assert {p.name for p in mine.iterdir()} == set(run_directory.RUN_FILES)


@pytest.mark.parametrize("failing", [1, 4], ids=["first-file", "fourth-file"])
def test_run_on_a_full_disk_is_one_line_and_leaves_the_earlier_run(workdir, monkeypatch, failing):
    from simfleet.outputs import run_directory

    experiment = workdir / "experiment.toml"
    assert invoke("run", experiment, "--out", workdir / "run", "--requests").exit_code == 0
    before = snapshot(workdir)
    calls = []

    def until_full(real):
        def write(path, data):  # the files in order: metrics, metric_values, events, summary, manifest
            calls.append(path)
            if len(calls) == failing:
                path.with_name(f".tmp-{os.getpid()}-{path.name}").write_bytes(b"half a file")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real(path, data)
        return write

    monkeypatch.setattr(run_directory, "write_table", until_full(run_directory.write_table))
    monkeypatch.setattr(run_directory, "write_json", until_full(run_directory.write_json))
    line = one_error(invoke("run", experiment, "--out", workdir / "run", "--seed", "99"))
    assert line == f"error: {workdir / 'run'}: cannot write the run directory (No space left on device); " \
                   "nothing was written"
    assert snapshot(workdir) == before


def test_run_into_an_unwritable_place_is_one_line(workdir):
    if not Path("/sys").is_dir() or os.access("/sys", os.W_OK) is False:
        pytest.skip("no /sys to be refused by")
    line = one_error(invoke("run", workdir / "experiment.toml", "--out", "/sys/simfleet-test/run"))
    assert line.startswith("error: /sys/simfleet-test/run: cannot ")
    assert not Path("/sys/simfleet-test").exists()


def test_run_help_lists_force_and_the_exit_codes_list_interruption():
    assert "--force" in invoke("run", "--help").stdout
    text = " ".join(invoke("--help").stdout.split())
    assert "130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM" in text


# --- simfleet recommend ---------------------------------------------------------------------------------


def test_recommend_refuses_a_bad_out_before_any_test_runs(workdir, monkeypatch):
    from simfleet.recommender import job_runner

    (workdir / "job.toml").write_text(JOB)
    (workdir / "file").write_text("mine")
    monkeypatch.setattr(job_runner, "run_load_test", lambda *a: pytest.fail("a test ran before the refusal"))
    line = one_error(invoke("recommend", workdir / "job.toml", "--out", workdir / "file", "--workers", "1"))
    assert line.startswith(f"error: {workdir / 'file'}: is a file, not a directory; --out names the job folder")
    mine = workdir / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    line = one_error(invoke("recommend", workdir / "job.toml", "--out", mine, "--workers", "1"))
    assert "is not a directory simfleet wrote" in line and "--force" in line
    assert snapshot(mine) == {"notes.txt": b"keep"}


def test_recommend_on_a_full_disk_is_one_line_and_leaves_the_earlier_job(workdir, monkeypatch):
    from simfleet.recommender import job_output

    (workdir / "job.toml").write_text(JOB)
    out = workdir / "job"
    assert invoke("recommend", workdir / "job.toml", "--out", out, "--workers", "1").exit_code == 0
    before = snapshot(workdir)

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(job_output, "write_text", full)
    line = one_error(invoke("recommend", workdir / "job.toml", "--out", out, "--workers", "1"), progress=True)
    assert line == f"error: {out}: cannot write the job folder (No space left on device); nothing was written"
    assert snapshot(workdir) == before


# --- simfleet report --png -------------------------------------------------------------------------------


class FakeBrowser:
    """Stands in for headless Chromium: each screenshot is a few bytes naming the element."""

    def __init__(self, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def open(self, page, ready=None):
        pass

    def screenshot(self, out, selector=None):
        Path(out).write_bytes(f"png of {selector}".encode())
        return Path(out)


def test_report_pngs_replace_an_earlier_reports_as_a_whole(tmp_path, monkeypatch):
    from simfleet.report import browser
    from simfleet.report.build import write_pngs

    monkeypatch.setattr(browser, "Browser", FakeBrowser)
    shots = tmp_path / "shots"
    shots.mkdir()
    for name in ("page.png", "a-chart-gone-since.png"):
        (shots / name).write_bytes(b"old")
    written = write_pngs(tmp_path / "report.html", shots, ["latency"])
    assert written == [shots / "page.png", shots / "latency.png"]
    assert sorted(p.name for p in shots.iterdir()) == ["latency.png", "page.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shots"]


def test_report_refuses_a_png_folder_of_other_files(workdir):
    assert invoke("run", workdir / "experiment.toml", "--out", workdir / "run").exit_code == 0
    mine = workdir / "mine"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"keep")
    line = one_error(invoke("report", workdir / "run", "--out", workdir / "r.html", "--png", mine))
    assert line.startswith(f"error: {mine}: is not a directory simfleet wrote ('holiday.jpg' is not a file simfleet "
                           "writes there); the PNG folder replaces --png as a whole")
    assert snapshot(mine) == {"holiday.jpg": b"keep"} and not (workdir / "r.html").exists()


# --- simfleet sweep (a dataset that grows in place) -----------------------------------------------------

SWEEP = """\
[sweep]
name = "outputs-sweep"
base = "experiment.toml"
seed = 1

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2]
"""


def test_sweep_refuses_a_file_and_a_directory_that_is_not_a_dataset(workdir):
    (workdir / "sweep.toml").write_text(SWEEP)
    (workdir / "file").write_text("mine")
    line = one_error(invoke("sweep", workdir / "sweep.toml", "--out", workdir / "file", "--workers", "1"))
    assert line.startswith(f"error: {workdir / 'file'}: is a file, not a directory")
    mine = earlier_run(workdir / "run", "summary.json")
    line = one_error(invoke("sweep", workdir / "sweep.toml", "--out", mine, "--workers", "1"))
    assert line.startswith(f"error: {mine}: is not a sweep dataset (no sweep.json; it holds 'manifest.json')")
    assert snapshot(mine) == {"manifest.json": RUN_MANIFEST.encode(), "summary.json": b"old summary.json"}


def test_sweep_on_a_full_disk_is_one_line_and_keeps_the_finished_runs(workdir, monkeypatch):
    from simfleet.sweep import dataset as dataset_module, executors
    from simfleet.sweep.dataset import run_marks

    class InlineExecutor(executors.Executor):
        """The runs in this process, one after the other (the pool's start-up is not what is tested here)."""

        description = "this process"

        def __init__(self, workers=None):
            pass

        def map_unordered(self, fn, tasks):
            for task in tasks:
                yield task, fn(task), None

    monkeypatch.setattr(executors, "LocalExecutor", InlineExecutor)
    (workdir / "sweep.toml").write_text(SWEEP)
    real, marks = dataset_module.write_json, []

    def full_after_one_run(path, data):
        if path.parent.name == "runs":
            if marks:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            marks.append(path)
        real(path, data)

    monkeypatch.setattr(dataset_module, "write_json", full_after_one_run)
    out = workdir / "out"
    line = one_error(invoke("sweep", workdir / "sweep.toml", "--out", out, "--workers", "1"), progress=True)
    assert line == (f"error: {out}: cannot write the sweep dataset (No space left on device); the runs that "
                    "finished are kept: run the same command again to resume")
    assert [p.name for p in run_marks(out)] == [marks[0].name]
    import pyarrow.parquet as pq

    assert pq.read_table(out / "runs.parquet").column("run_id").to_pylist() == [marks[0].stem]
    metrics = sorted(p.parent.name for p in (out / "metrics").rglob("metrics.parquet"))
    assert metrics == [f"run_id={marks[0].stem}"]  # the run not recorded has no metrics folder
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    monkeypatch.setattr(dataset_module, "write_json", real)
    result = invoke("sweep", workdir / "sweep.toml", "--out", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "1 already finished" in result.stdout
