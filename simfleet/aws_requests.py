"""An endpoint given as the AWS requests a user already has: `CreateEndpointConfig` (+ `CreateModel`) JSON.

Scenario assembly, before schema validation: `simfleet.scenario.scenario_from_dict` hands the
parsed experiment here, and each `[[endpoints]]` entry with `endpoint_config_file` (and optionally
`model_files`) is replaced by the snake_case entry the TOML would have held, so that the experiment
schema, the name checks and everything downstream are the same as for a hand-written experiment.
`origins` records where each translated key came from, and `relocate` puts every problem found in
a translated key back on the JSON file, key path (`ProductionVariants[0].InstanceType`) and line.

Both shapes users have are read: the boto3 request dict saved as JSON and the AWS CLI's
`--cli-input-json` file (`generate-cli-skeleton`), which have the same PascalCase keys.

CreateModel has no latency data, so each AWS `ModelName` is mapped to a simfleet model profile in
the experiment's top-level `[model_profiles]` table: a profile name for a model of one container
(or an endpoint config without `model_files`), a list of profile names, one per container in
order, for `Containers` of two or more (a pipeline, or `InferenceExecutionConfig.Mode = "Direct"`).

What simfleet does with each member (botocore's SageMaker service model lists them all):

* translated: `ProductionVariants[]` (`VariantName`, `ModelName`, `InstanceType`,
  `InitialInstanceCount`, `InitialVariantWeight`, `ServerlessConfig`, `ManagedInstanceScaling`,
  `RoutingConfig`), `MetricsConfig`; CreateModel's `PrimaryContainer` / `Containers[]`
  (`ContainerHostname`, `Mode`, and `Environment.SAGEMAKER_MODEL_SERVER_WORKERS` as the container's
  `workers`) and `InferenceExecutionConfig`.
* accepted and ignored, as they change nothing simfleet simulates: `EndpointConfigName`, `Tags`,
  `KmsKeyId`, `DataCaptureConfig`, `ExecutionRoleArn`, `VpcConfig`, `EnableNetworkIsolation`,
  `TracingConfig`, `CrossRegionTrafficConfig`; a variant's `VolumeSizeInGB`,
  `ModelDataDownloadTimeoutInSeconds`, `ContainerStartupHealthCheckTimeoutInSeconds`,
  `EnableSSMAccess`, `InferenceAmiVersion`, `CoreDumpConfig`,
  `VariantInstanceProvisionTimeoutInSeconds`; a container's `Image`, `ImageConfig`,
  `ModelDataUrl`, `ModelDataSource`, `AdditionalModelDataSources`, the rest of `Environment`,
  `ModelPackageName`, `InferenceSpecificationName`, `ContainerMetricsConfig`, `MultiModelConfig`.
* refused, as simfleet would simulate something else than the request asks for:
  `AsyncInferenceConfig`, `ShadowProductionVariants`, `ExplainerConfig`; a variant's
  `AcceleratorType`, `InstancePools`, `CapacityReservationConfig`, `AcceleratorPartitionLayouts`;
  `Mode = "MultiModel"` (a multi-model endpoint needs a `model_population`, which only the TOML
  form gives).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from simfleet.errors import InputError, Problem
from simfleet.input_files import parse_json, read_input_text
from simfleet.schema.toml_lines import line_of
from simfleet.schema.validation import dotted, undotted

__all__ = [
    "Expansion",
    "Origin",
    "check_endpoint_config_file",
    "check_model_file",
    "expand_request_files",
    "pascal",
    "relocate",
    "snake",
    "translate_endpoint_config",
]

_CONFIG = "CreateEndpointConfig"
_MODEL = "CreateModel"

_CONFIG_KEYS = {"EndpointConfigName", "ProductionVariants", "MetricsConfig"}
_CONFIG_IGNORED = {"Tags", "KmsKeyId", "DataCaptureConfig", "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation",
                   "TracingConfig", "CrossRegionTrafficConfig"}
_CONFIG_REFUSED = {
    "AsyncInferenceConfig": "simfleet simulates real-time endpoints; asynchronous inference is not simulated",
    "ShadowProductionVariants": "shadow variants are not simulated",
    "ExplainerConfig": "SageMaker Clarify explainers are not simulated",
}
_VARIANT_KEYS = {"VariantName", "ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight",
                 "ServerlessConfig", "ManagedInstanceScaling", "RoutingConfig"}
_VARIANT_IGNORED = {"VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds",
                    "EnableSSMAccess", "InferenceAmiVersion", "CoreDumpConfig", "VariantInstanceProvisionTimeoutInSeconds"}
_VARIANT_REFUSED = {
    "AcceleratorType": "Elastic Inference accelerators are not simulated",
    "InstancePools": "instance pools are not simulated; give one InstanceType",
    "CapacityReservationConfig": "capacity reservations are not simulated",
    "AcceleratorPartitionLayouts": "accelerator partitions are not simulated",
}
_MODEL_KEYS = {"ModelName", "PrimaryContainer", "Containers", "InferenceExecutionConfig"}
_MODEL_IGNORED = {"ExecutionRoleArn", "Tags", "VpcConfig", "EnableNetworkIsolation"}
_CONTAINER_KEYS = {"ContainerHostname", "Mode"}
_CONTAINER_IGNORED = {"Image", "ImageConfig", "ModelDataUrl", "ModelDataSource", "AdditionalModelDataSources",
                      "Environment", "ModelPackageName", "InferenceSpecificationName", "ContainerMetricsConfig",
                      "MultiModelConfig"}

#: The JSON type of each ignored member (botocore's SageMaker service model): its value changes nothing
#: simfleet simulates, but a value of another type is a request AWS refuses, so simfleet refuses it too.
_IGNORED_TYPES = {
    **dict.fromkeys(("KmsKeyId", "ExecutionRoleArn", "InferenceAmiVersion", "Image", "ModelDataUrl",
                     "ModelPackageName", "InferenceSpecificationName"), (str, "a string")),
    **dict.fromkeys(("DataCaptureConfig", "VpcConfig", "CoreDumpConfig", "ImageConfig", "ModelDataSource",
                     "MultiModelConfig"), (dict, "an object")),
    **dict.fromkeys(("EnableNetworkIsolation", "EnableSSMAccess"), (bool, "true or false")),
    **dict.fromkeys(("VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds",
                     "VariantInstanceProvisionTimeoutInSeconds"), (int, "a whole number")),
    "AdditionalModelDataSources": (list, "a list"),
}


def _ignored_type_problem(name: str, value) -> str | None:
    """Why the value of the ignored member `name` is not what AWS accepts there, if it is not."""
    if name == "Tags":
        if not (isinstance(value, list) and all(isinstance(tag, dict) and isinstance(tag.get("Key"), str)
                                                and isinstance(tag.get("Value", ""), str) for tag in value)):
            return 'expected a list of {"Key": string, "Value": string} tags'
        return None
    if name == "Environment":
        if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            return "expected an object of string values (environment variables)"
        return None
    kind, what = _IGNORED_TYPES.get(name, (object, ""))
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return f"expected {what} (simfleet ignores this member, but AWS refuses a value of another type)"
    return None


#: The environment variable of a container that sets its model server's workers (SageMaker inference toolkit).
_WORKERS_VARIABLE = "SAGEMAKER_MODEL_SERVER_WORKERS"

#: Words AWS writes in capitals inside member names (`MemorySizeInMB`, `VolumeSizeInGB`, `EnableSSMAccess`).
_ACRONYMS = {"mb": "MB", "gb": "GB", "ssm": "SSM"}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """`MemorySizeInMB` → `memory_size_in_mb`: AWS's member name as simfleet's key."""
    return _WORD_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True)
class Origin:
    """Where a translated key was written: a file, the key path in it, and that file's key lines."""

    file: str
    path: tuple
    lines: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Expansion:
    """The experiment with AWS requests translated, where each translated key came from, and the
    problems found while translating (all of them, one line each)."""

    raw: dict
    origins: dict[tuple, Origin]
    problems: list[Problem]
    spoiled: set[tuple] = field(default_factory=set)

    def follows_on(self, problem: Problem, source: str) -> bool:
        """A problem in a translated variant whose translation already failed (e.g. no model
        profile: the variant then seems to serve nothing), which would only repeat it."""
        if problem.file != source or not problem.key:
            return False
        path = undotted(problem.key)
        return any(path[:cut] in self.spoiled for cut in range(1, len(path) + 1))


class _Translation:
    """The state of one expansion: origins of translated keys, problems found, the TOML's origin."""

    def __init__(self, origins: dict, problems: list, toml: Origin):
        self.origins = origins
        self.problems = problems
        self.toml = toml
        self.spoiled: set[tuple] = set()

    def at_toml(self, path: tuple) -> Origin:
        return Origin(self.toml.file, path, self.toml.lines)

    def report(self, origin: Origin, message: str) -> None:
        self.problems.append(Problem(origin.file, dotted(origin.path), message, line_of(origin.lines, origin.path)))

    def members(self, data: dict, origin: Origin, shape: str, keys: set, ignored: set, refused: dict) -> bool:
        """Report members simfleet refuses or AWS does not know; True when there are none."""
        ok = True
        for name in data:
            where = Origin(origin.file, origin.path + (name,), origin.lines)
            if name in refused:
                self.report(where, f"not supported by simfleet: {refused[name]} (remove it to simulate the rest)")
            elif name not in keys and name not in ignored:
                self.report(where, f"unknown member of {shape} (members simfleet reads: {', '.join(sorted(keys))})")
            elif name in ignored and (message := _ignored_type_problem(name, data[name])) is not None:
                self.report(where, message)
            else:
                continue
            ok = False
        return ok

    def convert(self, value, target: tuple, origin: Origin):
        """A JSON value with its PascalCase keys in snake_case; records the origin of each key."""
        self.origins[target] = origin
        if isinstance(value, dict):
            return {snake(k): self.convert(v, target + (snake(k),), Origin(origin.file, origin.path + (k,), origin.lines))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.convert(v, target + (i,), Origin(origin.file, origin.path + (i,), origin.lines))
                    for i, v in enumerate(value)]
        return value

    def expected(self, value, kind: type, origin: Origin, what: str) -> bool:
        if isinstance(value, kind):
            return True
        self.report(origin, f"expected {what}, got {type(value).__name__}")
        return False


def _load(path: Path, shown: str, what: str, missing: Origin, tr: _Translation):
    """(document, key lines) of a JSON request file, or None with the problem reported."""
    from simfleet.schema.json_lines import json_key_lines

    if not path.is_file():
        tr.report(missing, f"no such {what} {shown!r}")
        return None
    try:
        text = read_input_text(path, what, encoding="utf-8-sig")
        data = parse_json(text, shown)
    except InputError as error:
        tr.problems += error.problems
        return None
    return data, json_key_lines(text)[0]


def _models(files, base: Path, source_dir: Path, where: tuple, toml: Origin, tr: _Translation) -> dict:
    """ModelName → (CreateModel request, its origin) of each `model_files` entry."""
    models: dict = {}
    for index, name in enumerate(files):
        at = Origin(toml.file, where + ("model_files", index), toml.lines)
        if not tr.expected(name, str, at, "a JSON file name"):
            continue
        loaded = _load(base / name, str(source_dir / name), "CreateModel request file", at, tr)
        if loaded is None:
            continue
        data, lines = loaded
        origin = Origin(str(source_dir / name), (), lines)
        if not tr.expected(data, dict, origin, f"a {_MODEL} request (a JSON object)"):
            continue
        tr.members(data, origin, _MODEL, _MODEL_KEYS, _MODEL_IGNORED, {})
        model_name = data.get("ModelName")
        if not isinstance(model_name, str):
            tr.report(Origin(origin.file, ("ModelName",), lines), "required: the ModelName that ProductionVariants "
                      "name" if model_name is None else f"expected a string, got {type(model_name).__name__}")
            continue
        if model_name in models:
            tr.report(Origin(origin.file, ("ModelName",), lines),
                      f"model {model_name!r} is also created by {models[model_name][1].file}")
            continue
        models[model_name] = (data, origin)
    return models


def translate_endpoint_config(data, origin: Origin, target: tuple, tr: _Translation, models: dict | None,
                              profiles: dict | None, profiles_origin: Origin | None, used: set) -> dict | None:
    """The snake_case endpoint entry (without `endpoint_name`) of a CreateEndpointConfig request.
    With `profiles` None, each variant's ModelName is left out (a standalone check of the file)."""
    if not tr.expected(data, dict, origin, f"a {_CONFIG} request (a JSON object)"):
        return None
    tr.members(data, origin, _CONFIG, _CONFIG_KEYS, _CONFIG_IGNORED, _CONFIG_REFUSED)
    for required in ("EndpointConfigName", "ProductionVariants"):
        if required not in data:
            tr.report(Origin(origin.file, (required,), origin.lines), f"required member of {_CONFIG} missing")
    if "EndpointConfigName" in data:
        tr.expected(data["EndpointConfigName"], str, Origin(origin.file, ("EndpointConfigName",), origin.lines),
                    "a string")
    entry: dict = {}
    variants = data.get("ProductionVariants")
    at = Origin(origin.file, ("ProductionVariants",), origin.lines)
    if "ProductionVariants" in data and tr.expected(variants, list, at, "a list of ProductionVariant objects"):
        entry["production_variants"] = []
        tr.origins[target + ("production_variants",)] = at
        for index, variant in enumerate(variants):
            where = Origin(origin.file, ("ProductionVariants", index), origin.lines)
            into = target + ("production_variants", len(entry["production_variants"]))
            translated = _variant(variant, where, into, tr, models, profiles, profiles_origin, used)
            if translated is not None:
                entry["production_variants"].append(translated)
    if "MetricsConfig" in data:
        entry["metrics_config"] = tr.convert(data["MetricsConfig"], target + ("metrics_config",),
                                             Origin(origin.file, ("MetricsConfig",), origin.lines))
    return entry


def _variant(variant, origin: Origin, target: tuple, tr: _Translation, models, profiles, profiles_origin,
             used: set) -> dict | None:
    if not tr.expected(variant, dict, origin, "a ProductionVariant object"):
        return None
    tr.members(variant, origin, "ProductionVariant", _VARIANT_KEYS, _VARIANT_IGNORED, _VARIANT_REFUSED)
    tr.origins[target] = origin
    out = {}
    for name in ("VariantName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight", "ServerlessConfig",
                 "ManagedInstanceScaling", "RoutingConfig"):
        if name in variant:
            out[snake(name)] = tr.convert(variant[name], target + (snake(name),),
                                          Origin(origin.file, origin.path + (name,), origin.lines))
    model_name = variant.get("ModelName")
    if model_name is None or profiles is None:
        return out  # no ModelName: a variant that hosts inference components
    at = Origin(origin.file, origin.path + ("ModelName",), origin.lines)
    if not tr.expected(model_name, str, at, "a ModelName string"):
        return out
    used.add(model_name)
    tr.spoiled.add(target)  # until the model is translated
    created = (models or {}).get(model_name)
    profile = profiles.get(model_name)
    setting = f"model_profiles.{_toml_key(model_name)}"
    if profile is None:
        if models and created is None:
            tr.report(at, f"no CreateModel in model_files creates {model_name!r}, and no simfleet profile is mapped "
                          f"to it: add its CreateModel file to model_files and set {setting} = \"<profile>\" in "
                          f"{profiles_origin.file}")
        else:
            tr.report(at, f"AWS model {model_name!r} has no simfleet model profile (CreateModel has no latency data): "
                          f"set {setting} = \"<profile>\" (a list of profiles, one per container, for Containers) "
                          f"in {profiles_origin.file}")
        return out
    mapped = Origin(profiles_origin.file, profiles_origin.path + (model_name,), profiles_origin.lines)
    containers = [({}, None)] if created is None else _containers(*created, tr)
    if containers is None:
        return out
    if len(containers) == 1:
        if isinstance(profile, list) and len(profile) == 1:
            profile = profile[0]
        if not isinstance(profile, str):
            tr.report(mapped, f"model {model_name!r} has one container: expected a profile name, got "
                              f"{type(profile).__name__}")
            return out
        container, where = containers[0]
        if "Mode" in container and container["Mode"] not in ("SingleModel", "MultiModel"):
            tr.report(Origin(where.file, where.path + ("Mode",), where.lines),
                      f"expected \"SingleModel\" or \"MultiModel\" (AWS's ContainerMode), got {container['Mode']!r}")
            return out
        if container.get("Mode") == "MultiModel":
            tr.report(Origin(where.file, where.path + ("Mode",), where.lines),
                      "a multi-model endpoint (Mode = \"MultiModel\") needs a model_population, which only the TOML "
                      "form gives: write this variant in [[endpoints.production_variants]] with mode = \"MultiModel\"")
            return out
        out["model_name"] = profile
        tr.origins[target + ("model_name",)] = mapped
        _workers(container, where, out, target, tr)
        tr.spoiled.discard(target)
        return out
    if not isinstance(profile, list) or len(profile) != len(containers):
        tr.report(mapped, f"model {model_name!r} has {len(containers)} Containers: expected a list of "
                          f"{len(containers)} profile names, one per container in order")
        return out
    data, model_origin = created
    if "InferenceExecutionConfig" in data:
        out["inference_execution_config"] = tr.convert(
            data["InferenceExecutionConfig"], target + ("inference_execution_config",),
            Origin(model_origin.file, ("InferenceExecutionConfig",), model_origin.lines))
    out["containers"] = []
    tr.origins[target + ("containers",)] = Origin(model_origin.file, ("Containers",), model_origin.lines)
    for k, ((container, where), name) in enumerate(zip(containers, profile)):
        into = target + ("containers", k)
        tr.origins[into] = where
        item = {"model_name": name}
        tr.origins[into + ("model_name",)] = Origin(mapped.file, mapped.path + (k,), mapped.lines)
        for key in ("ContainerHostname", "Mode"):
            if key in container:
                item[snake(key)] = tr.convert(container[key], into + (snake(key),),
                                              Origin(where.file, where.path + (key,), where.lines))
        _workers(container, where, item, into, tr)
        out["containers"].append(item)
    tr.spoiled.discard(target)
    return out


def _workers(container: dict, where: Origin, out: dict, target: tuple, tr: _Translation) -> None:
    """`Environment.SAGEMAKER_MODEL_SERVER_WORKERS` (the SageMaker inference toolkit's number of model
    server workers) as the container's `workers`, overriding its profile's; a value that is not a
    whole number is left as written, for the schema to refuse on its key."""
    environment = container.get("Environment")
    if not isinstance(environment, dict) or _WORKERS_VARIABLE not in environment:
        return
    value = environment[_WORKERS_VARIABLE]
    out["workers"] = int(value) if isinstance(value, str) and value.strip().isdigit() else value
    tr.origins[target + ("workers",)] = Origin(where.file, where.path + ("Environment", _WORKERS_VARIABLE),
                                               where.lines)


def _containers(data: dict, origin: Origin, tr: _Translation):
    """[(container dict, its origin)] of a CreateModel request, or None with the problem reported."""
    given = [k for k in ("PrimaryContainer", "Containers") if k in data]
    if len(given) != 1:
        tr.report(origin, "give exactly one of PrimaryContainer or Containers" + (", got both" if given else ""))
        return None
    key = given[0]
    at = Origin(origin.file, (key,), origin.lines)
    items = [(data[key], at)] if key == "PrimaryContainer" else None
    if items is None:
        if not tr.expected(data[key], list, at, "a list of ContainerDefinition objects"):
            return None
        items = [(c, Origin(origin.file, (key, i), origin.lines)) for i, c in enumerate(data[key])]
        if not items:
            tr.report(at, "expected 1 to 15 containers, got 0")
            return None
    ok = True
    for container, where in items:
        if tr.expected(container, dict, where, "a ContainerDefinition object"):
            ok &= tr.members(container, where, "ContainerDefinition", _CONTAINER_KEYS, _CONTAINER_IGNORED, {})
        else:
            ok = False
    return items if ok else None


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def expand_request_files(raw: dict, source: str, base_dir: Path, lines: dict) -> Expansion:
    """Replace each `[[endpoints]]` entry's `endpoint_config_file` (and `model_files`) by the keys
    they stand for, and drop `[model_profiles]`. A raw experiment without them is returned as is."""
    endpoints = raw.get("endpoints") if isinstance(raw.get("endpoints"), list) else []
    uses = [e for e in endpoints if isinstance(e, dict) and ("endpoint_config_file" in e or "model_files" in e)]
    if not uses and "model_profiles" not in raw:
        return Expansion(raw, {}, [])
    raw = copy.deepcopy(raw)
    origins: dict = {}
    problems: list[Problem] = []
    toml = Origin(source, (), lines)
    tr = _Translation(origins, problems, toml)
    profiles = raw.pop("model_profiles", {})
    profiles_origin = Origin(source, ("model_profiles",), lines)
    if not isinstance(profiles, dict):
        tr.report(profiles_origin, "expected a table of AWS ModelName = \"simfleet profile\"")
        profiles = {}
    source_dir = Path(source).parent
    used: set = set()
    unread = False  # some endpoint_config_file could not be read: its ModelNames are unknown
    endpoints = raw.get("endpoints")
    for e_index, endpoint in enumerate(endpoints if isinstance(endpoints, list) else []):  # else the schema refuses
        if not isinstance(endpoint, dict) or not ("endpoint_config_file" in endpoint or "model_files" in endpoint):
            continue
        where = ("endpoints", e_index)
        file = endpoint.pop("endpoint_config_file", None)
        files = endpoint.pop("model_files", [])
        if file is None:
            tr.report(Origin(source, where + ("model_files",), lines),
                      "model_files applies with endpoint_config_file (the CreateEndpointConfig that names the models)")
            continue
        at = Origin(source, where + ("endpoint_config_file",), lines)
        if not tr.expected(file, str, at, "a JSON file name"):
            continue
        if not isinstance(files, list):
            tr.report(Origin(source, where + ("model_files",), lines), "expected a list of JSON file names")
            files = []
        models = _models(files, base_dir, source_dir, where, toml, tr)
        loaded = _load(base_dir / file, str(source_dir / file), "CreateEndpointConfig request file", at, tr)
        entry = None
        if loaded is not None:
            data, json_lines = loaded
            origin = Origin(str(source_dir / file), (), json_lines)
            entry = translate_endpoint_config(data, origin, where, tr, models, profiles, profiles_origin, used)
        if entry is None:  # its variants are unknown: what would follow from their absence is not reported
            tr.spoiled.add(where + ("production_variants",))
            unread = True
            continue
        _merge(endpoint, entry, where, origin, tr)
        for model_name, (_, model_origin) in models.items():
            if model_name not in used:
                tr.report(Origin(model_origin.file, ("ModelName",), model_origin.lines),
                          f"no variant of {origin.file} names model {model_name!r}")
    for name in profiles:
        if name not in used and not unread:
            tr.report(Origin(source, ("model_profiles", name), lines),
                      "no ProductionVariants[].ModelName of an endpoint_config_file names this AWS model")
    return Expansion(raw, origins, problems, tr.spoiled)


def _merge(endpoint: dict, entry: dict, where: tuple, origin: Origin, tr: _Translation) -> None:
    """The JSON's variants first, then any the TOML entry adds; a variant or key in both is refused."""
    written = endpoint.get("production_variants", [])
    translated = entry.get("production_variants", [])
    if isinstance(written, list):
        # names of the wrong type (a list…) are left to the schema to refuse
        json_names = {v["variant_name"]: k for k, v in enumerate(translated)
                      if isinstance(v, dict) and isinstance(v.get("variant_name"), str)}
        kept = []
        for k, variant in enumerate(written):
            name = variant.get("variant_name") if isinstance(variant, dict) else None
            name = name if isinstance(name, str) else None
            if name in json_names:
                tr.report(tr.at_toml(where + ("production_variants", k, "variant_name")),
                          f"variant {name!r} is also in {origin.file} (ProductionVariants[{json_names[name]}]): "
                          "give each variant in one place")
                continue
            # the TOML's own variants follow the JSON's: their problems stay on the TOML's lines
            tr.origins[where + ("production_variants", len(translated) + len(kept))] = tr.at_toml(
                where + ("production_variants", k))
            kept.append(variant)
        endpoint["production_variants"] = translated + kept
    if "metrics_config" in entry:
        if "metrics_config" in endpoint:
            tr.report(tr.at_toml(where + ("metrics_config",)),
                      f"metrics_config is also given by {origin.file} (MetricsConfig): give it in one place")
        endpoint["metrics_config"] = entry["metrics_config"]


def pascal(name) -> str:
    """`memory_size_in_mb` → `MemorySizeInMB`: a snake_case key that is not in `origins` (a missing
    member) in a JSON key path."""
    if not isinstance(name, str):
        return name
    return "".join(_ACRONYMS.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


def relocate(problem: Problem, origins: dict[tuple, Origin], source: str) -> Problem:
    """A problem the experiment `source` has in a translated key, put back on the file, key path and
    line the key came from."""
    if not origins or problem.file != source:
        return problem
    path = undotted(problem.key) if problem.key else ()
    for cut in range(len(path), 0, -1):
        origin = origins.get(path[:cut])
        if origin is not None:
            rest = path[cut:]
            if origin.file.endswith(".json"):
                rest = tuple(pascal(p) for p in rest)
            full = origin.path + rest
            line = line_of(origin.lines, full) or line_of(origin.lines, origin.path)
            return Problem(origin.file, dotted(full), problem.message, line)
    return problem


def check_endpoint_config_file(path: Path) -> int:
    """`simfleet validate` of a CreateEndpointConfig request file alone: its members, each variant
    against the experiment schema and instance types against the catalog. Which profile each
    ModelName maps to is the experiment's to say (`[model_profiles]`). Returns the variant count."""
    from pydantic import ValidationError

    from simfleet.catalog import load_catalog
    from simfleet.config.experiment import Endpoint
    from simfleet.schema.json_lines import json_key_lines
    from simfleet.schema.validation import problems_from_validation

    text = read_input_text(path, "CreateEndpointConfig request file", encoding="utf-8-sig")
    data = parse_json(text, path)
    shown = str(path)
    origins: dict = {}
    problems: list[Problem] = []
    tr = _Translation(origins, problems, Origin("<endpoint>", ()))
    entry = translate_endpoint_config(data, Origin(shown, (), json_key_lines(text)[0]), (), tr, None, None, None,
                                      set())
    if entry is not None and "production_variants" in entry:
        raw = {"endpoint_name": "standalone", **entry}
        try:
            Endpoint.model_validate(raw)
        except ValidationError as error:
            problems += [relocate(p, origins, "<endpoint>")
                         for p in problems_from_validation(error, "<endpoint>", (), {}, raw)]
        catalog = load_catalog()
        for k, variant in enumerate(entry["production_variants"]):
            instance_type = variant.get("instance_type")
            if isinstance(instance_type, str) and instance_type not in catalog:
                problems.append(relocate(Problem("<endpoint>", dotted(("production_variants", k, "instance_type")),
                                                 f"unknown instance type {instance_type!r} (see `simfleet catalog`, "
                                                 "or add it under [catalog])"), origins, "<endpoint>"))
    if problems:
        raise InputError(problems)
    return len(entry["production_variants"])


def check_model_file(path: Path) -> int:
    """`simfleet validate` of a CreateModel request file alone: its members and containers.
    Returns the container count."""
    origins: dict = {}
    problems: list[Problem] = []
    tr = _Translation(origins, problems, Origin("<experiment>", ()))
    path = Path(path)
    models = _models([path.name], path.parent, path.parent, (), Origin("<experiment>", ()), tr)
    containers = None
    for data, origin in models.values():
        containers = _containers(data, origin, tr)
    if problems:
        raise InputError(problems)
    return len(containers or ())
