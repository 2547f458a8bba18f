"""Cost per model (`simfleet.inference_components.cost_shares`): each component's share by its
reserved accelerators (cores and memory on CPU instances) plus the idle remainder sum to the
fleet's cost exactly, per run and per period; bad timelines are refused.

The fleet's cost is recomputed here from the instances alone (price x billed time), never taken
from the function's own total.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.inference_components.cost_shares import (CopyInterval, InstanceInterval, cost_shares,
                                                       cost_shares_by_period)
from simfleet.inference_components.placement import Capacity

G6_12XL = Capacity.of(48, 4, 192 * 1024)   # ml.g6.12xlarge: 48 vCPUs, 4 x L4, 192 GiB (catalog)
C5_XL = Capacity.of(4, 0, 8 * 1024)        # ml.c5.xlarge: 4 vCPUs, 8 GiB


@st.composite
def timelines(draw):
    """Instances (GPU and CPU shapes, float prices and times) and copies that never over-commit:
    each instance's capacity is cut into slots that fit together, and each slot hosts a sequence
    of copies one after another inside the instance's billed interval."""
    instances, copies = [], []
    for k in range(draw(st.integers(1, 4))):
        gpus = draw(st.sampled_from([0, 1, 4, 8]))
        capacity = Capacity.of(draw(st.sampled_from([4, 16, 48, 192])), gpus, draw(st.sampled_from([8192, 65536])))
        start = draw(st.floats(0, 3600, allow_nan=False).map(lambda x: round(x, 3)))
        end = start + draw(st.floats(0, 7200, allow_nan=False).map(lambda x: round(x, 3)))
        price = draw(st.sampled_from([0.204, 1.4084, 5.752, 16.688, 0.0]))
        instances.append(InstanceInterval(f"i-{k}", capacity, price, start, end))
        slots = draw(st.integers(0, 4))
        for s in range(slots):  # slot s holds 1/slots of each resource (rounded down: fits together)
            share = Capacity.of(Fraction(capacity.cpu_cores) / slots, capacity.accelerators // slots,
                                Fraction(capacity.memory_mb) / slots)
            t = start
            for _ in range(draw(st.integers(0, 3))):
                a = t + draw(st.floats(0, 600).map(lambda x: round(x, 2)))
                b = a + draw(st.floats(0, 3000).map(lambda x: round(x, 2)))
                if b > end:
                    break
                reservation = Capacity.of(share.cpu_cores * draw(st.sampled_from([0, Fraction(1, 2), 1])),
                                          draw(st.integers(0, share.accelerators)),
                                          share.memory_mb * draw(st.sampled_from([0, Fraction(1, 3), 1])))
                copies.append(CopyInterval(draw(st.sampled_from(["llm", "bert", "resnet"])), f"i-{k}",
                                           reservation, a, b))
                t = b
    return instances, copies


def fleet_cost(instances, lo=None, hi=None) -> Fraction:
    total = Fraction(0)
    for i in instances:
        a, b = Fraction(repr(float(i.start_s))), Fraction(repr(float(i.end_s)))
        if lo is not None:
            a, b = max(a, lo), min(b, hi)
        total += Fraction(repr(float(i.price_per_hour))) * max(Fraction(0), b - a) / 3600
    return total


@given(timelines())
@settings(max_examples=300)
def test_shares_and_idle_sum_to_the_fleet_cost_exactly(timeline):
    instances, copies = timeline
    result = cost_shares(instances, copies)
    assert sum(result.by_component.values(), Fraction(0)) + result.idle == fleet_cost(instances) == result.total
    assert result.idle >= 0 and all(v >= 0 for v in result.by_component.values())
    assert set(result.by_component) <= {c.component for c in copies}


@given(timelines(), st.lists(st.integers(0, 12000), min_size=1, max_size=6))
@settings(max_examples=150)
def test_periods_add_up_to_the_whole_window(timeline, cuts):
    instances, copies = timeline
    boundaries = sorted({0, 12000, *cuts})
    periods = cost_shares_by_period(instances, copies, boundaries)
    whole = cost_shares(instances, copies, 0, 12000)
    assert sum((p.total for p in periods), Fraction(0)) == whole.total == fleet_cost(instances, 0, 12000)
    assert sum((p.idle for p in periods), Fraction(0)) == whole.idle
    for component, value in whole.by_component.items():
        assert sum((p.by_component.get(component, Fraction(0)) for p in periods), Fraction(0)) == value


def test_a_gpu_instance_is_shared_by_reserved_accelerators():
    """One ml.g6.12xlarge at $5.752/h for an hour: a 2-GPU copy all hour, a 1-GPU copy for the
    second half hour (its CPU and memory do not count on a GPU instance)."""
    instances = [InstanceInterval("i", G6_12XL, 5.752, 0, 3600)]
    copies = [CopyInterval("llm", "i", Capacity.of(8, 2, 32768), 0, 3600),
              CopyInterval("bert", "i", Capacity.of(40, 1, 150000), 1800, 3600)]
    result = cost_shares(instances, copies)
    price = Fraction(5752, 1000)
    assert result.by_component == {"bert": price / 2 / 4, "llm": price * 2 / 4}
    assert result.idle == price * 2 / 4 / 2 + price * 1 / 4 / 2  # 2 GPUs free, then 1
    assert result.total == price


def test_a_cpu_instance_is_shared_by_cores_and_memory():
    instances = [InstanceInterval("c", C5_XL, 0.204, 0, 3600)]
    copies = [CopyInterval("xgb", "c", Capacity.of(1, 0, 4096), 0, 3600)]
    price = Fraction(204, 1000)
    assert cost_shares(instances, copies).by_component == {"xgb": price * (Fraction(1, 2) * Fraction(1, 4) +
                                                                           Fraction(1, 2) * Fraction(1, 2))}
    assert cost_shares(instances, copies, cpu_weight=1).by_component == {"xgb": price / 4}
    assert cost_shares(instances, copies, cpu_weight=0).by_component == {"xgb": price / 2}


def test_bad_timelines_are_refused():
    inst = [InstanceInterval("i", G6_12XL, 5.752, 0, 3600)]
    over = [CopyInterval("a", "i", Capacity.of(1, 3, 128), 0, 100), CopyInterval("b", "i", Capacity.of(1, 2, 128), 50, 60)]
    with pytest.raises(ValueError, match="over-committed"):
        cost_shares(inst, over)
    with pytest.raises(ValueError, match="outside"):
        cost_shares(inst, [CopyInterval("a", "i", Capacity.of(1, 1, 128), 3000, 3700)])
    with pytest.raises(ValueError, match="unknown instance"):
        cost_shares(inst, [CopyInterval("a", "j", Capacity.of(1, 1, 128), 0, 1)])
    with pytest.raises(ValueError, match="no price"):
        cost_shares([InstanceInterval("i", G6_12XL, None, 0, 3600)], [])
