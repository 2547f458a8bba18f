"""Running a fuzz case through the CLI and judging the outcome.

A case passes when every command either succeeds, or fails with exit code 1 (a sweep or job that
ran and failed) or 3 (invalid input) and only one-line `error:` messages on stderr, having written
nothing. Anything else is a `Finding`: a traceback (any exception escaping the CLI, numba's
included), a hang (a case past its time limit), a message spread over lines or missing, a file
left behind by a refused command, `validate` and the command disagreeing about the same files,
a sweep run failing with something other than an input error, or a document holding certain
nonsense (NaN, a boolean for a number, a table for a scalar: `mutations.nonsense_kind`) accepted.

Cases run in-process through typer's `CliRunner` (the test suite's campaign: fast, a `SIGALRM`
guard against hangs) or in a worker subprocess that the long campaign kills when a case overruns
its time (`worker`): a hang inside compiled code never returns to Python for an alarm.

A hang is a command that takes far longer than the work its input asks for. A legitimately long run
(a fuzzed rate of a million requests a second, a sweep of 8,192 replicates) is not one: the
program's own wall-time estimates of every run and sweep `validate` checked
(`simfleet.run_limits.Workload.wall_s`, `run_limits.sweep_wall_s`) buy the command
`ESTIMATE_ALLOWANCE` times as much time beyond the case's limit, and the long campaign leaves out
the command of a case whose time would then pass its `--longest` (`execute`'s `allow`).
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .cases import RUN_DIR, Case

__all__ = ["Finding", "CaseTimeout", "execute", "write_case", "query_run"]

#: What a command may print on stderr besides `error:` lines (progress and warnings).
_STDERR_LINES = re.compile(r"^(error: |warning: |ok: |sweep |run \d+/\d+ |job |  test |\d[\d,]* load tests)")

#: A command may take this many times the program's estimate of its wall time beyond the case's
#: limit. The estimate assumes 1.5 M requests per second of wall time (`run_limits`); runs whose
#: requests cost more (serverless at a million requests a second: 0.9 M/s), a loaded machine and the
#: output's writing take up to about twice that.
ESTIMATE_ALLOWANCE = 3.0


@dataclass(frozen=True)
class Finding:
    """One way a case broke the contract: its category, and what showed it."""

    category: str
    detail: str

    @property
    def signature(self) -> str:
        """What findings of one cause share (for grouping a long campaign's findings)."""
        lines = self.detail.splitlines()
        return f"{self.category}: {lines[0][:160] if lines else ''}"


class CaseTimeout(Exception):
    """A case ran past its time limit (raised by the in-process alarm)."""


@contextmanager
def _alarm(seconds: float):
    def ring(signum, frame):
        raise CaseTimeout(f"no outcome within {seconds:g} s")

    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    trace: str


class _SerialExecutor:
    """A sweep's runs one after another in this process (the fuzzer judges the CLI and the runs,
    not the process pool, and a pool per case would cost more than the runs)."""

    description = "this process (fuzzing)"

    def map_unordered(self, fn, tasks):
        for task in tasks:
            try:
                yield task, fn(task), None
            except Exception as error:  # noqa: BLE001 - reported as the pool reports it
                yield task, None, error

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextmanager
def _estimates(into: list[float]):
    """Record the wall-time estimate (seconds) of every run validated meanwhile, and of every sweep
    (its runs together, replicates and each run's overhead included), into `into`."""
    from simfleet import run_limits, scenario

    originals = scenario.estimate_workload, run_limits.sweep_wall_s

    def estimating(*args, **kwargs):
        estimated = originals[0](*args, **kwargs)
        into.append(estimated[0].wall_s)
        return estimated

    def sweeping(*args, **kwargs):
        into.append(originals[1](*args, **kwargs))
        return into[-1]

    scenario.estimate_workload, run_limits.sweep_wall_s = estimating, sweeping
    try:
        yield
    finally:
        scenario.estimate_workload, run_limits.sweep_wall_s = originals


@contextmanager
def _serial_sweeps():
    from simfleet.sweep import executors

    original = executors.make_executor
    executors.make_executor = lambda kind, workers=None, scheduler=None: _SerialExecutor()
    try:
        yield
    finally:
        executors.make_executor = original


def invoke(argv: list[str], timeout: float) -> Outcome:
    """`simfleet *argv` in this process."""
    from typer.testing import CliRunner

    from simfleet.cli import app

    runner = CliRunner()
    with _serial_sweeps(), _alarm(timeout):
        try:
            result = runner.invoke(app, argv, catch_exceptions=True)
        except CaseTimeout as error:  # raised outside the runner's own catch
            return Outcome(argv, -1, "", "", error, "")
    trace = "".join(traceback.format_exception(result.exception)) if result.exception is not None else ""
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(argv, result.exit_code, result.stdout, result.stderr, exception, trace)


def write_case(case: Case, folder: Path) -> None:
    for name, text in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass"))
    (folder / "case.json").write_text(case.to_json())


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _judge(outcome: Outcome, before: set[str], folder: Path, writes: bool) -> list[Finding]:
    """Findings about one command's outcome; `writes`: the command may leave an output folder."""
    command = " ".join(outcome.argv[:1])
    if isinstance(outcome.exception, CaseTimeout):
        return [Finding("hang", f"{command}: {outcome.exception}")]
    if outcome.exception is not None:
        last = outcome.trace.strip().splitlines()[-1] if outcome.trace.strip() else repr(outcome.exception)
        where = [line.strip() for line in outcome.trace.splitlines() if line.strip().startswith('File "')]
        return [Finding("traceback", f"{command}: {last}\n{where[-1] if where else ''}\n{outcome.trace}")]
    findings = []
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if outcome.exit_code == 0:
        pass
    elif outcome.exit_code == 3 or (outcome.exit_code == 1 and writes):
        if not any(line.startswith("error: ") for line in lines):
            findings.append(Finding("no error line", f"{command}: exit {outcome.exit_code}, stderr {outcome.stderr!r}"))
    else:
        findings.append(Finding("exit code", f"{command}: exit {outcome.exit_code}, stderr {outcome.stderr[:500]!r}"))
    for line in lines:
        if not _STDERR_LINES.match(line):
            findings.append(Finding("not one line", f"{command}: stderr line {line[:200]!r} "
                                                    f"(stderr {outcome.stderr[:500]!r})"))
            break
    after = _listing(folder)
    if outcome.exit_code == 3 or (outcome.exit_code != 0 and not writes):
        if after != before:
            findings.append(Finding("written on failure", f"{command}: exit {outcome.exit_code} left "
                                                          f"{sorted(after - before)[:5]}, removed {sorted(before - after)[:5]}"))
    return findings


def _sweep_rows(folder: Path) -> list[dict]:
    import pyarrow.parquet as pq

    path = folder / "out" / "runs.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def _first_error(outcome: Outcome) -> str:
    return next((line for line in outcome.stderr.splitlines() if line.startswith("error:")), "")[:300]


def execute(case: Case, folder: Path, timeout: float = 60.0, run_dir: Path | None = None,
            allow: Callable[[float], bool] | None = None) -> list[Finding]:
    """Write `case` into the empty `folder`, run it, return its findings (none: it passed).

    `allow(extra)`, when given, is asked before the command runs with the time its estimate adds to
    `timeout` (see the module docstring); it answers whether the command may run that long, and
    when not, the command is left out. Without it the command has `timeout` alone."""
    write_case(case, folder)
    before = _listing(folder)
    estimates: list[float] = []
    with _estimates(estimates):
        validated = invoke(["validate", *[str(folder / f) for f in case.validate], *case.validate_args], timeout)
    findings = _judge(validated, before, folder, writes=False)
    if validated.exit_code == 0 and "error:" in validated.stderr:
        findings.append(Finding("exit code", f"validate: exit 0 with errors {validated.stderr[:300]!r}"))
    extra = ESTIMATE_ALLOWANCE * math.fsum(e for e in estimates if math.isfinite(e))
    extra = extra if allow is not None else 0.0
    if case.command and not findings and (allow is None or allow(extra)):
        argv = [str(run_dir) if word == RUN_DIR else
                f"file://{folder / word[7:]}" if word.startswith("file://") else
                str(folder / word) if (folder / word).exists() or word == "out" else word
                for word in case.command]
        command = invoke(argv, timeout + extra)
        writes = case.command[0] in ("sweep", "recommend")
        findings += _judge(command, before, folder, writes=writes)
        if not findings:
            findings += _agreement(case, validated, command, folder)
    if not findings and validated.exit_code == 0:
        findings += [Finding(f"accepted {kind}", f"validate accepted: {case.describe()}") for kind in case.nonsense]
    return [Finding(f.category, f.detail.replace(str(folder), "CASE")) for f in findings]


def _agreement(case: Case, validated: Outcome, command: Outcome, folder: Path) -> list[Finding]:
    """`validate` and the command that reads the files must agree on whether they are valid."""
    name = case.command[0]
    # a job that names no model is checked in full but for the model, and validate says so
    partial = case.partial or "no model profile named" in validated.stdout
    if validated.exit_code == 0 and command.exit_code == 3 and not partial:
        return [Finding("validate accepts, command refuses", f"{name}: {_first_error(command)}")]
    # a file that is no recognisable kind (an empty autoscaling document `{}`) is refused by validate
    # unless --kind names it; the experiment that names it reads it as that kind
    unrecognised = "cannot tell which simfleet input this is" in validated.stderr
    if validated.exit_code == 3 and command.exit_code == 0 and not unrecognised:
        return [Finding("validate refuses, command accepts", f"{name} ran; validate said {_first_error(validated)}")]
    if name == "sweep" and validated.exit_code == 0:
        for row in _sweep_rows(folder):
            error = row.get("error") or ""
            if row.get("status") != "ok":
                category = ("validate accepts, command refuses" if error.startswith(("invalid experiment",
                                                                                     "run stopped"))
                            else "sweep run raised")
                return [Finding(category, f"sweep run {row.get('run_id')}: {error[:300]}")]
    return []


_QUERY_RUN: dict[str, Path] = {}


def query_run(root: Path) -> Path:
    """A short run of the quickstart (what `experiments/queries.json` asks about), made once."""
    if "run" not in _QUERY_RUN:
        from simfleet.outputs.run_directory import run_to_directory
        from simfleet.scenario import load_experiment

        out = root / "query-run"
        if out.exists():
            shutil.rmtree(out)
        run_to_directory(load_experiment(Path(__file__).resolve().parents[2] / "experiments" / "quickstart.toml",
                                         ["experiment.duration=10min"]), out)
        _QUERY_RUN["run"] = out
    return _QUERY_RUN["run"]
