"""Serverless endpoints, configuration side (issue 16): a variant's `serverless_config`, the
`[serverless]` settings, the serverless prices, the sizing rules (compute share, scaled service
times, cold-start distribution) and the fleet's `ServerlessRuntime`.

Bad input follows `tests/test_bad_input.py` (with the helpers of `tests/input_problems.py`): one
problem per case, one line naming the file, the key path the user wrote and the line it is on.
Nothing here runs a serverless endpoint: the engine side lands apart.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simfleet.catalog.serverless import load_serverless_prices, memory_gb
from simfleet.config.serverless import MEMORY_SIZES_MB, ServerlessConfig, ServerlessSettings
from simfleet.distributions import Constant, Exponential, Gamma, Lognormal, Scaled, Shifted
from simfleet.fleet import build_fleet
from simfleet.request_records import ROUTING_RANDOM
from simfleet.scenario import load_experiment
from simfleet.serverless_sizing import compute_factor, size_serverless, vcpus_for
from input_problems import Case as ProblemCase, assert_reported_on_its_key, edit, write
from small_experiments import MODELS

P = "endpoints[0].production_variants[0]"
SC = f"{P}.serverless_config"

SRV = """\
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
serverless_config = { memory_size_in_mb = 2048, max_concurrency = 20 }

[[traffic]]
kind = "poisson"
rate = 50
"""

CONFIG = "serverless_config = { memory_size_in_mb = 2048, max_concurrency = 20 }"


def config(text: str) -> tuple[str, str]:
    """An edit: the variant's serverless_config becomes `{ text }`."""
    return CONFIG, f"serverless_config = {{ {text} }}"


def toy_like(name: str, replacements=()) -> str:
    """The test profile `toy` renamed, with top-level lines replaced (test inputs, not measurements)."""
    text = (MODELS / "toy.toml").read_text(encoding="utf-8").replace('name = "toy"', f'name = "{name}"')
    for old, new in replacements:
        assert text.count(old) == 1, f"test bug: {old!r}"
        text = text.replace(old, new)
    return text


# Test profiles: a GPU model, one too big for 2048 MB, one with a 6 GB artifact, one without a c5 entry,
# one with a measured serverless entry, one that keeps 2.5 cores busy per request.
PROFILES = {
    "gpuish": toy_like("gpuish", [("gpus_per_busy_worker = 0", "gpus_per_busy_worker = 1.0")]),
    "big": toy_like("big", [('memory_per_worker = "100 MiB"', 'memory_per_worker = "3 GiB"')]),
    "huge-artifact": toy_like("huge-artifact", [('artifact_size = "1 MB"', 'artifact_size = "6 GiB"')]),
    "no-c5": toy_like("no-c5", [('instance = "c5"', 'instance = "c6i"')]),
    "gpu-only": toy_like("gpu-only", [('instance = "c5"', 'instance = "c6i"'), ('instance = "m5"', 'instance = "r5"'),
                                      ("gpus_per_busy_worker = 0", "gpus_per_busy_worker = 1.0")]),
    "measured": toy_like("measured", [('instance = "g5"', 'instance = "serverless"'),
                                      ('gpus_per_busy_worker = 1.0\ngpu_memory_per_worker = "2 GiB"', "")]),
    "measured-workers": toy_like("measured-workers",
                                 [('instance = "c5"\nworkers = 2', 'instance = "serverless"\nworkers = 2')]),
    "heavy": toy_like("heavy", [("cpu_cores_per_busy_worker = 1.0", "cpu_cores_per_busy_worker = 2.5"),
                                ('artifact_size = "1 MB"', 'artifact_size = "500 MB"'),
                                ('load_time = "1s"', 'load_time = "4s"')]),
}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    for name, text in PROFILES.items():
        (tmp_path / "models" / f"{name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def model(name: str) -> tuple[str, str]:
    return 'model_name = "toy"', f'model_name = "{name}"'


def variant_of(path: Path, overrides=()):
    [variant] = build_fleet(load_experiment(path, list(overrides))).variants
    return variant


# ---------------------------------------------------------------------------------------------
# good input


def test_a_serverless_variant_resolves_into_a_runtime(workdir):
    variant = variant_of(write(workdir, SRV))
    assert variant.instance_type is None and variant.initial_instance_count == 0
    assert variant.routing == ROUTING_RANDOM and variant.hostnames == ("container-1",) and not variant.direct
    assert variant.entry.workers == 1 and variant.model_name == "toy"
    runtime = variant.serverless
    assert (runtime.memory_size_mb, runtime.max_concurrency, runtime.provisioned_concurrency) == (2048, 20, 0)
    settings = ServerlessSettings()
    assert runtime.idle_timeout_s == settings.idle_timeout == 300.0
    assert runtime.account_max_concurrency == 1000
    assert runtime.max_payload_size_bytes == 4 * 2**20 and runtime.invocation_timeout_s == 60.0
    assert runtime.vcpus == pytest.approx(2048 / 1769)
    assert runtime.bill_cold_start is False
    # on-demand compute: $0.0000200 per GB-second, 2 GB; data $0.016 per GB; PC prices not established
    assert runtime.price_per_second == pytest.approx(0.00004)
    assert runtime.data_price_per_gb == 0.016
    assert runtime.provisioned_price_per_second is None and runtime.provisioned_inference_price_per_second is None


def test_provisioned_concurrency_and_settings_reach_the_runtime(workdir):
    text = edit(SRV, [config("memory_size_in_mb = 1024, max_concurrency = 5, provisioned_concurrency = 5"),
                      ("[[endpoints]]", '[serverless]\nidle_timeout = "90s"\naccount_max_concurrency = 10\n'
                                        "bill_cold_start = true\nprovisioned_price_per_gb_second = 0.000005\n"
                                        "price_per_gb_second = 0.00003\n\n[[endpoints]]")])
    runtime = variant_of(write(workdir, text)).serverless
    assert runtime.provisioned_concurrency == 5 and runtime.max_concurrency == 5
    assert runtime.idle_timeout_s == 90.0 and runtime.account_max_concurrency == 10 and runtime.bill_cold_start
    assert runtime.price_per_second == pytest.approx(0.00003)
    assert runtime.provisioned_price_per_second == pytest.approx(0.000005)


@pytest.mark.parametrize("memory", MEMORY_SIZES_MB)
def test_prices_are_linear_in_memory(memory, workdir):
    """price per second = price per GB-second × memory_size_in_mb / 1024, at every size."""
    key = "endpoints.0.production_variants.0.serverless_config.memory_size_in_mb"
    runtime = variant_of(write(workdir, SRV), [f"{key}={memory}"]).serverless
    prices = load_serverless_prices()
    assert runtime.price_per_second == pytest.approx(prices.price_per_gb_second * memory / 1024)
    assert memory_gb(memory) == memory / 1024
    # the AWS toolkit's table: 0.0000200 USD/s at 1024 MB, 0.0001200 at 6144 MB
    assert runtime.price_per_second == pytest.approx(0.00002 * (memory // 1024))


def test_the_serverless_entry_is_used_as_is(workdir):
    variant = variant_of(write(workdir, edit(SRV, [model("measured")])))
    assert variant.serverless.service_basis == "profile measured serverless entry"
    assert variant.serverless.compute_factor == 1.0
    assert variant.entry.service_time == Gamma(0.005, 0.5) and variant.entry.workers == 1


def test_the_family_entry_is_scaled_by_the_compute_share(workdir):
    """heavy keeps 2.5 cores busy per request: at 1024 MB (0.579 vCPU) its c5 times are 4.32 × longer."""
    small = config("memory_size_in_mb = 1024, max_concurrency = 1")
    variant = variant_of(write(workdir, edit(SRV, [model("heavy"), small])))
    factor = 2.5 / (1024 / 1769)
    assert variant.serverless.compute_factor == pytest.approx(factor)
    assert variant.entry.service_time.mean == pytest.approx(factor * 0.010)
    assert variant.serverless.service_basis.startswith(
        "profile heavy c5 entry × 4.32 (0.579 vCPU at 1024 MB vs 2.5 cores")
    # at 6144 MB (3.47 vCPU) the request has all the cores it uses: no scaling
    large = config("memory_size_in_mb = 6144, max_concurrency = 1")
    roomy = variant_of(write(workdir, edit(SRV, [model("heavy"), large])))
    assert roomy.serverless.compute_factor == 1.0 and roomy.entry.service_time == Exponential(0.010)


def test_service_time_family_is_a_setting(workdir):
    text = edit(SRV, [("[[endpoints]]", '[serverless]\nservice_time_family = "m5"\n\n[[endpoints]]')])
    variant = variant_of(write(workdir, text))
    assert variant.entry.service_time == Lognormal(0.008, 0.5)  # toy's m5 entry
    assert "toy m5 entry" in variant.serverless.service_basis


def test_setup_time_is_container_start_plus_download_plus_load(workdir):
    """heavy: 500 MB at 100 MB/s (5 s) + load 4 s, on top of the container start (lognormal, median 5 s)."""
    text = edit(SRV, [model("heavy")])
    setup = variant_of(write(workdir, text)).serverless.setup_time
    start = ServerlessSettings().container_start_time.build()
    assert setup.mean == pytest.approx(start.mean + 500e6 / 100e6 + 4.0)
    assert setup.variance == pytest.approx(start.variance)
    faster = edit(text, [("[[endpoints]]", '[serverless]\ndownload_bandwidth = "1 GB/s"\n'
                                           'container_start_time = { kind = "constant", value = "2s" }\n\n'
                                           '[[endpoints]]')])
    setup = variant_of(write(workdir, faster)).serverless.setup_time
    assert setup.mean == pytest.approx(2.0 + 0.5 + 4.0) and setup.variance == 0.0


# ---------------------------------------------------------------------------------------------
# properties of the rules


@given(cores=st.floats(0.05, 64), memory=st.sampled_from(MEMORY_SIZES_MB), ratio=st.floats(256, 8192),
       mean=st.floats(1e-4, 10))
def test_scaled_service_time_property(cores, memory, ratio, mean):
    factor = compute_factor(cores, vcpus_for(memory, ratio))
    assert factor >= 1.0
    scaled = Scaled(Exponential(mean), factor)
    assert scaled.mean == pytest.approx(factor * mean)
    assert scaled.variance == pytest.approx(factor**2 * mean**2)
    larger = [m for m in MEMORY_SIZES_MB if m > memory]
    for bigger in larger:  # more memory, more vCPUs: never slower
        assert compute_factor(cores, vcpus_for(bigger, ratio)) <= factor
    if memory >= cores * ratio:  # enough memory for every core the request uses
        assert factor == 1.0
    else:
        assert factor == pytest.approx(cores * ratio / memory) and factor > 1.0


@given(maximum=st.integers(1, 200), provisioned=st.integers(1, 200))
def test_provisioned_concurrency_at_most_max_concurrency(maximum, provisioned):
    if provisioned <= maximum:
        assert ServerlessConfig(memory_size_in_mb=1024, max_concurrency=maximum,
                                provisioned_concurrency=provisioned).provisioned_concurrency == provisioned
    else:
        with pytest.raises(ValueError, match="less than or equal to max_concurrency"):
            ServerlessConfig(memory_size_in_mb=1024, max_concurrency=maximum, provisioned_concurrency=provisioned)


def test_scaled_and_shifted_draw_what_they_say():
    base = Lognormal(0.01, 0.4)
    a = Scaled(base, 2.5).sample(np.random.default_rng(3), 1000)
    b = base.sample(np.random.default_rng(3), 1000)
    assert np.array_equal(a, 2.5 * b)
    c = Shifted(base, 1.5).sample(np.random.default_rng(3), 1000)
    assert np.array_equal(c, b + 1.5)
    assert Shifted(Constant(2.0), 1.0).mean == 3.0 and Shifted(Constant(2.0), 1.0).variance == 0.0
    with pytest.raises(ValueError):
        Scaled(base, 0.0)
    with pytest.raises(ValueError):
        Shifted(base, -1.0)


def test_sizing_directly_matches_the_fleet(workdir):
    scenario = load_experiment(write(workdir, edit(SRV, [model("heavy")])))
    spec = scenario.experiment.endpoints[0].production_variants[0]
    sizing = size_serverless(scenario.profiles["heavy"], spec.serverless_config, scenario.experiment.serverless)
    [variant] = build_fleet(scenario).variants
    assert variant.entry == sizing.entry and variant.serverless.setup_time == sizing.setup_time
    assert math.isclose(sizing.factor, 2.5 / (2048 / 1769))


# ---------------------------------------------------------------------------------------------
# bad input: one problem each, on the key the user wrote


class Case(ProblemCase):
    base = SRV


AUTOSCALING = """
[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "endpoint/ep/variant/A"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
MinCapacity = 1
MaxCapacity = 4
"""

CONTAINER = '[[endpoints.production_variants.containers]]\nmodel_name = "toy"\n\n'
INSTANCE_VARIANT = ('[[endpoints.production_variants]]\nvariant_name = "B"\nmodel_name = "toy"\n'
                    'instance_type = "ml.c5.xlarge"\ninitial_instance_count = 1\n\n')

CASES = [
    Case("memory-not-a-size", [config("memory_size_in_mb = 1500, max_concurrency = 20")],
         {f"{SC}.memory_size_in_mb": "serverless_config"}, ("1024, 2048, 3072, 4096, 5120, 6144", "got 1500")),
    Case("memory-too-large", [config("memory_size_in_mb = 10240, max_concurrency = 20")],
         {f"{SC}.memory_size_in_mb": "serverless_config"}, ("must be one of", "got 10240")),
    Case("memory-missing", [config("max_concurrency = 20")],
         {f"{SC}.memory_size_in_mb": "serverless_config"}, ("required key is missing",)),
    Case("memory-as-size", [config('memory_size_in_mb = "2 GiB", max_concurrency = 20')],
         {f"{SC}.memory_size_in_mb": "serverless_config"}, ("integer",)),
    Case("max-concurrency-missing", [config("memory_size_in_mb = 2048")],
         {f"{SC}.max_concurrency": "serverless_config"}, ("required key is missing",)),
    Case("max-concurrency-zero", [config("memory_size_in_mb = 2048, max_concurrency = 0")],
         {f"{SC}.max_concurrency": "serverless_config"}, ("between 1 and 200", "got 0")),
    Case("max-concurrency-too-high", [config("memory_size_in_mb = 2048, max_concurrency = 201")],
         {f"{SC}.max_concurrency": "serverless_config"}, ("between 1 and 200", "got 201")),
    Case("provisioned-zero", [config("memory_size_in_mb = 2048, max_concurrency = 20, provisioned_concurrency = 0")],
         {f"{SC}.provisioned_concurrency": "serverless_config"},
         ("provisioned_concurrency must be between 1 and 200",)),
    Case("provisioned-above-max",
         [config("memory_size_in_mb = 2048, max_concurrency = 20, provisioned_concurrency = 30")],
         {SC: "serverless_config"}, ("provisioned_concurrency (30)", "less than or equal to max_concurrency (20)")),
    Case("unknown-key-in-config", [config("memory_size_in_mb = 2048, max_concurrency = 20, MaxConcurrency = 3")],
         {f"{SC}.MaxConcurrency": "serverless_config"}, ("unknown key",)),
    Case("instance-type-with-serverless", [(CONFIG, CONFIG + '\ninstance_type = "ml.c5.xlarge"')],
         {f"{P}.instance_type": "instance_type"}, ("serverless variant has no instance_type",)),
    Case("instance-count-with-serverless", [(CONFIG, CONFIG + "\ninitial_instance_count = 1")],
         {f"{P}.initial_instance_count": "initial_instance_count"},
         ("serverless variant has no initial_instance_count",)),
    Case("instance-count-missing-without-serverless", [(CONFIG, 'instance_type = "ml.c5.xlarge"')],
         {f"{P}.initial_instance_count": "[[endpoints.production_variants]]"},
         ("required key is missing", "without serverless_config")),
    Case("pipeline-on-serverless", [('model_name = "toy"\n' + CONFIG, CONFIG),
                                    ("[[traffic]]", CONTAINER + CONTAINER + "[[traffic]]")],
         {f"{P}.containers": ("[[endpoints.production_variants.containers]]", 1)},
         ("do not support inference pipelines",)),
    Case("second-variant", [("[[traffic]]", INSTANCE_VARIANT + "[[traffic]]")],
         {SC: "serverless_config"}, ("only variant", "has 2", "multiple production variants are not supported")),
    Case("workers-not-one", [(CONFIG, CONFIG + "\nworkers = 2")],
         {f"{P}.workers": "workers"}, ("runs 1 worker, got 2", "one request at a time")),
    Case("routing-on-serverless",
         [(CONFIG, CONFIG + '\nrouting_config = { routing_strategy = "LEAST_OUTSTANDING_REQUESTS" }')],
         {f"{P}.routing_config": "routing_config"}, ("a serverless variant has none",)),
    Case("gpu-model", [model("gpuish")], {f"{P}.model_name": "model_name"},
         ("'gpuish' needs a GPU", "GPUs are not supported")),
    Case("gpu-model-without-a-cpu-entry", [model("gpu-only")], {f"{P}.model_name": "model_name"},
         ("'gpu-only' needs a GPU",)),
    Case("model-does-not-fit-memory", [model("big")],
         {f"{SC}.memory_size_in_mb": "serverless_config"},
         ("3072 MB of memory per worker", "memory_size_in_mb is 2048")),
    Case("artifact-over-ephemeral-disk", [model("huge-artifact")],
         {f"{P}.model_name": "model_name"}, ("6.0 GiB artifact", "5 GB of ephemeral disk")),
    Case("no-entry-to-scale", [model("no-c5")],
         {f"{P}.model_name": "model_name"}, ("neither a \"serverless\" service entry nor a 'c5' one", "c6i, m5, g5")),
    Case("serverless-entry-with-workers", [model("measured-workers")],
         {f"{P}.model_name": "model_name"}, ("workers = 2", "runs 1 worker")),
    Case("idle-timeout-zero", [("[[endpoints]]", '[serverless]\nidle_timeout = "0s"\n\n[[endpoints]]')],
         {"serverless.idle_timeout": "idle_timeout"}, ("idle_timeout must be greater than zero",)),
    Case("bandwidth-without-time", [("[[endpoints]]", '[serverless]\ndownload_bandwidth = "100 MB"\n\n[[endpoints]]')],
         {"serverless.download_bandwidth": "download_bandwidth"}, ("bandwidth like '100 MB/s'", "'100 MB'")),
    Case("memory-per-vcpu-zero", [("[[endpoints]]", "[serverless]\nmemory_mb_per_vcpu = 0\n\n[[endpoints]]")],
         {"serverless.memory_mb_per_vcpu": "memory_mb_per_vcpu"}, ("greater than 0",)),
    Case("family-not-a-family",
         [("[[endpoints]]", '[serverless]\nservice_time_family = "ml.c5.xlarge"\n\n[[endpoints]]')],
         {"serverless.service_time_family": "service_time_family"}, ("instance family such as 'c5'",)),
    Case("negative-price", [("[[endpoints]]", "[serverless]\nprice_per_gb_second = -1.0\n\n[[endpoints]]")],
         {"serverless.price_per_gb_second": "price_per_gb_second"}, ("greater than or equal to 0",)),
    Case("account-concurrency-zero", [("[[endpoints]]", "[serverless]\naccount_max_concurrency = 0\n\n[[endpoints]]")],
         {"serverless.account_max_concurrency": "account_max_concurrency"}, ("greater than or equal to 1",)),
    Case("instance-count-target-on-serverless", [("rate = 50\n", "rate = 50\n" + AUTOSCALING)],
         {"autoscaling.targets[0].ScalableDimension": "ScalableDimension"},
         ("a serverless variant has no instances", "sagemaker:variant:DesiredProvisionedConcurrency")),
]


def test_the_base_is_valid(workdir):
    assert variant_of(write(workdir, SRV)).serverless is not None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reported_on_its_key(case: Case, workdir):
    assert_reported_on_its_key(case, workdir)


def test_the_shipped_prices_name_their_sources():
    prices = load_serverless_prices()
    assert prices.price_per_gb_second == 0.00002 and prices.data_price_per_gb == 0.016
    # Provisioned Concurrency rates are not established: no price rather than an invented one
    assert prices.provisioned_price_per_gb_second is None and prices.provisioned_inference_price_per_gb_second is None
    for name in ("price_per_gb_second", "data_price_per_gb", "provisioned_price_per_gb_second"):
        assert prices.source_of(name)
    assert prices.source_of("price_per_gb_second").startswith("SECONDARY")
    overridden = prices.with_overrides({"price_per_gb_second": 0.00003, "data_price_per_gb": None}, "exp.toml")
    assert overridden.price_per_gb_second == 0.00003
    assert overridden.source_of("price_per_gb_second") == "override in exp.toml"
    assert overridden.data_price_per_gb == 0.016
    assert overridden.source_of("data_price_per_gb") == prices.source_of("data_price_per_gb")
