"""CloudWatch metric alarms, evaluated period by period the way CloudWatch documents it.

Sits between the simulated CloudWatch and the scaling policies: the engine aggregates each
alarm's metric over one period (the alarm's statistic) and calls `Alarm.feed` with that value,
or with None when the period had no datapoint. The alarm answers with its state and, when the
state changed, an `AlarmTransition` (time, old and new state, and a CloudWatch-style reason
that quotes the datapoints behind it) for `events.parquet`.

Rules implemented (CloudWatch User Guide, "Using Amazon CloudWatch alarms", sections
"Alarm evaluation", "Configuring how CloudWatch alarms treat missing data", "How alarm state is
evaluated when data is missing" and "Avoiding premature transitions to alarm state";
awsdocs/amazon-cloudwatch-user-guide `doc_source/AlarmThatSendsEmail.md`):

* M of N: the last `evaluation_periods` (N) datapoints are evaluated; ALARM when at least
  `datapoints_to_alarm` (M) breach, otherwise OK. Breaching datapoints need not be consecutive.
* CloudWatch retrieves an *evaluation range* longer than N. If it holds at least N real
  datapoints, the N most recent real ones are evaluated and TreatMissingData is not used.
* Otherwise the shortfall (N - real) is filled with the TreatMissingData result, as few fills
  as possible, and every real datapoint of the range is included: `breaching` fills breach,
  `notBreaching` fills do not; `missing` goes to INSUFFICIENT_DATA when the whole range is
  missing; `ignore` keeps the current state then.
* Premature-alarm rule: ALARM (even with fewer than M real datapoints, and even with `missing`)
  when the oldest breaching datapoint is at least M periods old and every more recent datapoint
  is breaching or missing. The guide states the age bound once as M and once as N; its tables
  fit M, and fit only if no real datapoint of the range is non-breaching (row "0 - X - -" of
  the 2-of-3 table stays OK), which is how it is implemented.

Decisions where CloudWatch is silent (each a constructor argument):

* `evaluation_range` defaults to N + 2 (the guide's worked examples use 5 for N = 3).
* `missing` / `ignore` with some but fewer than N real datapoints: fills count as not breaching
  (this reproduces every row of the guide's two tables); with `ignore`, an outcome that would
  rest only on the premature-alarm rule keeps the current state instead (table rows 5).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = [
    "OK",
    "ALARM",
    "INSUFFICIENT_DATA",
    "COMPARISON_OPERATORS",
    "TREAT_MISSING_DATA",
    "AlarmTransition",
    "AlarmEvaluation",
    "Alarm",
    "AlarmPair",
    "target_tracking_alarms",
]

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

#: PutMetricAlarm `ComparisonOperator` values for static thresholds, with the phrase CloudWatch
#: uses in its state reasons.
COMPARISON_OPERATORS: dict[str, str] = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}

#: PutMetricAlarm `TreatMissingData` values; `missing` is the default.
TREAT_MISSING_DATA = ("missing", "notBreaching", "breaching", "ignore")

_MAX_ALARM_SPAN_S = 86_400  # "evaluation periods x period length can't exceed one day"


@dataclass(frozen=True)
class AlarmTransition:
    """One alarm state change, a row for `events.parquet`.

    `values` are the datapoints of the evaluation range, oldest first (None = missing);
    `evaluated` the ones the decision rested on (filled ones included, as `treated_as`).
    """

    time_s: float
    old_state: str
    new_state: str
    reason: str
    values: tuple[float | None, ...]
    threshold: float
    breaching: int
    evaluated: int


@dataclass(frozen=True)
class AlarmEvaluation:
    """What one `Alarm.feed` call returns: the state after the period, and the change if any."""

    state: str
    transition: AlarmTransition | None


def _fmt(value: float) -> str:
    return repr(float(value))


class Alarm:
    """A CloudWatch metric alarm on a static threshold, fed one aggregated value per period.

    >>> a = Alarm(1500.0, "GreaterThanThreshold", 60, 3, 3)
    >>> [a.feed(v).state for v in (1600, 1700, 1800)]
    ['OK', 'OK', 'ALARM']
    """

    def __init__(
        self,
        threshold: float,
        comparison: str,
        period_s: int,
        evaluation_periods: int,
        datapoints_to_alarm: int | None = None,
        treat_missing_data: str = "missing",
        *,
        evaluation_range: int | None = None,
        initial_state: str = INSUFFICIENT_DATA,
        name: str = "",
    ) -> None:
        problems = []
        if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
            problems.append(f"threshold must be a finite number, got {threshold!r}")
        if comparison not in COMPARISON_OPERATORS:
            problems.append(
                f"comparison must be one of {', '.join(COMPARISON_OPERATORS)}, got {comparison!r}"
            )
        if not isinstance(period_s, int) or not (
            period_s in (10, 20, 30) or (period_s > 0 and period_s % 60 == 0)
        ):
            problems.append(f"period_s must be 10, 20, 30 or a multiple of 60, got {period_s!r}")
        if not isinstance(evaluation_periods, int) or evaluation_periods < 1:
            problems.append(f"evaluation_periods must be an integer >= 1, got {evaluation_periods!r}")
        if datapoints_to_alarm is None:
            datapoints_to_alarm = evaluation_periods
        if not isinstance(datapoints_to_alarm, int) or not (
            1 <= datapoints_to_alarm <= (evaluation_periods if isinstance(evaluation_periods, int) else 0)
        ):
            problems.append(
                "datapoints_to_alarm must be an integer in [1, evaluation_periods], "
                f"got {datapoints_to_alarm!r}"
            )
        if treat_missing_data not in TREAT_MISSING_DATA:
            problems.append(
                f"treat_missing_data must be one of {', '.join(TREAT_MISSING_DATA)}, "
                f"got {treat_missing_data!r}"
            )
        if initial_state not in (OK, ALARM, INSUFFICIENT_DATA):
            problems.append(f"initial_state must be OK, ALARM or INSUFFICIENT_DATA, got {initial_state!r}")
        if not problems:
            if period_s * evaluation_periods > _MAX_ALARM_SPAN_S:
                problems.append(
                    f"evaluation_periods x period_s must not exceed 86400 s, got "
                    f"{evaluation_periods} x {period_s}"
                )
            if evaluation_range is None:
                evaluation_range = evaluation_periods + 2
            if not isinstance(evaluation_range, int) or evaluation_range < evaluation_periods:
                problems.append(
                    f"evaluation_range must be an integer >= evaluation_periods, got {evaluation_range!r}"
                )
        if problems:
            label = f"alarm {name!r}: " if name else "alarm: "
            raise ValueError(label + "; ".join(problems))
        self.threshold = float(threshold)
        self.comparison = comparison
        self.period_s = period_s
        self.evaluation_periods = evaluation_periods
        self.datapoints_to_alarm = datapoints_to_alarm
        self.treat_missing_data = treat_missing_data
        self.evaluation_range = evaluation_range
        self.name = name
        self._state = initial_state
        self._window: deque[float | None] = deque(maxlen=evaluation_range)
        self._periods_fed = 0
        self.history: list[AlarmTransition] = []

    @property
    def state(self) -> str:
        """Current state: OK, ALARM or INSUFFICIENT_DATA."""
        return self._state

    def breaches(self, value: float) -> bool:
        """True when `value` is on the alarming side of the threshold."""
        t = self.threshold
        op = self.comparison
        if op == "GreaterThanThreshold":
            return value > t
        if op == "GreaterThanOrEqualToThreshold":
            return value >= t
        if op == "LessThanThreshold":
            return value < t
        return value <= t

    def feed(self, value: float | None, time_s: float | None = None) -> AlarmEvaluation:
        """Add the datapoint of the next period (None: no datapoint) and re-evaluate.

        `time_s` is the evaluation time recorded in a transition; by default the end of the
        period just fed, counting periods from 0.
        """
        if value is not None and not math.isfinite(value):
            raise ValueError(f"alarm {self.name!r}: datapoint must be finite or None, got {value!r}")
        self._periods_fed += 1
        if time_s is None:
            time_s = float(self._periods_fed * self.period_s)
        self._window.append(None if value is None else float(value))
        new_state, reason, evaluated, n_breach = self._evaluate(self._padded_window(), self._state)
        old = self._state
        if new_state == old:
            return AlarmEvaluation(old, None)
        self._state = new_state
        tr = AlarmTransition(
            time_s=float(time_s),
            old_state=old,
            new_state=new_state,
            reason=reason,
            values=tuple(self._padded_window()),
            threshold=self.threshold,
            breaching=n_breach,
            evaluated=evaluated,
        )
        self.history.append(tr)
        return AlarmEvaluation(new_state, tr)

    @property
    def window(self) -> list[float | None]:
        """The evaluation range as the alarm sees it now, oldest first (None = missing)."""
        return self._padded_window()

    def _padded_window(self) -> list[float | None]:
        """The evaluation range, oldest first; periods before the alarm existed are missing."""
        pad = self.evaluation_range - len(self._window)
        return [None] * pad + list(self._window)

    def state_for(self, values: list[float | None], current_state: str = INSUFFICIENT_DATA) -> str:
        """The state CloudWatch sets for an evaluation range `values` (oldest first, None =
        missing, shorter ranges padded with missing), from `current_state`. Pure.

        >>> a = Alarm(0.5, "GreaterThanThreshold", 300, 3, 2)
        >>> a.state_for([None, None, None, 1.0, None])   # premature-alarm rule
        'ALARM'
        """
        vals = list(values)[-self.evaluation_range:]
        window = [None] * (self.evaluation_range - len(vals)) + vals
        return self._evaluate(window, current_state)[0]

    def _evaluate(self, window: list[float | None], current: str) -> tuple[str, str, int, int]:
        """(state, reason, datapoints evaluated, breaching count) for an evaluation range."""
        n = self.evaluation_periods
        m = self.datapoints_to_alarm
        real = [v for v in window if v is not None]
        phrase = COMPARISON_OPERATORS[self.comparison]
        thr = _fmt(self.threshold)
        transition_rule = f"(minimum {m} datapoint{'s' if m != 1 else ''} for OK -> ALARM transition)"

        if len(real) >= n:
            recent = real[-n:]
            k = sum(self.breaches(v) for v in recent)
            shown = ", ".join(_fmt(v) for v in reversed(recent))
            if k >= m:
                return (
                    ALARM,
                    f"Threshold Crossed: {k} out of the last {n} datapoints [{shown}] were {phrase} "
                    f"the threshold ({thr}) {transition_rule}.",
                    n,
                    k,
                )
            return (
                OK,
                f"Threshold Crossed: {n - k} out of the last {n} datapoints [{shown}] were not "
                f"{phrase} the threshold ({thr}) {transition_rule}.",
                n,
                k,
            )

        fills = n - len(real)
        k_real = sum(self.breaches(v) for v in real)
        tmd = self.treat_missing_data
        shown = ", ".join(_fmt(v) for v in reversed(real)) if real else ""
        if tmd == "breaching" or tmd == "notBreaching":
            k = k_real + (fills if tmd == "breaching" else 0)
            state = ALARM if k >= m else OK
            verb = "were" if state == ALARM else "were not"
            count = k if state == ALARM else n - k
            return (
                state,
                f"Threshold Crossed: {count} out of the last {n} datapoints [{shown}] {verb} "
                f"{phrase} the threshold ({thr}), {fills} missing datapoint"
                f"{'s' if fills != 1 else ''} treated as {tmd} {transition_rule}.",
                n,
                k,
            )

        # missing / ignore
        if not real:
            if tmd == "ignore":
                return (current, "", 0, 0)
            return (
                INSUFFICIENT_DATA,
                f"Insufficient Data: {self.evaluation_range} datapoints were unknown.",
                0,
                0,
            )
        if k_real >= m:
            return (
                ALARM,
                f"Threshold Crossed: {k_real} out of the last {len(real)} datapoints [{shown}] were "
                f"{phrase} the threshold ({thr}) {transition_rule}.",
                len(real),
                k_real,
            )
        if self._premature_alarm(window):
            if tmd == "ignore":
                return (current, "", 0, 0)
            return (
                ALARM,
                f"Threshold Crossed: the oldest breaching datapoint is at least {m} periods old "
                f"and every datapoint since is breaching or missing; datapoints "
                f"[{shown}] {phrase} the threshold ({thr}) {transition_rule}.",
                len(real),
                k_real,
            )
        return (
            OK,
            f"Threshold Crossed: {len(real) - k_real} out of the last {len(real)} datapoints "
            f"[{shown}] were not {phrase} the threshold ({thr}), {fills} missing datapoint"
            f"{'s' if fills != 1 else ''} not evaluated {transition_rule}.",
            len(real),
            k_real,
        )

    def _premature_alarm(self, window: list[float | None]) -> bool:
        """CloudWatch's rule for intermittent data (see module docstring)."""
        ages = [len(window) - i for i, v in enumerate(window) if v is not None]  # 1 = newest
        real = [v for v in window if v is not None]
        if not real or not all(self.breaches(v) for v in real):
            return False
        return ages[0] >= self.datapoints_to_alarm


@dataclass(frozen=True)
class AlarmPair:
    """The two alarms Application Auto Scaling creates for one target-tracking policy."""

    high: Alarm
    low: Alarm


def target_tracking_alarms(
    target: float,
    period_s: int = 60,
    out_datapoints: int = 3,
    in_datapoints: int = 15,
    in_ratio: float = 0.9,
    *,
    in_period_s: int | None = None,
    treat_missing_data: str = "missing",
    evaluation_range_extra: int = 2,
    name: str = "",
) -> AlarmPair:
    """The managed alarm pair of a target-tracking policy (DESIGN §4, reference §3.3).

    High: metric > target for `out_datapoints` of `out_datapoints` periods (scale out).
    Low: metric < `in_ratio` x target for `in_datapoints` of `in_datapoints` periods (scale in).
    Observed on a SageMaker variant with target 1500: "> 1500 for 3 datapoints within 3 minutes"
    and "< 1350 for 15 datapoints within 15 minutes" [REPOST-AS]; the shapes are not documented,
    so every number here is a setting. `in_period_s` lets the scale-in alarm keep 1-minute
    periods when the scale-out alarm reads a 10-second metric.
    """
    if not isinstance(target, (int, float)) or not math.isfinite(target) or target <= 0:
        raise ValueError(f"target tracking: TargetValue must be a finite number > 0, got {target!r}")
    if not isinstance(in_ratio, (int, float)) or not (0 < in_ratio <= 1):
        raise ValueError(f"target tracking: in_ratio must be in (0, 1], got {in_ratio!r}")
    label = name or "TargetTracking"
    high = Alarm(
        float(target),
        "GreaterThanThreshold",
        period_s,
        out_datapoints,
        out_datapoints,
        treat_missing_data,
        evaluation_range=out_datapoints + evaluation_range_extra,
        name=f"{label}-AlarmHigh",
    )
    low = Alarm(
        float(target) * float(in_ratio),
        "LessThanThreshold",
        in_period_s if in_period_s is not None else period_s,
        in_datapoints,
        in_datapoints,
        treat_missing_data,
        evaluation_range=in_datapoints + evaluation_range_extra,
        name=f"{label}-AlarmLow",
    )
    return AlarmPair(high, low)
