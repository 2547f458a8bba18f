"""A sweep file expanded into its runs: every point's overrides, seed, run id and Hive partition.

Second stage of a sweep, after `simfleet.sweep.spec` parsed the file and before any run starts:
`load_sweep` reads the base experiment, checks every axis key against it, validates the base with
the constant overrides, then each distinct axis value on its own (so that a bad value is blamed on
its line of the sweep file), then every point of the expansion, and raises `InputError` with every
problem found. Values are inserted with the `--set` machinery (`apply_overrides`).

Expansion: the product of the grid and zip axes × the `count` jointly sampled points of the range
axes × `replicates`. A run's seed derives from its point (axis names, values and replicate), never
from its position, so adding or reordering axis values leaves the seeds of existing points alone.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from simfleet.errors import InputError, Problem
from simfleet.input_files import parse_toml, read_input_text
from simfleet.rng import spawn_key
from simfleet.aws_requests import expand_request_files
from simfleet.scenario import Scenario, _blame_override, apply_overrides, scenario_from_dict
from simfleet.schema.toml_lines import key_lines, line_of
from simfleet.schema.validation import dotted, problems_from_validation
from simfleet.sweep.identity import canonical_json, run_id, run_seed, simfleet_version, toml_literal
from simfleet.sweep.spec import MAX_DEFAULT_PARTITION_VALUES, Axis, SweepFile, structural_problems

__all__ = ["AxisPlan", "RunPlan", "SweepPlan", "load_sweep"]


@dataclass(frozen=True)
class AxisPlan:
    """One axis as expanded: its column names, experiment keys, and the values used (one tuple per
    grid row / sampled point, aligned with `names`)."""

    index: int                          # position in the sweep file's [[axes]]
    kind: str                           # "grid", "zip" or "range"
    names: tuple[str, ...]
    keys: tuple[str, ...]
    values: tuple[tuple, ...]
    dtypes: tuple[str, ...]             # per name: "int64", "float64", "string" or "bool"


@dataclass(frozen=True)
class RunPlan:
    run_id: str                                  # 16 hex: sha256 of (resolved experiment, seed, version)
    point: dict[str, object]                     # axis name -> value in axis order, then "replicate"
    overrides: tuple[tuple[str, object], ...]    # (dotted key, value) applied to the base experiment
    seed: int                                    # the experiment seed of this run
    partition: tuple[tuple[str, str], ...]       # Hive partition (name, value as text), not URL-encoded


@dataclass(frozen=True)
class SweepPlan:
    name: str
    source: Path                        # the sweep file
    base: Path                          # the base experiment file (resolved)
    base_raw: dict                      # the base experiment as parsed TOML (no overrides)
    axes: tuple[AxisPlan, ...]
    partition_by: tuple[str, ...]
    runs: tuple[RunPlan, ...]
    sweep_hash: str                     # sha256 of the canonical sweep file + base experiment (+ --set)
    seed: int = 0                       # the sweep seed (entropy of its SeedSequence)
    replicates: int = 1
    text: str = ""                      # the sweep file's text
    constants: tuple[tuple[str, object], ...] = ()   # [sweep] set, then --set: the head of every run's overrides
    sampling: dict | None = field(default=None)      # {"method": ..., "count": ...} when range axes exist

    @property
    def axis_names(self) -> tuple[str, ...]:
        """Every axis column name, in axis order (zip axes contribute several)."""
        return tuple(name for axis in self.axes for name in axis.names)

    @property
    def column_types(self) -> dict[str, str]:
        """Axis column name -> "int64", "float64", "string" or "bool"."""
        return {name: dtype for axis in self.axes for name, dtype in zip(axis.names, axis.dtypes)}

    def experiment_dict(self, run: RunPlan) -> dict:
        """The base experiment with `run.overrides` applied and `experiment.seed` set to `run.seed`."""
        raw = _apply(self.base_raw, run.overrides)
        raw.setdefault("experiment", {})["seed"] = run.seed
        return raw

    def scenario(self, run: RunPlan) -> Scenario:
        """The run's validated experiment (raises `InputError` if it is not valid)."""
        return scenario_from_dict(self.experiment_dict(run), str(self.base), self.base.parent)

    def summary(self) -> dict:
        """A JSON-able description of the plan (for `sweep.json`)."""
        return {
            "name": self.name, "source": str(self.source), "base": str(self.base), "seed": self.seed,
            "replicates": self.replicates, "sampling": self.sampling, "sweep_hash": self.sweep_hash,
            "constants": [[k, v] for k, v in self.constants], "partition_by": list(self.partition_by),
            "axes": [{"kind": a.kind, "names": list(a.names), "keys": list(a.keys), "dtypes": list(a.dtypes),
                      "values": [list(v) for v in a.values]} for a in self.axes],
            "runs": len(self.runs),
        }


def _apply(raw: dict, overrides) -> dict:
    """`apply_overrides` (the `--set` machinery) with (dotted key, value) pairs."""
    return apply_overrides(raw, [f"{key}={toml_literal(value)}" for key, value in overrides])


def _parse_assignment(assignment: str) -> tuple[str, object]:
    """A ``key=value`` `--set` assignment as (key, value), parsed as `apply_overrides` parses it."""
    key, _, text = assignment.partition("=")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):   # not TOML (or nested past the parser): a string
        value = text.strip()
    return key.strip(), value


def _key_problem(raw: dict, key: str) -> str | None:
    """Why `key` cannot be set in `raw`: every part but the last must exist, list indices in range.
    A missing last key of a table is left to the experiment schema (it may have a default)."""
    parts = [int(p) if p.isdigit() else p for p in key.split(".")]
    node = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(str(p) for p in parts[:depth + 1])
        if isinstance(node, list):
            if not isinstance(part, int):
                return f"{here}: {'.'.join(str(p) for p in parts[:depth]) or 'it'} is a list; expected an index"
            if part >= len(node):
                return f"{here}: list index out of range (the base experiment has {len(node)})"
            node = node[part]
        elif isinstance(node, dict):
            if part not in node:
                if last and not isinstance(part, int):
                    return None
                return f"no key {here} in the base experiment"
            node = node[part]
        else:
            return f"{'.'.join(str(p) for p in parts[:depth])} is a value, not a table or list"
    return None


def _path_text(key: str) -> str:
    """A dotted `--set` key as problems name it: ``endpoints[0].production_variants[0].instance_type``."""
    return dotted(tuple(int(p) if p.isdigit() else p for p in key.split(".")))


def _under(problem_key: str, key: str) -> bool:
    path = _path_text(key)
    return problem_key == path or problem_key.startswith(path + ".") or problem_key.startswith(path + "[")


def _show(value) -> str:
    return value if isinstance(value, str) else toml_literal(value)


def _dtype(values: list) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, str) for v in values):
        return "string"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    return "float64"


def _partition_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


# ---------------------------------------------------------------------------------------------

class _Loader:
    """Collects every problem of one sweep file; `plan()` builds the `SweepPlan` if there are none."""

    def __init__(self, path: Path, overrides: list[str]):
        self.path, self.overrides = path, list(overrides)
        self.source = str(path)
        self.problems: list[Problem] = []
        self.seen: set[tuple[str, str]] = set()

    def report(self, path: tuple, message: str, key: str | None = None) -> None:
        self.add(Problem(self.source, dotted(path) if key is None else key, message, line_of(self.lines, path)))

    def add(self, problem: Problem) -> None:
        marker = (problem.file, problem.key, problem.message)
        if marker not in self.seen:
            self.seen.add(marker)
            self.problems.append(problem)

    def fail(self) -> None:
        if self.problems:
            raise InputError(self.problems)

    def load(self) -> SweepPlan:
        path = self.path
        self.text = read_input_text(path, "sweep file")
        self.raw = parse_toml(self.text, path)
        self.lines = key_lines(self.text)
        try:
            self.spec = SweepFile.model_validate(self.raw)
        except ValidationError as error:
            raise InputError(problems_from_validation(error, self.source, (), self.lines, self.raw)) from None
        broken = set()  # axes whose own problems make their values uncheckable
        for where, message in structural_problems(self.spec):
            self.report(where, message)
            if where[:1] == ("axes",) and len(where) > 1 and isinstance(where[1], int):
                broken.add(where[1])
        self._load_base()
        before = len(self.problems)
        self._constants()
        if len(self.problems) > before:
            self.fail()  # the base with its constant overrides cannot be built: nothing else can be checked
        broken |= {index for index, axis in enumerate(self.spec.axes) if self._axis_keys(index, axis)}
        if any(where[:1] != ("axes",) for where, _ in structural_problems(self.spec)):
            self.fail()  # sweep-wide problems (sampling, partition_by): report them first
        self.constant_raw = _apply(self.base_raw, self.constants)
        self.base_problems = self._validate(self.constant_raw)
        for problem in self.base_problems:
            self.add(self._blame_constant(problem))
        for index, axis in enumerate(self.spec.axes):
            if axis.kind != "range" and index not in broken:
                for row, values in enumerate(self._rows(axis)):
                    self._check_value(index, axis, ("values", row), values)
        if broken:
            self.fail()
        samples = self._sample()
        self.fail()
        return self._expand(samples)

    # -- inputs ------------------------------------------------------------------------------

    def _load_base(self) -> None:
        base = (self.path.parent / self.spec.sweep.base)
        where = ("sweep", "base")
        try:
            self.base_text = base.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.report(where, f"no such experiment file {self.spec.sweep.base!r} (relative to the sweep file)")
        except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
            self.report(where, f"cannot read experiment file {self.spec.sweep.base!r}: {error}")
        else:
            try:
                self.base_raw = parse_toml(self.base_text, base)
            except InputError as error:
                for problem in error.problems:
                    self.add(problem)
            else:
                self.base = base.resolve()
                self.base_source = str(base)
                self.base_lines = key_lines(self.base_text)
                # AWS request files (endpoint_config_file) become TOML keys once, so that axes and
                # constants can set them and every run carries them in its experiment
                expansion = expand_request_files(self.base_raw, self.base_source, self.base.parent, self.base_lines)
                if not expansion.problems:
                    self.base_raw = expansion.raw
                    return
                self.problems += expansion.problems
        raise InputError(self.problems)

    def _constants(self) -> None:
        constants = list(self.spec.sweep.set.items())
        for key, value in constants:
            message = _key_problem(self.base_raw, key)
            if message:
                self.report(("sweep", "set", key), message, key=f'sweep.set."{key}"')
        for assignment in self.overrides:
            key, value = _parse_assignment(assignment)
            message = _key_problem(self.base_raw, key) if key else "expected key=value, e.g. experiment.duration=10min"
            if message:
                self.add(Problem("--set", key or assignment, message))
            elif key == "experiment.seed":
                self.add(Problem("--set", key, "experiment.seed is set by the sweep for every run"))
            elif any(key in axis.key_list() for axis in self.spec.axes):
                self.add(Problem("--set", key, "this key is an axis of the sweep; it cannot also be set"))
            constants.append((key, value))
        self.constants = tuple(constants)

    def _axis_keys(self, index: int, axis: Axis) -> bool:
        """Report axis keys the base experiment cannot take; True if any."""
        bad = False
        for position, key in enumerate(axis.key_list()):
            message = _key_problem(self.base_raw, key)
            if message:
                where = ("axes", index, "keys", position) if axis.kind == "zip" else ("axes", index, "key")
                self.report(where, message)
                bad = True
        return bad

    @staticmethod
    def _rows(axis: Axis) -> list[tuple]:
        if axis.kind == "zip":
            return [tuple(row) for row in axis.values]
        return [(value,) for value in axis.values]

    # -- validation --------------------------------------------------------------------------

    def _validate(self, raw: dict) -> list[Problem]:
        try:
            scenario_from_dict(raw, self.base_source, self.base.parent, self.base_lines)
        except InputError as error:
            return error.problems
        return []

    def _blame_constant(self, problem: Problem) -> Problem:
        """A problem in a constant value is blamed on `--set` (applied last, so it wins) or on
        `[sweep] set`; any other stays with its line of the base experiment."""
        blamed = _blame_override(problem, self.overrides)
        if blamed is not problem:
            return blamed
        for key in self.spec.sweep.set:
            if _under(problem.key, key):
                return Problem(self.source, f'sweep.set."{key}"', f"{problem.key}: {problem.message}",
                               line_of(self.lines, ("sweep", "set", key)))
        return problem

    def _new_problems(self, overrides) -> list[Problem]:
        """Problems of the base (with constants) and `overrides` that the base alone does not have."""
        known = {(p.key, p.message) for p in self.base_problems}
        return [p for p in self._validate(_apply(self.constant_raw, overrides)) if (p.key, p.message) not in known]

    def _check_value(self, index: int, axis: Axis, where: tuple, values: tuple) -> None:
        """Validate the base with one row of an axis; blame each new problem on that row's line."""
        keys = axis.key_list()
        paths = [_path_text(key) for key in keys]
        prefix = "sampled value " if axis.kind == "range" else ""
        for problem in self._new_problems(list(zip(keys, values))):
            owner = next((k for k, key in enumerate(keys) if _under(problem.key, key)), None)
            if owner is None:
                shown = _show(values[0]) if len(values) == 1 else toml_literal(list(values))
                self.report(("axes", index) + where, f"{prefix}{shown}: {problem.key}: {problem.message}")
            elif problem.key == paths[owner] and problem.message.startswith("unknown key"):
                key_where = ("axes", index, "keys", owner) if axis.kind == "zip" else ("axes", index, "key")
                self.report(key_where, f"{keys[owner]}: not a key of the experiment ({problem.message})")
            else:
                cell = where + ((owner,) if axis.kind == "zip" else ())
                detail = "" if problem.key == paths[owner] else f"{problem.key}: "
                self.report(("axes", index) + cell, f"{prefix}{_show(values[owner])}: {detail}{problem.message}")

    # -- expansion ---------------------------------------------------------------------------

    def _sample(self) -> list[tuple]:
        """The jointly sampled values of the range axes: `count` tuples in range-axis order."""
        ranged = [axis for axis in self.spec.axes if axis.kind == "range"]
        if not ranged:
            return [()]
        sampling = self.spec.sweep.sampling
        sequence = np.random.SeedSequence(self.spec.sweep.seed, spawn_key=spawn_key("sweep.sampling"))
        rng = np.random.Generator(np.random.PCG64(sequence))
        count, dims = sampling.count, len(ranged)
        if sampling.method == "lhs":
            unit = np.empty((count, dims))
            for d in range(dims):
                unit[:, d] = (rng.permutation(count) + rng.random(count)) / count
        else:
            unit = rng.random((count, dims))
        columns = []
        for d, axis in enumerate(ranged):
            if axis.scale == "log":
                column = np.exp(math.log(axis.low) + unit[:, d] * (math.log(axis.high) - math.log(axis.low)))
            else:
                column = axis.low + unit[:, d] * (axis.high - axis.low)
            column = np.clip(column, axis.low, axis.high)
            if axis.integer:
                lowest, highest = math.ceil(axis.low), math.floor(axis.high + 0.5)
                columns.append([min(max(math.floor(v + 0.5), lowest), highest) for v in column.tolist()])
            else:
                columns.append(column.tolist())
        samples = list(dict.fromkeys(zip(*columns)))   # integer rounding may repeat a point: run it once
        indices = [i for i, axis in enumerate(self.spec.axes) if axis.kind == "range"]
        for sample_index, sample in enumerate(samples):
            for d, index in enumerate(indices):
                self._check_value(index, self.spec.axes[index], (), (sample[d],))
        return samples

    def _expand(self, samples: list[tuple]) -> SweepPlan:
        spec = self.spec
        axes = spec.axes
        gridded = [i for i, axis in enumerate(axes) if axis.kind != "range"]
        ranged = [i for i, axis in enumerate(axes) if axis.kind == "range"]
        rows_of = {i: self._rows(axes[i]) for i in gridded}
        sampled_of = {i: [(s[d],) for s in samples] for d, i in enumerate(ranged)}
        plans = []
        for i, axis in enumerate(axes):
            rows = rows_of[i] if i in rows_of else sampled_of[i]
            names = tuple(axis.name_list())
            plans.append(AxisPlan(i, axis.kind, names, tuple(axis.key_list()), tuple(rows),
                                  tuple(_dtype([row[c] for row in rows]) for c in range(len(names)))))
        partition_by = spec.sweep.partition_by
        if partition_by is None:
            partition_by = [name for plan in plans if plan.kind != "range" for c, name in enumerate(plan.names)
                            if plan.dtypes[c] in ("int64", "float64", "string")
                            and len({repr(row[c]) for row in plan.values}) <= MAX_DEFAULT_PARTITION_VALUES]
        points = []
        for choice in itertools.product(*(range(len(rows_of[i])) for i in gridded), range(len(samples))):
            chosen = dict(zip(gridded, choice[:-1]))
            point, overrides = {}, list(self.constants)
            for i, axis in enumerate(axes):
                row = rows_of[i][chosen[i]] if i in chosen else (samples[choice[-1]][ranged.index(i)],)
                point.update(zip(axis.name_list(), row))
                overrides += zip(axis.key_list(), row)
            points.append((point, tuple(overrides)))
        self._check_points(points)
        self.fail()
        runs = []
        version = simfleet_version()
        for point, overrides in points:
            for replicate in range(spec.sweep.replicates):
                full = {**point, "replicate": replicate}
                seed = run_seed(spec.sweep.seed, full)
                experiment = _apply(self.base_raw, overrides)
                experiment.setdefault("experiment", {})["seed"] = seed
                partition = tuple((name, _partition_text(point[name])) for name in partition_by)
                runs.append(RunPlan(run_id(experiment, seed, version), full, overrides, seed, partition))
        sweep_hash = hashlib.sha256(canonical_json(
            {"sweep": self.raw, "base": self.base_raw, "overrides": self.overrides}).encode()).hexdigest()
        sampling = spec.sweep.sampling.model_dump() if spec.sweep.sampling is not None else None
        return SweepPlan(spec.sweep.name, self.path, self.base, self.base_raw, tuple(plans), tuple(partition_by),
                         tuple(runs), sweep_hash, spec.sweep.seed, spec.sweep.replicates, self.text,
                         self.constants, sampling)

    def _check_points(self, points: list[tuple[dict, tuple]]) -> None:
        """Every point validates as a whole (axes may interact, e.g. an instance type and a worker
        count). Each problem is reported once, with the first point that has it."""
        if len(self.spec.axes) < 2:
            return  # one axis: every point is one of its rows, already checked
        found: dict[tuple[str, str], list[dict]] = {}
        for point, overrides in points:
            for problem in self._new_problems(overrides[len(self.constants):]):
                found.setdefault((problem.key, problem.message), []).append(point)
        for (key, message), where in found.items():
            shown = ", ".join(f"{name}={_show(value)}" for name, value in where[0].items())
            more = f" (and {len(where) - 1} more points)" if len(where) > 1 else ""
            self.report(("axes",), f"point {{{shown}}}{more}: {key}: {message}", key="axes")


def load_sweep(path: str | Path, overrides: list[str] = ()) -> SweepPlan:
    """Read and expand the sweep file at `path`; `overrides` are ``key=value`` assignments (``--set``)
    applied to the base experiment of every run. Raises `InputError` with every problem found."""
    return _Loader(Path(path), overrides).load()
