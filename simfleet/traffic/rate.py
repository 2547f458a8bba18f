"""Arrival-rate functions and their inversion: the basis of every open-loop arrival process.

A rate r(t) that is piecewise linear (a schedule interpolated linearly or in steps, plus bursts
as steps on top) has a piecewise quadratic cumulative intensity Λ(t) = ∫₀ᵗ r. Mapping a
unit-rate point sequence S₁ < S₂ < … through Λ⁻¹ gives arrivals with rate r exactly: unit-rate
Poisson points give a non-homogeneous Poisson process, points k − ½ evenly spaced arrivals.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RateFunction"]


class RateFunction:
    """r(t) as segments [a_i, a_{i+1}) with rate linear from r0_i to r1_i; constant after the last."""

    def __init__(self, starts: np.ndarray, r0: np.ndarray, r1: np.ndarray, end_rate: float):
        self.starts = np.asarray(starts, dtype=np.float64)
        self.r0 = np.asarray(r0, dtype=np.float64)
        self.r1 = np.asarray(r1, dtype=np.float64)
        self.end_rate = float(end_rate)
        self.lengths = np.diff(self.starts)
        # Λ at each breakpoint (len(starts)), the last breakpoint starting the constant tail.
        areas = (self.r0 + self.r1) / 2 * self.lengths
        self.cumulative = np.concatenate(([0.0], np.cumsum(areas)))

    @classmethod
    def build(cls, knots: list[tuple[float, float]], interpolation: str,
              bursts: list[tuple[float, float, float]]) -> "RateFunction":
        """From schedule knots [(t, rate)] (t₀ = 0) and bursts [(start, duration, extra_rate)]."""
        times = [t for t, _ in knots]
        rates = [r for _, r in knots]

        def base(t: float, side: str) -> float:
            if interpolation == "step" or len(times) == 1:
                index = np.searchsorted(times, t, side="right" if side == "left" else "left") - 1
                return rates[max(index, 0)]
            return float(np.interp(t, times, rates))

        def extra(a: float, b: float) -> float:
            return sum(rate for start, length, rate in bursts if start <= a and b <= start + length)

        points = sorted(set(times) | {s for s, _, _ in bursts} | {s + d for s, d, _ in bursts})
        r0, r1 = [], []
        for a, b in zip(points, points[1:]):
            r0.append(base(a, "left") + extra(a, b))
            r1.append(base(b, "right") + extra(a, b))
        tail = rates[-1] + extra(points[-1], np.inf)
        return cls(np.array(points), np.array(r0), np.array(r1), tail)

    def rate(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        index = np.searchsorted(self.starts, t, side="right") - 1
        out = np.full(t.shape, self.end_rate)
        inside = index < len(self.lengths)
        i = index[inside]
        frac = (t[inside] - self.starts[i]) / self.lengths[i]
        out[inside] = self.r0[i] + (self.r1[i] - self.r0[i]) * frac
        return out

    def integral(self, t: float) -> float:
        """Λ(t): expected arrivals in [0, t)."""
        index = int(np.searchsorted(self.starts, t, side="right") - 1)
        if index >= len(self.lengths):
            return float(self.cumulative[-1] + self.end_rate * (t - self.starts[-1]))
        x = t - self.starts[index]
        slope = (self.r1[index] - self.r0[index]) / self.lengths[index]
        return float(self.cumulative[index] + self.r0[index] * x + slope * x * x / 2)

    def invert(self, s: np.ndarray) -> np.ndarray:
        """Λ⁻¹(s) for non-decreasing s; +inf where the rate is zero for ever after."""
        s = np.asarray(s, dtype=np.float64)
        index = np.searchsorted(self.cumulative, s, side="right") - 1
        # s is non-decreasing, so the points in the constant tail are its last ones. A block of
        # points usually lies all in the tail (a constant rate) or all before it (a schedule), and
        # each part is inverted without masks (elementwise the same arithmetic as with them).
        in_tail = index >= len(self.lengths)
        n_before = int(np.argmax(in_tail)) if len(s) and in_tail[-1] else len(s)
        if n_before == 0:
            return self._invert_tail(s)
        if n_before == len(s):
            return self._invert_segments(s, index)
        return np.concatenate((self._invert_segments(s[:n_before], index[:n_before]),
                               self._invert_tail(s[n_before:])))

    def _invert_tail(self, s: np.ndarray) -> np.ndarray:
        if self.end_rate > 0:
            return self.starts[-1] + (s - self.cumulative[-1]) / self.end_rate
        return np.full(len(s), np.inf)

    def _invert_segments(self, s: np.ndarray, i: np.ndarray) -> np.ndarray:
        ds = s - self.cumulative[i]
        a = self.r0[i]
        half_slope = (self.r1[i] - self.r0[i]) / self.lengths[i] / 2
        # a·x + half_slope·x² = ds, in the cancellation-free form.
        root = np.sqrt(np.maximum(a * a + 4 * half_slope * ds, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(a + root > 0, 2 * ds / (a + root), 0.0)
        return self.starts[i] + np.minimum(x, self.lengths[i])
