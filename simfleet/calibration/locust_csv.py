"""Locust `--csv` files read into observations: `<prefix>_stats.csv` and `<prefix>_stats_history.csv`.

Locust's response times are client-side (network + SageMaker overhead + ModelLatency), in
milliseconds, and its percentiles include failed requests (Locust does not separate them).

* **stats history** (a closed-loop ramp): the `Aggregated` rows, grouped by `User Count`. Each
  step with at least `MIN_ROWS` rows left after dropping the first `WINDOW_S` seconds (Locust's
  percentiles in this file cover a rolling window, 10 s by default, which would mix the previous
  step in) becomes one closed-loop period: its successful requests from the `Total Request Count`
  and `Total Failure Count` columns, its percentiles the mean of the rows'.
* **stats** alone: the `Aggregated` row as one open-loop period (`Request Count` over
  `Requests/s` seconds), since the file does not say how many users sent them.

Refused: a file whose requests all failed, a history with no step of traffic, columns missing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import numpy as np

from simfleet.calibration.observations import Observations, Period
from simfleet.errors import InputError

__all__ = ["read_locust", "locust_kind", "WINDOW_S", "MIN_ROWS"]

#: Locust's default percentile window of the history's percentile columns, in seconds
#: (locust/stats.py: CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW = 10): history rows this soon after a
#: user-count change mix two steps and are dropped.
WINDOW_S = 10.0
#: Rows a ramp step needs after the window to be used.
MIN_ROWS = 3

_STATS = ("Name", "Request Count", "Failure Count", "Average Response Time", "Requests/s", "50%", "90%", "99%")
_HISTORY = ("Timestamp", "User Count", "Name", "Total Request Count", "Total Failure Count",
            "Total Average Response Time", "50%", "90%", "99%")
_PERCENTILES = {50.0: "50%", 90.0: "90%", 99.0: "99%"}


def locust_kind(header: list[str]) -> str | None:
    """'stats', 'history', 'failures' (Locust's other CSVs), or None for a CSV Locust did not write."""
    names = set(header)
    if {"User Count", "Total Request Count"} <= names:
        return "history"
    if {"Request Count", "Failure Count", "Median Response Time"} <= names:
        return "stats"
    if {"Method", "Name", "Error", "Occurrences"} <= names or {"Count", "Message", "Traceback"} <= names:
        return "failures"
    return None


def _rows(name: str, text: str, needed: tuple[str, ...]) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in needed if column not in (reader.fieldnames or [])]
    if missing:
        raise InputError.single(name, f"Locust CSV without column(s) {', '.join(missing)}")
    return [row for row in reader if row.get("Name") == "Aggregated"]


def _number(name: str, row_index: int, row: dict, column: str) -> float | None:
    value = (row.get(column) or "").strip()
    if value in ("", "N/A"):
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError.single(name, f"row {row_index}: expected a number, got {value!r}", key=column) from None


def read_locust(files: list[tuple[str, str]]) -> Observations:
    """Observations from Locust CSVs given as (name, text); the history is used when present."""
    kinds = {}
    for name, text in files:
        header = next(csv.reader(io.StringIO(text)), [])
        kind = locust_kind(header)
        if kind == "failures":
            raise InputError.single(name, "a Locust failures/exceptions file: give the _stats.csv and "
                                          "_stats_history.csv files")
        kinds[kind] = (name, text)
    if "history" in kinds:
        observations = _history(*kinds["history"])
        if "stats" in kinds:   # the history has everything the summary has, per ramp step
            observations = replace(observations, sources=observations.sources + (
                f"{kinds['stats'][0]} (Locust stats, not needed beside the history)",))
        return observations
    return _stats(*kinds["stats"])


def _stats(name: str, text: str) -> Observations:
    rows = _rows(name, text, _STATS)
    if not rows:
        raise InputError.single(name, "no 'Aggregated' row", key="Name")
    row = rows[0]
    count = _number(name, 1, row, "Request Count") or 0.0
    failures = _number(name, 1, row, "Failure Count") or 0.0
    rate = _number(name, 1, row, "Requests/s") or 0.0
    if count <= 0 or rate <= 0:
        raise InputError.single(name, "no requests (Request Count 0): nothing to calibrate from",
                                key="Request Count")
    if failures >= count:
        raise InputError.single(name, f"every request failed (Failure Count {failures:g} = Request Count): "
                                      "no latency of answered requests", key="Failure Count")
    percentiles = {q: v / 1e3 for q, column in _PERCENTILES.items()
                   if (v := _number(name, 1, row, column)) is not None}
    mean = _number(name, 1, row, "Average Response Time")
    duration = count / rate
    period = Period("whole run", duration, count - failures, percentiles,
                    None if mean is None else mean / 1e3)
    return Observations(sources=(f"{name} (Locust stats)",), latency="client", periods=(period,),
                        notes=(f"Locust stats Aggregated row: {count:g} requests, {failures:g} failed, "
                               f"{rate:g} req/s; simulated as open-loop traffic (the file gives no user count)",))


def _history(name: str, text: str) -> Observations:
    rows = _rows(name, text, _HISTORY)
    parsed = []
    for index, row in enumerate(rows, start=1):
        values = {column: _number(name, index, row, column)
                  for column in ("Timestamp", "User Count", "Total Request Count", "Total Failure Count",
                                 "Total Average Response Time", *_PERCENTILES.values())}
        if values["Timestamp"] is None or values["User Count"] is None or values["Total Request Count"] is None:
            continue
        parsed.append(values)
    if not parsed:
        raise InputError.single(name, "no 'Aggregated' rows with numbers", key="Name")
    last = parsed[-1]
    if last["Total Request Count"] > 0 and (last["Total Failure Count"] or 0) >= last["Total Request Count"]:
        raise InputError.single(name, "every request failed (Total Failure Count = Total Request Count): no "
                                      "latency of answered requests", key="Total Failure Count")
    steps: list[list[dict]] = []
    for values in parsed:
        if not steps or steps[-1][0]["User Count"] != values["User Count"]:
            steps.append([])
        steps[-1].append(values)
    periods = []
    for step_index, step in enumerate(steps):
        users = int(step[0]["User Count"])
        begin = step[0]["Timestamp"] + WINDOW_S
        kept = [v for v in step if v["Timestamp"] >= begin and all(v[c] is not None for c in _PERCENTILES.values())]
        if users <= 0 or len(kept) < MIN_ROWS:
            continue
        before = _previous(steps, step_index, kept[0])
        answered = ((kept[-1]["Total Request Count"] - (kept[-1]["Total Failure Count"] or 0))
                    - (before["Total Request Count"] - (before["Total Failure Count"] or 0)))
        duration = kept[-1]["Timestamp"] - before["Timestamp"]
        if answered <= 0 or duration <= 0:
            continue
        percentiles = {q: float(np.mean([v[c] for v in kept])) / 1e3 for q, c in _PERCENTILES.items()}
        periods.append(Period(f"users={users}", duration, answered, percentiles, _step_mean_s(before, kept[-1]),
                              None, users=users))
    if not periods:
        raise InputError.single(name, f"no ramp step with traffic lasting {WINDOW_S:g} s + {MIN_ROWS} rows: "
                                      "nothing to calibrate from", key="User Count")
    return Observations(sources=(f"{name} (Locust stats history)",), latency="client", periods=tuple(periods),
                        notes=(f"Locust stats history, closed-loop steps of {', '.join(p.label for p in periods)} "
                               f"(first {WINDOW_S:g} s of each step dropped: Locust's rolling percentile window); "
                               "think time from Little's law, N/X - R",))


def _step_mean_s(before: dict, after: dict) -> float | None:
    """Mean response time between two rows, from the cumulative averages and counts (failures included)."""
    a, b = before["Total Average Response Time"], after["Total Average Response Time"]
    n_a, n_b = before["Total Request Count"], after["Total Request Count"]
    if a is None or b is None or n_b <= n_a:
        return None
    return (b * n_b - a * n_a) / (n_b - n_a) / 1e3


def _previous(steps: list[list[dict]], step_index: int, first_kept: dict) -> dict:
    """The row just before `first_kept` (its counters start the period)."""
    rows = [v for step in steps[:step_index + 1] for v in step]
    position = next(i for i, v in enumerate(rows) if v is first_kept)
    return rows[max(0, position - 1)]
