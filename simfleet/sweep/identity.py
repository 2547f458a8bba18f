"""A sweep run's identity: canonical JSON, TOML literals, its seed and its run id.

A run's seed is spawned from the sweep's `SeedSequence` with a key derived from its point (axis
values and replicate), never from its position in the plan, so adding or reordering axis values
leaves the seeds of existing points alone. Its `run_id` hashes the resolved experiment, the seed
and the simfleet version, so a resumed sweep recognises exactly the runs it already finished.
"""

from __future__ import annotations

import hashlib
import json
import math


from simfleet.version import simfleet_version as _installed_version
from simfleet.rng import child_seed

__all__ = ["canonical_json", "toml_literal", "run_seed", "simfleet_version", "run_id"]



def canonical_json(value) -> str:
    """Sorted keys, no spaces; dates and times as ISO 8601 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=lambda v: v.isoformat() if hasattr(v, "isoformat") else repr(v))


def toml_literal(value) -> str:
    """`value` written as a TOML value, so that `--set key=<literal>` gives `value` back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_literal(v)}"
                               for k, v in value.items()) + "}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"no TOML literal for {value!r}")


def run_seed(sweep_seed: int, point: dict) -> int:
    """The experiment seed of the run at `point` (axis values and "replicate"), independent of its index."""
    return child_seed(sweep_seed, canonical_json(point))


def simfleet_version() -> str:
    return _installed_version() or "unknown"


def run_id(experiment: dict, seed: int, version: str | None = None) -> str:
    """16 hex characters of sha256 over the resolved experiment, the seed and the simfleet version."""
    version = simfleet_version() if version is None else version
    text = canonical_json({"experiment": experiment, "seed": seed, "simfleet": version})
    return hashlib.sha256(text.encode()).hexdigest()[:16]
