"""The shipped model profiles, instance catalog and example experiments are valid and sourced."""

from pathlib import Path

import pytest

import simfleet
from simfleet.catalog import load_catalog
from simfleet.engine.simulation import simulate
from simfleet.profiles import ProfileSources, builtin_profile_dir, fit_problems, load_profile
import numpy as np

from simfleet.request_records import CACHE_HIT, CACHE_NONE, NO_CAPACITY, RequestRecords
from simfleet.scenario import load_experiment

ROOT = Path(__file__).resolve().parent.parent
PROFILES = sorted((ROOT / "models").glob("*.toml"))
EXPERIMENTS = sorted(p for p in (ROOT / "experiments").glob("*.toml")
                     if not p.name.startswith(("sweep-", "recommend-", "inference-components")))
#: Inference components (checked against the example's own story below).
COMPONENTS = sorted((ROOT / "experiments").glob("inference-components*.toml"))
SWEEPS = sorted((ROOT / "experiments").glob("sweep-*.toml"))
#: Inference Recommender jobs (`simfleet recommend`); the JSON one is an AWS request, run with --model.
JOBS = sorted((ROOT / "experiments").glob("recommend-*.*"))


def test_the_required_profiles_ship():
    assert {p.stem for p in PROFILES} >= {"xgboost-tabular", "resnet50", "bert-base", "llm-7b",
                                          "sklearn-featurizer", "sklearn-postprocessor"}
    assert builtin_profile_dir().resolve() == (ROOT / "models").resolve() or (builtin_profile_dir() / "resnet50.toml").is_file()


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_profiles_load_and_every_number_is_sourced(path):
    profile = load_profile(path)
    for key in ProfileSources.model_fields:
        assert len(getattr(profile.spec.sources, key)) > 10, key
    for entry in profile.spec.service:
        assert len(entry.source.strip()) > 10


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_every_profile_entry_fits_its_instances(path):
    """Each service entry names real catalog types or families, and fits them in memory."""
    catalog = load_catalog()
    profile = load_profile(path)
    for entry in profile.spec.service:
        matches = [t for t in catalog.values() if entry.instance in (t.name, t.family)]
        assert matches, f"{entry.instance} matches no catalog type"
        for instance in matches:
            resolved = profile.entry_for(instance)
            if resolved is not None and profile.entry_for(instance).source == entry.source:
                assert fit_problems(resolved, instance, profile.name) == [], instance.name


def test_catalog_has_the_required_families_with_sourced_prices():
    catalog = load_catalog()
    families = {t.family for t in catalog.values()}
    assert families >= {"c5", "c6i", "m5", "r5", "g4dn", "g5", "g6", "p3", "p4d", "inf2"}
    for item in catalog.values():
        assert (item.price_per_hour is None) == (item.price_source is None), item.name
        if item.accelerators:
            assert item.accelerator_model and item.accelerator_memory_bytes >= 0


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_examples_validate(path):
    load_experiment(path, ["experiment.duration=10min"])


def test_the_inference_component_example_scales_to_zero_and_back():
    """The shipped example against its own story: the thumbnails start with no copy and fail with
    NoCapacity until the first copy serves, scale in to zero copies in their quiet spell (minutes
    15-40), and come back after it; the other models never lack a copy; the cost table adds up."""
    import json

    [path] = COMPONENTS
    parts: list[RequestRecords] = []
    result = simulate(load_experiment(path), requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    names = {v.index: v.component.name for v in result.fleet.variants if v.component is not None}
    events = result.events.to_pandas()
    copies = events[events.event.isin(["CopyInService", "CopyRemoved"])]
    thumbnails = [(t, kind) for t, kind, d in zip(copies.time_s, copies.event, copies.detail)
                  if json.loads(d)["inference_component"] == "resnet-thumbnails"]
    first_serving = min(t for t, kind in thumbnails if kind == "CopyInService")
    removed = [t for t, kind in thumbnails if kind == "CopyRemoved"]
    assert removed and 15 * 60 < min(removed) < 40 * 60          # scaled in to zero in the quiet spell
    assert any(t > 40 * 60 for t, kind in thumbnails if kind == "CopyInService")  # and back after it
    failed = records.status == NO_CAPACITY
    failed_names = {names[int(v)] for v in np.unique(records.variant[failed])}
    assert failed_names == {"resnet-thumbnails"}
    assert records.arrival_s[failed].min() < first_serving
    table = result.summary["inference_components"]
    host = next(v for v in result.summary["variants"] if v.get("hosting"))
    assert abs(sum(row["cost"] for row in table) - host["hosting"]["instances_cost"]) < 1e-9


def test_the_pipeline_examples_ship():
    assert {"pipeline", "multi-container"} <= {p.stem for p in EXPERIMENTS}


@pytest.mark.parametrize("name", ["multi-model", "multi-model-gpu"])
def test_the_multi_model_examples_cache_metrics_obey_their_definitions(name):
    """The shipped multi-model examples (20 simulated minutes), against their own requests: ModelCacheHit
    has one sample per request that reached a cache and its Sum is their hits (so its Average is the
    hit ratio); one ModelLoadingWaitTime sample per request that waited; one ModelLoadingTime sample
    per load that ended in the run; LoadedModelCount never above what the tier holds of the smallest
    model. (Datapoints hold the requests answered within the run, published by their answer.)"""
    parts = []
    result = simulate(load_experiment(ROOT / "experiments" / f"{name}.toml", ["experiment.duration=20min"]),
                      requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    answered = records.response_s < result.summary["duration_s"]
    reached = answered & (records.cache != CACHE_NONE)
    frame = result.metrics.to_pandas()

    def metric(metric_name):
        return frame[frame.metric_name == metric_name]

    hit = metric("ModelCacheHit")
    assert hit.sample_count.sum() == reached.sum() > 0
    assert hit["sum"].sum() == (reached & (records.cache == CACHE_HIT)).sum()
    assert metric("ModelLoadingWaitTime").sample_count.sum() == (reached & (records.setup_s > 0)).sum()
    assert 0 < metric("ModelLoadingTime").sample_count.sum() <= result.summary["variants"][0]["multi_model"]["loads"]
    runtime = result.fleet.variants[0].multi_model
    memory = (runtime.gpu_memory_bytes if runtime.gpu else runtime.memory_bytes) * runtime.copies_per_load
    tier = runtime.tiers.gpu_memory_bytes if runtime.gpu else runtime.tiers.memory_bytes
    assert metric("LoadedModelCount").maximum.max() <= tier // memory.min()


def test_the_serverless_comparison_shows_cost_and_latency_side_by_side():
    """The shipped comparison, run in full: both variants have a cost per hour and a p99; at this
    low, spiky load the serverless variant costs less per hour than the instance billed all the
    time, and its cold starts (each in ModelSetupTime) put its p99 above the instance's."""
    result = simulate(load_experiment(ROOT / "experiments" / "serverless-vs-realtime.toml"))
    serverless, realtime = result.summary["variants"]
    assert serverless["serverless"] is not None and realtime.get("serverless") is None
    assert 0 < serverless["cost_per_hour"] < realtime["cost_per_hour"]
    assert serverless["latency_s"]["p99"] > realtime["latency_s"]["p99"]
    frame = result.metrics.to_pandas()
    setup = frame[(frame.metric_name == "ModelSetupTime") & (frame.EndpointName == "classify-serverless")]
    assert setup.sample_count.sum() == serverless["serverless"]["cold_starts"] > 0


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_examples_validate_and_run(path):
    scenario = load_experiment(path, ["experiment.duration=10min"])
    result = simulate(scenario)
    assert result.summary["requests"] > 0
    assert len(result.metrics) > 0


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_example_sweeps_plan_and_every_point_validates(path):
    from simfleet.sweep.plan import load_sweep
    plan = load_sweep(path)
    assert len(plan.runs) > 1
    run = plan.runs[-1]
    result = simulate(plan.scenario(run))
    assert result.summary["requests"] > 0


def test_the_example_jobs_validate():
    """Advanced jobs over at least four configurations for the XGBoost profile, as the AWS request
    JSON and as TOML (issue 5), and one comparing serverless memory sizes with a CPU instance type
    (issue 16); the runner's tests run them."""
    from simfleet.recommender.job_file import load_job_file

    assert {p.suffix for p in JOBS} == {".json", ".toml"}
    assert "recommend-serverless" in {p.stem for p in JOBS}
    catalog = load_catalog()
    for path in JOBS:
        job = load_job_file(path, model="xgboost-tabular" if path.suffix == ".json" else None)
        assert job.model == "xgboost-tabular" and job.request.JobType == "Advanced"
        configurations = job.request.InputConfig.EndpointConfigurations
        assert len({c.InstanceType or c.ServerlessConfig.MemorySizeInMB for c in configurations}) >= 4
        if path.stem == "recommend-serverless":
            assert len({c.ServerlessConfig.MemorySizeInMB for c in configurations if c.ServerlessConfig}) >= 2
            assert any(c.InstanceType and not catalog[c.InstanceType].accelerators for c in configurations)


def test_public_api_is_pinned():
    assert sorted(simfleet.__all__) == ["InputError", "Problem", "RunMetrics", "RunResult", "Scenario",
                                        "load_experiment", "run_to_directory", "scenario_from_dict", "simulate"]
