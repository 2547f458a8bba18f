"""Inference Recommender input: the CreateInferenceRecommendationsJob request as AWS documents it,
one failing example per constraint, job files in JSON and TOML, the traffic schedule's properties,
and agreement with botocore's SageMaker service model."""

import copy
import dataclasses
import json
from typing import Annotated, get_args, get_origin

import annotated_types
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from simfleet.catalog import Catalog, load_catalog
from simfleet.errors import InputError
from simfleet.profiles import available_profiles, builtin_profile_dir
from simfleet.recommender import job_file, job_request, traffic_pattern
from simfleet.recommender.api_fields import _adapter
from simfleet.recommender.endpoint_configurations import EndpointInputConfiguration
from simfleet.recommender.job_file import RecommendationJob, load_job, load_job_file
from simfleet.recommender.job_request import CreateInferenceRecommendationsJob
from simfleet.schema.json_lines import json_key_lines
from simfleet.recommender.traffic_pattern import Phase, TrafficPattern
from simfleet.recommender.traffic_schedule import UserSchedule, phase_end_users
from simfleet.schema.aws_fields import DEFER as _DEFER, spec_in as _spec_in
from request_mutations import DEL, mutate, set_path
from aws_models import service_model

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20211026"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-churn/1"
PROFILES = available_profiles([builtin_profile_dir()])


def aws_request():
    """The boto3 example of AWS's "Run a custom load test" guide (seed 003), placeholders filled in."""
    return {
        "JobName": "xgboost-load-test",
        "JobType": "Advanced",
        "RoleArn": ROLE,
        "InputConfig": {
            "ModelPackageVersionArn": PACKAGE,
            "JobDurationInSeconds": 7200,
            "TrafficPattern": {
                "TrafficType": "PHASES",
                "Phases": [{"InitialNumberOfUsers": 1, "SpawnRate": 1, "DurationInSeconds": 120},
                           {"InitialNumberOfUsers": 1, "SpawnRate": 1, "DurationInSeconds": 120}],
            },
            "ResourceLimit": {"MaxNumberOfTests": 10, "MaxParallelOfTests": 3},
            "EndpointConfigurations": [{"InstanceType": "ml.c5.xlarge"}, {"InstanceType": "ml.m5.xlarge"},
                                       {"InstanceType": "ml.r5.xlarge"}],
        },
        "StoppingConditions": {
            "MaxInvocations": 1000,
            "ModelLatencyThresholds": [{"Percentile": "P95", "ValueInMilliseconds": 100}],
            "FlatInvocations": "Stop",
        },
    }


def valid_job():
    return dict(aws_request(), simfleet={"model": "xgboost-tabular", "seed": 7})


def _problems(doc, **kwargs):
    with pytest.raises(InputError) as caught:
        load_job(doc, "job.json", profiles=PROFILES, **kwargs)
    return caught.value.problems


IC = "InputConfig"
TP = "InputConfig.TrafficPattern"
P0 = "InputConfig.TrafficPattern.Phases[0]"
EC = "InputConfig.EndpointConfigurations"
CC = "InputConfig.ContainerConfig"
SC = "StoppingConditions"
LT = "StoppingConditions.ModelLatencyThresholds"
STAIRS = {f"{TP}.TrafficType": "STAIRS", f"{TP}.Phases": DEL,
          f"{TP}.Stairs": {"DurationInSeconds": 240, "NumberOfSteps": 2, "UsersPerStep": 2}}
SERVERLESS = {"MemorySizeInMB": 2048, "MaxConcurrency": 20}


def _stairs(**members):
    return dict(STAIRS, **{f"{TP}.Stairs.{k}": v for k, v in members.items()})


# (mutations {path: value}, expected key, expected message fragment[, other keys also reported])
CASES = [
    # JobName (RecommendationJobName: 1-64, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,63})
    ({"JobName": "-load-test"}, "JobName", "inner hyphens, starting and ending with a letter or digit"),
    ({"JobName": "load-test-"}, "JobName", "got 'load-test-'"),
    ({"JobName": "load_test"}, "JobName", "got 'load_test'"),
    ({"JobName": "load test"}, "JobName", "got 'load test'"),
    ({"JobName": ""}, "JobName", "expected 1 to 64 characters, got 0"),
    ({"JobName": "a" * 65}, "JobName", "expected 1 to 64 characters, got 65"),
    ({"JobName": 5}, "JobName", "valid string"),
    ({"JobName": DEL}, "JobName", "required key is missing"),
    # JobType
    ({"JobType": "ADVANCED"}, "JobType", "expected one of Default, Advanced, got 'ADVANCED'"),  # the AWS CLI example
    ({"JobType": "advanced"}, "JobType", "got 'advanced'"),
    ({"JobType": DEL}, "JobType", "required key is missing"),
    ({"JobType": None}, "JobType", "valid string"),
    # RoleArn
    ({"RoleArn": "arn:aws:iam::<account>:role/*"}, "RoleArn", "an IAM role ARN"),  # the guide's placeholder
    ({"RoleArn": "arn:aws:iam::1234:role/MyRole-with-a-long-name"}, "RoleArn", "an IAM role ARN"),
    ({"RoleArn": "arn:aws:iam::1"}, "RoleArn", "expected 20 to 2048 characters, got 14"),
    ({"RoleArn": DEL}, "RoleArn", "required key is missing"),
    # JobDescription, unknown members
    ({"JobDescription": "x" * 129}, "JobDescription", "expected 0 to 128 characters, got 129"),
    ({"JobDescription": None}, "JobDescription", "null is not accepted"),
    ({"Jobname": "x"}, "Jobname", "unknown key"),
    ({f"{IC}.ResourceLimits": {"MaxNumberOfTests": 10}}, f"{IC}.ResourceLimits", "unknown key"),  # older guide's typo
    # InputConfig: the model
    ({IC: DEL}, IC, "required key is missing"),
    ({f"{IC}.ModelPackageVersionArn": DEL}, f"{IC}.ModelPackageVersionArn", "give ModelPackageVersionArn or ModelName"),
    ({f"{IC}.ModelName": "xgboost"}, f"{IC}.ModelName", "give ModelPackageVersionArn or ModelName, not both"),
    ({f"{IC}.ModelPackageVersionArn": "arn:aws:sagemaker:<region>:<account>:role/*"},
     f"{IC}.ModelPackageVersionArn", "a model package ARN"),  # the guide's placeholder
    ({f"{IC}.ModelPackageVersionArn": DEL, f"{IC}.ModelName": "my_model"}, f"{IC}.ModelName", "got 'my_model'"),
    ({f"{IC}.ModelPackageVersionArn": DEL, f"{IC}.ModelName": "m" * 64}, f"{IC}.ModelName",
     "expected 0 to 63 characters, got 64"),
    # InputConfig.JobDurationInSeconds
    ({f"{IC}.JobDurationInSeconds": 0}, f"{IC}.JobDurationInSeconds", "greater than or equal to 1"),
    ({f"{IC}.JobDurationInSeconds": 18001}, f"{IC}.JobDurationInSeconds", "less than or equal to 18000"),
    ({f"{IC}.JobDurationInSeconds": "7200"}, f"{IC}.JobDurationInSeconds", "valid integer, got '7200'"),
    ({f"{IC}.JobDurationInSeconds": 7200.0}, f"{IC}.JobDurationInSeconds", "valid integer"),
    ({f"{IC}.JobDurationInSeconds": True}, f"{IC}.JobDurationInSeconds", "valid integer"),
    ({f"{IC}.JobDurationInSeconds": None}, f"{IC}.JobDurationInSeconds", "null is not accepted"),
    ({f"{IC}.JobDurationInSeconds": 200}, TP,
     "Total Traffic duration (240 s across Phases) should not be more than Job duration (JobDurationInSeconds 200)"),
    (dict(_stairs(), **{f"{IC}.JobDurationInSeconds": 239}), TP, "Total Traffic duration (240 s across Stairs)"),
    # TrafficPattern
    ({f"{TP}.TrafficType": "phases"}, f"{TP}.TrafficType", "expected one of PHASES, STAIRS, got 'phases'"),
    ({f"{TP}.TrafficType": DEL}, f"{TP}.TrafficType", "required key is missing"),
    ({f"{TP}.TrafficType": "STAIRS"}, f"{TP}.Stairs", "required for TrafficType STAIRS", [f"{TP}.Phases"]),
    ({f"{TP}.TrafficType": "STAIRS", f"{TP}.Phases": DEL}, f"{TP}.Stairs", "required for TrafficType STAIRS"),
    ({f"{TP}.Stairs": {"DurationInSeconds": 240, "NumberOfSteps": 2, "UsersPerStep": 2}}, f"{TP}.Stairs",
     "not allowed with TrafficType PHASES; specify either the stairs or phases traffic pattern"),
    ({f"{TP}.Phases": []}, f"{TP}.Phases", "at least 1 item"),
    ({f"{TP}.Phases": {"InitialNumberOfUsers": 1}}, f"{TP}.Phases", "expected a list, got dict"),
    ({TP: DEL}, TP, "required for JobType Advanced (a load test)"),
    # Phases
    ({f"{P0}.InitialNumberOfUsers": 0}, f"{P0}.InitialNumberOfUsers", "greater than or equal to 1"),
    ({f"{P0}.InitialNumberOfUsers": 4}, f"{P0}.InitialNumberOfUsers", "less than or equal to 3"),
    ({f"{P0}.InitialNumberOfUsers": DEL}, f"{P0}.InitialNumberOfUsers", "required key is missing"),
    ({f"{P0}.SpawnRate": -1}, f"{P0}.SpawnRate", "greater than or equal to 0"),
    ({f"{P0}.SpawnRate": 60, f"{P0}.DurationInSeconds": 300}, f"{P0}.SpawnRate",
     "less than or equal to 3"),  # the guide's own AWS CLI example breaks its documented 0-3 range
    ({f"{P0}.SpawnRate": "1"}, f"{P0}.SpawnRate", "valid integer, got '1'"),
    ({f"{P0}.SpawnRate": 1.5}, f"{P0}.SpawnRate", "valid integer"),
    ({f"{P0}.DurationInSeconds": 0}, f"{P0}.DurationInSeconds", "greater than or equal to 1"),
    ({f"{P0}.DurationInSeconds": 119}, f"{P0}.DurationInSeconds",
     "for custom load tests (JobType Advanced) the value should be between 120 and 3600, got 119"),
    ({f"{P0}.DurationInSeconds": 3601, f"{P0}.SpawnRate": 0}, f"{P0}.DurationInSeconds",
     "between 120 and 3600, got 3601"),
    ({f"{P0}.Users": 3}, f"{P0}.Users", "unknown key"),
    ({f"{P0}.SpawnRate": 3}, f"{TP}.Phases[1].InitialNumberOfUsers",
     "Users at the end of prev phase is 7 while initial users of current phase is 1"),
    ({f"{TP}.Phases[1].InitialNumberOfUsers": 3, f"{TP}.Phases[2]": {"InitialNumberOfUsers": 1, "SpawnRate": 3,
                                                                     "DurationInSeconds": 120}},
     f"{TP}.Phases[2].InitialNumberOfUsers", "end of prev phase is 5 while initial users of current phase is 1"),
    # Stairs
    (_stairs(UsersPerStep=4), f"{TP}.Stairs.UsersPerStep", "less than or equal to 3"),
    (_stairs(UsersPerStep=0), f"{TP}.Stairs.UsersPerStep", "greater than or equal to 1"),
    (_stairs(NumberOfSteps=0), f"{TP}.Stairs.NumberOfSteps", "greater than or equal to 1"),
    (_stairs(NumberOfSteps=DEL), f"{TP}.Stairs.NumberOfSteps", "required key is missing"),
    (_stairs(DurationInSeconds=100), f"{TP}.Stairs.DurationInSeconds", "between 120 and 3600, got 100"),
    # ResourceLimit
    ({f"{IC}.ResourceLimit.MaxNumberOfTests": 0}, f"{IC}.ResourceLimit.MaxNumberOfTests", "greater than or equal to 1"),
    ({f"{IC}.ResourceLimit.MaxNumberOfTests": 11}, f"{IC}.ResourceLimit.MaxNumberOfTests", "less than or equal to 10"),
    ({f"{IC}.ResourceLimit.MaxParallelOfTests": 100}, f"{IC}.ResourceLimit.MaxParallelOfTests",
     "less than or equal to 10"),
    ({f"{IC}.ResourceLimit.MaxParallelOfTests": "3"}, f"{IC}.ResourceLimit.MaxParallelOfTests", "valid integer"),
    # EndpointConfigurations
    ({EC: DEL}, EC, "required for JobType Advanced (a load test)"),
    ({EC: []}, EC, "at least 1 item"),
    ({EC: [{"InstanceType": "ml.c5.xlarge"}] * 11}, EC, "at most 10 items"),
    ({f"{EC}[0]": {}}, f"{EC}[0]", "give InstanceType or ServerlessConfig"),
    ({f"{EC}[0].ServerlessConfig": SERVERLESS}, f"{EC}[0].ServerlessConfig",
     "give InstanceType or ServerlessConfig, not both"),
    ({f"{EC}[0].InstanceType": "ml.t2.medium"}, f"{EC}[0].InstanceType",
     "Burstable instance type ml.t2.medium is not allowed"),
    ({f"{EC}[2].InstanceType": "ml.t2.2xlarge"}, f"{EC}[2].InstanceType",
     "Burstable instance type ml.t2.2xlarge is not allowed"),
    ({f"{EC}[0].InstanceType": "c5.xlarge"}, f"{EC}[0].InstanceType", "an instance type like 'ml.c5.xlarge'"),
    ({f"{EC}[0].InstanceType": "ML.C5.XLARGE"}, f"{EC}[0].InstanceType", "an instance type like"),
    ({f"{EC}[0].InstanceType": "ml.c5.xlarg"}, f"{EC}[0].InstanceType",
     "ml.c5.xlarg is not in simfleet's instance catalog (did you mean ml.c5.xlarge"),
    ({f"{EC}[0].InstanceType": "ml.p4de.24xlarge"}, f"{EC}[0].InstanceType", "not in simfleet's instance catalog"),
    ({f"{EC}[0]": {"ServerlessConfig": dict(SERVERLESS, MemorySizeInMB=512)}},
     f"{EC}[0].ServerlessConfig.MemorySizeInMB", "greater than or equal to 1024"),
    ({f"{EC}[0]": {"ServerlessConfig": dict(SERVERLESS, MemorySizeInMB=1500)}},
     f"{EC}[0].ServerlessConfig.MemorySizeInMB", "1 GB increments"),
    ({f"{EC}[0]": {"ServerlessConfig": dict(SERVERLESS, MemorySizeInMB=7168)}},
     f"{EC}[0].ServerlessConfig.MemorySizeInMB", "less than or equal to 6144"),
    ({f"{EC}[0]": {"ServerlessConfig": dict(SERVERLESS, MaxConcurrency=201)}},
     f"{EC}[0].ServerlessConfig.MaxConcurrency", "less than or equal to 200"),
    ({f"{EC}[0]": {"ServerlessConfig": {"MemorySizeInMB": 2048}}}, f"{EC}[0].ServerlessConfig.MaxConcurrency",
     "required key is missing"),
    ({f"{EC}[0]": {"ServerlessConfig": dict(SERVERLESS, ProvisionedConcurrency=5)}},
     f"{EC}[0].ServerlessConfig.ProvisionedConcurrency", "not supported for serverless endpoint recommendations"),
    ({f"{EC}[0].InferenceSpecificationName": "spec_1"}, f"{EC}[0].InferenceSpecificationName", "got 'spec_1'"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": []}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges", "at least 1 item"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": [{"Name": "OMP_NUM_THREADS",
                                                                              "Value": ["1"]}] * 6}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges", "at most 5 items"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": [{"Name": "OMP_NUM_THREADS",
                                                                              "Value": ["1", "2", "4", "8"]}]}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges[0].Value", "at most 3 items"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": [{"Name": "OMP_NUM_THREADS",
                                                                              "Value": "1"}]}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges[0].Value", "expected a list, got str"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": [{"Value": ["1"]}]}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges[0].Name", "required key is missing"),
    ({f"{EC}[0].EnvironmentParameterRanges": {"CategoricalParameterRanges": [{"Name": "N" * 65, "Value": ["1"]}]}},
     f"{EC}[0].EnvironmentParameterRanges.CategoricalParameterRanges[0].Name", "expected 0 to 64 characters"),
    # the other InputConfig members
    ({f"{IC}.VolumeKmsKeyId": "my key"}, f"{IC}.VolumeKmsKeyId", "a KMS key id"),
    ({f"{IC}.Endpoints": [{"EndpointName": "prod-endpoint"}]}, f"{IC}.Endpoints",
     "benchmarking an existing endpoint is not simulated"),
    ({f"{IC}.Endpoints": [{"EndpointName": "a"}, {"EndpointName": "b"}]}, f"{IC}.Endpoints", "at most 1 item"),
    ({f"{IC}.Endpoints": [{"EndpointName": "prod_endpoint"}]}, f"{IC}.Endpoints[0].EndpointName",
     "got 'prod_endpoint'"),
    ({f"{IC}.VpcConfig": {"SecurityGroupIds": [], "Subnets": ["subnet-0a1b"]}}, f"{IC}.VpcConfig.SecurityGroupIds",
     "at least 1 item"),
    ({f"{IC}.VpcConfig": {"SecurityGroupIds": ["sg-1"] * 6, "Subnets": ["subnet-0a1b"]}},
     f"{IC}.VpcConfig.SecurityGroupIds", "at most 5 items"),
    ({f"{IC}.VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"] * 17}}, f"{IC}.VpcConfig.Subnets",
     "at most 16 items"),
    ({f"{IC}.VpcConfig": {"SecurityGroupIds": ["sg_1"], "Subnets": ["subnet-0a1b"]}},
     f"{IC}.VpcConfig.SecurityGroupIds[0]", "letters, digits and hyphens"),
    ({f"{IC}.VpcConfig": {"SecurityGroupIds": ["sg-1"]}}, f"{IC}.VpcConfig.Subnets", "required key is missing"),
    # ContainerConfig
    ({f"{CC}": {"Domain": "CV"}}, f"{CC}.Domain", "expected one of COMPUTER_VISION"),
    ({f"{CC}": {"Task": "Regression"}}, f"{CC}.Task", "got 'Regression'"),
    ({f"{CC}": {"Framework": "SKLEARN"}}, f"{CC}.Framework", "SAGEMAKER-SCIKIT-LEARN"),
    ({f"{CC}": {"FrameworkVersion": "1"}}, f"{CC}.FrameworkVersion", "expected 3 to 10 characters, got 1"),
    ({f"{CC}": {"FrameworkVersion": "v1.5"}}, f"{CC}.FrameworkVersion", "a version like '1.5.1'"),
    ({f"{CC}": {"NearestModelName": "XGBoost"}}, f"{CC}.NearestModelName", "got 'XGBoost'"),
    ({f"{CC}": {"SupportedEndpointType": "realtime"}}, f"{CC}.SupportedEndpointType", "RealTime, Serverless"),
    ({f"{CC}": {"PayloadConfig": {"SamplePayloadUrl": "s3://bucket/payload.zip"}}},
     f"{CC}.PayloadConfig.SamplePayloadUrl", ".tar.gz suffix"),
    ({f"{CC}": {"PayloadConfig": {"SamplePayloadUrl": "bucket/payload.tar.gz"}}},
     f"{CC}.PayloadConfig.SamplePayloadUrl", "an 's3://bucket/key'"),
    ({f"{CC}": {"PayloadConfig": {"SupportedContentTypes": "text/csv"}}},
     f"{CC}.PayloadConfig.SupportedContentTypes", "expected a list"),
    ({f"{CC}": {"SupportedInstanceTypes": ["ml.c5.xlarge", "ml.t2.large"]}}, f"{CC}.SupportedInstanceTypes[1]",
     "Burstable instance type ml.t2.large is not allowed"),
    ({f"{CC}": {"SupportedInstanceTypes": ["ml.m5.xlarg"]}}, f"{CC}.SupportedInstanceTypes[0]",
     "not in simfleet's instance catalog"),
    ({f"{CC}": {"SupportedResponseMIMETypes": ["csv"]}}, f"{CC}.SupportedResponseMIMETypes[0]", "a MIME type"),
    ({f"{CC}": {"DataInputConfig": ""}}, f"{CC}.DataInputConfig", "expected 1 to 1024 characters, got 0"),
    # StoppingConditions
    ({SC: DEL}, SC, "required for JobType Advanced (a load test)"),
    ({f"{SC}.MaxInvocations": 0}, f"{SC}.MaxInvocations", "greater than or equal to 1"),
    ({f"{SC}.MaxInvocations": 30001}, f"{SC}.MaxInvocations", "less than or equal to 30000"),
    ({f"{SC}.MaxInvocations": "1000"}, f"{SC}.MaxInvocations", "valid integer"),
    ({LT: []}, LT, "at least 1 item"),
    ({f"{LT}[1]": {"Percentile": "P99", "ValueInMilliseconds": 200}}, LT, "at most 1 item"),
    ({f"{LT}[0].Percentile": "p95"}, f"{LT}[0].Percentile", "expected one of P95, P99, got 'p95'"),
    ({f"{LT}[0].Percentile": "P90"}, f"{LT}[0].Percentile", "got 'P90'"),
    ({f"{LT}[0].Percentile": DEL}, f"{LT}[0].Percentile", "required key is missing"),
    ({f"{LT}[0].ValueInMilliseconds": 0}, f"{LT}[0].ValueInMilliseconds", "greater than or equal to 1"),
    ({f"{LT}[0].ValueInMilliseconds": "100ms"}, f"{LT}[0].ValueInMilliseconds", "valid integer"),
    ({f"{SC}.FlatInvocations": "STOP"}, f"{SC}.FlatInvocations", "expected one of Continue, Stop, got 'STOP'"),
    ({f"{SC}.FlatInvocations": None}, f"{SC}.FlatInvocations", "valid string"),
    # OutputConfig, Tags
    ({"OutputConfig": {"KmsKeyId": "alias/my key"}}, "OutputConfig.KmsKeyId", "a KMS key id"),
    ({"OutputConfig": {"CompiledOutputConfig": {"S3OutputUri": "my-bucket/out"}}},
     "OutputConfig.CompiledOutputConfig.S3OutputUri", "an 's3://bucket/key'"),
    ({"Tags": [{"Key": "", "Value": "x"}]}, "Tags[0].Key", "expected 1 to 128 characters, got 0"),
    ({"Tags": [{"Key": "team#1", "Value": "x"}]}, "Tags[0].Key", "got '#' in 'team#1'"),
    ({"Tags": [{"Key": "team"}]}, "Tags[0].Value", "required key is missing"),
    ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "Tags", "at most 50 items"),
    ({"Tags": [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]}, "Tags[1].Key",
     "tag key 'team' is used twice (also Tags[0])"),
    ({"Tags": {"team": "ml"}}, "Tags", "expected a list, got dict"),
    # simfleet's own member
    ({"simfleet": DEL}, "simfleet.model", "required: the model profile to load test"),
    ({"simfleet.model": "xgboost"}, "simfleet.model", "no model profile named 'xgboost' (known profiles: bert-base"),
    ({"simfleet.model": "../x"}, "simfleet.model", "should match pattern"),
    ({"simfleet.seed": "7"}, "simfleet.seed", "valid integer"),
    ({"simfleet.seed": -1}, "simfleet.seed", "greater than or equal to 0"),
    ({"simfleet.think_time": 5}, "simfleet.think_time", "a duration with a unit"),
    ({"simfleet.think_time": "-1s"}, "simfleet.think_time", "non-negative"),
    ({"simfleet.colour": "red"}, "simfleet.colour", "unknown key"),
    ({"simfleet.serverless": {"idle_timeout": "0s"}}, "simfleet.serverless.idle_timeout", "greater than zero"),
    ({"simfleet.serverless": {"idle_time": "5min"}}, "simfleet.serverless.idle_time", "unknown key"),
    ({"simfleet.model_setup_time_statistic": "Median"}, "simfleet.model_setup_time_statistic",
     "expected Average, Minimum, Maximum or a percentile like 'p90', got 'Median'"),
    ({"simfleet": "xgboost-tabular"}, "simfleet", "valid dictionary"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{c[1]}" for i, c in enumerate(CASES)])
def test_each_constraint_names_its_key(case):
    mutations, key, message, *also = case
    doc = valid_job()
    for path, value in mutations.items():
        set_path(doc, path, value if value is DEL else copy.deepcopy(value))
    problems = _problems(doc)
    at_key = [p for p in problems if p.key == key]
    assert len(at_key) == 1, [str(p) for p in problems]
    assert message in at_key[0].message, str(at_key[0])
    assert {p.key for p in problems} - {key} == set(*also), [str(p) for p in problems]
    assert all("\n" not in str(p) and p.file == "job.json" for p in problems)


def test_every_problem_is_reported_at_once():
    doc = valid_job()
    set_path(doc, "JobName", "load_test")
    set_path(doc, f"{P0}.SpawnRate", 3)  # continuity broken at Phases[1]
    set_path(doc, f"{EC}[1].InstanceType", "ml.t2.medium")
    set_path(doc, f"{SC}.MaxInvocations", 50_000)
    set_path(doc, "simfleet.seed", "7")
    set_path(doc, "Tags", [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])
    keys = [p.key for p in _problems(doc)]
    assert sorted(keys) == sorted(["JobName", f"{TP}.Phases[1].InitialNumberOfUsers", f"{EC}[1].InstanceType",
                                   f"{SC}.MaxInvocations", "simfleet.seed", "Tags[1].Key"])


def test_cross_field_rules_still_run_next_to_invalid_members():
    doc = valid_job()
    set_path(doc, f"{IC}.VolumeKmsKeyId", "bad key")  # InputConfig itself is invalid...
    set_path(doc, f"{IC}.JobDurationInSeconds", 100)  # ...yet its rules about other members still run
    set_path(doc, SC, DEL)
    set_path(doc, "RoleArn", "nope")  # and so do the request's rules that do not read RoleArn
    keys = {p.key for p in _problems(doc)}
    assert keys == {f"{IC}.VolumeKmsKeyId", TP, SC, "RoleArn"}


def test_models_used_alone_raise_on_cross_field_rules():
    with pytest.raises(ValidationError, match="Burstable instance type ml.t2.medium is not allowed"):
        EndpointInputConfiguration(InstanceType="ml.t2.medium")
    with pytest.raises(ValidationError, match="Users at the end of prev phase is 7"):
        TrafficPattern.model_validate({"TrafficType": "PHASES", "Phases": [
            {"InitialNumberOfUsers": 1, "SpawnRate": 3, "DurationInSeconds": 120},
            {"InitialNumberOfUsers": 1, "SpawnRate": 0, "DurationInSeconds": 120}]})
    # no catalog, no simfleet limits: the pure request model accepts what AWS would
    request = CreateInferenceRecommendationsJob.model_validate(dict(
        aws_request(), InputConfig=dict(aws_request()["InputConfig"], EndpointConfigurations=[
            {"InstanceType": "ml.p4de.24xlarge"},
            {"ServerlessConfig": {"MemorySizeInMB": 6144, "MaxConcurrency": 200}}],
            Endpoints=[{"EndpointName": "prod"}])))
    assert request.InputConfig.EndpointConfigurations[1].ServerlessConfig.MaxConcurrency == 200


# --- accepted jobs -------------------------------------------------------------------------------

def test_the_aws_guide_example_loads():
    job = load_job(valid_job(), "job.json", profiles=PROFILES)
    assert isinstance(job, RecommendationJob)
    assert (job.model, job.settings.seed, job.settings.think_time) == ("xgboost-tabular", 7, 0.0)
    assert job.model_path == PROFILES["xgboost-tabular"]
    request = job.request
    assert request.is_load_test and request.JobName == "xgboost-load-test"
    assert [c.InstanceType for c in request.InputConfig.EndpointConfigurations] == \
        ["ml.c5.xlarge", "ml.m5.xlarge", "ml.r5.xlarge"]
    assert request.StoppingConditions.ModelLatencyThresholds[0].ValueInMilliseconds == 100
    pattern = request.InputConfig.TrafficPattern
    assert pattern.duration_s == 240
    assert [p.end_users for p in pattern.Phases] == [3, 3]
    # users spawned one at a time every 60 / SpawnRate s; the second phase restarts at its initial users
    assert pattern.change_points() == [(0.0, 1), (60.0, 2), (120.0, 1), (180.0, 2), (240.0, 0)]
    assert [pattern.users_at(t) for t in (-1, 0, 59.999, 60, 119.999, 120, 180, 239.999, 240)] == \
        [0, 1, 1, 2, 2, 1, 2, 2, 0]
    with pytest.raises(ValidationError):
        request.JobName = "other"  # frozen
    assert not ParamValidator().validate(aws_request(), _input_shape()).has_errors()


def test_defaults_and_a_minimal_default_job():
    doc = {"JobName": "xgb", "JobType": "Default", "RoleArn": ROLE, "InputConfig": {"ModelName": "xgb-model"}}
    job = load_job(doc, "job.json", model="xgboost-tabular")
    assert job.model == "xgboost-tabular" and job.model_path is None
    assert job.request.StoppingConditions is None and not job.request.is_load_test
    stopping = load_job(valid_job(), "j").request.StoppingConditions
    assert stopping.FlatInvocations == "Stop"
    # the 120-3600 s range is for custom load tests only; a Default job's phases keep botocore's minimum of 1 s
    doc["InputConfig"]["TrafficPattern"] = {"TrafficType": "PHASES", "Phases": [
        {"InitialNumberOfUsers": 2, "SpawnRate": 0, "DurationInSeconds": 30}]}
    assert load_job(doc, "job.json", model="xgboost-tabular").request.InputConfig.TrafficPattern.duration_s == 30


def test_model_argument_replaces_the_file_and_is_checked():
    doc = valid_job()
    doc["InputConfig"]["EndpointConfigurations"] = [{"InstanceType": "ml.c5.xlarge"}]
    job = load_job(doc, "job.json", profiles=PROFILES, model="resnet50")
    assert job.model == "resnet50" and job.model_path == PROFILES["resnet50"] and job.profile.name == "resnet50"
    problems = _problems(valid_job(), model="resnet-50")
    assert [(p.file, p.key) for p in problems] == [("--model", "simfleet.model")]
    problems = _problems(valid_job(), model="../models/x.toml")
    assert [(p.file, p.key) for p in problems] == [("--model", "simfleet.model")]
    assert "expected a profile name" in problems[0].message


def test_stairs_from_the_guide():
    doc = valid_job()
    for path, value in STAIRS.items():
        set_path(doc, path, value)
    pattern = load_job(doc, "job.json").request.InputConfig.TrafficPattern
    # "the length of each step is DurationInSeconds / NumberOfSteps" [IRLOAD]
    assert pattern.duration_s == 240
    assert pattern.change_points() == [(0.0, 2), (120.0, 4), (240.0, 0)]
    uneven = UserSchedule.from_stairs(100, 3, 1)
    assert [uneven.users_at(t) for t in (0, 33.3, 33.34, 66.67, 99.99, 100)] == [1, 1, 2, 3, 3, 0]


def test_phase_end_users_follows_aws_description():
    assert phase_end_users(1, 1, 120) == 3
    assert phase_end_users(2, 3, 130) == 8  # 2 + 6.5, whole users
    assert phase_end_users(3, 0, 3600) == 3
    assert Phase(InitialNumberOfUsers=1, SpawnRate=2, DurationInSeconds=300).end_users == 11


# --- job files ------------------------------------------------------------------------------------

TOML_JOB = """\
# The AWS guide's load test, as a simfleet TOML job
JobName = "xgboost-load-test"
JobType = "Advanced"
RoleArn = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20211026"

[InputConfig]
ModelPackageVersionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/xgboost-churn/1"
JobDurationInSeconds = 7200
ResourceLimit = { MaxNumberOfTests = 10, MaxParallelOfTests = 3 }

[InputConfig.TrafficPattern]
TrafficType = "PHASES"

[[InputConfig.TrafficPattern.Phases]]
InitialNumberOfUsers = 1
SpawnRate = 1
DurationInSeconds = 120

[[InputConfig.TrafficPattern.Phases]]
InitialNumberOfUsers = 1
SpawnRate = 1
DurationInSeconds = 120

[[InputConfig.EndpointConfigurations]]
InstanceType = "ml.c5.xlarge"

[[InputConfig.EndpointConfigurations]]
InstanceType = "ml.m5.xlarge"

[[InputConfig.EndpointConfigurations]]
InstanceType = "ml.r5.xlarge"

[StoppingConditions]
MaxInvocations = 1000
FlatInvocations = "Stop"
ModelLatencyThresholds = [{ Percentile = "P95", ValueInMilliseconds = 100 }]

[simfleet]
model = "xgboost-tabular"
seed = 7
"""


def test_json_and_toml_files_give_the_same_job(tmp_path):
    json_path = tmp_path / "job.json"
    json_path.write_text(json.dumps(valid_job(), indent=2))
    toml_path = tmp_path / "job.TOML"
    toml_path.write_text(TOML_JOB)
    from_json, from_toml = load_job_file(json_path), load_job_file(toml_path)
    assert from_json.request == from_toml.request and from_json.settings == from_toml.settings
    assert from_json.source == str(json_path) and from_toml.model_path == PROFILES["xgboost-tabular"]


def test_problems_in_files_carry_their_line(tmp_path):
    doc = valid_job()
    set_path(doc, f"{TP}.Phases[1].SpawnRate", 9)
    set_path(doc, f"{EC}[2].InstanceType", "ml.t2.medium")
    path = tmp_path / "job.json"
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    lines = text.splitlines()
    found = {p.key: p for p in caught.value.problems}
    assert '"SpawnRate": 9' in lines[found[f"{TP}.Phases[1].SpawnRate"].line - 1]
    assert '"ml.t2.medium"' in lines[found[f"{EC}[2].InstanceType"].line - 1]
    assert str(found[f"{EC}[2].InstanceType"]).startswith(f"{path}:{found[f'{EC}[2].InstanceType'].line}: ")

    toml_path = tmp_path / "job.toml"
    toml_path.write_text(TOML_JOB.replace("SpawnRate = 1\nDurationInSeconds = 120\n\n[[InputConfig.End",
                                          "SpawnRate = 1\nDurationInSeconds = 12\n\n[[InputConfig.End"))
    with pytest.raises(InputError) as caught:
        load_job_file(toml_path)
    (problem,) = caught.value.problems
    assert problem.key == f"{TP}.Phases[1].DurationInSeconds"
    assert TOML_JOB.replace("= 120\n\n[[InputConfig.End", "= 12\n\n[[InputConfig.End").splitlines()[
        problem.line - 1] == "DurationInSeconds = 12"


def test_json_syntax_error_is_one_line_with_its_line(tmp_path):
    path = tmp_path / "job.json"
    path.write_text('{\n  "JobName": "x",\n  "JobType": "Advanced"\n  "RoleArn": "y"\n}\n')
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    (problem,) = caught.value.problems
    assert problem.line == 4 and "\n" not in str(problem)
    assert str(problem) == f"{path}:4: not valid JSON: Expecting ',' delimiter (column 3)"


def test_toml_syntax_error_has_its_line(tmp_path):
    path = tmp_path / "job.toml"
    path.write_text('JobName = "x"\nJobType = Advanced\n')
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    (problem,) = caught.value.problems
    assert problem.line == 2 and problem.message.startswith("not valid TOML")


def test_json_keys_written_twice_are_reported(tmp_path):
    path = tmp_path / "job.json"
    text = json.dumps(valid_job(), indent=2).replace('"JobType": "Advanced"',
                                                     '"JobType": "Advanced",\n  "JobType": "Default"')
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    (problem,) = caught.value.problems  # the Default job that results is valid
    assert problem.key == "JobType" and "written twice" in problem.message
    assert text.splitlines()[problem.line - 1].strip() == '"JobType": "Default",'


@pytest.mark.parametrize("name, content, message", [
    ("job.yaml", "JobName: x", "expected a job file ending in .json"),
    ("missing.json", None, "no such job file"),
    ("list.json", "[]", "expected an object with the members of a CreateInferenceRecommendationsJob request"),
    ("empty.toml", "", "JobName: required key is missing"),
])
def test_bad_job_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    assert message in str(caught.value)


def test_model_paths_are_relative_to_the_job_file(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mine.toml").write_text((PROFILES["xgboost-tabular"]).read_text()
                                                     .replace('name = "xgboost-tabular"', 'name = "mine"'))
    doc = valid_job()
    doc["simfleet"] = {"model": "mine", "model_paths": ["profiles"]}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(doc))
    assert load_job_file(path).model_path == tmp_path / "profiles" / "mine.toml"
    doc["simfleet"]["model_paths"] = ["nowhere"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as caught:
        load_job_file(path)
    assert {p.key for p in caught.value.problems} == {"simfleet.model_paths[0]", "simfleet.model"}


def test_json_key_lines():
    text = '{\n "a": [\n  {"b": 1},\n  2\n ],\n "c": {"d": "x\\"}"},\n "c": 3\n}'
    lines, repeated = json_key_lines(text)
    assert lines[("a",)] == 2 and lines[("a", 0)] == 3 and lines[("a", 0, "b")] == 3 and lines[("a", 1)] == 4
    assert lines[("c",)] == 7 and lines[("c", "d")] == 6
    assert repeated == [(("c",), 7)]


def _jsonmember_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _jsonmember_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix + (index,)
            yield from _jsonmember_paths(value, prefix + (index,))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=200)
@given(document=JSON_VALUES, indent=st.sampled_from([None, 0, 2]))
def test_json_key_lines_finds_every_key(document, indent):
    text = json.dumps(document, indent=indent)
    lines, repeated = json_key_lines(text)
    assert set(lines) == set(_jsonmember_paths(document)) and repeated == []
    if indent is not None:  # one member per line: each key is on the line json.dumps put it
        for path, line in lines.items():
            if isinstance(path[-1], str):
                assert text.splitlines()[line - 1].lstrip().startswith(json.dumps(path[-1]) + ":")


# --- the traffic schedule ---------------------------------------------------------------------------

@st.composite
def phase_patterns(draw) -> TrafficPattern:
    """Valid PHASES patterns: documented ranges, any duration of at least 1 s, continuity kept."""
    phases: list[dict] = []
    for _ in range(draw(st.integers(1, 5))):
        if phases:
            previous = phases[-1]
            end = phase_end_users(*(previous[k] for k in ("InitialNumberOfUsers", "SpawnRate", "DurationInSeconds")))
            choices = [u for u in (1, 2, 3) if abs(u - end) <= 3]
            if not choices:
                break
            initial = draw(st.sampled_from(choices))
        else:
            initial = draw(st.integers(1, 3))
        duration = draw(st.one_of(st.integers(1, 200), st.integers(1, 3600)))
        phases.append({"InitialNumberOfUsers": initial, "SpawnRate": draw(st.integers(0, 3)),
                       "DurationInSeconds": duration})
    return TrafficPattern.model_validate({"TrafficType": "PHASES", "Phases": phases})


stairs_patterns = st.builds(
    lambda d, n, u: TrafficPattern.model_validate(
        {"TrafficType": "STAIRS", "Stairs": {"DurationInSeconds": d, "NumberOfSteps": n, "UsersPerStep": u}}),
    st.integers(1, 3600), st.integers(1, 200), st.integers(1, 3))


def _check_change_points(pattern: TrafficPattern, data) -> None:
    points = pattern.change_points()
    times = [t for t, _ in points]
    assert times == sorted(set(times)) and times[0] == 0 and points[-1] == (pattern.duration_s, 0)
    assert all(a[1] != b[1] for a, b in zip(points, points[1:]))
    for (t, users), (t_next, _) in zip(points, points[1:]):
        assert pattern.users_at(t) == users
        inside = data.draw(st.floats(t, t_next, exclude_max=True), label="instant between change points")
        assert pattern.users_at(inside) == users
    assert pattern.users_at(pattern.duration_s) == 0 and pattern.users_at(-0.001) == 0


@settings(max_examples=300)
@given(pattern=phase_patterns(), data=st.data())
def test_phases_schedule_properties(pattern, data):
    start = 0
    for phase in pattern.Phases:
        end = start + phase.DurationInSeconds
        assert pattern.users_at(start) == phase.InitialNumberOfUsers
        instants = sorted(data.draw(st.lists(st.floats(start, end, exclude_max=True), min_size=2, max_size=20),
                                    label="instants in a phase"))
        counts = [pattern.users_at(t) for t in instants]
        assert counts == sorted(counts), "users never decrease within a phase"
        assert max(counts) <= phase.end_users
        for minute in range(1, -(-phase.DurationInSeconds // 60)):  # whole minutes strictly inside the phase
            assert pattern.users_at(start + 60 * minute) == phase.InitialNumberOfUsers + phase.SpawnRate * minute
        start = end
    assert pattern.duration_s == start
    _check_change_points(pattern, data)


@settings(max_examples=200)
@given(pattern=stairs_patterns, data=st.data())
def test_stairs_schedule_properties(pattern, data):
    stairs = pattern.Stairs
    assert pattern.duration_s == stairs.DurationInSeconds
    step_s = stairs.DurationInSeconds / stairs.NumberOfSteps
    k = data.draw(st.integers(0, stairs.NumberOfSteps - 1), label="step")
    assert pattern.users_at(k * step_s) == (k + 1) * stairs.UsersPerStep
    instants = sorted(data.draw(st.lists(st.floats(0, stairs.DurationInSeconds, exclude_max=True), min_size=2)))
    counts = [pattern.users_at(t) for t in instants]
    assert counts == sorted(counts)
    assert max(counts) <= stairs.NumberOfSteps * stairs.UsersPerStep
    _check_change_points(pattern, data)


# --- agreement with botocore's service model ---------------------------------------------------------

def _service():
    return service_model("sagemaker")


def _input_shape():
    return _service().operation_model("CreateInferenceRecommendationsJob").input_shape


def _structures(cls, shape, path=()):
    """(model class, botocore structure shape, path) for the request and every structure inside it."""
    yield cls, shape, path
    for name, member in shape.members.items():
        target = member.member if member.type_name == "list" else member
        if target.type_name == "structure":
            sub = _spec_in(cls.model_fields[name].annotation)
            assert sub is not None, f"{'.'.join(path + (name,))} should be a model for {target.name}"
            yield from _structures(sub, target, path + (name,))


def test_member_names_and_required_members_match_botocore():
    seen = 0
    for cls, shape, path in _structures(CreateInferenceRecommendationsJob, _input_shape()):
        where = ".".join(path) or "request"
        assert list(cls.model_fields) == list(shape.members), where
        ours = {name for name, field in cls.model_fields.items() if field.is_required()}
        assert set(shape.required_members) <= ours, where
        if path:
            assert cls.__name__ == shape.name, where
        for name, member in shape.members.items():
            target = member.member if member.type_name == "list" else member
            if target.type_name != "structure":
                assert _spec_in(cls.model_fields[name].annotation) is None, f"{where}.{name}"
        seen += 1
    assert seen == 19


def _int_bounds(annotation) -> tuple[int | None, int | None]:
    low = high = None
    stack = [annotation]
    while stack:
        tp = stack.pop()
        if get_origin(tp) is Annotated:
            base, *metadata = get_args(tp)
            stack.append(base)
            for item in metadata:
                for bound in (item.metadata if isinstance(item, FieldInfo) else [item]):
                    if isinstance(bound, annotated_types.Ge):
                        low = bound.ge
                    elif isinstance(bound, annotated_types.Le):
                        high = bound.le
        else:
            stack.extend(get_args(tp))
    return low, high


def _scalar_members():
    for cls, shape, path in _structures(CreateInferenceRecommendationsJob, _input_shape()):
        for name, member in shape.members.items():
            if member.type_name in ("integer", "string"):
                yield cls, name, member, ".".join(path + (name,))


def test_scalar_constraints_are_at_least_botocores():
    probe = {_DEFER: True}
    for cls, name, member, where in _scalar_members():
        adapter = _adapter(cls, name)
        low, high = member.metadata.get("min"), member.metadata.get("max")
        if member.type_name == "integer":
            field = cls.model_fields[name]
            ours_low, ours_high = _int_bounds(Annotated[field.annotation, field])
            assert low is None or (ours_low is not None and ours_low >= low), where
            assert high is None or (ours_high is not None and ours_high <= high), where
            with pytest.raises(ValidationError):
                adapter.validate_python("1", context=probe)
            continue
        if high is not None:
            with pytest.raises(ValidationError):
                adapter.validate_python("a" * (high + 1), context=probe)
        if low:
            with pytest.raises(ValidationError):
                adapter.validate_python("a" * (low - 1), context=probe)
        for value in member.enum:
            adapter.validate_python(value, context=probe)  # every enumerated value passes the field itself
        if member.enum:
            with pytest.raises(ValidationError):
                adapter.validate_python("x" + member.enum[0], context=probe)


def test_enumerations_match_botocore():
    service = _service()
    assert job_request.JOB_TYPES == tuple(service.shape_for("RecommendationJobType").enum)
    assert traffic_pattern.TRAFFIC_TYPES == tuple(service.shape_for("TrafficType").enum)
    enum = set(service.shape_for("ProductionVariantInstanceType").enum)
    assert set(load_catalog()) <= enum, "the catalog check stands in for the enumeration"
    assert {t for t in enum if t.startswith("ml.t2.")} == {"ml.t2.medium", "ml.t2.large", "ml.t2.xlarge",
                                                           "ml.t2.2xlarge"}


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 40_000), st.floats(allow_nan=True, allow_infinity=True),
                 st.text(max_size=4), st.lists(st.integers(0, 3), max_size=2),
                 st.dictionaries(st.sampled_from(["InstanceType", "Percentile", "x"]), st.integers(0, 3), max_size=2))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_botocore_rejections_are_rejected_here(data):
    request = aws_request()
    mutate(data, request, ["Extra", "JobName", "SpawnRate", "InstanceType"], JUNK)
    rejected = ParamValidator().validate(request, _input_shape()).has_errors()
    event(f"botocore {'rejects' if rejected else 'accepts'}")
    if rejected:
        with pytest.raises(InputError):
            load_job(request, "job.json", model="xgboost-tabular")


def test_public_api():
    """The package lists every module it has, and each module exports only what it defines."""
    import importlib
    import pkgutil

    import simfleet.recommender as package
    names = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert set(package.__all__) == names
    for name in names:
        module = importlib.import_module(f"simfleet.recommender.{name}")
        assert set(module.__all__) <= set(dir(module)), name
    assert {"load_job", "load_job_file", "RecommendationJob", "SimfleetSettings"} <= set(job_file.__all__)


def test_every_instance_type_must_run_the_model():
    """The profile needs a service entry for each instance type named, and its workers must fit."""
    doc = valid_job()
    doc["InputConfig"]["EndpointConfigurations"] = [{"InstanceType": "ml.c5.xlarge"}, {"InstanceType": "ml.g5.xlarge"}]
    doc["InputConfig"]["ContainerConfig"] = {"SupportedInstanceTypes": ["ml.m5.large", "ml.p3.2xlarge"]}
    problems = _problems(doc)
    assert {p.key: p.message for p in problems} == {
        "InputConfig.EndpointConfigurations[1].InstanceType":
            "model 'xgboost-tabular' has no service entry for ml.g5.xlarge (it has: c5, c6i, m5, r5)",
        "InputConfig.ContainerConfig.SupportedInstanceTypes[1]":
            "model 'xgboost-tabular' has no service entry for ml.p3.2xlarge (it has: c5, c6i, m5, r5)"}
    # workers that do not fit: 4 workers × 0.25 GiB on an ml.c5.xlarge given 0.5 GiB of memory
    catalog = load_catalog()
    small = dataclasses.replace(catalog["ml.c5.xlarge"], memory_bytes=2**29)
    shrunk = Catalog({**dict(catalog.items()), "ml.c5.xlarge": small}, {})
    doc = valid_job()
    doc["InputConfig"]["EndpointConfigurations"] = [{"InstanceType": "ml.c5.xlarge"}]
    problems = _problems(doc, catalog=shrunk)
    assert [(p.key, p.message) for p in problems] == [
        ("InputConfig.EndpointConfigurations[0].InstanceType",
         "4 workers of 'xgboost-tabular' need 1.0 GiB of memory; ml.c5.xlarge has 0.5 GiB (lower `workers`)")]
