"""The inference-components section of a run page, as plain series: only for runs with components.

On an endpoint hosting inference components, requests are counted per component (CloudWatch's
`InferenceComponentName` dimension), not per variant, so the section shows, per component over
time: its copies (`DesiredCopyCount`, `InServiceCopies`, `LoadingCopies`, `PendingCopies`) with
every copy event marked; its invocations with its `NoCapacityInvocationFailures`, and the share of
its requests so failed (a component with no serving copy fails every request until its first copy
serves: the scale-from-zero episode); its `ModelLatency` p50/p99; each copy's utilization over its
reservation (`/aws/sagemaker/InferenceComponents`, average and maximum over the copies); and the
hosting variant's `CPUReservation`, `GPUReservation` and `MemoryReservation`. The per-model cost
table is the page's (`page`), from `component_data`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simfleet.report.component_data import COPY_EVENTS, components, copy_events, has_components
from simfleet.report.run_data import is_hosting
from simfleet.report.views import Line, Marker, Panel, Section

__all__ = ["component_section", "SECTION_KEY", "COPY_GAUGES", "COPY_UTILIZATION", "RESERVATIONS"]

SECTION_KEY = "inference-components"
_COMPONENTS_NAMESPACE = "/aws/sagemaker/InferenceComponents"
_HOST_NAMESPACE = "/aws/sagemaker/Endpoints"

#: (gauge, statistic, legend word, dash, always shown): loading and pending only when some copy was.
COPY_GAUGES = (("DesiredCopyCount", "maximum", "desired", "dashed", True),
               ("InServiceCopies", "average", "in service", "solid", True),
               ("LoadingCopies", "maximum", "loading", "dotted", False),
               ("PendingCopies", "maximum", "pending", "dashdot", False))
COPY_UTILIZATION = ("CPUUtilizationNormalized", "MemoryUtilizationNormalized", "GPUUtilizationNormalized",
                    "GPUMemoryUtilizationNormalized")
RESERVATIONS = (("CPUReservation", "solid"), ("GPUReservation", "dashed"), ("MemoryReservation", "dotted"))


def _name(r, component: str) -> str:
    """A component's series group: its name (unique in an experiment), with the run's when several."""
    return f"{r.run.label} · {component}" if r.several else component


def _mine(rows: pd.DataFrame, component: str) -> pd.DataFrame:
    return rows[rows["InferenceComponentName"].eq(component)]


def _per_minute(rows: pd.DataFrame) -> pd.Series:
    return rows["sum"] * 60.0 / rows["period_s"]


def _copies(readers) -> Panel:
    lines, markers = [], []
    for r in readers:
        gauges = {gauge: r.rows(gauge, "component") for gauge, *_ in COPY_GAUGES}
        events = copy_events(r.run)
        activities = r.run.event_details("ScalingActivity")
        for ref in components(r.run):
            group = _name(r, ref.component)
            for gauge, statistic, word, dash, always in COPY_GAUGES:
                mine = _mine(gauges[gauge], ref.component)
                x, y = r.series(mine, mine[statistic])
                if always or (len(y) and y.max() > 0):
                    lines.append(Line(f"{group} {word}", group, x, y, dash=dash, step=True))
            for _, row in events[events["component"].eq(ref.component)].iterrows():
                d = row["details"]
                where = row.get("InstanceId")
                text = " ".join(part for part in (
                    str(d.get("copy", "")), f"on {where}" if isinstance(where, str) and where else "",
                    f"(was {d['was']})" if d.get("was") else "",
                    f"load {float(d['load_s']):g} s" if d.get("load_s") else "",
                    f"- {d['reason']}" if d.get("reason") else "") if part)
                markers.append(Marker(group, r.x([row["timestamp"]])[0], float(row["serving"]), text,
                                      kind=row["event"]))
            for _, row in activities.iterrows():  # its copy count scaled by Application Auto Scaling
                d = row["details"]
                if d.get("inference_component") != ref.component:
                    continue
                text = (f"{d.get('old_capacity')} → {d.get('new_capacity')} copies; policy "
                        f"{d.get('policy') or d.get('cause')}; alarm {d.get('alarm') or '-'}")
                markers.append(Marker(group, r.x([row["timestamp"]])[0], float(d.get("new_capacity", np.nan)), text))
    marked = ", ".join(kind for kind in ("scaling activity", *COPY_EVENTS) if any(m.kind == kind for m in markers))
    return Panel("ic-copies", "Copies per component (desired, in service, loading, pending)", "copies",
                 tuple(lines), tuple(markers),
                 note=(f"InServiceCopies (Average) solid, DesiredCopyCount (Maximum) dashed, LoadingCopies and "
                       f"PendingCopies (Maximum) dotted and dash-dotted where some copy loaded or waited. Marked: "
                       f"{marked or 'nothing in this run'}; a scaling activity of the copy count at its new count "
                       "(hover: old → new, policy, alarm), a copy event at the copies serving after it (hover: the "
                       "copy, its instance and why)."))


def _invocations(readers) -> Panel:
    lines = []
    for r in readers:
        invocations = r.rows("Invocations", "component")
        failures = r.rows("NoCapacityInvocationFailures", "component")
        errors = {metric: r.rows(metric, "component") for metric in ("Invocation4XXErrors", "Invocation5XXErrors")}
        for ref in components(r.run):
            group = _name(r, ref.component)
            mine = _mine(invocations, ref.component)
            x, y = r.series(mine, _per_minute(mine))
            lines.append(Line(f"{group} Invocations", group, x, y))
            # published only in periods with a failure: 0 in the other periods that had requests
            theirs = _mine(failures, ref.component)
            per_stamp = _per_minute(theirs).groupby(theirs["timestamp"]).sum()
            stamps = pd.Index(mine["timestamp"]).union(per_stamp.index)
            values = per_stamp.reindex(stamps, fill_value=0.0).to_numpy(dtype=float)
            lines.append(Line(f"{group} NoCapacityInvocationFailures", group, r.x(stamps), values, dash="dotted"))
            no_capacity = float(theirs["sum"].sum())
            for metric, rows in errors.items():
                theirs = _mine(rows, ref.component)
                other = float(theirs["sum"].sum()) - (no_capacity if metric == "Invocation5XXErrors" else 0.0)
                if other > 0:
                    x, y = r.series(theirs, _per_minute(theirs))
                    lines.append(Line(f"{group} {metric[10:13]}", group, x, y, dash="dashed"))
    return Panel("ic-invocations", "Invocations and NoCapacityInvocationFailures per component (per minute)",
                 "per minute", tuple(lines), empty_note="no request reached the components in this run",
                 note=("Invocations solid; NoCapacityInvocationFailures dotted: requests that found no copy of "
                       "their component serving (a 5XX), until its first copy serves. Invocation 4XX/5XX errors "
                       "dashed where a component had others."))


def _no_capacity(readers) -> Panel:
    lines = []
    for r in readers:
        invocations = r.rows("Invocations", "component")
        failures = r.rows("NoCapacityInvocationFailures", "component")
        for ref in components(r.run):
            group = _name(r, ref.component)
            mine = _mine(invocations, ref.component)
            mine = mine[mine["sum"] > 0]
            theirs = _mine(failures, ref.component)
            failed = theirs.groupby("timestamp")["sum"].sum().reindex(pd.Index(mine["timestamp"]), fill_value=0.0)
            x, y = r.series(mine, 100.0 * failed.to_numpy(dtype=float) / mine["sum"].to_numpy(dtype=float))
            lines.append(Line(group, group, x, y, step=True))
    return Panel("ic-no-capacity", "Requests failed for want of a serving copy (NoCapacityInvocationFailures / "
                 "Invocations, %)", "percent of invocations", tuple(lines),
                 empty_note="no request reached the components in this run",
                 note=("Per minute: 100 % in a minute throughout which a component had no copy in service (scaled "
                       "to zero, its copies pending or loading), as every request fails until its first copy "
                       "serves; 0 % once one does."))


def _latency(readers) -> Panel:
    lines = []
    percentiles = [c for c in ("p50", "p99") if any(c in r.metrics.columns for r in readers)]
    for r in readers:
        rows = r.rows("ModelLatency", "component")
        for ref in components(r.run):
            group = _name(r, ref.component)
            mine = _mine(rows, ref.component)
            for column, dash in zip(percentiles, ("solid", "dotted")):
                x, y = r.series(mine, mine[column] / 1e3)
                lines.append(Line(f"{group} {column}", group, x, y, dash=dash))
    return Panel("ic-latency", f"ModelLatency per component ({'/'.join(percentiles)})", "milliseconds",
                 tuple(lines), empty_note="no request reached a copy in this run",
                 note="p50 solid, p99 dotted: from dispatch to the copy's answer, queueing in the copy included.")


def _copy_utilization(readers, metric: str) -> Panel | None:
    lines, present = [], False
    for r in readers:
        rows = r.rows(metric, "component", _COMPONENTS_NAMESPACE)
        present |= bool(len(rows))
        for ref in components(r.run):
            mine = _mine(rows, ref.component)
            if not len(mine):
                continue
            group = _name(r, ref.component)
            for statistic, dash in (("average", "solid"), ("maximum", "dashed")):
                x, y = r.series(mine, mine[statistic])
                lines.append(Line(f"{group} {statistic}", group, x, y, dash=dash))
    if not present:
        return None
    return Panel(f"ic-utilization-{metric}", f"{metric} per copy (% of its reservation)", "percent", tuple(lines),
                 note=(f"{_COMPONENTS_NAMESPACE}: each copy's use of what it reserved; per period the average "
                       "over the component's copies solid, the busiest copy dashed."))


def _reservations(readers) -> Panel | None:
    lines, present = [], False
    for r in readers:
        for metric, dash in RESERVATIONS:
            rows = r.rows(metric, "variant", _HOST_NAMESPACE)
            present |= bool(len(rows))
            for v in r.run.summary["variants"]:
                if not is_hosting(v):
                    continue
                mine = r.per_variant(rows, v["EndpointName"], v["VariantName"])
                group = r.group(v["EndpointName"], v["VariantName"])
                x, y = r.series(mine, mine["average"])
                lines.append(Line(f"{group} {metric}", group, x, y, dash=dash))
    if not present:
        return None
    return Panel("ic-reservations", "Reservations of the hosting instances (Average, %)", "percent", tuple(lines),
                 note=("Share of the instances' CPU cores (solid), GPUs (dashed) and memory (dotted) reserved by "
                       "copies; what is not reserved is the idle row of the cost table."))


def component_section(readers) -> Section:
    """The section of runs with inference components; without panels (so left out) for the others."""
    if not any(has_components(r.run) for r in readers):
        return Section("Inference components", (), key=SECTION_KEY)
    panels = [_copies(readers), _no_capacity(readers), _invocations(readers), _latency(readers),
              *(_copy_utilization(readers, metric) for metric in COPY_UTILIZATION), _reservations(readers)]
    return Section("Inference components", tuple(p for p in panels if p is not None), key=SECTION_KEY)
