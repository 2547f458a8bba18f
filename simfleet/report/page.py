"""The report page: one self-contained HTML file (BokehJS inlined, no network) around the charts.

`render_blocks` assembles a page of any kind (the job and sweep pages give it their own tables:
`job_page`, `sweep_page`). The run page holds, in order: what was run, a notice for a run without
traffic, the box of warnings (summary.json's `warnings`, only when there are any), the headline table, the charts by section (the inference-components section opens with
the per-model cost table), and the assumptions each run rests on. The headline and cost cells keep
summary.json's exact value in `data-value` beside the text shown; each chart's slot is
`<div data-panel=KEY>`. The file is written under a temporary name and renamed (`outputs.atomic`),
so a failed report never leaves half a page under the final name.
"""

from __future__ import annotations

import html
from pathlib import Path

from simfleet.errors import InputError
from simfleet.input_files import name_problem
from simfleet.report.component_data import COST_COLUMNS, cost_rows, fleet_cost, has_components
from simfleet.report.component_views import SECTION_KEY
from simfleet.report.headline import COLUMNS, IDLE, assumptions, has_traffic, headline_rows, run_totals
from simfleet.report.run_data import RunData
from simfleet.report.views import Section, time_shifts

__all__ = ["render_page", "render_blocks", "write_page", "check_out_path", "escape"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; }
main { max-width: 1200px; margin: 0 auto; padding: 0 12px 40px; }
h1 { font-size: 1.4em; margin: 16px 0 4px; } h2 { font-size: 1.15em; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
.meta, .note, .empty { color: #555; font-size: 0.9em; margin: 2px 0; }
.notice { background: #fff4ce; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; margin: 6px 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th.name, td.name { text-align: left; }
.panel { margin: 14px 0; overflow-x: hidden; }  /* a chart's title never widens a narrow page */
.empty { border: 1px dashed #bbb; padding: 24px; text-align: center; }
td.wrap { white-space: normal; text-align: left; min-width: 16em; } .ok { color: #1a7f37; } .bad { color: #b42318; }
details li { margin: 4px 0; font-size: 0.85em; } code { font-size: 0.95em; }
"""

_TEMPLATE = """\
{% from macros import embed %}
{% block preamble %}<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="simfleet report"><style>{{ style }}</style>{% endblock %}
{% block contents %}<main>
{% for kind, value in blocks %}{% if kind == "html" %}{{ value }}{% else %}{{ embed(roots[value]) }}{% endif %}
{% endfor %}</main>
{% endblock %}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


escape = _e


def _header(runs: list[RunData]) -> str:
    names = ", ".join(run.label for run in runs)
    parts = [f"<h1>simfleet report: {_e(names)}</h1>"]
    shifts = time_shifts(runs)
    for run, shift in zip(runs, shifts):
        version = run.manifest.get("simfleet_version", "?")
        source = run.manifest.get("source", "")
        moved = f"; shifted by {shift} to overlay" if shift.value else ""
        parts.append(f'<p class="meta" data-run="{_e(run.label)}"><b>{_e(run.label)}</b>: {_e(run.name)} from '
                     f"{_e(source)}, {run.start:%Y-%m-%d %H:%M:%S} UTC for {run.duration_s / 3600:g} h"
                     f"{_e(moved)}; seed {_e(run.manifest.get('seed', '?'))}; simfleet {_e(version)}</p>")
    parts.append('<p class="meta">Hover a chart for values; drag to pan, pick the zoom tools above a chart to zoom '
                 "(all charts share one time axis); click a legend entry to hide its series.</p>")
    for run in runs:
        if not has_traffic(run):
            parts.append(f'<p class="notice" id="no-traffic" data-run="{_e(run.label)}"><b>{_e(run.label)} had no '
                         "traffic</b>: no request reached any endpoint, so it has no latency or invocation "
                         "datapoint (CloudWatch publishes none for an empty period). Its capacity, utilization "
                         "and cost are still shown.</p>")
    return "\n".join(parts)


def _warnings(runs: list[RunData]) -> str:
    """The box of the runs' warnings (summary.json's `warnings`), above the headline; "" without any."""
    items = []
    for run in runs:
        for warning in run.summary.get("warnings") or ():
            where = warning.get("where") or ""
            prefix = (f"{run.label}: " if len(runs) > 1 else "") + (f"{where}: " if where else "")
            items.append(f'<li data-run="{_e(run.label)}" data-code="{_e(warning.get("code", ""))}">'
                         f"<b>{_e(prefix)}</b>{_e(warning.get('message', ''))} <code>{_e(warning.get('code', ''))}"
                         "</code></li>")
    if not items:
        return ""
    return (f'<div class="notice" id="warnings"><b>{len(items)} warning{"s" if len(items) != 1 else ""}</b>: '
            "what may make these results mislead (summary.json's warnings)<ul>" + "".join(items) + "</ul></div>")


def _cells(cells) -> str:
    """Table cells keeping summary.json's exact value in `data-value` beside the text shown."""
    return "".join(f'<td data-field="{_e(c.field)}" data-value="{_e("" if c.value is None else repr(c.value))}">'
                   f"{_e(c.text)}</td>" for c in cells)


def _headline(runs: list[RunData]) -> str:
    several = len(runs) > 1
    rows = [(run, row) for run in runs for row in headline_rows(run)]
    with_components = any(row.component for _, row in rows)
    head = (("<th>run</th>" if several else "") + "<th>endpoint</th><th>variant</th>"
            + ("<th>component</th>" if with_components else "")
            + "".join(f"<th>{_e(title)}</th>" for _, title, _ in COLUMNS))
    body = []
    for run, row in rows:
        first = f'<td class="name">{_e(run.label)}</td>' if several else ""
        component = f'<td class="name">{_e(row.component)}</td>' if with_components else ""
        body.append(f'<tr data-run="{_e(run.label)}" data-endpoint="{_e(row.endpoint)}" '
                    f'data-variant="{_e(row.variant)}" data-component="{_e(row.component)}">{first}'
                    f'<td class="name">{_e(row.endpoint)}</td><td class="name">{_e(row.variant)}</td>{component}'
                    f"{_cells(row.cells)}</tr>")
    totals = [f'<tr data-run="{_e(run.label)}"><td class="name">{_e(run.label)}</td>{_cells(run_totals(run))}</tr>'
              for run in runs]
    return ('<h2>Headline</h2><div class="scroll"><table id="headline"><thead><tr>' + head + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>"
            + '<div class="scroll"><table id="totals"><thead><tr><th>run</th><th>requests</th><th>duration</th>'
            "<th>cost</th></tr></thead><tbody>" + "".join(totals) + "</tbody></table></div>"
            '<p class="note">From summary.json. Latency is end to end (ModelLatency + OverheadLatency), run-level '
            "percentiles; cost per hour is the variant's cost over the run's duration; n/a where a value is "
            "undefined (no request, no price).</p>"
            + ('<p class="note">An inference component\'s row is its requests and its share of the instances\' '
               "cost (by the resources its copies reserved); the hosting variant's row, component (idle), holds "
               "the instance-hours and, as cost, what no copy reserved. Its rows add up to the instances' "
               "cost.</p>" if with_components else ""))


def _assumptions(runs: list[RunData]) -> str:
    parts = ["<h2>Assumptions</h2>",
             '<p class="note">What the numbers above rest on: resolved settings and model-profile entries marked '
             "ASSUMPTION (no published figure backs them) and prices the catalog lacks. Calibrate or override them "
             "before trusting a decision to them.</p>"]
    for run in runs:
        found = assumptions(run)
        missing = [a for a in found if a.where == "missing price"]
        marked = [a for a in found if a.where != "missing price"]
        items = "".join(f"<li>{_e(a.text)}</li>" for a in missing)
        parts.append(f'<div class="assumptions" data-run="{_e(run.label)}"><p><b>{_e(run.label)}</b>: '
                     f"{len(marked)} entries marked ASSUMPTION, {len(missing)} missing prices.</p>"
                     + (f'<ul class="missing-prices">{items}</ul>' if missing else ""))
        if marked:
            listed = "".join(f"<li><code>{_e(a.where)}</code>: {_e(a.text)}</li>" for a in marked)
            parts.append(f"<details><summary>the {len(marked)} ASSUMPTION entries</summary><ul>{listed}</ul></details>")
        parts.append("</div>")
    return "\n".join(parts)


def _panel_html(panel, drawn: bool) -> tuple[str, str]:
    drawn_mark = ' data-drawn="1"' if drawn else ""
    opening = f'<div class="panel" data-panel="{_e(panel.key)}" data-points="{panel.points}"{drawn_mark}>'
    if not drawn:
        return (opening + f"<h3 class=\"meta\">{_e(panel.title)}</h3>"
                f'<p class="empty">{_e(panel.empty_note)}</p></div>'), ""
    empty = [line.label for line in getattr(panel, "lines", ()) if not len(line)]
    note = panel.note + (f" No datapoints: {', '.join(empty)}." if empty else "")
    return opening, f'<p class="note">{_e(note)}</p></div>'


def _component_costs(runs: list[RunData]) -> str:
    """The per-model cost table of the runs with inference components (summary.json's
    `inference_components`, as written), and per run what its rows add up to."""
    several = len(runs) > 1
    head = (("<th>run</th>" if several else "") + "<th>endpoint</th><th>variant</th><th>component</th><th>model</th>"
            + "".join(f"<th>{_e(title)}</th>" for _, title, _ in COST_COLUMNS))
    body, sums = [], []
    for run in runs:
        rows = cost_rows(run)
        if not rows:
            continue
        for row in rows:
            first = f'<td class="name">{_e(run.label)}</td>' if several else ""
            component = IDLE if row.component is None else row.component
            body.append(f'<tr data-run="{_e(run.label)}" data-endpoint="{_e(row.endpoint)}" '
                        f'data-variant="{_e(row.variant)}" data-component="{_e(row.component or "")}"'
                        f'{" data-idle=1" if row.component is None else ""}>{first}'
                        f'<td class="name">{_e(row.endpoint)}</td><td class="name">{_e(row.variant)}</td>'
                        f'<td class="name">{_e(component)}</td><td class="name">{_e(row.model)}</td>'
                        f"{_cells(row.cells)}</tr>")
        total = sum(c.value for row in rows for c in row.cells if c.field == "cost" and c.value is not None)
        fleet = fleet_cost(run)
        sums.append(f'<span class="cost-sum" data-run="{_e(run.label)}" data-total="{total!r}" '
                    f'data-fleet="{"" if fleet is None else repr(fleet)}">'
                    + (f"{_e(run.label)}: " if several else "")
                    + f"${total:.4f} in all; the instances cost ${'n/a' if fleet is None else f'{fleet:.4f}'}</span>")
    return ('<div class="scroll"><table id="component-costs"><thead><tr>' + head + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>"
            '<p class="note">Cost per model, from summary.json: each component\'s share of the hosting instances\' '
            "cost over the run, by the accelerators its copies reserved (on CPU instances: cores and memory), "
            "and the idle row: what no copy reserved, instances without a copy included. The shares and the idle "
            "row add up to the instances' cost (" + "; ".join(sums) + "). $/M requests: the share over the "
            "component's requests (failed ones included).</p>")


def render_page(runs: list[RunData], sections: list[Section], figures: dict[str, object]) -> str:
    """The whole page of run directories as one HTML string, BokehJS and the chart data inlined."""
    title = "simfleet report: " + ", ".join(run.label for run in runs)
    tops = {SECTION_KEY: _component_costs(runs)} if any(has_components(run) for run in runs) else {}
    head = [_header(runs), _warnings(runs), _headline(runs)]
    return render_blocks(title, [part for part in head if part], sections, figures, [_assumptions(runs)], tops)


def render_blocks(title: str, head: list[str], sections: list[Section], figures: dict[str, object],
                  tail: list[str] = (), tops: dict[str, str] | None = None) -> str:
    """A page of any kind: `head` HTML, the charts by section (each panel's slot, its figure or its
    empty note; `tops` HTML under the heading of the section with that key), then `tail` HTML; one
    self-contained HTML string."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE
    from markupsafe import Markup

    blocks: list[tuple[str, object]] = [("html", Markup(part)) for part in head]
    for section in sections:
        key = f' id="{_e(section.key)}"' if section.key else ""
        blocks.append(("html", Markup(f"<section{key}><h2>{_e(section.title)}</h2>")))
        if tops and section.key in tops:
            blocks.append(("html", Markup(tops[section.key])))
        for panel in section.panels:
            drawn = panel.key in figures
            before, after = _panel_html(panel, drawn)
            blocks.append(("html", Markup(before)))
            if drawn:
                blocks.append(("root", panel.key))
                blocks.append(("html", Markup(after)))
        blocks.append(("html", Markup("</section>")))
    blocks += [("html", Markup(part)) for part in tail]
    models = list(figures.values())
    if not models:  # nothing to draw at all: an empty root keeps BokehJS's document valid
        from bokeh.models import Div
        models = [Div(text="", name="__empty__")]
        blocks.append(("root", "__empty__"))
    return file_html(models, resources=INLINE, title=title, template=_TEMPLATE,
                     template_variables={"blocks": blocks, "style": Markup(_STYLE)})


def check_out_path(out: Path) -> None:
    """Refuse, before any work, an --out that cannot become the report file."""
    unnamed = name_problem(out)
    if unnamed is not None:
        raise InputError.single(out, f"cannot be created: {unnamed}")
    if out.is_dir():
        raise InputError.single(out, "is a directory; expected the path of the HTML file to write, e.g. report.html")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError.single(out, f"cannot be created: {parent} is not a directory")


def write_page(text: str, out: Path) -> None:
    """Write the page atomically (temporary name, then rename); one-line `InputError` when it cannot."""
    from simfleet.outputs.atomic import write_text

    check_out_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, text)
    except OSError as error:
        raise InputError.single(out, f"cannot write the report ({error.strerror or error}); "
                                     "expected a writable file path") from None
