"""Desired capacity: target tracking, step scaling, combination rules, cooldowns, schedules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from simfleet.autoscaling.capacity import (
    Cooldowns,
    Proposal,
    StepAdjustment,
    apply_scheduled_action,
    combine_proposals,
    round_percent_adjustment,
    select_step,
    step_scaling_capacity,
    target_tracking_capacity,
)

bounds = st.tuples(st.integers(0, 20), st.integers(0, 20)).map(sorted)


def test_target_tracking_documented_rounding():
    # needs 1.5 more units -> adds 2 (3 x 1.5 / 1 = 4.5 -> 5)
    assert target_tracking_capacity(3, 150.0, 100.0, 1, 10) == 5
    # 4 at 60 % of target: 2.4 -> keeps 3, never removes the 0.6 that would overshoot
    assert target_tracking_capacity(4, 60.0, 100.0, 1, 10) == 3
    # float noise does not add an instance: 3 x 0.5 / 0.5 stays 3
    assert target_tracking_capacity(3, 0.5, 0.5, 1, 10) == 3
    assert target_tracking_capacity(2, 1e6, 1.0, 1, 10) == 10
    assert target_tracking_capacity(4, 0.0, 1.0, 2, 10) == 2
    assert target_tracking_capacity(4, 10.0, 100.0, 1, 10, disable_scale_in=True) == 4
    assert target_tracking_capacity(4, 10.0, 100.0, 1, 10, direction="out") == 4
    assert target_tracking_capacity(0, 50.0, 1.0, 0, 10) == 0  # nothing to divide by


@settings(max_examples=300)
@given(current=st.integers(0, 50), metric=st.floats(0, 1e5), target=st.floats(0.01, 1e4), b=bounds)
def test_target_tracking_within_bounds_and_conservative(current, metric, target, b):
    lo, hi = b
    d = target_tracking_capacity(current, metric, target, lo, hi)
    assert lo <= d <= hi
    if current > 0 and lo <= current <= hi:
        if metric > target:
            assert d >= current
        elif d < current:
            # scale-in keeps the projected metric at or below target, and one fewer would not
            assert current * metric <= target * d * (1 + 1e-6) or d == lo
            assert d - 1 < lo or current * metric > target * (d - 1) * (1 - 1e-6)


def test_round_percent_adjustment_documented_examples():
    assert [round_percent_adjustment(x) for x in (12.7, 0.67, -0.58, -6.67)] == [12, 1, -1, -6]


STEPS_OUT = [
    StepAdjustment(1, lower_bound=0.0, upper_bound=10.0),
    StepAdjustment(3, lower_bound=10.0),
]
STEPS_IN = [
    StepAdjustment(-1, lower_bound=-10.0, upper_bound=0.0),
    StepAdjustment(-2, upper_bound=-10.0),
]


def test_step_bounds_inclusive_exclusive():
    assert select_step(60.0, 50.0, STEPS_OUT).scaling_adjustment == 3  # lower inclusive above
    assert select_step(59.99, 50.0, STEPS_OUT).scaling_adjustment == 1
    assert select_step(40.0, 50.0, STEPS_IN).scaling_adjustment == -2  # upper inclusive below
    assert select_step(40.01, 50.0, STEPS_IN).scaling_adjustment == -1
    assert select_step(50.0, 50.0, STEPS_OUT) is None  # at the threshold is not "above"


def test_step_adjustment_types_documented_examples():
    exact = [StepAdjustment(5, lower_bound=0.0)]
    assert step_scaling_capacity(3, 80, 70, "ChangeInCapacity", exact, 0, 20) == 8
    assert step_scaling_capacity(3, 80, 70, "ExactCapacity", exact, 0, 20) == 5
    ten = [StepAdjustment(10, lower_bound=0.0)]
    assert step_scaling_capacity(10, 80, 70, "PercentChangeInCapacity", ten, 0, 20) == 11
    quarter = [StepAdjustment(25, lower_bound=0.0)]
    assert step_scaling_capacity(
        4, 80, 70, "PercentChangeInCapacity", quarter, 0, 20, min_adjustment_magnitude=2
    ) == 6
    cut = [StepAdjustment(-33, upper_bound=0.0)]
    assert step_scaling_capacity(20, 10, 70, "PercentChangeInCapacity", cut, 0, 20) == 14  # -6.6
    assert step_scaling_capacity(3, 50, 70, "PercentChangeInCapacity", cut, 0, 20) == 2  # -0.99
    # +2 then, inside the cooldown, a +3 step: only 1 more (capacity counted from the base)
    three = [StepAdjustment(3, lower_bound=0.0)]
    assert step_scaling_capacity(6, 90, 70, "ChangeInCapacity", three, 0, 20, base_capacity=4) == 7
    one = [StepAdjustment(1, lower_bound=0.0)]
    assert step_scaling_capacity(6, 90, 70, "ChangeInCapacity", one, 0, 20, base_capacity=4) == 6


@settings(max_examples=300)
@given(
    current=st.integers(0, 40),
    metric=st.floats(-100, 200),
    adj=st.integers(-100, 100),
    kind=st.sampled_from(["ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity"]),
    mam=st.one_of(st.none(), st.integers(0, 5)),
    b=bounds,
)
def test_step_scaling_within_bounds(current, metric, adj, kind, mam, b):
    lo, hi = b
    if kind == "ExactCapacity":
        adj = abs(adj)
    down = abs(adj) if kind == "ExactCapacity" else -abs(adj)
    steps = [StepAdjustment(adj, lower_bound=0.0), StepAdjustment(down, upper_bound=0.0)]
    d = step_scaling_capacity(current, metric, 50.0, kind, steps, lo, hi,
                              min_adjustment_magnitude=mam)
    assert lo <= d <= hi
    if kind == "PercentChangeInCapacity" and lo <= current <= hi and adj != 0 and current > 0:
        step = select_step(metric, 50.0, steps)
        if step is not None:
            raw = current * step.scaling_adjustment / 100
            want = round_percent_adjustment(raw)
            if mam and abs(want) < mam:
                want = int(math.copysign(mam, raw))
            assert d == max(lo, min(hi, current + want))


def test_combination_documented_rules():
    tt = lambda name, d, on=True: Proposal(name, d, "TargetTracking", on)  # noqa: E731
    # out if any: the largest wins
    c = combine_proposals(5, [tt("a", 7), tt("b", 3), tt("c", 9)], 1, 20)
    assert (c.desired, c.policy) == (9, "c")
    # in only if all agree; then the largest (smallest cut) wins
    assert combine_proposals(5, [tt("a", 3), tt("b", 4)], 1, 20).desired == 4
    assert combine_proposals(5, [tt("a", 3), tt("b", None)], 1, 20).desired == 5
    assert combine_proposals(5, [tt("a", 3), tt("b", 5)], 1, 20).desired == 5
    # DisableScaleIn policies neither vote nor block
    assert combine_proposals(5, [tt("a", 3), tt("b", None, on=False)], 1, 20).desired == 3
    # a step scale-in is not blocked by target tracking
    step = Proposal("s", 2, "StepScaling")
    assert combine_proposals(5, [tt("a", 5), step], 1, 20).desired == 2
    assert combine_proposals(5, [], 1, 20).desired == 5


proposal_lists = st.lists(
    st.builds(
        Proposal,
        policy=st.sampled_from(["a", "b", "c", "d"]),
        desired=st.one_of(st.none(), st.integers(0, 30)),
        kind=st.sampled_from(["TargetTracking", "StepScaling"]),
        scale_in_enabled=st.booleans(),
    ),
    max_size=6,
)


@settings(max_examples=400)
@given(current=st.integers(0, 30), props=proposal_lists, b=bounds)
def test_combination_properties(current, props, b):
    lo, hi = b
    c = combine_proposals(current, props, lo, hi)
    assert lo <= c.desired <= hi
    wishes = [p.desired for p in props if p.desired is not None]
    if any(w > current for w in wishes):
        assert c.desired == max(lo, min(hi, max(wishes)))
    elif c.desired < max(lo, min(hi, current)):
        voters = [p for p in props if p.kind == "TargetTracking" and p.scale_in_enabled]
        tt_agree = voters and all(p.desired is not None and p.desired < current for p in voters)
        steps_in = [p.desired for p in props
                    if p.kind == "StepScaling" and p.desired is not None and p.desired < current]
        allowed = steps_in + ([p.desired for p in voters] if tt_agree else [])
        assert allowed and c.desired == max(lo, min(hi, max(allowed)))


def test_cooldowns_documented_rules():
    cd = Cooldowns(300, 300)
    assert cd.check(0, 2, 4).allowed
    cd.record(0, 2, 4)
    assert not cd.check(100, 4, 4).allowed
    assert not cd.check(100, 3, 4).allowed  # not larger than the previous scale-out
    assert cd.check(100, 4, 5).allowed  # a larger scale-out proceeds
    assert cd.scale_out_base == 2
    cd.record(100, 4, 5)
    assert cd.scale_out_base == 2  # still the cooldown of the first scale-out
    assert cd.check(401, 5, 5 + 1).allowed
    cd.record(500, 5, 3)  # scale-in starts the scale-in cooldown
    assert not cd.check(600, 3, 2).allowed
    assert cd.check(600, 3, 2, scheduled=True).allowed  # schedules ignore cooldowns
    assert cd.check(600, 3, 4).allowed  # a scale-out proceeds during a scale-in cooldown ...
    cd.record(600, 3, 4)
    assert not cd.in_scale_in_cooldown(601)  # ... and ends it
    assert cd.check(601, 4, 3).allowed
    strict, lenient = Cooldowns(scale_in_blocked_by_scale_out=True), Cooldowns()
    for c in (strict, lenient):
        c.record(0, 2, 4)
    assert not strict.check(10, 4, 3).allowed
    assert lenient.check(10, 4, 3).allowed


@settings(max_examples=200)
@given(
    steps=st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 10)), min_size=1, max_size=30),
    cd_s=st.integers(0, 600),
)
def test_no_scale_in_within_scale_in_cooldown(steps, cd_s):
    cd = Cooldowns(cd_s, cd_s)
    now, cap, last_in = 0, 5, None
    for dt, want in steps:
        now += dt
        v = cd.check(now, cap, want)
        if v.allowed and want < cap:
            assert last_in is None or now >= last_in + cd_s
            last_in = now
        if v.allowed:
            cd.record(now, cap, want)
            if want > cap:
                last_in = None
            cap = want


def test_scheduled_action_bounds():
    assert apply_scheduled_action(3, 1, 10, new_min=5).desired == 5
    assert apply_scheduled_action(8, 1, 10, new_max=4) == apply_scheduled_action(8, 1, 10, 1, 4)
    s = apply_scheduled_action(8, 1, 10, new_min=2, new_max=4)
    assert (s.min_capacity, s.max_capacity, s.desired) == (2, 4, 4)
    pinned = apply_scheduled_action(8, 1, 10, new_min=3, new_max=3)
    assert pinned.desired == 3
    with pytest.raises(ValueError, match="MinCapacity"):
        apply_scheduled_action(8, 1, 10, new_min=5, new_max=4)


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(ValueError, match="AdjustmentType"):
        step_scaling_capacity(1, 1, 0, "Percent", STEPS_OUT, 0, 5)
    with pytest.raises(ValueError, match="TargetValue"):
        target_tracking_capacity(1, 1.0, 0.0, 0, 5)
    with pytest.raises(ValueError, match="MinCapacity"):
        target_tracking_capacity(1, 1.0, 1.0, 5, 4)
    with pytest.raises(ValueError, match="MetricIntervalLowerBound"):
        StepAdjustment(1, lower_bound=5.0, upper_bound=5.0)
