"""Shared fixtures: a test-only model profile folder and a builder for small experiments."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from simfleet.scenario import scenario_from_dict

DATA = Path(__file__).parent / "data"


def base_experiment(**experiment) -> dict:
    """A small valid experiment as a dict: one endpoint, one variant of the toy model, Poisson traffic."""
    raw = {
        "experiment": {"name": "t", "start_time": "2026-01-05T09:00:00Z", "duration": "10min", "seed": 1,
                       "model_paths": ["models"], **experiment},
        "metrics": {"percentiles": [50, 90, 99]},
        "endpoints": [{
            "endpoint_name": "ep",
            "production_variants": [{
                "variant_name": "A", "model_name": "toy", "instance_type": "ml.c5.xlarge",
                "initial_instance_count": 2,
            }],
        }],
        "traffic": [{"kind": "poisson", "rate": 100}],
    }
    return raw


def scenario(raw: dict):
    """Validate `raw` as if it were a file in tests/data (so `model_paths = ["models"]` finds toy)."""
    raw = copy.deepcopy(raw)
    return scenario_from_dict(raw, "test.toml", DATA)


@pytest.fixture
def data_dir() -> Path:
    return DATA


def nearest_rank_value(values, p) -> float:
    """The nearest-rank percentile of `values`, with the rank ceil(p/100 * n) computed exactly on the
    decimal `p` spells (numpy's `inverted_cdf` computes it in floats: 99.9 % of 2000 comes out as
    rank 1999, not 1998)."""
    from fractions import Fraction
    import math

    ordered = np.sort(np.asarray(values, dtype=np.float64))
    rank = max(1, math.ceil(Fraction(repr(float(p))) * len(ordered) / 100))
    return float(ordered[rank - 1])


# --- run directories for the report tests (short versions of the shipped experiments) -----------------

REPORT_RUNS = {
    "quickstart": ("quickstart.toml", ["experiment.duration=10min"]),
    "quickstart-3": ("quickstart.toml", ["experiment.duration=10min",
                                         "endpoints.0.production_variants.0.initial_instance_count=3"]),
    "no-traffic": ("quickstart.toml", ["experiment.duration=10min", "traffic.0.rate=0"]),
    "serverless-vs-realtime": ("serverless-vs-realtime.toml", ["experiment.duration=20min"]),
    "multi-model": ("multi-model.toml", ["experiment.duration=5min"]),
    "autoscaling": ("diurnal-autoscaling.toml", ["experiment.duration=9h"]),
    "pipeline": ("pipeline.toml", ["experiment.duration=10min"]),
}


class ReportRuns:
    """Run directories simulated once per test session, on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._done: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._done:
            from simfleet.outputs.run_directory import run_to_directory
            from simfleet.scenario import load_experiment

            file, overrides = REPORT_RUNS[name]
            experiments = Path(__file__).resolve().parents[1] / "experiments"
            out = self.root / name
            run_to_directory(load_experiment(experiments / file, overrides), out)
            self._done[name] = out
        return self._done[name]


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory) -> ReportRuns:
    return ReportRuns(tmp_path_factory.mktemp("report-runs"))
