"""Find the line on which each key path of a JSON document is written, and keys written twice.

The JSON twin of `simfleet.schema.toml_lines`: `json` keeps no positions, yet a user handing
simfleet the request they would send to AWS wants "job.json:14" next to every problem. Runs on
text that `json.loads` has already accepted, so it only has to follow the structure.
"""

from __future__ import annotations

from bisect import bisect_right
from json.decoder import scanstring

__all__ = ["json_key_lines"]

_WHITESPACE = " \t\n\r"


def json_key_lines(text: str) -> tuple[dict[tuple, int], list[tuple[tuple, int]]]:
    """(key path → 1-based line, [(key path, line) of every key repeated in its object]).

    Paths hold object keys and array indices, as `schema.validation.dotted` expects.
    """
    newlines = [i for i, c in enumerate(text) if c == "\n"]
    lines: dict[tuple, int] = {}
    repeated: list[tuple[tuple, int]] = []

    def line(pos: int) -> int:
        return bisect_right(newlines, pos - 1) + 1

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        return pos

    def value(pos: int, path: tuple) -> int:
        pos = skip(pos)
        char = text[pos]
        if char == "{":
            seen: set[str] = set()
            pos = skip(pos + 1)
            if text[pos] == "}":
                return pos + 1
            while True:
                key_line = line(pos)
                key, pos = scanstring(text, pos + 1)
                if key in seen:
                    repeated.append((path + (key,), key_line))
                seen.add(key)
                lines[path + (key,)] = key_line  # JSON keeps the last of repeated keys
                pos = skip(skip(pos) + 1)  # past ':'
                pos = skip(value(pos, path + (key,)))
                if text[pos] == "}":
                    return pos + 1
                pos = skip(pos + 1)  # past ','
        if char == "[":
            pos = skip(pos + 1)
            if text[pos] == "]":
                return pos + 1
            index = 0
            while True:
                lines[path + (index,)] = line(pos)
                pos = skip(value(pos, path + (index,)))
                if text[pos] == "]":
                    return pos + 1
                pos = skip(pos + 1)
                index += 1
        if char == '"':
            return scanstring(text, pos + 1)[1]
        while pos < len(text) and text[pos] not in _WHITESPACE + ",]}":
            pos += 1
        return pos

    if text.strip():
        value(0, ())
    return lines, repeated
