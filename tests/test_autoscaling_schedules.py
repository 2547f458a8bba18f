"""Schedule expressions: documented examples, bad expressions, and cron against a naive scan."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from simfleet.autoscaling.schedules import (
    AtSchedule,
    RateSchedule,
    fire_times,
    parse_schedule,
)

UTC = timezone.utc


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_documented_example_every_monday_0630():
    times = fire_times("cron(30 6 ? * MON *)", None, utc(2024, 1, 1), utc(2024, 1, 22))
    assert times == [utc(2024, 1, 1, 6, 30), utc(2024, 1, 8, 6, 30), utc(2024, 1, 15, 6, 30)]


def test_documented_wildcards():
    # 3#2 is the second Tuesday of the month
    assert fire_times("cron(0 12 ? * 3#2 *)", "UTC", utc(2024, 1, 1), utc(2024, 3, 1)) == [
        utc(2024, 1, 9, 12), utc(2024, 2, 13, 12)
    ]
    # 1/10 in Minutes: 1, 11, 21, ...
    got = fire_times("cron(1/10 0 * * ? *)", "UTC", utc(2024, 1, 1), utc(2024, 1, 2))
    assert [t.minute for t in got] == [1, 11, 21, 31, 41, 51]
    # L in Day-of-month, W nearest weekday (15 Jun 2024 is a Saturday -> Friday 14th)
    assert fire_times("cron(0 0 L * ? 2024)", "UTC", utc(2024, 2, 1), utc(2024, 3, 2)) == [
        utc(2024, 2, 29)
    ]
    assert fire_times("cron(0 0 15W * ? *)", "UTC", utc(2024, 6, 1), utc(2024, 7, 1)) == [
        utc(2024, 6, 14)
    ]
    # 1W on a Saturday (1 Jun 2024) does not go back into May: Monday 3rd
    assert fire_times("cron(0 0 1W JUN ? *)", "UTC", utc(2024, 5, 1), utc(2024, 7, 1)) == [
        utc(2024, 6, 3)
    ]
    # names and ranges
    week = fire_times("cron(0 9 ? JAN MON-FRI 2024)", "UTC", utc(2024, 1, 1), utc(2024, 1, 8))
    assert len(week) == 5 and all(t.weekday() < 5 for t in week)


def test_time_zone_and_dst():
    ny = "America/New_York"
    # 08:00 local is 13:00 UTC in winter, 12:00 UTC after the March change
    times = fire_times("cron(0 8 * * ? *)", ny, utc(2024, 3, 9), utc(2024, 3, 12))
    assert times == [utc(2024, 3, 9, 13), utc(2024, 3, 10, 12), utc(2024, 3, 11, 12)]
    # 02:30 does not exist on 10 Mar 2024 in New York: fires at 03:30 EDT (fold=0)
    gap = fire_times("cron(30 2 * * ? *)", ny, utc(2024, 3, 10), utc(2024, 3, 11))
    assert gap == [utc(2024, 3, 10, 7, 30)]
    # 01:30 occurs twice on 3 Nov 2024: fires once, at the first (EDT) occurrence
    twice = fire_times("cron(30 1 * * ? *)", ny, utc(2024, 11, 3), utc(2024, 11, 4))
    assert twice == [utc(2024, 11, 3, 5, 30)]


def test_at_and_rate_with_start_and_end_time():
    at = "at(2024-06-01T09:00:00)"
    assert parse_schedule(at) == AtSchedule(datetime(2024, 6, 1, 9))
    assert fire_times(at, "Europe/Paris", utc(2024, 1, 1), utc(2025, 1, 1)) == [utc(2024, 6, 1, 7)]
    assert fire_times(at, "UTC", utc(2024, 1, 1), utc(2025, 1, 1), end_time=utc(2024, 5, 1)) == []
    assert parse_schedule("rate(1 hour)") == RateSchedule(3600)
    got = fire_times("rate(2 hours)", None, utc(2024, 1, 1), utc(2024, 1, 2),
                     start_time=utc(2024, 1, 1, 3), end_time=utc(2024, 1, 1, 9))
    assert got == [utc(2024, 1, 1, 5), utc(2024, 1, 1, 7), utc(2024, 1, 1, 9)]
    got = fire_times("rate(30 minutes)", None, utc(2024, 1, 1), utc(2024, 1, 1, 2))
    assert got == [utc(2024, 1, 1, 0, 30), utc(2024, 1, 1, 1), utc(2024, 1, 1, 1, 30)]
    cron = fire_times("cron(0 * * * ? *)", None, utc(2024, 1, 1), utc(2024, 1, 2),
                      start_time=utc(2024, 1, 1, 22))
    assert cron == [utc(2024, 1, 1, 22), utc(2024, 1, 1, 23)]


@pytest.mark.parametrize(
    "expression, fragment",
    [
        ("cron(0 8 * * *)", "6 fields"),
        ("cron(0 8 * * * *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(0 8 ? * ? *)", "exactly one of Day-of-month and Day-of-week"),
        ("cron(60 8 * * ? *)", "Minutes value 60"),
        ("cron(0 24 * * ? *)", "Hours value 24"),
        ("cron(0 8 32 * ? *)", "Day-of-month value 32"),
        ("cron(0 8 * FOO ? *)", "Month value 'FOO'"),
        ("cron(0 8 ? * 8 *)", "Day-of-week value 8"),
        ("cron(0 8 ? * 2#1,3#1 *)", "single item"),
        ("cron(0 8 ? * 2#6 *)", "occurrence 1-5"),
        ("cron(0 8 ? * */2 *)", "does not accept '/'"),
        ("cron(0 8 * * ? 1969)", "Year value 1969"),
        ("cron(0 10-8 * * ? *)", "runs backwards"),
        ("cron(0/0 8 * * ? *)", "increment"),
        ("rate(5 weeks)", "rate unit"),
        ("rate(five minutes)", "rate value"),
        ("rate(5)", "value unit"),
        ("at(2024-06-01 09:00:00)", "yyyy-mm-ddThh:mm:ss"),
        ("at(2024-02-30T09:00:00)", "does not exist"),
        ("every(5 minutes)", "expected at("),
    ],
)
def test_bad_expressions_name_the_problem(expression, fragment):
    with pytest.raises(ValueError) as exc:
        parse_schedule(expression)
    message = str(exc.value)
    assert "\n" not in message and repr(expression) in message and fragment in message


def test_bad_time_zone():
    with pytest.raises(ValueError, match="IANA"):
        fire_times("cron(0 8 * * ? *)", "Mars/Olympus", utc(2024, 1, 1), utc(2024, 1, 2))


# --- cron against a naive minute-by-minute scan -------------------------------------------
# The generator builds each field as text together with an independent predicate.

MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@st.composite
def plain_field(draw, lo, hi, names=None, allow_step=True, allow_star=True):
    items, values = [], set()
    kinds = ["star", "one", "range", "step"][0 if allow_star else 1: 4 if allow_step else 3]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        if kind == "star":
            items.append("*")
            values |= set(range(lo, hi + 1))
            continue
        a = draw(st.integers(lo, hi))

        def show(v):
            if names and draw(st.booleans()):
                return names[v - lo]
            return str(v)

        if kind == "one":
            items.append(show(a))
            values.add(a)
        elif kind == "range":
            b = draw(st.integers(a, hi))
            items.append(f"{show(a)}-{show(b)}")
            values |= set(range(a, b + 1))
        else:
            s = draw(st.integers(1, max(1, (hi - lo) // 2)))
            head = "*" if allow_star and draw(st.booleans()) else show(a)
            start = lo if head == "*" else a
            items.append(f"{head}/{s}")
            values |= set(range(start, hi + 1, s))
    return ",".join(items), values


def aws_dow(d: date) -> int:
    return (d.weekday() + 1) % 7 + 1


def last_day(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def nearest_weekday(d: date, n: int) -> int | None:
    if n > last_day(d):
        return None
    days = [x for x in range(1, last_day(d) + 1) if date(d.year, d.month, x).weekday() < 5]
    return min(days, key=lambda x: abs(x - n))


@st.composite
def day_fields(draw):
    if draw(st.booleans()):  # Day-of-month set, Day-of-week '?'
        kind = draw(st.sampled_from(["plain", "L", "LW", "W"]))
        if kind == "plain":
            text, vals = draw(plain_field(1, 31))
            return text, "?", lambda d: d.day in vals
        if kind == "L":
            return "L", "?", lambda d: d.day == last_day(d)
        if kind == "LW":
            return "LW", "?", lambda d: d.day == max(
                x for x in range(1, last_day(d) + 1) if date(d.year, d.month, x).weekday() < 5)
        n = draw(st.integers(1, 31))
        return f"{n}W", "?", lambda d: d.day == nearest_weekday(d, n)
    kind = draw(st.sampled_from(["plain", "plain", "L", "nL", "#"]))
    if kind == "plain":
        text, vals = draw(plain_field(1, 7, DAY_NAMES, allow_step=False))
        return "?", text, lambda d: aws_dow(d) in vals
    if kind == "L":
        return "?", "L", lambda d: aws_dow(d) == 7
    n = draw(st.integers(1, 7))
    if kind == "nL":
        return "?", f"{n}L", lambda d: aws_dow(d) == n and d.day + 7 > last_day(d)
    k = draw(st.integers(1, 5))
    return "?", f"{n}#{k}", lambda d: aws_dow(d) == n and sum(
        1 for x in range(1, d.day + 1) if date(d.year, d.month, x).weekday() == d.weekday()) == k


@st.composite
def cron_cases(draw):
    mi, minutes = draw(plain_field(0, 59))
    hr, hours = draw(plain_field(0, 23))
    dom, dow, day_ok = draw(day_fields())
    mon, months = draw(plain_field(1, 12, MONTH_NAMES))
    if draw(st.booleans()):
        yr, years = "*", set(range(1970, 2200))
    else:
        yr, years = draw(plain_field(2023, 2026, allow_star=False))  # '*' is 1970-2199

    def matches(local: datetime) -> bool:
        d = local.date()
        return (local.minute in minutes and local.hour in hours and d.month in months
                and d.year in years and day_ok(d))

    return f"cron({mi} {hr} {dom} {mon} {dow} {yr})", matches


def naive_scan(matches, tz_name: str, start: datetime, end: datetime) -> list[datetime]:
    tz = ZoneInfo(tz_name)
    local = start.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) - timedelta(days=1)
    stop = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found = set()
    while local <= stop:
        if matches(local):
            t = local.replace(tzinfo=tz).astimezone(UTC)
            if start <= t < end:
                found.add(t)
        local += timedelta(minutes=1)
    return sorted(found)


WINDOW_STARTS = st.one_of(
    st.datetimes(datetime(2024, 3, 7), datetime(2024, 3, 11)),  # US spring forward
    st.datetimes(datetime(2024, 10, 24), datetime(2024, 11, 4)),  # EU and US fall back
    st.datetimes(datetime(2023, 1, 1), datetime(2025, 12, 1)),
).map(lambda t: t.replace(tzinfo=UTC, second=0, microsecond=0))


@settings(max_examples=60)
@given(
    case=cron_cases(),
    tz_name=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]),
    start=WINDOW_STARTS,
    days=st.integers(1, 4),
)
def test_cron_matches_naive_minute_scan(case, tz_name, start, days):
    expression, matches = case
    end = start + timedelta(days=days)
    assert fire_times(expression, tz_name, start, end) == naive_scan(matches, tz_name, start, end)


@settings(max_examples=40)
@given(case=cron_cases(), start=st.datetimes(datetime(2024, 3, 8), datetime(2024, 3, 10)))
def test_cron_across_new_york_spring_forward(case, start):
    expression, matches = case
    start = start.replace(tzinfo=UTC, second=0, microsecond=0)
    end = start + timedelta(days=3)
    got = fire_times(expression, "America/New_York", start, end)
    assert got == naive_scan(matches, "America/New_York", start, end)
    assert len(got) == len(set(got))
