"""Run an Inference Recommender job: every load test simulated, on the job's timeline.

`run_job(job)` plans the tests (`test_plan`), simulates each (`load_test`), in worker processes
when there are several (the sweep's `LocalExecutor`; how many processes run changes nothing in
the results), then lays them on the job's timeline: `MaxParallelOfTests` at a time, each in the
first slot to free up (`test_plan.start_offsets`). The timeline needs every test's length, and a
test's length does not depend on when it starts, so each test is first simulated as if it started
with the job, then moved to its start: a load test is the same whenever it runs (no scheduled
action, no clock time in the model), so moving it is shifting its timestamps (`shift_run`, tested
against re-simulating it at its start). Only a test that the job's `JobDurationInSeconds` cuts
short is simulated again, with the shorter limit; a test whose turn comes after the job's
duration does not run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import pyarrow as pa
import pyarrow.compute as pc

from simfleet.catalog import Catalog, load_catalog
from simfleet.outputs.run_warnings import RunWarning, price_only_warnings
from simfleet.profiles import builtin_profile_dir
from simfleet.recommender.job_file import RecommendationJob
from simfleet.recommender.load_test import LoadTestRun, LoadTestSpec, load_test_experiment, run_load_test
from simfleet.recommender.results import LoadTestResult
from simfleet.recommender.stopping import JOB_DURATION, StopDecision, StoppingMonitor
from simfleet.recommender.test_plan import PlannedTest, planned_tests, start_offsets
from simfleet.scenario import scenario_from_dict

if TYPE_CHECKING:  # the engine (numba) is imported when a test is simulated, not to plan one
    from simfleet.engine.simulation import RunResult

__all__ = ["JobOutcome", "run_job", "load_test_spec", "shift_run", "simulate_test", "no_price_warning",
           "planned_job_warnings"]


@dataclass(frozen=True)
class JobOutcome:
    """The job run: its planned tests; for each, its outcome (None when the job's duration was over
    before its turn came) and its result (a FAILED one for those); the job's start and end in the
    simulated world."""

    job: RecommendationJob
    planned: list[PlannedTest]
    outcomes: list[LoadTestRun | None]
    results: list[LoadTestResult]
    creation_time: dt.datetime
    completion_time: dt.datetime


def load_test_spec(job: RecommendationJob, test: PlannedTest, offset_s: float = 0.0,
                   limit_s: float | None = None) -> LoadTestSpec:
    """What test `test` of `job` runs when it starts `offset_s` after the job (limited to `limit_s`)."""
    request, settings = job.request, job.settings
    job_duration = request.InputConfig.JobDurationInSeconds
    if limit_s is None:
        limit_s = test.pattern_s if job_duration is None else min(test.pattern_s, job_duration - offset_s)
    paths = () if job.model_path is None or job.model_path.parent == builtin_profile_dir() \
        else (str(job.model_path.parent),)
    stopping = request.StoppingConditions.model_dump(exclude_none=True) if request.StoppingConditions else None
    return LoadTestSpec(
        job_name=request.JobName, index=test.index, instance_type=test.instance_type, model=job.model,
        knots=test.knots, limit_s=float(limit_s), seed=test.seed,
        start_time=settings.start_time + dt.timedelta(seconds=offset_s), start_offset_s=float(offset_s),
        job_duration_s=None if job_duration is None else float(job_duration), stopping=stopping,
        think_time_s=settings.think_time, model_paths=paths,
        inference_specification_name=test.inference_specification_name,
        environment_parameters=test.environment_parameters, serverless=test.serverless,
        serverless_settings=dict(settings.serverless) if test.serverless is not None else {},
        model_setup_time_statistic=settings.model_setup_time_statistic)


def simulate_test(task: tuple[LoadTestSpec, float | None]) -> LoadTestRun:
    """Simulate one load test (a top-level function, so that worker processes can run it)."""
    spec, price = task
    return run_load_test(spec, price)


def _shift_column(table: pa.Table, name: str, seconds: float) -> pa.Table:
    index = table.schema.get_field_index(name)
    delta = pa.scalar(dt.timedelta(seconds=seconds), pa.duration("ms"))
    return table.set_column(index, table.schema.field(index), pc.add(table.column(name), delta))


def shift_run(run: RunResult, seconds: float) -> RunResult:
    """The same run started `seconds` later: every timestamp moved, nothing else changed."""
    if not seconds:
        return run
    return dataclasses.replace(run, metrics=_shift_column(run.metrics, "timestamp", seconds),
                               metric_values=_shift_column(run.metric_values, "timestamp", seconds),
                               events=_shift_column(run.events, "timestamp", seconds))


def _place(result: LoadTestResult, spec: LoadTestSpec, length_s: float) -> LoadTestResult:
    """The result of a test simulated from the job's start, moved to its own start."""
    return dataclasses.replace(result, start_time=spec.start_time,
                               end_time=spec.start_time + dt.timedelta(seconds=min(length_s, spec.limit_s)))


def _simulate_all(tasks: list[tuple[LoadTestSpec, float | None]], workers: int, progress) -> list[LoadTestRun]:
    if not tasks:
        return []
    if workers <= 1 or len(tasks) == 1:
        done = []
        for task in tasks:
            done.append(simulate_test(task))
            progress(task[0], done[-1].result)
        return done
    from simfleet.sweep.executors import LocalExecutor

    by_index: dict[int, LoadTestRun] = {}
    with LocalExecutor(min(workers, len(tasks))) as executor:
        for task, outcome, error in executor.map_unordered(simulate_test, tasks):
            if error is not None:
                raise error
            by_index[task[0].index] = outcome
            progress(task[0], outcome.result)
    return [by_index[task[0].index] for task in tasks]


def run_job(job: RecommendationJob, catalog: Catalog | None = None, *, workers: int | None = None,
            progress: Callable[[LoadTestSpec, LoadTestResult], None] | None = None) -> JobOutcome:
    """Simulate every load test of `job`. `workers`: processes (default: MaxParallelOfTests when the
    job gives it, at most one per CPU and one per test; 1 runs in this process); the results do not
    depend on it. `progress(spec, result)` is called as each test finishes."""
    catalog = load_catalog() if catalog is None else catalog
    progress = progress or (lambda spec, result: None)
    planned = planned_tests(job, catalog)
    config = job.request.InputConfig
    given = config.ResourceLimit.MaxParallelOfTests if config.ResourceLimit else None
    parallel = given or 1
    cores = os.cpu_count() or 1
    workers = workers or min(cores, max(1, len(planned)), given or cores)
    # serverless tests (instance type None) are priced from what their runs billed
    price = {name: catalog[name].price_per_hour if name is not None else None for name in {t.instance_type
                                                                                         for t in planned}}
    first = [load_test_spec(job, test) for test in planned]
    simulated = _simulate_all([(spec, price[spec.instance_type]) for spec in first], workers, progress)

    job_duration = config.JobDurationInSeconds
    offsets = start_offsets([test.length_s for test in simulated], parallel)
    outcomes: list[LoadTestRun | None] = []
    cut = []
    for test, offset, began, done in zip(planned, offsets, first, simulated):
        if job_duration is not None and offset >= job_duration:
            outcomes.append(None)
            continue
        spec = load_test_spec(job, test, offset)
        if spec.limit_s < began.limit_s and done.length_s >= spec.limit_s:
            cut.append((len(outcomes), spec))   # the job's end comes first: stop it there
            outcomes.append(None)
            continue
        outcomes.append(LoadTestRun(spec, _place(done.result, spec, done.length_s), shift_run(done.run, offset)))
    again = _simulate_all([(spec, price[spec.instance_type]) for _, spec in cut], workers, progress)
    for (position, _), done in zip(cut, again):
        outcomes[position] = done
    ends = [o.spec.start_offset_s + o.length_s for o in outcomes if o is not None]
    creation = job.settings.start_time
    completion = creation + dt.timedelta(seconds=max(ends, default=0.0))
    results = [o.result if o is not None else _not_started(job, test, completion, price[test.instance_type], parallel)
               for test, o in zip(planned, outcomes)]
    return JobOutcome(job, planned, outcomes, results, creation, completion)


def _not_started(job: RecommendationJob, test: PlannedTest, when: dt.datetime, price: float | None,
                 parallel: int) -> LoadTestResult:
    """The FAILED result of a test whose turn came after the job's duration."""
    duration = job.request.InputConfig.JobDurationInSeconds
    monitor = StoppingMonitor.from_stopping_conditions(job.request.StoppingConditions)
    reason = (f"not started: the job's JobDurationInSeconds ({duration} s) was over before its turn "
              f"(MaxParallelOfTests {parallel})")
    return LoadTestResult(job.request.JobName, test.index, test.instance_type, 1, price, when, when,
                          StopDecision(True, JOB_DURATION, reason, None, float(duration)), None,
                          monitor.max_invocations, monitor.latency_threshold,
                          inference_specification_name=test.inference_specification_name,
                          environment_parameters=test.environment_parameters, failure_reason=reason,
                          serverless=test.serverless)



def no_price_warning(instance_type: str, label: str) -> RunWarning:
    """`no_price` for a tested instance type the catalog has no price for."""
    return RunWarning("no_price", f"{instance_type} has no price in the catalog: its CostPerHour and "
                                  "CostPerInference are missing (\"no price\" in the table), it scores 0 on cost and "
                                  "stays in the ranking", label)


def _every_test_runs_in_full(job: RecommendationJob, planned: list[PlannedTest]) -> bool:
    """Whether the job's duration can neither cut a test short nor leave one unstarted, however long
    the tests run: with no `JobDurationInSeconds`, or when the tests, each running as long as its
    experiment may (its traffic pattern to the next whole minute), `MaxParallelOfTests` at a time,
    end within it (shorter tests start no later, `start_offsets` being monotone in the lengths)."""
    config = job.request.InputConfig
    duration = config.JobDurationInSeconds
    if duration is None:
        return True
    parallel = (config.ResourceLimit.MaxParallelOfTests if config.ResourceLimit else None) or 1
    longest = [load_test_spec(job, test, limit_s=test.pattern_s).duration_s for test in planned]
    return all(offset + length <= duration for offset, length in zip(start_offsets(longest, parallel), longest))


def planned_job_warnings(job: RecommendationJob, catalog: Catalog | None = None) -> list[RunWarning]:
    """What the job's warnings (`job_output.job_warnings`) will say, known from the job file alone:
    `no_price` for each tested instance type without a price, and `differ_only_in_price` when every
    test runs in full whatever the runs do (`_every_test_runs_in_full`; otherwise which tests run,
    and for how long, is known only after the run, and only the run says it)."""
    catalog = load_catalog() if catalog is None else catalog
    planned = planned_tests(job, catalog)
    out = [no_price_warning(test.instance_type, test.label) for test in planned
           if test.instance_type is not None and catalog[test.instance_type].price_per_hour is None]
    if _every_test_runs_in_full(job, planned):
        specs = [load_test_spec(job, test) for test in planned]
        out += price_only_warnings([(spec.label, scenario_from_dict(load_test_experiment(spec), job.source))
                                    for spec in specs], "configurations")
    return out
