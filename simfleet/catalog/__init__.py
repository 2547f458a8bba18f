"""The instance catalog: `ml.*` instance types with their hardware and on-demand price.

Loaded from `instances.toml` shipped beside this module (every price names its source), then
merged with an experiment's `[catalog."ml.x.y"]` overrides. Feeds `fleet` (vCPUs, memory and
accelerators bound utilization and what fits) and the cost figures of the summary.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from typing import Mapping

from pydantic import Field, ValidationError

from simfleet.errors import InputError
from simfleet.schema.quantities import Size, StrictModel
from simfleet.schema.validation import problems_from_validation

__all__ = ["InstanceType", "InstanceSpec", "InstanceOverride", "Catalog", "load_catalog", "family_of", "MAX_PRICE_PER_HOUR"]

INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$"


def family_of(instance_type: str) -> str:
    """``"ml.g5.12xlarge"`` → ``"g5"``."""
    return instance_type.split(".")[1]


#: The highest hourly price accepted (the dearest SageMaker instance costs under $100 an hour): a
#: price near the float limit would make every cost infinite.
MAX_PRICE_PER_HOUR = 1e6


class InstanceSpec(StrictModel):
    type: str = Field(pattern=INSTANCE_TYPE_PATTERN)
    vcpus: int = Field(ge=1, le=1024)
    memory: Size
    accelerators: int = Field(ge=0, le=64)
    accelerator_model: str = ""
    accelerator_memory: Size
    price_per_hour: float | None = Field(default=None, ge=0, le=MAX_PRICE_PER_HOUR)
    price_source: str | None = None


class InstanceOverride(StrictModel):
    """What an experiment may change or add: every field optional for a known type."""

    vcpus: int | None = Field(default=None, ge=1, le=1024)
    memory: Size | None = None
    accelerators: int | None = Field(default=None, ge=0, le=64)
    accelerator_model: str | None = None
    accelerator_memory: Size | None = None
    price_per_hour: float | None = Field(default=None, ge=0, le=MAX_PRICE_PER_HOUR)
    price_source: str | None = None


@dataclass(frozen=True)
class InstanceType:
    """One instance type, in engine units (bytes)."""

    name: str
    vcpus: int
    memory_bytes: float
    accelerators: int
    accelerator_model: str
    accelerator_memory_bytes: float
    price_per_hour: float | None
    price_source: str | None

    @property
    def family(self) -> str:
        return family_of(self.name)


class Catalog(Mapping[str, InstanceType]):
    """Instance types by name, after overrides."""

    def __init__(self, types: dict[str, InstanceType], meta: dict):
        self._types = dict(types)
        self.meta = dict(meta)

    def __getitem__(self, name: str) -> InstanceType:
        return self._types[name]

    def __iter__(self):
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def with_overrides(self, overrides: Mapping[str, InstanceOverride], source: str,
                       lines: dict | None = None) -> "Catalog":
        """A new catalog where each override patches a known type or adds a complete new one."""
        types = dict(self._types)
        problems = []
        for name, override in overrides.items():
            fields = override.model_dump(exclude_none=True)
            if name in types:
                renamed = {_RUNTIME_NAMES.get(k, k): v for k, v in fields.items()}
                if "price_per_hour" in fields and "price_source" not in fields:
                    renamed["price_source"] = f"override in {source}"
                types[name] = replace(types[name], **renamed)
                continue
            try:
                spec = InstanceSpec(type=name, **fields)
            except ValidationError as error:
                problems.extend(problems_from_validation(error, source, ("catalog", name), lines,
                                                         hint="a new instance type needs every field"))
                continue
            types[name] = _from_spec(spec)
        if problems:
            raise InputError(problems)
        return Catalog(types, self.meta)


_RUNTIME_NAMES = {"memory": "memory_bytes", "accelerator_memory": "accelerator_memory_bytes"}


def _from_spec(spec: InstanceSpec) -> InstanceType:
    return InstanceType(
        name=spec.type,
        vcpus=spec.vcpus,
        memory_bytes=spec.memory,
        accelerators=spec.accelerators,
        accelerator_model=spec.accelerator_model,
        accelerator_memory_bytes=spec.accelerator_memory,
        price_per_hour=spec.price_per_hour,
        price_source=spec.price_source,
    )


def load_catalog() -> Catalog:
    """The catalog shipped with simfleet (a new `Catalog` each call, of shared immutable types)."""
    types, meta = _shipped()
    return Catalog(types, copy.deepcopy(meta))


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[dict[str, InstanceType], dict]:
    """`instances.toml`, parsed and validated once per process (every experiment loads it)."""
    path = resources.files(__package__) / "instances.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    types = {}
    for entry in data["instance"]:
        spec = InstanceSpec(**entry)
        types[spec.type] = _from_spec(spec)
    return types, data.get("meta", {})
