"""Read an experiment file into a validated `Scenario`, or raise `InputError` with every problem.

First stage of the data flow: TOML text → (`--set` overrides) → schema validation → checks that
need the catalog and the model profiles (unknown instance type or model, a model that has no
service entry for the instance family or does not fit in its memory, traffic aimed at an unknown
endpoint or variant, a missing replay file). Both stages' problems are reported together.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from simfleet.catalog import Catalog, load_catalog
from simfleet.config.experiment import Experiment, ReplayTraffic
from simfleet.config.toml_lines import key_lines, line_of
from simfleet.config.validation import dotted, problems_from_validation
from simfleet.errors import InputError, Problem
from simfleet.profiles import ModelProfile, available_profiles, builtin_profile_dir, load_profile

__all__ = ["Scenario", "load_experiment", "scenario_from_dict", "apply_overrides"]

GIB = 2**30


@dataclass(frozen=True)
class Scenario:
    """A validated experiment with everything it refers to loaded: the input of `simulate`."""

    experiment: Experiment
    catalog: Catalog
    profiles: dict[str, ModelProfile]
    source: str
    base_dir: Path
    raw: dict = field(repr=False)

    def with_seed(self, seed: int) -> "Scenario":
        raw = copy.deepcopy(self.raw)
        raw["experiment"]["seed"] = seed
        return scenario_from_dict(raw, self.source, self.base_dir)


def load_experiment(path: str | Path, overrides: list[str] = ()) -> Scenario:
    """Load `path`, apply ``key=value`` overrides (``--set``), validate and resolve."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.single(path, "no such experiment file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError.single(path, f"cannot read experiment file: {error}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError.single(path, f"not valid TOML: {error}") from None
    raw = apply_overrides(raw, overrides)
    return scenario_from_dict(raw, str(path), path.resolve().parent, key_lines(text))


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``a.b.0.c=value`` assignments; values are TOML literals, or bare strings."""
    raw = copy.deepcopy(raw)
    problems = []
    for assignment in overrides:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", assignment, "expected key=value, e.g. experiment.seed=7"))
            continue
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        parts = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
        node = raw
        try:
            for part in parts[:-1]:
                node = node[part] if isinstance(node, list) else node.setdefault(part, {})
            node[parts[-1]] = value
        except (IndexError, KeyError, TypeError):
            problems.append(Problem("--set", key.strip(), "no such key path in the experiment"))
    if problems:
        raise InputError(problems)
    return raw


def scenario_from_dict(raw: dict, source: str = "<experiment>", base_dir: Path | None = None,
                       lines: dict | None = None) -> Scenario:
    """Validate an experiment given as a dict (what `load_experiment` does after parsing)."""
    base_dir = base_dir or Path.cwd()
    lines = lines or {}
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as error:
        problems = problems_from_validation(error, source, (), lines, raw)
        raise InputError(problems) from None
    catalog = load_catalog().with_overrides(experiment.catalog, source)
    profiles, problems = _resolve_references(experiment, catalog, source, base_dir, lines)
    if problems:
        raise InputError(problems)
    return Scenario(experiment, catalog, profiles, source, base_dir, copy.deepcopy(raw))


def _resolve_references(experiment: Experiment, catalog: Catalog, source: str, base_dir: Path,
                        lines: dict) -> tuple[dict[str, ModelProfile], list[Problem]]:
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        problems.append(Problem(source, dotted(path), message, line_of(lines, path)))

    search = [base_dir / p for p in experiment.experiment.model_paths] + [builtin_profile_dir()]
    for index, folder in enumerate(experiment.experiment.model_paths):
        if not (base_dir / folder).is_dir():
            report(("experiment", "model_paths", index), f"no such folder {folder!r}")
    known = available_profiles(search)
    profiles: dict[str, ModelProfile] = {}
    endpoints = {e.endpoint_name: e for e in experiment.endpoints}
    if len(endpoints) != len(experiment.endpoints):
        report(("endpoints",), "endpoint names must be unique")

    for e_index, endpoint in enumerate(experiment.endpoints):
        for v_index, variant in enumerate(endpoint.production_variants):
            where = ("endpoints", e_index, "production_variants", v_index)
            instance = catalog.get(variant.instance_type)
            if instance is None:
                report(where + ("instance_type",),
                       f"unknown instance type {variant.instance_type!r} (see `simfleet catalog`, "
                       "or add it under [catalog])")
            profile = profiles.get(variant.model_name)
            if profile is None and variant.model_name in known:
                try:
                    profile = profiles[variant.model_name] = load_profile(known[variant.model_name])
                except InputError as error:
                    problems.extend(error.problems)
                    continue
            if profile is None:
                names = ", ".join(sorted(known)) or "none found"
                report(where + ("model_name",), f"unknown model {variant.model_name!r} (profiles: {names})")
                continue
            if instance is None:
                continue
            entry = profile.entry_for(instance, variant.workers)
            if entry is None:
                report(where + ("instance_type",),
                       f"model {profile.name!r} has no service entry for {instance.name} "
                       f"(it has: {', '.join(profile.supported())})")
                continue
            for message in _fit_problems(entry, instance, profile.name):
                report(where + ("instance_type",), message)

    for t_index, traffic in enumerate(experiment.traffic):
        where = ("traffic", t_index)
        name = traffic.endpoint_name
        if name is None and len(endpoints) > 1:
            report(where + ("endpoint_name",), "required when the experiment has several endpoints")
            continue
        endpoint = endpoints.get(name) if name is not None else experiment.endpoints[0]
        if endpoint is None:
            report(where + ("endpoint_name",), f"unknown endpoint {name!r} (endpoints: {', '.join(endpoints)})")
            continue
        variants = [v.variant_name for v in endpoint.production_variants]
        if traffic.target_variant is not None and traffic.target_variant not in variants:
            report(where + ("target_variant",),
                   f"endpoint {endpoint.endpoint_name!r} has no variant {traffic.target_variant!r} "
                   f"(variants: {', '.join(variants)})")
        if isinstance(traffic, ReplayTraffic) and not (base_dir / traffic.file).is_file():
            report(where + ("file",), f"no such trace file {traffic.file!r}")
    return profiles, problems


def _fit_problems(entry, instance, model: str) -> list[str]:
    """Why `entry.workers` copies of the model would not fit on `instance`, if they would not."""
    out = []
    memory = entry.workers * entry.memory_per_worker_bytes
    if memory > instance.memory_bytes:
        out.append(f"{entry.workers} workers of {model!r} need {memory / GIB:.1f} GiB of memory; "
                   f"{instance.name} has {instance.memory_bytes / GIB:.1f} GiB (lower `workers`)")
    if entry.gpus_per_busy_worker > 0 and instance.accelerators == 0:
        out.append(f"model {model!r} needs an accelerator; {instance.name} has none")
    elif entry.gpu_memory_per_worker_bytes > 0:
        total = instance.accelerators * instance.accelerator_memory_bytes
        gpu_memory = entry.workers * entry.gpu_memory_per_worker_bytes
        if gpu_memory > total:
            out.append(f"{entry.workers} workers of {model!r} need {gpu_memory / GIB:.1f} GiB of "
                       f"accelerator memory; {instance.name} has {total / GIB:.1f} GiB")
    return out
