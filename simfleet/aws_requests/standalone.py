"""`simfleet validate` of a request file alone, outside any experiment: a `CreateEndpointConfig`
(its members, each variant against the experiment schema, instance types against the catalog) or a
`CreateModel` (its members and containers).
"""

from __future__ import annotations

from pathlib import Path

from simfleet.aws_requests.origins import Origin, Translation, relocate
from simfleet.aws_requests.reading import model_containers, read_models
from simfleet.aws_requests.translation import translate_endpoint_config
from simfleet.errors import InputError, Problem
from simfleet.input_files import parse_json, read_input_text
from simfleet.schema.validation import dotted

__all__ = ["check_endpoint_config_file", "check_model_file"]


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
    tr = Translation(origins, problems, Origin("<endpoint>", ()))
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
    tr = Translation(origins, problems, Origin("<experiment>", ()))
    path = Path(path)
    models = read_models([path.name], path.parent, path.parent, (), Origin("<experiment>", ()), tr)
    containers = None
    for data, origin in models.values():
        containers = model_containers(data, origin, tr)
    if problems:
        raise InputError(problems)
    return len(containers or ())
