"""Check a dict against a botocore shape, member by member (used by the recommender tests)."""

from __future__ import annotations

import math
import re
from datetime import datetime

__all__ = ["shape_problems"]


def shape_problems(value, shape, path="", extra=frozenset()):
    """Every way `value` differs from botocore `shape`: member names, types, required members,
    enumerations, lengths, ranges and patterns. `extra`: top-level member names allowed besides."""
    found = []
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        for name in value:
            if name not in shape.members and name not in extra:
                found.append(f"{path}.{name}: not a member of {shape.name}")
        for name in shape.required_members:
            if name not in value:
                found.append(f"{path}.{name}: required member of {shape.name} missing")
        for name, member in shape.members.items():
            if name in value:
                found += shape_problems(value[name], member, f"{path}.{name}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        found += _bounds(len(value), meta, f"{path} length")
        for i, item in enumerate(value):
            found += shape_problems(item, shape.member, f"{path}[{i}]")
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        found += _bounds(len(value), meta, f"{path} length")
        for key, item in value.items():
            found += shape_problems(key, shape.key, f"{path} key {key!r}")
            found += shape_problems(item, shape.value, f"{path}.{key}")
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} not in the enumeration of {shape.name}")
        found += _bounds(len(value), meta, f"{path} length")
        # Java's Unicode classes (\p{L}, in Tag keys) are not Python `re`: such patterns are left unchecked
        if "pattern" in meta and "\\p{" not in meta["pattern"] and not re.fullmatch(meta["pattern"], value):
            found.append(f"{path}: {value!r} does not match {meta['pattern']}")
        return found
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: expected an integer, got {value!r}"]
        return _bounds(value, meta, path)
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{path}: expected a number, got {value!r}"]
        return [] if math.isnan(value) else _bounds(value, meta, path)  # NaN: "not available"
    if kind == "timestamp":
        if isinstance(value, datetime):
            return [] if value.tzinfo is not None else [f"{path}: timestamp without a time zone"]
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return [f"{path}: expected a timestamp, got {value!r}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    return [f"{path}: shape type {kind} not checked"]


def _bounds(number, meta, what):
    found = []
    if "min" in meta and number < meta["min"]:
        found.append(f"{what} {number} under the minimum {meta['min']}")
    if "max" in meta and number > meta["max"]:
        found.append(f"{what} {number} over the maximum {meta['max']}")
    return found
