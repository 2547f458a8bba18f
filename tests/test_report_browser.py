"""The report as a person sees it: each page rendered by a real headless Chromium.

Checks that a page loads without console errors or network requests (it must open offline), that
BokehJS drew every chart the page announces and every chart has data points, that the headline
numbers on the page equal summary.json's, that a run without traffic says so, that several runs are
overlaid (each chart has a series of each run), and that a narrow window does not overflow. A
screenshot of each page is kept under `tests/artifacts/` (or `$SIMFLEET_TEST_ARTIFACTS`).

Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without it these tests
skip, saying so, except under CI (`CI=true`), where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if not IN_CI:  # under CI the extra is installed by the README's setup command; its absence fails
    pytest.importorskip("bokeh", reason="the report extra is not installed: pip install -e '.[report]'")

from simfleet.report.browser import Browser, find_chromium  # noqa: E402
from simfleet.report.build import PAGE_READY, build_report  # noqa: E402
from simfleet.report.headline import COLUMNS  # noqa: E402

ARTIFACTS = Path(os.environ.get("SIMFLEET_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))

#: Per chart slot on the page: its Bokeh figure's series as (name, number of points).
CHARTS_JS = """(() => {
  const doc = Bokeh.documents[0];
  const out = {};
  for (const root of doc.roots()) {
    if (!root.renderers) continue;
    out[root.name] = root.renderers.map(r => [r.name, r.data_source.get_length()]);
  }
  return out;
})()"""

#: Per chart slot: the size of what was drawn (BokehJS draws into canvases inside shadow roots).
DRAWN_JS = """(() => {
  const out = {};
  for (const slot of document.querySelectorAll('.panel[data-drawn]')) {
    const r = slot.getBoundingClientRect();
    out[slot.dataset.panel] = [Math.round(r.width), Math.round(r.height)];
  }
  return out;
})()"""

HEADLINE_JS = """(() => [...document.querySelectorAll('#headline tbody tr')].map(tr => ({
  run: tr.dataset.run, endpoint: tr.dataset.endpoint, variant: tr.dataset.variant,
  cells: Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map(td =>
    [td.dataset.field, [td.dataset.value, td.textContent]]))})))()"""


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        message = "Chromium is not installed (apt-get install chromium): the report's browser tests need it"
        if IN_CI:
            pytest.fail(message + " and CI=true, so its absence is a failure")
        pytest.skip(message)
    with Browser(width=1200, height=900) as chromium:
        yield chromium


def _open(browser: Browser, page: Path, width: int = 1200) -> None:
    browser.console.clear()
    browser.requests.clear()
    browser.set_viewport(width, 900)
    browser.open(page, ready=PAGE_READY)


def _check_loaded_cleanly(browser: Browser) -> None:
    assert browser.errors() == [], f"console errors: {browser.errors()}"
    remote = [url for url in browser.requests if not url.startswith(("file:", "data:", "blob:"))]
    assert remote == [], f"the page asked the network for {remote}"


def _charts(browser: Browser) -> dict[str, list]:
    charts = browser.evaluate(CHARTS_JS)
    drawn = browser.evaluate(DRAWN_JS)
    assert set(charts) == set(drawn), "every chart slot holds its figure, and every figure has a slot"
    for key, (width, height) in drawn.items():
        assert width > 200 and height > 150, f"chart {key} was not drawn ({width}×{height})"
    for key, series in charts.items():
        assert series, f"chart {key} has no series"
        assert all(points > 0 for _, points in series), f"chart {key} has an empty series: {series}"
    return charts


def _screenshot(browser: Browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = browser.screenshot(ARTIFACTS / f"report-{name}.png")
    assert shot.stat().st_size > 10_000
    return shot


def _report(dirs: list[Path], out: Path) -> Path:
    return build_report(dirs, out).page


def _float(text: str):
    return None if text == "" else float(text)


def _check_headline(browser: Browser, runs: dict[str, Path]) -> None:
    rows = browser.evaluate(HEADLINE_JS)
    expected = []
    for label, path in runs.items():
        summary = json.loads((path / "summary.json").read_text())
        for v in summary["variants"]:
            expected.append((label, v))
    assert len(rows) == len(expected)
    for row, (label, v) in zip(rows, expected):
        assert (row["endpoint"], row["variant"]) == (v["EndpointName"], v["VariantName"])
        for field, _, formatter in COLUMNS:
            value = v
            for part in field.split("."):
                value = value[part]
            raw, text = row["cells"][field]
            assert _float(raw) == value, f"{field} of {label}: page {raw} vs summary.json {value}"
            if value is None:
                assert text == "n/a"
            elif field == "instance_hours" and v.get("InferenceComponentName"):
                assert text == "on host row"  # a component's instances are its host's
            elif not (field == "instance_hours" and v.get("serverless") is not None):
                assert text == formatter(value)
    totals = browser.evaluate("[...document.querySelectorAll('#totals tbody tr')].map(tr => "
                              "Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map(td => "
                              "[td.dataset.field, td.dataset.value])))")
    for total, path in zip(totals, runs.values()):
        summary = json.loads((path / "summary.json").read_text())
        assert int(total["requests"]) == summary["requests"]
        assert _float(total["cost"]) == summary["cost"]


@pytest.mark.parametrize("name, panels", [
    ("quickstart", {"model-latency", "overhead-latency", "invocations", "errors", "instances",
                    "utilization-CPUUtilization", "utilization-MemoryUtilization"}),
    ("serverless-vs-realtime", {"serverless"}),
    ("multi-model", {"cache-hit", "cache-loads", "utilization-DiskUtilization"}),
    ("autoscaling", {"instances", "utilization-GPUUtilization"}),
    ("pipeline", {"container-latency"}),
])
def test_a_run_page_renders_every_chart_with_data_and_summary_numbers(browser, report_runs, tmp_path, name, panels):
    page = _report([report_runs[name]], tmp_path / "report.html")
    _open(browser, page)
    _check_loaded_cleanly(browser)
    charts = _charts(browser)
    assert panels <= set(charts), f"missing views: {panels - set(charts)}"
    _check_headline(browser, {report_runs[name].name: report_runs[name]})
    if name == "autoscaling":  # every scaling activity marked, with what hovering it says
        events = __import__("pandas").read_parquet(report_runs[name] / "events.parquet")
        activities = int(events["event"].eq("ScalingActivity").sum())
        assert activities >= 2
        assert ["scaling activity", activities] in charts["instances"]
    # no notice but the warnings box, which lists exactly the run's warnings (summary.json)
    assert browser.evaluate("document.querySelectorAll('.notice:not(#warnings)').length") == 0
    warnings = __import__("json").loads((report_runs[name] / "summary.json").read_text()).get("warnings") or []
    assert browser.evaluate("document.querySelectorAll('#warnings li').length") == len(warnings)
    assert browser.evaluate("document.querySelector('#inference-components, #component-costs')") is None
    _screenshot(browser, name)


def test_a_run_with_inference_components_shows_its_section(browser, tmp_path):
    """Per-model costs from summary.json, each component's charts, and the headline's component rows."""
    from report_inputs import IC_PANELS, make_ic_run

    run = make_ic_run(tmp_path / "inference-components")
    page = _report([run], tmp_path / "report.html")
    _open(browser, page)
    _check_loaded_cleanly(browser)
    charts = _charts(browser)
    assert IC_PANELS <= set(charts), f"missing views: {IC_PANELS - set(charts)}"
    summary = json.loads((run / "summary.json").read_text())
    names = [v["InferenceComponentName"] for v in summary["variants"] if v.get("InferenceComponentName")]
    for key in ("ic-copies", "ic-invocations", "ic-latency"):
        for name in names:
            assert any(series.startswith(f"{name} ") for series, _ in charts[key]), f"{key} has no series of {name}"
    _check_headline(browser, {run.name: run})
    rows = _table(browser, "#component-costs")
    assert len(rows) == len(summary["inference_components"])
    for row, expected in zip(rows, summary["inference_components"]):
        assert row["data"]["component"] == (expected["InferenceComponentName"] or "")
        for field, (raw, _) in row["cells"].items():
            assert _float(raw) == expected[field], f"{field}: page {raw} vs summary.json {expected[field]}"
    instances_cost = sum(v["hosting"]["instances_cost"] for v in summary["variants"] if v.get("hosting"))
    total = browser.evaluate("({...document.querySelector('.cost-sum').dataset})")
    assert float(total["total"]) == pytest.approx(instances_cost) and float(total["fleet"]) == instances_cost
    assert browser.evaluate("document.querySelector('#inference-components h2').innerText") == "Inference components"
    _screenshot(browser, "inference-components")


def test_a_run_without_traffic_renders_and_says_so(browser, report_runs, tmp_path):
    run = report_runs["no-traffic"]
    page = _report([run], tmp_path / "report.html")
    _open(browser, page)
    _check_loaded_cleanly(browser)
    notice = browser.evaluate("document.querySelector('#no-traffic').innerText")
    assert "had no traffic" in notice
    empty = browser.evaluate("[...document.querySelectorAll('.panel:not([data-drawn]) .empty')].map(e => e.innerText)")
    assert empty and all("no request" in text for text in empty)
    charts = _charts(browser)  # capacity and utilization still have data
    assert "instances" in charts and "model-latency" not in charts
    _check_headline(browser, {run.name: run})
    _screenshot(browser, "no-traffic")


def test_several_runs_are_overlaid_on_one_page(browser, report_runs, tmp_path):
    runs = {name: report_runs[name] for name in ("quickstart", "quickstart-3")}
    page = _report(list(runs.values()), tmp_path / "compare.html")
    _open(browser, page)
    _check_loaded_cleanly(browser)
    charts = _charts(browser)
    assert len(charts) >= 7
    for key, series in charts.items():
        for label in runs:
            assert any(name.startswith(f"{label} · ") for name, _ in series), f"chart {key} has no series of {label}"
    _check_headline(browser, runs)
    _screenshot(browser, "compare")


def test_a_narrow_window_does_not_overflow(browser, report_runs, tmp_path):
    page = _report([report_runs["quickstart"]], tmp_path / "report.html")
    _open(browser, page, width=420)
    _check_loaded_cleanly(browser)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 420
    _charts(browser)


def test_png_export_draws_each_chart(browser, report_runs, tmp_path):
    outcome = build_report([report_runs["quickstart"]], tmp_path / "report.html", tmp_path / "png")
    names = {path.name for path in outcome.pngs}
    assert "page.png" in names and "model-latency.png" in names and len(names) == outcome.charts + 1
    for path in outcome.pngs:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


# --- the recommender job and sweep pages ----------------------------------------------------------------

TABLE_JS = """((selector) => [...document.querySelectorAll(selector + ' tbody tr')].map(tr => ({
  data: {...tr.dataset},
  cells: Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map(td =>
    [td.dataset.field, [td.dataset.value, td.textContent]]))})))"""


def _table(browser: Browser, selector: str) -> list[dict]:
    return browser.evaluate(f"{TABLE_JS}({json.dumps(selector)})")


def _narrow(browser: Browser, page: Path) -> None:
    _open(browser, page, width=420)
    _check_loaded_cleanly(browser)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 420
    _charts(browser)


def test_a_job_page_shows_ramps_and_ranked_recommendations_from_the_files(browser, report_folders, tmp_path):
    job = report_folders["job"]
    page = build_report([job], tmp_path / "job.html").page
    _open(browser, page)
    _check_loaded_cleanly(browser)
    charts = _charts(browser)
    assert set(charts) == {"job-cost", "job-users", "job-invocations", "job-latency"}
    document = json.loads((job / "recommendations.json").read_text())
    tests = document["simfleet"]["load_tests"]
    for key in ("job-users", "job-invocations", "job-latency"):  # a ramp of every load test
        for test in tests:
            assert any(name.startswith(("ml.", "serverless")) for name, _ in charts[key])
        assert len([n for n, _ in charts[key] if not n.endswith((" stop", " plateau", " points")) and "Stopping" not in n
                    and "Threshold" not in n]) == len(tests)
    stops = [n for n, _ in charts["job-latency"] if n.endswith(" stop")]
    assert len(stops) == len(tests)  # where each test stopped, marked
    assert any(n.startswith("ModelLatencyThresholds P95 50 ms") for n, _ in charts["job-latency"])
    rows = _table(browser, "#recommendations")
    ranked = document["InferenceRecommendations"]
    assert len(rows) == len(ranked) >= 1
    for rank, (row, recommendation) in enumerate(zip(rows, ranked), start=1):
        assert row["data"]["rank"] == str(rank) and row["data"]["recommendation"] == recommendation["RecommendationId"]
        for field, (raw, _) in row["cells"].items():
            expected = (recommendation["EndpointConfiguration"].get(field) if field == "InitialInstanceCount"
                        else recommendation["Metrics"].get(field))
            value = _float(raw)
            same = value == expected or (value != value and expected != expected)  # NaN: serverless CPU
            assert same, f"#{rank} {field}: page {raw} vs recommendations.json {expected}"
    assert len([n for n, _ in charts["job-cost"] if not n.endswith(" labels")]) == len(ranked)
    assert browser.evaluate("document.querySelector('#job').dataset.status") == document["Status"] == "COMPLETED"
    assert browser.evaluate("document.querySelectorAll('#load-tests tbody tr').length") == len(tests)
    assert browser.evaluate("document.querySelector('#no-recommendation')") is None
    _screenshot(browser, "job")
    _narrow(browser, page)


def test_a_job_without_a_recommendation_renders_and_says_so(browser, report_folders, tmp_path):
    job = report_folders["job-no-recommendation"]
    page = build_report([job], tmp_path / "job.html").page
    _open(browser, page)
    _check_loaded_cleanly(browser)
    notice = browser.evaluate("document.querySelector('#no-recommendation').innerText")
    assert "No recommendation" in notice and "FAILED" in notice
    document = json.loads((job / "recommendations.json").read_text())
    for test in document["simfleet"]["load_tests"]:
        assert test["failure_reason"] in notice
    assert _table(browser, "#recommendations") == []
    empty = browser.evaluate("[...document.querySelectorAll('.panel:not([data-drawn])')].map(e => e.dataset.panel)")
    assert empty == ["job-cost"]
    charts = _charts(browser)  # the ramps still show how far each test got
    assert {"job-users", "job-invocations", "job-latency"} <= set(charts)
    _screenshot(browser, "job-no-recommendation")
    _narrow(browser, page)


def _check_sweep_counts(browser: Browser, runs) -> None:
    counts = browser.evaluate("({...document.querySelector('#sweep-counts').dataset})")
    assert int(counts["runs"]) == len(runs)
    assert int(counts["ok"]) == int(runs["status"].eq("ok").sum())
    assert int(counts["failed"]) == int((~runs["status"].eq("ok")).sum())


def test_a_sweep_page_shows_the_front_the_cheapest_run_and_the_failed_runs(browser, report_folders, tmp_path):
    import pandas as pd

    sweep = report_folders["sweep"]
    page = build_report([sweep], tmp_path / "sweep.html", slo="p99=15ms", axes="instance_type,rate").page
    _open(browser, page)
    _check_loaded_cleanly(browser)
    charts = _charts(browser)
    assert set(charts) == {"sweep-cost", "sweep-heatmap"}
    runs = pd.read_parquet(sweep / "runs.parquet")
    _check_sweep_counts(browser, runs)
    names = [name for name, _ in charts["sweep-cost"]]
    assert {"rate 150", "rate 150 Pareto front", "rate 900", "rate 900 Pareto front", "SLO p99 ≤ 15 ms",
            "cheapest within p99 ≤ 15 ms"} <= set(names)
    assert dict(charts["sweep-heatmap"])["cells"] == 4  # instance_type × rate, over instances
    ok = runs[runs.status.eq("ok")]
    rows = _table(browser, "#cheapest")
    assert [row["data"]["workload"] for row in rows] == ["rate 150", "rate 900"]
    for row in rows:  # the cheapest ok run within the SLO at its rate, as runs.parquet has it
        rate = int(row["data"]["workload"].split()[-1])
        within = ok[ok.rate.eq(rate) & (ok.latency_p99_ms <= 15)].sort_values(["cost_per_hour", "latency_p99_ms"])
        expected = within.iloc[0]
        assert row["data"]["runId"] == expected["run_id"]
        for field, (raw, _) in row["cells"].items():
            assert _float(raw) == float(expected[field]), field
    failed = runs[~runs.status.eq("ok")]
    listed = browser.evaluate("[...document.querySelectorAll('#failed-runs tbody tr')].map(tr => "
                              "[tr.dataset.runId, tr.querySelector('.wrap').innerText])")
    assert [[r.run_id, r.error] for r in failed.itertuples()] == listed and len(listed) == 1
    assert "some-failed" in browser.evaluate("[...document.querySelectorAll('.notice')].map(n => n.id).join()")
    _screenshot(browser, "sweep")
    _narrow(browser, page)


def test_a_sweep_where_no_run_meets_the_slo_renders_and_says_so(browser, report_folders, tmp_path):
    page = build_report([report_folders["sweep"]], tmp_path / "sweep.html", slo="p99=1ms").page
    _open(browser, page)
    _check_loaded_cleanly(browser)
    assert "No run meets the SLO p99 ≤ 1 ms" in browser.evaluate("document.querySelector('#none-meets-slo').innerText")
    assert all(row["data"]["runId"] == "" for row in _table(browser, "#cheapest"))
    charts = _charts(browser)
    assert not any(name.startswith("cheapest") for name, _ in charts["sweep-cost"])


def test_a_sweep_whose_every_run_failed_renders_and_says_so(browser, report_folders, tmp_path):
    import pandas as pd

    sweep = report_folders["sweep-all-failed"]
    page = build_report([sweep], tmp_path / "sweep.html", slo="p99=100ms").page
    _open(browser, page)
    _check_loaded_cleanly(browser)
    assert "Every run of this sweep failed" in browser.evaluate("document.querySelector('#all-failed').innerText")
    runs = pd.read_parquet(sweep / "runs.parquet")
    _check_sweep_counts(browser, runs)
    assert browser.evaluate("document.querySelectorAll('#failed-runs tbody tr').length") == len(runs) == 3
    assert _charts(browser) == {}
    empty = browser.evaluate("[...document.querySelectorAll('.panel:not([data-drawn]) .empty')].map(e => e.innerText)")
    assert len(empty) == 2 and all("no run of this sweep succeeded" in text for text in empty)
    _screenshot(browser, "sweep-all-failed")
    _narrow(browser, page)
