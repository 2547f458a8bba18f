"""Arrival-rate functions and their inversion: the basis of every open-loop arrival process.

A rate r(t) that is piecewise linear (a schedule interpolated linearly or in steps, plus bursts
as steps on top) has a piecewise quadratic cumulative intensity Λ(t) = ∫₀ᵗ r. Mapping a
unit-rate point sequence S₁ < S₂ < … through Λ⁻¹ gives arrivals with rate r exactly: unit-rate
Poisson points give a non-homogeneous Poisson process, points k − ½ evenly spaced arrivals.
"""

from __future__ import annotations

import bisect

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
        """From schedule knots [(t, rate)] (t₀ = 0) and bursts [(start, duration, extra_rate)].

        Linear in the knots and bursts (plus the overlap of bursts): the base rates at every
        breakpoint come from one vectorised lookup, and the bursts over each segment from a sweep
        that keeps the bursts active at its start (each summed in the bursts' order)."""
        times = np.array([t for t, _ in knots], dtype=np.float64)
        rates = np.array([r for _, r in knots], dtype=np.float64)
        ends = [s + d for s, d, _ in bursts]
        points = np.array(sorted(set(times.tolist()) | {s for s, _, _ in bursts} | set(ends)), dtype=np.float64)
        a, b = points[:-1], points[1:]
        if interpolation == "step" or len(times) == 1:
            # the rate just after a (the knot at a counts) and just before b (the knot at b does not)
            left = rates[np.maximum(np.searchsorted(times, a, side="right") - 1, 0)]
            right = rates[np.maximum(np.searchsorted(times, b, side="left") - 1, 0)]
        else:
            left, right = np.interp(a, times, rates), np.interp(b, times, rates)
        # A burst covers a segment [a, b) whole when start <= a < start + duration (its ends are points).
        extra = np.zeros(len(a))
        if bursts:
            opening = sorted(range(len(bursts)), key=lambda k: bursts[k][0])
            closing = sorted(range(len(bursts)), key=lambda k: ends[k])
            active: list[int] = []  # burst numbers active at the segment's start, in the bursts' order
            i = j = 0
            for segment, start in enumerate(a.tolist()):
                while i < len(opening) and bursts[opening[i]][0] <= start:
                    bisect.insort(active, opening[i])
                    i += 1
                while j < len(closing) and ends[closing[j]] <= start:
                    if closing[j] in active:
                        active.remove(closing[j])
                    j += 1
                extra[segment] = sum(bursts[k][2] for k in active if ends[k] > start)
        r0, r1 = left + extra, right + extra
        tail = rates[-1] + sum(rate for start, length, rate in bursts if start <= points[-1] and np.inf <= start + length)
        return cls(points, r0, r1, float(tail))

    def rate(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        index = np.searchsorted(self.starts, t, side="right") - 1
        out = np.full(t.shape, self.end_rate)
        inside = index < len(self.lengths)
        i = index[inside]
        frac = (t[inside] - self.starts[i]) / self.lengths[i]
        out[inside] = self.r0[i] + (self.r1[i] - self.r0[i]) * frac
        return out

    def peak(self, until: float) -> float:
        """The highest rate over [0, until), at most (a segment reaching past `until` counts whole)."""
        before = int(np.searchsorted(self.starts, until, side="left"))
        highest = self.end_rate if before >= len(self.starts) else 0.0
        segments = min(before, len(self.lengths))
        if segments:
            highest = max(highest, float(self.r0[:segments].max()), float(self.r1[:segments].max()))
        return highest

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
            # a rate so small (5e-324 requests/s) that the quotient overflows: +inf, "never", is the answer
            with np.errstate(over="ignore"):
                return self.starts[-1] + (s - self.cumulative[-1]) / self.end_rate
        return np.full(len(s), np.inf)

    def _invert_segments(self, s: np.ndarray, i: np.ndarray) -> np.ndarray:
        ds = s - self.cumulative[i]
        a = self.r0[i]
        half_slope = (self.r1[i] - self.r0[i]) / self.lengths[i] / 2
        # a·x + half_slope·x² = ds, in the cancellation-free form.
        # overflows (rates or slopes near the float limits) give +inf, capped at the segment's length
        with np.errstate(over="ignore"):
            root = np.sqrt(np.maximum(a * a + 4 * half_slope * ds, 0.0))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = np.where(a + root > 0, 2 * ds / (a + root), 0.0)
        return self.starts[i] + np.minimum(x, self.lengths[i])
