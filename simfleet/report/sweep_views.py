"""What a sweep's page shows, as plain data: the Pareto front of cost against latency, the cheapest
configuration meeting an SLO, and a heat map over two axes.

Read from `runs.parquet` only (`sweep_data`). Runs are compared within each *workload point* (the
values of the axes that set the traffic, e.g. the request rate): a configuration is only cheaper
than another at the same load. Within each point:

* the Pareto front: the ok runs that no other ok run beats on both cost per hour and the latency
  percentile (`pareto_front`; at least as good on both and better on one);
* the cheapest run meeting the SLO (`--slo p99=100ms`): least cost per hour among the ok runs whose
  percentile is within the limit; ties go to the lower latency, then to the earlier run
  (`cheapest_meeting`).

The heat map aggregates over the axes it does not show (and replicates): each cell is the worst
(highest) latency percentile among its ok runs (`heat_table`), so a cell within the SLO is within
it at every value of the other axes. Failed runs are listed by the page, never plotted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simfleet.report.plots import Guide, HeatCell, HeatMap, Series, XYPanel
from simfleet.report.sweep_data import SweepData
from simfleet.report.sweep_options import Slo
from simfleet.report.views import Section

__all__ = ["pareto_front", "cheapest_meeting", "heat_table", "default_axes", "Choice", "workload_points",
           "sweep_sections", "latency_column"]

COST = "cost_per_hour"


def pareto_front(cost, latency) -> np.ndarray:
    """Boolean mask of the points no other point dominates (both values minimised; NaN never on it).

    Sorted by latency then cost, a point is on the front when its cost is below every cost before
    it, or equals the least so far at the same latency (an exact duplicate of a front point)."""
    cost, latency = np.asarray(cost, dtype=float), np.asarray(latency, dtype=float)
    on = np.zeros(len(cost), dtype=bool)
    valid = np.flatnonzero(~(np.isnan(cost) | np.isnan(latency)))
    order = valid[np.lexsort((cost[valid], latency[valid]))]
    best_cost, best_latency = math.inf, math.nan
    for i in order:
        if cost[i] < best_cost:
            best_cost, best_latency = cost[i], latency[i]
            on[i] = True
        elif cost[i] == best_cost and latency[i] == best_latency:
            on[i] = True
    return on


def cheapest_meeting(runs: pd.DataFrame, slo: Slo) -> int | None:
    """Index label of the cheapest ok run within the SLO (ties: lower latency, then earlier); None if none."""
    ok = runs[runs["status"].eq("ok") & runs[slo.column].notna() & runs[COST].notna()]
    ok = ok[ok[slo.column] <= slo.limit_ms]
    if ok.empty:
        return None
    positions = np.lexsort((np.arange(len(ok)), ok[slo.column].to_numpy(), ok[COST].to_numpy()))
    return ok.index[positions[0]]


def heat_table(runs: pd.DataFrame, x: str, y: str, column: str, slo: Slo | None = None) -> pd.DataFrame:
    """One row per (x, y) pair present in `runs`, in order of first appearance: runs, ok runs, the worst,
    median and best `column` among the ok runs (NaN without one), and how many meet `slo`."""
    rows = []
    for (xv, yv), cell in runs.groupby([x, y], sort=False, dropna=False):
        ok = cell[cell["status"].eq("ok")][column].dropna()
        rows.append({x: xv, y: yv, "runs": len(cell), "ok": int(cell["status"].eq("ok").sum()),
                     "worst": ok.max() if len(ok) else math.nan, "median": ok.median() if len(ok) else math.nan,
                     "best": ok.min() if len(ok) else math.nan,
                     "meeting": int((ok <= slo.limit_ms).sum()) if slo is not None else None})
    return pd.DataFrame(rows, columns=[x, y, "runs", "ok", "worst", "median", "best", "meeting"])


def default_axes(data: SweepData) -> tuple[str, str] | None:
    """The first two configuration axes, else the first two axes; None with fewer than two."""
    for names in (data.configuration_names, data.axis_names):
        if len(names) >= 2:
            return names[0], names[1]
    return None


def latency_column(slo: Slo | None) -> str:
    return slo.column if slo is not None else "latency_p99_ms"


def _value_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def point_text(row, names: list[str]) -> str:
    return ", ".join(f"{name} {_value_text(row[name])}" for name in names) if names else "the base experiment"


@dataclass(frozen=True)
class Choice:
    """The cheapest run meeting the SLO at one workload point (`run` None when no run meets it)."""

    workload: str  # e.g. "rate 300, payload_median 2 KB", or "" without workload axes
    runs: int
    ok: int
    run: pd.Series | None


def workload_points(data: SweepData) -> list[tuple[str, pd.DataFrame]]:
    """The runs of each workload point, in plan order; one group ("") without workload axes."""
    names = data.workload_names
    if not names:
        return [("", data.runs)]
    return [(point_text(frame.iloc[0], names), frame)
            for _, frame in data.runs.groupby(names, sort=False, dropna=False)]


def _hover(row, data: SweepData, column: str) -> str:
    return (f"{point_text(row, data.configuration_names)}"
            + (f" · {point_text(row, data.workload_names)}" if data.workload_names else "")
            + f" · {column[8:11]} {row[column]:.4g} ms · ${row[COST]:.4g}/hour · ${row['cost_per_million']:.4g}/M requests"
            + f" · error rate {row['error_rate']:.3%} · replicate {row['replicate']} · run {row['run_id']}")


def _cost_panel(data: SweepData, slo: Slo | None, choices: list[Choice]) -> XYPanel:
    column = latency_column(slo)
    series: list[Series] = []
    for (workload, frame), choice in zip(workload_points(data), choices):
        ok = frame[frame["status"].eq("ok") & frame[column].notna() & frame[COST].notna()]
        if ok.empty:
            continue
        group = workload or "runs"
        series.append(Series(f"{group}", group, ok[column].to_numpy(float), ok[COST].to_numpy(float), kind="points",
                             hover=tuple(_hover(r, data, column) for _, r in ok.iterrows())))
        front = ok[pareto_front(ok[COST], ok[column])].sort_values([column, COST])
        series.append(Series(f"{group} Pareto front", group, front[column].to_numpy(float),
                             front[COST].to_numpy(float), kind="step", dash="dashed"))
    chosen = [choice.run for choice in choices if choice.run is not None]
    if chosen:
        series.append(Series(f"cheapest within {slo.text}", "cheapest", np.array([r[column] for r in chosen], float),
                             np.array([r[COST] for r in chosen], float), kind="points", marker="star", size=20,
                             hover=tuple(_hover(r, data, column) for r in chosen), colour="#ffd000"))
    guides = (Guide(f"SLO {slo.text}", slo.limit_ms, "height"),) if slo is not None else ()
    values = np.concatenate([s.x for s in series]) if series else np.array([1.0])
    x_log = bool(values.min() > 0 and values.max() / values.min() > 30)
    workload = f" at each {', '.join(data.workload_names)}" if data.workload_names else ""
    note = (f"One point per run that succeeded{workload}; dashed: the Pareto front (no other run is both cheaper "
            f"and faster){workload}"
            + (f"; the star: the cheapest run within {slo.text}, the red line the SLO." if slo is not None else
               ". Set an SLO with --slo p99=100ms to mark the cheapest run within it."))
    return XYPanel("sweep-cost", f"Cost per hour against {column[8:11]} latency", f"{column[8:11]} latency (ms, "
                   "end to end)", "USD per hour", tuple(series), guides, note=note, x_log=x_log,
                   empty_note="no run of this sweep succeeded: nothing to plot (the failed runs are listed below)")


def _heat_panel(data: SweepData, axes: tuple[str, str], slo: Slo | None) -> HeatMap:
    x, y = axes
    column = latency_column(slo)
    table = heat_table(data.runs, x, y, column, slo)
    x_factors = tuple(dict.fromkeys(_value_text(v) for v in data.runs[x]))
    y_factors = tuple(dict.fromkeys(_value_text(v) for v in data.runs[y]))
    cells = []
    for _, row in table.iterrows():
        value = None if math.isnan(row["worst"]) else float(row["worst"])
        meets = f"{row['meeting']}/{row['ok']} within {slo.text}" if slo is not None else ""
        if value is None:
            text, hover = "failed", f"{x} {_value_text(row[x])}, {y} {_value_text(row[y])}: every run failed ({row['runs']})"
        else:
            text = f"{value:.3g} ms" + (f" ({row['meeting']}/{row['ok']})" if slo is not None else "")
            hover = (f"{x} {_value_text(row[x])}, {y} {_value_text(row[y])}: {row['ok']} of {row['runs']} runs ok; "
                     f"{column[8:11]} worst {row['worst']:.4g} ms, median {row['median']:.4g}, best {row['best']:.4g}"
                     + (f"; {meets}" if meets else ""))
        cells.append(HeatCell(_value_text(row[x]), _value_text(row[y]), value, text, hover))
    others = [n for n in data.axis_names if n not in axes]
    over = f" over {', '.join(others)} and replicates" if others else " over replicates"
    return HeatMap("sweep-heatmap", f"Worst {column[8:11]} latency by {x} and {y}", x, y, x_factors, y_factors,
                   tuple(cells), f"{column[8:11]} ms",
                   note=(f"Each cell: the highest {column[8:11]} latency among its runs that succeeded{over}"
                         + (f"; in brackets how many are within {slo.text}" if slo is not None else "")
                         + ". Pick the axes with --axes."),
                   empty_note="no run of this sweep succeeded: the heat map has no value")


def choices(data: SweepData, slo: Slo | None) -> list[Choice]:
    out = []
    for workload, frame in workload_points(data):
        index = cheapest_meeting(frame, slo) if slo is not None else None
        out.append(Choice(workload, len(frame), int(frame["status"].eq("ok").sum()),
                          None if index is None else frame.loc[index]))
    return out


def sweep_sections(data: SweepData, slo: Slo | None, axes: tuple[str, str] | None) -> tuple[list[Section], list[Choice]]:
    """The page's chart sections and, per workload point, the cheapest run within the SLO."""
    picked = choices(data, slo)
    sections = [Section("Cost against latency", (_cost_panel(data, slo, picked),))]
    axes = axes or default_axes(data)
    if axes is not None:
        sections.append(Section("Heat map", (_heat_panel(data, axes, slo),)))
    return sections, picked
