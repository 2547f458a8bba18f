"""The HTML around a sweep's charts: what was swept, how many runs finished and failed, the cheapest
configuration within the SLO at each workload point, and every failed run with its error.

Every number shown comes from `runs.parquet` and is kept exact in `data-value` beside its text, as
on the run page, so a test can hold the page to the file. A sweep whose every run failed, or in
which no run meets the SLO, still renders and says so at the top.
"""

from __future__ import annotations

import math

from simfleet.report.page import escape as _e
from simfleet.report.sweep_data import SweepData
from simfleet.report.sweep_options import Slo
from simfleet.report.sweep_views import Choice, latency_column, point_text

__all__ = ["sweep_head", "sweep_tail", "CHOICE_COLUMNS"]

#: (runs.parquet column, heading, formatter) of the cheapest-run table; the latency column is the SLO's.
CHOICE_COLUMNS = (
    ("cost_per_hour", "$/hour", lambda v: f"{v:.4f}"),
    ("cost_per_million", "$/M requests", lambda v: f"{v:.4f}"),
    ("error_rate", "error rate", lambda v: f"{v:.3%}"),
    ("requests", "requests", lambda v: f"{int(v):,}"),
)


def _raw(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(value.item() if hasattr(value, "item") else value)


def _cell(field: str, value, formatter) -> str:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return (f'<td data-field="{_e(field)}" data-value="{_e(_raw(value))}">'
            f'{_e("n/a" if missing else formatter(value))}</td>')


def sweep_head(data: SweepData, slo: Slo | None, picked: list[Choice]) -> list[str]:
    runs, ok, failed = len(data.runs), len(data.ok), len(data.failed)
    axes = "; ".join(f"{name} ({', '.join(str(v) for v in dict.fromkeys(data.runs[name]))})"
                     for name in data.axis_names)
    parts = [f"<h1>simfleet report: sweep {_e(data.name)}</h1>",
             f'<p class="meta" id="sweep-counts" data-runs="{runs}" data-ok="{ok}" data-failed="{failed}">'
             f"<b>{_e(data.label)}</b>: {runs} runs from {_e(data.source or data.path)}: {ok} ok, "
             f'<span class="{"bad" if failed else ""}">{failed} failed</span>. Axes: {_e(axes or "none")}'
             + (f"; workload axes (runs are compared at each of their values): {_e(', '.join(data.workload_names))}"
                if data.workload_names else "") + ".</p>",
             '<p class="meta">Hover a point or cell for its run; the zoom tools are above each chart; click a legend '
             "entry to hide its series.</p>"]
    if runs and not ok:
        parts.append(f'<p class="notice" id="all-failed"><b>Every run of this sweep failed</b> ({failed} of {runs}): '
                     "nothing to compare. Their errors are listed below; re-running the same `simfleet sweep` "
                     "command retries them.</p>")
    elif failed:
        parts.append(f'<p class="notice" id="some-failed"><b>{failed} of {runs} runs failed</b>: they are left out '
                     "of the charts and listed at the end with their errors.</p>")
    if slo is not None and ok and all(choice.run is None for choice in picked):
        parts.append(f'<p class="notice" id="none-meets-slo"><b>No run meets the SLO {_e(slo.text)}</b>: '
                     f"the fastest ok run has {latency_column(slo)[8:11]} "
                     f"{data.ok[slo.column].min():.4g} ms.</p>")
    parts.append(_choices(data, slo, picked))
    return parts


def _choices(data: SweepData, slo: Slo | None, picked: list[Choice]) -> str:
    if slo is None:
        return ('<h2>Cheapest within an SLO</h2><p class="note" id="no-slo">No SLO given: pass one, e.g. '
                "<code>--slo p99=100ms</code>, to pick the cheapest configuration that meets it (and mark it on the "
                "chart).</p>")
    column = slo.column
    head = ("<th>workload</th>" if data.workload_names else "") + "<th>configuration</th>" + \
        f"<th>{_e(slo.percentile)} ms</th>" + "".join(f"<th>{_e(t)}</th>" for _, t, _ in CHOICE_COLUMNS) + "<th>run</th>"
    rows = []
    for choice in picked:
        workload = f'<td class="name">{_e(choice.workload)}</td>' if data.workload_names else ""
        if choice.run is None:
            why = "every run failed" if not choice.ok else f"none of its {choice.ok} ok runs meets {slo.text}"
            rows.append(f'<tr data-workload="{_e(choice.workload)}" data-run-id="">{workload}'
                        f'<td class="name bad" colspan="{len(CHOICE_COLUMNS) + 3}">{_e(why)}</td></tr>')
            continue
        r = choice.run
        cells = _cell(column, r[column], lambda v: f"{v:.2f}") + "".join(_cell(f, r[f], fmt) for f, _, fmt in CHOICE_COLUMNS)
        rows.append(f'<tr data-workload="{_e(choice.workload)}" data-run-id="{_e(r["run_id"])}">{workload}'
                    f'<td class="name">{_e(point_text(r, data.configuration_names))}</td>{cells}'
                    f'<td class="name"><code>{_e(r["run_id"])}</code></td></tr>')
    at_each = f" at each {', '.join(data.workload_names)}" if data.workload_names else ""
    return (f"<h2>Cheapest within {_e(slo.text)}{_e(at_each)}</h2>"
            '<div class="scroll"><table id="cheapest"><thead><tr>' + head + "</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></div>"
            f'<p class="note">From runs.parquet: the run with the least cost per hour among the ok runs whose '
            f"{_e(column)} is within {_e(f'{slo.limit_ms:g}')} ms (ties: the faster). The error rate is shown, not "
            "filtered on.</p>")


def sweep_tail(data: SweepData) -> list[str]:
    failed = data.failed
    if failed.empty:
        return ['<h2>Failed runs</h2><p class="note" id="failed-runs" data-count="0">None.</p>']
    rows = "".join(f'<tr data-run-id="{_e(r["run_id"])}"><td class="name"><code>{_e(r["run_id"])}</code></td>'
                   f'<td class="name">{_e(point_text(r, data.axis_names))}</td>'
                   f'<td class="wrap">{_e(r["error"] or "(no error recorded)")}</td></tr>'
                   for _, r in failed.iterrows())
    return [f'<h2>Failed runs ({len(failed)})</h2><div class="scroll"><table id="failed-runs" data-count="{len(failed)}">'
            "<thead><tr><th>run</th><th>point</th><th>error</th></tr></thead><tbody>" + rows + "</tbody></table></div>"
            '<p class="note">From runs.parquet (status failed, error). Re-running the same <code>simfleet sweep</code> '
            "command retries them.</p>"]
