"""The metric catalog: every CloudWatch metric SageMaker documents for endpoints, as data.

The list of what SageMaker sends, beside `simfleet.metrics.emission` (what simfleet sends); the
autoscaling documents check the metrics they name against it. It is loaded from `catalog.toml`
shipped in this package, one entry per metric of `reference/sagemaker-semantics.md` §1, and rendered
as the table of `docs/metrics.md` by `simfleet.cloudwatch.catalog_docs`. Tests keep the catalog, the
metrics the engine emits and that table in step.

An entry (`MetricSpec`) is one (namespace, metric name) — CloudWatch's identity of a metric up to
its dimensions [CW-API] — with these fields:

* `namespace`: one of `NAMESPACES`, spelled exactly as AWS does (`AWS/SageMaker` vs
  `/aws/sagemaker/...`), or `simfleet/Endpoints` for simfleet's own instance-count gauges
  (source `[SIMFLEET]`), which no AWS service publishes.
* `name`: the metric name as the reference spells it (`Invocation4XXErrors`; the async
  `InvocationsProcesssed` keeps AWS's triple "s", with a note).
* `unit`: a CloudWatch `StandardUnit` string; `unit_documented = false` when AWS states no unit,
  in which case the unit is ``"None"``.
* `statistics`: the documented valid statistics in CloudWatch spelling (`SampleCount`, `Sum`,
  `Average`, `Minimum`, `Maximum`, and `Percentiles` for any `pNN`);
  `statistics_documented = false` when AWS lists none (host utilization metrics), in which case
  the five basic statistics are listed.
* `dimensions`: the documented dimension sets (each a list of names, without the enhanced
  ones); `enhanced_dimensions`: the sets added when `EnableEnhancedMetrics` is on (§1.8), each a
  documented set plus `InstanceId`, `ContainerId` and/or `AcceleratorId`; empty when none.
* `emission`: the rule that turns the simulated world into raw values (`EMISSIONS`, reference
  §1.10): per-request counters, normalized counters, 0/1 indicators and durations; per-event
  durations and counters; gauges sampled per instance, per IC copy, per endpoint, or the 10-second
  concurrency gauges.
* `period`: `"invocation"` (60 s, or `MetricPublishFrequencyInSeconds` with enhanced metrics on),
  `"utilization"` (always the publish frequency), `"high-resolution"` (10 s), `"standard"` (60 s).
* `capability`: the simfleet feature that produces the metric (`CAPABILITIES`). Only metrics whose
  capability is in `AVAILABLE_CAPABILITIES` are emitted today (`MetricSpec.available`); the
  others are listed so that each later capability switches its metrics on.
* `description` (one line), `sources` (reference tags such as ``"[MCW]"``), `notes` (caveats:
  everything marked NOT DOCUMENTED, SECONDARY or unresolved in the reference, and the choices made).

Metrics published under several dimension sets. The same name is often published with
different dimensions by different kinds of endpoint — `Invocations` at `EndpointName,
VariantName` for real-time and serverless variants, at `InferenceComponentName` for inference
components, at `EndpointName, VariantName, ContainerName` for multi-container endpoints with
direct invocation. Such a metric stays **one entry** (its namespace, name, unit and emission rule
are the same), and each of its dimension sets carries the capabilities that publish it
(`DimensionSet.capabilities`; any one of them suffices). In the TOML a set is written either as a
plain list of names, which inherits the entry's `capability`, or as
``{ names = [...], capabilities = [...] }``. The entry's `capability` is the one that first
switches the metric on; it must publish at least one of the entry's sets. A metric with the same
name in two namespaces (`CPUUtilizationNormalized` per instance in `/aws/sagemaker/Endpoints`
and per copy in `/aws/sagemaker/InferenceComponents`) is two entries. What the catalog cannot
express per dimension set (e.g. the publish period of per-container streams) is in `notes`.

Facts and their tags come from the reference; where AWS is silent the entry's note says what
simfleet assumes (the defaults of DESIGN §4).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from simfleet.cloudwatch.statistics import BASIC_STATISTICS
from simfleet.errors import InputError, Problem
from simfleet.schema.quantities import StrictModel
from simfleet.schema.toml_lines import key_lines
from simfleet.schema.validation import problems_from_validation

__all__ = ["NAMESPACES", "SIMFLEET_NAMESPACE", "OWN_SOURCE", "UNITS", "STATISTICS", "BASIC_STATISTICS", "DIMENSION_NAMES", "ENHANCED_DIMENSION_NAMES",
           "EMISSIONS", "PERIODS", "CAPABILITIES", "AVAILABLE_CAPABILITIES", "DimensionSet", "MetricSpec",
           "parse_catalog", "metric_catalog", "metric_spec"]

CATALOG_FILE = "catalog.toml"

NAMESPACES = ("AWS/SageMaker", "/aws/sagemaker/Endpoints", "/aws/sagemaker/InferenceComponents",
              "/aws/sagemaker/InferenceRecommendationsJobs", "simfleet/Endpoints")
#: simfleet's own metrics (instance counts over time), which SageMaker does not publish; their
#: entries cite `OWN_SOURCE` instead of a reference tag.
SIMFLEET_NAMESPACE = "simfleet/Endpoints"
OWN_SOURCE = "[SIMFLEET]"
#: CloudWatch's `StandardUnit` values [CW-API].
UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
         "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
         "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
         "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
STATISTICS = BASIC_STATISTICS + ("Percentiles",)
DIMENSION_NAMES = ("EndpointName", "VariantName", "ContainerName", "InferenceComponentName", "JobName")
#: Added by `EnableEnhancedMetrics` (§1.8); the per-GPU one may be renamed by a run (`GpuId`).
ENHANCED_DIMENSION_NAMES = ("InstanceId", "ContainerId", "AcceleratorId")
EMISSIONS = ("request-counter", "request-normalized", "request-indicator", "request-duration", "event-duration",
             "event-counter", "instance-gauge", "copy-gauge", "endpoint-gauge", "concurrency-gauge", "fleet-gauge")
PERIODS = ("invocation", "utilization", "high-resolution", "standard")
#: In the order `docs/metrics.md` groups them.
CAPABILITIES = ("real-time", "high-resolution", "inference-components", "multi-model", "pipelines",
                "multi-container", "serverless", "serverless-provisioned-concurrency", "async",
                "inference-recommender", "disk")
AVAILABLE_CAPABILITIES = frozenset({"real-time", "high-resolution", "inference-recommender", "pipelines",
                                    "multi-container", "serverless", "serverless-provisioned-concurrency",
                                    "multi-model", "inference-components"})

Namespace = Literal[NAMESPACES]
Unit = Literal[UNITS]
StatisticName = Literal[STATISTICS]
DimensionName = Literal[DIMENSION_NAMES + ENHANCED_DIMENSION_NAMES]
Emission = Literal[EMISSIONS]
Period = Literal[PERIODS]
Capability = Literal[CAPABILITIES]

#: The metric catalog is simfleet's own data file, not a user's input: its TOML arrays may fill tuples.
_CATALOG_DATA = ConfigDict(**StrictModel.model_config) | ConfigDict(strict=False)


class DimensionSet(StrictModel):
    """One documented combination of dimension names and the capabilities that publish it."""

    model_config = _CATALOG_DATA

    names: tuple[DimensionName, ...] = Field(min_length=1)
    capabilities: tuple[Capability, ...] = ()

    @property
    def available(self) -> bool:
        """Does simfleet publish this set today (one of its capabilities exists)?"""
        return any(capability in AVAILABLE_CAPABILITIES for capability in self.capabilities)

    @property
    def enhanced_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name in ENHANCED_DIMENSION_NAMES)


class MetricSpec(StrictModel):
    """One catalog entry: a metric of one namespace, as SageMaker documents it."""

    model_config = _CATALOG_DATA

    namespace: Namespace
    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", max_length=255)
    unit: Unit
    unit_documented: bool = True
    statistics: tuple[StatisticName, ...] = Field(min_length=1)
    statistics_documented: bool = True
    dimension_sets: tuple[DimensionSet, ...] = Field(alias="dimensions", min_length=1)
    enhanced_dimension_sets: tuple[DimensionSet, ...] = Field(alias="enhanced_dimensions")
    emission: Emission
    period: Period
    capability: Capability
    description: str = Field(min_length=10, max_length=200, pattern=r"^[^\n]*$")
    sources: tuple[str, ...] = Field(min_length=1)
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _plain_sets_inherit_the_capability(cls, raw):
        """A set written as a plain list of names is published by the entry's own capability."""
        if not isinstance(raw, dict):
            return raw
        capability = raw.get("capability")
        inherited = [capability] if capability in CAPABILITIES else []
        raw = dict(raw)
        for key in ("dimensions", "enhanced_dimensions"):
            sets = raw.get(key)
            if isinstance(sets, list):
                raw[key] = [{"names": item, "capabilities": inherited} if isinstance(item, list) else item
                            for item in sets]
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> "MetricSpec":
        problems = []
        if len(set(self.statistics)) != len(self.statistics):
            problems.append("statistics must not repeat")
        if not self.statistics_documented and set(self.statistics) != set(BASIC_STATISTICS):
            problems.append("statistics_documented = false needs the five basic statistics")
        if not self.unit_documented and self.unit != "None":
            problems.append(f'unit_documented = false needs unit = "None", got {self.unit!r}')
        if len(set(self.sources)) != len(self.sources):
            problems.append("sources must not repeat")
        for tag in self.sources:
            if not (tag.startswith("[") and tag.endswith("]") and len(tag) > 2 and " " not in tag):
                problems.append(f"sources must be reference tags like '[MCW]', got {tag!r}")
        if (self.namespace == SIMFLEET_NAMESPACE) != (self.sources == (OWN_SOURCE,)):
            problems.append(f"entries of {SIMFLEET_NAMESPACE} (and only they) cite {OWN_SOURCE} alone")
        if (self.period == "high-resolution") != (self.emission == "concurrency-gauge"):
            problems.append("period 'high-resolution' goes with emission 'concurrency-gauge' and only with it")
        problems += self._dimension_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _dimension_problems(self) -> list[str]:
        problems = []
        seen: set[frozenset] = set()
        for kind, sets in (("dimensions", self.dimension_sets), ("enhanced_dimensions", self.enhanced_dimension_sets)):
            for item in sets:
                label = f"{kind} set {list(item.names)}"
                if not item.capabilities:
                    problems.append(f"{label} needs at least one capability")
                if len(set(item.names)) != len(item.names):
                    problems.append(f"{label} repeats a name")
                if frozenset(item.names) in seen:
                    problems.append(f"{label} is listed twice")
                seen.add(frozenset(item.names))
                if kind == "dimensions" and item.enhanced_names:
                    problems.append(f"{label} holds enhanced dimensions {list(item.enhanced_names)}; "
                                    "put the set in enhanced_dimensions")
                if kind == "enhanced_dimensions":
                    problems += _enhanced_set_problems(item, self.dimension_sets, label)
        if not any(self.capability in item.capabilities for item in self.dimension_sets):
            problems.append(f"capability {self.capability!r} publishes none of the dimension sets")
        return problems

    # -- views --------------------------------------------------------------------------------------
    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def available(self) -> bool:
        """Is the metric emitted today (its capability exists in simfleet)?"""
        return self.capability in AVAILABLE_CAPABILITIES

    @property
    def dimensions(self) -> tuple[tuple[str, ...], ...]:
        """The documented dimension sets, as tuples of names."""
        return tuple(item.names for item in self.dimension_sets)

    @property
    def enhanced_dimensions(self) -> tuple[tuple[str, ...], ...]:
        """The dimension sets added by enhanced metrics, as tuples of names."""
        return tuple(item.names for item in self.enhanced_dimension_sets)


def _enhanced_set_problems(item: DimensionSet, base_sets, label: str) -> list[str]:
    """An enhanced set = a documented set + enhanced names, published by capabilities of that set."""
    if not item.enhanced_names:
        return [f"{label} adds no enhanced dimension ({', '.join(ENHANCED_DIMENSION_NAMES)})"]
    plain = frozenset(item.names) - frozenset(item.enhanced_names)
    bases = [base for base in base_sets if frozenset(base.names) == plain]
    if not bases:
        return [f"{label} does not extend one of the documented dimension sets"]
    if not set(item.capabilities) <= set(bases[0].capabilities):
        return [f"{label} has capabilities {list(item.capabilities)} not all publishing the set it extends "
                f"{list(bases[0].names)} ({list(bases[0].capabilities)})"]
    return []


# -- loading ------------------------------------------------------------------------------------------

def parse_catalog(text: str, source: str = CATALOG_FILE) -> tuple[MetricSpec, ...]:
    """Validate catalog TOML `text`; every problem is reported at once in an `InputError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError.single(source, f"not valid TOML: {error}") from None
    lines = key_lines(text)
    unknown = sorted(set(data) - {"metric"})
    problems = [Problem(source, key, "unknown key (the catalog holds only [[metric]] entries)", lines.get((key,)))
                for key in unknown]
    entries = data.get("metric")
    if not isinstance(entries, list) or not entries:
        raise InputError(problems + [Problem(source, "metric", "expected one or more [[metric]] entries")])
    specs: list[MetricSpec] = []
    first_seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        try:
            spec = MetricSpec.model_validate(entry)
        except ValidationError as error:
            problems += problems_from_validation(error, source, ("metric", index), lines, raw=entry)
            continue
        if spec.key in first_seen:
            problems.append(Problem(source, f"metric[{index}]",
                                    f"{spec.namespace} {spec.name} is already entry metric[{first_seen[spec.key]}]",
                                    lines.get(("metric", index))))
            continue
        first_seen[spec.key] = index
        specs.append(spec)
    if problems:
        raise InputError(problems)
    return tuple(specs)


@cache
def metric_catalog() -> tuple[MetricSpec, ...]:
    """Every metric of the shipped catalog, in file order (loaded and validated once)."""
    text = (resources.files(__package__) / CATALOG_FILE).read_text(encoding="utf-8")
    return parse_catalog(text, f"simfleet/cloudwatch/{CATALOG_FILE}")


@cache
def _by_key() -> dict[tuple[str, str], MetricSpec]:
    return {spec.key: spec for spec in metric_catalog()}


def metric_spec(namespace: str, name: str) -> MetricSpec:
    """The entry for `name` in `namespace`; KeyError naming both when there is none."""
    try:
        return _by_key()[(namespace, name)]
    except KeyError:
        raise KeyError(f"no metric {name!r} in namespace {namespace!r} in the metric catalog") from None
