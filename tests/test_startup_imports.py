"""Startup cost: the command line and the engine must not import pandas (~0.3 s) until a query or
a replayed trace needs it; `simfleet.RunMetrics` is still there, imported on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_cli_and_engine_do_not_import_pandas():
    code = ("import sys, simfleet.cli, simfleet.engine.simulation; "
            "print(sorted(m for m in sys.modules if m == 'pandas' or m.startswith('pandas.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_run_metrics_is_still_exported():
    import simfleet
    from simfleet import RunMetrics
    from simfleet.query import RunMetrics as query_run_metrics

    assert RunMetrics is query_run_metrics
    assert simfleet.RunMetrics is query_run_metrics
    assert "RunMetrics" in simfleet.__all__
    assert "RunMetrics" in dir(simfleet)
