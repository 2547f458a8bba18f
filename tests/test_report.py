"""`simfleet report` without a browser: bad input, what the views and the headline read, the files.

Every user mistake gets one line naming the path and what was expected, exit code 3, and leaves
no file behind. The browser's view of the page is in `test_report_browser.py`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE
from simfleet.report.headline import assumptions, headline_rows
from simfleet.report.run_data import load_run, load_runs
from simfleet.report.views import build_sections, time_shifts

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def _no_leftovers(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-") or p.name.endswith(".html")]


# --- bad input -------------------------------------------------------------------------------------


def test_a_missing_directory(tmp_path):
    result = _invoke("report", str(tmp_path / "nope"))
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _error_lines(result) == [f"error: {tmp_path / 'nope'}: no such directory; expected a run directory "
                                    "written by `simfleet run`"]


def test_a_file_and_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "summary.json").write_text("{}")
    result = _invoke("report", str(tmp_path / "notes.txt"), str(tmp_path / "other"))
    assert result.exit_code == EXIT_INVALID_INPUT
    lines = _error_lines(result)
    assert len(lines) == 2  # every problem at once, one line each
    assert lines[0].startswith(f"error: {tmp_path / 'notes.txt'}: not a directory;")
    assert lines[1] == (f"error: {tmp_path / 'other'}: not a simfleet run directory (no metrics.parquet, "
                        "events.parquet, manifest.json); expected a run directory written by `simfleet run`")
    _no_leftovers(tmp_path / "other")


def test_a_job_folder_without_its_load_tests_is_refused_naming_the_key(tmp_path):
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "recommendations.json").write_text("{}")
    result = _invoke("report", str(tmp_path / "job"))
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _error_lines(result) == [f"error: {tmp_path / 'job' / 'recommendations.json'}: simfleet.load_tests: "
                                    "missing; expected an Inference Recommender job folder written by `simfleet "
                                    "recommend`"]


def test_an_unreadable_run_file(report_runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(report_runs["quickstart"], run)
    (run / "metrics.parquet").write_text("not parquet")
    result = _invoke("report", str(run))
    assert result.exit_code == EXIT_INVALID_INPUT
    (line,) = _error_lines(result)
    assert line.startswith(f"error: {run / 'metrics.parquet'}: unreadable (")
    _no_leftovers(run)


def test_an_out_that_is_a_directory_or_cannot_be_created(report_runs, tmp_path):
    run = report_runs["quickstart"]
    result = _invoke("report", str(run), "--out", str(tmp_path))
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _error_lines(result) == [f"error: {tmp_path}: is a directory; expected the path of the HTML file to "
                                    "write, e.g. report.html"]
    (tmp_path / "file").write_text("")
    result = _invoke("report", str(run), "--out", str(tmp_path / "file" / "report.html"))
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _error_lines(result) == [f"error: {tmp_path / 'file' / 'report.html'}: cannot be created: "
                                    f"{tmp_path / 'file'} is not a directory"]
    _no_leftovers(run)


def test_an_out_that_cannot_be_written_leaves_nothing(report_runs, tmp_path, monkeypatch):
    import simfleet.outputs.atomic as atomic

    def fail(temporary, final):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic, "_commit", fail)
    result = _invoke("report", str(report_runs["quickstart"]), "--out", str(tmp_path / "report.html"))
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _error_lines(result) == [f"error: {tmp_path / 'report.html'}: cannot write the report (Permission "
                                    "denied); expected a writable file path"]
    assert list(tmp_path.iterdir()) == []


def test_without_the_plotting_extra_the_command_says_what_to_install(report_runs, tmp_path):
    code = ("import sys; sys.modules['bokeh'] = None; from simfleet.cli import main; "
            f"sys.argv = ['simfleet', 'report', {str(report_runs['quickstart'])!r}, '--out', {str(tmp_path / 'r.html')!r}]; "
            "main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines() == ["error: simfleet report needs its plotting extra (bokeh is missing): "
                                          "pip install -e '.[report]'"]
    assert list(tmp_path.iterdir()) == []


# --- the files it writes -----------------------------------------------------------------------------


def test_the_page_is_one_self_contained_file(report_runs, tmp_path):
    pytest.importorskip("bokeh")
    out = tmp_path / "report.html"
    result = _invoke("report", str(report_runs["quickstart"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"-> {out}" in result.output
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text and "<link " not in text  # BokehJS inlined, nothing fetched
    assert out.stat().st_size < 3 * 2**20
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_day_long_run_stays_under_a_few_megabytes(report_runs, tmp_path):
    pytest.importorskip("bokeh")
    out = tmp_path / "day.html"  # 9 h of the day: 540 points a series; the full day is about 1.5 MB
    assert _invoke("report", str(report_runs["autoscaling"]), "--out", str(out)).exit_code == 0
    assert out.stat().st_size < 2 * 2**20


def test_run_report_writes_the_page_and_a_later_run_without_it_removes_it(tmp_path):
    pytest.importorskip("bokeh")
    out = tmp_path / "run"
    common = ["run", str(REPO / "experiments" / "quickstart.toml"), "--out", str(out),
              "--set", "experiment.duration=2min"]
    result = _invoke(*common, "--report")
    assert result.exit_code == 0, result.output
    assert (out / "report.html").stat().st_size > 100_000
    assert _invoke(*common).exit_code == 0
    assert not (out / "report.html").exists()


def test_the_command_line_does_not_import_the_plotting_library():
    code = ("import sys, simfleet.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'bokeh', 'pandas', 'jinja2'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# --- what the page reads -------------------------------------------------------------------------------


def test_headline_rows_are_summary_json_values(report_runs):
    run = load_run(report_runs["serverless-vs-realtime"])
    summary = json.loads((run.path / "summary.json").read_text())
    rows = headline_rows(run)
    assert [(r.endpoint, r.variant) for r in rows] == [(v["EndpointName"], v["VariantName"]) for v in summary["variants"]]
    for row, v in zip(rows, summary["variants"]):
        cells = {c.field: c for c in row.cells}
        assert cells["requests"].value == v["requests"]
        assert cells["latency_s.p99"].value == v["latency_s"]["p99"]
        assert cells["cost_per_million_requests"].value == v["cost_per_million_requests"]
    serverless = {c.field: c for c in rows[0].cells}
    assert serverless["instance_hours"].text == "serverless"


def test_a_run_without_traffic_shows_n_a_not_zero(report_runs):
    run = load_run(report_runs["no-traffic"])
    for row in headline_rows(run):
        cells = {c.field: c for c in row.cells}
        assert cells["requests"].text == "0"
        assert cells["latency_s.p50"].text == "n/a" and cells["error_rate"].text == "n/a"
        assert cells["cost_per_hour"].value > 0  # the instances still cost money


def test_assumptions_list_marked_entries_and_missing_prices(report_runs, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(report_runs["quickstart"], run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["missing_prices"] = [{"EndpointName": "fraud-scoring", "VariantName": "Candidate",
                                  "price": "price_per_hour", "of": "ml.c6i.xlarge"}]
    (run_dir / "summary.json").write_text(json.dumps(summary))
    found = assumptions(load_run(run_dir))
    marked = [a for a in found if a.where != "missing price"]
    assert marked and all("ASSUMPTION" in a.text for a in marked)
    assert any(a.where.startswith("profiles.xgboost-tabular.") for a in marked)
    assert found[-1].where == "missing price" and "ml.c6i.xlarge" in found[-1].text


def test_every_scaling_activity_is_a_marker_saying_old_to_new(report_runs):
    run = load_run(report_runs["autoscaling"])
    (capacity,) = [s for s in build_sections([run]) if s.title == "Capacity"]
    (panel,) = capacity.panels
    activities = run.event_details("ScalingActivity")
    assert len(panel.markers) == len(activities) >= 2
    for marker, details in zip(panel.markers, activities["details"]):
        assert f"{details['old_capacity']} → {details['new_capacity']}" in marker.text
        assert details["policy"] in marker.text and details["alarm"] in marker.text
        assert marker.y == details["new_capacity"]


def test_views_follow_what_the_runs_have(report_runs):
    keys = {name: {p.key for s in build_sections([load_run(report_runs[name])]) for p in s.panels}
            for name in ("quickstart", "serverless-vs-realtime", "multi-model", "pipeline")}
    assert "serverless" not in keys["quickstart"] and "cache-hit" not in keys["quickstart"]
    assert "serverless" in keys["serverless-vs-realtime"]
    assert {"cache-hit", "cache-loads"} <= keys["multi-model"]
    assert "container-latency" in keys["pipeline"]


def test_serverless_counts_per_minute_add_up_to_the_summary(report_runs):
    run = load_run(report_runs["serverless-vs-realtime"])
    (section,) = [s for s in build_sections([run]) if s.title == "Serverless"]
    lines = {line.label.rsplit(" ", 1)[-1]: line for line in section.panels[0].lines}
    serverless = [v for v in run.summary["variants"] if v.get("serverless")][0]["serverless"]
    assert lines["starts"].y.sum() == serverless["cold_starts"]
    assert lines["throttles"].y.sum() == serverless["throttles"]


def test_runs_starting_at_different_times_are_shifted_onto_the_first(report_runs, tmp_path):
    a, b = report_runs["quickstart"], tmp_path / "later"
    shutil.copytree(a, b)
    events = pd.read_parquet(b / "events.parquet")
    events["timestamp"] = events["timestamp"] + pd.Timedelta("1D")
    events.to_parquet(b / "events.parquet")
    runs = load_runs([a, b])
    assert [r.label for r in runs] == ["quickstart", "later"]
    assert time_shifts(runs) == [pd.Timedelta(0), pd.Timedelta("-1D")]
    same = load_runs([a, report_runs["quickstart-3"]])
    assert time_shifts(same) == [pd.Timedelta(0)] * 2


def test_two_runs_of_the_same_name_get_distinct_labels(report_runs, tmp_path):
    (tmp_path / "x").mkdir()
    copy = tmp_path / "x" / "quickstart"
    shutil.copytree(report_runs["quickstart"], copy)
    labels = [r.label for r in load_runs([report_runs["quickstart"], copy])]
    assert len(set(labels)) == 2 and all(label.endswith("quickstart") for label in labels)
