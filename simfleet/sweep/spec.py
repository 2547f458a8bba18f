"""The sweep file's schema: what a user declares to run one experiment over many parameter points.

A sweep file names a base experiment (`[sweep] base`) and its axes (`[[axes]]`); each axis is
one of three kinds, told apart by the keys it has:

* grid (`key`, `values`): one key, a list of values; grid axes form a cartesian product;
* zip (`keys`, `values` of rows): several keys that move together, one grid dimension;
* range (`key`, `low`, `high`, optional `scale`, `integer`): drawn jointly with the other range
  axes, `[sweep.sampling] count` times (Latin hypercube or plain random).

`[sweep] set` holds constant overrides applied to every run (`{"experiment.duration" = "10min"}`).
This module checks everything that needs only the sweep file itself (`structural_problems`);
`simfleet.sweep.plan` checks the axes against the base experiment and expands the runs.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt

from simfleet.schema.quantities import StrictModel

__all__ = ["SweepFile", "SweepSection", "Sampling", "Axis", "structural_problems", "value_kind", "expanded_runs",
           "RESERVED_COLUMNS", "AXIS_NAME_PATTERN", "KEY_PATTERN", "MAX_DEFAULT_PARTITION_VALUES"]

#: Columns of `runs.parquet` that are not axes; an axis may not take one of these names.
RESERVED_COLUMNS = frozenset({
    "run_id", "replicate", "seed", "status", "error", "requests", "error_rate", "latency_p50_ms",
    "latency_p90_ms", "latency_p99_ms", "throughput_per_s", "cost_per_hour", "cost_per_million",
    "peak_instances", "mean_instances", "wall_s", "component_cost_per_hour", "idle_cost_per_hour",
    "no_capacity_failures"})
#: Axis names are column names and Hive partition names (`name=value` folders).
AXIS_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
#: Dotted experiment keys as `--set` takes them: `endpoints.0.production_variants.0.instance_type`.
KEY_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
#: Without `partition_by`, grid and zip axes with at most this many distinct values are partitions.
MAX_DEFAULT_PARTITION_VALUES = 16


class Sampling(StrictModel):
    method: Literal["lhs", "random"] = "lhs"
    count: StrictInt = Field(ge=1, le=1_000_000)


class SweepSection(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    base: str = Field(min_length=1, description="the base experiment file, relative to the sweep file")
    seed: StrictInt = Field(ge=0, lt=2**128, description="entropy of the sweep's SeedSequence")
    replicates: StrictInt = Field(default=1, ge=1, le=10_000)
    partition_by: list[str] | None = None
    set: dict[str, Any] = Field(default_factory=dict, description="constant overrides of every run")
    sampling: Sampling | None = None
    max_runs: StrictInt = Field(default=10_000, ge=1, le=10**7,
                                description="the most runs the sweep may expand to (every point is validated "
                                            "before any run starts)")


class Axis(StrictModel):
    """One `[[axes]]` entry; which keys are present decides its kind (see `kind`)."""

    name: str | None = None
    names: list[str] | None = None
    key: str | None = None
    keys: list[str] | None = None
    values: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    scale: Literal["linear", "log"] = "linear"
    integer: StrictBool = False

    @property
    def kind(self) -> str:
        """``"zip"`` (has `keys`), ``"range"`` (has `low`/`high`) or ``"grid"``."""
        if self.keys is not None:
            return "zip"
        if self.low is not None or self.high is not None:
            return "range"
        return "grid"

    def key_list(self) -> list[str]:
        return list(self.keys) if self.keys is not None else ([self.key] if self.key is not None else [])

    def name_list(self) -> list[str]:
        """Column names: as written, or each key's last part."""
        if self.kind == "zip":
            return list(self.names) if self.names is not None else [k.split(".")[-1] for k in self.key_list()]
        if self.name is not None:
            return [self.name]
        return [self.key.split(".")[-1]] if self.key is not None else []


class SweepFile(StrictModel):
    sweep: SweepSection
    axes: list[Axis] = Field(default_factory=list)


def value_kind(value: object) -> str | None:
    """``"number"``, ``"string"`` or ``"bool"`` for a value an axis may take; None for any other."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def structural_problems(spec: SweepFile) -> list[tuple[tuple, str]]:
    """Problems visible in the sweep file alone, as (key path, message) pairs, in file order."""
    out: list[tuple[tuple, str]] = []
    seen_names: dict[str, int] = {}
    seen_keys: dict[str, int] = {}
    for index, axis in enumerate(spec.axes):
        out += _axis_problems(index, axis)
        names = axis.name_list()
        name_field = "names" if axis.kind == "zip" else "name"
        for position, name in enumerate(names):
            where = ("axes", index, name_field) + ((position,) if axis.kind == "zip" else ())
            if not re.fullmatch(AXIS_NAME_PATTERN, name):
                given = axis.names is not None if axis.kind == "zip" else axis.name is not None
                hint = "" if given else f" (the default, the key's last part; give `{name_field}`)"
                out.append((where, f"{name!r} is not a valid column name: letters, digits and _, "
                                   f"not starting with a digit{hint}"))
            elif name in RESERVED_COLUMNS:
                out.append((where, f"{name!r} is a column of runs.parquet already; choose another name"))
            elif name in seen_names:
                out.append((where, f"axis name {name!r} is used twice (also by axes[{seen_names[name]}]); "
                                   "give each axis a distinct `name`"))
            else:
                seen_names[name] = index
        key_field = "keys" if axis.kind == "zip" else "key"
        for position, key in enumerate(axis.key_list()):
            where = ("axes", index, key_field) + ((position,) if axis.kind == "zip" else ())
            if not re.fullmatch(KEY_PATTERN, key):
                out.append((where, f"{key!r} is not a dotted key like endpoints.0.production_variants.0.instance_type"))
            elif key == "experiment.seed":
                out.append((where, "experiment.seed is set by the sweep for every run (use `replicates`)"))
            elif key in seen_keys:
                out.append((where, f"key {key!r} is swept twice (also by axes[{seen_keys[key]}])"))
            elif key in spec.sweep.set:
                out.append((where, f"key {key!r} is also given a constant value in [sweep] set"))
            else:
                seen_keys[key] = index
    for key in spec.sweep.set:
        if not re.fullmatch(KEY_PATTERN, key):
            out.append((("sweep", "set", key), f"{key!r} is not a dotted key like experiment.duration"))
        elif key == "experiment.seed":
            out.append((("sweep", "set", key), "experiment.seed is set by the sweep for every run"))
    ranged = [i for i, axis in enumerate(spec.axes) if axis.kind == "range"]
    if ranged and spec.sweep.sampling is None:
        out.append((("axes", ranged[0]), "a range axis (low/high) needs [sweep.sampling] with method and count"))
    if spec.sweep.sampling is not None and not ranged:
        out.append((("sweep", "sampling"), "[sweep.sampling] needs at least one range axis (low/high)"))
    runs = expanded_runs(spec)
    if runs > spec.sweep.max_runs:
        out.append((("sweep", "max_runs"), f"the axes expand to {runs:,} runs (values of the grid and zip axes "
                                           f"multiplied, x sampling count x replicates), more than sweep.max_runs "
                                           f"({spec.sweep.max_runs:,}); raise sweep.max_runs if the sweep is meant "
                                           "to be this large"))
    for position, name in enumerate(spec.sweep.partition_by or []):
        if name not in seen_names:
            known = ", ".join(seen_names) or "none"
            out.append((("sweep", "partition_by", position), f"unknown axis {name!r} (axes: {known})"))
        elif name in (spec.sweep.partition_by or [])[:position]:
            out.append((("sweep", "partition_by", position), f"axis {name!r} is listed twice"))
    return out


def expanded_runs(spec: SweepFile) -> int:
    """How many runs the sweep expands to (an exact integer, however large), before any is built."""
    grid = math.prod(len(axis.values) for axis in spec.axes if axis.kind != "range" and axis.values)
    sampled = spec.sweep.sampling.count if spec.sweep.sampling is not None and any(
        axis.kind == "range" for axis in spec.axes) else 1
    return grid * sampled * spec.sweep.replicates


def _axis_problems(index: int, axis: Axis) -> list[tuple[tuple, str]]:
    where = ("axes", index)
    kind = axis.kind
    out: list[tuple[tuple, str]] = []
    if axis.key is not None and axis.keys is not None:
        return [(where + ("keys",), "give either `key` (one key) or `keys` (a zip of several), not both")]
    if not axis.key_list():
        return [(where, "required key is missing: `key` (or `keys` for a zip axis)")]
    if kind != "zip" and axis.names is not None:
        out.append((where + ("names",), "`names` belongs to a zip axis (with `keys`); use `name`"))
    if kind == "zip" and axis.name is not None:
        out.append((where + ("name",), "a zip axis takes `names` (one per key), not `name`"))
    if kind == "range":
        if axis.values is not None:
            out.append((where + ("values",), "give either `values` or `low`/`high`, not both"))
        if axis.low is None or axis.high is None:
            missing = "low" if axis.low is None else "high"
            return out + [(where + (missing,), "required key is missing (a range axis needs low and high)")]
        if not axis.low < axis.high:
            out.append((where + ("low",), f"low must be below high, got low = {axis.low:g}, high = {axis.high:g}"))
        elif axis.scale == "log" and axis.low <= 0:
            out.append((where + ("low",), f"a log scale needs low > 0, got {axis.low:g}"))
        elif axis.integer and math.floor(axis.high + 0.5) < math.ceil(axis.low):
            out.append((where + ("low",), f"no integer between low = {axis.low:g} and high = {axis.high:g}"))
        return out
    if axis.integer or axis.scale != "linear":
        out.append((where + ("integer" if axis.integer else "scale",), "belongs to a range axis (low/high)"))
    if axis.values is None:
        return out + [(where + ("values",), "required key is missing (or give low/high for a range axis)")]
    if not axis.values:
        return out + [(where + ("values",), "must list at least one value")]
    if kind == "zip":
        if axis.names is not None and len(axis.names) != len(axis.keys):
            out.append((where + ("names",), f"has {len(axis.names)} names for {len(axis.keys)} keys"))
        rows = []
        for row_index, row in enumerate(axis.values):
            if not isinstance(row, list) or len(row) != len(axis.keys):
                got = f"{len(row)} items" if isinstance(row, list) else repr(row)
                out.append((where + ("values", row_index),
                            f"each row lists one value per key ({len(axis.keys)}), got {got}"))
            else:
                rows.append((row_index, row))
        for column in range(len(axis.keys)):
            out += _column_problems(where, [(r, row[column]) for r, row in rows], column)
        _duplicates(out, where, [(r, tuple(row)) for r, row in rows])
    else:
        out += _column_problems(where, list(enumerate(axis.values)), None)
        _duplicates(out, where, list(enumerate(axis.values)))
    return out


def _column_problems(where: tuple, cells: list[tuple[int, object]], column: int | None) -> list:
    """Each value is a string, a finite number or a boolean, and all of one kind (a typed column)."""
    out = []
    kinds: dict[str, int] = {}
    for row, value in cells:
        path = where + ("values", row) + ((column,) if column is not None else ())
        kind = value_kind(value)
        if kind is None:
            out.append((path, f"{value!r}: an axis value must be a string, a finite number or a boolean "
                              "(it becomes a column of runs.parquet)"))
        else:
            kinds.setdefault(kind, row)
    if len(kinds) > 1:
        row = max(kinds.values())
        path = where + ("values", row) + ((column,) if column is not None else ())
        out.append((path, f"values of one axis must all be of one kind (found {' and '.join(sorted(kinds))}); "
                          "write every value the same way, e.g. all as strings"))
    return out


def _duplicates(out: list, where: tuple, cells: list[tuple[int, object]]) -> None:
    seen = {}
    for row, value in cells:
        marker = _marker(value)
        if marker in seen:
            out.append((where + ("values", row), f"{value!r} is listed twice (also values[{seen[marker]}])"))
        else:
            seen[marker] = row


def _marker(value):
    """Equality that keeps 1, 1.0 and true apart (they are different TOML values)."""
    if isinstance(value, tuple):
        return tuple(_marker(v) for v in value)
    return (type(value).__name__, repr(value))
