"""`simfleet report`: one self-contained HTML page (and PNGs on request) from output directories.

A job over finished runs (DESIGN §2.2): it reads the files a run directory, an Inference
Recommender job folder or a sweep dataset holds, and never imports the engine. The modules, in
the order data flows through them:

* `run_data`   - what a directory holds (`directory_kind`): a run directory, loaded;
* `job_data`, `sweep_data` - a recommender job folder, a sweep dataset, loaded;
* `sweep_options` - the sweep page's `--slo` and `--axes`, parsed;
* `component_data` - a run's inference components: the per-model cost table, the copy events;
* `views`      - the panels a user checks first, as plain series (no plotting library);
* `component_views` - the inference-components section of a run page (runs with components only);
* `plots`      - charts on numeric or categorical axes, as plain data (ramps, scatters, heat maps);
* `job_views`, `sweep_views` - a job's ramps and recommendations; a sweep's Pareto fronts,
  cheapest run within the SLO and heat map;
* `headline`   - the headline table and the assumptions a run rests on;
* `figures`, `plot_figures` - the panels drawn with Bokeh (the optional `report` extra, imported only there);
* `page`, `job_page`, `sweep_page` - the HTML page assembled around them and written atomically;
* `browser`    - headless Chromium over the DevTools pipe: PNGs of the page (and the tests' eyes);
* `build`      - the job that strings them together (directories in, page and PNGs out);
* `cli`        - the `simfleet report` command (typer only; the rest is imported when it runs).
"""

from __future__ import annotations

__all__: list[str] = []
