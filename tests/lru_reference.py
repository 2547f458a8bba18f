"""Independent references for the multi-model cache (issue 15): LRU replays and Che's approximation.

These sit beside the tests, not in the engine: the multi-model station's cache will be compared
against them (hit for hit, eviction for eviction, with loads negligible), and its hit ratio under
independent Zipf requests against `che_hit_ratio`. They are written the plainest way, from the
definitions, without reading any engine code, and `tests/test_lru_reference.py` checks them against
brute-force definitions and against each other before any engine exists.

* `lru_replay`: one LRU cache, by count or by bytes. A request is served at once (loads take no
  time); a miss admits the model after evicting least recently used models until it fits.
* `two_tier_replay`: the two tiers of a multi-model instance (container memory and the storage
  volume, reference §5 and §11.1): memory hit, disk hit (load without download) or miss
  (download and load), with the unloads and deletions it takes.
* `che_hit_ratio`, `che_hit_ratio_sized`: Che's characteristic-time approximation of the LRU hit
  ratio under the independent reference model (IRM).
* `zipf_popularity`: p_i proportional to 1 / i^s.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

# ----------------------------------------------------------------------------- one tier


@dataclass(frozen=True)
class Eviction:
    request: int        # index of the request whose admission caused it
    model: Hashable


@dataclass(frozen=True)
class LruReplay:
    hit: np.ndarray                   # bool per request
    evictions: tuple[Eviction, ...]   # in the order they happened (least recently used first within a request)


def _check_capacity(capacity, by_count: bool, name: str = "capacity") -> None:
    if isinstance(capacity, bool):
        raise ValueError(f"{name}: expected a number, got {capacity!r}")
    if by_count:
        if not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"{name}: expected a whole number of models >= 1, got {capacity!r}")
    elif not (isinstance(capacity, (int, float, np.integer, np.floating)) and math.isfinite(capacity)
              and capacity > 0):
        raise ValueError(f"{name}: expected a finite number of bytes > 0, got {capacity!r}")


def _checked_sizes(requests: list, sizes, capacity, name: str) -> dict:
    """{model: size} for every requested model; every size positive, finite and within `capacity`."""
    out = {}
    for model in dict.fromkeys(requests):
        try:
            size = sizes[model]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"{name}: no size for model {model!r}") from None
        if isinstance(size, bool) or not (isinstance(size, (int, float, np.integer, np.floating))
                                          and math.isfinite(size) and size > 0):
            raise ValueError(f"{name}: model {model!r} has size {size!r}, expected a finite number > 0")
        if size > capacity:
            raise ValueError(f"{name}: model {model!r} ({size} bytes) is larger than the capacity ({capacity})")
        out[model] = size
    return out


def lru_replay(requests: Sequence[Hashable], capacity, sizes=None) -> LruReplay:
    """Replay `requests` (model ids) through one LRU cache; every request is served at once.

    Without `sizes`, `capacity` is a number of models. With `sizes` (bytes per model: a mapping,
    or a sequence indexed by model id), `capacity` is bytes, and a miss evicts least recently used
    models until the new one fits. A requested model larger than the capacity is an error
    (ValueError), as is a missing or non-positive size. A hit evicts nothing.
    """
    requests = list(requests)
    _check_capacity(capacity, by_count=sizes is None)
    size_of = dict.fromkeys(requests, 1) if sizes is None else _checked_sizes(requests, sizes, capacity, "sizes")

    cache: OrderedDict = OrderedDict()   # model -> size, least recently used first
    used = 0
    hit = np.zeros(len(requests), dtype=bool)
    evictions = []
    for k, model in enumerate(requests):
        if model in cache:
            hit[k] = True
            cache.move_to_end(model)
            continue
        while used + size_of[model] > capacity:
            victim, victim_size = cache.popitem(last=False)
            used -= victim_size
            evictions.append(Eviction(k, victim))
        cache[model] = size_of[model]
        used += size_of[model]
    return LruReplay(hit, tuple(evictions))


# ----------------------------------------------------------------------------- two tiers

MEMORY_HIT, DISK_HIT, MISS = 0, 1, 2   # per-request outcome of `two_tier_replay`
UNLOAD, DELETE = "unload", "delete"


@dataclass(frozen=True)
class TierEvent:
    request: int        # index of the request that caused it
    kind: str           # UNLOAD (memory -> disk only) or DELETE (off the disk)
    model: Hashable


@dataclass(frozen=True)
class TwoTierReplay:
    outcome: np.ndarray               # int8 per request: MEMORY_HIT, DISK_HIT or MISS
    events: tuple[TierEvent, ...]     # unloads and deletions, in the order they happened

    @property
    def unloads(self) -> list[TierEvent]:
        return [e for e in self.events if e.kind == UNLOAD]

    @property
    def deletions(self) -> list[TierEvent]:
        return [e for e in self.events if e.kind == DELETE]


def two_tier_replay(requests: Sequence[Hashable], memory_capacity, disk_capacity, memory_sizes,
                    disk_sizes) -> TwoTierReplay:
    """Replay `requests` through one instance's model cache: container memory over the storage volume.

    Capacities and sizes are bytes (sizes: mappings, or sequences indexed by model id). One
    recency order covers both tiers (the last request of each model). A model in memory is always
    on disk too. For each request, served at once (downloads and loads take no time):

    * in memory: MEMORY_HIT, nothing moves;
    * on disk only: DISK_HIT, the model is loaded (no download);
    * nowhere: MISS, the model is downloaded, then loaded (reference §5's request path).

    Download: while the disk cannot hold the model, delete the least recently used model on disk
    that is not loaded. Our rule (AWS says only "unused models" are deleted): a loaded model is never
    deleted while a disk-only model can go; if every model on disk is loaded, the least recently
    used one is unloaded first, then deleted (an UNLOAD then a DELETE of the same model), which
    keeps memory within the disk. (Here, with one recency order and LRU unloads, memory is always
    the most recently used end of the disk, so the disk's least recently used model is loaded only
    when every model on disk is; the rule decides something only in the engine, where a request in
    flight pins its model.)
    Load: while memory cannot hold the model, unload the least recently used loaded model; it stays
    on disk and can come back as a DISK_HIT.
    A model larger than either capacity is an error (ValueError).
    """
    requests = list(requests)
    _check_capacity(memory_capacity, by_count=False, name="memory_capacity")
    _check_capacity(disk_capacity, by_count=False, name="disk_capacity")
    memory_size = _checked_sizes(requests, memory_sizes, memory_capacity, "memory_sizes")
    disk_size = _checked_sizes(requests, disk_sizes, disk_capacity, "disk_sizes")

    memory: OrderedDict = OrderedDict()   # loaded models, least recently used first
    disk: OrderedDict = OrderedDict()     # models on disk, least recently used first (memory's superset)
    memory_used = disk_used = 0
    outcome = np.zeros(len(requests), dtype=np.int8)
    events = []

    def unload(k, model):
        nonlocal memory_used
        del memory[model]
        memory_used -= memory_size[model]
        events.append(TierEvent(k, UNLOAD, model))

    def delete(k, model):
        nonlocal disk_used
        del disk[model]
        disk_used -= disk_size[model]
        events.append(TierEvent(k, DELETE, model))

    for k, model in enumerate(requests):
        if model in memory:
            outcome[k] = MEMORY_HIT
            memory.move_to_end(model)
            disk.move_to_end(model)
            continue
        if model in disk:
            outcome[k] = DISK_HIT
            disk.move_to_end(model)
        else:
            outcome[k] = MISS
            while disk_used + disk_size[model] > disk_capacity:
                victim = next((m for m in disk if m not in memory), None)
                if victim is None:              # every model on disk is loaded
                    victim = next(iter(memory))
                    unload(k, victim)
                delete(k, victim)
            disk[model] = True
            disk_used += disk_size[model]
        while memory_used + memory_size[model] > memory_capacity:
            unload(k, next(iter(memory)))
        memory[model] = True
        memory_used += memory_size[model]
    return TwoTierReplay(outcome, tuple(events))


# ----------------------------------------------------------------------------- Che's approximation


def zipf_popularity(n: int, s: float) -> np.ndarray:
    """p_i = (1 / i^s) / Σ_j 1 / j^s for ranks i = 1..n (s = 0 is uniform)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a whole number of models >= 1, got {n!r}")
    if isinstance(s, bool) or not isinstance(s, (int, float, np.integer, np.floating)) or not math.isfinite(s) or s < 0:
        raise ValueError(f"s: expected a finite Zipf exponent >= 0, got {s!r}")
    weights = np.arange(1, n + 1, dtype=np.float64) ** -float(s)
    return weights / weights.sum()


def _normalised(popularity) -> np.ndarray:
    p = np.asarray(popularity, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise ValueError("popularity: expected a non-empty list of finite weights >= 0, not all 0")
    return p / p.sum()


def che_characteristic_time(popularity, sizes, capacity) -> float:
    """T solving Σ_i s_i (1 − exp(−p_i T)) = C (p normalised); inf when everything requested fits."""
    p = _normalised(popularity)
    s = np.asarray(sizes, dtype=np.float64)
    if s.shape != p.shape or not np.isfinite(s).all() or (s <= 0).any():
        raise ValueError("sizes: expected one finite size > 0 per model")
    _check_capacity(capacity, by_count=False)
    if capacity >= s[p > 0].sum():
        return math.inf

    def excess(t: float) -> float:
        return float(np.dot(s, -np.expm1(-p * t))) - capacity   # increasing in t, -C at t = 0

    high = 1.0
    while excess(high) <= 0:      # ends: excess -> Σ_{p_i>0} s_i − C > 0 as t grows
        high *= 2.0
    return brentq(excess, 0.0, high, xtol=1e-12 * high, rtol=1e-14, maxiter=500)


def che_hit_ratio(popularity, capacity: int) -> float:
    """Che's approximation of the LRU hit ratio for unit-size objects under IRM.

    `popularity`: request probabilities (weights, normalised here) of the n objects; `capacity`:
    objects the cache holds. T solves Σ_i (1 − exp(−p_i T)) = C; hit ratio Σ_i p_i (1 − exp(−p_i T)).
    Capacity at least the number of requested objects gives 1.
    Che, Tung, Wang (2002), IEEE JSAC 20(7); Fricker, Robert, Roberts (2012), ITC 24, explain why it
    is accurate (for Zipf-like popularity, errors around 1 % or less, smaller as C grows).
    """
    p = _normalised(popularity)
    _check_capacity(capacity, by_count=True)
    return _hit_ratio(p, che_characteristic_time(p, np.ones_like(p), capacity))


def che_hit_ratio_sized(popularity, sizes, capacity) -> float:
    """Che's approximation of the LRU request hit ratio for objects of unequal sizes under IRM.

    T solves Σ_i s_i (1 − exp(−p_i T)) = C (bytes), hit ratio Σ_i p_i (1 − exp(−p_i T)).
    Accuracy limits: one characteristic time for every object assumes the cache is full to exactly
    C bytes and that an object stays while fewer than C bytes of other objects are requested. Real
    LRU by bytes is neither: it keeps an object only while its own size plus the distinct bytes
    requested since fit, so a large object leaves sooner than T says, and after evicting to make
    room the cache sits up to one object below C. The approximation is good when objects are small
    against the cache (many in it) and sizes are not tied to popularity; it tends to overestimate
    the hit ratio as sizes approach C, and the error is larger than the unit-size case's.
    """
    p = _normalised(popularity)
    return _hit_ratio(p, che_characteristic_time(p, sizes, capacity))


def _hit_ratio(p: np.ndarray, t: float) -> float:
    if math.isinf(t):
        return 1.0
    return float(np.dot(p, -np.expm1(-p * t)))
