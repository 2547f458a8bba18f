"""Small valid experiments for the tests: the test-only model profiles (`tests/data/models`) and a
builder of a one-endpoint, one-variant experiment of the toy model, validated as if it were a file
in `tests/data`."""

from __future__ import annotations

import copy
from pathlib import Path

from simfleet.scenario import scenario_from_dict

DATA = Path(__file__).parent / "data"
#: the test-only model profiles (toy, serverless-toy, …): not the shipped ones
MODELS = DATA / "models"


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
