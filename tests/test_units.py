"""Quantities with units: every accepted spelling, and refusal of the dangerous ones."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from simfleet.schema.quantities import MAX_RATE_PER_S, parse_rate
from simfleet.units import DURATION_UNITS, MAX_DURATION_S, MAX_SIZE_BYTES, SIZE_UNITS, parse_duration, parse_size


@pytest.mark.parametrize("text, seconds", [("250us", 250e-6), ("7ms", 0.007), ("90s", 90), ("5 min", 300),
                                           ("1h", 3600), ("2d", 172800), ("1.5h", 5400), ("0s", 0)])
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, size", [("512 B", 512), ("6 KB", 6000), ("6 MB", 6e6), ("6 MiB", 6 * 2**20),
                                        ("16 GiB", 16 * 2**30), ("1.5 GB", 1.5e9)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", [60, "60", "5 parsecs", "-3s", "nan s", "inf s", "s", "", True, None, "1e999s"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize("value, per_second", [(200, 200), ("200/s", 200), ("12000/min", 200), ("3600/h", 1)])
def test_rates(value, per_second):
    assert parse_rate(value) == pytest.approx(per_second)


@pytest.mark.parametrize("bad", [-1, "ten/s", "5/parsec", float("nan"), float("inf"), True])
def test_bad_rates_are_refused(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


@given(st.floats(0, 1e6, allow_nan=False), st.sampled_from(sorted(DURATION_UNITS)))
def test_duration_round_trip(value, unit):
    assume(value * DURATION_UNITS[unit] <= MAX_DURATION_S)
    assert math.isclose(parse_duration(f"{value!r}{unit}"), value * DURATION_UNITS[unit], rel_tol=1e-12)


@given(st.floats(0, 1e6, allow_nan=False), st.sampled_from(sorted(SIZE_UNITS)))
def test_size_round_trip(value, unit):
    assert math.isclose(parse_size(f"{value!r} {unit}"), value * SIZE_UNITS[unit], rel_tol=1e-12)


@pytest.mark.parametrize("parse, text", [
    (parse_duration, "1e300s"), (parse_duration, "400000d"), (parse_duration, "1e308h"),
    (parse_size, "1e300 GB"), (parse_size, "2 EB".replace("EB", "TB").replace("2", "2e7")),
    (parse_rate, "1e300/s"), (parse_rate, 10**400), (parse_rate, 2e9), (parse_rate, "1e12/min"),
])
def test_absurd_quantities_are_refused(parse, text):
    """Far beyond any run, far below where products of them overflow: a unit or exponent mistake,
    refused with the bound, never an OverflowError or an infinity later."""
    with pytest.raises(ValueError, match="at most"):
        parse(text)


def test_bounds_are_accepted():
    assert parse_duration(f"{MAX_DURATION_S!r}s") == MAX_DURATION_S
    assert parse_size(f"{MAX_SIZE_BYTES!r} B") == MAX_SIZE_BYTES
    assert parse_rate(MAX_RATE_PER_S) == MAX_RATE_PER_S
