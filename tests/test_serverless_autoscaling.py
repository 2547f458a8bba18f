"""Provisioned concurrency under Application Auto Scaling (issue 16), end to end.

A serverless variant registered as a `sagemaker:variant:DesiredProvisionedConcurrency` target is
scaled by the same policies as an instance count. Expectations come from the documented rules
and the experiment's settings, and are checked against independent views of one run:

* the scaling activities (`ScalingActivity`) form a chain from the configured provisioned
  concurrency, and the pool's level changes (`ProvisionedConcurrencyChange`) are exactly that
  chain, at the same instants;
* the per-minute `ServerlessActivity` rows, counted from the environment records the pools emit
  (not from the autoscaler), add and release exactly what the chain says, minute by minute;
* each target-tracking decision equals ceil(mean level over the alarm period × metric / target)
  computed here from the chain and the published `ServerlessProvisionedConcurrencyUtilization`;
* no capacity leaves [MinCapacity, MaxCapacity] or exceeds max_concurrency;
* requests are served by provisioned environments (or spill over) only while the level is > 0.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest

from small_experiments import base_experiment, scenario
from simfleet.config.experiment import AutoscalingSettings
from simfleet.engine.simulation import simulate
from simfleet.errors import InputError
from simfleet.request_records import ENV_PROVISIONED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, RequestRecords

ENDPOINT, VARIANT = "ep", "A"
RESOURCE = f"endpoint/{ENDPOINT}/variant/{VARIANT}"
PC = "sagemaker:variant:DesiredProvisionedConcurrency"
IC = "sagemaker:variant:DesiredInstanceCount"
PC_METRIC = "SageMakerVariantProvisionedConcurrencyUtilization"
DEFAULTS = AutoscalingSettings()
PERIOD_S = DEFAULTS.target_tracking_period
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)  # base_experiment's start_time


def target(min_capacity: int, max_capacity: int, dimension: str = PC, resource: str = RESOURCE) -> dict:
    return {"ServiceNamespace": "sagemaker", "ResourceId": resource, "ScalableDimension": dimension,
            "MinCapacity": min_capacity, "MaxCapacity": max_capacity}


def tracking(value: float, metric: str = PC_METRIC, dimension: str = PC, resource: str = RESOURCE, **config) -> dict:
    return {"PolicyName": "pc", "ServiceNamespace": "sagemaker", "ResourceId": resource,
            "ScalableDimension": dimension, "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": value, "PredefinedMetricSpecification": {"PredefinedMetricType": metric}, **config}}


def scheduled(name: str, at_s: int, min_capacity: int | None, max_capacity: int | None) -> dict:
    minute, second = divmod(at_s, 60)
    hour, minute = divmod(minute, 60)
    action = {k: v for k, v in (("MinCapacity", min_capacity), ("MaxCapacity", max_capacity)) if v is not None}
    return {"ScheduledActionName": name, "ServiceNamespace": "sagemaker", "ResourceId": RESOURCE,
            "ScalableDimension": PC, "Schedule": f"at(2026-01-05T{9 + hour:02d}:{minute:02d}:{second:02d})",
            "ScalableTargetAction": action}


def serverless(duration: str, traffic: list, *, max_concurrency: int = 40, provisioned: int | None = 2,
               autoscaling: dict | None = None, serverless_settings: dict | None = None, seed: int = 3) -> dict:
    """One serverless variant of tests/data/models/serverless-toy.toml (as tests/test_serverless_theory.py)."""
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    config = {"memory_size_in_mb": 2048, "max_concurrency": max_concurrency}
    if provisioned is not None:
        config["provisioned_concurrency"] = provisioned
    raw["endpoints"][0]["production_variants"] = [
        {"variant_name": VARIANT, "model_name": "serverless-toy", "serverless_config": config}]
    raw["serverless"] = {"idle_timeout": "1h", "container_start_time": {"kind": "constant", "value": "1s"},
                         **(serverless_settings or {})}
    raw["traffic"] = traffic
    if autoscaling is not None:
        raw["autoscaling"] = autoscaling
    return raw


class Run:
    def __init__(self, raw: dict):
        parts: list[RequestRecords] = []
        self.result = simulate(scenario(raw), requests_sink=parts.append)
        self.requests = RequestRecords.concat(parts)
        events = self.result.events.to_pandas()
        events["detail"] = [json.loads(d) for d in events["detail"]]
        self.events = events
        self.duration = self.result.summary["duration_s"]

    def of(self, name: str) -> list[tuple[float, dict]]:
        rows = self.events[self.events["event"] == name]
        return list(zip(rows["time_s"], rows["detail"]))

    def chain(self) -> list[tuple[float, int, int]]:
        return [(t, d["old_capacity"], d["new_capacity"]) for t, d in self.of("ScalingActivity")]

    def level_changes(self) -> list[tuple[float, int, int]]:
        return [(t, d["old_level"], d["new_level"]) for t, d in self.of("ProvisionedConcurrencyChange")]


def level_at(chain, initial: int, t: float) -> int:
    """The level a chain of changes (time, old, new) gives at `t` (a change at t applies at t)."""
    level = initial
    for when, _, new in chain:
        if when <= t:
            level = new
    return level


def mean_level(chain, initial: int, begin: float, end: float) -> float:
    """Mean level over [begin, end), sampled every 0.1 s (naive on purpose; levels change on whole seconds)."""
    return float(np.mean([level_at(chain, initial, t) for t in np.arange(begin, end, 0.1)]))


def assert_activity_rows_follow(run: Run, chain, initial: int) -> None:
    """Each minute's ServerlessActivity row adds and releases what the chain changes in that minute
    (the configured level counts as added at 0 s)."""
    rows = {round(d["window_start_s"]): d for _, d in run.of("ServerlessActivity")}
    chain = [(0.0, 0, initial)] + list(chain)
    for start in range(0, int(run.duration), 60):
        ups = sum(max(new - old, 0) for t, old, new in chain if start <= t < start + 60)
        downs = sum(max(old - new, 0) for t, old, new in chain if start <= t < start + 60)
        row = rows.get(start, {})
        assert row.get("provisioned_added", 0) == ups, (start, row)
        assert row.get("provisioned_released", 0) == downs, (start, row)
    assert level_at(chain, 0, run.duration) == sum(
        d["provisioned_added"] - d["provisioned_released"] for d in rows.values())


def utilization(run: Run):
    """The run's one-minute ServerlessProvisionedConcurrencyUtilization datapoints, `t` their start."""
    metrics = run.result.metrics.to_pandas()
    util = metrics[(metrics["metric_name"] == "ServerlessProvisionedConcurrencyUtilization")
                   & (metrics["period_s"] == PERIOD_S)].copy()
    util["t"] = (util["timestamp"] - START).dt.total_seconds().round().astype(int)
    return util


def served_on_provisioned(run: Run) -> np.ndarray:
    env = run.requests.environment
    return np.isin(env, (ENV_PROVISIONED, ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD))


# -- target tracking over a load ramp --------------------------------------------------------------------

RAMP = [{"kind": "poisson", "schedule": [["0s", 2.0], ["5min", 40.0], ["15min", 2.0]], "interpolation": "step"}]
TARGET_VALUE, MAX_CAPACITY, MAX_CONCURRENCY = 0.5, 16, 40


@pytest.fixture(scope="module")
def ramp_run() -> Run:
    autoscaling = {"targets": [target(1, MAX_CAPACITY)],
                   "policies": [tracking(TARGET_VALUE, ScaleOutCooldown=60, ScaleInCooldown=60)]}
    return Run(serverless("40min", RAMP, max_concurrency=MAX_CONCURRENCY, provisioned=2, autoscaling=autoscaling))


def test_target_tracking_scales_provisioned_concurrency_up_under_load_and_down_after(ramp_run):
    chain = ramp_run.chain()
    assert chain, "no scaling activity"
    assert chain[0][1] == 2                                     # from the configured provisioned_concurrency
    assert all(a[2] == b[1] for a, b in zip(chain, chain[1:]))  # each starts where the last ended
    ups = [t for t, old, new in chain if new > old]
    downs = [t for t, old, new in chain if new < old]
    # 40/s x ~0.23 s keeps ~9 environments busy: far above 0.5 x 2 provisioned
    assert ups and 300 < ups[0] <= 300 + (DEFAULTS.scale_out_datapoints + 1) * PERIOD_S
    peak = max(new for _, _, new in chain)
    assert peak >= math.ceil(40 * 0.2 / TARGET_VALUE)           # at least the median-service load / target
    assert downs and min(downs) > 900                          # after the ramp
    assert chain[-1][2] < peak
    assert all(t < 900 for t in ups)                           # nothing rises once the load is gone


def test_the_level_follows_the_scaling_activities(ramp_run):
    chain = ramp_run.chain()
    assert ramp_run.level_changes() == chain                   # same instants, same levels
    assert_activity_rows_follow(ramp_run, chain, 2)


def test_capacity_stays_within_the_target_and_max_concurrency(ramp_run):
    levels = [new for _, _, new in ramp_run.level_changes()]
    assert levels and all(1 <= level <= min(MAX_CAPACITY, MAX_CONCURRENCY) for level in levels)
    blocked = [d for _, d in ramp_run.of("ScalingBlocked")]
    assert all(d["desired"] <= MAX_CAPACITY for d in blocked)


def assert_decisions_project_the_published_metric(run: Run, initial: int) -> None:
    """desired = ceil(mean level over the alarm period x Average utilization / target): the level the
    pool had (`ProvisionedConcurrencyChange`), the metric read from metrics.parquet."""
    levels = run.level_changes()
    util = utilization(run)
    by_end = dict(zip(util["t"] + PERIOD_S, util["average"]))
    policy = [(t, d) for t, d in run.of("ScalingActivity") if d["cause"] == "policy"]
    assert policy
    for t, detail in policy:
        value = by_end[round(t)]
        assert detail["value"] == pytest.approx(value)
        basis = mean_level(levels, initial, t - PERIOD_S, t)
        projected = math.ceil(basis * value / TARGET_VALUE - 1e-9)
        old, new = detail["old_capacity"], detail["new_capacity"]
        if new > old:
            assert new == min(MAX_CAPACITY, max(old, projected)), (t, detail, basis)
        else:
            assert new == max(1, projected), (t, detail, basis)


def test_each_decision_is_the_projection_of_the_published_metric(ramp_run):
    assert_decisions_project_the_published_metric(ramp_run, 2)


def test_with_a_provisioning_delay_decisions_project_from_the_level_in_place():
    """A raise still provisioning counts in the current capacity but took no load: the next
    decision projects from the level the pool had, and each level change comes the delay after
    its scaling activity."""
    autoscaling = {"targets": [target(1, MAX_CAPACITY)],
                   "policies": [tracking(TARGET_VALUE, ScaleOutCooldown=60, ScaleInCooldown=60)]}
    run = Run(serverless("40min", RAMP, max_concurrency=MAX_CONCURRENCY, provisioned=2, autoscaling=autoscaling,
                         serverless_settings={"provisioned_concurrency_delay": "90s"}))
    chain, levels = run.chain(), run.level_changes()
    ups = [(t, new) for t, old, new in chain if new > old]
    assert any(b[0] - a[0] < 90 for a, b in zip(ups, ups[1:]))  # a raise while the one before provisions
    assert_decisions_project_the_published_metric(run, 2)
    for t, old, new in levels:
        if new > old:   # a raise is the delay after the activity that asked for it
            assert any(when + 90 == t and new == min(asked, level_at(chain, 2, t)) for when, asked in ups), t
    assert levels[-1][2] == chain[-1][2]


# -- scheduled actions ----------------------------------------------------------------------------------

STEADY = [{"kind": "poisson", "rate": 10.0}]


def test_a_scheduled_action_changes_the_level_exactly_at_its_time():
    autoscaling = {"targets": [target(0, 10)],
                   "scheduled_actions": [scheduled("up", 150, 6, 10), scheduled("off", 420, 0, 0)]}
    run = Run(serverless("10min", STEADY, provisioned=2, autoscaling=autoscaling))
    chain = run.chain()
    assert [(t, old, new) for t, old, new in chain] == [(150.0, 2, 6), (420.0, 6, 0)]
    assert run.level_changes() == chain
    assert_activity_rows_follow(run, chain, 2)
    provisioned = served_on_provisioned(run)
    assert provisioned[run.requests.arrival_s < 420].any()
    assert not provisioned[run.requests.arrival_s >= 420].any()   # level 0: no provisioned, no spill-over


def test_a_schedule_can_provision_a_variant_configured_without_it():
    autoscaling = {"targets": [target(0, 5)], "scheduled_actions": [scheduled("up", 120, 3, 5)]}
    run = Run(serverless("5min", STEADY, provisioned=None, autoscaling=autoscaling))
    assert run.chain() == run.level_changes() == [(120.0, 0, 3)]
    provisioned = served_on_provisioned(run)
    assert not provisioned[run.requests.arrival_s < 120].any()
    assert provisioned[run.requests.arrival_s >= 120].any()
    util = utilization(run)
    assert len(util) and util["t"].min() == 120   # published from the first period with a level > 0


def test_registration_brings_the_configured_level_inside_the_bounds():
    run = Run(serverless("3min", STEADY, provisioned=8, autoscaling={"targets": [target(1, 5)]}))
    assert run.chain() == run.level_changes() == [(0.0, 8, 5)]


def test_a_provisioning_delay_postpones_raises_not_lowerings():
    autoscaling = {"targets": [target(0, 10)],
                   "scheduled_actions": [scheduled("up", 150, 6, 10), scheduled("down", 420, 1, 1)]}
    run = Run(serverless("10min", STEADY, provisioned=2, autoscaling=autoscaling,
                         serverless_settings={"provisioned_concurrency_delay": "45s"}))
    assert run.chain() == [(150.0, 2, 6), (420.0, 6, 1)]
    assert run.level_changes() == [(195.0, 2, 6), (420.0, 6, 1)]


def test_a_lowering_before_a_delayed_raise_is_due_is_kept():
    autoscaling = {"targets": [target(0, 10)],
                   "scheduled_actions": [scheduled("up", 150, 6, 10), scheduled("cap", 170, 0, 3)]}
    run = Run(serverless("6min", STEADY, provisioned=2, autoscaling=autoscaling,
                         serverless_settings={"provisioned_concurrency_delay": "60s"}))
    assert run.chain() == [(150.0, 2, 6), (170.0, 6, 3)]
    # the raise to 6 is due at 210 s, but the target was capped at 3 at 170 s; 3 is due at 230 s
    assert run.level_changes() == [(210.0, 2, 3)]


def test_same_seed_same_run():
    autoscaling = {"targets": [target(1, MAX_CAPACITY)],
                   "policies": [tracking(TARGET_VALUE, ScaleOutCooldown=60, ScaleInCooldown=60)]}
    raw = serverless("12min", RAMP, autoscaling=autoscaling)
    assert Run(raw).result.events.equals(Run(raw).result.events)


# -- bad requests ----------------------------------------------------------------------------------------

REALTIME = {"variant_name": "B", "model_name": "toy", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1}


def problems_of(raw: dict):
    with pytest.raises(InputError) as caught:
        scenario(raw)
    return caught.value.problems


def realtime_experiment(autoscaling: dict) -> dict:
    raw = base_experiment()
    raw["endpoints"][0]["production_variants"][0]["variant_name"] = "B"
    raw["autoscaling"] = autoscaling
    return raw


B = f"endpoint/{ENDPOINT}/variant/B"
BAD = [
    ("provisioned dimension on a real-time variant",
     realtime_experiment({"targets": [target(0, 4, resource=B)]}),
     "autoscaling.targets[0].ScalableDimension", ("'B' of 'ep' is not serverless", IC)),
    ("provisioned metric on a real-time variant",
     realtime_experiment({"targets": [target(1, 4, IC, B)], "policies": [tracking(0.5, dimension=IC, resource=B)]}),
     "autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification"
     ".PredefinedMetricType", (f"{PC_METRIC} does not measure {IC}",)),
    ("instance metric on provisioned concurrency",
     serverless("5min", STEADY, autoscaling={"targets": [target(0, 4)], "policies": [
         tracking(100.0, "SageMakerVariantInvocationsPerInstance")]}),
     "autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification"
     ".PredefinedMetricType", (f"does not measure {PC}", PC_METRIC)),
    ("MaxCapacity above max_concurrency",
     serverless("5min", STEADY, max_concurrency=10, autoscaling={"targets": [target(0, 11)]}),
     "autoscaling.targets[0].MaxCapacity", ("MaxCapacity 11 is above the variant's max_concurrency 10",)),
    ("scheduled MaxCapacity above max_concurrency",
     serverless("5min", STEADY, max_concurrency=10, autoscaling={
         "targets": [target(0, 10)], "scheduled_actions": [scheduled("up", 60, 2, 12)]}),
     "autoscaling.scheduled_actions[0].ScalableTargetAction.MaxCapacity", ("MaxCapacity 12 is above",)),
    ("instance count on a serverless variant",
     serverless("5min", STEADY, autoscaling={"targets": [target(1, 4, IC)]}),
     "autoscaling.targets[0].ScalableDimension", ("a serverless variant has no instances", PC)),
]


@pytest.mark.parametrize("raw, key, fragments", [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_requests_are_one_line_errors(raw, key, fragments):
    found = problems_of(raw)
    assert [p.key for p in found] == [key], [str(p) for p in found]
    [problem] = found
    text = str(problem)
    assert "\n" not in text and problem.file == "test.toml", text
    for fragment in fragments:
        assert fragment in problem.message, text


def test_max_capacity_at_max_concurrency_and_min_capacity_zero_are_accepted():
    raw = serverless("5min", STEADY, max_concurrency=10, autoscaling={
        "targets": [target(0, 10)], "policies": [tracking(0.7)]})
    assert scenario(raw).autoscaling.targets[0].MaxCapacity == 10
