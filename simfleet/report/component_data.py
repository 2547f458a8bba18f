"""What a run says about its inference components, for the report: read from its files only.

`summary.json` gives each component a row of `variants` (with `InferenceComponentName` and an
`inference_component` object), the variant hosting them a row with a `hosting` object (its cost is
the idle remainder), and the top-level `inference_components` table: each component's share of the
instances' cost and the idle row (`InferenceComponentName` null). `events.parquet` logs every copy
pending, placed, in service, displaced and removed. Nothing here draws or formats HTML: the views
(`component_views`) and the page (`page`) do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from simfleet.report.headline import Cell
from simfleet.report.run_data import RunData, is_component, is_hosting

__all__ = ["has_components", "components", "ComponentRef", "CostRow", "cost_rows",
           "fleet_cost", "COST_COLUMNS", "COPY_EVENTS", "copy_events"]

#: The copy events of `simfleet/engine/event_details.py`, in the order a copy's life goes.
COPY_EVENTS = ("CopyPending", "CopyPlaced", "CopyInService", "CopyDisplaced", "CopyRemoved")

#: (field of an `inference_components` row, column heading, formatter); money in USD, share in %.
COST_COLUMNS = (
    ("requests", "requests", lambda v: f"{v:,}"),
    ("cost", "cost $", lambda v: f"{v:.4f}"),
    ("share", "share of the instances' cost", lambda v: f"{v:.2%}"),
    ("cost_per_million_requests", "$/M requests", lambda v: f"{v:.4f}"),
)


def has_components(run: RunData) -> bool:
    return any(is_component(v) for v in run.summary["variants"])


@dataclass(frozen=True)
class ComponentRef:
    endpoint: str
    variant: str
    component: str
    model: str


def components(run: RunData) -> list[ComponentRef]:
    """The run's components in summary.json's order, with the variant hosting each."""
    return [ComponentRef(v["EndpointName"], v["VariantName"], v["InferenceComponentName"], v.get("model", ""))
            for v in run.summary["variants"] if is_component(v)]


@dataclass(frozen=True)
class CostRow:
    run: str
    endpoint: str
    variant: str
    component: str | None  # None: the idle row (what no copy reserved)
    model: str
    cells: tuple[Cell, ...]


def cost_rows(run: RunData) -> list[CostRow]:
    """summary.json's `inference_components` table as written, one row per component and idle row."""
    rows = []
    for row in run.summary.get("inference_components") or []:
        cells = tuple(Cell(field, row.get(field), "n/a" if row.get(field) is None else formatter(row.get(field)))
                      for field, _, formatter in COST_COLUMNS)
        rows.append(CostRow(run.label, row.get("EndpointName", ""), row.get("VariantName", ""),
                            row.get("InferenceComponentName"), row.get("model", ""), cells))
    return rows


def fleet_cost(run: RunData) -> float | None:
    """What the hosting variants' instances cost (their `hosting.instances_cost`): what the shares
    and the idle rows add up to; None when a price is missing."""
    costs = [v["hosting"].get("instances_cost") for v in run.summary["variants"] if is_hosting(v)]
    if not costs or any(c is None for c in costs):
        return None
    return float(sum(costs))


def copy_events(run: RunData) -> pd.DataFrame:
    """Every copy event in time order, with its `component`, `copy` and parsed `details`, and
    `serving`: how many copies of its component serve right after it (replayed from the log)."""
    rows = run.events[run.events["event"].isin(COPY_EVENTS)].copy()  # in the log's order
    rows["details"] = [json.loads(text) if isinstance(text, str) and text else {} for text in rows["detail"]]
    serving: dict[str, set[str]] = {}
    components_, copies, counts = [], [], []
    for event, details in zip(rows["event"], rows["details"]):
        component, copy = details.get("inference_component", ""), details.get("copy", "")
        mine = serving.setdefault(component, set())
        if event == "CopyInService":
            mine.add(copy)
        elif event in ("CopyDisplaced", "CopyRemoved"):
            mine.discard(copy)
        components_.append(component)
        copies.append(copy)
        counts.append(len(mine))
    rows = rows.assign(component=components_, copy=copies, serving=counts)
    return rows.reset_index(drop=True)
