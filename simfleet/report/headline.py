"""The headline table of a report and the assumptions each run rests on, read from its files.

Every number comes from `summary.json` as written (the page keeps the exact value beside the text
it shows, so a test can hold the two together); the assumptions are the resolved experiment's
entries marked `ASSUMPTION` (model profiles, defaults) from `manifest.json`, and the prices a cost
needed and the catalog lacks (`summary.json`'s `missing_prices`).
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.report.run_data import RunData, is_component, is_hosting

__all__ = ["Cell", "HeadlineRow", "Assumption", "headline_rows", "run_totals", "assumptions", "COLUMNS", "has_traffic",
           "IDLE"]


@dataclass(frozen=True)
class Cell:
    field: str  # the summary.json field it shows
    value: float | int | str | None  # exactly as in summary.json
    text: str  # as the page shows it


@dataclass(frozen=True)
class HeadlineRow:
    run: str
    endpoint: str
    variant: str
    cells: tuple[Cell, ...]
    component: str = ""  # an inference component's name; IDLE on the variant hosting components


#: The component column of a variant hosting inference components: its row's cost is what no copy reserved.
IDLE = "(idle)"


#: (summary field, column heading, formatter). Latencies are shown in ms, rates in %, money in USD.
COLUMNS = (
    ("requests", "requests", lambda v: f"{v:,}"),
    ("latency_s.p50", "p50 ms", lambda v: f"{v * 1e3:.2f}"),
    ("latency_s.p99", "p99 ms", lambda v: f"{v * 1e3:.2f}"),
    ("error_rate", "error rate", lambda v: f"{v:.3%}"),
    ("cost_per_hour", "$/hour", lambda v: f"{v:.4f}"),
    ("cost_per_million_requests", "$/M requests", lambda v: f"{v:.4f}"),
    ("instance_hours", "instance-hours", lambda v: f"{v:.3f}"),
    ("cost", "cost $", lambda v: f"{v:.4f}"),
)


def _lookup(data: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _cell(field: str, value, formatter) -> Cell:
    return Cell(field, value, "n/a" if value is None else formatter(value))


def headline_rows(run: RunData) -> list[HeadlineRow]:
    """One row per variant of `run`, and per inference component (its cost is its share of the hosting
    instances', their instance-hours are on the hosting variant's row, whose cost is the idle part);
    a value summary.json leaves null (no traffic, no price) shows n/a."""
    rows = []
    for v in run.summary["variants"]:
        cells = []
        for field, _, formatter in COLUMNS:
            value = _lookup(v, field)
            if field == "instance_hours" and v.get("serverless") is not None:
                cells.append(Cell(field, value, "serverless"))
            elif field == "instance_hours" and is_component(v):
                cells.append(Cell(field, value, "on host row"))
            else:
                cells.append(_cell(field, value, formatter))
        component = v["InferenceComponentName"] if is_component(v) else IDLE if is_hosting(v) else ""
        rows.append(HeadlineRow(run.label, v["EndpointName"], v["VariantName"], tuple(cells), component))
    return rows


def run_totals(run: RunData) -> tuple[Cell, ...]:
    """The run's own totals: requests, duration, cost."""
    s = run.summary
    return (_cell("requests", s.get("requests"), lambda v: f"{v:,}"),
            _cell("duration_s", s.get("duration_s"), lambda v: f"{v / 3600:g} h" if v >= 3600 else f"{v / 60:g} min"),
            _cell("cost", s.get("cost"), lambda v: f"${v:.4f}"))


def has_traffic(run: RunData) -> bool:
    return bool(run.summary.get("requests"))


@dataclass(frozen=True)
class Assumption:
    where: str  # e.g. "profiles.xgboost-tabular.sources.load_time", or "missing price"
    text: str


def assumptions(run: RunData) -> list[Assumption]:
    """Every resolved entry marked ASSUMPTION (deduplicated by text), then every missing price."""
    found: list[Assumption] = []
    seen: set[str] = set()

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}.{i}")
        elif isinstance(node, str) and "ASSUMPTION" in node and node not in seen:
            seen.add(node)
            found.append(Assumption(path, node))

    walk(run.manifest.get("resolved", {}), "")
    for missing in run.summary.get("missing_prices", []) or []:
        found.append(Assumption("missing price",
                                f"{missing.get('EndpointName')}/{missing.get('VariantName')}: no {missing.get('price')} "
                                f"for {missing.get('of')} in the catalog, so its cost is unknown (n/a), not 0"))
    return found
