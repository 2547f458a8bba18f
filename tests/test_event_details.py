"""Every event's `detail` in `events.parquet` is typed JSON as `engine.event_details` documents it:
numbers are numbers, flags booleans, no stringified numbers; the README's table is that contract."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simfleet.engine.event_details import EVENT_DETAILS, detail_problems, detail_table
from simfleet.engine.events import EventLog

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, overrides", [
    ("quickstart", ["experiment.duration=5min"]),
    ("serverless", ["experiment.duration=10min"]),
    ("multi-model", ["experiment.duration=3min"]),
    ("diurnal-autoscaling", ["experiment.duration=2h"]),
])
def test_every_event_of_a_shipped_run_has_the_documented_detail(name, overrides, tmp_path):
    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.scenario import load_experiment

    run_to_directory(load_experiment(ROOT / "experiments" / f"{name}.toml", overrides), tmp_path)
    events = pq.read_table(tmp_path / "events.parquet").to_pydict()
    assert events["event"]
    for kind, detail in zip(events["event"], events["detail"]):
        assert isinstance(json.loads(detail), dict)
        assert detail_problems(kind, detail) == [], (kind, detail)


@pytest.mark.parametrize("event, detail, problem", [
    ("RunEnd", {"requests": "12", "in_flight": 0}, "RunEnd.requests: expected integer"),
    ("RunEnd", {"requests": 12, "in_flight": True}, "RunEnd.in_flight: expected integer"),
    ("RunStart", {"seed": 1, "duration_s": "60", "tick_s": 10}, "RunStart.duration_s: expected number"),
    ("ScheduledAction", {"action": "a", "schedule": "at(x)", "min_capacity": 1, "max_capacity": 2,
                         "suspended": "false"}, "ScheduledAction.suspended: expected boolean"),
    ("AlarmStateChange", {"alarm": "a", "old_state": "OK", "new_state": "ALARM", "reason": "r",
                          "datapoints": [1.0, "2"], "threshold": 1.0}, "AlarmStateChange.datapoints"),
    ("InstanceDraining", {"reason": "r"}, "InstanceDraining.in_flight_until_s: missing"),
    ("InstanceTerminated", {"reason": "r", "billed_s": 1.0, "extra": 1}, "InstanceTerminated.extra: not documented"),
    ("Mystery", {}, "Mystery: not a documented event kind"),
])
def test_the_event_log_refuses_an_undocumented_or_mistyped_detail(event, detail, problem):
    import datetime as dt

    log = EventLog(dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc))
    with pytest.raises(ValueError, match="event_details"):
        log.add(1.0, event, **detail)
    assert any(p.startswith(problem) for p in detail_problems(event, detail)), detail_problems(event, detail)


def test_null_where_documented_and_optional_members():
    assert detail_problems("InstanceDraining", {"reason": "r", "in_flight_until_s": None}) == []
    assert detail_problems("RunEnd", {"requests": 1, "in_flight": 0, "ended_by": "watcher"}) == []
    assert detail_problems("ScalingActivity", {"old_capacity": 1, "new_capacity": 2, "cause": "scheduled",
                                               "policy": None, "reason": "r"}) == []


def test_the_readme_shows_the_documented_details():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert detail_table() in readme
    assert set(EVENT_DETAILS) == {line.split("`")[1] for line in detail_table().splitlines()[2:]}
