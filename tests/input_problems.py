"""Bad input, the way the tests give it: TOML text edited from a valid base, written into a folder,
loaded through the API (`load_problems`) or the CLI (`invoke`, `assert_exit_invalid`), and each
problem checked to be one line naming the file, a key path the user wrote and the line it is on
(`assert_at`; the line is found in the test's own text, never by simfleet's line scanner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, InputError, Problem
from simfleet.scenario import load_experiment

# Line numbers:  1 [experiment] ... 12 [[endpoints]] ... 15 [[endpoints.production_variants]] ...
# 21 [[traffic]], 22 kind, 23 rate.
BASE = """\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 1
model_paths = ["models"]

[metrics]
high_resolution = false
percentiles = [50, 90, 99]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2

[[traffic]]
kind = "poisson"
rate = 50
"""

def edit(text: str, edits) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"test bug: {old!r} must occur exactly once"
        text = text.replace(old, new)
    return text


def line_number(text: str, needle) -> int:
    """1-based line of `needle` in `text`; `needle` is a substring, or (substring, occurrence)."""
    needle, occurrence = needle if isinstance(needle, tuple) else (needle, None)
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    if occurrence is None:
        assert len(hits) == 1, f"test bug: {needle!r} is on lines {hits}"
        return hits[0]
    return hits[occurrence - 1]


def write(directory: Path, text: str, name: str = "exp.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_problems(path: Path, overrides=()) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_experiment(path, list(overrides))
    problems = caught.value.problems
    assert problems, "an InputError carries at least one problem"
    # The exception's text is the problems, one per line.
    assert str(caught.value).splitlines() == [str(p) for p in problems]
    return problems


def assert_at(problem: Problem, text: str, at: dict) -> None:
    """The problem names one of the acceptable key paths and the line that key is written on."""
    assert problem.key in at, f"key path {problem.key!r} is not one of {sorted(at)}: {problem}"
    expected = line_number(text, at[problem.key])
    assert problem.line == expected, f"line {problem.line}, expected {expected}: {problem}"
    assert str(problem) == f"{problem.file}:{expected}: {problem.key}: {problem.message}"


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_exit_invalid(result) -> list[str]:
    """Exit 3 through typer.Exit (no crash), no traceback, one `error:` line per problem."""
    assert result.exit_code == EXIT_INVALID_INPUT, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    return lines


@dataclass
class Case:
    """One mistake: `edits` of the valid `base` (a subclass sets its own), the acceptable key paths
    with the needle of the line each is written on, and fragments of the expected message."""

    base: ClassVar[str] = BASE
    id: str
    edits: list
    at: dict  # acceptable key path -> needle of the line it is written on
    expect: tuple  # fragments of the message: what is wrong and what was expected
    text: str = field(init=False, default="")

    def __post_init__(self):
        self.text = edit(self.base, self.edits)


def assert_reported_on_its_key(case: Case, directory: Path) -> Problem:
    """Written into `directory` and loaded, `case` gives exactly one problem: in its file, saying what
    was expected, on one of its key paths and that key's line."""
    path = write(directory, case.text)
    problems = load_problems(path)
    assert len(problems) == 1, "\n".join(map(str, problems))
    [problem] = problems
    assert problem.file == str(path)
    for fragment in case.expect:
        assert fragment in problem.message, f"{fragment!r} not in: {problem}"
    assert_at(problem, case.text, case.at)
    return problem
