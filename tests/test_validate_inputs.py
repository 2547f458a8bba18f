"""`simfleet validate FILE…` on every kind of input simfleet reads (`simfleet/input_kinds.py`).

Every shipped input file validates (the list is a glob, so a new example is covered the day it is
added); a bad file of each kind gives one-line errors naming the file, the key and what was
expected; a problem shared by two files (a sweep and its base experiment) is reported once.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT
from simfleet.input_kinds import KINDS, detect_kind

ROOT = Path(__file__).resolve().parents[1]
#: Every input file the repository ships: examples (with their traces and JSON requests) and profiles.
SHIPPED = sorted([p for p in (ROOT / "experiments").rglob("*") if p.is_file()]
                 + list((ROOT / "models").glob("*.toml")))


def invoke(*args):
    return CliRunner().invoke(app, ["validate", *map(str, args)])


def test_the_shipped_inputs_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in SHIPPED}
    assert {"experiments/quickstart.toml", "experiments/sweep-quickstart.toml", "experiments/recommend-xgboost.json",
            "experiments/recommend-xgboost.toml", "experiments/traces/batch-job.csv", "experiments/queries.json",
            "models/xgboost-tabular.toml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.relative_to(ROOT).as_posix() for p in SHIPPED])
def test_every_shipped_input_validates(path):
    result = invoke(path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {path} (")
    # what a run of it would say may mislead (as the quickstart's assumed latencies): warnings, no error
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines()), result.stderr


def test_the_shipped_inputs_cover_the_kinds_and_are_recognised_by_content():
    kinds = {p.relative_to(ROOT).as_posix(): detect_kind(p) for p in SHIPPED}
    assert kinds["experiments/quickstart.toml"] == "experiment"
    assert kinds["experiments/sweep-quickstart.toml"] == "sweep"
    assert kinds["experiments/recommend-xgboost.json"] == kinds["experiments/recommend-xgboost.toml"] == "job"
    assert kinds["models/resnet50.toml"] == "profile"
    assert kinds["experiments/traces/batch-job.csv"] == "trace"
    assert kinds["experiments/queries.json"] == "queries"
    assert set(kinds.values()) >= {"experiment", "sweep", "job", "profile", "trace", "queries"}


def test_all_shipped_inputs_at_once():
    result = invoke(*SHIPPED)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == len(SHIPPED)


def test_a_json_job_without_a_model_is_checked_and_says_so():
    job = ROOT / "experiments" / "recommend-xgboost.json"
    plain = invoke(job)
    assert plain.exit_code == 0 and "give one with --model" in plain.stdout
    named = invoke(job, "--model", "xgboost-tabular")
    assert named.exit_code == 0 and "model xgboost-tabular" in named.stdout
    unknown = invoke(job, "--model", "no-such-model")
    assert unknown.exit_code == EXIT_INVALID_INPUT and "no model profile named 'no-such-model'" in unknown.stderr


# --- bad files: one line per problem, with file, key and what was expected -------------------------

AUTOSCALING = {"targets": [{"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/e/variant/v",
                            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                            "MinCapacity": 1, "MaxCapacity": 4}]}


def _quickstart(tmp_path: Path) -> str:
    return (ROOT / "experiments" / "quickstart.toml").read_text(encoding="utf-8")


def _sweep(tmp_path: Path) -> str:
    shutil.copy(ROOT / "experiments" / "quickstart.toml", tmp_path / "quickstart.toml")
    return (ROOT / "experiments" / "sweep-quickstart.toml").read_text(encoding="utf-8")


def _all_failed(text: str) -> str:
    """A Locust stats file whose Aggregated row says every request failed."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        fields = line.split(",")
        if fields[1] == "Aggregated":
            fields[3] = fields[2]
            lines[index] = ",".join(fields)
    return "\n".join(lines) + "\n"


BAD = {
    # kind: (file name, content from the shipped example, edit, key, fragment of what was expected)
    "experiment": ("exp.toml", _quickstart, lambda t: t.replace('rate = "18000/min"', 'rate = "fast"'),
                   "traffic[0].rate", "rate"),
    "profile": ("xgboost-tabular.toml", lambda tmp: (ROOT / "models" / "xgboost-tabular.toml").read_text("utf-8"),
                lambda t: t.replace('load_time = "1s"', 'load_time = "soon"'), "load_time", "duration"),
    "sweep": ("sweep.toml", _sweep, lambda t: t.replace('values = ["ml.c5.xlarge"', 'values = ["ml.c5.huge"'),
              "axes[0].values[0]", "unknown instance type 'ml.c5.huge'"),
    "job-toml": ("job.toml", lambda tmp: (ROOT / "experiments" / "recommend-xgboost.toml").read_text("utf-8"),
                 lambda t: t.replace('JobType = "Advanced"', 'JobType = "Expert"'), "JobType", "Advanced"),
    "job-json": ("job.json", lambda tmp: (ROOT / "experiments" / "recommend-xgboost.json").read_text("utf-8"),
                 lambda t: t.replace('"MaxInvocations": 30000', '"MaxInvocations": 0'),
                 "StoppingConditions.MaxInvocations", "1"),
    "autoscaling": ("scaling.json", lambda tmp: json.dumps(AUTOSCALING, indent=1),
                    lambda t: t.replace('"MinCapacity": 1', '"MinCapacity": -1'), "targets[0].MinCapacity", "0"),
    "queries": ("queries.json", lambda tmp: (ROOT / "experiments" / "queries.json").read_text("utf-8"),
                lambda t: t.replace('"Stat": "p99"', '"Stat": "p1000"'), "MetricDataQueries[0].MetricStat.Stat",
                "p0 to p100"),
    "endpoint_config": ("config.json", lambda tmp: (ROOT / "experiments" / "aws" / "endpoint-config.json").read_text(
                            "utf-8"), lambda t: t.replace('"InitialInstanceCount": 2', '"InitialInstanceCount": 0'),
                        "ProductionVariants[0].InitialInstanceCount", "1"),
    "model": ("model.json", lambda tmp: (ROOT / "experiments" / "aws" / "create-model.json").read_text("utf-8"),
              lambda t: t.replace('"Mode": "SingleModel"', '"Modus": "SingleModel"'), "PrimaryContainer.Modus",
              "unknown member of ContainerDefinition"),
    "calibration_source": ("run_stats.csv", lambda tmp: (ROOT / "experiments" / "calibration" / "locust_stats.csv")
                           .read_text("utf-8"), _all_failed, "Failure Count", "every request failed"),
    "trace": ("trace.csv", lambda tmp: (ROOT / "experiments" / "traces" / "batch-job.csv").read_text("utf-8"),
              lambda t: t.replace("2026-03-02T12:10:00.339457Z", "yesterday"), "timestamp", "ISO 8601"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_good_file_of_each_kind_passes_and_its_bad_twin_fails_on_one_line(case, tmp_path):
    name, original, edit, key, fragment = BAD[case]
    good = tmp_path / "good" / name
    bad = tmp_path / "bad" / name
    for path in (good, bad):
        path.parent.mkdir()
        text = original(path.parent)
        path.write_text(text if path is good else edit(text), encoding="utf-8")
        assert path is good or path.read_text(encoding="utf-8") != text, "the edit changed nothing"
    passed = invoke(good)
    assert passed.exit_code == 0, passed.output
    failed = invoke(bad)
    assert failed.exit_code == EXIT_INVALID_INPUT, failed.output
    lines = failed.stderr.splitlines()
    assert lines and all(line.startswith(f"error: {bad}") for line in lines), lines
    [line] = [line for line in lines if f" {key}:" in line or f" {key}[" in line or f".{key}:" in line]
    assert fragment in line and "Traceback" not in failed.output, line


def test_every_kind_has_a_bad_file_case():
    assert {case.split("-")[0] for case in BAD} == set(KINDS)


def test_a_problem_shared_by_a_sweep_and_its_base_is_reported_once(tmp_path):
    shutil.copy(ROOT / "experiments" / "sweep-quickstart.toml", tmp_path / "sweep.toml")
    base = tmp_path / "quickstart.toml"
    base.write_text(_quickstart(tmp_path).replace('rate = "18000/min"', "rate = -1"), encoding="utf-8")
    result = invoke(base, tmp_path / "sweep.toml")
    assert result.exit_code == EXIT_INVALID_INPUT
    assert len([line for line in result.stderr.splitlines() if "traffic[0].rate" in line]) == 1, result.stderr


def test_a_file_of_no_known_kind_is_one_line(tmp_path):
    odd = tmp_path / "odd.toml"
    odd.write_text("colour = 'blue'\n", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    result = invoke(odd, tmp_path / "missing.json", folder, tmp_path / "notes.txt")
    assert result.exit_code == EXIT_INVALID_INPUT
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"error: {odd}: cannot tell which simfleet input") and "--kind" in lines[0]
    assert "colour" in lines[0] and "[experiment]" in lines[0] and "[sweep]" in lines[0]
    assert lines[1] == f"error: {tmp_path / 'missing.json'}: no such file"
    assert "folder" in lines[2] and "notes.txt" in lines[3] and "--kind" in lines[3]


def test_kind_overrides_recognition(tmp_path):
    """--kind checks a file as that kind even when its content says otherwise: an experiment read as
    a sweep is refused for its missing [sweep] table."""
    result = invoke("--kind", "sweep", ROOT / "experiments" / "quickstart.toml")
    assert result.exit_code == EXIT_INVALID_INPUT
    assert "sweep: required key is missing" in result.stderr
    assert invoke("--kind", "experiment", ROOT / "experiments" / "quickstart.toml").exit_code == 0
