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

from simfleet.inference_components.placement import BINPACK, SPREAD, Capacity, Copy, Placement, place

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


class NaivePlacement:
    """The rule of the placement module's docstring, implemented as plainly as it reads: every
    pending copy tried on every instance whenever room may have appeared, room and counts recomputed
    from each instance's copies every time. `Placement` must decide exactly as this does."""

    def __init__(self, scale_in_copy_order="newest"):
        self.newest_first = scale_in_copy_order == "newest"
        self.instances = []   # [instance id, capacity, its copies in the order they were placed there]
        self.pending = []     # in copy-id order
        self.next_copy = 0

    def used(self, entry) -> Capacity:
        total = Capacity()
        for copy in entry[2]:
            total = total + copy.reservation
        return total

    def count(self, entry, component) -> int:
        return sum(1 for c in entry[2] if c.component == component)

    def choose(self, copy):
        fitting = [(k, e) for k, e in enumerate(self.instances)
                   if copy.reservation.fits_in(e[1] - self.used(e))]
        if not fitting:
            return None
        if copy.strategy == SPREAD:
            return min(fitting, key=lambda ke: (self.count(ke[1], copy.component), len(ke[1][2]), ke[0]))[1]

        def binpack(ke):
            left = ke[1][1] - self.used(ke[1]) - copy.reservation
            return (0 if ke[1][2] else 1, left.accelerators, left.cpu_cores, left.memory_mb, ke[0])
        return min(fitting, key=binpack)[1]

    def place_pending(self):
        placed = []
        for copy in list(self.pending):
            entry = self.choose(copy)
            if entry is not None:
                self.pending.remove(copy)
                entry[2].append(copy)
                placed.append((copy, entry[0]))
        return placed

    def add_instance(self, instance_id, capacity):
        self.instances.append([instance_id, capacity, []])
        return self.place_pending()

    def remove_instance(self, instance_id):
        [entry] = [e for e in self.instances if e[0] == instance_id]
        self.instances.remove(entry)
        self.pending = sorted(self.pending + entry[2], key=lambda c: c.copy_id)
        return list(entry[2]), self.place_pending()

    def add_copies(self, component, reservation, count, strategy):
        made = [Copy(self.next_copy + k, component, reservation, strategy) for k in range(count)]
        self.next_copy += count
        self.pending += made
        return made, self.place_pending()

    def remove_copies(self, component, count):
        removed = [c for c in reversed(self.pending) if c.component == component][:count]
        for copy in removed:
            self.pending.remove(copy)
        while len(removed) < count:
            hosting = [(k, e) for k, e in enumerate(self.instances) if self.count(e, component)]
            if not hosting:
                break
            strategy = [c for c in hosting[0][1][2] if c.component == component][0].strategy
            sign = -1 if strategy == SPREAD else 1
            _, entry = min(hosting, key=lambda ke: (sign * self.count(ke[1], component), len(ke[1][2]), -ke[0]))
            mine = [c for c in entry[2] if c.component == component]
            copy = max(mine, key=lambda c: c.copy_id) if self.newest_first else min(mine, key=lambda c: c.copy_id)
            entry[2].remove(copy)
            removed.append(copy)
        return removed, self.place_pending() if removed else []


class PlacementMachine(RuleBasedStateMachine):
    """Instances come and go, components ask for and give up copies: nothing is ever over-committed,
    every copy asked for and not removed is placed or pending exactly once, no pending copy would
    fit anywhere (it would have been placed), and every decision, returned value and state is the
    naive implementation's of the documented rule (`NaivePlacement`)."""

    @initialize(order=st.sampled_from(["newest", "oldest"]),
                components=st.lists(st.tuples(reservations, st.sampled_from([SPREAD, BINPACK])), min_size=1, max_size=3))
    def start(self, order, components):
        self.placement = Placement(order)
        self.naive = NaivePlacement(order)
        self.components = {f"ic-{k}": spec for k, spec in enumerate(components)}
        self.expected = {name: 0 for name in self.components}
        self.next_instance = 0

    @rule(capacity=capacities)
    def add_instance(self, capacity):
        placed = self.placement.add_instance(f"i-{self.next_instance}", capacity)
        assert placed == self.naive.add_instance(f"i-{self.next_instance}", capacity)
        self.next_instance += 1

    @precondition(lambda self: self.placement.instance_ids)
    @rule(data=st.data())
    def remove_instance(self, data):
        victim = data.draw(st.sampled_from(self.placement.instance_ids))
        displaced, placed = self.placement.remove_instance(victim)
        assert (displaced, placed) == self.naive.remove_instance(victim)
        assert victim not in self.placement.instance_ids
        assert all(c.copy_id not in self.placement.placements() or self.placement.placements()[c.copy_id] != victim
                   for c in displaced)

    @rule(data=st.data(), count=st.integers(0, 6), fresh=st.booleans())
    def add_copies(self, data, count, fresh):
        name = data.draw(st.sampled_from(sorted(self.components)))
        reservation, strategy = self.components[name]
        if fresh:  # an equal reservation, another object
            reservation = Capacity(reservation.cpu_cores, reservation.accelerators, reservation.memory_mb)
        made, placed = self.placement.add_copies(name, reservation, count, strategy)
        assert (made, placed) == self.naive.add_copies(name, reservation, count, strategy)
        assert len(made) == count
        self.expected[name] += count

    @rule(data=st.data(), count=st.integers(0, 6))
    def remove_copies(self, data, count):
        name = data.draw(st.sampled_from(sorted(self.components)))
        before_pending = [c for c in self.placement.pending if c.component == name]
        removed, placed = self.placement.remove_copies(name, count)
        assert (removed, placed) == self.naive.remove_copies(name, count)
        assert len(removed) == min(count, self.expected[name])
        assert all(c.component == name for c in removed)
        # pending copies go first
        assert [c.copy_id for c in removed[:len(before_pending)]] == \
            [c.copy_id for c in reversed(before_pending)][:len(removed)]
        self.expected[name] -= len(removed)

    @invariant()
    def same_state_as_the_naive_rule(self):
        assert self.placement.pending == tuple(self.naive.pending)
        assert self.placement.instance_ids == tuple(e[0] for e in self.naive.instances)
        for instance_id, capacity, copies in self.naive.instances:
            assert self.placement.copies_on(instance_id) == tuple(copies)
            used = self.naive.used([instance_id, capacity, copies])
            assert self.placement.used(instance_id) == used and self.placement.free(instance_id) == capacity - used
        assert self.placement.placements() == {c.copy_id: e[0] for e in self.naive.instances for c in e[2]}
        assert self.placement.idle_instances() == tuple(e[0] for e in self.naive.instances if not e[2])
        for name in self.components:
            assert self.placement.pending_count(name) == sum(1 for c in self.naive.pending if c.component == name)
            assert self.placement.copies_of(name) == tuple(sorted(
                [c for e in self.naive.instances for c in e[2] if c.component == name]
                + [c for c in self.naive.pending if c.component == name], key=lambda c: c.copy_id))

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


# ---------------------------------------------------------------------------------------------
# managed instance scaling's search for the fewest empty instances that hold the pending copies


@given(shape=capacities, copies=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 8)), min_size=1, max_size=5),
       specs=st.lists(st.tuples(reservations, st.sampled_from([SPREAD, BINPACK])), min_size=3, max_size=3),
       launching=st.integers(0, 3), room=st.integers(-1, 12))
@settings(max_examples=200, deadline=None)
def test_scale_out_search_matches_the_search_from_zero_copy_by_copy(shape, copies, specs, launching, room):
    """`_scale_out`'s answer (runs of like copies added at once, the search started at a lower bound,
    stopped at the first copy left pending) is the plain one: from 0 instances up, every pending copy
    added one at a time to a scratch placement of that many empty instances."""
    from types import SimpleNamespace

    from simfleet.engine.component_copies import _fits_on_empty, _least_instances, _runs

    placement = Placement()
    for component, count in copies:  # pending copies: runs of one component, in order
        reservation, strategy = specs[component]
        placement.add_copies(f"ic-{component}", reservation, count, strategy)
    pending = placement.pending

    def plain_fits(count):
        scratch = Placement()
        for k in range(count):
            scratch.add_instance(k, shape)
        for copy in pending:
            scratch.add_copies(copy.component, copy.reservation, 1, copy.strategy)
        return not scratch.pending

    plain = 0
    while plain < room and not plain_fits(launching + plain):
        plain += 1
    host = SimpleNamespace(hosting=SimpleNamespace(capacity=shape))
    runs = _runs(pending)
    assert sum(n for *_, n in runs) == len(pending)
    least = _least_instances(runs, shape)
    fast = max(0, min(room, least - launching)) if least is not None else max(0, room)
    while fast < room and not _fits_on_empty(runs, launching + fast, host):
        fast += 1
    assert fast == plain
    for count in range(launching + max(plain, 0) + 2):
        assert _fits_on_empty(runs, count, host) == plain_fits(count)
        if least is None or count < least:
            assert not plain_fits(count)
