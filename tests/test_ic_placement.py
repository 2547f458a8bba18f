"""Inference component placement (`simfleet.inference_components.placement`): no resource is ever
over-committed, SPREAD balances and BINPACK fills as the module documents, and a copy that fits
nowhere waits until room appears.

Over-commitment is recomputed here from each instance's copies and capacity, never read from the
placement's own running totals.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from simfleet.inference_components.placement import BINPACK, SPREAD, Capacity, Placement, place

# Instance shapes from the catalog (vCPUs, accelerators, MiB): ml.g6.12xlarge, ml.g5.xlarge,
# ml.g6.48xlarge, ml.c5.xlarge, ml.m5.4xlarge.
SHAPES = [Capacity.of(48, 4, 192 * 1024), Capacity.of(4, 1, 16 * 1024), Capacity.of(192, 8, 768 * 1024),
          Capacity.of(4, 0, 8 * 1024), Capacity.of(16, 0, 64 * 1024)]

reservations = st.builds(
    Capacity.of,
    cpu_cores=st.sampled_from([0, 0.25, 0.5, 1, 2, 3.75, 8, 24]),
    accelerators=st.integers(0, 4),
    memory_mb=st.sampled_from([128, 1024, 4096, 16384, 65536]))
capacities = st.one_of(st.sampled_from(SHAPES), st.builds(
    Capacity.of, cpu_cores=st.integers(1, 96), accelerators=st.integers(0, 8),
    memory_mb=st.integers(1, 400) .map(lambda g: g * 1024)))


def recomputed_overcommit(placement: Placement) -> list:
    """Instances whose copies' reservations sum past their capacity in any resource."""
    bad = []
    for i in placement.instance_ids:
        total = Capacity()
        for copy in placement.copies_on(i):
            total = total + copy.reservation
        cap = placement.capacity(i)
        if total.cpu_cores > cap.cpu_cores or total.accelerators > cap.accelerators or total.memory_mb > cap.memory_mb:
            bad.append(i)
    return bad


def fits_somewhere(placement: Placement, reservation: Capacity) -> bool:
    for i in placement.instance_ids:
        used = Capacity()
        for copy in placement.copies_on(i):
            used = used + copy.reservation
        free = placement.capacity(i) - used
        if reservation.fits_in(free):
            return True
    return False


class PlacementMachine(RuleBasedStateMachine):
    """Instances come and go, components ask for and give up copies: nothing is ever over-committed,
    every copy asked for and not removed is placed or pending exactly once, and no pending copy
    would fit anywhere (it would have been placed)."""

    @initialize(order=st.sampled_from(["newest", "oldest"]),
                components=st.lists(st.tuples(reservations, st.sampled_from([SPREAD, BINPACK])), min_size=1, max_size=3))
    def start(self, order, components):
        self.placement = Placement(order)
        self.components = {f"ic-{k}": spec for k, spec in enumerate(components)}
        self.expected = {name: 0 for name in self.components}
        self.next_instance = 0

    @rule(capacity=capacities)
    def add_instance(self, capacity):
        self.placement.add_instance(f"i-{self.next_instance}", capacity)
        self.next_instance += 1

    @precondition(lambda self: self.placement.instance_ids)
    @rule(data=st.data())
    def remove_instance(self, data):
        victim = data.draw(st.sampled_from(self.placement.instance_ids))
        displaced, _ = self.placement.remove_instance(victim)
        assert victim not in self.placement.instance_ids
        assert all(c.copy_id not in self.placement.placements() or self.placement.placements()[c.copy_id] != victim
                   for c in displaced)

    @rule(data=st.data(), count=st.integers(0, 6))
    def add_copies(self, data, count):
        name = data.draw(st.sampled_from(sorted(self.components)))
        reservation, strategy = self.components[name]
        made, placed = self.placement.add_copies(name, reservation, count, strategy)
        assert len(made) == count
        self.expected[name] += count

    @rule(data=st.data(), count=st.integers(0, 6))
    def remove_copies(self, data, count):
        name = data.draw(st.sampled_from(sorted(self.components)))
        before_pending = [c for c in self.placement.pending if c.component == name]
        removed, _ = self.placement.remove_copies(name, count)
        assert len(removed) == min(count, self.expected[name])
        assert all(c.component == name for c in removed)
        # pending copies go first
        assert [c.copy_id for c in removed[:len(before_pending)]] == \
            [c.copy_id for c in reversed(before_pending)][:len(removed)]
        self.expected[name] -= len(removed)

    @invariant()
    def never_over_committed(self):
        assert recomputed_overcommit(self.placement) == []
        assert self.placement.over_committed() == []

    @invariant()
    def every_copy_placed_or_pending_once(self):
        placed = [c.copy_id for i in self.placement.instance_ids for c in self.placement.copies_on(i)]
        pending = [c.copy_id for c in self.placement.pending]
        assert len(set(placed)) == len(placed) and not set(placed) & set(pending)
        for name, count in self.expected.items():
            assert len(self.placement.copies_of(name)) == count

    @invariant()
    def no_pending_copy_fits(self):
        for copy in self.placement.pending:
            assert not fits_somewhere(self.placement, copy.reservation), copy


TestPlacementMachine = PlacementMachine.TestCase
TestPlacementMachine.settings = settings(max_examples=150, stateful_step_count=30)


# ---------------------------------------------------------------------------------------------
# SPREAD and BINPACK as documented


@given(shape=st.sampled_from(SHAPES[:3]), instances=st.integers(1, 6), reservation=reservations, data=st.data())
@settings(max_examples=150)
def test_spread_balances_copies_across_identical_instances(shape, instances, reservation, data):
    """SPREAD ("Distributes copies evenly across available instances"): while copies fit, the counts
    per instance differ by at most one."""
    per_instance = copies_per_instance(shape, reservation)
    assume(per_instance >= 1)
    count = data.draw(st.integers(0, per_instance * instances))
    placed, pending = place({k: shape for k in range(instances)}, [("a", reservation, SPREAD)] * count)
    assert not pending
    counts = [sum(1 for _, i in placed if i == k) for k in range(instances)]
    assert max(counts) - min(counts) <= 1


@given(shape=st.sampled_from(SHAPES), instances=st.integers(1, 6), reservation=reservations, data=st.data())
@settings(max_examples=150)
def test_binpack_fills_as_few_instances_as_possible(shape, instances, reservation, data):
    """BINPACK ("Packs copies onto fewer instances"): one component's copies fill the first instance,
    then the next, so they use ceil(n / per instance) instances, all full but the last."""
    per_instance = copies_per_instance(shape, reservation)
    assume(per_instance >= 1)
    count = data.draw(st.integers(0, min(per_instance * instances, 60)))
    placed, pending = place({k: shape for k in range(instances)}, [("a", reservation, BINPACK)] * count)
    assert not pending
    counts = [sum(1 for _, i in placed if i == k) for k in range(instances)]
    used = [c for c in counts if c]
    assert len(used) == math.ceil(count / per_instance)
    assert counts[:len(used)] == used  # a prefix of the instances, in order of addition
    assert all(c == per_instance for c in used[:-1])


def copies_per_instance(shape: Capacity, reservation: Capacity) -> int:
    """How many copies of `reservation` one instance of `shape` holds (computed independently)."""
    limits = []
    for need, have in ((reservation.cpu_cores, shape.cpu_cores), (reservation.accelerators, shape.accelerators),
                       (reservation.memory_mb, shape.memory_mb)):
        if need:
            limits.append(int(Fraction(have) // Fraction(need)))
    return min(limits) if limits else 10**6


def test_binpack_prefers_the_instance_it_leaves_fullest_and_spread_the_emptiest():
    """Two g6.12xlarge-shaped instances, one already holding a 3-GPU copy: a 1-GPU BINPACK copy
    joins it (leaves 0 GPUs free there), a 1-GPU SPREAD copy of another component goes to the other."""
    p = Placement()
    p.add_instance("a", SHAPES[0])
    p.add_instance("b", SHAPES[0])
    p.add_copies("big", Capacity.of(4, 3, 1024), 1, BINPACK)
    assert p.placements() == {0: "a"}
    _, placed = p.add_copies("small", Capacity.of(1, 1, 1024), 1, BINPACK)
    assert [(c.copy_id, i) for c, i in placed] == [(1, "a")]
    _, placed = p.add_copies("other", Capacity.of(1, 1, 1024), 1, SPREAD)
    assert [(c.copy_id, i) for c, i in placed] == [(2, "b")]


def test_a_copy_that_fits_nowhere_waits_and_is_placed_when_room_appears():
    p = Placement()
    p.add_instance("g5-xl", SHAPES[1])  # 1 GPU
    made, placed = p.add_copies("llm", Capacity.of(8, 2, 32768), 1, SPREAD)  # needs 2 GPUs
    assert placed == [] and list(p.pending) == made
    _, placed = p.add_copies("bert", Capacity.of(1, 1, 2048), 1, SPREAD)  # no head-of-line blocking
    assert [(c.component, i) for c, i in placed] == [("bert", "g5-xl")]
    assert p.add_instance("g6-12xl", SHAPES[0]) == [(made[0], "g6-12xl")]
    assert p.pending == ()


def test_removing_an_instance_reschedules_its_copies():
    p = Placement()
    p.add_instance("a", SHAPES[0])
    p.add_instance("b", SHAPES[0])
    p.add_copies("m", Capacity.of(2, 2, 1024), 4, SPREAD)  # two on each
    displaced, placed = p.remove_instance("a")
    assert len(displaced) == 2
    assert len(placed) == 0 and len(p.pending) == 2  # b has 0 GPUs left
    p.add_instance("c", SHAPES[0])
    assert p.pending == () and {p.placements()[c.copy_id] for c in displaced} == {"c"}


def test_scale_in_takes_pending_first_then_by_strategy():
    p = Placement()
    p.add_instance("a", SHAPES[0])
    p.add_instance("b", SHAPES[0])
    p.add_copies("s", Capacity.of(1, 1, 1024), 3, SPREAD)       # a, b, a
    p.add_copies("s", Capacity.of(1, 1, 1024), 6, SPREAD)       # b, a, b, b... until 8 GPUs, 1 pending
    assert len(p.pending) == 1
    removed, _ = p.remove_copies("s", 2)
    assert removed[0].copy_id == 8  # the pending one first
    counts = [len(p.copies_on(i)) for i in ("a", "b")]
    assert counts == [4, 3] or counts == [3, 4]  # then from an instance with the most copies

    q = Placement()
    for name in ("a", "b"):
        q.add_instance(name, SHAPES[0])
    q.add_copies("p", Capacity.of(1, 1, 1024), 5, BINPACK)       # a: 4, b: 1
    removed, _ = q.remove_copies("p", 1)
    assert q.placements().get(removed[0].copy_id) is None
    assert [len(q.copies_on(i)) for i in ("a", "b")] == [4, 0]   # BINPACK empties the emptiest instance
    assert q.idle_instances() == ("b",)


def test_scale_in_copy_order_oldest_takes_the_oldest_copy_of_the_instance():
    for order, expected in (("newest", 1), ("oldest", 0)):
        p = Placement(order)
        p.add_instance("a", SHAPES[0])
        p.add_copies("p", Capacity.of(1, 1, 1024), 2, BINPACK)
        removed, _ = p.remove_copies("p", 1)
        assert removed[0].copy_id == expected


def test_capacities_are_exact_and_checked():
    quarter = Capacity.of(0.1, 0, 128)
    # ten copies of 0.1 cores fit exactly in 1 core: float sums would drift past it
    placed, pending = place({"i": Capacity.of(1, 0, 128 * 10)}, [("c", quarter, BINPACK)] * 11)
    assert len(placed) == 10 and len(pending) == 1
    with pytest.raises(ValueError):
        Capacity.of(1, 1.5, 1)
    with pytest.raises(ValueError):
        Capacity.of(-1, 0, 1)
    with pytest.raises(ValueError):
        Placement().add_copies("c", quarter, 1, "RANDOM")
