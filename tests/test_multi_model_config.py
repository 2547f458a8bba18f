"""Multi-model endpoints, configuration side (issue 15, step 1): a variant's `mode = "MultiModel"`,
`multi_model_config` and `model_population`, the `[multi_model]` settings, `target_model` on
traffic, population generation, the cache tiers and the fleet's `MultiModelRuntime`.

Bad input follows `tests/test_bad_input.py` (with the helpers of `tests/input_problems.py`): one
problem per case, one line naming the file, the key path the user wrote and the line it is on.
Expected values are computed here from the inputs (test profile `toy`, the catalog's ml.c5.xlarge: 4
vCPUs, 8 GiB), never copied from simfleet's output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.config.multi_model import ModelPopulationSpec, MultiModelSettings
from simfleet.fleet import build_fleet
from simfleet.multi_model.population import build_population, draw_models
from simfleet.scenario import load_experiment
from input_problems import Case as ProblemCase, assert_reported_on_its_key, edit, invoke, load_problems, write

P = "endpoints[0].production_variants[0]"
MP = f"{P}.model_population"
GIB = 2**30

POPULATION = ('model_population = { models = [{ name = "a.tar.gz", artifact_size = "10 MB" }, '
              '{ name = "b.tar.gz", artifact_size = "20 MB" }] }')

MME = f"""\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2
mode = "MultiModel"
{POPULATION}

[[traffic]]
kind = "poisson"
rate = 50
"""

GENERATED = ('model_population = { count = 300, artifact_size = { kind = "lognormal", median = "50 MB", '
             'sigma = 0.5 }, popularity = { kind = "zipf", exponent = 1.1 } }')


def population(text: str) -> tuple[str, str]:
    """An edit: the variant's model_population line becomes `text`."""
    return POPULATION, text


def settings_section(text: str) -> tuple[str, str]:
    return "[[endpoints]]", f"[multi_model]\n{text}\n\n[[endpoints]]"


def variant_of(path: Path, overrides=()):
    [variant] = build_fleet(load_experiment(path, list(overrides))).variants
    return variant


def spec_of(raw: dict) -> ModelPopulationSpec:
    return ModelPopulationSpec.model_validate(raw)


# ---------------------------------------------------------------------------------------------
# good input


def test_a_declared_population_resolves_in_order(workdir):
    variant = variant_of(write(workdir, MME))
    runtime = variant.multi_model
    assert runtime.names == ("a.tar.gz", "b.tar.gz")
    assert runtime.artifact_bytes.tolist() == [10e6, 20e6]
    # the memory rule's defaults: 1 byte of memory per artifact byte, no overhead; CPU: host memory
    assert runtime.memory_bytes.tolist() == [10e6, 20e6] and runtime.gpu_memory_bytes.tolist() == [0, 0]
    assert runtime.latency_scale.tolist() == [1.0, 1.0]
    # uniform by default
    assert runtime.popularity_cdf.tolist() == [0.5, 1.0]
    # toy: load_time 1 s for a 1 MB artifact, scaled by size (load_time_rule = "profile_scaled")
    assert runtime.load_time_s.tolist() == pytest.approx([10.0, 20.0])
    # ml.c5.xlarge: 8 GiB minus the 1 GiB reserve; the default 100 GiB volume; toy's c5 entry has 2 workers
    assert runtime.tiers.memory_bytes == 7 * GIB and runtime.tiers.disk_bytes == 100 * GIB
    assert runtime.tiers.gpu_memory_bytes == 0 and not runtime.gpu
    assert runtime.copies_per_load == 2 and runtime.spread_outstanding_requests == 2
    assert runtime.cache_enabled and runtime.load_concurrency == 0
    assert runtime.invocation_timeout_s == 60.0 and runtime.load_timeout_s == 360.0
    assert runtime.entry_codes.tolist() == [-1, -1] and runtime.entries == ()
    # TargetModel codes, as hostnames get theirs: a name not in the population gets len(names)
    assert variant.model_code("b.tar.gz") == 1 and variant.model_code("c.tar.gz") == 2
    assert variant.entry.workers == 2 and variant.model_name == "toy"


def test_a_single_model_variant_has_no_multi_model_runtime(workdir):
    text = edit(MME, [('mode = "MultiModel"\n', ""), (POPULATION + "\n", "")])
    variant = variant_of(write(workdir, text))
    assert variant.multi_model is None
    with pytest.raises(ValueError, match="not a multi-model variant"):
        variant.model_code("a.tar.gz")


def test_settings_and_cache_setting_reach_the_runtime(workdir):
    text = edit(MME, [('mode = "MultiModel"', 'mode = "MultiModel"\nmulti_model_config = { model_cache_setting = '
                                              '"Disabled" }'),
                      settings_section('disabled_concurrency_per_vcpu = 1.5\nload_time_rule = "bandwidth"\n'
                                       'load_bandwidth = "100 MB/s"\nload_fixed_time = "2s"\n'
                                       'storage_volume_size_by_type = { c5 = "20 GiB", "ml.c5.xlarge" = "30 GiB" }\n'
                                       'memory_reserve = "2 GiB"\nworker_arrangement = "per_model"\n'
                                       'workers_per_model = 3\nspread_outstanding_requests = 7\n'
                                       'download_sharing = "independent"')])
    runtime = variant_of(write(workdir, text)).multi_model
    assert not runtime.cache_enabled and runtime.load_concurrency == math.ceil(1.5 * 4)
    assert runtime.load_time_s.tolist() == pytest.approx([2.0 + 10e6 / 100e6, 2.0 + 20e6 / 100e6])
    assert runtime.tiers.disk_bytes == 30 * GIB  # the exact type wins over the family
    assert runtime.tiers.memory_bytes == 6 * GIB
    assert runtime.copies_per_load == 3 and runtime.worker_arrangement == "per_model"
    assert runtime.spread_outstanding_requests == 7 and runtime.download_sharing == "independent"


def test_a_gpu_variant_caches_in_gpu_memory(workdir):
    text = edit(MME, [('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.g5.xlarge"')])
    runtime = variant_of(write(workdir, text)).multi_model
    assert runtime.gpu
    # the catalog's ml.g5.xlarge: one A10G with 24 GiB; minus the 1 GiB reserve
    assert runtime.tiers.gpu_memory_bytes == 23 * GIB
    assert runtime.gpu_memory_bytes.tolist() == [10e6, 20e6] and runtime.memory_bytes.tolist() == [0, 0]
    assert runtime.copies_per_load == 1  # toy's g5 entry: 1 worker


def test_a_declared_model_may_use_its_own_profile(workdir):
    text = edit(MME, [population('model_population = { models = [{ name = "a", artifact_size = "2 MB", '
                                 'profile = "toy", latency_scale = 2.5, memory = "1 GiB" }, '
                                 '{ name = "b", artifact_size = "1 MB" }], '
                                 'popularity = { kind = "weights", weights = [3, 1] } }')])
    runtime = variant_of(write(workdir, text)).multi_model
    assert runtime.entry_codes.tolist() == [0, -1] and len(runtime.entries) == 1
    assert runtime.entries[0].workers == 2
    assert runtime.latency_scale.tolist() == [2.5, 1.0] and runtime.memory_bytes.tolist() == [GIB, 1e6]
    assert runtime.popularity_cdf.tolist() == [0.75, 1.0]


def test_validate_accepts_and_run_simulates_a_multi_model_experiment(workdir):
    path = write(workdir, edit(MME, [population(GENERATED)]))
    result = invoke("validate", path)
    assert result.exit_code == 0 and result.stdout.strip() == f"ok: {path} (experiment)"
    assert invoke("run", path, "--out", workdir / "run").exit_code == 0
    assert (workdir / "run" / "summary.json").exists()


def test_target_model_is_accepted_on_a_multi_model_endpoint_even_if_unknown(workdir):
    """A TargetModel the population lacks is a 4XX at run time, like an unknown container hostname."""
    text = edit(MME, [("rate = 50\n", 'rate = 50\ntarget_model = "not-in-the-population.tar.gz"\n')])
    scenario = load_experiment(write(workdir, text))
    assert scenario.experiment.traffic[0].target_model == "not-in-the-population.tar.gz"


# ---------------------------------------------------------------------------------------------
# generated populations: properties


def generated(count=200, seed=7, gpu=False, **extra):
    raw = {"count": count, "artifact_size": {"kind": "lognormal", "median": "40 MB", "sigma": 0.8}, **extra}
    return build_population(spec_of(raw), gpu, seed, "ep", "A")


def test_generation_is_deterministic_by_seed():
    a, b, c = generated(seed=11), generated(seed=11), generated(seed=12)
    assert a.names == b.names and np.array_equal(a.artifact_bytes, b.artifact_bytes)
    assert np.array_equal(a.memory_bytes, b.memory_bytes) and np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.artifact_bytes, c.artifact_bytes)
    # each quantity has its own stream: drawing latency scales does not move the sizes
    d = generated(seed=11, latency_scale={"kind": "lognormal", "median": 1.0, "sigma": 0.3})
    assert np.array_equal(a.artifact_bytes, d.artifact_bytes) and not np.all(d.latency_scale == 1.0)
    # another variant draws another population
    other = build_population(spec_of({"count": 200, "artifact_size": {"kind": "lognormal", "median": "40 MB",
                                                                       "sigma": 0.8}}), False, 11, "ep", "B")
    assert not np.array_equal(a.artifact_bytes, other.artifact_bytes)


def test_same_seed_same_population_through_the_fleet(workdir):
    path = write(workdir, edit(MME, [population(GENERATED)]))
    first, again = variant_of(path).multi_model, variant_of(path).multi_model
    assert np.array_equal(first.artifact_bytes, again.artifact_bytes)
    reseeded = variant_of(path, ["experiment.seed=2"]).multi_model
    assert not np.array_equal(first.artifact_bytes, reseeded.artifact_bytes)


def test_generated_names():
    assert generated(count=3).names == ("model-00001.tar.gz", "model-00002.tar.gz", "model-00003.tar.gz")
    names = generated(count=123456).names
    assert names[0] == "model-000001.tar.gz" and names[-1] == "model-123456.tar.gz"
    custom = build_population(spec_of({"count": 2, "artifact_size": {"kind": "constant", "value": "1 MB"},
                                       "name_prefix": "tenants/t", "name_suffix": ""}), False, 0, "ep", "A")
    assert custom.names == ("tenants/t00001", "tenants/t00002")


@settings(max_examples=40)
@given(values=st.lists(st.floats(1.0, 1e10), min_size=2, max_size=6), seed=st.integers(0, 2**32))
def test_sizes_stay_within_the_distributions_support(values, seed):
    values = sorted(values)
    probabilities = np.linspace(0.0, 1.0, len(values)).tolist()
    raw = {"count": 500, "artifact_size": {"kind": "empirical", "quantiles": [[p, f"{v!r} B"] for p, v in zip(probabilities, values)]}}
    pop = build_population(spec_of(raw), False, seed, "ep", "A")
    # whole bytes, rounded up from the draws: within [ceil(min), ceil(max)]
    assert np.all(pop.artifact_bytes >= math.ceil(values[0])) and np.all(pop.artifact_bytes <= math.ceil(values[-1]))
    assert np.all(pop.artifact_bytes == np.floor(pop.artifact_bytes))


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32), factor=st.floats(0.0, 4.0), overhead=st.integers(0, 10**9), gpu=st.booleans())
def test_memory_follows_the_stated_rule(seed, factor, overhead, gpu):
    pop = generated(count=50, seed=seed, gpu=gpu, memory_per_artifact_byte=factor,
                    memory_overhead=f"{overhead} B")
    expected = [factor * a + overhead for a in pop.artifact_bytes.tolist()]
    tier, other = (pop.gpu_memory_bytes, pop.memory_bytes) if gpu else (pop.memory_bytes, pop.gpu_memory_bytes)
    assert tier.tolist() == pytest.approx(expected) and not other.any()
    assert np.all(pop.artifact_bytes >= 1)


@settings(max_examples=60)
@given(count=st.integers(1, 400), exponent=st.floats(0.01, 5.0))
def test_zipf_weights_are_one_over_rank_to_the_s(count, exponent):
    pop = generated(count=count, popularity={"kind": "zipf", "exponent": exponent})
    total = sum(1.0 / k**exponent for k in range(1, count + 1))
    probabilities = np.diff(np.concatenate(([0.0], pop.popularity_cdf)))
    for k in range(1, count + 1):
        assert probabilities[k - 1] == pytest.approx((1.0 / k**exponent) / total, rel=1e-9, abs=1e-15)


@settings(max_examples=80)
@given(weights=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=60).filter(lambda w: any(x > 0 for x in w)))
def test_popularity_cdf_is_monotone_and_ends_at_one(weights):
    raw = {"models": [{"name": f"m{k}", "artifact_size": "1 MB"} for k in range(len(weights))],
           "popularity": {"kind": "weights", "weights": weights}}
    cdf = build_population(spec_of(raw), False, 0, "ep", "A").popularity_cdf
    assert np.all(np.diff(cdf) >= 0) and cdf[-1] == 1.0 and cdf[0] >= 0
    total = sum(weights)
    naive = [sum(weights[:k + 1]) / total for k in range(len(weights))]
    assert cdf.tolist() == pytest.approx(naive, rel=1e-9, abs=1e-12)


@settings(max_examples=40)
@given(weights=st.lists(st.integers(0, 5), min_size=1, max_size=12).filter(any),
       uniforms=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=50))
def test_drawn_models_follow_the_cdf(weights, uniforms):
    """Request draws: model k for u in [cdf[k-1], cdf[k]); a model of weight 0 is never drawn."""
    raw = {"models": [{"name": f"m{k}", "artifact_size": "1 MB"} for k in range(len(weights))],
           "popularity": {"kind": "weights", "weights": weights}}
    cdf = build_population(spec_of(raw), False, 0, "ep", "A").popularity_cdf
    codes = draw_models(cdf, np.array(uniforms))
    total = sum(weights)
    for u, code in zip(uniforms, codes.tolist()):
        below = sum(weights[:code]) / total
        assert below <= u < sum(weights[:code + 1]) / total or (code == len(weights) - 1 and u >= below)
        assert weights[code] > 0


# ---------------------------------------------------------------------------------------------
# bad input: one problem each, on the key the user wrote


class Case(ProblemCase):
    base = MME


def models(*entries: str, extra: str = "") -> tuple[str, str]:
    return population(f"model_population = {{ models = [{', '.join(entries)}]{extra} }}")


A = '{ name = "a", artifact_size = "10 MB" }'
B = '{ name = "b", artifact_size = "10 MB" }'
POP = "model_population"
CONTAINER = '[[endpoints.production_variants.containers]]\nmodel_name = "toy"\n{mode}\n'
SERVERLESS = "serverless_config = { memory_size_in_mb = 2048, max_concurrency = 5 }"

CASES = [
    Case("population-missing", [(POPULATION + "\n", "")],
         {f"{MP}": "[[endpoints.production_variants]]"}, ("required key is missing", "models = [...] or count")),
    Case("population-without-mode", [('mode = "MultiModel"\n', "")],
         {MP: POP}, ("applies to a multi-model variant", 'mode = "MultiModel"')),
    Case("config-without-mode", [('mode = "MultiModel"\n', 'multi_model_config = { model_cache_setting = '
                                                           '"Enabled" }\n'), (POPULATION + "\n", "")],
         {f"{P}.multi_model_config": "multi_model_config"}, ("applies to a multi-model variant",)),
    Case("cache-setting-unknown", [('mode = "MultiModel"', 'mode = "MultiModel"\nmulti_model_config = '
                                                           '{ model_cache_setting = "Off" }')],
         {f"{P}.multi_model_config.model_cache_setting": "multi_model_config"}, ("'Enabled' or 'Disabled'",)),
    Case("mode-unknown", [('mode = "MultiModel"', 'mode = "Multi"')],
         {f"{P}.mode": "mode ="}, ("'SingleModel' or 'MultiModel'",)),
    Case("serverless-multi-model", [('instance_type = "ml.c5.xlarge"\ninitial_instance_count = 2', SERVERLESS)],
         {f"{P}.mode": "mode ="}, ("serverless endpoints do not support multi-model endpoints",)),
    Case("multi-model-container-in-pipeline",
         [('model_name = "toy"\n', ""), ('mode = "MultiModel"\n', ""), (POPULATION + "\n", ""),
          ("[[traffic]]", CONTAINER.format(mode='mode = "MultiModel"') + CONTAINER.format(mode="") + "[[traffic]]")],
         {f"{P}.containers": ("[[endpoints.production_variants.containers]]", 1)},
         ("not supported by simfleet", "AWS allows one per pipeline")),
    Case("two-multi-model-containers",
         [('model_name = "toy"\n', ""), ('mode = "MultiModel"\n', ""), (POPULATION + "\n", ""),
          ("[[traffic]]", CONTAINER.format(mode='mode = "MultiModel"') * 2 + "[[traffic]]")],
         {f"{P}.containers": ("[[endpoints.production_variants.containers]]", 1)},
         ("only one multi-model-enabled container",)),
    Case("empty-population", [models()], {f"{MP}.models": POP}, ("at least one model",)),
    Case("neither-models-nor-count", [population('model_population = { popularity = "uniform" }')],
         {MP: POP}, ("give models", "or count with artifact_size")),
    Case("count-zero", [population('model_population = { count = 0, artifact_size = { kind = "constant", '
                                   'value = "1 MB" } }')],
         {f"{MP}.count": POP}, ("count must be between 1 and 1000000", "got 0")),
    Case("count-and-models", [models(A, extra=", count = 3")], {MP: POP}, ("not both",)),
    Case("generated-keys-on-declared", [models(A, extra=", latency_scale = 2.0")], {MP: POP},
         ("latency_scale applies to a generated population",)),
    Case("count-without-sizes", [population("model_population = { count = 3 }")], {MP: POP},
         ("needs artifact_size",)),
    Case("duplicate-names", [models(A, A)], {f"{MP}.models": POP}, ("unique", "repeated: a")),
    Case("zero-artifact", [models('{ name = "a", artifact_size = "0 MB" }')],
         {f"{MP}.models[0].artifact_size": POP}, ("artifact_size must be greater than zero",)),
    Case("negative-artifact", [models('{ name = "a", artifact_size = -5 }')],
         {f"{MP}.models[0].artifact_size": POP}, ("size",)),
    Case("negative-memory", [models('{ name = "a", artifact_size = "1 MB", memory = "-1 MB" }')],
         {f"{MP}.models[0].memory": POP}, ("non-negative size",)),
    Case("zero-latency-scale", [models('{ name = "a", artifact_size = "1 MB", latency_scale = 0 }')],
         {f"{MP}.models[0].latency_scale": POP}, ("latency_scale must be greater than zero",)),
    Case("bad-target-model-name", [models('{ name = " a", artifact_size = "1 MB" }')],
         {f"{MP}.models[0].name": POP}, ("does not start with a space",)),
    Case("generated-zero-size", [population('model_population = { count = 3, artifact_size = { kind = "constant", '
                                            'value = "0 B" } }')],
         {f"{MP}.artifact_size": POP}, ("sizes must be greater than zero",)),
    Case("generated-zero-scale", [population('model_population = { count = 3, artifact_size = { kind = "constant", '
                                             'value = "1 MB" }, latency_scale = { kind = "constant", value = 0.0 } }')],
         {f"{MP}.latency_scale": POP}, ("latency_scale must be greater than zero",)),
    Case("zipf-zero", [models(A, extra=', popularity = { kind = "zipf", exponent = 0 }')],
         {f"{MP}.popularity.exponent": POP}, ("finite number greater than zero", "kind = \"uniform\"")),
    Case("zipf-negative", [models(A, extra=', popularity = { kind = "zipf", exponent = -1.5 }')],
         {f"{MP}.popularity.exponent": POP}, ("greater than zero", "-1.5")),
    Case("zipf-infinite", [models(A, extra=', popularity = { kind = "zipf", exponent = inf }')],
         {f"{MP}.popularity.exponent": POP}, ("finite",)),
    Case("zipf-nan", [models(A, extra=', popularity = { kind = "zipf", exponent = nan }')],
         {f"{MP}.popularity.exponent": POP}, ("finite",)),
    Case("zipf-without-exponent", [models(A, extra=', popularity = "zipf"')],
         {f"{MP}.popularity": POP}, ("needs its exponent",)),
    Case("weights-negative", [models(A, B, extra=', popularity = { kind = "weights", weights = [1, -2] }')],
         {f"{MP}.popularity.weights": POP}, ("non-negative", "weights[1] is -2")),
    Case("weights-all-zero", [models(A, B, extra=', popularity = { kind = "weights", weights = [0, 0] }')],
         {f"{MP}.popularity.weights": POP}, ("at least one weight must be greater than zero",)),
    Case("weights-wrong-length", [models(A, B, extra=', popularity = { kind = "weights", weights = [1] }')],
         {MP: POP}, ("one weight per model: 2 models, 1 weights",)),
    Case("model-larger-than-disk", [models(A, '{ name = "huge", artifact_size = "200 GiB", memory = "1 MB" }')],
         {f"{MP}.models[1].artifact_size": POP}, ("'huge' never fits", "artifact needs 200 GiB",
                                                  "storage volume of ml.c5.xlarge holds 100 GiB")),
    Case("model-larger-than-memory", [models('{ name = "big", artifact_size = "1 MB", memory = "4 GiB" }')],
         {f"{MP}.models[0].memory": POP}, ("'big' never fits", "8 GiB (2 copies, one per worker)", "holds 7 GiB")),
    Case("generated-larger-than-disk",
         [population('model_population = { count = 10, artifact_size = { kind = "constant", value = "101 GiB" }, '
                     'memory = { kind = "constant", value = "1 MB" } }')],
         {f"{MP}.artifact_size": POP}, ("'model-00001.tar.gz' never fits", "9 more models never fit either")),
    Case("larger-than-disk-and-memory", [models('{ name = "huge", artifact_size = "200 GiB" }')],
         {f"{MP}.models[0].artifact_size": POP}, ("'huge' never fits", "its artifact needs 200 GiB",
                                                  "its memory needs 400 GiB (2 copies, one per worker)")),
    Case("gpu-memory-on-cpu", [models('{ name = "a", artifact_size = "1 MB", gpu_memory = "1 GiB" }')],
         {f"{MP}.models[0].gpu_memory": POP}, ("runs on CPU", "give memory instead")),
    Case("gpu-multi-model-on-multi-gpu-type", [('"ml.c5.xlarge"', '"ml.g5.12xlarge"')],
         {f"{P}.instance_type": "instance_type"}, ("single-GPU instance types only", "has 4 GPUs")),
    Case("unknown-profile", [models('{ name = "a", artifact_size = "1 MB", profile = "nope" }')],
         {f"{MP}.models[0].profile": POP}, ("unknown model 'nope'",)),
    Case("no-memory-left", [settings_section('memory_reserve = "8 GiB"')],
         {f"{P}.instance_type": "instance_type"}, ("no room for models",)),
    Case("volume-zero", [settings_section('storage_volume_size = "0 GB"')],
         {"multi_model.storage_volume_size": "storage_volume_size"}, ("greater than zero",)),
    Case("volume-key-not-a-type", [settings_section('storage_volume_size_by_type = { "g5.xlarge" = "1 TB" }')],
         {"multi_model.storage_volume_size_by_type": "storage_volume_size_by_type"},
         ("instance types such as 'ml.g5.xlarge'",)),
    Case("bandwidth-rule-without-bandwidth", [settings_section('load_time_rule = "bandwidth"')],
         {"multi_model": "[multi_model]"}, ("needs load_bandwidth",)),
    Case("load-timeout-below-invocation-timeout", [settings_section('load_timeout = "30s"')],
         {"multi_model": "[multi_model]"}, ("cannot be shorter than invocation_timeout",)),
    Case("disabled-factor-zero", [settings_section("disabled_concurrency_per_vcpu = 0")],
         {"multi_model.disabled_concurrency_per_vcpu": "disabled_concurrency_per_vcpu"}, ("greater than 0",)),
    Case("unknown-setting", [settings_section("cache_size = 3")],
         {"multi_model.cache_size": "cache_size"}, ("unknown key",)),
    Case("target-model-on-single-model-endpoint",
         [('mode = "MultiModel"\n', ""), (POPULATION + "\n", ""), ("rate = 50\n", 'rate = 50\ntarget_model = "a"\n')],
         {"traffic[0].target_model": "target_model"}, ("endpoint 'ep' has no multi-model variant",)),
    Case("target-model-on-single-model-variant",
         [("[[traffic]]", '[[endpoints.production_variants]]\nvariant_name = "B"\nmodel_name = "toy"\n'
                          'instance_type = "ml.c5.xlarge"\ninitial_instance_count = 1\n\n[[traffic]]'),
          ("rate = 50\n", 'rate = 50\ntarget_variant = "B"\ntarget_model = "a"\n')],
         {"traffic[0].target_model": "target_model"}, ("variant 'B' of endpoint 'ep' is not one",)),
    Case("target-model-not-a-target-model", [("rate = 50\n", 'rate = 50\ntarget_model = ""\n')],
         {"traffic[0].target_model": "target_model"}, ("1 to 1024 characters",)),
]


def test_the_base_is_valid(workdir):
    assert variant_of(write(workdir, MME)).multi_model is not None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reported_on_its_key(case: Case, workdir):
    assert_reported_on_its_key(case, workdir)


def test_replay_target_model_column(workdir):
    (workdir / "trace.csv").write_text("timestamp,model\n0.5,a\n1.0,b\n", encoding="utf-8")
    replay = '[[traffic]]\nkind = "replay"\nfile = "trace.csv"\n'
    base = edit(MME, [('[[traffic]]\nkind = "poisson"\nrate = 50\n', replay + 'target_model_column = "model"\n')])
    assert load_experiment(write(workdir, base)).experiment.traffic[0].target_model_column == "model"
    missing = edit(base, [('target_model_column = "model"', 'target_model_column = "tm"')])
    [problem] = load_problems(write(workdir, missing))
    assert problem.key == "traffic[0].target_model_column" and "has no column 'tm'" in problem.message
    both = edit(base, [('target_model_column = "model"', 'target_model_column = "model"\ntarget_model = "a"')])
    [problem] = load_problems(write(workdir, both))
    assert problem.key == "traffic[0]" and "not both" in problem.message


def test_every_problem_is_reported_at_once(workdir):
    text = edit(MME, [models('{ name = "a", artifact_size = "0 MB" }', extra=', popularity = { kind = "zipf", '
                                                                              'exponent = -1 }'),
                      settings_section('storage_volume_size = "0 GB"')])
    keys = {p.key for p in load_problems(write(workdir, text))}
    assert keys == {f"{MP}.models[0].artifact_size", f"{MP}.popularity.exponent", "multi_model.storage_volume_size"}


def test_settings_defaults_are_documented():
    """Every [multi_model] setting says where its default comes from: AWS, or simfleet's choice / an assumption."""
    for name, info in MultiModelSettings.model_fields.items():
        text = info.description or ""
        assert text, name
    defaults = MultiModelSettings()
    assert defaults.invocation_timeout == 60.0 and defaults.load_timeout == 360.0
    assert defaults.worker_arrangement == "shared" and defaults.download_sharing == "queued"
    for name in ("download_bandwidth", "download_latency", "unload_time", "storage_volume_size", "memory_reserve",
                 "gpu_memory_reserve", "disabled_concurrency_per_vcpu"):
        assert "ASSUMPTION" in MultiModelSettings.model_fields[name].description, name
