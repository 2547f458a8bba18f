"""How many closed-loop users an Inference Recommender traffic pattern runs at each instant.

Pure arithmetic on the numbers of a validated `TrafficPattern` (`job_request`); the request plane
will start and stop users at the change points. Time is in seconds from the start of the load
test. See reference/sagemaker-semantics.md §7.2.

Decision (PHASES; AWS says only that a phase starts with `InitialNumberOfUsers` and spawns
`SpawnRate` new users per minute for `DurationInSeconds`, not how): users are spawned whole, one
at a time, at instants spaced 60 / SpawnRate s, the first one interval after the phase starts.
So a phase has exactly InitialNumberOfUsers users at its start and InitialNumberOfUsers +
SpawnRate × m after m whole minutes; a spawn that would fall on or after the phase's end does
not happen, and at that instant the next phase starts with its own InitialNumberOfUsers (users
are removed if it is lower).

Decision (STAIRS; AWS's load-test guide and its API reference disagree): `DurationInSeconds` is
the length of the whole pattern and each of the `NumberOfSteps` steps lasts DurationInSeconds /
NumberOfSteps, as the guide states with a worked example ("if DurationInSeconds is 600 and you
specify 5 steps, each step lasts 120 seconds") [IRLOAD]; the API reference says "how long each
traffic step should be" [BOTO-SM]. Step k (from 0) runs (k + 1) × UsersPerStep users.

Decision: there are no users before the pattern starts or once it has ended (the load test's
traffic is over; `JobDurationInSeconds` only caps it).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Segment", "UserSchedule", "phase_end_users"]


def phase_end_users(initial_users: int, spawn_rate_per_min: int, duration_s: int) -> int:
    """Users a phase ends with, as AWS describes it: it starts with `initial_users` and grows by
    `spawn_rate_per_min` per minute for `duration_s`, rounded down to whole users.

    Decision: this nominal count is what AWS's continuity rule compares with the next phase's
    InitialNumberOfUsers; in `UserSchedule` the last of these spawns may fall exactly on the
    phase's end, where the next phase takes over.
    """
    return initial_users + spawn_rate_per_min * duration_s // 60


@dataclass(frozen=True)
class Segment:
    """A stretch of the schedule whose user count grows by `users_per_tick` at `ticks` instants
    `start_s + k × interval_s` (k = 1 … ticks), all before `end_s`."""

    start_s: float
    end_s: float
    initial_users: int
    interval_s: float = 0.0
    users_per_tick: int = 0
    ticks: int = 0

    def tick_time(self, k: int) -> float:
        """Instant of the k-th tick; the one expression both `users_at` and `change_points` use."""
        return self.start_s + k * self.interval_s

    def ticks_by(self, t: float) -> int:
        """How many ticks have happened at time `t` (a tick at exactly `t` included)."""
        if self.ticks == 0 or t < self.start_s:
            return 0
        k = min(self.ticks, int((t - self.start_s) / self.interval_s))
        while k < self.ticks and self.tick_time(k + 1) <= t:
            k += 1
        while k > 0 and self.tick_time(k) > t:
            k -= 1
        return k

    def users_at(self, t: float) -> int:
        return self.initial_users + self.users_per_tick * self.ticks_by(t)


class UserSchedule:
    """The number of users as a step function of time: `users_at(t)` and its `change_points()`."""

    def __init__(self, segments: Iterable[Segment]):
        self.segments: tuple[Segment, ...] = tuple(segments)
        if not self.segments:
            raise ValueError("a user schedule needs at least one segment")
        self._starts = [segment.start_s for segment in self.segments]

    @classmethod
    def from_phases(cls, phases: Iterable[tuple[int, int, int]]) -> "UserSchedule":
        """From (InitialNumberOfUsers, SpawnRate per minute, DurationInSeconds) of each phase."""
        segments, start = [], 0
        for initial, rate, duration in phases:
            # spawns k = 1, 2, … at k × 60 / rate while strictly inside the phase: k × 60 < rate × duration
            ticks = (rate * duration - 1) // 60 if rate > 0 else 0
            segments.append(Segment(float(start), float(start + duration), initial,
                                    60.0 / rate if rate > 0 else 0.0, 1, ticks))
            start += duration
        return cls(segments)

    @classmethod
    def from_stairs(cls, duration_s: int, number_of_steps: int, users_per_step: int) -> "UserSchedule":
        """From the `Stairs` numbers (see the STAIRS Decision above)."""
        return cls([Segment(0.0, float(duration_s), users_per_step, duration_s / number_of_steps,
                            users_per_step, number_of_steps - 1)])

    @property
    def duration_s(self) -> float:
        """Length of the whole pattern."""
        return self.segments[-1].end_s

    def segment_at(self, t: float) -> Segment | None:
        """The segment (phase, or the stairs) running at `t`, None outside the pattern."""
        if t < 0 or t >= self.duration_s:
            return None
        return self.segments[bisect_right(self._starts, t) - 1]

    def users_at(self, t: float) -> int:
        """Users running at time `t` (after any change that happens exactly at `t`)."""
        segment = self.segment_at(t)
        return 0 if segment is None else segment.users_at(t)

    def change_points(self) -> list[tuple[float, int]]:
        """(time, users from then on) at the start and at every instant the count changes, the
        last being (duration, 0)."""
        points: list[tuple[float, int]] = []

        def add(t: float, users: int) -> None:
            if not points or points[-1][1] != users:
                points.append((t, users))

        for segment in self.segments:
            add(segment.start_s, segment.initial_users)
            for k in range(1, segment.ticks + 1):
                add(segment.tick_time(k), segment.initial_users + segment.users_per_tick * k)
        add(self.duration_s, 0)
        return points
