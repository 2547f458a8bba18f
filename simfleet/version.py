"""simfleet's own version and distribution name: one source, `pyproject.toml`'s `[project]`.

The distribution is published as `simfleet-sagemaker` (the index's `simfleet` is an unrelated
project); the import name and the command stay `simfleet`. Every output that records provenance
(`manifest.json`, a sweep's `run_id` and schema metadata) and `simfleet --version` read the
version here: from the installed distribution's metadata, or, in a source tree that was put on
`sys.path` without being installed, from its `pyproject.toml`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

__all__ = ["DISTRIBUTION", "simfleet_version"]

#: The name on the package index and in `pip install`; not the import name.
DISTRIBUTION = "simfleet-sagemaker"

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def simfleet_version() -> str | None:
    """The version of this simfleet, None if neither its metadata nor its pyproject.toml is found."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return project.get("version") if project.get("name") == DISTRIBUTION else None
