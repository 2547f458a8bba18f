"""The job and sweep pages without a browser: the Pareto front against a naive reference, the cheapest
run within an SLO, the heat map's cells, the options' one-line errors, and mixed inputs.

The browser's view of these pages is in `test_report_browser.py`.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.report.job_data import load_job_dir
from simfleet.report.job_views import ramp
from simfleet.report.sweep_data import load_sweep_dir
from simfleet.report.sweep_options import Slo, parse_axes, parse_slo
from simfleet.report.sweep_views import cheapest_meeting, default_axes, heat_table, pareto_front, sweep_sections

runner = CliRunner()


def _errors(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


# --- the Pareto front -----------------------------------------------------------------------------------


def naive_front(cost, latency) -> list[bool]:
    """O(n²): a point is on the front unless another is at least as good on both and better on one."""
    points = list(zip(cost, latency))
    out = []
    for i, (c, lat) in enumerate(points):
        if math.isnan(c) or math.isnan(lat):
            out.append(False)
            continue
        dominated = any(not (math.isnan(c2) or math.isnan(l2)) and c2 <= c and l2 <= lat and (c2 < c or l2 < lat)
                        for j, (c2, l2) in enumerate(points) if j != i)
        out.append(not dominated)
    return out


_value = st.one_of(st.sampled_from([0.1, 0.2, 0.5, 1.0, 2.0]), st.floats(0, 100, allow_nan=False),
                   st.just(float("nan")))


@settings(max_examples=300)
@given(st.lists(st.tuples(_value, _value), max_size=30))
def test_pareto_front_matches_the_naive_definition(points):
    cost = [c for c, _ in points]
    latency = [lat for _, lat in points]
    assert pareto_front(cost, latency).tolist() == naive_front(cost, latency)


def test_pareto_front_of_a_small_example():
    #                 A    B    C    D    E (duplicate of A)
    cost = np.array([1.0, 2.0, 3.0, 2.5, 1.0])
    latency = np.array([30.0, 20.0, 10.0, 25.0, 30.0])
    assert pareto_front(cost, latency).tolist() == [True, True, True, False, True]


# --- the cheapest run within the SLO --------------------------------------------------------------------


def _runs(rows):
    return pd.DataFrame(rows, columns=["run_id", "status", "latency_p99_ms", "cost_per_hour"])


def test_cheapest_meeting_the_slo_ignores_failed_runs_and_breaks_ties_by_latency_then_order():
    runs = _runs([("a", "ok", 120.0, 0.1),      # too slow
                  ("b", "failed", None, None),  # failed
                  ("c", "ok", 90.0, 0.4),
                  ("d", "ok", 80.0, 0.4),       # same cost as c, faster: wins
                  ("e", "ok", 80.0, 0.4),       # same as d, later
                  ("f", "ok", 100.0, 0.5)])     # at the limit: within it, dearer
    assert runs.loc[cheapest_meeting(runs, Slo("p99", 100.0)), "run_id"] == "d"
    assert runs.loc[cheapest_meeting(runs, Slo("p99", 200.0)), "run_id"] == "a"
    assert cheapest_meeting(runs, Slo("p99", 50.0)) is None
    assert cheapest_meeting(runs[runs.status.eq("failed")], Slo("p99", 500.0)) is None


@settings(max_examples=200)
@given(st.lists(st.tuples(st.booleans(), st.floats(1, 200), st.floats(0.01, 5)), min_size=1, max_size=20),
       st.floats(1, 200))
def test_cheapest_meeting_is_the_minimum_over_the_runs_within_the_limit(rows, limit):
    runs = _runs([(str(i), "ok" if ok else "failed", lat if ok else None, cost if ok else None)
                  for i, (ok, lat, cost) in enumerate(rows)])
    within = [(cost, lat, i) for i, (ok, lat, cost) in enumerate(rows) if ok and lat <= limit]
    found = cheapest_meeting(runs, Slo("p99", limit))
    assert (found is None) == (not within)
    if within:
        assert found == min(within)[2]


# --- the heat map ------------------------------------------------------------------------------------------


def test_heat_table_takes_the_worst_of_the_ok_runs_of_each_cell():
    runs = pd.DataFrame({"a": ["x", "x", "x", "y", "y"], "b": [1, 1, 2, 1, 1],
                         "status": ["ok", "ok", "ok", "failed", "failed"],
                         "latency_p99_ms": [10.0, 30.0, 5.0, None, None]})
    table = heat_table(runs, "a", "b", "latency_p99_ms", Slo("p99", 20.0))
    assert table[["a", "b", "runs", "ok", "meeting"]].values.tolist() == [["x", 1, 2, 2, 1], ["x", 2, 1, 1, 1],
                                                                         ["y", 1, 2, 0, 0]]
    assert table["worst"].tolist()[:2] == [30.0, 5.0] and math.isnan(table["worst"].iloc[2])
    assert table["median"].tolist()[:2] == [20.0, 5.0] and table["best"].tolist()[:2] == [10.0, 5.0]


def test_heat_map_cells_aggregate_over_the_other_axes(report_folders):
    data = load_sweep_dir(report_folders["sweep"])
    assert default_axes(data) == ("instance_type", "instances")  # rate sets the traffic: a workload axis
    assert data.workload_names == ["rate"]
    sections, _ = sweep_sections(data, Slo("p99", 15.0), None)
    (heat,) = [p for s in sections for p in s.panels if p.key == "sweep-heatmap"]
    ok = data.ok
    for cell in heat.cells:
        mine = ok[ok.instance_type.eq(cell.x) & ok.instances.astype(str).eq(cell.y)]
        assert cell.value == mine["latency_p99_ms"].max()


# --- what the pages read ------------------------------------------------------------------------------


def test_the_ramp_is_what_the_job_judged(report_folders):
    job = load_job_dir(report_folders["job"])
    document = json.loads((job.path / "recommendations.json").read_text())
    for test, record in zip(job.tests, document["simfleet"]["load_tests"]):
        frame = ramp(job, test)
        assert len(frame) and frame.index[0] == 1.0 and (np.diff(frame.index) == 1.0).all()
        if record["plateau_end_s"] is not None:  # the plateau's level is the minute the job read
            minute = record["plateau_end_s"] / 60
            assert frame.loc[minute, "invocations"] == record["plateau_invocations_per_minute"]
        assert frame["users"].is_monotonic_increasing


def test_a_job_without_a_recommendation_still_has_its_ramps(report_folders):
    job = load_job_dir(report_folders["job-no-recommendation"])
    assert job.status == "FAILED" and job.ranked == []
    assert all(len(ramp(job, test)) >= 1 for test in job.tests)


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["p99", "p99=", "p95=100ms", "p99=100", "p99=-3ms", "p99=0ms", "latency=1s", ""])
def test_a_bad_slo_is_one_line_naming_the_option(text):
    with pytest.raises(InputError) as error:
        parse_slo(text)
    (problem,) = error.value.problems
    assert str(problem).startswith("--slo: ") and "p99=100ms" in str(problem)


def test_slo_units():
    assert parse_slo("p99=100ms") == Slo("p99", 100.0)
    assert parse_slo("P50 = 0.25s") == Slo("p50", 250.0)
    assert parse_slo("p90=1500us").limit_ms == pytest.approx(1.5)


@pytest.mark.parametrize("text", ["instance_type", "a,a", "a,b,c", ",b", ""])
def test_bad_axes_are_one_line_naming_the_option(text):
    with pytest.raises(InputError) as error:
        parse_axes(text)
    assert str(error.value.problems[0]).startswith("--axes: expected two different axis names")


def test_the_command_refuses_bad_options_and_mixed_inputs(report_folders, report_runs, tmp_path):
    sweep, job, run = report_folders["sweep"], report_folders["job"], report_runs["quickstart"]
    result = runner.invoke(app, ["report", str(sweep), "--slo", "p99=fast", "--axes", "instance_type,colour"])
    assert result.exit_code == EXIT_INVALID_INPUT
    slo, axes = _errors(result)
    assert slo.startswith("error: --slo: expected PERCENTILE=LATENCY")
    assert axes == ("error: --axes: 'colour' is not an axis of the sweep report-sizing; expected two of: "
                    "instance_type, instances, rate")
    result = runner.invoke(app, ["report", str(run), str(sweep)])
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _errors(result) == [f"error: {sweep}: is a sweep dataset (sweep.json, runs.parquet) but {run} is a run "
                               "directory; a report is of run directories (overlaid), or of one job folder, or of "
                               "one sweep dataset, not a mix"]
    result = runner.invoke(app, ["report", str(job), "--slo", "p99=1s"])
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _errors(result) == [f"error: --slo: applies to a sweep dataset; {job} is an Inference Recommender job "
                               "folder (recommendations.json)"]
    result = runner.invoke(app, ["report", str(job), str(job)])
    assert result.exit_code == EXIT_INVALID_INPUT and len(_errors(result)) == 1
    assert not (sweep / "report.html").exists() and not (job / "report.html").exists()


def test_a_sweep_without_runs_parquet_is_refused_in_one_line(tmp_path):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text("{}")
    result = runner.invoke(app, ["report", str(tmp_path / "sweep")])
    assert result.exit_code == EXIT_INVALID_INPUT
    assert _errors(result) == [f"error: {tmp_path / 'sweep' / 'runs.parquet'}: missing (no run of this sweep has "
                               "finished yet); expected a sweep dataset written by `simfleet sweep`"]


def test_the_pages_are_self_contained_and_small(report_folders, tmp_path):
    pytest.importorskip("bokeh")
    for name, options in (("sweep", ["--slo", "p99=15ms"]), ("job", [])):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, ["report", str(report_folders[name]), "-o", str(out), *options])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "<script src=" not in text and "<link " not in text
        assert out.stat().st_size < 1.6 * 2**20
