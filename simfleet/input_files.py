"""Reading a user's input file: its text, its JSON and its TOML, with one-line errors naming the file.

Every loader of a file the user names (experiments, profiles, sweeps, recommender jobs,
autoscaling documents, AWS request files) reads it through here, so a missing file, a folder, a
file that is not UTF-8, JSON or TOML that does not parse, or a document nested deeper than any
simfleet input (`MAX_NESTING`; the parsers recurse) is reported the same way everywhere: an
`InputError` with one `Problem`.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from simfleet.errors import InputError

__all__ = ["read_input_text", "parse_json", "parse_toml", "check_nesting", "MAX_NESTING"]

#: Tables and arrays inside each other, at most. simfleet's deepest input (an autoscaling policy's
#: metric math: Metrics[].MetricStat.Metric.Dimensions[]) nests about 9 levels; deeper is refused
#: before any recursive code (the schema, the line scanners) walks it.
MAX_NESTING = 32


def read_input_text(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of `path`; `what` names the file in messages ("experiment file", "sweep file")."""
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError.single(path, f"no such {what}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError.single(path, f"cannot read {what}: {error}") from None


def _too_deep(path: Path | str) -> InputError:
    return InputError.single(path, f"nested too deep: tables and arrays may hold each other at most "
                                   f"{MAX_NESTING} levels deep")


def check_nesting(document, path: Path | str):
    """`document`, if it nests at most `MAX_NESTING` levels (walked without recursion)."""
    level = [document]
    for _ in range(MAX_NESTING + 1):
        level = [child for node in level if isinstance(node, dict | list)
                 for child in (node.values() if isinstance(node, dict) else node)]
        if not level:
            return document
    raise _too_deep(path)


def parse_json(text: str, path: Path | str):
    """The JSON value of `text` read from `path`; a syntax error is one problem with its line."""
    try:
        return check_nesting(json.loads(text), path)
    except json.JSONDecodeError as error:
        raise InputError.single(path, f"not valid JSON: {error.msg} (column {error.colno})",
                                line=error.lineno) from None
    except RecursionError:
        raise _too_deep(path) from None


def parse_toml(text: str, path: Path | str) -> dict:
    """The TOML document `text` read from `path`; a syntax error is one problem with its line."""
    try:
        return check_nesting(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        raise InputError.single(path, f"not valid TOML: {error}", line=int(found.group(1)) if found else None) from None
    except RecursionError:
        raise _too_deep(path) from None
