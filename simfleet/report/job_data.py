"""An Inference Recommender job folder, read for the report: what `simfleet recommend` writes.

`recommendations.json` (the DescribeInferenceRecommendationsJob response: status, stopping
conditions, ranked recommendations, and in its `simfleet` member each load test's stop reason and
plateau), `manifest.json` (each test's run directory) and, per load test that ran, its run
directory under `tests/` (read with `run_data.load_run`, for the minute-by-minute ramp). A test
that never started has no run directory; its row still shows. Never imports the recommender.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simfleet.errors import InputError, Problem
from simfleet.report.run_data import RunData, load_run

__all__ = ["JobData", "LoadTest", "load_job_dir"]

_EXPECTED = "expected an Inference Recommender job folder written by `simfleet recommend`"


@dataclass(frozen=True)
class LoadTest:
    """One load test: its `simfleet.load_tests` entry as written, and its run (None if it never ran)."""

    index: int
    record: dict
    run: RunData | None

    @property
    def endpoint_name(self) -> str:
        return self.record.get("endpoint_name") or f"test {self.index + 1}"

    @property
    def configuration(self) -> str:
        """As `simfleet recommend` prints it: the instance type, or `serverless 2048 MB ×10`."""
        serverless = self.record.get("serverless_config")
        if serverless:
            return f"serverless {serverless.get('MemorySizeInMB')} MB ×{serverless.get('MaxConcurrency')}"
        return str(self.record.get("instance_type") or "?")

    @property
    def serverless(self) -> bool:
        return bool(self.record.get("serverless_config"))


@dataclass(frozen=True)
class JobData:
    path: Path
    label: str
    recommendations: dict  # recommendations.json as written
    manifest: dict
    tests: tuple[LoadTest, ...]

    @property
    def name(self) -> str:
        return self.recommendations.get("JobName") or self.path.name

    @property
    def status(self) -> str:
        return self.recommendations.get("Status", "?")

    @property
    def ranked(self) -> list[dict]:
        return list(self.recommendations.get("InferenceRecommendations") or [])

    @property
    def threshold(self) -> dict | None:
        """`StoppingConditions.ModelLatencyThresholds[0]` ({Percentile, ValueInMilliseconds}), or None."""
        found = (self.recommendations.get("StoppingConditions") or {}).get("ModelLatencyThresholds") or []
        return found[0] if found else None

    @property
    def percentile(self) -> str:
        """The ModelLatency percentile each minute was judged by: the threshold's, else P99 (as the job)."""
        return (self.threshold or {}).get("Percentile", "P99")

    def test_of(self, recommendation: dict) -> LoadTest | None:
        endpoint = (recommendation.get("EndpointConfiguration") or {}).get("EndpointName")
        return next((t for t in self.tests if t.endpoint_name == endpoint), None)


def _read_json(file: Path, problems: list[Problem]) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(str(file), "", f"missing; {_EXPECTED}"))
        return {}
    except (OSError, ValueError) as error:
        problems.append(Problem(str(file), "", f"unreadable ({type(error).__name__}); {_EXPECTED}"))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(str(file), "", f"not a JSON object; {_EXPECTED}"))
        return {}
    return data


def load_job_dir(path: str | Path, label: str | None = None) -> JobData:
    """Read the job folder at `path` and its tests' run directories; `InputError` with every problem."""
    path = Path(path)
    problems: list[Problem] = []
    recommendations = _read_json(path / "recommendations.json", problems)
    manifest = _read_json(path / "manifest.json", problems) if (path / "manifest.json").exists() else {}
    records = (recommendations.get("simfleet") or {}).get("load_tests")
    if not problems and not isinstance(records, list):
        problems.append(Problem(str(path / "recommendations.json"), "simfleet.load_tests", f"missing; {_EXPECTED}"))
    if problems:
        raise InputError(problems)
    folders = {t.get("endpoint_name"): t.get("run_directory") for t in manifest.get("tests", []) if t.get("simulated")}
    tests = []
    for index, record in enumerate(records):
        folder = folders.get(record.get("endpoint_name"))
        run = None
        if folder is None and (path / "tests" / str(record.get("endpoint_name"))).is_dir():
            folder = f"tests/{record.get('endpoint_name')}"
        if folder is not None:
            try:
                run = load_run(path / folder, record.get("endpoint_name"))
            except InputError as error:
                problems.extend(error.problems)
        tests.append(LoadTest(index, record, run))
    if problems:
        raise InputError(problems)
    return JobData(path=path, label=label or path.name, recommendations=recommendations, manifest=manifest,
                   tests=tuple(tests))
