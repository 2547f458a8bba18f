"""Model profiles: how long a model takes per request on each instance family, and what it holds.

A profile is a TOML file (`models/*.toml` ships six). Each number must carry its source in the
file: a `[sources]` entry per top-level quantity and a `source` on every `[[service]]` entry, so a
reader can tell a published benchmark from an assumption. Feeds `fleet`, which picks the entry
for each variant's instance type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator

from simfleet.catalog import InstanceType
from simfleet.distributions import Distribution
from simfleet.errors import InputError, Problem
from simfleet.input_files import parse_toml, read_input_text
from simfleet.schema.distributions import TimeDistribution
from simfleet.schema.quantities import Duration, Size, StrictModel
from simfleet.schema.toml_lines import key_lines, line_of
from simfleet.schema.validation import dotted, problems_from_validation

__all__ = ["ModelProfile", "ServiceEntry", "ProfileSpec", "load_profile", "builtin_profile_dir", "fit_problems",
           "available_profiles"]

GIB = 2**30

SourceText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ServiceSpec(StrictModel):
    instance: str = Field(pattern=r"^([a-z][a-z0-9-]*|ml\.[a-z0-9-]+\.[a-z0-9-]+)$",
                          description="instance family (g5), exact type (ml.g5.12xlarge), or \"serverless\" "
                                      "(measured on a serverless endpoint; used as is, not scaled)")
    workers: int | Literal["vcpus", "gpus"] = Field(default="vcpus")
    distribution: TimeDistribution
    source: SourceText
    memory_per_worker: Size | None = None
    gpu_memory_per_worker: Size | None = None
    gpus_per_busy_worker: float | None = Field(default=None, ge=0)

    @field_validator("workers")
    @classmethod
    def _workers(cls, value):
        if isinstance(value, int) and not 1 <= value <= 1024:
            raise ValueError("workers must be between 1 and 1024, or 'vcpus' or 'gpus'")
        return value


class ProfileSources(StrictModel):
    """Where each top-level number of a profile comes from (required, one entry per number)."""

    artifact_size: SourceText
    load_time: SourceText
    memory_per_worker: SourceText
    gpu_memory_per_worker: SourceText
    cpu_cores_per_busy_worker: SourceText
    gpus_per_busy_worker: SourceText
    max_queue_size: SourceText
    payload_time_per_kb: SourceText


class ProfileSpec(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    framework: str = ""
    artifact_size: Size
    load_time: Duration
    memory_per_worker: Size
    gpu_memory_per_worker: Size
    cpu_cores_per_busy_worker: float = Field(gt=0, le=1024)
    gpus_per_busy_worker: float = Field(ge=0, le=64)
    max_queue_size: int = Field(ge=1, le=100_000)
    payload_time_per_kb: Duration
    sources: ProfileSources
    service: list[ServiceSpec] = Field(min_length=1)


@dataclass(frozen=True)
class ServiceEntry:
    """A profile resolved for one instance type: what one container of the model does there."""

    service_time: Distribution
    workers: int
    memory_per_worker_bytes: float
    gpu_memory_per_worker_bytes: float
    cpu_cores_per_busy_worker: float
    gpus_per_busy_worker: float
    max_queue_size: int
    payload_time_per_kb_s: float
    source: str
    load_time_s: float = 0.0  # the profile's load_time: a new instance loads the model before serving


@dataclass(frozen=True)
class ModelProfile:
    spec: ProfileSpec
    path: str

    @property
    def name(self) -> str:
        return self.spec.name

    def entry_for(self, instance: InstanceType, workers: int | None = None) -> ServiceEntry | None:
        """The service entry for `instance` (exact type first, then family), or None."""
        by_key = {entry.instance: entry for entry in self.spec.service}
        entry = by_key.get(instance.name) or by_key.get(instance.family)
        if entry is None:
            return None
        if workers is None:
            if entry.workers == "vcpus":
                workers = instance.vcpus
            elif entry.workers == "gpus":
                workers = max(1, instance.accelerators)
            else:
                workers = entry.workers
        return self._resolved(entry, workers)

    def service_spec(self, key: str) -> ServiceSpec | None:
        """The `[[service]]` entry written for `key` exactly (a family, a type, or "serverless"), or None."""
        return next((entry for entry in self.spec.service if entry.instance == key), None)

    def entry_for_key(self, key: str, workers: int) -> ServiceEntry | None:
        """The service entry written for `key` exactly, with `workers` workers, or None. Serverless
        variants use it (`simfleet.serverless_sizing`): they have no instance type to match."""
        entry = self.service_spec(key)
        return None if entry is None else self._resolved(entry, workers)

    def _resolved(self, entry: ServiceSpec, workers: int) -> ServiceEntry:
        spec = self.spec
        return ServiceEntry(
            service_time=entry.distribution.build(),
            workers=workers,
            memory_per_worker_bytes=_first(entry.memory_per_worker, spec.memory_per_worker),
            gpu_memory_per_worker_bytes=_first(entry.gpu_memory_per_worker, spec.gpu_memory_per_worker),
            cpu_cores_per_busy_worker=spec.cpu_cores_per_busy_worker,
            gpus_per_busy_worker=_first(entry.gpus_per_busy_worker, spec.gpus_per_busy_worker),
            max_queue_size=spec.max_queue_size,
            payload_time_per_kb_s=spec.payload_time_per_kb,
            source=entry.source,
            load_time_s=spec.load_time,
        )

    def supported(self) -> list[str]:
        return [entry.instance for entry in self.spec.service]


def _first(value, default):
    return default if value is None else value


def builtin_profile_dir() -> Path:
    """Where the shipped profiles are: inside an installed wheel, or `models/` of a checkout."""
    packaged = Path(str(resources.files("simfleet"))) / "builtin_models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


def load_profile(path: Path) -> ModelProfile:
    """Read and validate one profile file; raises `InputError` listing every problem."""
    text = read_input_text(path, "model profile")
    raw = parse_toml(text, path)
    try:
        spec = ProfileSpec.model_validate(raw)
    except ValidationError as error:
        raise InputError(problems_from_validation(error, str(path), (), key_lines(text), raw)) from None
    lines = key_lines(text)
    problems = []
    if spec.name != path.stem:
        problems.append(Problem(str(path), "name", f"must equal the file name {path.stem!r}",
                                line_of(lines, ("name",))))
    seen: set[str] = set()
    for index, entry in enumerate(spec.service):
        if entry.instance in seen:
            key = ("service", index, "instance")
            problems.append(Problem(str(path), dotted(key), f"instance {entry.instance!r} appears twice",
                                    line_of(lines, key)))
        seen.add(entry.instance)
    if problems:
        raise InputError(problems)
    return ModelProfile(spec, str(path))


def available_profiles(search_dirs: list[Path]) -> dict[str, Path]:
    """Profile name → file, earlier directories shadowing later ones."""
    found: dict[str, Path] = {}
    for directory in search_dirs:
        if os.path.isdir(directory):  # False, not an error, for a path too long or holding a NUL
            for path in sorted(directory.glob("*.toml")):
                found.setdefault(path.stem, path)
    return found


def fit_problems(entry, instance, model: str) -> list[str]:
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
