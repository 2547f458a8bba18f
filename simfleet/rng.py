"""Named random streams, spawned from one `SeedSequence` per run.

Every consumer of randomness (a traffic source's arrivals, a variant's service times, the
routing draws...) owns a stream named after what it draws, so adding a consumer never shifts
another's numbers. Streams hand out values through `BufferedDraws`, which draws fixed-size blocks
and serves them in order: however the run is cut into segments, request k of a stream always
gets the same value.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

__all__ = ["RandomStreams", "BufferedDraws", "spawn_key", "child_seed"]

BLOCK = 8192


def spawn_key(text: str) -> tuple[int, ...]:
    """Four 32-bit words of sha256(text): a `SeedSequence` spawn key that depends on content only."""
    digest = hashlib.sha256(text.encode()).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def child_seed(seed: int, name: str) -> int:
    """A run seed (0 to 2**63 - 1) derived from `seed` and a name (a sweep point, a load test):
    the same for the same pair, whatever else is derived from `seed`."""
    sequence = np.random.SeedSequence(seed, spawn_key=spawn_key(name))
    return int(sequence.generate_state(2, np.uint64)[0] % np.uint64(2**63))


class RandomStreams:
    """Independent generators by name, deterministic in (seed, name)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._root = np.random.SeedSequence(seed)

    @property
    def entropy(self) -> int:
        return int(self._root.entropy)

    def generator(self, name: str) -> np.random.Generator:
        """A generator for `name`; the same name always yields the same sequence."""
        child = np.random.SeedSequence(self._root.entropy, spawn_key=spawn_key(name))
        return np.random.Generator(np.random.PCG64(child))

    def draws(self, name: str, draw: Callable[[np.random.Generator, int], np.ndarray]) -> "BufferedDraws":
        return BufferedDraws(self.generator(name), draw)


class BufferedDraws:
    """Values of `draw(rng, size)` served in order, in blocks of `BLOCK`."""

    def __init__(self, rng: np.random.Generator, draw: Callable[[np.random.Generator, int], np.ndarray]):
        self._rng = rng
        self._draw = draw
        self._buffer = np.empty(0)
        self._position = 0

    def take(self, n: int) -> np.ndarray:
        """The next `n` values (a new array)."""
        out = np.empty(n)
        filled = 0
        while filled < n:
            if self._position == len(self._buffer):
                self._buffer = np.asarray(self._draw(self._rng, BLOCK), dtype=np.float64)
                self._position = 0
            count = min(n - filled, len(self._buffer) - self._position)
            out[filled:filled + count] = self._buffer[self._position:self._position + count]
            self._position += count
            filled += count
        return out
