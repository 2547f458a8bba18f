"""Pydantic field types for quantities with units (durations, sizes, rates, finite numbers).

A field declared `Duration` accepts ``"90s"`` and holds 90.0 seconds; `Size` accepts ``"16 GiB"``
and holds bytes; `Rate` accepts ``200`` or ``"12000/min"`` and holds requests per second;
`Bandwidth` accepts ``"100 MB/s"`` or ``"6 GiB/min"`` and holds bytes per second.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from simfleet.units import DURATION_UNITS, parse_duration, parse_size

__all__ = ["Duration", "Size", "Rate", "Bandwidth", "StrictModel", "MAX_NUMBER", "Pair", "Timestamp", "parse_rate", "parse_bandwidth"]


#: The largest magnitude of any number a spec holds (a float; an integer may reach 2**128, for seeds).
#: Far above any quantity simfleet simulates (sizes stop at 1 EiB, about 1.2e18), far below where
#: products and sums of them overflow a float: a price or a median near the float limit is refused.
MAX_NUMBER = 2.0**63
_MAX_INTEGER = 2**128


class StrictModel(BaseModel):
    """Base of every declarative spec: unknown keys, non-finite numbers and numbers beyond
    `MAX_NUMBER` are errors, and values are not coerced (strict): `true` and `"3"` are not
    numbers, `2.5` is not an integer."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    @model_validator(mode="after")
    def _numbers_in_range(self):
        errors = [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(name, *where), input=None)
                  for name, value in self.__dict__.items() for where, message in _out_of_range(value)]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self


def _out_of_range(value, where: tuple = ()):
    """(path within `value`, message) of every number in it beyond `MAX_NUMBER`; nested specs
    check their own."""
    if isinstance(value, bool):
        return
    if isinstance(value, float) and abs(value) > MAX_NUMBER:
        yield where, f"a number of at most {MAX_NUMBER:.3g} in magnitude is expected, got {value:.6g}"
    elif isinstance(value, int) and abs(value) >= _MAX_INTEGER:
        yield where, "an integer below 2**128 in magnitude is expected"
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _out_of_range(item, where + (index,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _out_of_range(item, where + (key,))


#: The highest rate accepted: far above any endpoint (and `[limits] max_requests` caps the requests a
#: run creates); above it, rate × duration stops being an exact count of requests.
MAX_RATE_PER_S = 1e9

_RATE = re.compile(r"^\s*([0-9.eE+-]+)\s*/\s*([A-Za-zµ]+)\s*$")


def parse_rate(value: object) -> float:
    """Requests per second from ``200``, ``"200/s"``, ``"12000/min"`` or ``"1e6/h"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a rate like 200 or '12000/min', got {value!r}")
    if isinstance(value, int) and abs(value) > MAX_RATE_PER_S:  # also an int too large for a float
        raise ValueError(f"expected a rate of at most {MAX_RATE_PER_S:g} requests per second, got {value!r}")
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
    if rate > MAX_RATE_PER_S:
        raise ValueError(f"expected a rate of at most {MAX_RATE_PER_S:g} requests per second, got {value!r}")
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


def _pair(value: object) -> object:
    """A two-element TOML or JSON array as the tuple a strict schema expects; anything else is left
    for the tuple's own validation to refuse."""
    return tuple(value) if isinstance(value, list) else value


def Pair(first, second):
    """A ``[first, second]`` array (a schedule's knot, a quantile), validated strictly member by member."""
    return Annotated[tuple[first, second], BeforeValidator(_pair)]


def parse_timestamp(value: object) -> object:
    """A TOML date-time as it is; a string (JSON has no date-time type) read as ISO 8601. Numbers
    and booleans are left for the strict schema to refuse: a count of seconds is not a date."""
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected an ISO 8601 date-time like 2026-01-05T09:00:00Z, got {value!r}") from None
    return value


#: A date-time from TOML, or an ISO 8601 string.
Timestamp = Annotated[dt.datetime, BeforeValidator(parse_timestamp)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[float, BeforeValidator(parse_size)]
Rate = Annotated[float, BeforeValidator(parse_rate)]
Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth)]
