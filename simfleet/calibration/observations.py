"""The observation model every source is read into: periods of traffic with latency percentiles.

A reader (`cloudwatch_export`, `locust_csv`, `recommender_response`, `request_log`, `stated`)
returns `Observations`: what was measured (model-side latency as in CloudWatch's ModelLatency, or
client-side latency as Locust sees it), in which periods, at which load. `load_levels` groups the
periods into a few levels of similar load, the unit the fits simulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Period", "Observations", "LoadLevel", "load_levels", "merge"]

Latency = Literal["model", "client"]

#: Open-loop periods whose rate per instance is within this fraction of a level's lowest join it.
LEVEL_SPREAD = 0.10


@dataclass(frozen=True)
class Period:
    """One measured period: its answered requests, latency percentiles (seconds) and load."""

    label: str                            # a timestamp, "users=8", "stated"
    duration_s: float
    requests: float                       # answered (successful) requests in the period
    latency_s: dict[float, float]         # percentile (50, 90, 99) -> seconds
    mean_latency_s: float | None = None
    instances: float | None = None        # in-service instances (Invocations / InvocationsPerInstance)
    users: int | None = None              # closed-loop users (a Locust ramp step)
    cpu_utilization_pct: float | None = None  # CloudWatch CPUUtilization (100 % per vCPU)

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.duration_s


@dataclass(frozen=True)
class Observations:
    """What one or more source files measured, for one variant."""

    sources: tuple[str, ...]              # "file (format, what was read)"
    latency: Latency
    periods: tuple[Period, ...]
    notes: tuple[str, ...] = ()           # what a reader assumed, for the profile's source
    instance_type: str | None = None      # when the source names it (Inference Recommender)

    def describe(self) -> str:
        return "; ".join(self.sources)


@dataclass(frozen=True)
class LoadLevel:
    """Periods of similar load, pooled: what one candidate simulation reproduces."""

    periods: tuple[Period, ...]
    duration_s: float
    requests: float
    instances: int
    users: int | None
    think_time_s: float | None
    latency_s: dict[float, float]        # request-weighted mean of the periods' percentiles
    mean_latency_s: float | None

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.duration_s

    @property
    def label(self) -> str:
        first, last = self.periods[0].label, self.periods[-1].label
        span = first if first == last else f"{first} .. {last}"
        load = f"{self.users} users" if self.users is not None else f"{self.rate_per_s:.4g} req/s"
        return f"{span} ({len(self.periods)} periods, {load} on {self.instances} instance(s))"


def merge(parts: list[Observations]) -> Observations:
    """Several files of one variant read as one set of observations (same latency kind)."""
    kinds = {part.latency for part in parts}
    if len(kinds) > 1:
        raise ValueError("model-side and client-side latencies cannot be calibrated together")
    types = {part.instance_type for part in parts if part.instance_type}
    return Observations(sources=tuple(s for part in parts for s in part.sources), latency=kinds.pop(),
                        periods=tuple(p for part in parts for p in part.periods),
                        notes=tuple(n for part in parts for n in part.notes),
                        instance_type=types.pop() if len(types) == 1 else None)


def load_levels(observations: Observations, max_levels: int, default_instances: int = 1) -> list[LoadLevel]:
    """Group the periods into at most `max_levels` levels of similar load, lowest load first.

    Closed-loop periods are grouped by user count (the largest counts kept apart, where saturation
    shows); open-loop periods by rate per instance: periods within `LEVEL_SPREAD` (10 %) of a
    level's lowest rate join it, and more levels than `max_levels` are pooled in equal-count bins. A
    level's percentile is the request-weighted mean of its periods' percentiles (CloudWatch
    publishes no per-request data to pool exactly; periods of one level have similar load, so their
    percentiles are close)."""
    periods = [p for p in observations.periods if p.requests > 0]
    closed = [p for p in periods if p.users is not None]
    if closed:
        by_users: dict[int, list[Period]] = {}
        for period in closed:
            by_users.setdefault(period.users, []).append(period)
        counts = sorted(by_users)
        if len(counts) > max_levels:
            keep = [counts[round(i * (len(counts) - 1) / (max_levels - 1))] for i in range(max_levels)] \
                if max_levels > 1 else [counts[-1]]
            counts = sorted(set(keep))
        groups = [by_users[n] for n in counts]
    else:
        def per_instance(p: Period) -> float:
            return p.rate_per_s / (p.instances or default_instances)
        ordered = sorted(periods, key=per_instance)
        clusters: list[list[Period]] = []
        for period in ordered:   # a new level where the rate exceeds the level's first by LEVEL_SPREAD
            if not clusters or per_instance(period) > per_instance(clusters[-1][0]) * (1 + LEVEL_SPREAD):
                clusters.append([])
            clusters[-1].append(period)
        bins = np.array_split(np.arange(len(clusters)), min(max_levels, len(clusters)))
        groups = [[p for i in index for p in clusters[i]] for index in bins if len(index)]
    return [_level(group, default_instances) for group in groups]


def _level(periods: list[Period], default_instances: int) -> LoadLevel:
    periods = sorted(periods, key=lambda p: p.label)   # in time order (labels are timestamps or user counts)
    weights = np.array([p.requests for p in periods], dtype=float)
    common = set.intersection(*(set(p.latency_s) for p in periods))
    latency = {q: float(np.average([p.latency_s[q] for p in periods], weights=weights)) for q in sorted(common)}
    means = [p.mean_latency_s for p in periods]
    mean = float(np.average(means, weights=weights)) if all(m is not None for m in means) else None
    instances = [p.instances for p in periods if p.instances]
    duration = float(sum(p.duration_s for p in periods))
    requests = float(weights.sum())
    users = periods[0].users
    think = None
    if users is not None:
        # Little's law for the closed loop: N = X (R + Z), so Z = N / X - R (R: mean latency, or p50).
        response = mean if mean is not None else latency.get(50.0, 0.0)
        think = max(0.0, users / (requests / duration) - response)
    return LoadLevel(periods=tuple(periods), duration_s=duration, requests=requests,
                     instances=max(1, round(float(np.median(instances)))) if instances else default_instances,
                     users=users, think_time_s=think, latency_s=latency, mean_latency_s=mean)
