"""`manifest.json`: what produced a run — versions, the resolved experiment, its hash, the seed.

Deterministic on purpose (no wall-clock time): the same experiment and seed give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata

from simfleet.scenario import Scenario
from simfleet.version import simfleet_version

__all__ = ["build_manifest", "config_hash", "package_version", "software_versions", "LIBRARIES"]

LIBRARIES = ("simpy", "numpy", "numba", "pandas", "pyarrow", "pydantic", "typer")


def package_version(name: str) -> str | None:
    """The installed version of a distribution, None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict:
    """simfleet, Python and library versions: the provenance every output records."""
    return {"simfleet": simfleet_version(), "python": platform.python_version(),
            "libraries": {name: package_version(name) for name in LIBRARIES}}


def resolved_inputs(scenario: Scenario) -> dict:
    """The experiment with every default filled in, plus the profiles and catalog entries it used."""
    experiment = scenario.experiment.model_dump(mode="json")
    # a serverless variant names no instance type (None); its prices are in the experiment's settings
    types = sorted({v.instance_type for e in scenario.experiment.endpoints for v in e.production_variants
                    if getattr(v, "instance_type", None) is not None})
    return {
        "experiment": experiment,
        "profiles": {name: p.spec.model_dump(mode="json") for name, p in sorted(scenario.profiles.items())},
        "instance_types": {name: vars(scenario.catalog[name]) for name in types},
    }


def config_hash(scenario: Scenario) -> str:
    canonical = json.dumps(resolved_inputs(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_manifest(scenario: Scenario, seed_entropy: int) -> dict:
    return {
        "simfleet_version": simfleet_version(),
        "python_version": platform.python_version(),
        "libraries": {name: package_version(name) for name in LIBRARIES},
        "source": scenario.source,
        "seed": scenario.experiment.experiment.seed,
        "seed_entropy": str(seed_entropy),
        "config_hash": config_hash(scenario),
        "resolved": resolved_inputs(scenario),
    }
