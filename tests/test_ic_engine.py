"""Inference components through the whole engine: copies placed, loaded, routed, displaced and
released, on generated endpoints, checked against what must hold for every run.

For each generated endpoint (components with random reservations, copy counts and strategies on
ml.c5.xlarge instances that fail every few minutes, with or without managed instance scaling), the
run's event log is replayed independently of the engine: which copy occupies which instance, when
each copy serves and which request-plane row it is. Then:

* no instance is ever over-committed (CPU cores and memory, as the copies reserve them);
* every request that reached a copy reached a copy of its own component serving at its arrival,
  and a request failed with NoCapacity exactly when no copy of its component was serving;
* the cost split adds up: each component's share and the idle part sum to what the hosting
  instances cost, and that is their billed hours at the catalog price;
* at the end every component has its copy count, placed or pending.
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from small_experiments import scenario
from ic_experiments import C5_CORES, C5_MIB, ic_experiment
from simfleet.engine.simulation import simulate
from simfleet.inference_components.placement import Capacity
from simfleet.request_records import NO_CAPACITY, RequestRecords

@st.composite
def endpoints(draw):
    scales_to_zero = draw(st.booleans())
    components = []
    for k in range(draw(st.integers(1, 3))):
        components.append({
            "name": f"ic-{k}", "cores": draw(st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 4.0])),
            "memory": draw(st.sampled_from([128, 512, 1024, 3000, 8192])),
            "copies": draw(st.integers(0 if scales_to_zero else 1, 4)),
            "strategy": draw(st.sampled_from(["SPREAD", "BINPACK"])), "rate": draw(st.sampled_from([5, 50, 200]))})
    scaling = None
    if scales_to_zero or draw(st.booleans()):
        low = 0 if scales_to_zero else draw(st.integers(1, 2))
        scaling = {"status": "ENABLED", "min_instance_count": low, "max_instance_count": draw(st.integers(max(low, 2), 5)),
                   "scale_in_policy": {"strategy": draw(st.sampled_from(["IDLE_RELEASE", "CONSOLIDATION"])),
                                       "maximum_step_size": draw(st.integers(1, 2)), "cooldown_in_minutes": 5}}
    initial = draw(st.integers(max(1, scaling["min_instance_count"]) if scaling else 1,
                               min(3, scaling["max_instance_count"]) if scaling else 3))
    raw = ic_experiment(components, initial, scaling, duration="12min", mttf=draw(st.sampled_from([None, "3min"])),
                        routing=draw(st.sampled_from(["LEAST_OUTSTANDING_REQUESTS", "RANDOM"])),
                        seed=draw(st.integers(0, 2**31)))
    # copy counts changed by scheduled actions (Application Auto Scaling pins DesiredCopyCount)
    targets, actions = [], []
    low = 0 if scales_to_zero else 1
    for c in components:
        if not draw(st.booleans()):
            continue
        resource = f"inference-component/{c['name']}"
        common = {"ServiceNamespace": "sagemaker", "ResourceId": resource,
                  "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount"}
        targets.append({**common, "MinCapacity": low, "MaxCapacity": 6})
        for j, second in enumerate(sorted(draw(st.sets(st.integers(30, 690), min_size=1, max_size=3)))):
            n = draw(st.integers(low, 5))
            actions.append({**common, "ScheduledActionName": f"pin-{j}",
                            "Schedule": f"at(2026-01-05T09:{second // 60:02d}:{second % 60:02d})",
                            "ScalableTargetAction": {"MinCapacity": n, "MaxCapacity": n}})
    if targets:
        raw["autoscaling"] = {"targets": targets, "policies": [], "scheduled_actions": actions, "alarms": []}
    return raw


class Replay:
    """The run's copies and instances as its event log tells them, rebuilt without the engine."""

    def __init__(self, events, components: dict[str, Capacity]):
        self.row_of_copy: dict[str, int] = {}          # ContainerId -> its current row
        self.row_component: dict[int, str] = {}
        self.row_serving: dict[int, list[float]] = {}  # row -> [from, until]
        self.over_committed: list[str] = []
        self.final: dict[str, int] = {name: 0 for name in components}
        used: dict[str, Capacity] = {}
        where: dict[str, str] = {}                     # ContainerId -> instance
        rows = 0
        alive = 0                                      # instances launched or in service, not yet leaving
        self.most_instances = 0
        for event in events.to_dict("records"):
            kind, t, detail = event["event"], event["time_s"], json.loads(event["detail"])
            if kind == "InstanceLaunched" or (kind == "InstanceInService" and "reason" in detail):
                rows += 1  # a host instance's row (an initial one enters service at once)
                alive += 1
                self.most_instances = max(self.most_instances, alive)
            elif kind in ("InstanceFailed", "InstanceDraining", "InstanceLaunchCancelled"):
                alive -= 1
            elif kind == "CopyPlaced":
                name, instance = detail["copy"], event["InstanceId"]
                self.row_of_copy[name] = rows
                self.row_component[rows] = detail["inference_component"]
                rows += 1
                where[name] = instance
                used[instance] = used.get(instance, Capacity()) + components[detail["inference_component"]]
                # compared by hand, not with the placement module's own `fits_in`
                if used[instance].cpu_cores > C5_CORES or used[instance].memory_mb > C5_MIB:
                    self.over_committed.append(f"{instance} at {t}: {used[instance]}")
            elif kind == "CopyInService":
                self.row_serving[self.row_of_copy[detail["copy"]]] = [t, np.inf]
            elif kind in ("CopyRemoved", "CopyDisplaced") and detail["was"] != "Pending":
                name = detail["copy"]
                row = self.row_of_copy[name]
                if row in self.row_serving and self.row_serving[row][1] == np.inf:
                    self.row_serving[row][1] = t
                instance = where.pop(name)
                used[instance] = used[instance] - components[detail["inference_component"]]
        self.placed_at_end = len(where)

    def serving_at(self, component: str, t: float) -> bool:
        return any(lo <= t < hi for row, (lo, hi) in self.row_serving.items() if self.row_component[row] == component)


@settings(max_examples=25, deadline=None)
@given(endpoints())
def test_copies_never_over_commit_and_serve_only_while_in_service(raw):
    sc = scenario(raw)
    parts: list[RequestRecords] = []
    result = simulate(sc, requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    reservations = {c["inference_component_name"]: Capacity.of(
        c["specification"]["compute_resource_requirements"]["number_of_cpu_cores_required"], 0,
        c["specification"]["compute_resource_requirements"]["min_memory_required_in_mb"])
        for c in raw["inference_components"]}
    replay = Replay(result.events.to_pandas(), reservations)
    assert not replay.over_committed
    scaling = raw["endpoints"][0]["production_variants"][0].get("managed_instance_scaling")
    limit = scaling["max_instance_count"] if scaling else raw["endpoints"][0]["production_variants"][0][
        "initial_instance_count"]
    assert replay.most_instances <= limit

    names = {v.index: v.component.name for v in result.fleet.variants if v.component is not None}
    reached = records.instance >= 0
    for k in np.flatnonzero(reached):
        row, name, t = int(records.instance[k]), names[int(records.variant[k])], float(records.arrival_s[k])
        assert replay.row_component[row] == name
        lo, hi = replay.row_serving[row]
        assert lo <= t < hi, f"request at {t} reached {name}'s row {row} serving over [{lo}, {hi})"
    for k in np.flatnonzero(~reached):
        assert records.status[k] == NO_CAPACITY
        assert not replay.serving_at(names[int(records.variant[k])], float(records.arrival_s[k]))
    # (every request that found a copy serving reached one: the converse, on a sample)
    for k in np.flatnonzero(reached)[:: max(1, int(reached.sum()) // 50)]:
        assert replay.serving_at(names[int(records.variant[k])], float(records.arrival_s[k]))

    summary = result.summary
    host = next(v for v in summary["variants"] if v.get("hosting"))
    shares = [v["cost"] for v in summary["variants"] if v.get("InferenceComponentName")]
    fleet_cost = host["instance_hours"] * host["price_per_hour"]
    assert abs(host["hosting"]["instances_cost"] - fleet_cost) <= 1e-9 * max(1.0, fleet_cost)
    assert abs(sum(shares) + host["cost"] - fleet_cost) <= 1e-9 * max(1.0, fleet_cost)
    assert abs(summary["cost"] - fleet_cost) <= 1e-9 * max(1.0, fleet_cost)
    assert all(share >= 0 for share in shares) and host["cost"] >= -1e-12


def test_copies_are_placed_by_their_reservations_and_spread():
    """Two instances of 4 cores; SPREAD puts one 2-core copy on each, BINPACK then fills instance 0
    with two 1-core copies (the placement module's rule, seen through a run)."""
    raw = ic_experiment([{"name": "a", "cores": 2.0, "memory": 1024, "copies": 2, "strategy": "SPREAD", "rate": 10},
                         {"name": "b", "cores": 1.0, "memory": 1024, "copies": 2, "strategy": "BINPACK", "rate": 10}])
    events = simulate(scenario(raw)).events.to_pandas()
    placed = events[events.event == "CopyPlaced"]
    on = {json.loads(d)["copy"]: i for d, i in zip(placed.detail, placed.InstanceId)}
    assert on["a-0"] != on["a-1"]
    assert on["b-2"] == on["b-3"]


def test_a_component_without_a_copy_fails_every_request_with_no_capacity():
    raw = ic_experiment([{"name": "a", "cores": 1.0, "memory": 512, "copies": 1, "strategy": "SPREAD", "rate": 20},
                         {"name": "zero", "cores": 1.0, "memory": 512, "copies": 0, "strategy": "SPREAD", "rate": 20}],
                        initial=1, scaling={"status": "ENABLED", "min_instance_count": 0, "max_instance_count": 2})
    result = simulate(scenario(raw))
    rows = {v["InferenceComponentName"]: v for v in result.summary["variants"] if v.get("InferenceComponentName")}
    assert rows["zero"]["requests"] > 0 and rows["zero"]["outcomes"]["NoCapacity"] == rows["zero"]["requests"]
    assert rows["a"]["outcomes"]["NoCapacity"] == 0
    metrics = result.metrics.to_pandas()
    failures = metrics[metrics.metric_name == "NoCapacityInvocationFailures"]
    assert set(failures.InferenceComponentName) == {"zero"}
    assert failures["sum"].sum() == rows["zero"]["requests"]


def test_pending_copies_launch_instances_and_idle_ones_are_released():
    """Three 4-core copies on one instance: two wait, managed scaling launches two instances, and
    they serve once provisioned and loaded; copies that fit nowhere without scaling stay pending."""
    copies = [{"name": "big", "cores": 4.0, "memory": 1024, "copies": 3, "strategy": "SPREAD", "rate": 50}]
    scaled = simulate(scenario(ic_experiment(copies, initial=1, scaling={
        "status": "ENABLED", "min_instance_count": 1, "max_instance_count": 3})))
    events = scaled.events.to_pandas()
    assert (events.event == "InstanceLaunched").sum() == 2
    assert (events.event == "CopyInService").sum() == 3
    fixed = simulate(scenario(ic_experiment(copies, initial=1)))
    gauges = fixed.metrics.to_pandas()
    pending = gauges[gauges.metric_name == "PendingCopies"]
    assert (pending["maximum"] == 2).all()


def _pinned(components, actions, strategy: str) -> dict:
    """`components` on two ml.c5.xlarge (managed scaling 0-4, `strategy`, 5-minute cooldown), with
    scheduled actions pinning component "a"'s copy count: (name, minute, count)."""
    raw = ic_experiment(components, initial=2, scaling={
        "status": "ENABLED", "min_instance_count": 0, "max_instance_count": 4,
        "scale_in_policy": {"strategy": strategy, "cooldown_in_minutes": 5}})
    common = {"ServiceNamespace": "sagemaker", "ResourceId": "inference-component/a",
              "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount"}
    raw["autoscaling"] = {"targets": [{**common, "MinCapacity": 0, "MaxCapacity": 8}], "policies": [], "alarms": [],
                          "scheduled_actions": [{**common, "ScheduledActionName": name,
                                                 "Schedule": f"at(2026-01-05T09:{minute:02d}:00)",
                                                 "ScalableTargetAction": {"MinCapacity": n, "MaxCapacity": n}}
                                                for name, minute, n in actions]}
    return raw


def _timeline(result) -> list[tuple[float, str, str | None]]:
    events = result.events.to_pandas()
    return [(t, kind, instance) for t, kind, instance in zip(events.time_s, events.event, events.InstanceId)]


def test_idle_release_releases_the_instance_a_copy_scale_in_emptied():
    """Four 2-core copies, BINPACK: two per instance. Pinned to 1 at minute 2, the scale-in takes the
    copies of the instance with the fewest (a tie: the one added last) first, emptying instance 2,
    which IDLE_RELEASE releases at the first check 5 minutes after the last managed action (time 0):
    300 s. Pinned to 6 at minute 8: one fits beside the remaining copy, four wait, and managed scaling
    launches the two instances they fit on."""
    raw = _pinned([{"name": "a", "cores": 2.0, "memory": 1024, "copies": 4, "strategy": "BINPACK", "rate": 50}],
                  [("down", 2, 1), ("up", 8, 6)], "IDLE_RELEASE")
    timeline = _timeline(simulate(scenario(raw)))
    assert [(t, i) for t, kind, i in timeline if kind == "InstanceDraining"] == [(300.0, "i-00000000000000002")]
    assert [t for t, kind, _ in timeline if kind == "CopyRemoved"] == [120.0] * 3
    assert [t for t, kind, _ in timeline if kind == "InstanceLaunched"] == [480.0, 480.0]
    assert sum(1 for t, kind, _ in timeline if kind == "CopyPending" and t == 480.0) == 4


def test_consolidation_moves_copies_off_the_emptiest_instance_then_releases_it():
    """Two 1.5-core copies of "a", SPREAD, one per instance, plus a 1-core "b" copy on instance 1
    (fewest of its own, then fewest in all: a tie, then the first added): nothing is idle, so
    CONSOLIDATION empties the instance with the fewest copies (instance 2, one copy) onto instance 1,
    where it fits (1.5 + 1 + 1.5 <= 4 cores), at the first check after the 5-minute cooldown, and
    releases it; with IDLE_RELEASE nothing moves."""
    components = [{"name": "a", "cores": 1.5, "memory": 1024, "copies": 2, "strategy": "SPREAD", "rate": 20},
                  {"name": "b", "cores": 1.0, "memory": 1024, "copies": 1, "strategy": "SPREAD", "rate": 20}]
    consolidated = _timeline(simulate(scenario(_pinned(components, [("keep", 1, 2)], "CONSOLIDATION"))))
    assert [(t, i) for t, kind, i in consolidated if kind == "CopyDisplaced"] == [(300.0, "i-00000000000000002")]
    assert [(t, i) for t, kind, i in consolidated if kind == "InstanceDraining"] == [(300.0, "i-00000000000000002")]
    assert [i for t, kind, i in consolidated if kind == "CopyPlaced" and t == 300.0] == ["i-00000000000000001"]
    kept = _timeline(simulate(scenario(_pinned(components, [("keep", 1, 2)], "IDLE_RELEASE"))))
    assert not [kind for _, kind, _ in kept if kind in ("CopyDisplaced", "InstanceDraining")]
