"""CloudWatch timestamps in and out: what requests accept, and the ISO 8601 `Z` form responses use.

Requests (`shapes.py`, `requests.py`) take timestamps as the AWS CLI does; responses, CSV and the
DataFrame-to-text paths write them as `2026-01-05T09:00:00Z`. Inside the query package a time is
an int of epoch milliseconds (UTC).
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["parse_timestamp", "iso_timestamp"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_timestamp(value) -> int:
    """Epoch milliseconds (UTC) from an ISO 8601 string, epoch seconds, or a datetime.

    Like the AWS CLI: `2026-01-05T09:00:00Z`, `2026-01-05T09:00:00+01:00`, `2026-01-05` and
    `1767603600` are accepted; a time without an offset is UTC.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a timestamp, got {_show(value)}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a timestamp, got {value!r}")
        return int(math.floor(value * 1000))
    if hasattr(value, "to_pydatetime"):            # pandas.Timestamp
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return _datetime_ms(value)
    if isinstance(value, dt.date):
        return _datetime_ms(dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc))
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return int(math.floor(float(text) * 1000))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 timestamp (e.g. 2026-01-05T09:00:00Z) "
                             "or epoch seconds") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return _datetime_ms(parsed)
    raise ValueError(f"expected a timestamp, got {_show(value)}")


def _datetime_ms(value: dt.datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000




def iso_timestamp(epoch_ms: int) -> str:
    """`2026-01-05T09:00:00Z` (milliseconds shown only when not zero)."""
    moment = _EPOCH + dt.timedelta(milliseconds=int(epoch_ms))
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
