"""The output folder of `simfleet recommend`: the AWS-shaped results and each load test's run.

    <out>/recommendations.json   DescribeInferenceRecommendationsJob response (`responses`); its
                                 `simfleet.warnings` (`job_warnings`: no price, configurations that
                                 differ only in price)
    <out>/steps.json             ListInferenceRecommendationsJobSteps response, one BENCHMARK step per test
    <out>/manifest.json          provenance: simfleet and library versions, the job file, the
                                 resolved request and settings, each test's seed
    <out>/tests/<EndpointName>/  each simulated test's run directory, as `simfleet run` writes one
                                 (metrics.parquet with the load generator's ClientInvocations,
                                 ClientLatency, NumberOfUsers, events.parquet, summary.json …)

The folder is assembled under a temporary name and swapped in whole (`outputs.directory`): it
holds this job's files only (an earlier job or run written there is replaced as a whole; a
directory simfleet did not write is refused unless `force`), and a job that fails to write or is
interrupted leaves the destination as it was.
"""

from __future__ import annotations

from pathlib import Path

from simfleet.outputs.atomic import write_json, write_text
from simfleet.outputs.directory import OutputDirectory
from simfleet.outputs.manifest import software_versions
from simfleet.outputs.run_directory import write_run
from simfleet.outputs.run_warnings import RunWarning, as_json, price_only_warnings
from simfleet.recommender.job_runner import JobOutcome, no_price_warning
from simfleet.recommender.load_test import load_test_experiment
from simfleet.recommender.ranking import Preferences
from simfleet.recommender.responses import SIMFLEET_KEY, describe_job_response, list_job_steps_response, to_json
from simfleet.scenario import scenario_from_dict

__all__ = ["write_job", "job_folder", "describe", "job_warnings", "TESTS_FOLDER"]

TESTS_FOLDER = "tests"


def describe(outcome: JobOutcome, preferences: Preferences = Preferences()) -> dict:
    """The DescribeInferenceRecommendationsJob response of a job run."""
    job = outcome.job
    return describe_job_response(job.request, outcome.results, creation_time=outcome.creation_time,
                                 completion_time=outcome.completion_time, preferences=preferences,
                                 region=job.settings.region)


def _manifest(outcome: JobOutcome) -> dict:
    job = outcome.job
    return {
        **software_versions(),
        "source": job.source,
        "model_profile": str(job.model_path) if job.model_path else job.model,
        "request": job.request.model_dump(mode="json", exclude_none=True),
        "simfleet": job.settings.model_dump(mode="json"),
        "tests": [{"index": test.index, "endpoint_name": result.endpoint_name, "instance_type": test.instance_type,
                   "serverless_config": test.serverless.serverless_config() if test.serverless else None,
                   "seed": test.seed, "simulated": run is not None,
                   "run_directory": f"{TESTS_FOLDER}/{result.endpoint_name}" if run is not None else None}
                  for test, run, result in zip(outcome.planned, outcome.outcomes, outcome.results)],
    }


def job_warnings(outcome: JobOutcome, configurations: list) -> list[RunWarning]:
    """The job's warnings (`outputs.run_warnings`): configurations without a price (listed as "no
    price", still ranked) and configurations that differ only in price."""
    out = [no_price_warning(result.instance_type, result.label) for test, result in zip(outcome.planned, outcome.results)
           if test.instance_type is not None and result.price_per_hour is None]
    return out + price_only_warnings(configurations, "configurations")


def job_folder(out_dir: str | Path, force: bool = False) -> OutputDirectory:
    """The job's output folder (check it with `.check()` before the job runs)."""
    return OutputDirectory(out_dir, what="job folder", force=force)


def write_job(outcome: JobOutcome, out_dir: str | Path | OutputDirectory, preferences: Preferences = Preferences(),
              force: bool = False) -> dict:
    """Write the job's folder, replacing an earlier one as a whole (`force`: any directory); returns
    the DescribeInferenceRecommendationsJob response written."""
    output = out_dir if isinstance(out_dir, OutputDirectory) else job_folder(out_dir, force)
    with output as out:
        configurations = []
        for test, result in zip(outcome.outcomes, outcome.results):
            if test is not None:
                scenario = scenario_from_dict(load_test_experiment(test.spec), outcome.job.source)
                write_run(out / TESTS_FOLDER / test.spec.endpoint_name, scenario, test.run)
                configurations.append((result.label, scenario))
        write_json(out / "manifest.json", _manifest(outcome))
        write_text(out / "steps.json", to_json(list_job_steps_response(outcome.results)) + "\n")
        response = describe(outcome, preferences)
        if SIMFLEET_KEY in response:
            response[SIMFLEET_KEY]["warnings"] = as_json(job_warnings(outcome, configurations))
        write_text(out / "recommendations.json", to_json(response) + "\n")
    return response
