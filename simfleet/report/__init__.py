"""`simfleet report`: one self-contained HTML page (and PNGs on request) from output directories.

A job over finished runs (DESIGN §2.2): it reads the files a run directory holds
(`metrics.parquet`, `events.parquet`, `summary.json`, `manifest.json`) and never imports the
engine. The modules, in the order data flows through them:

* `run_data`   - what a directory holds: a run directory, loaded; other kinds refused by name;
* `views`      - the panels a user checks first, as plain series (no plotting library);
* `headline`   - the headline table and the assumptions a run rests on;
* `figures`    - the panels drawn with Bokeh (the optional `report` extra, imported only here);
* `page`       - the HTML page assembled around them and written atomically;
* `browser`    - headless Chromium over the DevTools pipe: PNGs of the page (and the tests' eyes);
* `build`      - the job that strings them together (directories in, page and PNGs out);
* `cli`        - the `simfleet report` command (typer only; the rest is imported when it runs).
"""

from __future__ import annotations

__all__: list[str] = []
