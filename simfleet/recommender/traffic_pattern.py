"""The traffic pattern of an Inference Recommender load test: PHASES or STAIRS of closed-loop users.

`InputConfig.TrafficPattern` of the `CreateInferenceRecommendationsJob` request (`job_request`),
with botocore's constraints [BOTO-SM], the ranges of the load-test guide [IRLOAD] and the
continuity rule and message of the troubleshooting page [IRTS]; `schedule` hands the validated
numbers to `traffic_schedule`, which says how many users run at each instant.
"""

from functools import cached_property

from simfleet.recommender.api_fields import _rule, _Spec
from simfleet.recommender.traffic_schedule import UserSchedule, phase_end_users
from simfleet.schema.aws_fields import integer as _int, list_of as _list, one_of as _one_of, optional as _optional

__all__ = ["Phase", "Stairs", "TrafficPattern", "TRAFFIC_TYPES", "CUSTOM_LOAD_TEST_DURATION_S",
           "MAX_USERS_CHANGE_BETWEEN_PHASES"]

TRAFFIC_TYPES = ("PHASES", "STAIRS")
#: `DurationInSeconds` of a phase (and of the stairs) "for custom load tests" [BOTO-SM], [IRLOAD].
CUSTOM_LOAD_TEST_DURATION_S = (120, 3600)
#: Between sequential phases, abs(x_2.A - x_1.B) <= 3 [IRTS].
MAX_USERS_CHANGE_BETWEEN_PHASES = 3

_TrafficDurationInSeconds = _int(ge=1)


class Phase(_Spec):
    """One phase of a PHASES pattern. Ranges: InitialNumberOfUsers "between 1 and 3" [BOTO-SM],
    SpawnRate 0 to 3 new users per minute [IRLOAD]. The 120–3600 s range of DurationInSeconds
    holds "for custom load tests" and is checked on Advanced jobs by the request.

    Decision: all three members are required (botocore marks none; a phase without them cannot
    be run and AWS documents no default)."""

    InitialNumberOfUsers: _int(1, 3)
    SpawnRate: _int(0, 3)
    DurationInSeconds: _TrafficDurationInSeconds

    @property
    def end_users(self) -> int:
        """Users the phase ends with: InitialNumberOfUsers + SpawnRate × DurationInSeconds / 60,
        rounded down (see `traffic_schedule.phase_end_users`)."""
        return phase_end_users(self.InitialNumberOfUsers, self.SpawnRate, self.DurationInSeconds)


class Stairs(_Spec):
    """A STAIRS pattern. UsersPerStep 1–3 [BOTO-SM]; the 120–3600 s range of DurationInSeconds
    [IRLOAD] is checked on Advanced jobs. Decision: all three members are required, and
    DurationInSeconds is the whole pattern (see `traffic_schedule`)."""

    DurationInSeconds: _TrafficDurationInSeconds
    NumberOfSteps: _int(ge=1)
    UsersPerStep: _int(1, 3)


_OptionalStairs = _optional(Stairs)  # a member named like its type needs an alias


class TrafficPattern(_Spec):
    """Decision: TrafficType is required (AWS: "Choose either PHASES or STAIRS"). The pattern the
    type names is required and the other refused ("Specify either the stairs or phases traffic
    pattern" [BOTO-SM]). Sequential phases must start within 3 users of where the previous one
    ended [IRTS]; Decision: no rule that a phase must grow (AWS's "ends with B users such that
    B > A" contradicts the documented SpawnRate minimum of 0)."""

    TrafficType: _one_of(TRAFFIC_TYPES)
    Phases: _optional(_list(Phase, min_len=1)) = None
    Stairs: _OptionalStairs = None

    @_rule()
    def _type_names_the_pattern(self, context):
        found = []
        wanted, other = ("Phases", "Stairs") if self.TrafficType == "PHASES" else ("Stairs", "Phases")
        if getattr(self, wanted) is None:
            found.append(((wanted,), f"required for TrafficType {self.TrafficType}"))
        if getattr(self, other) is not None:
            found.append(((other,), f"not allowed with TrafficType {self.TrafficType}; specify either the stairs "
                          "or phases traffic pattern"))
        return found

    @_rule("Phases")
    def _phases_continue(self, context):
        found = []
        for i, (before, after) in enumerate(zip(self.Phases or (), (self.Phases or ())[1:]), start=1):
            if abs(after.InitialNumberOfUsers - before.end_users) > MAX_USERS_CHANGE_BETWEEN_PHASES:
                found.append((("Phases", i, "InitialNumberOfUsers"),
                              f"Users at the end of prev phase is {before.end_users} while initial users of current "
                              f"phase is {after.InitialNumberOfUsers}: a phase must start within "
                              f"{MAX_USERS_CHANGE_BETWEEN_PHASES} users of the previous one's end (Phases[{i - 1}] "
                              f"ends with {before.InitialNumberOfUsers} + {before.SpawnRate} × "
                              f"{before.DurationInSeconds} / 60 users)"))
        return found

    @property
    def is_complete(self) -> bool:
        """Whether the pattern its TrafficType names is there (a schedule can be built)."""
        return (self.Phases if self.TrafficType == "PHASES" else self.Stairs) is not None

    @cached_property
    def schedule(self) -> UserSchedule:
        """Users over time (see `traffic_schedule` for the Decisions)."""
        if self.TrafficType == "PHASES":
            return UserSchedule.from_phases((p.InitialNumberOfUsers, p.SpawnRate, p.DurationInSeconds)
                                            for p in self.Phases)
        return UserSchedule.from_stairs(self.Stairs.DurationInSeconds, self.Stairs.NumberOfSteps,
                                        self.Stairs.UsersPerStep)

    @property
    def duration_s(self) -> float:
        """Total traffic duration: the sum of the phases, or the stairs' DurationInSeconds."""
        return self.schedule.duration_s

    def users_at(self, t: float) -> int:
        """Users running `t` seconds after the load test starts."""
        return self.schedule.users_at(t)

    def change_points(self) -> list[tuple[float, int]]:
        """(time, users from then on) at the start and wherever the user count changes."""
        return self.schedule.change_points()
