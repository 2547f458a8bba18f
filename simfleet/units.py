"""Quantities with units, as users write them in experiment and profile files.

Sits at the very edge of the data flow: `config` and `profiles` call these parsers so that
everything past them holds plain floats in the engine's units (seconds and bytes).

Durations: ``"250us"``, ``"7ms"``, ``"90s"``, ``"5 min"``, ``"1h"``, ``"2d"``.
Sizes: ``"512 B"``, ``"6 KB"`` (10^3), ``"6 MB"`` (10^6), ``"6 MiB"`` (2^20), ``"16 GiB"`` (2^30).
A bare number is refused: a quantity without its unit is the commonest source of silent
factor-of-1000 mistakes.
"""

from __future__ import annotations

import math
import re

__all__ = ["parse_duration", "parse_size", "DURATION_UNITS", "SIZE_UNITS", "MAX_DURATION_S", "MAX_SIZE_BYTES"]

#: The longest duration and the largest size any input may give: far beyond any run (at most 31
#: days) or any instance's memory, and far below where sums and products of them overflow a float
#: or a `datetime`. Larger values are almost always a unit or exponent mistake.
MAX_DURATION_S = 1e10          # about 317 years
MAX_SIZE_BYTES = float(2**60)  # 1 EiB

DURATION_UNITS: dict[str, float] = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}

SIZE_UNITS: dict[str, int] = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]+)\s*$")


def _split(text: object, kind: str, units: dict, example: str) -> tuple[float, str]:
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(f"expected a {kind} with a unit as a string, like {example!r}, got {text!r}")
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in units:
        allowed = ", ".join(units)
        raise ValueError(f"expected a {kind} like {example!r} (units: {allowed}), got {text!r}")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise ValueError(f"expected a finite {kind}, got {text!r}")
    if value < 0:
        raise ValueError(f"expected a non-negative {kind}, got {text!r}")
    return value, match.group(2)


def parse_duration(text: object) -> float:
    """Return the duration in seconds, e.g. ``parse_duration("5 min") == 300.0``."""
    value, unit = _split(text, "duration", DURATION_UNITS, "90s")
    seconds = value * DURATION_UNITS[unit]
    if seconds > MAX_DURATION_S:
        raise ValueError(f"expected a duration of at most {MAX_DURATION_S:g} s (about 317 years), got {text!r}")
    return seconds


def parse_size(text: object) -> float:
    """Return the size in bytes, e.g. ``parse_size("16 GiB") == 17179869184.0``."""
    value, unit = _split(text, "size", SIZE_UNITS, "6 MiB")
    size = value * SIZE_UNITS[unit]
    if size > MAX_SIZE_BYTES:
        raise ValueError(f"expected a size of at most 1 EiB, got {text!r}")
    return size

