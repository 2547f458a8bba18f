"""Run directories, sweep datasets and recommender job folders for the report tests: short versions
of the shipped experiments, simulated once per test session on first use (conftest's `report_runs`
and `report_folders` fixtures hand them out)."""

from __future__ import annotations

from pathlib import Path


# --- run directories for the report tests (short versions of the shipped experiments) -----------------

REPORT_RUNS = {
    "quickstart": ("quickstart.toml", ["experiment.duration=10min"]),
    "quickstart-3": ("quickstart.toml", ["experiment.duration=10min",
                                         "endpoints.0.production_variants.0.initial_instance_count=3"]),
    "no-traffic": ("quickstart.toml", ["experiment.duration=10min", "traffic.0.rate=0"]),
    "serverless-vs-realtime": ("serverless-vs-realtime.toml", ["experiment.duration=20min"]),
    "multi-model": ("multi-model.toml", ["experiment.duration=5min"]),
    "autoscaling": ("diurnal-autoscaling.toml", ["experiment.duration=9h"]),
    "pipeline": ("pipeline.toml", ["experiment.duration=10min"]),
}


class ReportRuns:
    """Run directories simulated once per test session, on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._done: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._done:
            from simfleet.outputs.run_directory import run_to_directory
            from simfleet.scenario import load_experiment

            file, overrides = REPORT_RUNS[name]
            experiments = Path(__file__).resolve().parents[1] / "experiments"
            out = self.root / name
            run_to_directory(load_experiment(experiments / file, overrides), out)
            self._done[name] = out
        return self._done[name]


# --- a sweep dataset and recommender job folders for the report tests ---------------------------------

REPORT_SWEEP = """\
[sweep]
name = "report-sizing"
base = "{base}"
seed = 11
set = {{ "experiment.duration" = "2min" }}

[[axes]]
name = "instance_type"
key = "endpoints.0.production_variants.0.instance_type"
values = ["ml.c5.xlarge", "ml.m5.xlarge"]

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2]

[[axes]]
name = "rate"
key = "traffic.0.rate"
values = [150, 900]
"""

REPORT_JOB = """\
JobName = "{name}"
JobType = "Advanced"
RoleArn = "arn:aws:iam::123456789012:role/SageMakerInferenceRecommender"

[InputConfig]
ModelPackageVersionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-fraud/1"
JobDurationInSeconds = 3600
ResourceLimit = {{ MaxNumberOfTests = 10, MaxParallelOfTests = 3 }}
EndpointConfigurations = [
  {{ InstanceType = "ml.c5.large" }},
  {{ InstanceType = "ml.m5.xlarge" }},
  {{ ServerlessConfig = {{ MemorySizeInMB = 2048, MaxConcurrency = 5 }} }},
]

[InputConfig.TrafficPattern]
TrafficType = "PHASES"
Phases = [ {{ InitialNumberOfUsers = 1, SpawnRate = 3, DurationInSeconds = 240 }} ]

[StoppingConditions]
MaxInvocations = 6000
ModelLatencyThresholds = [{{ Percentile = "P95", ValueInMilliseconds = {threshold_ms} }}]
FlatInvocations = "Stop"

[simfleet]
model = "xgboost-tabular"
seed = 7
think_time = "200ms"
"""

#: name -> (runs of the sweep to break: "one" or "all")
REPORT_SWEEPS = {"sweep": "one", "sweep-all-failed": "all"}
#: name -> the job's P95 threshold (1 ms: no minute is within it, so no recommendation)
REPORT_JOBS = {"job": 50, "job-no-recommendation": 1}


class ReportFolders:
    """Sweep datasets and recommender job folders, written once per test session on first use.

    A sweep's failed runs are real failures: their overrides set an instance count the experiment
    refuses, as `test_sweep_run` breaks a run, so `runs.parquet` records them as the runner does."""

    def __init__(self, root: Path):
        self.root = root
        self._done: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._done:
            self._done[name] = self._sweep(name) if name in REPORT_SWEEPS else self._job(name)
        return self._done[name]

    def _sweep(self, name: str) -> Path:
        import dataclasses
        import io

        from simfleet.sweep.executors import LocalExecutor
        from simfleet.sweep.plan import load_sweep
        from simfleet.sweep.runner import run_sweep

        base = Path(__file__).resolve().parents[1] / "experiments" / "quickstart.toml"
        file = self.root / f"{name}.toml"
        file.write_text(REPORT_SWEEP.format(base=base.as_posix()))
        plan = load_sweep(file)
        broken = {1} if REPORT_SWEEPS[name] == "one" else set(range(len(plan.runs)))
        if REPORT_SWEEPS[name] == "all":
            plan = dataclasses.replace(plan, runs=plan.runs[:3])
            broken = {0, 1, 2}
        runs = tuple(dataclasses.replace(run, overrides=run.overrides + (
            ("endpoints.0.production_variants.0.initial_instance_count", "many"),)) if i in broken else run
            for i, run in enumerate(plan.runs))
        out = self.root / name
        with LocalExecutor(2) as pool:
            run_sweep(dataclasses.replace(plan, runs=runs), out, pool, stream=io.StringIO(), tty=False)
        return out

    def _job(self, name: str) -> Path:
        from simfleet.recommender.job_file import load_job_file
        from simfleet.recommender.job_output import write_job
        from simfleet.recommender.job_runner import run_job

        file = self.root / f"{name}.toml"
        file.write_text(REPORT_JOB.format(name=name, threshold_ms=REPORT_JOBS[name]))
        out = self.root / name
        write_job(run_job(load_job_file(file), workers=1), out)
        return out


# --- a run with inference components (the report's components section) --------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "inference-components.toml"
#: The example with its components waiting for an instance at the start: one initial instance, the
#: thumbnails starting with a copy, enhanced metrics (per-copy datapoints).
IC_OVERRIDES = ["experiment.duration=10min", "endpoints.0.production_variants.0.initial_instance_count=1",
                "inference_components.2.runtime_config.copy_count=1",
                "endpoints.0.metrics_config.enable_enhanced_metrics=true"]
IC_PANELS = {"ic-copies", "ic-invocations", "ic-no-capacity", "ic-latency", "ic-reservations",
             "ic-utilization-CPUUtilizationNormalized", "ic-utilization-MemoryUtilizationNormalized",
             "ic-utilization-GPUUtilizationNormalized", "ic-utilization-GPUMemoryUtilizationNormalized"}


def make_ic_run(out: Path) -> Path:
    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.scenario import load_experiment

    run_to_directory(load_experiment(EXAMPLE, IC_OVERRIDES), out)
    return out
