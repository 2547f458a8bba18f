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
    """

    def __init__(self, scale_in_copy_order: str = "newest"):
        if scale_in_copy_order not in ("newest", "oldest"):
            raise ValueError(f"scale_in_copy_order is 'newest' or 'oldest', got {scale_in_copy_order!r}")
        self._newest_first = scale_in_copy_order == "newest"
        self._capacity: dict[Hashable, Capacity] = {}
        self._order: dict[Hashable, int] = {}
        self._used: dict[Hashable, Capacity] = {}
        self._on: dict[Hashable, dict[int, Copy]] = {}
        self._where: dict[int, Hashable] = {}
        self._pending: dict[int, Copy] = {}
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
        return self._capacity[instance_id] - self._used[instance_id]

    def idle_instances(self) -> tuple:
        """Instances that host no copy (what IDLE_RELEASE may release), in order of addition."""
        return tuple(i for i in self._capacity if not self._on[i])

    def copies_of(self, component: str) -> tuple[Copy, ...]:
        """Placed and pending copies of a component, by copy id."""
        placed = [c for copies in self._on.values() for c in copies.values() if c.component == component]
        waiting = [c for c in self._pending.values() if c.component == component]
        return tuple(sorted(placed + waiting, key=lambda c: c.copy_id))

    def over_committed(self) -> list[Hashable]:
        """Instances whose copies reserve more than they have (always empty unless there is a bug)."""
        out = []
        for instance_id, copies in self._on.items():
            total = sum((c.reservation for c in copies.values()), Capacity())
            if total != self._used[instance_id] or not total.fits_in(self._capacity[instance_id]):
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
        self._on[instance_id] = {}
        return self.place_pending()

    def remove_instance(self, instance_id) -> tuple[list[Copy], list[tuple[Copy, Hashable]]]:
        """The instance leaves: its copies become pending and are placed elsewhere if they fit.
        Returns (its copies, the placements made)."""
        displaced = list(self._on.pop(instance_id).values())
        del self._capacity[instance_id], self._order[instance_id], self._used[instance_id]
        for copy in displaced:
            del self._where[copy.copy_id]
            self._pending[copy.copy_id] = copy
        self._pending = dict(sorted(self._pending.items()))
        return displaced, self.place_pending()

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
        return made, self.place_pending()

    def remove_copies(self, component: str, count: int) -> tuple[list[Copy], list[tuple[Copy, Hashable]]]:
        """Remove up to `count` copies of `component` by the rule in the module docstring.
        Returns (the copies removed, the pending copies placed in the room they left)."""
        removed: list[Copy] = []
        waiting = [c for c in reversed(self._pending.values()) if c.component == component]
        for copy in waiting[:count]:
            del self._pending[copy.copy_id]
            removed.append(copy)
        while len(removed) < count:
            instance_id = self._scale_in_instance(component)
            if instance_id is None:
                break
            ids = [k for k, c in self._on[instance_id].items() if c.component == component]
            copy = self._on[instance_id].pop(max(ids) if self._newest_first else min(ids))
            del self._where[copy.copy_id]
            self._used[instance_id] = self._used[instance_id] - copy.reservation
            removed.append(copy)
        return removed, self.place_pending() if removed else []

    def place_pending(self) -> list[tuple[Copy, Hashable]]:
        """Try every pending copy once, in order; place those that fit."""
        placed = []
        for copy in list(self._pending.values()):
            instance_id = self._choose(copy)
            if instance_id is None:
                continue
            del self._pending[copy.copy_id]
            self._on[instance_id][copy.copy_id] = copy
            self._where[copy.copy_id] = instance_id
            self._used[instance_id] = self._used[instance_id] + copy.reservation
            placed.append((copy, instance_id))
        return placed

    # --- the rules ----------------------------------------------------------------------------

    def _count(self, instance_id, component: str) -> int:
        return sum(1 for c in self._on[instance_id].values() if c.component == component)

    def _choose(self, copy: Copy):
        """The instance a copy goes to, or None when it fits nowhere."""
        fitting = [i for i in self._capacity if copy.reservation.fits_in(self.free(i))]
        if not fitting:
            return None
        if copy.strategy == SPREAD:
            return min(fitting, key=lambda i: (self._count(i, copy.component), len(self._on[i]), self._order[i]))
        return min(fitting, key=lambda i: self._binpack_key(i, copy))

    def _binpack_key(self, instance_id, copy: Copy) -> tuple:
        left = self.free(instance_id) - copy.reservation
        return (0 if self._on[instance_id] else 1, left.accelerators, left.cpu_cores, left.memory_mb,
                self._order[instance_id])

    def _scale_in_instance(self, component: str):
        """The instance a copy scale-in of `component` takes a placed copy from, or None."""
        hosting = [i for i in self._capacity if self._count(i, component)]
        if not hosting:
            return None
        strategy = next(c.strategy for i in hosting for c in self._on[i].values() if c.component == component)
        sign = -1 if strategy == SPREAD else 1  # SPREAD: the most copies first; BINPACK: the fewest
        return min(hosting, key=lambda i: (sign * self._count(i, component), len(self._on[i]), -self._order[i]))


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
