"""The job and sweep pages' charts drawn with Bokeh: `plots.XYPanel` and `plots.HeatMap`.

The counterpart of `figures` (time series) for numeric and categorical axes; imported only when a
report is written. Each figure carries its panel's key as its Bokeh `name`, as `figures` does,
and each series its label, so the page and the browser tests find them. Colours follow the
series' groups and are the same in every chart of a page.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import (BasicTicker, ColorBar, ColumnDataSource, DataRange1d, FactorRange, HoverTool, LegendItem,
                          LinearColorMapper)
from bokeh.palettes import Category10_10, Category20_20, Viridis256
from bokeh.plotting import figure

from simfleet.report.figures import legend_below
from simfleet.report.plots import HeatMap, XYPanel
from simfleet.report.views import Section

__all__ = ["draw_plots"]

_HEIGHT = 300


def _colours(sections: list[Section]) -> dict[str, str]:
    groups: list[str] = []
    for section in sections:
        for panel in section.panels:
            for series in getattr(panel, "series", ()):
                if series.group not in groups:
                    groups.append(series.group)
    palette = Category10_10 if len(groups) <= 10 else Category20_20
    return {group: palette[i % len(palette)] for i, group in enumerate(groups)}


def _xy(panel: XYPanel, colours: dict[str, str], ranges: dict[str, object]):
    padding = 0.15 if any(s.labels for s in panel.series) else 0.1  # room for the labels right of points
    x_range = (ranges.setdefault(panel.shared_x, DataRange1d()) if panel.shared_x
               else DataRange1d(range_padding=padding))
    p = figure(name=panel.key, title=panel.title, x_range=x_range, height=_HEIGHT, sizing_mode="stretch_width",
               x_axis_type="log" if panel.x_log else "linear", y_axis_type="log" if panel.y_log else "linear",
               tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above")
    if not panel.y_log:
        p.y_range = DataRange1d(start=0, range_padding=padding)
    p.toolbar.active_scroll = None
    p.toolbar.logo = None
    p.xaxis.axis_label, p.yaxis.axis_label = panel.x_label, panel.y_label
    p.title.text_font_size = "11pt"
    items: dict[str, list] = {}
    hoverable = []
    for s in panel.series:
        if not len(s):
            continue
        colour = s.colour or colours.get(s.group, "black")
        data = {"x": np.asarray(s.x, dtype=float), "y": np.asarray(s.y, dtype=float)}
        if s.hover:
            data["hover"] = list(s.hover)
        source = ColumnDataSource(data)
        if s.kind == "points":
            renderer = p.scatter("x", "y", source=source, marker=s.marker, size=s.size, fill_color=colour,
                                 fill_alpha=0.8, line_color="black" if s.colour else colour, name=s.label)
        elif s.kind == "step":
            renderer = p.step("x", "y", source=source, mode="after", line_color=colour, line_width=2,
                              line_dash=s.dash, name=s.label)
        else:
            renderer = p.line("x", "y", source=source, line_color=colour, line_width=1.8, line_dash=s.dash,
                              name=s.label)
        entry = items.setdefault(s.legend or s.label, [])
        entry.append(renderer)
        if s.dots and s.kind != "points":
            entry.append(p.scatter("x", "y", source=source, size=5, fill_color=colour, line_color=colour,
                                   name=f"{s.label} points"))
        if s.labels:
            label_source = ColumnDataSource({"x": data["x"], "y": data["y"], "text": list(s.labels)})
            p.text("x", "y", text="text", source=label_source, x_offset=8, y_offset=-4, text_font_size="9pt",
                   text_color="#222", name=f"{s.label} labels")
        hoverable.append((renderer, bool(s.hover)))
    with_text = [r for r, has in hoverable if has]
    plain = [r for r, has in hoverable if not has]
    if with_text:
        p.add_tools(HoverTool(renderers=with_text, tooltips=[("", "@hover")]))
    if plain:
        p.add_tools(HoverTool(renderers=plain, tooltips=[("series", "$name"), ("x", "@x{0,0.[00]}"),
                                                         ("y", "@y{0,0.[000]}")]))
    xs = np.concatenate([np.asarray(s.x, float) for s in panel.series if len(s)])
    ys = np.concatenate([np.asarray(s.y, float) for s in panel.series if len(s)])
    for guide in panel.guides:
        # drawn as a two-point line across the data (so the axes' auto range includes it), dashed red
        if guide.dimension == "height":
            x, y = [guide.location] * 2, [0.0 if not panel.y_log else np.nanmin(ys), np.nanmax(ys)]
        else:
            x, y = [np.nanmin(xs), np.nanmax(xs)], [guide.location] * 2
        line = p.line(x, y, line_color="#d62728", line_dash="dashed", line_width=2, name=guide.label)
        items.setdefault(guide.label, []).append(line)
    items = [LegendItem(label=label, renderers=renderers) for label, renderers in items.items()]
    legend_below(p, items, _HEIGHT)
    return p


def _heat(panel: HeatMap):
    p = figure(name=panel.key, title=panel.title, x_range=FactorRange(*panel.x_factors),
               y_range=FactorRange(*panel.y_factors), height=max(_HEIGHT, 60 + 44 * len(panel.y_factors)),
               sizing_mode="stretch_width", tools="hover,save", toolbar_location="above",
               tooltips=[("", "@hover")])
    p.toolbar.logo = None
    p.title.text_font_size = "11pt"
    p.xaxis.axis_label, p.yaxis.axis_label = panel.x_name, panel.y_name
    p.grid.grid_line_color = None
    values = [c.value for c in panel.cells if c.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    mapper = LinearColorMapper(palette=Viridis256, low=low, high=high if high > low else low + 1, nan_color="#cccccc")
    source = ColumnDataSource({"x": [c.x for c in panel.cells], "y": [c.y for c in panel.cells],
                               "value": [np.nan if c.value is None else c.value for c in panel.cells],
                               "text": [c.text for c in panel.cells], "hover": [c.hover for c in panel.cells]})
    p.rect("x", "y", width=0.96, height=0.92, source=source, fill_color={"field": "value", "transform": mapper},
           line_color=None, name="cells")
    p.text("x", "y", text="text", source=source, text_align="center", text_baseline="middle", text_font_size="9pt",
           text_color="#111", background_fill_color="white", background_fill_alpha=0.6, name="cell values")
    p.add_layout(ColorBar(color_mapper=mapper, ticker=BasicTicker(desired_num_ticks=5), title=panel.value_label,
                          width=10), "right")
    return p


def draw_plots(sections: list[Section]) -> dict[str, object]:
    """{panel key: Bokeh figure} for every XY panel and heat map with data."""
    colours = _colours(sections)
    ranges: dict[str, object] = {}
    out = {}
    for section in sections:
        for panel in section.panels:
            if not panel.has_data:
                continue
            out[panel.key] = _heat(panel) if isinstance(panel, HeatMap) else _xy(panel, colours, ranges)
    return out
