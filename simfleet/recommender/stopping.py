"""When an Inference Recommender load test stops: the job's `StoppingConditions`, minute by minute.

Sits between the request plane and the results: the job runner feeds a `StoppingMonitor` one
`MinuteObservation` per closed minute of a load test and ends the test as soon as it answers
stop; `plateau` and `results` then read the same observations. Pure arithmetic, no engine.

What AWS documents [BOTO-SM], [IRLOAD] (reference/sagemaker-semantics.md §7.2): "If any of the
stopping conditions are met, the job stops"; `MaxInvocations` is "the maximum number of requests
per minute expected for the endpoint"; `ModelLatencyThresholds` holds exactly one
`{Percentile: P95 | P99, ValueInMilliseconds}`; `FlatInvocations` (default `Stop`) "stops a load
test when the number of invocations (TPS) peaks and flattens, which means that the instance has
reached capacity"; `Continue` lets it run on at capacity.

Decision (which minute fires what; AWS gives no rule):

* `ModelLatencyThresholds`: a minute whose latency percentile is strictly over
  ValueInMilliseconds. A latency exactly at the threshold is within it (AWS's load-test example
  reports ModelLatency 100000 µs for a 100 ms threshold [IRLOAD]); a minute without requests
  (latency None) never fires.
* `MaxInvocations`: a minute with at least MaxInvocations invocations (the endpoint under test
  carried the expected load).
* `FlatInvocations` = Stop: see `FlatnessRule`. Never fires while the number of users stays put.
* When several hold in the same minute, the decision names the first of `CONDITIONS` (latency,
  then MaxInvocations, then FlatInvocations) and lists the others in `also`.
* The job's `JobDurationInSeconds` and the end of the traffic pattern are the runner's to watch;
  `StoppingMonitor.check_job_duration` and `StoppingMonitor.end_of_traffic` record them so that
  `decision` always says why the test ended.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["MinuteObservation", "LatencyThreshold", "FlatnessRule", "StopDecision", "StoppingMonitor",
           "CONTINUE", "CONDITIONS", "JOB_DURATION", "TRAFFIC_PATTERN"]

#: Stopping conditions in the order a decision names them when several hold (AWS's member names).
CONDITIONS = ("ModelLatencyThresholds", "MaxInvocations", "FlatInvocations")
#: What else ends a load test: the job's duration, or the traffic pattern running out.
JOB_DURATION = "JobDurationInSeconds"
TRAFFIC_PATTERN = "TrafficPattern"


@dataclass(frozen=True)
class MinuteObservation:
    """One closed minute of a load test.

    `end_s`: end of the minute, seconds since the test started. `invocations`: requests the
    endpoint answered in the minute (errors included, DESIGN §4). `model_latency_ms`: the
    threshold's percentile (P95 or P99) of ModelLatency over the minute's requests, in
    milliseconds, None when the minute had none. `users`: closed-loop users running at the end of
    the minute. `errors`: requests of the minute that ended in an error.
    """

    end_s: float
    invocations: int
    model_latency_ms: float | None
    users: int
    errors: int = 0

    def __post_init__(self):
        if not math.isfinite(self.end_s):
            raise ValueError(f"end_s must be a finite number of seconds, got {self.end_s!r}")
        for name in ("invocations", "users", "errors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
        latency = self.model_latency_ms
        if latency is not None and not (math.isfinite(latency) and latency >= 0):
            raise ValueError(f"model_latency_ms must be None or a finite number ≥ 0, got {latency!r}")


@dataclass(frozen=True)
class LatencyThreshold:
    """`ModelLatencyThresholds[0]`: a latency percentile (P95 or P99) and its limit in milliseconds."""

    percentile: str
    value_ms: float

    def __post_init__(self):
        if self.percentile not in ("P95", "P99"):
            raise ValueError(f"Percentile must be P95 or P99, got {self.percentile!r}")
        if not (math.isfinite(self.value_ms) and self.value_ms > 0):
            raise ValueError(f"ValueInMilliseconds must be a positive number, got {self.value_ms!r}")

    def exceeded_by(self, latency_ms: float | None) -> bool:
        """Strictly over the limit; a minute without requests (None) never is."""
        return latency_ms is not None and latency_ms > self.value_ms


@dataclass(frozen=True)
class FlatnessRule:
    """Decision: what "invocations peak and flatten" means for `FlatInvocations` = Stop.

    At minute i (0-based, i ≥ `window_minutes` = k) compare with minute i − k, counting users
    cautiously, since users join at instants inside minutes: the users running throughout minute i
    are at least min(users at its start, users at its end), those of minute i − k at most the max
    of its two (users at a minute's start are those at the end of the one before; the first
    minute's start is taken to be its end). The minute is flat when

    * users grew: min over minute i − max over minute i − k ≥ `min_user_growth`, and
    * invocations did not follow: with g = invocations[i] / invocations[i−k] − 1 (minute i − k
      must have had invocations) and u = (min over minute i) / (max over minute i − k) − 1, the
      users' growth, g < `max_invocation_growth_pct` / 100 and g < `max_elasticity` × u.

    Below capacity a closed loop's throughput grows in proportion to its users (elasticity 1); at
    capacity it stops growing (elasticity 0). The absolute bound keeps a still-rising series from
    counting as flat when many users join at once. Users who join at the very end of a minute
    cannot have raised its invocations, hence the cautious count: a flat stretch where no more
    users ran never stops a test.
    """

    window_minutes: int = 3
    min_user_growth: int = 1
    max_invocation_growth_pct: float = 5.0
    max_elasticity: float = 0.5

    def __post_init__(self):
        if self.window_minutes < 1 or self.min_user_growth < 1:
            raise ValueError("window_minutes and min_user_growth must be at least 1")
        if self.max_invocation_growth_pct < 0 or self.max_elasticity < 0:
            raise ValueError("max_invocation_growth_pct and max_elasticity must be ≥ 0")

    def flat_at(self, series: list[MinuteObservation], i: int) -> str | None:
        """Why minute `i` of `series` is flat (a reason text), or None when it is not."""
        k = self.window_minutes
        if i < k:
            return None
        then, now = series[i - k], series[i]
        users_then = max(series[max(i - k - 1, 0)].users, then.users)
        users_now = min(series[i - 1].users, now.users)
        if users_now - users_then < self.min_user_growth or then.invocations == 0:
            return None
        growth = now.invocations / then.invocations - 1.0
        user_growth = users_now / users_then - 1.0 if users_then > 0 else math.inf
        if growth < self.max_invocation_growth_pct / 100.0 and growth < self.max_elasticity * user_growth:
            return (f"invocations flat while users grew: {then.invocations} → {now.invocations} per minute "
                    f"({growth:+.1%}) as users went {then.users} → {now.users} over the {k} minutes ending at "
                    f"{now.end_s:g} s")
        return None


@dataclass(frozen=True)
class StopDecision:
    """Whether the test stops after a minute and why.

    `condition`: the AWS name of what stopped it (one of `CONDITIONS`, `JobDurationInSeconds` or
    `TrafficPattern`), None while it continues. `reason`: one line for people. `minute`: index of
    the observation that fired it. `also`: other stopping conditions that held in that minute.
    """

    stop: bool
    condition: str | None = None
    reason: str = "continue"
    minute: int | None = None
    end_s: float | None = None
    also: tuple[str, ...] = ()


#: The answer while no stopping condition holds.
CONTINUE = StopDecision(False)


@dataclass
class StoppingMonitor:
    """The stopping conditions of one load test, fed one `MinuteObservation` at a time.

    `max_invocations`: StoppingConditions.MaxInvocations (per minute), None for none.
    `latency_threshold`: ModelLatencyThresholds[0], None for none. `flat_invocations`: "Stop" or
    "Continue". With Continue the monitor still notes when the invocations first flattened
    (`flat_minute`).
    """

    max_invocations: int | None = None
    latency_threshold: LatencyThreshold | None = None
    flat_invocations: str = "Stop"
    flatness: FlatnessRule = field(default_factory=FlatnessRule)
    observations: list[MinuteObservation] = field(default_factory=list, init=False)
    decision: StopDecision = field(default=CONTINUE, init=False)
    flat_minute: int | None = field(default=None, init=False)

    def __post_init__(self):
        if self.flat_invocations not in ("Stop", "Continue"):
            raise ValueError(f"FlatInvocations must be Stop or Continue, got {self.flat_invocations!r}")
        if self.max_invocations is not None and self.max_invocations < 1:
            raise ValueError(f"MaxInvocations must be at least 1, got {self.max_invocations!r}")

    @classmethod
    def from_stopping_conditions(cls, conditions: Any, flatness: FlatnessRule | None = None) -> "StoppingMonitor":
        """From a job's StoppingConditions: the validated request model
        (`job_request.RecommendationJobStoppingConditions`), the same keys as a mapping, or None
        (a Default job: no condition, FlatInvocations Stop)."""
        if conditions is None:
            conditions = {}
        get = conditions.get if isinstance(conditions, Mapping) else (lambda name: getattr(conditions, name, None))
        thresholds = get("ModelLatencyThresholds") or ()
        if len(thresholds) > 1:
            raise ValueError(f"ModelLatencyThresholds holds exactly one threshold, got {len(thresholds)}")
        threshold = None
        if thresholds:
            item = thresholds[0]
            pick = item.get if isinstance(item, Mapping) else (lambda name: getattr(item, name, None))
            threshold = LatencyThreshold(pick("Percentile"), pick("ValueInMilliseconds"))
        return cls(get("MaxInvocations"), threshold, get("FlatInvocations") or "Stop", flatness or FlatnessRule())

    @property
    def stopped(self) -> bool:
        return self.decision.stop

    def observe(self, minute: MinuteObservation) -> StopDecision:
        """Record the minute that just closed; answer whether the test stops now and why."""
        if self.stopped:
            raise RuntimeError(f"the load test already stopped ({self.decision.reason}); no more minutes")
        if self.observations and minute.end_s <= self.observations[-1].end_s:
            raise ValueError(f"minutes must come in time order: {minute.end_s:g} s after "
                             f"{self.observations[-1].end_s:g} s")
        self.observations.append(minute)
        i = len(self.observations) - 1
        held: list[tuple[str, str]] = []
        threshold = self.latency_threshold
        if threshold is not None and threshold.exceeded_by(minute.model_latency_ms):
            held.append(("ModelLatencyThresholds",
                         f"{threshold.percentile} model latency {minute.model_latency_ms:g} ms in the minute ending at "
                         f"{minute.end_s:g} s is over the threshold of {threshold.value_ms:g} ms"))
        if self.max_invocations is not None and minute.invocations >= self.max_invocations:
            held.append(("MaxInvocations",
                         f"{minute.invocations} invocations in the minute ending at {minute.end_s:g} s reached "
                         f"MaxInvocations {self.max_invocations} per minute"))
        flat = self.flatness.flat_at(self.observations, i)
        if flat is not None and self.flat_minute is None:
            self.flat_minute = i
        if flat is not None and self.flat_invocations == "Stop":
            held.append(("FlatInvocations", flat))
        if held:
            (condition, reason), others = held[0], tuple(name for name, _ in held[1:])
            self.decision = StopDecision(True, condition, reason, i, minute.end_s, others)
        return self.decision

    def check_job_duration(self, elapsed_s: float, job_duration_s: float | None) -> StopDecision:
        """Stop when `elapsed_s` since the job started has reached JobDurationInSeconds (None: no limit)."""
        if self.stopped or job_duration_s is None or elapsed_s < job_duration_s:
            return self.decision
        self.decision = StopDecision(True, JOB_DURATION, f"the job duration of {job_duration_s:g} s was reached",
                                     len(self.observations) - 1 if self.observations else None, elapsed_s)
        return self.decision

    def end_of_traffic(self, end_s: float) -> StopDecision:
        """The traffic pattern ran out at `end_s` before any stopping condition held."""
        if self.stopped:
            return self.decision
        self.decision = StopDecision(True, TRAFFIC_PATTERN, f"the traffic pattern ended at {end_s:g} s with no "
                                     "stopping condition met", len(self.observations) - 1 if self.observations
                                     else None, end_s)
        return self.decision
