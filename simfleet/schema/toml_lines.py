"""Find the line on which a key path is written in a TOML file.

`tomllib` keeps no positions, yet a user wants "quickstart.toml:14" next to every problem.
This scanner understands the parts of TOML that decide where a key lives: `[table]`,
`[[array.of.tables]]` (with their running indices), dotted keys and `key = value` lines. Values
that span several lines (arrays, multi-line strings) are skipped over. A problem whose exact key
cannot be located gets the line of its nearest located parent.
"""

from __future__ import annotations

import re

__all__ = ["key_lines", "line_of"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_ASSIGN = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_key(dotted: str) -> list[str]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', dotted)
    return [a or b or c for a, b, c in parts]


def key_lines(text: str) -> dict[tuple, int]:
    """Map each key path (strings and array indices) to its 1-based line number."""
    lines: dict[tuple, int] = {}
    array_counts: dict[tuple, int] = {}
    current: tuple = ()
    depth = 0  # open brackets of a multi-line value
    in_multiline_string: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline_string is not None:
            if raw.count(in_multiline_string) % 2 == 1:
                in_multiline_string = None
            continue
        if depth > 0:
            depth += _bracket_balance(raw)
            continue
        header = _HEADER.match(raw)
        if header and len(header.group(1)) == len(header.group(3)):
            path = tuple(_split_key(header.group(2)))
            parent = _resolve(path[:-1], array_counts)
            if header.group(1) == "[[":
                array_key = parent + (path[-1],)
                index = array_counts.get(array_key, -1) + 1
                array_counts[array_key] = index
                lines.setdefault(array_key, number)
                current = array_key + (index,)
            else:
                current = parent + (path[-1],)
            lines.setdefault(current, number)
            continue
        assign = _ASSIGN.match(raw)
        if assign:
            path = current + tuple(_split_key(assign.group(1)))
            lines.setdefault(path, number)
            rest = raw[assign.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline_string = quote
            depth = max(0, _bracket_balance(rest))
    return lines


def _resolve(path: tuple, array_counts: dict[tuple, int]) -> tuple:
    """Turn a header's parent path into a concrete path, entering the last element of arrays."""
    resolved: tuple = ()
    for part in path:
        resolved = resolved + (part,)
        if resolved in array_counts:
            resolved = resolved + (array_counts[resolved],)
    return resolved


def _bracket_balance(text: str) -> int:
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'[^\']*\'', "", text.split("#", 1)[0])
    return text.count("[") + text.count("{") - text.count("]") - text.count("}")


def line_of(lines: dict[tuple, int], path: tuple) -> int | None:
    """The line of `path`, or of its nearest located parent."""
    for end in range(len(path), 0, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return None
