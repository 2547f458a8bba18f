"""The HTML around an Inference Recommender job's charts: what was asked, the ranked
recommendations, and each load test with where and why it stopped.

Every number in the recommendations table is recommendations.json's, kept exact in `data-value`
beside the text shown (as the run page's headline), so a test can hold the page to the file. A job
without a recommendation says so first, with the job's FailureReason and each test's.
"""

from __future__ import annotations

from simfleet.report.job_data import JobData
from simfleet.report.job_views import test_names
from simfleet.report.page import escape as _e

__all__ = ["job_head", "job_tail", "RECOMMENDATION_COLUMNS"]

#: (Metrics member, heading, formatter): as `simfleet recommend` prints them.
RECOMMENDATION_COLUMNS = (
    ("MaxInvocations", "MaxInvocations /min", lambda v: f"{v:,}"),
    ("ModelLatency", "ModelLatency ms", lambda v: f"{v / 1e3:.1f}"),
    ("CostPerHour", "CostPerHour $", lambda v: f"{v:.3f}"),
    ("CostPerInference", "CostPerInference $", lambda v: f"{v:.4e}"),
    ("ModelSetupTime", "ModelSetupTime ms", lambda v: f"{v / 1e3:.0f}"),
    ("CpuUtilization", "CpuUtilization %", lambda v: f"{v:.0f}"),
)


def _value(value) -> str:
    return "" if value is None else repr(value)


def _cell(field: str, value, formatter) -> str:
    text = "—" if value is None or value != value else formatter(value)
    return f'<td data-field="{_e(field)}" data-value="{_e(_value(value))}">{_e(text)}</td>'


def job_head(job: JobData) -> list[str]:
    r = job.recommendations
    conditions = r.get("StoppingConditions") or {}
    pattern = (r.get("InputConfig") or {}).get("TrafficPattern") or {}
    threshold = job.threshold
    asked = []
    if conditions.get("MaxInvocations"):
        asked.append(f"MaxInvocations {conditions['MaxInvocations']:,} per minute")
    if threshold:
        asked.append(f"{threshold.get('Percentile')} ModelLatency within {threshold.get('ValueInMilliseconds'):g} ms")
    if conditions.get("FlatInvocations"):
        asked.append(f"FlatInvocations {conditions['FlatInvocations']}")
    phases = "; ".join(f"{ph.get('InitialNumberOfUsers')} users, +{ph.get('SpawnRate')}/min for "
                       f"{ph.get('DurationInSeconds')} s" for ph in pattern.get("Phases") or [])
    if pattern.get("Stairs"):
        stairs = pattern["Stairs"]
        phases = (f"{stairs.get('NumberOfSteps')} steps of {stairs.get('UsersPerStep')} users over "
                  f"{stairs.get('DurationInSeconds')} s")
    status_class = "ok" if job.status == "COMPLETED" else "bad"
    parts = [f"<h1>simfleet report: Inference Recommender job {_e(job.name)}</h1>",
             f'<p class="meta" id="job" data-status="{_e(job.status)}"><b>{_e(job.label)}</b>: '
             f'{_e(r.get("JobType", ""))} job, status <b class="{status_class}">{_e(job.status)}</b>, '
             f'{len(job.tests)} load tests from {_e(job.manifest.get("source", ""))}; '
             f'created {_e(r.get("CreationTime", "?"))}, completed {_e(r.get("CompletionTime", "?"))}.</p>',
             f'<p class="meta">{_e(r.get("JobDescription", ""))}</p>' if r.get("JobDescription") else "",
             f'<p class="meta">Stopping conditions: {_e("; ".join(asked) or "none")}. Traffic: '
             f'{_e(pattern.get("TrafficType", "default ramp"))}{_e(": " + phases if phases else "")}.</p>',
             '<p class="meta">Hover a point for its numbers; the zoom tools are above each chart (the three ramp '
             "charts share their minutes); click a legend entry to hide its series.</p>"]
    if not job.ranked:
        reasons = "".join(f"<li><b>{_e(n)}</b>: {_e(t.record.get('failure_reason') or t.record.get('stop_reason') or '?')}</li>"
                          for t, n in zip(job.tests, test_names(job).values()))
        parts.append(f'<div class="notice" id="no-recommendation"><b>No recommendation</b>: the job is '
                     f"{_e(job.status)}, no load test gave a recommendation. Each test's reason:"
                     f"<ul>{reasons}</ul>The ramps below show how far each test got.</div>")
    parts.append(_recommendations(job))
    return parts


def _recommendations(job: JobData) -> str:
    if not job.ranked:
        return ('<h2>Recommendations, ranked</h2><table id="recommendations"><tbody></tbody></table>'
                '<p class="note">None: no load test had a minute within the latency threshold.</p>')
    names = test_names(job)
    setup = any("ModelSetupTime" in (rec.get("Metrics") or {}) for rec in job.ranked)
    columns = [c for c in RECOMMENDATION_COLUMNS if c[0] != "ModelSetupTime" or setup]
    head = ("<th>#</th><th>configuration</th><th>count</th>" + "".join(f"<th>{_e(t)}</th>" for _, t, _ in columns)
            + "<th>stopped by</th>")
    rows = []
    for rank, rec in enumerate(job.ranked, start=1):
        metrics = rec.get("Metrics") or {}
        config = rec.get("EndpointConfiguration") or {}
        test = job.test_of(rec)
        name = names[test.index] if test is not None else config.get("InstanceType", "?")
        count = config.get("InitialInstanceCount")
        cells = "".join(_cell(field, metrics.get(field), fmt) for field, _, fmt in columns)
        stopped = (test.record.get("stop_condition") or "") if test is not None else ""
        rows.append(f'<tr data-rank="{rank}" data-recommendation="{_e(rec.get("RecommendationId", ""))}">'
                    f'<td>{rank}</td><td class="name">{_e(name)}</td>'
                    f'<td data-field="InitialInstanceCount" data-value="{_e(_value(count))}">{_e(count if count else "—")}</td>'
                    f'{cells}<td class="name">{_e(stopped)}</td></tr>')
    return ('<h2>Recommendations, ranked</h2><div class="scroll"><table id="recommendations"><thead><tr>' + head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
            '<p class="note">From recommendations.json, in its order (the first is the best for the ranking the '
            "job was written with). ModelLatency at the start of the plateau; MaxInvocations at the recommended "
            "instance count.</p>")


def job_tail(job: JobData) -> list[str]:
    names = test_names(job)
    rows = []
    for test in job.tests:
        r = test.record
        level = r.get("plateau_invocations_per_minute")
        status_class = "ok" if r.get("status") == "COMPLETED" else "bad"
        rows.append(f'<tr data-endpoint="{_e(test.endpoint_name)}"><td class="name">{_e(names[test.index])}</td>'
                    f'<td class="name {status_class}">{_e(r.get("status", "?"))}</td>'
                    f'<td class="name">{_e(r.get("stop_condition") or "—")}</td>'
                    f'<td class="wrap">{_e(r.get("stop_reason") or "—")}</td>'
                    f'<td data-field="plateau_invocations_per_minute" data-value="{_e(_value(level))}">'
                    f'{_e(f"{level:,}" if level is not None else "—")}</td>'
                    f'<td class="wrap">{_e(r.get("failure_reason") or "")}'
                    f'{"" if test.run is not None else "(never ran: no run directory)"}</td></tr>')
    return ['<h2>Load tests</h2><div class="scroll"><table id="load-tests"><thead><tr><th>configuration</th>'
            "<th>status</th><th>stopped by</th><th>why</th><th>plateau /min</th><th>failure</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>"
            '<p class="note">From recommendations.json\'s simfleet.load_tests. Each test\'s own run directory '
            f"(<code>{_e(job.path / 'tests')}/&lt;EndpointName&gt;</code>) has its full report: "
            "<code>simfleet report DIR</code>.</p>"]
