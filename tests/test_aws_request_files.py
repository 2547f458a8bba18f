"""An endpoint given as CreateEndpointConfig (+ CreateModel) request JSON, with traffic in TOML
(`simfleet/aws_requests/`).

The shipped pair in experiments/aws/ is valid against botocore's SageMaker service model and runs
to the same summary, byte for byte, as the hand-written TOML it stands for; each bad input gives
one line naming the file (the JSON file for a problem in it), the key path and the line.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from aws_shapes import shape_problems
from typer.testing import CliRunner

from simfleet.cli import app
from simfleet.engine.simulation import simulate
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.scenario import load_experiment
from aws_models import service_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "experiments" / "from-endpoint-config.toml"
CONFIG = ROOT / "experiments" / "aws" / "endpoint-config.json"
MODEL = ROOT / "experiments" / "aws" / "create-model.json"

#: What experiments/from-endpoint-config.toml says, written out by hand as the TOML form.
HAND_WRITTEN = """\
[experiment]
name = "from-endpoint-config"
description = "The quickstart A/B test read from CreateEndpointConfig and CreateModel requests"
start_time = 2026-01-05T09:00:00Z
duration = "10min"
seed = 20260105

[[endpoints]]
endpoint_name = "fraud-scoring"
metrics_config = { enable_enhanced_metrics = false, metric_publish_frequency_in_seconds = 60 }

[[endpoints.production_variants]]
variant_name = "Current"
model_name = "xgboost-tabular"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2
initial_variant_weight = 3.0
routing_config = { routing_strategy = "LEAST_OUTSTANDING_REQUESTS" }

[[endpoints.production_variants]]
variant_name = "Candidate"
model_name = "xgboost-tabular"
instance_type = "ml.c6i.xlarge"
initial_instance_count = 1
initial_variant_weight = 1.0
routing_config = { routing_strategy = "LEAST_OUTSTANDING_REQUESTS" }

[[traffic]]
kind = "poisson"
rate = "18000/min"
payload = { kind = "lognormal", median = "2 KB", sigma = 0.4 }
"""


@pytest.fixture(scope="module")
def sagemaker():
    return service_model("sagemaker")


@pytest.mark.parametrize("path, operation", [(CONFIG, "CreateEndpointConfig"), (MODEL, "CreateModel")])
def test_the_shipped_requests_match_botocore(sagemaker, path, operation):
    from botocore.validate import ParamValidator

    request = json.loads(path.read_text())
    shape = sagemaker.operation_model(operation).input_shape
    assert shape_problems(request, shape, operation) == []
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_the_example_runs_as_the_hand_written_experiment(tmp_path):
    (tmp_path / "hand.toml").write_text(HAND_WRITTEN)
    from_json = load_experiment(EXAMPLE)
    by_hand = load_experiment(tmp_path / "hand.toml")
    assert from_json.experiment == by_hand.experiment
    a, b = simulate(from_json).summary, simulate(by_hand).summary
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_a_pipeline_from_containers_and_direct_mode(tmp_path):
    shutil.copy(CONFIG, tmp_path / "config.json")
    model = {"ModelName": "fraud-xgb-2026-01", "InferenceExecutionConfig": {"Mode": "Direct"},
             "Containers": [{"ContainerHostname": "pre", "Image": "x"}, {"ContainerHostname": "xgb", "Image": "y"}]}
    (tmp_path / "model.json").write_text(json.dumps(model, indent=4))
    text = EXAMPLE.read_text().replace("aws/endpoint-config.json", "config.json").replace(
        "aws/create-model.json", "model.json").replace(
        '"xgboost-tabular"', '["sklearn-featurizer", "xgboost-tabular"]')
    (tmp_path / "e.toml").write_text(text)
    scenario = load_experiment(tmp_path / "e.toml")
    variant = scenario.experiment.endpoints[0].production_variants[0]
    assert variant.execution_mode == "Direct"
    assert [(c.container_hostname, c.model_name) for c in variant.containers] == [
        ("pre", "sklearn-featurizer"), ("xgb", "xgboost-tabular")]


def test_without_model_files_the_mapping_names_the_profile(tmp_path):
    shutil.copy(CONFIG, tmp_path / "config.json")
    text = EXAMPLE.read_text().replace("aws/endpoint-config.json", "config.json").replace(
        'model_files = ["aws/create-model.json"]\n', "")
    (tmp_path / "e.toml").write_text(text)
    scenario = load_experiment(tmp_path / "e.toml")
    assert [v.model_name for v in scenario.experiment.endpoints[0].production_variants] == ["xgboost-tabular"] * 2


def test_a_toml_variant_is_added_after_the_json_ones(tmp_path):
    shutil.copy(CONFIG, tmp_path / "config.json")
    text = EXAMPLE.read_text().replace("aws/endpoint-config.json", "config.json").replace(
        'model_files = ["aws/create-model.json"]\n', "") + """
[[endpoints.production_variants]]
variant_name = "Third"
model_name = "xgboost-tabular"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1
"""
    # the [[endpoints.production_variants]] above follows [[traffic]] in the file: move it up
    text = text.replace("\n[model_profiles]", "\n[[endpoints.production_variants]]\nvariant_name = \"Third\"\n"
                        "model_name = \"xgboost-tabular\"\ninstance_type = \"ml.c5.xlarge\"\n"
                        "initial_instance_count = 1\n\n[model_profiles]", 1)
    text = text[:text.rindex("\n[[endpoints.production_variants]]")] + "\n"
    (tmp_path / "e.toml").write_text(text)
    names = [v.variant_name for v in load_experiment(tmp_path / "e.toml").experiment.endpoints[0].production_variants]
    assert names == ["Current", "Candidate", "Third"]


# --- bad inputs: one line each, naming the file, key path and line --------------------------------


def _line(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (found by the test, not by simfleet)."""
    return next(k for k, line in enumerate(text.splitlines(), 1) if needle in line)


def _setup(tmp_path, config=None, model=None, toml_edit=lambda t: t, raw_config: str | None = None):
    config_doc = json.loads(CONFIG.read_text()) if config is None else config
    config_text = raw_config if raw_config is not None else json.dumps(config_doc, indent=4)
    (tmp_path / "aws").mkdir(exist_ok=True)
    (tmp_path / "aws" / "endpoint-config.json").write_text(config_text)
    model_doc = json.loads(MODEL.read_text()) if model is None else model
    (tmp_path / "aws" / "create-model.json").write_text(json.dumps(model_doc, indent=4))
    (tmp_path / "e.toml").write_text(toml_edit(EXAMPLE.read_text()))
    return config_text


def _problems(tmp_path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_experiment(tmp_path / "e.toml")
    return [str(p) for p in caught.value.problems]


def _config(**variant_changes):
    doc = json.loads(CONFIG.read_text())
    doc["ProductionVariants"][0].update(variant_changes)
    return doc


def test_unknown_member(tmp_path):
    text = _setup(tmp_path, _config(InstanceCount=2))
    file = tmp_path / "aws" / "endpoint-config.json"
    line = _line(text, '"InstanceCount"')
    assert _problems(tmp_path) == [(
        f"{file}:{line}: ProductionVariants[0].InstanceCount: unknown member of "
        "ProductionVariant (members simfleet reads: InitialInstanceCount, InitialVariantWeight, InstanceType, "
        "ManagedInstanceScaling, ModelName, RoutingConfig, ServerlessConfig, VariantName)")]


def test_wrong_type(tmp_path):
    text = _setup(tmp_path, _config(InitialInstanceCount="two"))
    (problem,) = _problems(tmp_path)
    file = tmp_path / "aws" / "endpoint-config.json"
    assert problem.startswith(f"{file}:{_line(text, 'two')}: ProductionVariants[0].InitialInstanceCount: ")


def test_missing_member_is_named_in_aws_spelling(tmp_path):
    doc = _config()
    del doc["ProductionVariants"][0]["InitialInstanceCount"]
    _setup(tmp_path, doc)
    (problem,) = _problems(tmp_path)
    assert "ProductionVariants[0].InitialInstanceCount: required key is missing" in problem


def test_instance_type_not_in_the_catalog(tmp_path):
    text = _setup(tmp_path, _config(InstanceType="ml.zz9.xlarge"))
    file = tmp_path / "aws" / "endpoint-config.json"
    assert _problems(tmp_path) == [(
        f"{file}:{_line(text, 'ml.zz9')}: ProductionVariants[0].InstanceType: unknown instance type 'ml.zz9.xlarge' "
        "(see `simfleet catalog`, or add it under [catalog])")]


def test_a_model_name_without_a_profile(tmp_path):
    text = _setup(tmp_path, toml_edit=lambda t: t.replace('fraud-xgb-2026-01 = "xgboost-tabular"\n', ""))
    file = tmp_path / "aws" / "endpoint-config.json"
    problems = _problems(tmp_path)
    assert len(problems) == 2  # both variants name it
    assert problems[0] == (
        f"{file}:{_line(text, 'fraud-xgb')}: ProductionVariants[0].ModelName: AWS model 'fraud-xgb-2026-01' has no "
        "simfleet model profile (CreateModel has no latency data): set model_profiles.fraud-xgb-2026-01 = "
        f"\"<profile>\" (a list of profiles, one per container, for Containers) in {tmp_path / 'e.toml'}")


def test_a_mapped_profile_that_does_not_exist_is_blamed_on_the_toml(tmp_path):
    _setup(tmp_path, toml_edit=lambda t: t.replace('= "xgboost-tabular"', '= "no-such-profile"'))
    text = (tmp_path / "e.toml").read_text()
    problems = _problems(tmp_path)
    assert problems and all(p.startswith(f"{tmp_path / 'e.toml'}:{_line(text, 'no-such-profile')}: "
                                         "model_profiles.fraud-xgb-2026-01: unknown model 'no-such-profile'")
                            for p in problems)


@pytest.mark.parametrize("key, expected", [("endpoint_config_file", "no such CreateEndpointConfig request file"),
                                           ("model_files", "no such CreateModel request file")])
def test_a_missing_file(tmp_path, key, expected):
    _setup(tmp_path, toml_edit=lambda t: t.replace('"aws/endpoint-config.json"' if key == "endpoint_config_file"
                                                   else '"aws/create-model.json"', '"aws/missing.json"'))
    text = (tmp_path / "e.toml").read_text()
    problems = _problems(tmp_path)
    assert problems[0].startswith(f"{tmp_path / 'e.toml'}:{_line(text, 'missing.json')}: endpoints[0].{key}")
    assert expected in problems[0] and len(problems[0].splitlines()) == 1


def test_invalid_json_with_its_line(tmp_path):
    text = CONFIG.read_text().replace('"InstanceType": "ml.c6i.xlarge",', '"InstanceType": "ml.c6i.xlarge"')
    _setup(tmp_path, raw_config=text)
    (problem,) = _problems(tmp_path)
    file = tmp_path / "aws" / "endpoint-config.json"
    assert problem.startswith(f"{file}:{_line(text, 'ml.c6i') + 1}: "
                              "not valid JSON")


def test_a_variant_in_both_the_json_and_the_toml(tmp_path):
    extra = ('[[endpoints.production_variants]]\nvariant_name = "Current"\nmodel_name = "xgboost-tabular"\n'
             'instance_type = "ml.c5.xlarge"\ninitial_instance_count = 1\n\n[model_profiles]')
    _setup(tmp_path, toml_edit=lambda t: t.replace("\n[model_profiles]", "\n" + extra, 1))
    text = (tmp_path / "e.toml").read_text()
    problems = _problems(tmp_path)
    line = _line(text, 'variant_name = "Current"')
    assert problems[0] == (f"{tmp_path / 'e.toml'}:{line}: endpoints[0].production_variants[0].variant_name: variant "
                           f"'Current' is also in {tmp_path / 'aws' / 'endpoint-config.json'} (ProductionVariants[0]): "
                           "give each variant in one place")


@pytest.mark.parametrize("member", ["AsyncInferenceConfig", "ShadowProductionVariants", "ExplainerConfig"])
def test_members_simfleet_cannot_simulate_are_refused(tmp_path, member):
    doc = _config()
    doc[member] = {}
    _setup(tmp_path, doc)
    (problem,) = _problems(tmp_path)
    assert "endpoint-config.json:" in problem and f": {member}: not supported by simfleet" in problem


def test_multi_model_is_refused_with_the_way_out(tmp_path):
    model = json.loads(MODEL.read_text())
    model["PrimaryContainer"]["Mode"] = "MultiModel"
    _setup(tmp_path, model=model)
    problems = _problems(tmp_path)
    assert problems and all("create-model.json" in p and "PrimaryContainer.Mode: a multi-model endpoint" in p
                            for p in problems)


def test_validate_recognises_the_request_files():
    result = CliRunner().invoke(app, ["validate", str(CONFIG), str(MODEL), str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "(endpoint_config: 2 ProductionVariants" in result.stdout and "(model: 1 container" in result.stdout


def test_validate_reports_a_bad_request_file(tmp_path):
    doc = _config(InstanceType="ml.zz9.xlarge", Bogus=1)
    (tmp_path / "c.json").write_text(json.dumps(doc, indent=4))
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "c.json")])
    assert result.exit_code == EXIT_INVALID_INPUT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("ProductionVariants[0].Bogus: unknown member" in line for line in lines)
    assert any("ProductionVariants[0].InstanceType: unknown instance type 'ml.zz9.xlarge'" in line for line in lines)


# --- every member AWS knows is translated, ignored or refused: none is an "unknown member" ------------


@pytest.mark.parametrize("shape_name, known", [
    ("CreateEndpointConfigInput", ("CONFIG_KEYS", "CONFIG_IGNORED", "CONFIG_REFUSED")),
    ("ProductionVariant", ("VARIANT_KEYS", "VARIANT_IGNORED", "VARIANT_REFUSED")),
    ("CreateModelInput", ("MODEL_KEYS", "MODEL_IGNORED")),
    ("ContainerDefinition", ("CONTAINER_KEYS", "CONTAINER_IGNORED")),
])
def test_every_botocore_member_has_a_decision(sagemaker, shape_name, known):
    import simfleet.aws_requests.shapes as shapes

    decided = set().union(*(set(getattr(shapes, name)) for name in known))
    assert set(sagemaker.shape_for(shape_name).members) == decided


def test_a_filled_cli_skeleton_is_read(sagemaker, tmp_path):
    """The AWS CLI's `--generate-cli-skeleton` (botocore's ArgumentGenerator, which the CLI uses), with
    the members simfleet refuses removed and the rest filled in: the same run as the shipped config."""
    from botocore.utils import ArgumentGenerator

    skeleton = ArgumentGenerator().generate_skeleton(sagemaker.operation_model("CreateEndpointConfig").input_shape)
    shipped = json.loads(CONFIG.read_text())
    for member in ("AsyncInferenceConfig", "ShadowProductionVariants", "ExplainerConfig"):
        del skeleton[member]
    template = skeleton["ProductionVariants"][0]
    for member in ("AcceleratorType", "InstancePools", "CapacityReservationConfig", "AcceleratorPartitionLayouts",
                   "ServerlessConfig", "ManagedInstanceScaling", "RoutingConfig"):
        template.pop(member, None)
    skeleton["ProductionVariants"] = [{**copy.deepcopy(template), **variant} for variant in shipped["ProductionVariants"]]
    skeleton.update({k: shipped[k] for k in ("EndpointConfigName", "MetricsConfig")})
    _setup(tmp_path, skeleton)
    from_skeleton = load_experiment(tmp_path / "e.toml").experiment
    assert from_skeleton == load_experiment(EXAMPLE).experiment


def test_model_server_workers_from_the_container_environment(tmp_path):
    model = json.loads(MODEL.read_text())
    model["PrimaryContainer"]["Environment"]["SAGEMAKER_MODEL_SERVER_WORKERS"] = "2"
    _setup(tmp_path, model=model)
    variants = load_experiment(tmp_path / "e.toml").experiment.endpoints[0].production_variants
    assert [v.workers for v in variants] == [2, 2]


def test_model_server_workers_that_are_not_a_number(tmp_path):
    model = json.loads(MODEL.read_text())
    model["PrimaryContainer"]["Environment"]["SAGEMAKER_MODEL_SERVER_WORKERS"] = "many"
    _setup(tmp_path, model=model)
    text = (tmp_path / "aws" / "create-model.json").read_text()
    problems = set(_problems(tmp_path))  # both variants serve the model
    file = tmp_path / "aws" / "create-model.json"
    assert len(problems) == 1
    assert problems.pop().startswith(f"{file}:{_line(text, 'many')}: "
                                     "PrimaryContainer.Environment.SAGEMAKER_MODEL_SERVER_WORKERS: ")


def test_a_missing_member_inside_a_structure_is_named_as_aws_spells_it(tmp_path):
    doc = _config(ServerlessConfig={"MaxConcurrency": 5})
    for key in ("InstanceType", "InitialInstanceCount", "RoutingConfig"):
        del doc["ProductionVariants"][0][key]
    del doc["ProductionVariants"][1]
    _setup(tmp_path, doc)
    problems = _problems(tmp_path)
    assert any("ProductionVariants[0].ServerlessConfig.MemorySizeInMB: " in p for p in problems), problems


def test_set_reaches_keys_from_the_json():
    key = "endpoints.0.production_variants.0.initial_instance_count"
    scenario = load_experiment(EXAMPLE, [f"{key}=3"])
    assert scenario.experiment.endpoints[0].production_variants[0].initial_instance_count == 3
    with pytest.raises(InputError) as caught:
        load_experiment(EXAMPLE, [f"{key}=0"])
    assert [str(p) for p in caught.value.problems] == [(
        "--set: endpoints[0].production_variants[0].initial_instance_count: Input should be greater than or equal "
        "to 1, got 0")]


def test_a_sweep_over_keys_from_the_json(tmp_path):
    from simfleet.sweep.plan import load_sweep

    shutil.copytree(ROOT / "experiments" / "aws", tmp_path / "aws")
    shutil.copy(EXAMPLE, tmp_path / "from-endpoint-config.toml")
    (tmp_path / "sweep.toml").write_text("""\
[sweep]
name = "json-sizing"
base = "from-endpoint-config.toml"
seed = 1

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2]
""")
    plan = load_sweep(tmp_path / "sweep.toml")
    counts = [plan.scenario(run).experiment.endpoints[0].production_variants[0].initial_instance_count
              for run in plan.runs]
    assert sorted(counts) == [1, 2]
