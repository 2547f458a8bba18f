"""Reading request files: a JSON request with its key lines, the `CreateModel` files of an
endpoint by their ModelName, and a model's containers, each checked against its shape (members
simfleet refuses or AWS does not know, values of the wrong type), every problem reported once.
"""

from __future__ import annotations

from pathlib import Path

from simfleet.aws_requests.origins import Origin, Translation
from simfleet.aws_requests.shapes import CONTAINER_IGNORED, CONTAINER_KEYS, MODEL, MODEL_IGNORED, MODEL_KEYS
from simfleet.errors import InputError
from simfleet.input_files import file_problem, parse_json, read_input_text

__all__ = ["load_request", "model_containers", "read_models"]


def load_request(path: Path, shown: str, what: str, missing: Origin, tr: Translation):
    """(document, key lines) of a JSON request file, or None with the problem reported."""
    from simfleet.schema.json_lines import json_key_lines

    problem = file_problem(path, what)
    if problem is not None:  # no such file, a folder, a name too long for the system, ...
        tr.report(missing, f"no such {what} {shown!r}" if problem == f"no such {what}" else f"{shown!r}: {problem}")
        return None
    try:
        text = read_input_text(path, what, encoding="utf-8-sig")
        data = parse_json(text, shown)
    except InputError as error:
        tr.problems += error.problems
        return None
    return data, json_key_lines(text)[0]


def read_models(files, base: Path, source_dir: Path, where: tuple, toml: Origin, tr: Translation) -> dict:
    """ModelName → (CreateModel request, its origin) of each `model_files` entry."""
    models: dict = {}
    for index, name in enumerate(files):
        at = Origin(toml.file, where + ("model_files", index), toml.lines)
        if not tr.expected(name, str, at, "a JSON file name"):
            continue
        loaded = load_request(base / name, str(source_dir / name), "CreateModel request file", at, tr)
        if loaded is None:
            continue
        data, lines = loaded
        origin = Origin(str(source_dir / name), (), lines)
        if not tr.expected(data, dict, origin, f"a {MODEL} request (a JSON object)"):
            continue
        tr.members(data, origin, MODEL, MODEL_KEYS, MODEL_IGNORED, {})
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


def model_containers(data: dict, origin: Origin, tr: Translation):
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
            ok &= tr.members(container, where, "ContainerDefinition", CONTAINER_KEYS, CONTAINER_IGNORED, {})
        else:
            ok = False
    return items if ok else None
