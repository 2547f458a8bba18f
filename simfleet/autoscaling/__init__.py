"""Autoscaling as Application Auto Scaling does it, reading the simulated CloudWatch.

`document.load_autoscaling` validates the user's RegisterScalableTarget / PutScalingPolicy /
PutScheduledAction (`policies`) and PutMetricAlarm (`alarm_requests`) JSON, on the field types of
`api_fields`. The rest is pure logic, no engine state: the engine feeds CloudWatch datapoints per period into
`alarms.Alarm`, turns alarm states into desired capacities with `capacity`, gates them with
`capacity.Cooldowns`, and fires scheduled min/max changes at the instants `schedules.fire_times`
returns. See `reference/sagemaker-semantics.md` §3 and DESIGN §4.
"""

__all__ = ["alarm_requests", "alarms", "api_fields", "capacity", "document", "policies", "schedules"]
