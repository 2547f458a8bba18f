"""The README's snippets run, as a reader would run them, on the files the repository ships.

Every ```bash, ```python and ```sql block after the first two (which CI runs on a fresh machine:
`.ci/run`) is run in order in a temporary working folder holding a copy of `experiments/` and
`models/`, after the quickstart the first block runs: shell blocks with `bash -euo pipefail` and a
`simfleet` command that is this source tree's, Python blocks with this interpreter (matplotlib
without a display), SQL blocks with DuckDB. A block that needs a library the installed extras
lack (matplotlib, polars: both in the `test` extra) is skipped and says which. Marked `slow`
(a day of autoscaling, three sweeps, three recommender jobs: a few minutes); the README's test
command runs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
#: Libraries a snippet may import that are not dependencies of simfleet itself.
_OPTIONAL = ("matplotlib", "polars")


@dataclass(frozen=True)
class Snippet:
    index: int          # position among the README's code blocks
    language: str
    code: str
    line: int           # README line of the opening fence

    @property
    def id(self) -> str:
        return f"{self.language}@README.md:{self.line}"


def readme_blocks() -> list[Snippet]:
    text = README.read_text(encoding="utf-8")
    return [Snippet(i, m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for i, m in enumerate(_BLOCK.finditer(text))]


def runnable() -> list[Snippet]:
    """The blocks this test runs: every bash, python and sql block but the first two (CI's)."""
    return [s for s in readme_blocks()[2:] if s.language in ("bash", "python", "sql")]


def test_the_readme_opens_with_the_two_blocks_ci_runs():
    first, second = readme_blocks()[:2]
    assert (first.language, second.language) == ("bash", "bash")
    assert re.search(r"pip install -e '\.\[test[],]", first.code), first.code   # the test extra, maybe with others
    assert "simfleet run experiments/quickstart.toml" in first.code
    assert "pytest" in second.code


def test_the_readme_stands_alone():
    """No file outside the repository, no project issue numbers, no `pip install simfleet` (the index's
    `simfleet` is another project): installs are from the repository."""
    text = README.read_text(encoding="utf-8")
    for pattern in (r"\.\./", r"DESIGN", r"STYLE\.md", r"reference/", r"reference §", r"\bissue \d+",
                    r"pip install (?!-e )['\"]?simfleet"):
        assert not re.search(pattern, text), pattern
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        assert link.startswith("http") or (ROOT / link).exists(), link
    for path in re.findall(r"`((?:experiments|models|docs|benchmarks|tests|simfleet)/[\w./-]+\.\w+)`", text):
        assert (ROOT / path).exists(), path


def _missing_library(code: str) -> str | None:
    for name in _OPTIONAL:
        if re.search(rf"^\s*(import|from) {name}\b", code, re.M) or (name == "matplotlib" and ".plot(" in code):
            if importlib.util.find_spec(name) is None:
                return name
    return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> dict:
    """A reader's working folder: the shipped inputs, `simfleet` on PATH, the quickstart already run."""
    folder = tmp_path_factory.mktemp("readme")
    for name in ("experiments", "models"):
        shutil.copytree(ROOT / name, folder / name)
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "simfleet"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m simfleet "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(["simfleet", "run", "experiments/quickstart.toml"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return {"folder": folder, "env": env, "failed": []}


def _run(snippet: Snippet, folder: Path, env: dict) -> subprocess.CompletedProcess:
    if snippet.language == "bash":
        command = ["bash", "-euo", "pipefail", "-c", snippet.code]
    elif snippet.language == "python":
        command = [sys.executable, "-c", snippet.code]
    else:  # sql: each statement through DuckDB, as its CLI would run the block
        script = ("import duckdb, sys\ncon = duckdb.connect()\n"
                  "for statement in filter(str.strip, sys.argv[1].split(';')):\n"
                  "    print(con.sql(statement).fetchall())\n")
        command = [sys.executable, "-c", script, snippet.code]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("snippet", runnable(), ids=lambda s: s.id)
def test_readme_snippet_runs(snippet, workdir):
    """In README order: a block reads what the blocks before it wrote (runs/, sweeps, jobs)."""
    missing = _missing_library(snippet.code)
    if missing:
        pytest.skip(f"{missing} is not installed (it is in the test extra: pip install -e '.[test]')")
    done = _run(snippet, workdir["folder"], workdir["env"])
    assert done.returncode == 0, f"README.md:{snippet.line}\n{snippet.code}\n--- stderr\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
