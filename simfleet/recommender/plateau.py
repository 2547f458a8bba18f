"""Where a load test's invocations level off: the minute the results of a recommendation are read at.

Between `stopping` (the per-minute observations of one load test) and `results` (its metrics).
AWS: the scalar values of a recommendation "are based on the time the invocations graph first
starts to level off", e.g. the reported ModelLatency is the one at the start of the plateau
[IRRES] (reference/sagemaker-semantics.md §7.3). How "levels off" is judged is not documented.

Decision (the plateau):

* Only minutes within the latency threshold count: the minutes before the first one whose
  latency percentile is over ValueInMilliseconds, that had at least one invocation (and a latency
  value, when there is a threshold). A result over the threshold is no recommendation.
* The plateau level is the highest invocation count of those minutes; the plateau starts at the
  first of them whose count is within `PlateauRule.level_tolerance_pct` (default 5 %) of that
  level. A series that rises and then stays flat starts its plateau at its first flat minute; a
  series cut short by the latency threshold while still rising has its plateau at the last minute
  within the threshold.
* `results` reads MaxInvocations from the level (DESIGN §4: the maximum invocations per minute
  within the latency threshold) and ModelLatency, CpuUtilization and MemoryUtilization at the
  start of the plateau (AWS's "moment the graph first levels off").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from simfleet.recommender.stopping import LatencyThreshold, MinuteObservation

__all__ = ["PlateauRule", "Plateau", "find_plateau", "minutes_within_threshold"]


@dataclass(frozen=True)
class PlateauRule:
    """Decision: how close to the highest count a minute must come to belong to the plateau."""

    level_tolerance_pct: float = 5.0

    def __post_init__(self):
        if not (math.isfinite(self.level_tolerance_pct) and 0 <= self.level_tolerance_pct < 100):
            raise ValueError(f"level_tolerance_pct must be in [0, 100), got {self.level_tolerance_pct!r}")


@dataclass(frozen=True)
class Plateau:
    """The start of a load test's plateau.

    `minute`: index of the observation where it starts; `level_invocations`: the highest
    invocations per minute within the threshold (of the endpoint under test, all its instances);
    `limited_by_latency`: a later minute went over the latency threshold.
    """

    minute: int
    end_s: float
    invocations: int
    model_latency_ms: float | None
    level_invocations: int
    level_minute: int
    limited_by_latency: bool


def minutes_within_threshold(observations: Sequence[MinuteObservation],
                             threshold: LatencyThreshold | None = None) -> tuple[list[int], int | None]:
    """Indices of the minutes the plateau may start at (see the module's Decision), and the index of
    the first minute over the threshold (None if none was)."""
    eligible: list[int] = []
    breach = None
    for i, minute in enumerate(observations):
        if threshold is not None and threshold.exceeded_by(minute.model_latency_ms):
            breach = i
            break
        if minute.invocations >= 1 and (threshold is None or minute.model_latency_ms is not None):
            eligible.append(i)
    return eligible, breach


def find_plateau(observations: Sequence[MinuteObservation], threshold: LatencyThreshold | None = None,
                 rule: PlateauRule = PlateauRule()) -> Plateau | None:
    """The start of the plateau of `observations` (in time order), None when no minute was within
    the latency threshold with at least one invocation."""
    eligible, breach = minutes_within_threshold(observations, threshold)
    if not eligible:
        return None
    level_minute = max(eligible, key=lambda i: (observations[i].invocations, -i))
    level = observations[level_minute].invocations
    floor = level * (1.0 - rule.level_tolerance_pct / 100.0)
    start = next(i for i in eligible if observations[i].invocations >= floor)
    minute = observations[start]
    return Plateau(start, minute.end_s, minute.invocations, minute.model_latency_ms, level, level_minute,
                   breach is not None)
