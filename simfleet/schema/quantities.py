"""Pydantic field types for quantities with units (durations, sizes, rates, finite numbers).

A field declared `Duration` accepts ``"90s"`` and holds 90.0 seconds; `Size` accepts ``"16 GiB"``
and holds bytes; `Rate` accepts ``200`` or ``"12000/min"`` and holds requests per second;
`Bandwidth` accepts ``"100 MB/s"`` or ``"6 GiB/min"`` and holds bytes per second.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, BaseModel

from simfleet.units import DURATION_UNITS, parse_duration, parse_size

__all__ = ["Duration", "Size", "Rate", "Bandwidth", "StrictModel", "parse_rate", "parse_bandwidth"]


class StrictModel(BaseModel):
    """Base of every declarative spec: unknown keys and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)


_RATE = re.compile(r"^\s*([0-9.eE+-]+)\s*/\s*([A-Za-zµ]+)\s*$")


def parse_rate(value: object) -> float:
    """Requests per second from ``200``, ``"200/s"``, ``"12000/min"`` or ``"1e6/h"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a rate like 200 or '12000/min', got {value!r}")
    if isinstance(value, (int, float)):
        try:
            rate = float(value)
        except OverflowError:  # an integer past the floats
            raise ValueError(f"expected a finite, non-negative rate, got an integer of {len(str(value))} digits") from None
    elif isinstance(value, str) and (match := _RATE.match(value)) and match.group(2) in DURATION_UNITS:
        try:
            rate = float(match.group(1)) / DURATION_UNITS[match.group(2)]
        except ValueError:
            raise ValueError(f"expected a rate like '12000/min', got {value!r}") from None
    else:
        raise ValueError(f"expected a rate in requests per second like 200, or '12000/min', got {value!r}")
    if not rate >= 0 or rate == float("inf"):
        raise ValueError(f"expected a finite, non-negative rate, got {value!r}")
    return rate


def parse_bandwidth(value: object) -> float:
    """Bytes per second from ``"100 MB/s"``, ``"1 GiB/s"`` or ``"6 GB/min"`` (a size per time unit)."""
    size, slash, unit = value.rpartition("/") if isinstance(value, str) else ("", "", "")
    if not slash or unit.strip() not in DURATION_UNITS:
        raise ValueError(f"expected a bandwidth like '100 MB/s' (a size per s, min or h), got {value!r}")
    bandwidth = parse_size(size.strip()) / DURATION_UNITS[unit.strip()]
    if not bandwidth > 0:
        raise ValueError(f"expected a bandwidth greater than zero, got {value!r}")
    return bandwidth


Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[float, BeforeValidator(parse_size)]
Rate = Annotated[float, BeforeValidator(parse_rate)]
Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth)]
