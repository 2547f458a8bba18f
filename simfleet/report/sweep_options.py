"""The sweep page's two options, parsed: `--slo p99=100ms` (a latency objective) and `--axes a,b`
(the heat map's axes).

Sits at the report's edge, next to the command: each bad value is one `InputError` line naming
the option, what was given and what was expected, before anything is read or drawn. Which axis
names exist is the sweep's to say (`sweep_data`), so `check_axes` takes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simfleet.errors import InputError
from simfleet.units import parse_duration

__all__ = ["Slo", "parse_slo", "parse_axes", "check_axes", "SLO_PERCENTILES"]

#: The percentiles a sweep records per run (runs.parquet's latency_p50_ms, latency_p90_ms, latency_p99_ms).
SLO_PERCENTILES = ("p50", "p90", "p99")
_SLO_EXPECTED = ("expected PERCENTILE=LATENCY, e.g. p99=100ms (percentile p50, p90 or p99 of end-to-end latency; "
                 "latency with a unit: us, ms or s)")


@dataclass(frozen=True)
class Slo:
    """A latency objective: the runs' `percentile` (p50, p90, p99) at most `limit_ms`."""

    percentile: str
    limit_ms: float

    @property
    def column(self) -> str:
        """The runs.parquet column it tests."""
        return f"latency_{self.percentile}_ms"

    @property
    def text(self) -> str:
        return f"{self.percentile} ≤ {self.limit_ms:g} ms"


def parse_slo(text: str) -> Slo:
    """`"p99=100ms"` → Slo("p99", 100.0); `InputError` naming --slo otherwise."""
    match = re.fullmatch(r"\s*([A-Za-z]+\d*)\s*=\s*(.+?)\s*", text or "")
    if match is None or match.group(1).lower() not in SLO_PERCENTILES:
        raise InputError.single("--slo", f"{_SLO_EXPECTED}; got {text!r}")
    try:
        seconds = parse_duration(match.group(2))
    except ValueError:
        raise InputError.single("--slo", f"{_SLO_EXPECTED}; got {text!r}") from None
    if seconds <= 0:
        raise InputError.single("--slo", f"the latency must be above 0; {_SLO_EXPECTED}; got {text!r}")
    return Slo(match.group(1).lower(), seconds * 1e3)


def parse_axes(text: str) -> tuple[str, str]:
    """`"instance_type,instances"` → the two names; `InputError` naming --axes unless two distinct names."""
    names = [part.strip() for part in (text or "").split(",")]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise InputError.single("--axes", f"expected two different axis names separated by a comma, e.g. "
                                          f"instance_type,instance_count; got {text!r}")
    return names[0], names[1]


def check_axes(axes: tuple[str, str], available: list[str], sweep: str) -> None:
    """Both names must be axes of the sweep; one line naming the unknown ones and the sweep's axes."""
    unknown = [name for name in axes if name not in available]
    if unknown:
        raise InputError.single("--axes", f"{', '.join(repr(n) for n in unknown)} "
                                          f"{'is not an axis' if len(unknown) == 1 else 'are not axes'} of the "
                                          f"sweep {sweep}; expected two of: {', '.join(available)}")
