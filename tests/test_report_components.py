"""The run page of an endpoint hosting inference components, without a browser.

The run is the shipped example shortened, with one instance at the start (the LLM's two copies fill
its four GPUs) and one copy of the thumbnail model: BERT's and ResNet's copies wait for the
instance managed instance scaling launches, so both components fail every request for want of a
copy until their first copy serves, as after a scale to zero. Enhanced metrics are on, so each
copy's own utilization datapoints are there to check the per-copy chart against. Every number is
checked against what the run wrote (`summary.json`, `events.parquet`, the per-copy datapoints), not
against literals; the browser's view is in `test_report_browser.py`.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from report_inputs import IC_PANELS, make_ic_run
from simfleet.report.component_data import cost_rows, fleet_cost
from simfleet.report.headline import IDLE, headline_rows
from simfleet.report.run_data import load_run
from simfleet.report.views import build_sections

@pytest.fixture(scope="module")
def ic_run(tmp_path_factory) -> Path:
    return make_ic_run(tmp_path_factory.mktemp("report-ic") / "inference-components")


def _summary(path: Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def _section(run, key: str = "inference-components"):
    found = [s for s in build_sections([run]) if s.key == key]
    return found[0] if found else None


def _panels(run) -> dict:
    return {p.key: p for s in build_sections([run]) for p in s.panels}


class _Tables(HTMLParser):
    """Every table row of a page with an id'd table: its data-* attributes and its cells' data-value."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self._table = None
        self._row = None
        self._field = None
        self.headings: dict[str, list[str]] = {}
        self._th = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table], self.headings[self._table] = [], []
        elif tag == "tr" and self._table and "data-run" in attrs:
            self._row = {"data": attrs, "cells": {}}
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._row is not None and "data-field" in attrs:
            self._row["cells"][attrs["data-field"]] = [attrs.get("data-value", ""), ""]
            self._field = attrs["data-field"]
        elif tag == "th" and self._table:
            self._th = True
            self.headings[self._table].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag == "td":
            self._field = None
        elif tag == "th":
            self._th = False

    def handle_data(self, data):
        if self._field is not None:
            self._row["cells"][self._field][1] += data
        elif self._th:
            self.headings[self._table][-1] += data


def _page_tables(run_dir: Path, out: Path) -> tuple[str, _Tables]:
    pytest.importorskip("bokeh")
    from simfleet.report.build import build_report

    text = build_report([run_dir], out).page.read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(text)
    return text, parser


def _value(raw: str):
    return None if raw == "" else float(raw)


# --- the per-model cost table --------------------------------------------------------------------------


def test_the_cost_table_is_summary_json_s_and_adds_up_to_the_instances_cost(ic_run, tmp_path):
    summary = _summary(ic_run)
    table = summary["inference_components"]
    run = load_run(ic_run)
    rows = cost_rows(run)
    assert [r.component for r in rows] == [t["InferenceComponentName"] for t in table]
    assert sum(r.component is None for r in rows) == 1  # the idle row
    hosts = [v for v in summary["variants"] if v.get("hosting")]
    instances_cost = sum(v["hosting"]["instances_cost"] for v in hosts)
    assert fleet_cost(run) == pytest.approx(instances_cost, rel=1e-12)
    # the components' shares and the idle row make the instances' cost (what the note under the table says)
    assert sum(t["cost"] for t in table) == pytest.approx(instances_cost, rel=1e-9)

    text, page = _page_tables(ic_run, tmp_path / "report.html")
    shown = page.tables["component-costs"]
    assert len(shown) == len(table)
    for row, expected in zip(shown, table):
        assert row["data"]["data-component"] == (expected["InferenceComponentName"] or "")
        assert ("data-idle" in row["data"]) == (expected["InferenceComponentName"] is None)
        for field in ("requests", "cost", "share", "cost_per_million_requests"):
            raw, shown_text = row["cells"][field]
            assert _value(raw) == expected[field], f"{field}: page {raw} vs summary.json {expected[field]}"
            assert (shown_text == "n/a") == (expected[field] is None)
        component_requests = [v["requests"] for v in summary["variants"]
                              if v.get("InferenceComponentName") == expected["InferenceComponentName"]]
        if expected["InferenceComponentName"] is not None:  # the table's requests are the component's row's
            assert component_requests == [expected["requests"]]
    assert {"component", "model", "requests", "cost $", "share of the instances' cost",
            "$/M requests"} <= set(page.headings["component-costs"])
    assert "add up to the instances' cost" in text
    assert f'data-fleet="{instances_cost!r}"' in text or f'data-fleet="{fleet_cost(run)!r}"' in text


def test_headline_rows_tell_components_from_the_idle_row(ic_run, tmp_path):
    summary = _summary(ic_run)
    rows = headline_rows(load_run(ic_run))
    assert len(rows) == len(summary["variants"])
    for row, v in zip(rows, summary["variants"]):
        cells = {c.field: c for c in row.cells}
        assert cells["cost"].value == v["cost"] and cells["requests"].value == v["requests"]
        if v.get("InferenceComponentName"):
            assert row.component == v["InferenceComponentName"]
            assert cells["instance_hours"].text == "on host row"  # not "0.000": its instances are the host's
        else:
            assert v.get("hosting") is not None and row.component == IDLE
            assert cells["instance_hours"].value == v["instance_hours"] > 0
    _, page = _page_tables(ic_run, tmp_path / "report.html")
    assert "component" in page.headings["headline"]
    shown = [r["data"]["data-component"] for r in page.tables["headline"]]
    assert shown == [v.get("InferenceComponentName") or IDLE for v in summary["variants"]]


# --- the charts -----------------------------------------------------------------------------------------


def test_the_section_charts_each_component_and_the_request_charts_leave_the_host_out(ic_run):
    run = load_run(ic_run)
    section = _section(run)
    assert section is not None and {p.key for p in section.panels} == IC_PANELS
    panels = _panels(run)
    # the host serves no request of its own: no per-variant latency or traffic chart of empty lines
    assert not {"model-latency", "overhead-latency", "invocations", "errors"} & set(panels)
    names = [v["InferenceComponentName"] for v in _summary(ic_run)["variants"] if v.get("InferenceComponentName")]
    for key in ("ic-copies", "ic-invocations", "ic-no-capacity", "ic-latency"):
        assert {line.group for line in panels[key].lines} == set(names), key
    # the instances chart has one in-service and one desired line (not one per component row)
    assert [line.label for line in panels["instances"].lines] == ["AllTraffic in service", "AllTraffic desired"]
    launched = run.event_details("InstanceLaunched")
    managed = [d for d in launched["details"] if d["reason"].startswith("managed instance scaling")]
    assert len(managed) >= 1
    assert sum(m.kind == "managed instance scaling" for m in panels["instances"].markers) == len(managed)


def test_copies_and_every_copy_event_are_drawn(ic_run):
    run = load_run(ic_run)
    panel = _panels(run)["ic-copies"]
    events = pd.read_parquet(ic_run / "events.parquet")
    copy_events = events[events["event"].str.startswith("Copy")]
    copy_markers = [m for m in panel.markers if m.kind != "scaling activity"]
    assert len(copy_markers) == len(copy_events) > 0
    assert sorted(m.kind for m in copy_markers) == sorted(copy_events["event"])
    # a scaling activity of a component's copy count is marked on the copies, not on the instances
    every = [json.loads(d) for e, d in zip(events["event"], events["detail"]) if e == "ScalingActivity"]
    scaled = [d for d in every if d.get("inference_component")]
    activities = [m for m in panel.markers if m.kind == "scaling activity"]
    assert sorted((m.group, m.y) for m in activities) == sorted((d["inference_component"], d["new_capacity"])
                                                              for d in scaled)
    on_instances = [m for m in _panels(run)["instances"].markers if m.kind == "scaling activity"]
    assert len(on_instances) == len(every) - len(scaled)
    for v in _summary(ic_run)["variants"]:
        name = v.get("InferenceComponentName")
        if not name:
            continue
        lines = {line.label.removeprefix(name + " "): line for line in panel.lines if line.group == name}
        assert lines["in service"].y.max() == v["inference_component"]["peak_copies_in_service"]
        assert lines["desired"].y[0] >= v["inference_component"]["copies_initial"]
        mine = [json.loads(d) for d in copy_events["detail"]]
        if any(d["inference_component"] == name for d, e in zip(mine, copy_events["event"]) if e == "CopyPending"):
            assert lines["pending"].y.max() >= 1  # a copy that waited is visible as such
        in_service = [m for m in copy_markers if m.group == name and m.kind == "CopyInService"]
        assert max(m.y for m in in_service) == v["inference_component"]["peak_copies_in_service"]


def _serving(events: pd.DataFrame) -> dict[str, list[tuple[float, int]]]:
    """Per component, (time_s, copies serving after it) at each copy event, replayed from the log."""
    serving: dict[str, set] = {}
    steps: dict[str, list[tuple[float, int]]] = {}
    for t, e, d in zip(events["time_s"], events["event"], events["detail"]):
        if not e.startswith("Copy"):
            continue
        d = json.loads(d)
        mine = serving.setdefault(d["inference_component"], set())
        if e == "CopyInService":
            mine.add(d["copy"])
        elif e in ("CopyDisplaced", "CopyRemoved"):
            mine.discard(d["copy"])
        steps.setdefault(d["inference_component"], []).append((float(t), len(mine)))
    return steps


def test_a_component_without_a_serving_copy_fails_until_its_first_copy_serves(ic_run):
    """The scale-from-zero episode, as the page draws it: NoCapacityInvocationFailures adding up to the
    summary's NoCapacity outcomes, only in minutes when the component had no copy serving at some
    instant (replayed from the copy events), 100 % of the requests of a first minute without a copy."""
    run = load_run(ic_run)
    panels = _panels(run)
    events = pd.read_parquet(ic_run / "events.parquet")
    steps = _serving(events)
    start = np.datetime64(run.start.tz_convert(None))
    episodes = 0
    for v in _summary(ic_run)["variants"]:
        name = v.get("InferenceComponentName")
        if not name:
            continue
        failures = [line for line in panels["ic-invocations"].lines
                    if line.group == name and line.label.endswith("NoCapacityInvocationFailures")][0]
        invocations = [line for line in panels["ic-invocations"].lines
                       if line.group == name and line.label.endswith(" Invocations")][0]
        # per minute (60 s periods): the counts add up to the summary's outcomes
        assert failures.y.sum() == v["outcomes"]["NoCapacity"]
        in_flight = json.loads(events.loc[events["event"].eq("RunEnd"), "detail"].iloc[0])["in_flight"]
        assert v["requests"] - in_flight <= invocations.y.sum() <= v["requests"]  # counted once answered
        (share,) = [line for line in panels["ic-no-capacity"].lines if line.group == name]
        if v["outcomes"]["NoCapacity"] == 0:
            assert not share.y.any()
            continue
        episodes += 1
        for x, y in zip(failures.x, failures.y):
            a = (x - start) / np.timedelta64(1, "s")
            before = [n for t, n in steps.get(name, []) if t <= a]
            within = [n for t, n in steps.get(name, []) if a < t < a + 60]
            without_copy = (not before or before[-1] == 0) or 0 in within
            assert without_copy or y == 0, f"{name}: {y} failures in the minute from {x} while a copy served"
        if not [n for t, n in steps.get(name, []) if t < 60 and n > 0]:
            assert share.x[0] == start and share.y[0] == 100.0  # no copy all of the first minute
    assert episodes >= 1


def test_per_copy_utilization_is_the_average_and_maximum_over_the_copies(ic_run):
    """Checked against each copy's own datapoints (enhanced metrics: InstanceId and ContainerId)."""
    run = load_run(ic_run)
    panels = _panels(run)
    metrics = pd.read_parquet(ic_run / "metrics.parquet")
    checked = 0
    for metric in ("CPUUtilizationNormalized", "GPUUtilizationNormalized"):
        per_copy = metrics[metrics["namespace"].eq("/aws/sagemaker/InferenceComponents")
                           & metrics["metric_name"].eq(metric) & metrics["ContainerId"].notna()
                           & metrics["AcceleratorId"].isna()]
        assert len(per_copy)
        lines = {line.label: line for line in panels[f"ic-utilization-{metric}"].lines}
        for name, rows in per_copy.groupby("InferenceComponentName", observed=True):
            by_period = rows.groupby("timestamp")["average"]
            average, maximum = lines[f"{name} average"], lines[f"{name} maximum"]
            stamps = by_period.mean().index.tz_convert(None).to_numpy(dtype="datetime64[ms]")
            assert np.array_equal(average.x, stamps) and np.array_equal(maximum.x, stamps)
            np.testing.assert_allclose(average.y, by_period.mean().to_numpy(), rtol=1e-9)
            np.testing.assert_allclose(maximum.y, by_period.max().to_numpy(), rtol=1e-9)
            checked += 1
    assert checked >= 4
    reservations = panels["ic-reservations"]
    assert {line.label for line in reservations.lines} == {"AllTraffic CPUReservation", "AllTraffic GPUReservation",
                                                          "AllTraffic MemoryReservation"}
    assert all(0 <= y <= 100 for line in reservations.lines for y in line.y)


# --- runs without components -----------------------------------------------------------------------------


def test_a_run_without_components_has_no_component_section_column_or_table(report_runs, tmp_path):
    run_dir = report_runs["quickstart"]
    run = load_run(run_dir)
    assert _section(run) is None
    assert not any(p.key.startswith("ic-") for p in _panels(run).values())
    assert all(row.component == "" for row in headline_rows(run))
    text, page = _page_tables(run_dir, tmp_path / "report.html")
    assert "component-costs" not in page.tables and 'id="inference-components"' not in text
    assert "component" not in page.headings["headline"]
