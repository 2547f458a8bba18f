"""The views a SageMaker user checks first, as plain series: what the report draws, without drawing it.

Each view is a `Panel` of `Line`s (and `Marker`s for scaling activities) read from a run's
`metrics.parquet` and `events.parquet`, in the units a person reads (milliseconds, per minute,
percent). Several runs give one panel with every run's lines, so "before and after" is one chart.
A view that does not apply to any of the runs (no serverless variant, no pipeline; no variant
counting its own requests when every variant hosts inference components, whose views are in
`component_views`) is left out; a view that applies but has no datapoint (a run without traffic)
stays, empty, with a note saying why.
No plotting library is imported here: `figures` draws these panels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simfleet.report.run_data import RunData, is_component, is_hosting

__all__ = ["Line", "Marker", "Panel", "Section", "build_sections", "time_shifts"]

#: Dimension columns that single out a sub-resource; a variant-level datapoint has all of them null.
_SUB_DIMENSIONS = ("ContainerName", "InstanceId", "InferenceComponentName", "ContainerId", "AcceleratorId", "JobName")
_PERCENTILES = ("p50", "p90", "p99")
_DASH = {"p50": "solid", "p90": "dashed", "p99": "dotted"}


@dataclass(frozen=True)
class Line:
    """One series of one panel: `group` (run and variant, instance or container) picks its colour."""

    label: str
    group: str
    x: np.ndarray  # datetime64[ms], UTC
    y: np.ndarray  # float
    dash: str = "solid"
    step: bool = False

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Marker:
    """A point event drawn on a panel (a scaling activity, a copy event), with what hovering it says."""

    group: str
    x: np.datetime64
    y: float
    text: str
    kind: str = "scaling activity"  # its legend entry; each kind has its own shape


@dataclass(frozen=True)
class Panel:
    key: str  # stable identifier, used as the chart's id in the page
    title: str
    y_label: str
    lines: tuple[Line, ...]
    markers: tuple[Marker, ...] = ()
    empty_note: str = "no datapoints in this run"
    note: str = ""  # what the panel shows, in one sentence

    @property
    def has_data(self) -> bool:
        return any(len(line) for line in self.lines)

    @property
    def points(self) -> int:
        return sum(len(line) for line in self.lines) + len(self.markers)


@dataclass(frozen=True)
class Section:
    title: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)
    key: str = ""  # set where the page puts its own table at the top of the section


# --- reading series ---------------------------------------------------------------------------------


def time_shifts(runs: list[RunData]) -> list[pd.Timedelta]:
    """How far each run's times move so that runs starting at different instants overlay: none when
    they all start together (the page then shows real UTC times), else each run onto the first's start."""
    starts = [run.start for run in runs]
    if len(set(starts)) <= 1:
        return [pd.Timedelta(0)] * len(runs)
    return [starts[0] - start for start in starts]


def _variant_names(runs: list[RunData]) -> dict[tuple[str, str], str]:
    endpoints = {v["EndpointName"] for run in runs for v in run.summary["variants"]}
    return {(v["EndpointName"], v["VariantName"]): (v["VariantName"] if len(endpoints) == 1
                                                    else f"{v['EndpointName']}/{v['VariantName']}")
            for run in runs for v in run.summary["variants"]}


class _Reader:
    """Series of one run, shifted onto the report's time axis and named for its legend."""

    def __init__(self, run: RunData, shift: pd.Timedelta, names: dict, several: bool):
        self.run, self.shift, self.names, self.several = run, shift, names, several
        m = run.metrics
        self.metrics = m
        sub = [c for c in _SUB_DIMENSIONS if c in m.columns]
        self.variant_level = ~m[sub].notna().any(axis=1) if sub else pd.Series(True, index=m.index)

    def group(self, endpoint: str, variant: str, *more: str) -> str:
        name = " ".join([self.names.get((endpoint, variant), variant), *more])
        return f"{self.run.label} · {name}" if self.several else name

    def x(self, timestamps) -> np.ndarray:
        stamps = pd.to_datetime(pd.Series(timestamps), utc=True) + self.shift
        return stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ms]")

    def variants(self, serverless: bool | None = None, requests: bool = False):
        """The run's variants (an inference component's row is not one: `component_views` shows
        those); with `requests`, only the variants whose own datapoints count requests (not those
        hosting components, whose requests are counted per component)."""
        for v in self.run.summary["variants"]:
            if is_component(v) or (requests and is_hosting(v)):
                continue
            if serverless is None or (v.get("serverless") is not None) == serverless:
                yield v["EndpointName"], v["VariantName"]

    def rows(self, metric: str, level: str = "variant", namespace: str | None = None) -> pd.DataFrame:
        m = self.metrics
        chosen = m["metric_name"].eq(metric)
        if namespace is not None and "namespace" in m.columns:
            chosen &= m["namespace"].eq(namespace)
        if level == "variant":
            chosen &= self.variant_level
        elif level == "instance":
            chosen &= m["InstanceId"].notna() & m["AcceleratorId"].isna()
        elif level == "container":
            chosen &= m["ContainerName"].notna() & m["InstanceId"].isna()
        elif level == "component":  # an inference component's own datapoints, not a copy's
            if "InferenceComponentName" not in m.columns:
                return m.iloc[:0]
            chosen &= m["InferenceComponentName"].notna()
            for column in ("InstanceId", "ContainerId", "AcceleratorId"):
                if column in m.columns:
                    chosen &= m[column].isna()
        return m[chosen].sort_values("timestamp")

    def series(self, rows: pd.DataFrame, values) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(values, dtype=float)
        keep = ~np.isnan(y)
        return self.x(rows["timestamp"])[keep], y[keep]

    def per_variant(self, rows: pd.DataFrame, endpoint: str, variant: str) -> pd.DataFrame:
        return rows[rows["EndpointName"].eq(endpoint) & rows["VariantName"].eq(variant)]

    def minute_counts(self, event: str, fields: tuple[str, ...], endpoint: str, variant: str) -> dict[str, tuple]:
        """Per-minute activity counts from `ServerlessActivity`/`ModelCacheActivity` rows, with 0 for the
        minutes without a row (those rows are written only for minutes with activity)."""
        rows = self.run.event_details(event)
        rows = rows[rows["EndpointName"].eq(endpoint) & rows["VariantName"].eq(variant)]
        minutes = np.arange(0.0, max(self.run.duration_s, 60.0), 60.0)
        counts = {name: np.zeros(len(minutes)) for name in fields}
        for details in rows["details"]:
            index = int(float(details.get("window_start_s", 0.0)) // 60)
            if 0 <= index < len(minutes):
                for name in fields:
                    counts[name][index] += float(details.get(name, 0) or 0)
        x = self.x(self.run.start + pd.to_timedelta(minutes, unit="s"))
        return {name: (x, values) for name, values in counts.items()}


# --- the views -------------------------------------------------------------------------------------------


def _serve_requests(readers) -> bool:
    """Some run has a variant whose own datapoints count requests (not only components' hosts)."""
    return any(True for r in readers for _ in r.variants(requests=True))


def _latency(readers, metric: str, key: str, note: str) -> Panel | None:
    if not _serve_requests(readers):
        return None
    lines = []
    percentiles = [c for c in _PERCENTILES if any(c in r.metrics.columns for r in readers)]
    for r in readers:
        rows = r.rows(metric)
        for endpoint, variant in r.variants(requests=True):
            mine = r.per_variant(rows, endpoint, variant)
            group = r.group(endpoint, variant)
            for column in percentiles:
                if column in mine.columns:
                    x, y = r.series(mine, mine[column] / 1e3)
                    lines.append(Line(f"{group} {column}", group, x, y, dash=_DASH[column]))
    return Panel(key, f"{metric} ({'/'.join(percentiles)})", "milliseconds", tuple(lines),
                 empty_note="no request reached a container in this run", note=note)


def _invocations(readers) -> Panel | None:
    if not _serve_requests(readers):
        return None
    lines = []
    for r in readers:
        rows = r.rows("Invocations")
        for endpoint, variant in r.variants(requests=True):
            mine = r.per_variant(rows, endpoint, variant)
            group = r.group(endpoint, variant)
            x, y = r.series(mine, mine["sum"] * 60.0 / mine["period_s"])
            lines.append(Line(group, group, x, y))
    return Panel("invocations", "Invocations (Sum, per minute)", "requests per minute", tuple(lines),
                 empty_note="no request reached the endpoints in this run",
                 note="Requests that reached each variant, errors included.")


def _errors(readers) -> Panel | None:
    if not _serve_requests(readers):
        return None
    lines = []
    for r in readers:
        for metric, dash in (("Invocation4XXErrors", "dashed"), ("Invocation5XXErrors", "solid")):
            rows = r.rows(metric)
            for endpoint, variant in r.variants(requests=True):
                mine = r.per_variant(rows, endpoint, variant)
                group = r.group(endpoint, variant)
                x, y = r.series(mine, mine["sum"] * 60.0 / mine["period_s"])
                lines.append(Line(f"{group} {metric[10:13]}", group, x, y, dash=dash))
    return Panel("errors", "Invocation4XX/5XXErrors (Sum, per minute)", "errors per minute",
                 tuple(lines), empty_note="no request reached the endpoints in this run",
                 note="4XX dashed (payload too large, throttles, model not ready), 5XX solid (model errors, "
                      "timeouts, full queues, no capacity).")


#: What an instance event's reason starts with when managed instance scaling (inference components) acted.
_MANAGED = "managed instance scaling"


def _managed_actions(r, desired: pd.DataFrame, endpoint: str, variant: str) -> list[Marker]:
    """Instances launched and released by a hosting variant's managed instance scaling (no
    ScalingActivity is logged for it), marked at the desired count of their period."""
    markers = []
    for event in ("InstanceLaunched", "InstanceDraining"):
        rows = r.per_variant(r.run.event_details(event), endpoint, variant)
        for _, row in rows.iterrows():
            reason = str(row["details"].get("reason", ""))
            if not reason.startswith(_MANAGED):
                continue
            before = desired[desired["timestamp"] <= row["timestamp"]]
            y = float(before["maximum"].iloc[-1]) if len(before) else np.nan
            markers.append(Marker(r.group(endpoint, variant), r.x([row["timestamp"]])[0], y,
                                  f"{event} {row['InstanceId']}: {reason}", kind=_MANAGED))
    return markers


def _instances(readers) -> Panel | None:
    lines, markers = [], []
    for r in readers:
        in_service, desired = r.rows("InServiceInstances"), r.rows("DesiredInstanceCount")
        activities = r.run.event_details("ScalingActivity")
        # a component's copy count scaled (its detail names it) is drawn with its copies (`component_views`)
        activities = activities[activities["details"].map(lambda d: not d.get("inference_component")).astype(bool)]
        for endpoint, variant in r.variants(serverless=False):
            group = r.group(endpoint, variant)
            mine = r.per_variant(in_service, endpoint, variant)
            x, y = r.series(mine, mine["average"])
            lines.append(Line(f"{group} in service", group, x, y, step=True))
            mine = r.per_variant(desired, endpoint, variant)
            x, y = r.series(mine, mine["maximum"])
            lines.append(Line(f"{group} desired", group, x, y, dash="dashed", step=True))
            for _, row in r.per_variant(activities, endpoint, variant).iterrows():
                d = row["details"]
                text = (f"{d.get('old_capacity')} → {d.get('new_capacity')}; policy {d.get('policy') or d.get('cause')}; "
                        f"alarm {d.get('alarm') or '-'}")
                markers.append(Marker(group, r.x([row["timestamp"]])[0], float(d.get("new_capacity", np.nan)), text))
            markers += _managed_actions(r, r.per_variant(desired, endpoint, variant), endpoint, variant)
    if not lines:
        return None
    kinds = {m.kind for m in markers}
    note = " ".join(text for kind, text in (
        ("scaling activity", "Each triangle is a scaling activity: hover it for old → new capacity, the policy and "
                             "the alarm."),
        (_MANAGED, "Each diamond is an instance launched or released by managed instance scaling (inference "
                   "components): hover it for why.")) if kind in kinds) or "No scaling activity in this run."
    return Panel("instances", "Instances and scaling activities", "instances", tuple(lines),
                 tuple(markers), note=note)


_UTILIZATION = (("CPUUtilization", "0–100 × vCPUs"), ("MemoryUtilization", "0–100"),
                ("GPUUtilization", "0–100 × GPUs"), ("GPUMemoryUtilization", "0–100 × GPUs"),
                ("DiskUtilization", "0–100"))


def _utilization(readers, metric: str, scale: str) -> Panel | None:
    lines, present = [], False
    for r in readers:
        per_instance, per_variant = r.rows(metric, "instance"), r.rows(metric)
        present |= bool(len(per_instance) or len(per_variant))
        for endpoint, variant in r.variants():
            mine = r.per_variant(per_instance, endpoint, variant)
            if len(mine):
                for instance, rows in mine.groupby("InstanceId", sort=True):
                    group = r.group(endpoint, variant, instance)
                    x, y = r.series(rows, rows["average"])
                    lines.append(Line(group, group, x, y))
            else:
                mine = r.per_variant(per_variant, endpoint, variant)
                if len(mine):
                    group = r.group(endpoint, variant)
                    x, y = r.series(mine, mine["average"])
                    lines.append(Line(group, group, x, y))
    if not present:
        return None
    return Panel(f"utilization-{metric}", f"{metric} (Average, %, {scale})", "percent", tuple(lines),
                 note="Per instance where the run has enhanced metrics (InstanceId datapoints), else per variant.")


def _serverless(readers) -> Panel | None:
    lines = []
    for r in readers:
        for endpoint, variant in r.variants(serverless=True):
            group = r.group(endpoint, variant)
            counts = r.minute_counts("ServerlessActivity", ("cold_starts", "throttles", "spillovers"), endpoint, variant)
            for name, dash in (("cold_starts", "solid"), ("throttles", "dashed"), ("spillovers", "dotted")):
                x, y = counts[name]
                if name != "spillovers" or y.any():
                    lines.append(Line(f"{group} {name.replace('_', ' ')}", group, x, y, dash=dash))
    if not lines:
        return None
    return Panel("serverless", "Cold starts and throttles (per minute)", "per minute", tuple(lines),
                 note="Cold starts solid, throttles (ThrottlingException, 4XX) dashed, spill-overs dotted.")


def _cache_hits(readers) -> Panel | None:
    lines, present = [], False
    for r in readers:
        rows = r.rows("ModelCacheHit")
        present |= bool(len(rows))
        for endpoint, variant in r.variants():
            mine = r.per_variant(rows, endpoint, variant)
            if len(mine):
                group = r.group(endpoint, variant)
                x, y = r.series(mine, mine["average"] * 100.0)
                lines.append(Line(group, group, x, y))
    if not present:
        return None
    return Panel("cache-hit", "ModelCacheHit (Average, % of requests)", "percent", tuple(lines),
                 note="Share of requests whose model was already loaded on the instance that served them.")


def _cache_loads(readers) -> Panel | None:
    lines = []
    for r in readers:
        multi_model = [(v["EndpointName"], v["VariantName"]) for v in r.run.summary["variants"]
                       if v.get("multi_model") is not None]
        for endpoint, variant in multi_model:
            group = r.group(endpoint, variant)
            counts = r.minute_counts("ModelCacheActivity", ("loads", "unloads", "downloads"), endpoint, variant)
            for name, dash in (("loads", "solid"), ("unloads", "dashed"), ("downloads", "dotted")):
                x, y = counts[name]
                lines.append(Line(f"{group} {name}", group, x, y, dash=dash))
    if not lines:
        return None
    return Panel("cache-loads", "Model loads and unloads (per minute)", "per minute", tuple(lines),
                 note="Loads solid, unloads (evictions) dashed, downloads from S3 dotted.")


def _container_latency(readers) -> Panel | None:
    lines, present = [], False
    percentiles = [c for c in ("p50", "p99") if any(c in r.metrics.columns for r in readers)]
    for r in readers:
        rows = r.rows("ContainerLatency", "container")
        present |= bool(len(rows))
        for endpoint, variant in r.variants():
            mine = r.per_variant(rows, endpoint, variant)
            for container, crows in mine.groupby("ContainerName", sort=False):
                group = r.group(endpoint, variant, container)
                for column in percentiles:
                    x, y = r.series(crows, crows[column] / 1e3)
                    lines.append(Line(f"{group} {column}", group, x, y, dash=_DASH[column]))
    if not present:
        return None
    return Panel("container-latency", f"ContainerLatency ({'/'.join(percentiles)})", "milliseconds",
                 tuple(lines), note="Each container of an inference pipeline or a multi-container endpoint.")


def _present(*panels) -> tuple[Panel, ...]:
    return tuple(p for p in panels if p is not None)


def build_sections(runs: list[RunData]) -> list[Section]:
    """Every view that applies to at least one of `runs`, grouped as the page shows them."""
    from simfleet.report.component_views import component_section

    several = len(runs) > 1
    names = _variant_names(runs)
    readers = [_Reader(run, shift, names, several) for run, shift in zip(runs, time_shifts(runs))]
    sections = [
        Section("Latency", _present(
            _latency(readers, "ModelLatency", "model-latency",
                     "From dispatch to the container's answer, queueing in the container included."),
            _latency(readers, "OverheadLatency", "overhead-latency",
                     "SageMaker's own time per request (cold starts included on serverless variants)."))),
        Section("Traffic and errors", _present(_invocations(readers), _errors(readers))),
        component_section(readers),
        Section("Capacity", tuple(p for p in [_instances(readers)] if p is not None)),
        Section("Utilization", tuple(p for p in (_utilization(readers, metric, scale) for metric, scale in _UTILIZATION)
                                     if p is not None)),
        Section("Multi-model cache", tuple(p for p in (_cache_hits(readers), _cache_loads(readers)) if p is not None)),
        Section("Serverless", tuple(p for p in [_serverless(readers)] if p is not None)),
        Section("Pipeline containers", tuple(p for p in [_container_latency(readers)] if p is not None)),
    ]
    return [section for section in sections if section.panels]
