"""CloudWatch alarm evaluation: the user guide's worked tables, M of N, missing data, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from simfleet.autoscaling.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Alarm,
    target_tracking_alarms,
)

# CloudWatch User Guide, "How alarm state is evaluated when data is missing": 0 = not
# breaching, X = breaching, - = missing, most recent on the right; evaluation range 5.
RETAIN = "retain"
TABLE_3_OF_3 = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, RETAIN, ALARM, OK),
]
TABLE_2_OF_3 = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, RETAIN, ALARM, OK),
]
MODES = ("missing", "ignore", "breaching", "notBreaching")


def _values(row: str) -> list[float | None]:
    return [{"0": 0.0, "X": 1.0, "-": None}[c] for c in row.split()]


@pytest.mark.parametrize("m, table", [(3, TABLE_3_OF_3), (2, TABLE_2_OF_3)])
def test_user_guide_missing_data_tables(m, table):
    for row, *expected in table:
        for mode, want in zip(MODES, expected):
            alarm = Alarm(0.5, "GreaterThanThreshold", 300, 3, m, mode)
            assert alarm.evaluation_range == 5
            for prior in (OK, ALARM, INSUFFICIENT_DATA):
                got = alarm.state_for(_values(row), prior)
                assert got == (prior if want == RETAIN else want), (row, mode, prior)


def test_premature_alarm_avoided_when_breach_is_too_recent():
    alarm = Alarm(0.5, "GreaterThanThreshold", 60, 3, 3)
    assert alarm.state_for(_values("- - - - X")) != ALARM
    assert alarm.state_for(_values("- - - X -")) != ALARM
    assert alarm.state_for(_values("- - X - -")) == ALARM


def test_comparison_operators():
    cases = {
        "GreaterThanThreshold": (False, True, False),
        "GreaterThanOrEqualToThreshold": (True, True, False),
        "LessThanThreshold": (False, False, True),
        "LessThanOrEqualToThreshold": (True, False, True),
    }
    for op, (at, above, below) in cases.items():
        a = Alarm(10.0, op, 60, 1, 1)
        assert (a.breaches(10.0), a.breaches(10.5), a.breaches(9.5)) == (at, above, below), op


def test_transition_record_names_the_values():
    a = Alarm(1500.0, "GreaterThanThreshold", 60, 3, 3, name="high")
    trs = [a.feed(v).transition for v in (1600.0, 1700.0, 1800.0, 100.0)]
    assert trs[0].old_state == INSUFFICIENT_DATA and trs[0].new_state == OK
    assert trs[1] is None
    alarm_tr = trs[2]
    assert (alarm_tr.old_state, alarm_tr.new_state, alarm_tr.time_s) == (OK, ALARM, 180.0)
    assert "3 out of the last 3 datapoints [1800.0, 1700.0, 1600.0]" in alarm_tr.reason
    assert "greater than the threshold (1500.0)" in alarm_tr.reason
    assert alarm_tr.values[-3:] == (1600.0, 1700.0, 1800.0) and alarm_tr.breaching == 3
    assert trs[3].new_state == OK and a.history == [trs[0], alarm_tr, trs[3]]


def test_missing_data_gives_insufficient_data_then_recovers():
    a = Alarm(1.0, "GreaterThanThreshold", 60, 3, 3)
    for v in (2.0, 2.0, 2.0):
        a.feed(v)
    assert a.state == ALARM
    states = [a.feed(None).state for _ in range(5)]
    assert states[-1] == INSUFFICIENT_DATA
    assert a.feed(0.0).state == OK


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(comparison="Bigger"), "comparison"),
        (dict(period_s=45), "period_s"),
        (dict(evaluation_periods=0), "evaluation_periods"),
        (dict(datapoints_to_alarm=4), "datapoints_to_alarm"),
        (dict(treat_missing_data="zero"), "treat_missing_data"),
        (dict(period_s=3600, evaluation_periods=25, datapoints_to_alarm=1), "86400"),
    ],
)
def test_bad_alarm_settings(kwargs, fragment):
    args = dict(threshold=1.0, comparison="GreaterThanThreshold", period_s=60,
                evaluation_periods=3, datapoints_to_alarm=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        Alarm(**args)


def test_target_tracking_alarm_pair_matches_observed_shape():
    pair = target_tracking_alarms(1500.0)
    hi, lo = pair.high, pair.low
    assert (hi.threshold, hi.comparison, hi.period_s) == (1500.0, "GreaterThanThreshold", 60)
    assert (hi.evaluation_periods, hi.datapoints_to_alarm) == (3, 3)
    assert (lo.threshold, lo.comparison, lo.period_s) == (1350.0, "LessThanThreshold", 60)
    assert (lo.evaluation_periods, lo.datapoints_to_alarm) == (15, 15)
    fast = target_tracking_alarms(5.0, period_s=10, in_period_s=60)
    assert (fast.high.period_s, fast.low.period_s) == (10, 60)
    # a step increase is seen after exactly 3 periods; 14 low minutes are not enough to scale in
    assert [pair.high.feed(2000.0).state for _ in range(3)] == [OK, OK, ALARM]
    assert all(pair.low.feed(1000.0).state != ALARM for _ in range(14))
    assert pair.low.feed(1000.0).state == ALARM


alarm_shapes = st.integers(1, 10).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(1, n))
)


@settings(max_examples=200)
@given(shape=alarm_shapes, mode=st.sampled_from(["missing", "notBreaching", "ignore"]))
def test_constant_breaching_alarms_after_exactly_m_periods(shape, mode):
    n, m = shape
    a = Alarm(100.0, "GreaterThanOrEqualToThreshold", 60, n, m, mode)
    states = [a.feed(150.0).state for _ in range(n + 3)]
    assert ALARM not in states[: m - 1]
    assert states[m - 1:] == [ALARM] * (len(states) - m + 1)


@settings(max_examples=300)
@given(
    shape=alarm_shapes,
    data=st.lists(st.one_of(st.none(), st.floats(0, 200)), min_size=1, max_size=40),
)
def test_never_alarm_with_fewer_than_m_breaching(shape, data):
    n, m = shape
    a = Alarm(100.0, "GreaterThanThreshold", 60, n, m, "notBreaching")
    window: list[float | None] = []
    for v in data:
        window = (window + [v])[-a.evaluation_range:]
        state = a.feed(v).state
        real = [x for x in window if x is not None]
        evaluated = real[-n:]
        breaching = sum(x > 100.0 for x in evaluated)
        assert (state == ALARM) == (breaching >= m)
        assert state != INSUFFICIENT_DATA


@settings(max_examples=200)
@given(shape=alarm_shapes, data=st.lists(st.floats(0, 200), min_size=1, max_size=30))
def test_complete_data_is_plain_m_of_n(shape, data):
    n, m = shape
    for mode in ("missing", "ignore", "breaching", "notBreaching"):
        a = Alarm(100.0, "LessThanThreshold", 60, n, m, mode)
        for i, v in enumerate(data):
            state = a.feed(v).state
            if i + 1 >= n:
                assert (state == ALARM) == (sum(x < 100.0 for x in data[i + 1 - n: i + 1]) >= m)
