"""Reading a user's input file: its text and its JSON, with one-line errors naming the file.

Every loader of a file the user names (experiments, sweeps, recommender jobs, autoscaling
documents) reads it through here, so a missing file, a folder, a file that is not UTF-8 or JSON
that does not parse is reported the same way everywhere: an `InputError` with one `Problem`.
"""

from __future__ import annotations

import json
from pathlib import Path

from simfleet.errors import InputError

__all__ = ["read_input_text", "parse_json"]


def read_input_text(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of `path`; `what` names the file in messages ("experiment file", "sweep file")."""
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError.single(path, f"no such {what}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError.single(path, f"cannot read {what}: {error}") from None


def parse_json(text: str, path: Path | str):
    """The JSON value of `text` read from `path`; a syntax error is one problem with its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError.single(path, f"not valid JSON: {error.msg} (column {error.colno})",
                                line=error.lineno) from None
