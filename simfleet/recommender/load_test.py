"""One Inference Recommender load test, simulated: its experiment, its minute-by-minute watch, its result.

Stage between the job's plan (`test_plan`) and the results (`results`): a `LoadTestSpec` says
what one test runs; `load_test_experiment` writes it as an ordinary simfleet experiment (one
endpoint named after the job and the test, one instance of the type under test, the job's
closed-loop users as its only traffic, with `job_name`, so the load generator's metrics are
published); `MinuteWatch` reads the datapoints the run publishes, one minute at a time, into
`MinuteObservation`s, feeds the `StoppingMonitor` and ends the simulation as soon as it stops;
`run_load_test` does all three and evaluates the test.

What a minute holds (CloudWatch's view of the endpoint under test, 60 s periods): invocations =
Sum of `Invocations` (for a serverless test minus the Sum of `Invocation4XXErrors`, where its
throttles are counted: `serverless_tests`); the latency = the threshold's percentile (P95 or P99, P99 without a
threshold) of `ModelLatency`, in ms; errors = Sum of `Invocation4XXErrors` and
`Invocation5XXErrors`; users = the pattern's users at the end of the minute; CPU and memory =
Average of `CPUUtilization` and `MemoryUtilization`.

A serverless test (`LoadTestSpec.serverless`) is the same experiment with a serverless variant
(`serverless_config` instead of an instance type and count) and the job's `simfleet.serverless`
settings as its `[serverless]` section; the watch also keeps every `ModelSetupTime` datapoint
of the endpoint, and its cost per inference is read from the run's summary.

Decision: a minute is observed only when the whole of it lies within the traffic pattern; when
the pattern's length is not a whole number of minutes the run goes on to the next minute's end
(so every metric period closes) and that partial minute is published but not judged.
Decision: the test ends after the first minute in which a stopping condition holds, at the end of
the traffic pattern, or when the job's `JobDurationInSeconds` has elapsed since the job started
(`start_offset_s` is when the test started in the job).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from simfleet.metrics.emission import ENDPOINT_NAMESPACE, INVOCATION_NAMESPACE
from simfleet.metrics.load_generator import LoadGenerator
from simfleet.recommender.results import LoadTestResult, endpoint_name, evaluate_monitor
from simfleet.recommender.serverless_tests import ServerlessSetup, model_setup_time_us, serverless_cost_per_inference
from simfleet.recommender.stopping import MinuteObservation, StoppingMonitor
from simfleet.scenario import scenario_from_dict

if TYPE_CHECKING:  # the engine (numba) is imported when a test is simulated, not to plan one
    from simfleet.engine.simulation import RunResult

__all__ = ["LoadTestSpec", "LoadTestRun", "MinuteWatch", "load_test_experiment", "run_load_test", "MINUTE_S"]

MINUTE_S = 60
#: Percentile recorded each minute when the job sets no latency threshold.
DEFAULT_PERCENTILE = "P99"


@dataclass(frozen=True)
class LoadTestSpec:
    """What load test `index` (0-based, in the job's order) runs.

    `knots`: (seconds from the test's start, users from then on), ending with (pattern end, 0).
    `limit_s`: how long the test may run: the pattern's length, or less when the job's duration
    cuts it. `stopping`: the job's StoppingConditions (a mapping of AWS member names, or None).
    `model_paths`: folders of the model profile (absolute); empty for profiles shipped with simfleet.
    `serverless`: the serverless configuration tested (then `instance_type` is None), with the
    job's `[serverless]` settings `serverless_settings` and `model_setup_time_statistic`.
    """

    job_name: str
    index: int
    instance_type: str | None
    model: str
    knots: tuple[tuple[float, int], ...]
    limit_s: float
    seed: int
    start_time: dt.datetime
    start_offset_s: float = 0.0
    job_duration_s: float | None = None
    stopping: Any = None
    think_time_s: float = 0.0
    instance_count: int = 1
    model_paths: tuple[str, ...] = ()
    inference_specification_name: str | None = None
    environment_parameters: tuple[tuple[str, str], ...] = ()
    serverless: ServerlessSetup | None = None
    serverless_settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    model_setup_time_statistic: str = "Average"

    @property
    def label(self) -> str:
        return self.serverless.label if self.serverless is not None else self.instance_type

    @property
    def endpoint_name(self) -> str:
        return endpoint_name(self.job_name, self.index)

    @property
    def pattern_end_s(self) -> float:
        return self.knots[-1][0]

    @property
    def duration_s(self) -> int:
        """The experiment's duration: `limit_s` rounded up to whole minutes."""
        return max(1, math.ceil(self.limit_s / MINUTE_S)) * MINUTE_S


def load_test_experiment(spec: LoadTestSpec) -> dict:
    """The test as an experiment document (the same keys as an experiment TOML file)."""
    name = spec.endpoint_name
    think = {"kind": "constant", "value": f"{spec.think_time_s!r}s"}
    percentiles = sorted({50.0, 90.0, 95.0, 99.0})
    variant: dict[str, Any] = {"variant_name": name, "model_name": spec.model}
    if spec.serverless is not None:
        variant["serverless_config"] = spec.serverless.variant_config()
    else:
        variant.update(instance_type=spec.instance_type, initial_instance_count=spec.instance_count)
    experiment = {
        "experiment": {"name": name, "description": f"Inference Recommender job {spec.job_name}, load test "
                       f"{spec.index + 1}: {spec.label}", "start_time": spec.start_time,
                       "duration": f"{spec.duration_s}s", "seed": spec.seed, "model_paths": list(spec.model_paths)},
        "metrics": {"percentiles": percentiles},
        "endpoints": [{"endpoint_name": name, "production_variants": [variant]}],
        "traffic": [{"kind": "users", "schedule": [[f"{t!r}s", users] for t, users in spec.knots],
                     "think_time": think, "job_name": spec.job_name, "endpoint_name": name}],
    }
    if spec.serverless is not None and spec.serverless_settings:
        experiment["serverless"] = copy.deepcopy(dict(spec.serverless_settings))
    return experiment


@dataclass
class MinuteWatch:
    """Builds each minute's observation from the run's datapoints and applies the stopping conditions.

    A `RunWatcher` for `simulate`: `on_datapoint` keeps what the endpoint under test publishes at
    60 s; `on_tick` closes a minute at every whole minute and answers whether the test stops.
    """

    spec: LoadTestSpec
    monitor: StoppingMonitor
    cpu: list[float | None] = field(default_factory=list)
    memory: list[float | None] = field(default_factory=list)
    setup_times: list = field(default_factory=list)   # the ModelSetupTime datapoints' distributions (µs)
    _minute: dict = field(default_factory=dict)

    def __post_init__(self):
        threshold = self.monitor.latency_threshold
        self.percentile = float((threshold.percentile if threshold else DEFAULT_PERCENTILE)[1:])
        self._dims = {"EndpointName": self.spec.endpoint_name, "VariantName": self.spec.endpoint_name}
        self._users = LoadGenerator(self.spec.job_name, self.spec.endpoint_name, list(self.spec.knots))

    def on_datapoint(self, timestamp, period_s, namespace, metric, dimensions, dist) -> None:
        if period_s != MINUTE_S or dimensions != self._dims:
            return
        if namespace == INVOCATION_NAMESPACE and metric == "ModelLatency":
            self._minute[metric] = dist.percentile(self.percentile) / 1000.0  # µs → ms
        elif namespace == INVOCATION_NAMESPACE and metric in ("Invocations", "Invocation4XXErrors",
                                                               "Invocation5XXErrors"):
            self._minute[metric] = int(round(dist.total))
        elif namespace == INVOCATION_NAMESPACE and metric == "ModelSetupTime":
            self.setup_times.append(dist)
        elif namespace == ENDPOINT_NAMESPACE and metric in ("CPUUtilization", "MemoryUtilization"):
            self._minute[metric] = dist.average

    def on_tick(self, t: float) -> bool:
        if round(t) % MINUTE_S:
            return False
        minute, self._minute = self._minute, {}
        spec = self.spec
        if t <= spec.limit_s + 1e-9:
            invocations = minute.get("Invocations", 0)
            if spec.serverless is not None:   # throttled at MaxConcurrency: not served (serverless_tests)
                invocations -= minute.get("Invocation4XXErrors", 0)
            self.monitor.observe(MinuteObservation(
                float(t), invocations, minute.get("ModelLatency"),
                int(self._users.users_at(np.array([float(t)]))[0]),
                minute.get("Invocation4XXErrors", 0) + minute.get("Invocation5XXErrors", 0)))
            self.cpu.append(minute.get("CPUUtilization"))
            self.memory.append(minute.get("MemoryUtilization"))
        if self.monitor.stopped:
            return True
        # `limit_s` is the pattern's end or the job's: whichever comes first ends the test here
        self.monitor.check_job_duration(spec.start_offset_s + t, spec.job_duration_s)
        if t >= spec.limit_s - 1e-9:
            self.monitor.end_of_traffic(min(float(t), spec.pattern_end_s))
        return self.monitor.stopped


@dataclass(frozen=True)
class LoadTestRun:
    """A simulated load test: its spec (with its place on the job's timeline), its evaluation, and
    its run (metrics, events, summary)."""

    spec: LoadTestSpec
    result: LoadTestResult
    run: RunResult

    @property
    def length_s(self) -> float:
        """Simulated seconds the test lasted."""
        return self.run.summary["duration_s"]

    @property
    def requests(self) -> int:
        return self.run.summary["requests"]


def run_load_test(spec: LoadTestSpec, price_per_hour: float | None = None, base_dir: Path | None = None
                  ) -> LoadTestRun:
    """Simulate the test and evaluate it (`results.evaluate_monitor`)."""
    scenario = scenario_from_dict(load_test_experiment(spec), f"<load test {spec.index + 1} of {spec.job_name}>",
                                  base_dir)
    monitor = StoppingMonitor.from_stopping_conditions(spec.stopping)
    watch = MinuteWatch(spec, monitor)
    from simfleet.engine.simulation import simulate

    run = simulate(scenario, watcher=watch)
    begin = spec.start_time
    serverless = {}
    if spec.serverless is not None:
        serverless = dict(serverless=spec.serverless,
                          serverless_cost_per_inference=serverless_cost_per_inference(run.summary["variants"][0]),
                          model_setup_time_us=model_setup_time_us(watch.setup_times, spec.model_setup_time_statistic))
    result = evaluate_monitor(
        monitor, job_name=spec.job_name, index=spec.index, instance_type=spec.instance_type,
        start_time=begin, end_time=begin + dt.timedelta(seconds=min(run.summary["duration_s"], spec.limit_s)),
        price_per_hour=price_per_hour, instance_count=spec.instance_count, cpu_utilization=watch.cpu,
        memory_utilization=watch.memory, inference_specification_name=spec.inference_specification_name,
        environment_parameters=dict(spec.environment_parameters), **serverless)
    return LoadTestRun(spec, result, run)
