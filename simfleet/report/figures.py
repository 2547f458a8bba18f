"""The report's panels drawn with Bokeh: interactive charts (hover values, zoom, pan, legend toggles).

Bokeh is the optional `report` extra; only `simfleet report` (and `run --report`) import this module,
so the rest of the command line starts without it. Every chart shares one time axis: zooming one
zooms them all, as a CloudWatch dashboard's time range does. Each figure carries its panel's key as
its Bokeh `name`, which is how the page and the browser tests find it.
"""

from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, DataRange1d, HoverTool, Legend, LegendItem
from bokeh.palettes import Category10_10, Category20_20
from bokeh.plotting import figure

from simfleet.report.views import Panel, Section

__all__ = ["draw_sections", "colour_map", "legend_below"]

_HEIGHT = 250  # the plot and its axes; the legend adds its rows
#: A marker's shape by its kind (`Marker.kind`): scaling activities, then an inference component's copy events.
_MARKER_SHAPES = {"scaling activity": "triangle", "managed instance scaling": "diamond", "CopyPending": "square", "CopyPlaced": "circle",
                  "CopyInService": "star", "CopyDisplaced": "x", "CopyRemoved": "inverted_triangle"}


def colour_map(sections: list[Section]) -> dict[str, str]:
    """One colour per series group (run and variant, instance or container), the same in every chart."""
    groups: list[str] = []
    for section in sections:
        for panel in section.panels:
            for line in panel.lines:
                if line.group not in groups:
                    groups.append(line.group)
    palette = Category10_10 if len(groups) <= 10 else Category20_20
    return {group: palette[i % len(palette)] for i, group in enumerate(groups)}


def _figure(panel: Panel, colours: dict[str, str], x_range):
    p = figure(name=panel.key, title=panel.title, x_axis_type="datetime", x_range=x_range,
               y_range=DataRange1d(start=0), height=_HEIGHT, sizing_mode="stretch_width",
               tools="xpan,xwheel_zoom,box_zoom,reset,save", toolbar_location="above")
    p.toolbar.active_scroll = None  # the wheel scrolls the page until a zoom tool is picked
    p.toolbar.logo = None
    p.yaxis.axis_label = panel.y_label
    p.title.text_font_size = "11pt"
    items = []
    line_renderers = []
    for line in panel.lines:
        if not len(line):
            continue
        source = ColumnDataSource({"x": line.x, "y": np.asarray(line.y, dtype=float)})
        colour = colours[line.group]
        if line.step:
            renderer = p.step("x", "y", source=source, mode="after", line_color=colour, line_width=2,
                              line_dash=line.dash, name=line.label)
        else:
            renderer = p.line("x", "y", source=source, line_color=colour, line_width=1.6, line_dash=line.dash,
                              name=line.label)
        line_renderers.append(renderer)
        items.append(LegendItem(label=line.label, renderers=[renderer]))
    p.add_tools(HoverTool(renderers=line_renderers, formatters={"@x": "datetime"},
                          tooltips=[("series", "$name"), ("time", "@x{%F %H:%M:%S}"), ("value", "@y{0,0.[000]}")]))
    for kind in dict.fromkeys(m.kind for m in panel.markers):  # one legend entry and shape per kind
        mine = [m for m in panel.markers if m.kind == kind]
        source = ColumnDataSource({"x": np.array([m.x for m in mine], dtype="datetime64[ms]"),
                                   "y": np.array([m.y for m in mine], dtype=float),
                                   "text": [m.text for m in mine],
                                   "colour": [colours.get(m.group, "black") for m in mine]})
        marks = p.scatter("x", "y", source=source, marker=_MARKER_SHAPES.get(kind, "diamond"), size=11,
                          fill_color="colour", line_color="black", name=kind)
        items.append(LegendItem(label=kind, renderers=[marks]))
        p.add_tools(HoverTool(renderers=[marks], formatters={"@x": "datetime"},
                              tooltips=[(kind, "@text"), ("at", "@x{%F %H:%M:%S}")]))
    legend_below(p, items, _HEIGHT)
    return p


def legend_below(p, items, plot_height: int) -> None:
    """A legend under the plot (clicking an entry hides its series), in two columns beyond three
    entries, set apart so that labels do not run into the next column; the figure grows by its rows."""
    columns = 2 if len(items) > 3 else 1
    legend = Legend(items=items, click_policy="hide", label_text_font_size="8pt", spacing=14, padding=4,
                    ncols=columns, location="top_left")
    p.add_layout(legend, "below")
    p.height = plot_height + 31 * (-(-len(items) // columns))  # a row: 17 px and the spacing


def draw_sections(sections: list[Section]) -> dict[str, object]:
    """{panel key: Bokeh figure} for every panel with data, all on one shared time axis."""
    colours = colour_map(sections)
    x_range = DataRange1d()
    return {panel.key: _figure(panel, colours, x_range)
            for section in sections for panel in section.panels if panel.has_data}
