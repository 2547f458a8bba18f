"""Where inference component copies go: instances with capacities, copies with reservations,
placed by `SPREAD` or `BINPACK` and never over-committing CPU cores, accelerators or memory.

A pure, deterministic state machine (no SimPy, no randomness, no simfleet imports): the engine
drives it as instances launch and terminate and as copy counts change, and reads back where each
copy runs and which copies wait. Quantities are exact (`fractions.Fraction`, floats read as the
decimals they are written as), so a sum of reservations never drifts past a capacity through rounding.

What AWS documents (API reference, InferenceComponentSchedulingConfig): `SPREAD` "Distributes
copies evenly across available instances for better resilience"; `BINPACK` "Packs copies onto
fewer instances to optimize resource utilization"; a copy reserves `NumberOfCpuCoresRequired`,
`NumberOfAcceleratorDevicesRequired` (whole accelerators) and `MinMemoryRequiredInMb` on the
instance it runs on. Everything else below is simfleet's rule, chosen to be deterministic:

* A copy fits an instance when each of its three reservations is at most what the instance has
  left (capacity less the reservations of the copies on it).
* SPREAD puts a copy on the fitting instance with the fewest copies of its component, then the
  fewest copies of any component, then the one added first.
* BINPACK puts a copy on a fitting instance that already hosts copies rather than an empty one,
  then on the one it leaves with the least room (free accelerators, then CPU cores, then memory,
  compared in that order: the accelerator is the scarce, costly part), then the one added first.
* Copies are placed one at a time in the order they were asked for (copy ids count up per
  `Placement`). A copy that fits nowhere stays pending; copies asked for after it are still
  placed if they fit (no head-of-line blocking). Pending copies are tried again, in order,
  whenever room may have appeared: an instance is added, or copies are removed.
* Removing an instance returns its copies to pending (in their original order) and tries to
  place them on the others.
* Removing copies of a component (copy scale-in) takes its pending copies first (newest first:
  they hold nothing), then placed ones: with SPREAD from the instance with the most copies of the
  component (keeping the spread even), with BINPACK from the instance with the fewest copies of
  the component (emptying instances so that IDLE_RELEASE can release them), ties going to the
  instance with fewer copies in all, then to the one added last; on that instance the newest copy
  goes first (`scale_in_copy_order = "oldest"`: the oldest).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Hashable, Iterable, Mapping, Sequence

__all__ = ["Capacity", "Copy", "Placement", "place", "exact", "SPREAD", "BINPACK", "STRATEGIES"]

SPREAD = "SPREAD"
BINPACK = "BINPACK"
STRATEGIES = (SPREAD, BINPACK)


def exact(value) -> Fraction:
    """A number as an exact fraction; a float as the decimal it is written as (``0.1`` is 1/10,
    not the binary float nearest to it), so that ten copies of 0.1 cores fill exactly one core."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TypeError(f"expected a number, got {value!r}")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Capacity:
    """CPU cores, whole accelerators and memory (MiB): what an instance offers or a copy reserves."""

    cpu_cores: Fraction = Fraction(0)
    accelerators: int = 0
    memory_mb: Fraction = Fraction(0)

    @classmethod
    def of(cls, cpu_cores=0, accelerators: int = 0, memory_mb=0) -> "Capacity":
        """Exact from numbers; every part must be non-negative and `accelerators` whole."""
        if int(accelerators) != accelerators:
            raise ValueError(f"accelerators are whole devices, got {accelerators!r}")
        made = cls(exact(cpu_cores), int(accelerators), exact(memory_mb))
        if made.cpu_cores < 0 or made.accelerators < 0 or made.memory_mb < 0:
            raise ValueError(f"a capacity cannot be negative: {made}")
        return made

    def __add__(self, other: "Capacity") -> "Capacity":
        return Capacity(self.cpu_cores + other.cpu_cores, self.accelerators + other.accelerators,
                        self.memory_mb + other.memory_mb)

    def __sub__(self, other: "Capacity") -> "Capacity":
        return Capacity(self.cpu_cores - other.cpu_cores, self.accelerators - other.accelerators,
                        self.memory_mb - other.memory_mb)

    def fits_in(self, room: "Capacity") -> bool:
        """Each part at most `room`'s."""
        return (self.cpu_cores <= room.cpu_cores and self.accelerators <= room.accelerators
                and self.memory_mb <= room.memory_mb)


@dataclass(frozen=True)
class Copy:
    """One copy of an inference component: what it reserves and how it is placed."""

    copy_id: int          # per `Placement`, in the order copies were asked for
    component: str        # InferenceComponentName
    reservation: Capacity
    strategy: str         # SPREAD or BINPACK


class Placement:
    """Instances and the copies placed on them or pending, for one variant.

    Instance ids are the caller's (hashable, unique); their order of addition breaks ties.
    Every mutating method returns the copies it placed, as (copy, instance id), in order.

    How it keeps to the rule of the module docstring without trying every pending copy on every
    instance each time (the results are the same as doing so; tests/test_ic_placement.py compares
    it with a naive implementation of the rule): after every mutating method no pending copy fits
    on any instance (each pass tries every copy that might fit, and room only shrinks during a
    pass), so a pass only needs to try the copies and the instances that something changed for:
    new copies (`add_copies`) or displaced ones (`remove_instance`) on every instance; every
    pending copy, but only on the instances that gained room (`add_instance`, `remove_copies`),
    since no other instance can hold one. Within a pass, once a copy fits nowhere, a later copy
    with the same reservation fits nowhere either. Each instance's free room and its copies per
    component are kept up to date rather than recomputed; and a pass ends once the reservation
    of every pending copy has fit nowhere.
    """

    def __init__(self, scale_in_copy_order: str = "newest"):
        if scale_in_copy_order not in ("newest", "oldest"):
            raise ValueError(f"scale_in_copy_order is 'newest' or 'oldest', got {scale_in_copy_order!r}")
        self._newest_first = scale_in_copy_order == "newest"
        self._capacity: dict[Hashable, Capacity] = {}
        self._order: dict[Hashable, int] = {}
        self._used: dict[Hashable, Capacity] = {}
        self._free: dict[Hashable, Capacity] = {}                   # capacity less used, kept up to date
        self._room: dict[Hashable, tuple] = {}                      # _free as (accelerators, cpu, memory), `_plain`
        self._on: dict[Hashable, dict[int, Copy]] = {}
        self._of: dict[Hashable, dict[str, dict[int, Copy]]] = {}   # instance -> component -> its copies there
        self._where: dict[int, Hashable] = {}
        self._pending: dict[int, Copy] = {}                          # always in copy-id order
        self._waiting: dict[str, int] = {}                           # component -> its pending copies
        self._kinds: dict[int, int] = {}   # id of a reservation object -> the pending copies holding it
        self._next_copy = 0
        self._next_order = 0

    # --- queries ------------------------------------------------------------------------------

    @property
    def instance_ids(self) -> tuple:
        return tuple(self._capacity)

    @property
    def pending(self) -> tuple[Copy, ...]:
        """Copies waiting for room, in the order they were asked for."""
        return tuple(self._pending.values())

    def placements(self) -> dict[int, Hashable]:
        """Copy id → instance id of every placed copy."""
        return dict(self._where)

    def copies_on(self, instance_id) -> tuple[Copy, ...]:
        return tuple(self._on[instance_id].values())

    def capacity(self, instance_id) -> Capacity:
        return self._capacity[instance_id]

    def used(self, instance_id) -> Capacity:
        """The sum of the reservations of the copies on the instance."""
        return self._used[instance_id]

    def free(self, instance_id) -> Capacity:
        return self._free[instance_id]

    def pending_count(self, component: str) -> int:
        """How many copies of a component are pending."""
        return self._waiting.get(component, 0)

    def idle_instances(self) -> tuple:
        """Instances that host no copy (what IDLE_RELEASE may release), in order of addition."""
        return tuple(i for i in self._capacity if not self._on[i])

    def copies_of(self, component: str) -> tuple[Copy, ...]:
        """Placed and pending copies of a component, by copy id."""
        placed = [c for of in self._of.values() for c in of.get(component, {}).values()]
        waiting = [c for c in self._pending.values() if c.component == component]
        return tuple(sorted(placed + waiting, key=lambda c: c.copy_id))

    def over_committed(self) -> list[Hashable]:
        """Instances whose copies reserve more than they have (always empty unless there is a bug)."""
        out = []
        for instance_id, copies in self._on.items():
            total = sum((c.reservation for c in copies.values()), Capacity())
            if (total != self._used[instance_id] or not total.fits_in(self._capacity[instance_id])
                    or self._free[instance_id] != self._capacity[instance_id] - total):
                out.append(instance_id)
        return out

    # --- instances ----------------------------------------------------------------------------

    def add_instance(self, instance_id, capacity: Capacity) -> list[tuple[Copy, Hashable]]:
        """A new instance in service; pending copies that fit are placed at once."""
        if instance_id in self._capacity:
            raise ValueError(f"instance {instance_id!r} is already in the placement")
        self._capacity[instance_id] = capacity
        self._order[instance_id] = self._next_order
        self._next_order += 1
        self._used[instance_id] = Capacity()
        self._free[instance_id] = capacity
        self._room[instance_id] = _room(capacity)
        self._on[instance_id] = {}
        self._of[instance_id] = {}
        # only the new instance has room a pending copy could use
        return self._place(list(self._pending.values()), (instance_id,))

    def remove_instance(self, instance_id) -> tuple[list[Copy], list[tuple[Copy, Hashable]]]:
        """The instance leaves: its copies become pending and are placed elsewhere if they fit.
        Returns (its copies, the placements made)."""
        displaced = list(self._on.pop(instance_id).values())
        del self._capacity[instance_id], self._order[instance_id], self._used[instance_id]
        del self._free[instance_id], self._room[instance_id], self._of[instance_id]
        if not displaced:
            return displaced, []
        for copy in displaced:
            del self._where[copy.copy_id]
            self._pending[copy.copy_id] = copy
            self._waiting[copy.component] = self._waiting.get(copy.component, 0) + 1
            self._kinds[id(copy.reservation)] = self._kinds.get(id(copy.reservation), 0) + 1
        self._pending = dict(sorted(self._pending.items()))
        # the copies pending before fit on none of the other instances, which gained no room
        return displaced, self._place(sorted(displaced, key=lambda c: c.copy_id), tuple(self._capacity))

    # --- copies -------------------------------------------------------------------------------

    def add_copies(self, component: str, reservation: Capacity, count: int,
                   strategy: str) -> tuple[list[Copy], list[tuple[Copy, Hashable]]]:
        """Ask for `count` more copies of `component`. Returns (the new copies, the placements
        made); new copies that fit nowhere stay pending."""
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy is SPREAD or BINPACK, got {strategy!r}")
        if count < 0:
            raise ValueError(f"count cannot be negative, got {count}")
        made = []
        for _ in range(count):
            copy = Copy(self._next_copy, component, reservation, strategy)
            self._next_copy += 1
            self._pending[copy.copy_id] = copy
            made.append(copy)
        if count:
            self._waiting[component] = self._waiting.get(component, 0) + count
            self._kinds[id(reservation)] = self._kinds.get(id(reservation), 0) + count
        # the copies pending before still fit nowhere: no instance gained room
        return made, self._place(made, tuple(self._capacity))

    def remove_copies(self, component: str, count: int) -> tuple[list[Copy], list[tuple[Copy, Hashable]]]:
        """Remove up to `count` copies of `component` by the rule in the module docstring.
        Returns (the copies removed, the pending copies placed in the room they left)."""
        removed: list[Copy] = []
        waiting = [c for c in reversed(self._pending.values()) if c.component == component]
        for copy in waiting[:count]:
            del self._pending[copy.copy_id]
            self._waiting[component] -= 1
            self._unkind(copy)
            removed.append(copy)
        freed: dict[Hashable, None] = {}
        while len(removed) < count:
            instance_id = self._scale_in_instance(component)
            if instance_id is None:
                break
            mine = self._of[instance_id][component]
            copy = mine.pop(max(mine) if self._newest_first else min(mine))
            if not mine:
                del self._of[instance_id][component]
            del self._on[instance_id][copy.copy_id]
            del self._where[copy.copy_id]
            self._used[instance_id] = self._used[instance_id] - copy.reservation
            self._free[instance_id] = self._free[instance_id] + copy.reservation
            self._room[instance_id] = _room(self._free[instance_id])
            freed[instance_id] = None
            removed.append(copy)
        if not removed:
            return removed, []
        # only the instances a copy left have room a pending copy could use
        return removed, self._place(list(self._pending.values()), tuple(freed))

    def place_pending(self) -> list[tuple[Copy, Hashable]]:
        """Try every pending copy once, in order; place those that fit."""
        return self._place(list(self._pending.values()), tuple(self._capacity))

    def _place(self, copies: Sequence[Copy], candidates: tuple) -> list[tuple[Copy, Hashable]]:
        """Try `copies` (pending, in copy-id order) once each on `candidates`, which must include
        every instance that any of them could fit on; place those that fit."""
        placed = []
        if not candidates:
            return placed
        nowhere: set[int] = set()  # ids of reservations that fit nowhere: room only shrinks in a pass
        for copy in copies:
            reservation = copy.reservation
            if id(reservation) in nowhere:
                continue
            instance_id = self._choose(copy, candidates)
            if instance_id is None:
                nowhere.add(id(reservation))
                if len(nowhere) == len(self._kinds):  # no pending copy can be placed any more
                    break
                continue
            del self._pending[copy.copy_id]
            self._waiting[copy.component] -= 1
            self._unkind(copy)
            self._on[instance_id][copy.copy_id] = copy
            self._of[instance_id].setdefault(copy.component, {})[copy.copy_id] = copy
            self._where[copy.copy_id] = instance_id
            self._used[instance_id] = self._used[instance_id] + reservation
            self._free[instance_id] = self._free[instance_id] - reservation
            self._room[instance_id] = _room(self._free[instance_id])
            placed.append((copy, instance_id))
        return placed

    def _unkind(self, copy: Copy) -> None:
        """`_kinds` as `copy` stops being pending."""
        key = id(copy.reservation)
        if self._kinds[key] == 1:
            del self._kinds[key]
        else:
            self._kinds[key] -= 1

    # --- the rules ----------------------------------------------------------------------------

    def _count(self, instance_id, component: str) -> int:
        return len(self._of[instance_id].get(component, ()))

    def _choose(self, copy: Copy, candidates: Iterable):
        """The instance a copy goes to, or None when it fits on none of `candidates`."""
        accelerators, cpu, memory = _room(copy.reservation)
        best = best_key = None
        spread = copy.strategy == SPREAD
        rooms, on, of, order = self._room, self._on, self._of, self._order
        for i in candidates:
            room = rooms[i]
            if not (accelerators <= room[0] and cpu <= room[1] and memory <= room[2]):
                continue
            if spread:
                key = (len(of[i].get(copy.component, ())), len(on[i]), order[i])
            else:
                # the room a copy leaves compares as the room there is (the same reservation is taken
                # from each), so the free room stands for it
                key = (0 if on[i] else 1, room[0], room[1], room[2], order[i])
            if best_key is None or key < best_key:
                best, best_key = i, key
        return best

    def _scale_in_instance(self, component: str):
        """The instance a copy scale-in of `component` takes a placed copy from, or None."""
        hosting = [i for i in self._capacity if self._of[i].get(component)]
        if not hosting:
            return None
        strategy = next(iter(self._of[hosting[0]][component].values())).strategy
        sign = -1 if strategy == SPREAD else 1  # SPREAD: the most copies first; BINPACK: the fewest
        return min(hosting, key=lambda i: (sign * self._count(i, component), len(self._on[i]), -self._order[i]))


def _plain(value):
    """An exact quantity as an int when it is whole (ints compare faster than fractions, and as exactly)."""
    return value.numerator if type(value) is Fraction and value.denominator == 1 else value


def _room(capacity: Capacity) -> tuple:
    """(accelerators, CPU cores, memory), `_plain`: the order in which BINPACK compares room."""
    return _plain(capacity.accelerators), _plain(capacity.cpu_cores), _plain(capacity.memory_mb)


def place(instances: Mapping[Hashable, Capacity], copies: Iterable[tuple[str, Capacity, str]],
          scale_in_copy_order: str = "newest") -> tuple[list[tuple[Copy, Hashable]], list[Copy]]:
    """Place `copies` ((component, reservation, strategy), in order) on `instances` (in order) from
    empty. Returns (placements as (copy, instance id), the copies left pending)."""
    placement = Placement(scale_in_copy_order)
    for instance_id, capacity in instances.items():
        placement.add_instance(instance_id, capacity)
    for component, reservation, strategy in copies:
        placement.add_copies(component, reservation, 1, strategy)
    return [(c, placement.placements()[c.copy_id]) for c in _placed(placement)], list(placement.pending)


def _placed(placement: Placement) -> Sequence[Copy]:
    return sorted((c for i in placement.instance_ids for c in placement.copies_on(i)), key=lambda c: c.copy_id)
