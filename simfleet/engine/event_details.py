"""The `detail` of each kind of event in `events.parquet`: a JSON object whose members have types.

Beside the event log (`events.py`), which writes `detail` as JSON with sorted keys: numbers are
JSON numbers (seconds as `*_s`, counts as integers), flags JSON booleans, absent values `null`;
nothing is a stringified number. `EVENT_DETAILS` is the contract the README's table shows
(`detail_table()` writes it) and a test holds every event of the shipped experiments to.
"""

from __future__ import annotations

import json

__all__ = ["EVENT_DETAILS", "detail_problems", "detail_table"]

# Types: "integer", "number" (integer or fraction), "string", "boolean"; a trailing "?" allows null;
# "number?[]" is a list of numbers or nulls. Optional members are marked with a leading "*".
_WINDOW = {"window_start_s": "number", "window_s": "number"}
#: The inference component a scaling event concerns (its endpoint and hosting variant are the event's own).
_COMPONENT = {"*inference_component": "string"}
_EVIDENCE = {"*alarm": "string", "*metric": "string", "*threshold": "number", "*comparison": "string",
             "*datapoints": "number?[]", "*value": "number?"}

EVENT_DETAILS: dict[str, dict[str, str]] = {
    "RunStart": {"seed": "integer", "duration_s": "number", "tick_s": "number"},
    "RunEnd": {"requests": "integer", "in_flight": "integer", "*ended_by": "string"},
    "TrafficRateChange": {"source": "integer", "rate_per_s": "number"},
    "UserCountChange": {"source": "integer", "users": "integer"},
    "InstanceLaunched": {"instance_type": "string", "reason": "string", "provisioning_s": "number",
                         "model_load_s": "number"},
    # an initial instance gives its reason; a launched one its launch_s (launch to in service)
    "InstanceInService": {"instance_type": "string", "workers": "integer", "*reason": "string",
                          "*launch_s": "number"},
    "InstanceDraining": {"reason": "string", "in_flight_until_s": "number?"},
    "InstanceTerminated": {"reason": "string", "billed_s": "number"},
    "InstanceFailed": {"reason": "string", "billed_s": "number"},
    "InstanceLaunchCancelled": {"reason": "string", "billed_s": "number"},
    "AlarmStateChange": {"alarm": "string", "old_state": "string", "new_state": "string", "reason": "string",
                         "datapoints": "number?[]", "threshold": "number", **_COMPONENT},
    "ScalingBlocked": {"policy": "string", "current": "integer", "desired": "integer", "reason": "string",
                       **_COMPONENT},
    "ScalingActivity": {"old_capacity": "integer", "new_capacity": "integer", "cause": "string",
                        "policy": "string?", "reason": "string", **_EVIDENCE, **_COMPONENT},
    "ScheduledAction": {"action": "string", "schedule": "string", "min_capacity": "integer",
                        "max_capacity": "integer", "suspended": "boolean", **_COMPONENT},
    "ProvisionedConcurrencyChange": {"old_level": "integer", "new_level": "integer", "reason": "string"},
    "ServerlessActivity": {**_WINDOW, "cold_starts": "integer", "reaps": "integer", "provisioned_added": "integer",
                           "provisioned_released": "integer", "throttles": "integer", "spillovers": "integer"},
    "ModelCacheActivity": {**_WINDOW, "downloads": "integer", "loads": "integer", "unloads": "integer",
                           "deletions": "integer", "downloads_abandoned": "integer", "loads_abandoned": "integer",
                           "misses": "integer", "model_not_ready": "integer"},
    # inference component copies (engine.component_copies); ContainerId-like names in `copy`
    "CopyPending": {"inference_component": "string", "copy": "string", "reason": "string"},
    "CopyPlaced": {"inference_component": "string", "copy": "string", "load_s": "number", "reason": "string"},
    "CopyInService": {"inference_component": "string", "copy": "string", "placed_s": "number"},
    "CopyRemoved": {"inference_component": "string", "copy": "string", "reason": "string", "was": "string"},
    # a copy whose instance left service (failed, released): placed anew elsewhere, or pending
    "CopyDisplaced": {"inference_component": "string", "copy": "string", "reason": "string", "was": "string"},
}


def _fits(value, kind: str) -> bool:
    if kind.endswith("[]"):
        return isinstance(value, list) and all(_fits(item, kind[:-2]) for item in value)
    if kind.endswith("?"):
        return value is None or _fits(value, kind[:-1])
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, (int, float))
    return isinstance(value, str)


def detail_problems(event: str, detail: str | dict) -> list[str]:
    """How one event's `detail` (the JSON text or its parsed object) differs from `EVENT_DETAILS`."""
    spec = EVENT_DETAILS.get(event)
    if spec is None:
        return [f"{event}: not a documented event kind"]
    members = json.loads(detail) if isinstance(detail, str) else detail
    found = []
    for key, kind in spec.items():
        name, optional = key.lstrip("*"), key.startswith("*")
        if name not in members:
            if not optional:
                found.append(f"{event}.{name}: missing")
        elif not _fits(members[name], kind):
            found.append(f"{event}.{name}: expected {kind}, got {members[name]!r}")
    known = {key.lstrip("*") for key in spec}
    found += [f"{event}.{name}: not documented" for name in members if name not in known]
    return found


def detail_table() -> str:
    """The Markdown table of every kind's members (the README's)."""
    lines = ["| event | detail members (type; `?` may be null; *optional*) |", "|---|---|"]
    for event, spec in EVENT_DETAILS.items():
        members = ", ".join(f"*`{key[1:]}`* {kind}" if key.startswith("*") else f"`{key}` {kind}"
                            for key, kind in spec.items())
        lines.append(f"| `{event}` | {members} |")
    return "\n".join(lines)
