"""Charts on numeric or categorical axes, as plain data: what the job and sweep pages draw.

The run page's views are time series (`views.Panel`); a recommender job's ramps (minutes since a
test started), its cost against throughput, a sweep's cost against latency and its heat map are
not. `XYPanel` holds series of points or lines on numeric axes, with reference lines (`Guide`,
e.g. a latency threshold) and hover text per point; `HeatMap` holds one cell per pair of axis
values. Both have the attributes the page reads of a panel (`key`, `title`, `note`, `empty_note`,
`points`, `has_data`). `plot_figures` draws them; nothing here imports a plotting library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Series", "Guide", "XYPanel", "HeatCell", "HeatMap"]


@dataclass(frozen=True)
class Series:
    """One series: `kind` "line", "step" or "points"; `group` picks its colour; `hover` one text per point,
    `labels` one text drawn beside each point (e.g. a rank)."""

    label: str
    group: str
    x: np.ndarray
    y: np.ndarray
    kind: str = "line"
    dash: str = "solid"
    marker: str = "circle"
    size: float = 8.0
    hover: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    colour: str | None = None  # a fixed colour instead of the group's
    legend: str | None = None  # the legend entry it joins (default: its own label); one click hides them all
    dots: bool = False  # a line or step also marks each point (a one-minute ramp still shows)

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Guide:
    """A reference line across the chart: `dimension` "width" (horizontal, at y = location) or "height"."""

    label: str
    location: float
    dimension: str = "width"


@dataclass(frozen=True)
class XYPanel:
    key: str
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    guides: tuple[Guide, ...] = ()
    note: str = ""
    empty_note: str = "no data"
    x_log: bool = False
    y_log: bool = False
    shared_x: str | None = None  # panels with the same name share their x range (zoom one, zoom all)

    @property
    def has_data(self) -> bool:
        return any(len(s) for s in self.series)

    @property
    def points(self) -> int:
        return sum(len(s) for s in self.series)


@dataclass(frozen=True)
class HeatCell:
    x: str
    y: str
    value: float | None  # None: no run of the cell succeeded (drawn grey)
    text: str  # written in the cell
    hover: str


@dataclass(frozen=True)
class HeatMap:
    key: str
    title: str
    x_name: str
    y_name: str
    x_factors: tuple[str, ...]
    y_factors: tuple[str, ...]
    cells: tuple[HeatCell, ...]
    value_label: str
    note: str = ""
    empty_note: str = "no data"

    @property
    def has_data(self) -> bool:
        return any(cell.value is not None for cell in self.cells)

    @property
    def points(self) -> int:
        return len(self.cells)
