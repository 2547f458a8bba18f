"""Shared fixtures and the hypothesis profiles. Shared helpers live in modules of their own, named by
what they hold (`small_experiments`, `input_problems`, `reference_statistics`, `stored_runs`,
`report_inputs`, …): test modules import those, never conftest or one another."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hypothesis import settings

from report_inputs import ReportFolders, ReportRuns
from small_experiments import DATA

# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE (default: "ci" under CI=true, else "dev").
# Each property test keeps its own example budget (`@settings(max_examples=...)`, sized for the
# suite's time); the profiles set what holds for all of them:
# * dev: no deadline (a first call compiles the kernels: its time says nothing about the test);
# * ci: the same, derandomized (a red CI run is replayed exactly) and printing the reproduction blob.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding a copy of the test profiles (`models/`), where a test writes its input files
    (a test module that needs more profiles there overrides it)."""
    shutil.copytree(DATA / "models", tmp_path / "models")
    return tmp_path


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory) -> ReportRuns:
    return ReportRuns(tmp_path_factory.mktemp("report-runs"))


@pytest.fixture(scope="session")
def report_folders(tmp_path_factory) -> ReportFolders:
    return ReportFolders(tmp_path_factory.mktemp("report-folders"))
