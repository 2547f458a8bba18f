"""Application Auto Scaling inside whole runs: timing, capacities, cooldowns, schedules, failures, drains.

The pure logic (alarms, capacities, cooldowns, schedules) has its own unit tests
(`test_autoscaling_*.py`); here every expectation is derived from the documented rules and the
settings of a small experiment, and checked against what a run records: `events.parquet`
(scaling activities, launches, drains), the `simfleet/Endpoints` instance-count gauges and the
metrics the alarms read. Launch times are made exact with a constant provisioning time, and
metric values exact with evenly spaced ("constant") arrivals on step schedules aligned to the
minute, so times below are equalities, not tolerances.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from small_experiments import base_experiment, scenario
from simfleet.autoscaling.capacity import DEFAULT_COOLDOWN_S
from simfleet.autoscaling.schedules import fire_times
from simfleet.config.experiment import AutoscalingSettings
from simfleet.request_records import MODEL_ERROR, MODEL_TIMEOUT, OK
from simfleet.request_records import RequestRecords
from simfleet.engine.simulation import simulate

ENDPOINT, VARIANT = "ep", "A"
RESOURCE = f"endpoint/{ENDPOINT}/variant/{VARIANT}"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)  # base_experiment's start_time
PROVISIONING_S = 100.0
DEFAULTS = AutoscalingSettings()
PERIOD_S = DEFAULTS.target_tracking_period                       # 60 s alarm periods
OUT_DELAY_S = DEFAULTS.scale_out_datapoints * PERIOD_S            # AlarmHigh: 3 of 3 periods
IN_DELAY_S = DEFAULTS.scale_in_datapoints * PERIOD_S              # AlarmLow: 15 of 15 periods
GAUGES = ("DesiredInstanceCount", "InServiceInstances", "PendingInstances", "DrainingInstances")


# -- building experiments ----------------------------------------------------------------------------

def _target(min_capacity: int, max_capacity: int) -> dict:
    return {"ServiceNamespace": "sagemaker", "ResourceId": RESOURCE, "ScalableDimension": DIMENSION,
            "MinCapacity": min_capacity, "MaxCapacity": max_capacity}


def tt_invocations(target: float, name: str = "tt", **config) -> dict:
    """A target-tracking policy on SageMakerVariantInvocationsPerInstance."""
    return {"PolicyName": name, "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION, "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": float(target),
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                **config}}


def tt_cpu(target: float, name: str = "cpu", **config) -> dict:
    """A target-tracking policy on the variant's CPUUtilization Average (a customized metric)."""
    return {"PolicyName": name, "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION, "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": float(target),
                "CustomizedMetricSpecification": {
                    "MetricName": "CPUUtilization", "Namespace": "/aws/sagemaker/Endpoints", "Statistic": "Average",
                    "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT},
                                   {"Name": "VariantName", "Value": VARIANT}]},
                **config}}


def scheduled(name: str, schedule: str, min_capacity: int, max_capacity: int) -> dict:
    return {"ScheduledActionName": name, "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION, "Schedule": schedule,
            "ScalableTargetAction": {"MinCapacity": min_capacity, "MaxCapacity": max_capacity}}


def experiment(duration: str, schedule, *, initial: int = 1, min_capacity: int = 1, max_capacity: int = 10,
               policies=(), scheduled_actions=(), alarms=(), mttf: str | None = None, kind: str = "constant",
               interpolation: str = "step", seed: int = 1, workers: int | None = None,
               autoscaling: bool = True) -> dict:
    """One endpoint, one variant of the toy model (tests/data/models/toy.toml) on ml.c5.xlarge,
    traffic following `schedule` ([[time, rate per s], ...]), launches taking exactly
    PROVISIONING_S + the profile's load_time."""
    raw = base_experiment(duration=duration, seed=seed)
    variant = raw["endpoints"][0]["production_variants"][0]
    variant["initial_instance_count"] = initial
    if workers is not None:
        variant["workers"] = workers
    raw["instances"] = {"provisioning_time": {"kind": "constant", "value": f"{PROVISIONING_S:g}s"}}
    if mttf is not None:
        raw["instances"]["mean_time_to_failure"] = mttf
    raw["traffic"] = [{"kind": kind, "schedule": [[f"{t:g}s", r] for t, r in schedule],
                       "interpolation": interpolation}]
    if autoscaling:
        raw["autoscaling"] = {"targets": [_target(min_capacity, max_capacity)], "policies": list(policies),
                              "scheduled_actions": list(scheduled_actions), "alarms": list(alarms)}
    return raw


def load_time_s(sc) -> float:
    """The model profile's load_time, as the run reads it."""
    (model,) = {v.model_name for e in sc.experiment.endpoints for v in e.production_variants}
    return float(sc.profiles[model].spec.load_time)


class Run:
    """A finished run with the views the tests need."""

    def __init__(self, raw: dict, requests: bool = False):
        self.raw = raw
        self.scenario = scenario(raw)
        self.launch_s = PROVISIONING_S + load_time_s(self.scenario)
        parts: list[RequestRecords] = []
        self.result = simulate(self.scenario, requests_sink=parts.append if requests else None)
        self.requests = (RequestRecords.concat(parts) if parts else RequestRecords.empty()) if requests else None
        events = self.result.events.to_pandas()
        events["detail"] = [json.loads(d) for d in events["detail"]]
        self.events = events
        metrics = self.result.metrics.to_pandas()
        metrics["t"] = (metrics["timestamp"] - START).dt.total_seconds()
        self.metrics = metrics
        self.duration = self.result.summary["duration_s"]
        self.variant = self.result.summary["variants"][0]

    def of(self, *names: str):
        return self.events[self.events["event"].isin(names)]

    def activities(self, cause: str | None = "policy"):
        rows = self.of("ScalingActivity")
        if cause is not None:
            rows = rows[[d["cause"] == cause for d in rows["detail"]]]
        return rows

    def series(self, metric: str, namespace: str | None = None, period: int | None = None):
        """Rows of one variant-level metric (EndpointName + VariantName only), by period start `t`."""
        m = self.metrics
        rows = m[(m["metric_name"] == metric) & (m["EndpointName"] == ENDPOINT) & (m["VariantName"] == VARIANT)
                 & m["InstanceId"].isna() & m["ContainerName"].isna()]
        if namespace is not None:
            rows = rows[rows["namespace"] == namespace]
        if period is not None:
            rows = rows[rows["period_s"] == period]
        return rows.set_index("t").sort_index()

    def gauge(self, name: str):
        assert name in GAUGES
        return self.series(name, "simfleet/Endpoints")

    def invocations_per_instance(self):
        return self.series("InvocationsPerInstance", "AWS/SageMaker", 60)["sum"]


# -- 1. reaction time and capacity of a target-tracking scale-out ----------------------------------------

def test_scale_out_timing_and_capacity_after_a_step():
    target = 1200.0
    step_s, low, high = 600.0, 10.0, 50.0  # req/s; the step is aligned to a minute
    run = Run(experiment("25min", [[0, low], [step_s, high]], initial=1, max_capacity=10,
                         policies=[tt_invocations(target)]))
    # Before the step 1 instance takes 600/min < target; the step makes 3000/min.
    assert low * 60 < target < high * 60

    out = run.activities()
    first = out.iloc[0]
    decision_s = step_s + OUT_DELAY_S
    assert run.of("ScalingActivity", "InstanceLaunched", "InstanceDraining")["time_s"].min() == decision_s
    assert first["time_s"] == decision_s, "AlarmHigh needs 3 whole minutes above target after the step"
    detail = first["detail"]
    assert detail["old_capacity"] == 1 and detail["new_capacity"] > 1
    high_alarm = run.of("AlarmStateChange")
    entered = high_alarm[[d["new_state"] == "ALARM" and d["alarm"].endswith("AlarmHigh") for d in high_alarm["detail"]]]
    assert entered["time_s"].iloc[0] == decision_s

    # The datapoint the policy acted on: the minute before the decision, one instance, 3000 invocations.
    value = detail["value"]
    ipi = run.invocations_per_instance()
    assert value == ipi.loc[decision_s - PERIOD_S]
    assert value == pytest.approx(high * 60, abs=1)
    in_service = run.gauge("InServiceInstances").loc[decision_s - PERIOD_S]
    assert in_service["minimum"] == in_service["maximum"] == 1
    assert detail["new_capacity"] == math.ceil(in_service["average"] * value / target)
    assert detail["new_capacity"] == math.ceil(high * 60 / target)  # 3000 / 1200 = 2.5 -> 3

    added = detail["new_capacity"] - detail["old_capacity"]
    launched = run.of("InstanceLaunched")
    assert list(launched["time_s"])[:added] == [decision_s] * added
    new_ids = set(launched["InstanceId"].iloc[:added])
    ready = run.of("InstanceInService")
    ready = ready[ready["InstanceId"].isin(new_ids)]
    assert len(ready) == added
    assert (ready["time_s"] == decision_s + run.launch_s).all()

    # The gauges: desired changes at the decision, the new instances are pending until ready.
    desired = run.gauge("DesiredInstanceCount")
    assert desired.loc[decision_s - PERIOD_S, "maximum"] == 1
    assert desired.loc[decision_s, "minimum"] == detail["new_capacity"]
    assert run.gauge("PendingInstances").loc[decision_s, "minimum"] == added
    # In the minute in which they enter service, the gauge's samples count them from that instant on.
    ready_s = decision_s + run.launch_s
    minute = ready_s - ready_s % PERIOD_S
    samples = minute + np.arange(0.0, PERIOD_S, run.scenario.experiment.metrics.concurrency_sample_interval)
    expected = np.where(samples < ready_s, 1, 1 + added)
    row = run.gauge("InServiceInstances").loc[minute]
    assert (row["sum"], row["sample_count"]) == (expected.sum(), len(samples))


def test_no_second_scale_out_for_load_the_first_one_covers():
    """While the new instances enter service, InvocationsPerInstance (1/instances per request) mixes
    1- and 3-instance minutes; the projection must count the minute's invocations (3000 -> 3
    instances), not the time-averaged instance count times the metric (which asks for 4)."""
    target = 1200.0
    step_s, high = 600.0, 50.0
    run = Run(experiment("40min", [[0, 10.0], [step_s, high]], initial=1, max_capacity=10,
                         policies=[tt_invocations(target)]))
    needed = math.ceil(high * 60 / target)
    out = run.activities()
    assert [d["new_capacity"] for d in out["detail"]] == [needed], "no capacity beyond what the load needs"
    invocations = run.series("Invocations", "AWS/SageMaker", 60)["sum"]
    ipi = run.invocations_per_instance()
    mixed = [t for t in ipi.index if ipi[t] > target]  # minutes above target after the decision
    for t in mixed:
        if t >= out["time_s"].iloc[0]:
            assert math.ceil(invocations[t] / target) <= needed


# -- 2. scale-in waits for 15 low minutes --------------------------------------------------------------

def test_scale_in_after_exactly_fifteen_low_minutes():
    target, n = 1200.0, 3
    step_s = 600.0
    busy, quiet = 57.0, 20.0  # per instance: 1140/min (between 0.9 x target and target), then 400/min
    assert DEFAULTS.scale_in_ratio * target < busy * 60 / n < target
    assert quiet * 60 / n < DEFAULTS.scale_in_ratio * target
    run = Run(experiment("40min", [[0, busy], [step_s, quiet]], initial=n, policies=[tt_invocations(target)]))

    # The first low minute is [step, step + 60); AlarmLow needs 15 of 15 periods.
    decision_s = step_s + IN_DELAY_S
    activities = run.activities()
    assert len(activities) >= 1
    first = activities.iloc[0]
    assert first["time_s"] == decision_s, "no scale-in before 15 low datapoints, and none later either"
    low = run.of("AlarmStateChange")
    low = low[[d["alarm"].endswith("AlarmLow") and d["new_state"] == "ALARM" for d in low["detail"]]]
    assert low["time_s"].iloc[0] == decision_s
    detail = first["detail"]
    assert detail["value"] == pytest.approx(quiet * 60 / n, abs=1)
    assert detail["old_capacity"] == n
    assert detail["new_capacity"] == max(1, math.ceil(n * detail["value"] / target))  # 3 x 400 / 1200 = 1
    drained = run.of("InstanceDraining")
    assert (drained["time_s"] == decision_s).all() and len(drained) == n - detail["new_capacity"]
    assert run.gauge("DesiredInstanceCount").loc[decision_s, "minimum"] == detail["new_capacity"]
    assert run.gauge("DesiredInstanceCount").loc[decision_s - PERIOD_S, "maximum"] == n


def test_no_scale_in_while_the_load_stays_between_the_scale_in_threshold_and_the_target():
    target, n = 1200.0, 3
    busy, lighter = 57.0, 55.0  # 1140 then 1100 per instance and minute: both in (1080, 1200)
    for rate in (busy, lighter):
        assert DEFAULTS.scale_in_ratio * target < rate * 60 / n < target
    run = Run(experiment("40min", [[0, busy], [600, lighter]], initial=n, policies=[tt_invocations(target)]))
    assert run.activities().empty
    assert run.of("InstanceLaunched", "InstanceDraining").empty
    ipi = run.invocations_per_instance()
    assert ((ipi > DEFAULTS.scale_in_ratio * target) & (ipi < target)).all()
    alarms = run.of("AlarmStateChange")
    assert not any(d["new_state"] == "ALARM" for d in alarms["detail"])
    desired = run.gauge("DesiredInstanceCount")
    assert (desired["minimum"] == n).all() and (desired["maximum"] == n).all()


# -- 3. cooldowns -----------------------------------------------------------------------------------

def test_scale_in_cooldown_spaces_successive_scale_ins():
    """10 minutes in band, 15 minutes below the scale-in threshold, then a load falling 15 % a
    minute from the last of those minutes on: after each scale-in the next minute is still
    below 0.9 x target (the fall is steeper than the 10 % margin), so AlarmLow stays in ALARM
    and re-invokes the policy every minute; the cooldown blocks it until ScaleInCooldown has
    passed, and not a minute longer."""
    target, cooldown, n = 1200.0, 600, 16
    in_band = 0.95 * target * n / 60  # req/s: 1140 per instance and minute
    plateau = 0.75 * target * n / 60  # req/s: 900 per instance and minute
    quiet_from = 600.0
    fall_from = quiet_from + IN_DELAY_S - PERIOD_S
    schedule = ([[0, in_band], [quiet_from, plateau]]
                + [[fall_from + 60 * k, plateau * 0.85 ** (k + 1)] for k in range(25)])
    run = Run(experiment("70min", schedule, initial=n, max_capacity=n,
                         policies=[tt_invocations(target, ScaleInCooldown=cooldown)]))
    ins = run.activities()
    ins = ins[[d["new_capacity"] < d["old_capacity"] for d in ins["detail"]]]
    assert len(ins) >= 3 and len(ins) == len(run.activities())
    times = ins["time_s"].to_numpy()
    assert times[0] == quiet_from + IN_DELAY_S
    assert np.all(np.diff(times) >= cooldown)
    blocked = run.of("ScalingBlocked")
    cooled = blocked[["cooldown" in d["reason"] for d in blocked["detail"]]]
    assert not cooled.empty, "the scenario must make the cooldown block something"
    low = run.of("AlarmStateChange")
    low = low[[d["alarm"].endswith("AlarmLow") for d in low["detail"]]]
    for a, b in zip(times, times[1:]):
        stayed = low[(low["time_s"] > a) & (low["time_s"] < b)].empty
        was_blocked = not cooled[(cooled["time_s"] > a) & (cooled["time_s"] < b)].empty
        if stayed and was_blocked:  # the policy wanted to scale in throughout: it does at the first chance
            assert b == a + cooldown
        assert cooled[(cooled["time_s"] >= a + cooldown) & (cooled["time_s"] < b)].empty


def test_scale_out_during_a_scale_in_cooldown_is_not_delayed():
    target, n = 1200.0, 3
    quiet_from = 600.0
    scale_in_s = quiet_from + IN_DELAY_S        # 15 low minutes (checked below)
    spike_s = scale_in_s + PERIOD_S             # a spike in the first minute of the cooldown
    scale_out_s = spike_s + OUT_DELAY_S         # 3 high minutes
    cooldown = 900
    assert scale_out_s < scale_in_s + cooldown
    run = Run(experiment("45min", [[0, 57.0], [quiet_from, 20.0], [spike_s, 120.0]], initial=n,
                         policies=[tt_invocations(target, ScaleInCooldown=cooldown)]))
    acts = run.activities()
    first, second = acts.iloc[0], acts.iloc[1]
    assert first["time_s"] == scale_in_s and first["detail"]["new_capacity"] < first["detail"]["old_capacity"]
    assert second["time_s"] == scale_out_s
    assert second["detail"]["new_capacity"] > second["detail"]["old_capacity"]


def test_step_policy_cooldown_blocks_an_equal_second_step():
    """A step policy +1 on an alarm over the variant's total Invocations: adding instances does not
    lower the metric, so the alarm stays in ALARM and invokes the policy every minute; within
    Cooldown the same +1 counts the capacity the first one added and adds nothing."""
    cooldown = 300
    step = {"PolicyName": "step", "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
            "ScalableDimension": DIMENSION, "PolicyType": "StepScaling",
            "StepScalingPolicyConfiguration": {"AdjustmentType": "ChangeInCapacity", "Cooldown": cooldown,
                                               "StepAdjustments": [{"MetricIntervalLowerBound": 0,
                                                                    "ScalingAdjustment": 1}]}}
    alarm = {"AlarmName": "busy", "AlarmActions": ["step"], "MetricName": "Invocations",
             "Namespace": "AWS/SageMaker", "Statistic": "Sum",
             "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}],
             "Period": 60, "EvaluationPeriods": 1, "Threshold": 1000, "ComparisonOperator": "GreaterThanThreshold"}
    rate = 30.0  # 1800 invocations a minute > 1000 from the first minute on
    run = Run(experiment("20min", [[0, rate]], initial=1, max_capacity=4, policies=[step], alarms=[alarm]))
    acts = run.activities()
    times = acts["time_s"].to_numpy()
    first = PERIOD_S  # the first minute breaches: ALARM at 60 s
    interval = DEFAULTS.action_repeat_interval
    expected = first + cooldown * np.arange(3)  # 1 -> 2 -> 3 -> 4 (MaxCapacity)
    assert times.tolist() == expected.tolist()
    assert [d["new_capacity"] - d["old_capacity"] for d in acts["detail"]] == [1, 1, 1]
    blocked = run.of("ScalingBlocked")
    # Re-invoked every minute within the cooldown: blocked (recorded once per reason), no capacity.
    within = blocked[(blocked["time_s"] > first) & (blocked["time_s"] < first + cooldown)]
    assert within["time_s"].iloc[0] == first + interval
    assert within["detail"].iloc[0]["desired"] == within["detail"].iloc[0]["current"] == 2
    desired = run.gauge("DesiredInstanceCount")
    assert (desired.loc[first:first + cooldown - PERIOD_S, "maximum"] == 2).all()


# -- 4. a diurnal day -----------------------------------------------------------------------------

def test_diurnal_day_tracks_the_target():
    """12 h: a trough (13 req/s), a 2 h linear ramp, a 3 h peak (58 req/s), a 2 h ramp down and a
    night trough. Target 400 invocations per instance and minute.

    Band on the plateaus, once settled: the metric stays at or below the target (else AlarmHigh
    fires within 3 minutes and adds capacity) and at or above min(0.9 x target, L / ceil(L / T))
    (else AlarmLow fires within 15 minutes, and target tracking removes instances down to
    ceil(L / T), the fewest that keep the metric at or below target). Settling allows a last
    scale-out (3 periods + launch + the minute in which the new instances enter service, whose
    datapoint mixes both counts), then a scale-in (15 periods + its cooldown), and one period of
    alignment. On the ramp up, the metric may exceed the target by the load the ramp adds while
    the fleet reacts (3 periods + launch + 2 periods of alignment), spread over the instances.
    """
    H = 3600.0
    target = 400.0
    trough, peak = 13.0, 58.0  # req/s: 780 and 3480 invocations a minute
    schedule = [[0, trough], [2 * H, trough], [4 * H, peak], [7 * H, peak], [9 * H, trough], [12 * H, trough]]
    run = Run(experiment("12h", schedule, initial=2, max_capacity=20, interpolation="linear",
                         policies=[tt_invocations(target)]))
    ipi = run.invocations_per_instance()
    in_service = run.gauge("InServiceInstances")
    assert len(ipi) == run.duration / PERIOD_S
    settle = OUT_DELAY_S + run.launch_s + PERIOD_S + IN_DELAY_S + DEFAULT_COOLDOWN_S + PERIOD_S
    plateaus = [(0.0, 2 * H, trough), (4 * H + settle, 7 * H, peak), (9 * H + settle, 12 * H, trough)]
    for begin, end, rate in plateaus:
        load = rate * 60
        lower = min(DEFAULTS.scale_in_ratio * target, load / math.ceil(load / target))
        window = ipi.loc[begin:end - PERIOD_S]
        n = in_service.loc[begin:end - PERIOD_S]
        # constant arrivals: a minute holds the rate x 60 arrivals, give or take one
        slack = 1.0 / n["minimum"]
        assert (window <= target + slack).all(), (begin, window.max())
        assert (window >= lower - slack).all(), (begin, window.min())
        assert (n["minimum"] == n["maximum"]).all(), "a settled plateau needs no scaling"
    slope = (peak - trough) * 60 / (2 * H / 60)  # invocations a minute, more each minute
    reaction = OUT_DELAY_S + run.launch_s + 2 * PERIOD_S
    ramp = ipi.loc[2 * H:4 * H]
    ramp_n = in_service.loc[2 * H:4 * H, "minimum"]
    assert (ramp <= target + slope * reaction / 60 / ramp_n).all()
    assert ramp.max() > target, "the ramp outruns the fleet for a while"

    peak_n = in_service.loc[4 * H + settle:7 * H - PERIOD_S, "average"]
    night_n = in_service.loc[9 * H + settle:12 * H - PERIOD_S, "average"]
    assert night_n.max() < peak_n.min()
    assert run.variant["peak_instances_in_service"] == in_service["maximum"].max() == peak_n.max()
    ins = run.activities()
    ins = ins[[d["new_capacity"] < d["old_capacity"] for d in ins["detail"]]]
    assert len(ins) > 0 and (ins["time_s"] > 7 * H).all(), "scale-in happens as the load falls, not before"


# -- 5. scheduled actions -------------------------------------------------------------------------------

def test_at_action_sets_the_capacity_at_its_instant():
    n0, n = 2, 5
    at_s = 630.0  # 09:10:30, mid-minute: the gauge's 1 s samples show the exact instant
    when = (START + dt.timedelta(seconds=at_s)).replace(tzinfo=None).isoformat(timespec="seconds")
    run = Run(experiment("20min", [[0, 20.0]], initial=n0, min_capacity=1, max_capacity=10,
                         scheduled_actions=[scheduled("pin", f"at({when})", n, n)]))
    fired = run.of("ScheduledAction")
    assert fired["time_s"].tolist() == [at_s]
    assert fired["detail"].iloc[0]["min_capacity"] == fired["detail"].iloc[0]["max_capacity"] == n
    act = run.activities(cause="scheduled")
    assert act["time_s"].tolist() == [at_s]
    assert (act["detail"].iloc[0]["old_capacity"], act["detail"].iloc[0]["new_capacity"]) == (n0, n)
    launched = run.of("InstanceLaunched")
    assert launched["time_s"].tolist() == [at_s] * (n - n0)
    desired = run.gauge("DesiredInstanceCount")
    minute = at_s - at_s % PERIOD_S
    samples = minute + np.arange(0.0, PERIOD_S, run.scenario.experiment.metrics.concurrency_sample_interval)
    assert desired.loc[minute, "sum"] == np.where(samples < at_s, n0, n).sum()
    assert (desired.loc[minute, "minimum"], desired.loc[minute, "maximum"]) == (n0, n)
    assert (desired.loc[:minute - PERIOD_S, "maximum"] == n0).all()
    assert (desired.loc[minute + PERIOD_S:, "minimum"] == n).all()
    assert (desired.loc[minute + PERIOD_S:, "maximum"] == n).all()
    ready = run.of("InstanceInService")
    assert ready[ready["time_s"] > 0]["time_s"].tolist() == [at_s + run.launch_s] * (n - n0)


def test_cron_actions_fire_at_every_matching_instant():
    up, down = "cron(5/20 * * * ? *)", "cron(15/20 * * * ? *)"
    run = Run(experiment("1h", [[0, 20.0]], initial=1, min_capacity=1, max_capacity=10,
                         scheduled_actions=[scheduled("up", up, 3, 3), scheduled("down", down, 1, 1)],
                         policies=[tt_invocations(1200.0)]))
    end = START + dt.timedelta(seconds=run.duration)
    fired = run.of("ScheduledAction")
    desired = run.gauge("DesiredInstanceCount")
    for name, expression, n in (("up", up, 3), ("down", down, 1)):
        expected = [(t - START).total_seconds() for t in fire_times(expression, None, START, end)]
        assert expected == ([300.0, 1500.0, 2700.0] if name == "up" else [900.0, 2100.0, 3300.0])
        mine = fired[[d["action"] == name for d in fired["detail"]]]
        assert mine["time_s"].tolist() == expected
        for t in expected:
            assert desired.loc[t, "minimum"] == desired.loc[t, "maximum"] == n
            assert run.gauge("InServiceInstances").loc[t + PERIOD_S * math.ceil(run.launch_s / PERIOD_S),
                                                       "minimum"] == n


# -- 6. MinCapacity = MaxCapacity pins the capacity ---------------------------------------------------------

@pytest.mark.parametrize("mttf", [None, "20min"])
def test_equal_bounds_pin_the_capacity(mttf):
    n, target = 3, 1200.0
    # per instance and minute: 600, then 5000 (a spike), then 40 (a trough)
    schedule = [[0, 30.0], [600, 250.0], [1500, 2.0]]
    run = Run(experiment("45min", schedule, initial=n, min_capacity=n, max_capacity=n, mttf=mttf,
                         policies=[tt_invocations(target)]))
    assert run.of("ScalingActivity").empty
    blocked = run.of("ScalingBlocked")
    reasons = {d["reason"] for d in blocked["detail"]}
    assert f"already at MaxCapacity {n}" in reasons or f"already at MinCapacity {n}" in reasons
    desired = run.gauge("DesiredInstanceCount")
    assert (desired["minimum"] == n).all() and (desired["maximum"] == n).all()
    in_service = run.gauge("InServiceInstances")
    pending = run.gauge("PendingInstances")
    assert (run.gauge("DrainingInstances")["maximum"] == 0).all()
    assert (in_service["maximum"] <= n).all()
    failures = run.of("InstanceFailed")
    if mttf is None:
        assert (in_service["minimum"] == n).all()
        assert run.of("InstanceLaunched").empty
    else:
        assert len(failures) > 0, "20 min MTTF over 3 instances x 45 min: failures expected"
        # every sample: in service + pending (replacements) = the pinned capacity
        assert ((in_service["sum"] + pending["sum"]) == n * in_service["sample_count"]).all()
        below = in_service[in_service["minimum"] < n].index
        for t in below:  # an instance is missing only while a failure's replacement launches
            assert ((failures["time_s"] > t - run.launch_s) & (failures["time_s"] < t + PERIOD_S)).any()


# -- 7. two target-tracking policies ------------------------------------------------------------------

def _two_policy_run(invocations_target: float, cpu_target: float):
    # 4 instances, 40 req/s: 600 invocations per instance and minute; the toy model's 10 ms mean
    # service time keeps 0.1 worker busy per instance: CPUUtilization about 10 %.
    return Run(experiment("25min", [[0, 40.0]], initial=4, max_capacity=20,
                          policies=[tt_invocations(invocations_target, name="inv"), tt_cpu(cpu_target, name="cpu")]))


@pytest.mark.parametrize("invocations_target,cpu_target,winner", [(1200.0, 5.0, "cpu"), (500.0, 20.0, "inv")])
def test_either_policy_scales_out(invocations_target, cpu_target, winner):
    run = _two_policy_run(invocations_target, cpu_target)
    ipi = run.invocations_per_instance()
    cpu = run.series("CPUUtilization", "/aws/sagemaker/Endpoints", 60)["average"]
    decision_s = OUT_DELAY_S  # the load is there from the start
    values = {"inv": ipi.loc[:decision_s - PERIOD_S], "cpu": cpu.loc[:decision_s - PERIOD_S]}
    targets = {"inv": invocations_target, "cpu": cpu_target}
    assert (values[winner] > targets[winner]).all()
    loser = "cpu" if winner == "inv" else "inv"
    assert (values[loser] < targets[loser]).all()
    first = run.activities().iloc[0]
    assert first["time_s"] == decision_s
    detail = first["detail"]
    assert detail["policy"] == winner
    assert detail["value"] == values[winner].iloc[-1]
    assert detail["new_capacity"] == math.ceil(4 * values[winner].iloc[-1] / targets[winner]) > 4


def test_scale_in_only_when_both_policies_want_it():
    # Invocations 600 < 0.9 x 1200 wants scale-in; CPU about 10 % in (0.9 x 10.8, 10.8) does not.
    run = _two_policy_run(1200.0, 10.8)
    alarms = run.of("AlarmStateChange")
    inv_low = alarms[[d["alarm"].endswith("-inv-AlarmLow") and d["new_state"] == "ALARM" for d in alarms["detail"]]]
    cpu_low = alarms[[d["alarm"].endswith("-cpu-AlarmLow") and d["new_state"] == "ALARM" for d in alarms["detail"]]]
    assert inv_low["time_s"].tolist() == [IN_DELAY_S], "the invocations policy wants scale-in from 15 min on"
    assert cpu_low.empty
    assert run.activities().empty
    assert (run.gauge("DesiredInstanceCount")["minimum"] == 4).all()

    # Both below their scale-in thresholds: scale-in, to the larger of the two wishes.
    run = _two_policy_run(1200.0, 15.0)
    first = run.activities().iloc[0]
    assert first["time_s"] == IN_DELAY_S
    minute = IN_DELAY_S - PERIOD_S
    inv = run.invocations_per_instance().loc[minute]
    cpu = run.series("CPUUtilization", "/aws/sagemaker/Endpoints", 60)["average"].loc[minute]
    assert inv < DEFAULTS.scale_in_ratio * 1200.0 and cpu < DEFAULTS.scale_in_ratio * 15.0
    wishes = {"inv": math.ceil(4 * inv / 1200.0), "cpu": math.ceil(4 * cpu / 15.0)}
    assert wishes["inv"] != wishes["cpu"], "the scenario should tell the two wishes apart"
    assert first["detail"]["new_capacity"] == max(wishes.values()) < 4
    assert first["detail"]["policy"] == max(wishes, key=wishes.get)


# -- 8. properties of generated runs ----------------------------------------------------------------

def _lifecycles(run: Run) -> dict[str, list[tuple[float, str, dict]]]:
    rows = run.of("InstanceLaunched", "InstanceInService", "InstanceDraining", "InstanceTerminated", "InstanceFailed",
                  "InstanceLaunchCancelled")
    out: dict[str, list] = {}
    for _, row in rows.iterrows():
        out.setdefault(row["InstanceId"], []).append((row["time_s"], row["event"], row["detail"]))
    return out


#: Lifecycle state machine (engine/instances.py): event -> (state before, state after).
_TRANSITIONS = {"InstanceLaunched": (None, "Pending"), "InstanceInService": ("Pending", "InService"),
                "InstanceLaunchCancelled": ("Pending", "Cancelled"), "InstanceDraining": ("InService", "Draining"),
                "InstanceTerminated": ("Draining", "Terminated"), "InstanceFailed": ("InService", "Failed")}


def _check_lifecycles(run: Run) -> dict[str, dict]:
    """Every instance follows the lifecycle and ends in a state its times explain; returns per-instance
    billed and in-service intervals rebuilt from the events."""
    spans = {}
    for iid, events in _lifecycles(run).items():
        state, launched, billed_from, serving_from = None, None, None, None
        billed_until, serving_until = run.duration, run.duration
        for time_s, event, detail in events:
            if event == "InstanceInService" and state is None:  # an initial instance
                assert time_s == 0 and detail.get("reason") == "initial instance"
                state, billed_from = "Pending", 0.0
            before, after = _TRANSITIONS[event]
            assert state == before, (iid, event, state)
            state = after
            if event == "InstanceLaunched":
                launched = billed_from = time_s
            elif event == "InstanceInService":
                serving_from = time_s
                if launched is not None:
                    assert time_s == pytest.approx(launched + run.launch_s, abs=1e-9)
            elif event in ("InstanceDraining", "InstanceFailed"):
                serving_until = time_s
            if event in ("InstanceTerminated", "InstanceFailed", "InstanceLaunchCancelled"):
                billed_until = time_s
                assert detail["billed_s"] == pytest.approx(time_s - billed_from, abs=1e-6)
        assert state in ("InService", "Terminated", "Failed", "Cancelled", "Pending", "Draining")
        if state == "Pending":  # still launching when the run ended
            assert launched + run.launch_s >= run.duration
        if state == "Draining":  # still finishing accepted requests
            assert [d for _, e, d in events if e == "InstanceDraining"][0]["in_flight_until_s"] >= run.duration
        if serving_from is None:
            serving_until = None
        spans[iid] = {"billed": (billed_from, billed_until), "serving": (serving_from, serving_until), "end": state}
    return spans


def _replayed_gauges(run: Run, initial: int, times: np.ndarray) -> dict[str, np.ndarray]:
    """The four gauges at `times`, rebuilt from events.parquet alone."""
    deltas = {name: [] for name in GAUGES}
    launched = set(run.of("InstanceLaunched")["InstanceId"])
    for _, row in run.events.iterrows():
        t, event = row["time_s"], row["event"]
        if event == "InstanceLaunched":
            deltas["PendingInstances"].append((t, 1))
        elif event == "InstanceInService":
            deltas["InServiceInstances"].append((t, 1))
            if row["InstanceId"] in launched:
                deltas["PendingInstances"].append((t, -1))
        elif event == "InstanceLaunchCancelled":
            deltas["PendingInstances"].append((t, -1))
        elif event == "InstanceDraining":
            deltas["InServiceInstances"].append((t, -1))
            deltas["DrainingInstances"].append((t, 1))
        elif event == "InstanceTerminated":
            deltas["DrainingInstances"].append((t, -1))
        elif event == "InstanceFailed":
            deltas["InServiceInstances"].append((t, -1))
    out = {}
    for name, changes in deltas.items():
        when = np.array([t for t, _ in changes], dtype=float)
        step = np.array([d for _, d in changes], dtype=float)
        order = np.argsort(when, kind="stable")
        cumulative = np.concatenate([[0.0], np.cumsum(step[order])])
        out[name] = cumulative[np.searchsorted(when[order], times, side="right")]
    acts = run.of("ScalingActivity")
    when = np.concatenate([[0.0], acts["time_s"].to_numpy(dtype=float)])
    value = np.array([initial] + [d["new_capacity"] for d in acts["detail"]], dtype=float)
    out["DesiredInstanceCount"] = value[np.searchsorted(when, times, side="right") - 1]
    return out


@st.composite
def scaling_experiments(draw):
    max_capacity = draw(st.integers(1, 6))
    min_capacity = draw(st.integers(0, max_capacity))
    minutes = draw(st.integers(20, 40))
    knots = sorted(draw(st.sets(st.integers(1, minutes - 1), max_size=3)))
    rates = draw(st.lists(st.sampled_from([0.0, 2.0, 10.0, 30.0, 60.0, 120.0]), min_size=len(knots) + 1,
                          max_size=len(knots) + 1))
    schedule = [[60.0 * m, r] for m, r in zip([0] + knots, rates)]
    config = {}
    for key in ("ScaleOutCooldown", "ScaleInCooldown"):
        if draw(st.booleans()):
            config[key] = draw(st.sampled_from([0, 60, 300]))
    policy = tt_invocations(draw(st.sampled_from([300.0, 600.0, 1200.0, 3000.0])), **config)
    actions, bounds = [], [(0.0, min_capacity, max_capacity)]
    if draw(st.booleans()):
        at_min = draw(st.integers(1, minutes - 1))
        new_max = draw(st.integers(1, 6))
        new_min = draw(st.integers(0, new_max))
        when = (START + dt.timedelta(minutes=at_min)).replace(tzinfo=None).isoformat(timespec="seconds")
        actions.append(scheduled("change", f"at({when})", new_min, new_max))
        bounds.append((60.0 * at_min, new_min, new_max))
    raw = experiment(f"{minutes}min", schedule, initial=draw(st.integers(1, 6)), min_capacity=min_capacity,
                     max_capacity=max_capacity, policies=[policy], scheduled_actions=actions,
                     mttf=draw(st.sampled_from([None, "5min", "30min"])),
                     kind=draw(st.sampled_from(["constant", "poisson"])), seed=draw(st.integers(0, 2**31)))
    return raw, bounds


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(scaling_experiments())
def test_generated_runs_keep_the_invariants(case):
    raw, bounds = case
    run = Run(raw)
    initial = raw["endpoints"][0]["production_variants"][0]["initial_instance_count"]

    # Events are in time order; the same seed gives the same tables, byte for byte.
    times = run.events["time_s"].to_numpy()
    assert np.all(np.diff(times) >= 0)
    again = simulate(scenario(raw))
    assert again.metrics.equals(run.result.metrics) and again.events.equals(run.result.events)
    assert again.metric_values.equals(run.result.metric_values)

    # DesiredInstanceCount within the bounds in force (a minute holding a scheduled change: either's).
    # In service never exceeds MaxCapacity either (draining instances are out of service).
    desired = run.gauge("DesiredInstanceCount")
    in_service, pending = run.gauge("InServiceInstances"), run.gauge("PendingInstances")
    assert len(desired) == len(in_service) == run.duration / PERIOD_S
    for t, row in desired.iterrows():
        live = [(lo, hi) for start, lo, hi in bounds if start <= t]
        changing = [(lo, hi) for start, lo, hi in bounds if t < start < t + PERIOD_S]
        allowed = [live[-1]] + changing
        lowest, highest = min(lo for lo, _ in allowed), max(hi for _, hi in allowed)
        assert lowest <= row["minimum"] and row["maximum"] <= highest, (t, allowed)
        assert in_service.loc[t, "maximum"] <= highest
    # Every launch or drain keeps in service + pending equal to the desired count.
    assert ((in_service["sum"] + pending["sum"]) == desired["sum"]).all()
    assert ((in_service["maximum"] <= desired["maximum"])).all()

    # The gauges agree with the events, sample for sample (1 s samples at whole seconds).
    samples = np.arange(0.0, run.duration)
    replay = _replayed_gauges(run, initial, samples)
    for name in GAUGES:
        gauge = run.gauge(name)
        per_minute = replay[name].reshape(-1, int(PERIOD_S))
        np.testing.assert_array_equal(gauge["sum"].to_numpy(), per_minute.sum(axis=1), err_msg=name)
        np.testing.assert_array_equal(gauge["minimum"].to_numpy(), per_minute.min(axis=1), err_msg=name)
        np.testing.assert_array_equal(gauge["maximum"].to_numpy(), per_minute.max(axis=1), err_msg=name)

    # Every instance follows its lifecycle; billing covers service.
    spans = _check_lifecycles(run)
    assert len(spans) == len(run.result.instance_ids)
    billed = sum(end - begin for begin, end in (s["billed"] for s in spans.values()))
    serving = sum(end - begin for begin, end in (s["serving"] for s in spans.values()) if begin is not None)
    assert run.variant["instance_hours"] * 3600 == pytest.approx(billed, rel=1e-9, abs=1e-6)
    assert run.variant["in_service_instance_hours"] * 3600 == pytest.approx(serving, rel=1e-9, abs=1e-6)
    assert run.variant["instance_hours"] >= run.variant["in_service_instance_hours"]
    # The peak is exact: the most in service just after any event, which the 1 s samples may miss
    # (an instance in service at 100.3 s that another's failure at 100.8 s takes back).
    at_events = _replayed_gauges(run, initial, np.unique(run.events["time_s"].to_numpy(dtype=float)))
    assert run.variant["peak_instances_in_service"] == at_events["InServiceInstances"].max()
    assert run.variant["peak_instances_in_service"] >= in_service["maximum"].max()


# -- 9. failures and replacements -----------------------------------------------------------------------

def test_failures_are_replaced_at_once_and_poisson_in_number():
    mttf_s = 600.0
    schedule = [[0, 20.0], [7200, 60.0], [14400, 10.0]]
    run = Run(experiment("6h", schedule, initial=8, min_capacity=4, max_capacity=12, mttf=f"{mttf_s:g}s",
                         policies=[tt_invocations(300.0)]))
    failed = run.of("InstanceFailed")
    launched = run.of("InstanceLaunched")
    replacements = launched[[d["reason"].startswith("replacement for ") for d in launched["detail"]]]
    assert len(replacements) == len(failed) > 0
    spans = _check_lifecycles(run)
    for _, failure in failed.iterrows():
        same_time = replacements[replacements["time_s"] == failure["time_s"]]
        mine = same_time[[d["reason"] == f"replacement for {failure['InstanceId']}" for d in same_time["detail"]]]
        assert len(mine) == 1, failure
        replacement = spans[mine["InstanceId"].iloc[0]]
        if replacement["end"] != "Cancelled" and failure["time_s"] + run.launch_s < run.duration:
            assert replacement["serving"][0] == pytest.approx(failure["time_s"] + run.launch_s, abs=1e-9)
    # A replacement keeps the desired count: no scaling activity comes with a failure.
    assert not set(failed["time_s"]) & set(run.of("ScalingActivity")["time_s"])

    # In-service instances fail independently after exponential times: over the in-service
    # exposure E the number of failures is Poisson with mean E / MTTF.
    exposure_s = run.variant["in_service_instance_hours"] * 3600
    mean = exposure_s / mttf_s
    assert mean > 100
    low, high = stats.poisson.ppf([0.005, 0.995], mean)
    assert low <= len(failed) <= high, (len(failed), mean)


# -- 10. drains ---------------------------------------------------------------------------------------------

def test_drained_instances_finish_their_requests_and_are_billed_until_then():
    """Six single-worker instances at about 73 % busy, then 50 %: target tracking scales in from 6 to
    ceil(6 x 3000 / 4800) = 4 while requests are queued at the instances it drains."""
    target = 4800.0
    run = Run(experiment("35min", [[0, 440.0], [600, 300.0]], kind="poisson", initial=6, max_capacity=10,
                         workers=1, seed=1, policies=[tt_invocations(target)]), requests=True)
    acts = run.activities()
    assert len(acts) == 1 and acts["detail"].iloc[0]["new_capacity"] < acts["detail"].iloc[0]["old_capacity"]
    drains = run.of("InstanceDraining")
    terminated = run.of("InstanceTerminated").set_index("InstanceId")
    assert len(drains) == 2
    records = run.requests
    accepted = (records.instance >= 0) & np.isin(records.status, [OK, MODEL_ERROR, MODEL_TIMEOUT])
    index_of = {iid: i for i, iid in enumerate(run.result.instance_ids)}
    busy_at_drain = 0
    spans = _check_lifecycles(run)
    for _, drain in drains.iterrows():
        iid, drain_s = drain["InstanceId"], drain["time_s"]
        mine = records.instance == index_of[iid]
        assert mine.any()
        assert not (mine & (records.arrival_s >= drain_s)).any(), "routing stops at the drain"
        assert (records.arrival_s[mine & ~accepted] < drain_s).all()
        last_done = float(np.max(records.start_s[mine & accepted] + records.service_s[mine & accepted]))
        end_s = terminated.loc[iid, "time_s"]
        assert end_s == pytest.approx(max(drain_s, last_done), abs=1e-9)
        assert drain["detail"]["in_flight_until_s"] == pytest.approx(end_s, abs=1e-9)
        busy_at_drain += last_done > drain_s
        # billed from the start of the run (an initial instance) until it has drained
        assert terminated.loc[iid, "detail"]["billed_s"] == pytest.approx(end_s, abs=1e-9)
        assert spans[iid]["billed"] == (0.0, end_s) and spans[iid]["serving"] == (0.0, drain_s)
    assert busy_at_drain >= 1, "the scenario must drain an instance with requests still queued"
    billed = sum(end - begin for begin, end in (s["billed"] for s in spans.values()))
    serving = sum(end - begin for begin, end in (s["serving"] for s in spans.values()))
    assert run.variant["instance_hours"] * 3600 == pytest.approx(billed, rel=1e-12)
    assert run.variant["in_service_instance_hours"] * 3600 == pytest.approx(serving, rel=1e-12)
    drain_tail = sum(terminated.loc[iid, "time_s"] - d for iid, d in zip(drains["InstanceId"], drains["time_s"]))
    assert billed - serving == pytest.approx(drain_tail, rel=1e-9) and drain_tail > 0
