"""Recommender: an Advanced Inference Recommender job over 10 instance types, as `simfleet recommend` runs it.

The XGBoost profile shipped with simfleet (`models/xgboost-tabular.toml`) on ten priced instance
types of four families, one PHASES phase of 1 user spawning 3 a minute for 15 minutes (2 in quick
mode), a P95 threshold of 100 ms, FlatInvocations Stop and no MaxInvocations, so each test runs
until its instance saturates (the larger the instance, the longer), MaxParallelOfTests 2. Timed:
`run_job` (plan, simulate every test in worker processes, lay them on the job's timeline) plus
`write_job` (recommendations.json, steps.json and every test's run directory), the whole job as
the command does it after reading the file.

No naive baseline: the tests are closed-loop runs, whose speed against a naive SimPy model the
closed-loop workload measures; the target here is the job's wall time.
"""

from __future__ import annotations

import tempfile

from measure import engine_figures, timed
from registry import Settings, Workload
from targets import RECOMMENDER_WALL_MAX_S, target

INSTANCE_TYPES = ("ml.c5.large", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge", "ml.c6i.large", "ml.c6i.xlarge",
                  "ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.r5.2xlarge")
FULL = {"phase_s": 900, "repeat": 3}
QUICK = {"phase_s": 120}


def job_document(phase_s: int) -> dict:
    return {
        "JobName": "bench-recommender", "JobType": "Advanced",
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerInferenceRecommender",
        "InputConfig": {
            "ModelName": "xgboost-bench",
            "TrafficPattern": {"TrafficType": "PHASES", "Phases": [
                {"InitialNumberOfUsers": 1, "SpawnRate": 3, "DurationInSeconds": phase_s}]},
            "ResourceLimit": {"MaxNumberOfTests": 10, "MaxParallelOfTests": 2},
            "EndpointConfigurations": [{"InstanceType": name} for name in INSTANCE_TYPES]},
        "StoppingConditions": {"ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 100}],
                               "FlatInvocations": "Stop"},
        "simfleet": {"model": "xgboost-tabular", "seed": 1},
    }


def run(settings: Settings) -> dict:
    from simfleet.profiles import available_profiles, builtin_profile_dir
    from simfleet.recommender.job_file import load_job
    from simfleet.recommender.job_output import write_job
    from simfleet.recommender.job_runner import run_job

    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    job = load_job(job_document(sizes["phase_s"]), "<benchmark job>",
                   profiles=available_profiles([builtin_profile_dir()]))

    def whole_job():
        with tempfile.TemporaryDirectory(prefix="simfleet-recommend-bench-") as out:
            outcome = run_job(job)
            write_job(outcome, out)
        return outcome

    whole_job()  # loads the JIT in this process and in the worker processes' first start
    walls, outcome = timed(whole_job, repeat)
    tests = [o for o in outcome.outcomes if o is not None]
    requests = sum(o.requests for o in tests)
    simulated_s = sum(o.length_s for o in tests)
    stopped = {}
    for result in outcome.results:
        stopped[result.stop.condition] = stopped.get(result.stop.condition, 0) + 1
    engines = {"simfleet": engine_figures("simfleet recommend: plan, simulate, write (2 worker processes)",
                                          requests, walls, peak_source="not measured (worker processes)")}
    return {
        "title": f"Advanced job, {len(INSTANCE_TYPES)} instance types, xgboost-tabular, users 1 + 3/min "
                 f"for {sizes['phase_s']} s, P95 100 ms, FlatInvocations Stop, MaxParallelOfTests 2",
        "repeat": repeat,
        "workload": {"instance_types": list(INSTANCE_TYPES), "tests": len(outcome.results), "requests": requests,
                     "simulated_test_minutes": simulated_s / 60, "stopped_by": stopped,
                     "recommendations": sum(r.succeeded for r in outcome.results)},
        "engines": engines,
        "ratios": {},
        "checks": {"every_test_ran": len(tests) == len(INSTANCE_TYPES)},
        "memory": {},
        "extra_lines": [f"{len(tests)} tests, {simulated_s / 60:.0f} simulated minutes, stopped by "
                        + ", ".join(f"{k} {v}" for k, v in sorted(stopped.items()))],
        "targets": [target("Advanced job over 10 instance types, whole job", engines["simfleet"]["wall_s"]["median"],
                           "<", RECOMMENDER_WALL_MAX_S, "s")],
        "notes": [],
    }


WORKLOAD = Workload("recommender", run)
