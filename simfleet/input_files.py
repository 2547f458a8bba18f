"""Reading a user's input file: its text, its JSON or TOML, with one-line errors naming the file.

Every loader of a file the user names (experiments, sweeps, recommender jobs, autoscaling
documents, profiles, replay traces) reads it through here, so a missing file, a folder, a special
file (a device such as /dev/zero, a FIFO, a socket), a loop of symbolic links, a path too long for
the system, a file too large, a file that is not UTF-8, and JSON or TOML that does not parse or is
nested more deeply than any simfleet input (`MAX_NESTING`) are reported the same way everywhere:
an `InputError` with one `Problem`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tomllib
from pathlib import Path

from simfleet.errors import InputError

__all__ = ["name_problem", "read_input_text", "parse_json", "parse_toml", "file_problem", "MAX_INPUT_BYTES", "MAX_NESTING"]

#: Largest experiment, sweep, job, profile or request document read (a trace has its own limit,
#: `[limits] max_trace_size`): the largest shipped one is a few KB.
MAX_INPUT_BYTES = 16 * 2**20
#: Deepest nesting of tables and arrays accepted: simfleet's deepest documents (autoscaling
#: requests inside an experiment) nest about 10 levels.
MAX_NESTING = 64


def name_problem(path: Path | str) -> str | None:
    """Why the system cannot name `path` (a name in it, or the whole, too long), or None. pathlib's
    `exists`, `is_dir` and `is_file` raise on such a path where `os.path`'s answer False."""
    text = os.fspath(path)
    try:
        probe = os.path.dirname(os.path.abspath(text)) or os.sep
        while not os.path.isdir(probe) and probe != os.path.dirname(probe):
            probe = os.path.dirname(probe)
        name_max, path_max = os.pathconf(probe, "PC_NAME_MAX"), os.pathconf(probe, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf here: Linux's limits
        name_max, path_max = 255, 4096
    if len(os.fsencode(os.path.abspath(text))) >= path_max:
        return f"the path is too long for this system (more than {path_max - 1:,} bytes)"
    longest = max((part for part in Path(text).parts), key=lambda part: len(os.fsencode(part)), default="")
    if len(os.fsencode(longest)) > name_max:
        return f"a name in the path is too long for this system (more than {name_max:,} bytes: {longest[:24]}…)"
    return None


def file_problem(path: Path | str, what: str) -> str | None:
    """Why `path` cannot be read as a `what` ("experiment file"), or None when it is a regular file.
    Symbolic links are followed; special files are refused, as reading one may never end."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"no such {what}"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return f"cannot read {what}: a loop of symbolic links"
        if error.errno == errno.ENAMETOOLONG:
            return f"cannot read {what}: the path is too long for this system"
        return f"cannot read {what}: {error.strerror or error}"
    except ValueError as error:  # an embedded NUL character
        return f"cannot read {what}: {error}"
    if stat.S_ISDIR(info.st_mode):
        return f"cannot read {what}: it is a folder"
    if not stat.S_ISREG(info.st_mode):
        return f"is not a regular file (a device, pipe or socket), so it cannot be a {what}"
    return None


def read_input_text(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of `path`; `what` names the file in messages ("experiment file", "sweep file")."""
    problem = file_problem(path, what)
    if problem is not None:
        raise InputError.single(path, problem)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        raise InputError.single(path, f"cannot read {what}: {error.strerror or error}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError.single(path, f"a {what} of more than {MAX_INPUT_BYTES // 2**20} MiB: no simfleet input is "
                                      "this large (is it the right file?)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError.single(path, f"cannot read {what}: not {encoding.upper()} text ({error.reason} at "
                                      f"byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as a text-mode read translates newlines


def parse_json(text: str, path: Path | str):
    """The JSON value of `text` read from `path`; a syntax error is one problem with its line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError.single(path, f"not valid JSON: {error.msg} (column {error.colno})",
                                line=error.lineno) from None
    except RecursionError:
        raise InputError.single(path, _too_deep()) from None
    return _shallow(value, path)


def parse_toml(text: str, path: Path | str) -> dict:
    """The TOML document of `text` read from `path`; a syntax error is one problem with its line."""
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"at line (\d+)", str(error))
        raise InputError.single(path, f"not valid TOML: {error}", line=int(found.group(1)) if found else None) from None
    except RecursionError:
        raise InputError.single(path, _too_deep()) from None
    return _shallow(value, path)


def _too_deep() -> str:
    return f"tables and arrays nested more than {MAX_NESTING} levels deep: no simfleet input nests so deeply"


def _shallow(value, path: Path | str):
    """`value` if no table or array in it is nested more than `MAX_NESTING` deep (checked without
    recursion, so that later stages, which recurse, never meet a structure too deep for them)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise InputError.single(path, _too_deep())
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return value
