"""Inference components, configuration side (issue 17): `[[inference_components]]`, a hosting
variant's `managed_instance_scaling`, `target_inference_component` on traffic; `simfleet validate`
accepts a valid file and `simulate` refuses it with one line until the engine places copies.

Bad input follows `tests/test_bad_input.py`: one problem per case, one line naming the file, the key
path the user wrote and the line it is on. Capacities come from the catalog's ml.g5.12xlarge
(48 vCPUs, 4 GPUs, 192 GiB = 196608 MiB); the test profile `toy` runs on g5 with one GPU per worker.
"""

from __future__ import annotations


import pytest

from simfleet.scenario import load_experiment
from ic_experiments import COMPONENTS
from input_problems import BASE, assert_at, edit, invoke, load_problems, write

IC = "inference_components[0]"
CRR = f"{IC}.specification.compute_resource_requirements"
V = "endpoints[0].production_variants[0]"


def test_a_valid_file_validates_and_runs(workdir):
    path = write(workdir, COMPONENTS)
    scenario = load_experiment(path)
    [component] = scenario.experiment.inference_components
    assert component.specification.compute_resource_requirements.accelerators == 1
    assert scenario.experiment.endpoints[0].production_variants[0].model_name is None
    result = invoke("validate", path)
    assert result.exit_code == 0 and "ok:" in result.stdout
    run = invoke("run", path, "--out", workdir / "out")
    assert run.exit_code == 0, run.output
    assert "toy-ic" in run.stdout


def test_the_variant_may_be_left_out_when_the_endpoint_has_one(workdir):
    load_experiment(write(workdir, edit(COMPONENTS, [('variant_name = "A"\nruntime', 'runtime')])))


def test_scale_to_zero_allows_zero_copies(workdir):
    text = edit(COMPONENTS, [("min_instance_count = 1", "min_instance_count = 0"), ("copy_count = 3", "copy_count = 0")])
    load_experiment(write(workdir, text))


CRR_LINE = "compute_resource_requirements = {"
CASES = [
    ("accelerators-beyond-the-instance", [("number_of_accelerator_devices_required = 1", "number_of_accelerator_devices_required = 5")],
     {f"{CRR}.number_of_accelerator_devices_required": CRR_LINE}, ("5 accelerators", "ml.g5.12xlarge", "has 4")),
    ("cores-beyond-the-instance", [("number_of_cpu_cores_required = 4", "number_of_cpu_cores_required = 64")],
     {f"{CRR}.number_of_cpu_cores_required": CRR_LINE}, ("64 CPU cores", "has 48")),
    ("memory-beyond-the-instance", [("min_memory_required_in_mb = 4096", "min_memory_required_in_mb = 200000")],
     {f"{CRR}.min_memory_required_in_mb": CRR_LINE}, ("200000 MB", "196608")),
    ("memory-below-128", [("min_memory_required_in_mb = 4096", "min_memory_required_in_mb = 64")],
     {f"{CRR}.min_memory_required_in_mb": CRR_LINE}, ("128",)),
    ("cores-below-a-quarter", [("number_of_cpu_cores_required = 4", "number_of_cpu_cores_required = 0.1")],
     {f"{CRR}.number_of_cpu_cores_required": CRR_LINE}, ("0.25",)),
    ("fractional-accelerators", [("number_of_accelerator_devices_required = 1", "number_of_accelerator_devices_required = 1.5")],
     {f"{CRR}.number_of_accelerator_devices_required": CRR_LINE}, ("whole number of accelerators",)),
    ("max-memory-below-min", [("min_memory_required_in_mb = 4096", "min_memory_required_in_mb = 4096, max_memory_required_in_mb = 2048")],
     {CRR: CRR_LINE}, ("below",)),
    ("no-accelerator-for-a-gpu-model", [("number_of_accelerator_devices_required = 1, ", "")],
     {f"{CRR}.number_of_accelerator_devices_required": CRR_LINE}, ("runs on an accelerator", "at least 1")),
    ("zero-copies-without-scale-to-zero", [("copy_count = 3", "copy_count = 0")],
     {f"{IC}.runtime_config.copy_count": "runtime_config = {"}, ("scale to zero", "min_instance_count = 0")),
    ("negative-copies", [("copy_count = 3", "copy_count = -1")],
     {f"{IC}.runtime_config.copy_count": "runtime_config = {"}, ("greater than or equal to 0",)),
    ("unknown-endpoint", [('endpoint_name = "ep"\nvariant', 'endpoint_name = "other"\nvariant')],
     {f"{IC}.endpoint_name": 'endpoint_name = "other"'}, ("unknown endpoint 'other'",)),
    ("unknown-variant", [('variant_name = "A"\nruntime', 'variant_name = "B"\nruntime')],
     {f"{IC}.variant_name": 'variant_name = "B"'}, ("no variant 'B'",)),
    ("unknown-model", [('model_name = "toy"', 'model_name = "nope"')],
     {f"{IC}.specification.model_name": 'model_name = "nope"'}, ("unknown model 'nope'",)),
    ("bad-component-name", [('inference_component_name = "toy-ic"', 'inference_component_name = "toy_ic"')],
     {f"{IC}.inference_component_name": 'inference_component_name = "toy_ic"'}, ("pattern",)),
    ("unknown-placement-strategy", [('"SPREAD"', '"RANDOM"')],
     {f"{IC}.specification.scheduling_config.placement_strategy": "scheduling_config"}, ("SPREAD", "BINPACK")),
    ("unknown-component-in-traffic", [('target_inference_component = "toy-ic"', 'target_inference_component = "llm"')],
     {"traffic[0].target_inference_component": 'target_inference_component = "llm"'}, ("unknown inference component 'llm'", "toy-ic")),
    ("traffic-naming-no-component", [('target_inference_component = "toy-ic"\n', "")],
     {"traffic[0].target_inference_component": "[[traffic]]"}, ("required key is missing", "toy-ic")),
    ("a-hosting-variant-with-a-model", [('variant_name = "A"\ninstance_type', 'variant_name = "A"\nmodel_name = "toy"\ninstance_type')],
     {f"{V}.model_name": ('model_name = "toy"', 1)}, ("hosts inference components has no model_name",)),
    ("scaling-min-above-max", [("min_instance_count = 1", "min_instance_count = 5")],
     {f"{V}.managed_instance_scaling": "managed_instance_scaling"}, ("above max_instance_count",)),
    ("scaling-without-a-range", [("min_instance_count = 1, max_instance_count = 4", 'status = "ENABLED"')],
     {f"{V}.managed_instance_scaling": "managed_instance_scaling"}, ("give min_instance_count and max_instance_count",)),
    ("initial-count-outside-the-range", [("initial_instance_count = 2", "initial_instance_count = 6")],
     {f"{V}.initial_instance_count": "initial_instance_count = 6"}, ("outside", "[1, 4]")),
    ("bad-scale-in-strategy", [("max_instance_count = 4 }", 'max_instance_count = 4, scale_in_policy = { strategy = "NEWEST" } }')],
     {f"{V}.managed_instance_scaling.scale_in_policy.strategy": "managed_instance_scaling"}, ("IDLE_RELEASE", "CONSOLIDATION")),
    ("duplicate-component-names", [("[[traffic]]", COMPONENTS[COMPONENTS.index("[[inference_components]]"):COMPONENTS.index("[[traffic]]")]
                                    + "[[traffic]]")],
     {"inference_components[1].inference_component_name": ('inference_component_name = "toy-ic"', 2)}, ("unique",)),
]


@pytest.mark.parametrize("name, edits, at, words", CASES, ids=[c[0] for c in CASES])
def test_bad_components_are_refused_in_one_line_each(workdir, name, edits, at, words):
    text = edit(COMPONENTS, edits)
    [problem] = load_problems(write(workdir, text))
    assert_at(problem, text, at)
    for word in words:
        assert word in problem.message, (word, problem.message)


MODEL_VARIANT_CASES = [
    ("scaling-on-a-model-variant", [('initial_instance_count = 2\n', 'initial_instance_count = 2\n'
                                     'managed_instance_scaling = { min_instance_count = 1, max_instance_count = 4 }\n')],
     {f"{V}.managed_instance_scaling": "managed_instance_scaling"}, ("hosts inference components",)),
    ("a-component-named-on-a-model-endpoint", [("rate = 50", 'rate = 50\ntarget_inference_component = "x"')],
     {"traffic[0].target_inference_component": 'target_inference_component = "x"'}, ("hosts no inference components",)),
]


@pytest.mark.parametrize("name, edits, at, words", MODEL_VARIANT_CASES, ids=[c[0] for c in MODEL_VARIANT_CASES])
def test_component_keys_where_no_component_is_hosted_are_refused(workdir, name, edits, at, words):
    text = edit(BASE, edits)
    [problem] = load_problems(write(workdir, text))
    assert_at(problem, text, at)
    for word in words:
        assert word in problem.message, (word, problem.message)


def test_every_problem_is_reported_at_once(workdir):
    text = edit(COMPONENTS, [("number_of_cpu_cores_required = 4", "number_of_cpu_cores_required = 64"),
                             ('target_inference_component = "toy-ic"', 'target_inference_component = "llm"')])
    problems = load_problems(write(workdir, text))
    assert {p.key for p in problems} == {f"{CRR}.number_of_cpu_cores_required", "traffic[0].target_inference_component"}
