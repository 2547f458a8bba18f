"""Turn pydantic validation errors into one-line `Problem`s with key paths and line numbers."""

from __future__ import annotations

from pydantic import ValidationError

from simfleet.errors import Problem
from simfleet.schema.toml_lines import line_of

__all__ = ["problems_from_validation", "dotted", "undotted"]


def dotted(path: tuple) -> str:
    """``("endpoints", 0, "production_variants", 1, "model_name")`` →
    ``"endpoints[0].production_variants[1].model_name"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def undotted(key: str) -> tuple:
    """The inverse of `dotted`: ``"a[0].b"`` → ``("a", 0, "b")``."""
    path: list = []
    for part in key.split("."):
        name, *indices = part.split("[")
        if name:
            path.append(name)
        path += [int(index.rstrip("]")) for index in indices if index.rstrip("]").isdigit()]
    return tuple(path)


def _data_path(raw, loc: tuple, missing: bool) -> tuple:
    """Keep only the parts of a pydantic location that the user wrote.

    Pydantic inserts union tags and validator names (``'lognormal'``, ``'function-after[...]'``)
    into locations; a user knows only their own keys. For a `missing` error the last part is
    kept although it is not in the data: it names the missing key.
    """
    path: list = []
    node = raw
    for position, part in enumerate(loc):
        if isinstance(node, dict) and part in node and not _is_tag(node, part, position < len(loc) - 1):
            node = node[part]
        elif isinstance(node, (list, tuple)) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif missing and position == len(loc) - 1:
            node = None
        else:
            continue
        path.append(part)
    return tuple(path)


def _is_tag(node: dict, part, more: bool) -> bool:
    """Is `part` the union tag pydantic inserted (the value of the node's discriminator, e.g. the
    `kind = "users"` of a traffic source) rather than the user's key of the same name? It is when
    the path goes on below it and the key holds a plain value, which has nothing below it."""
    return (more and isinstance(part, str) and any(part == value for value in node.values() if isinstance(value, str))
            and not isinstance(node[part], (dict, list, tuple)))


def _message(error: dict) -> str:
    kind = error["type"]
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind == "extra_forbidden":
        return "unknown key (check its spelling and the documented keys)"
    if kind == "missing":  # pydantic's own "Field required", or a validator's "required key is missing (why)"
        return message if message.startswith("required key is missing") else "required key is missing"
    got = error.get("input")
    if kind not in {"union_tag_invalid", "value_error"} and not isinstance(got, (dict, list)):
        message += f", got {got!r}"
    return message


def problems_from_validation(error: ValidationError, file: str, prefix: tuple, lines: dict | None,
                             raw=None, hint: str = "") -> list[Problem]:
    """One `Problem` per pydantic error, located in `file` under the key path `prefix`."""
    problems = []
    for item in error.errors():
        located = _data_path(raw, item["loc"], item["type"] == "missing") if raw is not None else tuple(item["loc"])
        path = prefix + located
        message = _message(item) + (f" ({hint})" if hint else "")
        line = line_of(lines, path) if lines else None
        problems.append(Problem(file, dotted(path), message, line))
    return problems
