"""A `CreateEndpointConfig` request (with its `CreateModel` requests) as the snake_case endpoint
entry the experiment's TOML would hold: its variants, each AWS `ModelName` mapped to simfleet model
profiles by `[model_profiles]`, a model's containers and `InferenceExecutionConfig`, and
`Environment.SAGEMAKER_MODEL_SERVER_WORKERS` as a container's `workers`.
"""

from __future__ import annotations

import re

from simfleet.aws_requests.origins import Origin, Translation
from simfleet.aws_requests.reading import model_containers
from simfleet.aws_requests.shapes import (CONFIG, CONFIG_IGNORED, CONFIG_KEYS, CONFIG_REFUSED, VARIANT_IGNORED,
                                          VARIANT_KEYS, VARIANT_REFUSED, WORKERS_VARIABLE, snake)

__all__ = ["translate_endpoint_config"]


def translate_endpoint_config(data, origin: Origin, target: tuple, tr: Translation, models: dict | None,
                              profiles: dict | None, profiles_origin: Origin | None, used: set) -> dict | None:
    """The snake_case endpoint entry (without `endpoint_name`) of a CreateEndpointConfig request.
    With `profiles` None, each variant's ModelName is left out (a standalone check of the file)."""
    if not tr.expected(data, dict, origin, f"a {CONFIG} request (a JSON object)"):
        return None
    tr.members(data, origin, CONFIG, CONFIG_KEYS, CONFIG_IGNORED, CONFIG_REFUSED)
    for required in ("EndpointConfigName", "ProductionVariants"):
        if required not in data:
            tr.report(Origin(origin.file, (required,), origin.lines), f"required member of {CONFIG} missing")
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


def _variant(variant, origin: Origin, target: tuple, tr: Translation, models, profiles, profiles_origin,
             used: set) -> dict | None:
    if not tr.expected(variant, dict, origin, "a ProductionVariant object"):
        return None
    tr.members(variant, origin, "ProductionVariant", VARIANT_KEYS, VARIANT_IGNORED, VARIANT_REFUSED)
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
    containers = [({}, None)] if created is None else model_containers(*created, tr)
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


def _workers(container: dict, where: Origin, out: dict, target: tuple, tr: Translation) -> None:
    """`Environment.SAGEMAKER_MODEL_SERVER_WORKERS` (the SageMaker inference toolkit's number of model
    server workers) as the container's `workers`, overriding its profile's; a value that is not a
    whole number is left as written, for the schema to refuse on its key."""
    environment = container.get("Environment")
    if not isinstance(environment, dict) or WORKERS_VARIABLE not in environment:
        return
    value = environment[WORKERS_VARIABLE]
    out["workers"] = int(value) if isinstance(value, str) and value.strip().isdigit() else value
    tr.origins[target + ("workers",)] = Origin(where.file, where.path + ("Environment", WORKERS_VARIABLE),
                                               where.lines)


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
