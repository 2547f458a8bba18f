"""Autoscaling as Application Auto Scaling does it, reading the simulated CloudWatch.

`document.load_autoscaling` validates the user's RegisterScalableTarget / PutScalingPolicy /
PutScheduledAction (`policies`) and PutMetricAlarm (`alarm_requests`) JSON, on the field types of
`api_fields` (built on `simfleet.schema.aws_fields`); `metric_sources` says which published
metric stream each alarm reads and checks that the run publishes it. The rest is pure logic, no
engine state: `watch.MetricWatch` turns a stream's datapoints into one value per alarm period,
`alarms.Alarm` evaluates them, `capacity` turns alarm states into desired capacities and gates
them with cooldowns, and `controller.TargetController` does all of it for one scalable target,
scheduled actions included (their instants from `schedules.fire_times`). The engine's glue is
`simfleet.engine.autoscaler`. See `reference/sagemaker-semantics.md` §3 and DESIGN §4.
"""

__all__ = ["alarm_requests", "alarms", "api_fields", "capacity", "controller", "document", "metric_sources",
           "policies", "schedules", "watch"]
