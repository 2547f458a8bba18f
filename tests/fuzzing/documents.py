"""Writing fuzzed documents back to text: TOML (tomllib reads it, nothing in the standard library
writes it), JSON and CSV, exactly as a user's file would hold them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re

__all__ = ["to_toml", "to_json", "to_csv", "toml_value"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes, except that characters outside the BMP stay themselves
    (JSON would write surrogate pairs, which TOML refuses) and lone surrogates become U+FFFD."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _key(key) -> str:
    key = str(key)
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def toml_value(value) -> str:
    """`value` as an inline TOML value (tables inline, arrays on one line)."""
    from .mutations import Deep

    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
        return text.replace("+00:00", "Z") if isinstance(value, dt.datetime) else text
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def to_toml(document: dict) -> str:
    """A TOML document: every top-level key as `key = inline value`, one per line."""
    return "".join(f"{_key(key)} = {toml_value(value)}\n" for key, value in document.items())


_DEEP = re.compile(r'"\\u0000DEEP(\d+)"')


def _plain(value):
    """What JSON can hold: datetimes as ISO strings; NaN and infinities stay (Python's json writes
    them as NaN/Infinity, which a user's file may hold and a reader must refuse or handle)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    from .mutations import Deep

    if isinstance(value, Deep):
        return f"\x00DEEP{value.depth}"
    return value


def to_json(document) -> str:
    text = json.dumps(_plain(document), indent=1, ensure_ascii=False)
    return _DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text) + "\n"


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
