"""Autoscaling as Application Auto Scaling does it, reading the simulated CloudWatch.

`policies` validates the user's RegisterScalableTarget / PutScalingPolicy / PutScheduledAction /
PutMetricAlarm JSON. The rest is pure logic, no engine state: the engine feeds CloudWatch datapoints per period into
`alarms.Alarm`, turns alarm states into desired capacities with `capacity`, gates them with
`capacity.Cooldowns`, and fires scheduled min/max changes at the instants `schedules.fire_times`
returns. See `reference/sagemaker-semantics.md` §3 and DESIGN §4.
"""

__all__ = ["alarms", "capacity", "policies", "schedules"]
