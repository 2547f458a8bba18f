"""Application Auto Scaling schedule expressions: `at(...)`, `rate(...)`, `cron(...)`.

Sits before the engine's clock: a scheduled action (PutScheduledAction) is turned into the UTC
instants at which it fires, and the engine schedules one event per instant that applies
`capacity.apply_scheduled_action`. Nothing here knows about the simulation.

Documented rules implemented [BOTO-AAS] (PutScheduledAction `Schedule`, `Timezone`,
`StartTime`, `EndTime`) and the Application Auto Scaling User Guide, "Schedule recurring
scaling actions using cron expressions" / the cron expressions reference it points to:

* `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` with unit minute(s) / hour(s) / day(s), and
  `cron(Minutes Hours Day-of-month Month Day-of-week Year)`.
* at and cron are read in `Timezone` (an IANA name), UTC when omitted.
* Cron fields: Minutes 0-59, Hours 0-23, Day-of-month 1-31, Month 1-12 or JAN-DEC,
  Day-of-week 1-7 or SUN-SAT (1 = Sunday), Year 1970-2199. Wildcards `,` `-` `*` `/` in every
  field except `/` in Day-of-week; `?` in Day-of-month or Day-of-week, and exactly one of the two
  must be `?`; `L` (last day of the month / of the week, and `nL` the last n-day of the month),
  `W` (`nW` the weekday nearest day n, `LW` the last weekday), `n#k` (the k-th n-day of the
  month; then the only item of Day-of-week).

Decisions where AWS is silent:

* DST: each matching local wall-clock time fires once. A time that does not exist (spring
  forward) fires at the instant Python's zoneinfo gives it with fold=0 (shifted forward by the
  gap, e.g. 02:30 -> 03:30 EDT); a time that occurs twice (fall back) fires at its first
  occurrence. Two wall-clock times landing on one instant fire once.
* `nW` does not cross a month boundary (1W on a Saturday is Monday the 3rd) and does not fire
  in months without day n; ranges must be ascending (no wrap-around such as FRI-MON).
* `rate` counts from StartTime when given, else from the start of the queried window; the
  first firing is one interval after that anchor.
* The query window is [start, end); StartTime and EndTime are inclusive. Naive datetimes are UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AtSchedule",
    "RateSchedule",
    "CronSchedule",
    "parse_schedule",
    "fire_times",
]

UTC = dt_timezone.utc

_MONTHS = {n.upper(): i for i, n in enumerate(calendar.month_abbr) if n}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@dataclass(frozen=True)
class AtSchedule:
    """`at(...)`: one local wall-clock time."""

    when: datetime  # naive, in the action's time zone


@dataclass(frozen=True)
class RateSchedule:
    """`rate(value unit)`: a fixed interval."""

    interval_s: int


@dataclass(frozen=True)
class CronSchedule:
    """`cron(...)`, parsed. Day rules are None when their field is `?`."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    dom_days: frozenset[int] | None = None
    dom_last: bool = False
    dom_last_weekday: bool = False
    dom_nearest_weekday: frozenset[int] = frozenset()
    dow_days: frozenset[int] | None = None
    dow_last_of: frozenset[int] = frozenset()  # nL: last n-day of the month
    dow_nth: tuple[int, int] | None = None  # (n, k): k-th n-day of the month

    def matches_date(self, d: date) -> bool:
        """Whether the local calendar day `d` is one on which the expression fires."""
        if d.year not in self.years or d.month not in self.months:
            return False
        last = calendar.monthrange(d.year, d.month)[1]
        if self.dom_days is not None:
            if d.day in self.dom_days:
                return True
            if self.dom_last and d.day == last:
                return True
            if self.dom_last_weekday and d.day == _last_weekday(d.year, d.month):
                return True
            return any(
                n <= last and d.day == _nearest_weekday(d.year, d.month, n)
                for n in self.dom_nearest_weekday
            )
        aws_dow = d.weekday() + 2 if d.weekday() < 6 else 1
        if self.dow_nth is not None:
            n, k = self.dow_nth
            return aws_dow == n and (d.day - 1) // 7 + 1 == k
        if aws_dow in self.dow_days:
            return True
        return aws_dow in self.dow_last_of and d.day + 7 > last


Schedule = AtSchedule | RateSchedule | CronSchedule


def _last_weekday(year: int, month: int) -> int:
    last = calendar.monthrange(year, month)[1]
    wd = date(year, month, last).weekday()
    return last - max(0, wd - 4)


def _nearest_weekday(year: int, month: int, n: int) -> int:
    last = calendar.monthrange(year, month)[1]
    wd = date(year, month, n).weekday()
    if wd == 5:  # Saturday
        return n - 1 if n > 1 else n + 2
    if wd == 6:  # Sunday
        return n + 1 if n < last else n - 2
    return n


class _Bad(Exception):
    """A problem in one cron field; turned into the one-line ValueError."""


def _value(tok: str, lo: int, hi: int, names: dict[str, int], field: str) -> int:
    key = tok.upper()
    if key in names:
        return names[key]
    if not tok.isdigit():
        raise _Bad(f"{field} value {tok!r} is not a number" + (" or a name" if names else ""))
    v = int(tok)
    if not lo <= v <= hi:
        raise _Bad(f"{field} value {v} is outside {lo}-{hi}")
    return v


def _plain_field(text: str, lo: int, hi: int, field: str, names: dict[str, int] | None = None,
                 allow_step: bool = True) -> set[int]:
    names = names or {}
    out: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _Bad(f"{field} has an empty list item")
        step = 1
        has_step = "/" in item
        if has_step:
            if not allow_step:
                raise _Bad(f"{field} does not accept '/'")
            item, _, step_txt = item.partition("/")
            if not step_txt.isdigit() or int(step_txt) < 1:
                raise _Bad(f"{field} increment {step_txt!r} must be a whole number >= 1")
            step = int(step_txt)
        if item == "*":
            a, b = lo, hi
        elif "-" in item:
            a_txt, _, b_txt = item.partition("-")
            a = _value(a_txt, lo, hi, names, field)
            b = _value(b_txt, lo, hi, names, field)
            if a > b:
                raise _Bad(f"{field} range {item!r} runs backwards")
        else:
            a = _value(item, lo, hi, names, field)
            b = hi if has_step else a
        out.update(range(a, b + 1, step))
    return out


def _dom_field(text: str, sched: dict) -> None:
    days: set[int] = set()
    for item in text.split(","):
        up = item.upper()
        if up == "L":
            sched["dom_last"] = True
        elif up == "LW":
            sched["dom_last_weekday"] = True
        elif up.endswith("W"):
            n = _value(up[:-1], 1, 31, {}, "Day-of-month")
            sched["dom_nearest_weekday"] = sched.get("dom_nearest_weekday", frozenset()) | {n}
        else:
            days |= _plain_field(item, 1, 31, "Day-of-month")
    sched["dom_days"] = frozenset(days)


def _dow_field(text: str, sched: dict) -> None:
    if "#" in text:
        if "," in text:
            raise _Bad("Day-of-week with '#' must be a single item")
        n_txt, _, k_txt = text.partition("#")
        n = _value(n_txt, 1, 7, _DAYS, "Day-of-week")
        if not k_txt.isdigit() or not 1 <= int(k_txt) <= 5:
            raise _Bad(f"Day-of-week '#{k_txt}' must name an occurrence 1-5")
        sched["dow_nth"] = (n, int(k_txt))
        sched["dow_days"] = frozenset()
        return
    days: set[int] = set()
    last_of: set[int] = set()
    for item in text.split(","):
        up = item.upper()
        if up == "L":
            days.add(7)
        elif len(up) > 1 and up.endswith("L"):
            last_of.add(_value(up[:-1], 1, 7, _DAYS, "Day-of-week"))
        else:
            days |= _plain_field(item, 1, 7, "Day-of-week", _DAYS, allow_step=False)
    sched["dow_days"] = frozenset(days)
    sched["dow_last_of"] = frozenset(last_of)


def _parse_cron(body: str) -> CronSchedule:
    fields = body.split()
    if len(fields) != 6:
        raise _Bad(
            f"cron needs 6 fields (Minutes Hours Day-of-month Month Day-of-week Year), got {len(fields)}"
        )
    mi, hr, dom, mon, dow, yr = fields
    if (dom == "?") == (dow == "?"):
        raise _Bad("exactly one of Day-of-month and Day-of-week must be '?'")
    sched: dict = {
        "minutes": frozenset(_plain_field(mi, 0, 59, "Minutes")),
        "hours": frozenset(_plain_field(hr, 0, 23, "Hours")),
        "months": frozenset(_plain_field(mon, 1, 12, "Month", _MONTHS)),
        "years": frozenset(_plain_field(yr, 1970, 2199, "Year")),
    }
    if dom != "?":
        _dom_field(dom, sched)
    else:
        _dow_field(dow, sched)
    return CronSchedule(**sched)


_FORM = re.compile(r"^\s*(at|rate|cron)\((.*)\)\s*$", re.DOTALL)


def parse_schedule(expression: str) -> Schedule:
    """Parse a PutScheduledAction `Schedule`; ValueError (one line) names what is wrong.

    >>> parse_schedule("rate(5 minutes)")
    RateSchedule(interval_s=300)
    """
    if not isinstance(expression, str):
        raise ValueError(f"schedule {expression!r}: must be a string")
    m = _FORM.match(expression)
    if not m:
        raise ValueError(
            f"schedule {expression!r}: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or "
            "cron(Minutes Hours Day-of-month Month Day-of-week Year)"
        )
    kind, body = m.group(1), m.group(2).strip()
    try:
        if kind == "at":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", body):
                raise _Bad("at() needs yyyy-mm-ddThh:mm:ss")
            try:
                return AtSchedule(datetime.strptime(body, "%Y-%m-%dT%H:%M:%S"))
            except ValueError:
                raise _Bad(f"at() date-time {body!r} does not exist") from None
        if kind == "rate":
            parts = body.split()
            if len(parts) != 2:
                raise _Bad("rate() needs 'value unit', e.g. rate(5 minutes)")
            value, unit = parts
            if not value.isdigit() or int(value) < 1:
                raise _Bad(f"rate value {value!r} must be a whole number >= 1")
            if unit.lower() not in _RATE_UNITS:
                raise _Bad(f"rate unit {unit!r} must be minute(s), hour(s) or day(s)")
            return RateSchedule(int(value) * _RATE_UNITS[unit.lower()])
        return _parse_cron(body)
    except _Bad as exc:
        raise ValueError(f"schedule {expression!r}: {exc}") from None


def _utc(t: datetime | None, label: str) -> datetime | None:
    if t is None:
        return None
    if not isinstance(t, datetime):
        raise ValueError(f"schedule: {label} must be a datetime, got {t!r}")
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"schedule Timezone {name!r}: not an IANA time zone name") from None


def fire_times(
    expression: str | Schedule,
    timezone: str | None,
    start: datetime,
    end: datetime,
    *,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
) -> list[datetime]:
    """UTC instants in [start, end) at which the scheduled action fires, in order.

    `timezone` is the action's `Timezone` (None = UTC); `start_time` / `end_time` its
    `StartTime` / `EndTime` (inclusive).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2024, 3, 9, tzinfo=timezone.utc)
    >>> [t.isoformat() for t in fire_times("cron(0 8 * * ? *)", "America/New_York", t0,
    ...                                     t0 + timedelta(days=2))]
    ['2024-03-09T13:00:00+00:00', '2024-03-10T12:00:00+00:00']
    """
    sched = parse_schedule(expression) if isinstance(expression, str) else expression
    tz = _zone(timezone or "UTC")
    lo, hi = _utc(start, "start"), _utc(end, "end")
    st, et = _utc(start_time, "StartTime"), _utc(end_time, "EndTime")

    def inside(t: datetime) -> bool:
        return lo <= t < hi and (st is None or t >= st) and (et is None or t <= et)

    if isinstance(sched, AtSchedule):
        t = sched.when.replace(tzinfo=tz).astimezone(UTC)
        return [t] if inside(t) else []
    if isinstance(sched, RateSchedule):
        anchor = st if st is not None else lo
        step = timedelta(seconds=sched.interval_s)
        k = max(1, -(-int((lo - anchor).total_seconds()) // sched.interval_s))
        out = []
        t = anchor + k * step
        while t < hi and (et is None or t <= et):
            if inside(t):
                out.append(t)
            t += step
        return out
    first = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date() + timedelta(days=1)
    hours = sorted(sched.hours)
    minutes = sorted(sched.minutes)
    found: set[datetime] = set()
    d = first
    while d <= last:
        if sched.matches_date(d):
            for h in hours:
                for mi in minutes:
                    t = datetime(d.year, d.month, d.day, h, mi, tzinfo=tz).astimezone(UTC)
                    if inside(t):
                        found.add(t)
        d += timedelta(days=1)
    return sorted(found)
