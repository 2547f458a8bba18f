"""The `CreateInferenceRecommendationsJob` request, as the very JSON a user sends to SageMaker.

First stage of `simfleet recommend`: PascalCase members and every constraint of botocore's
`sagemaker` 2017-07-24 model (`CreateInferenceRecommendationsJobRequest` and the shapes it
references: required members, lengths, patterns, enumerations, minimums), plus the facts the
documentation adds (reference/sagemaker-semantics.md §7: ranges of the load-test guide
[IRLOAD], the rules and messages of the troubleshooting page [IRTS], the values the API
reference lists for `ContainerConfig`). Where AWS is silent the docstrings say "Decision".
The traffic pattern and the endpoint configurations have their own modules (`traffic_pattern`,
`endpoint_configurations`). Nothing here does I/O or simulates: `job_file.load_job` validates a
whole job and reports every problem at once.
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from simfleet.schema.aws_fields import (integer as _int, list_of as _list, one_of as _one_of, optional as _optional,
                                        text as _text)
from simfleet.recommender.api_fields import _rule, _SIMFLEET, _Spec
from simfleet.recommender.endpoint_configurations import EndpointInputConfiguration, instance_type_problems
from simfleet.recommender.traffic_pattern import CUSTOM_LOAD_TEST_DURATION_S, TrafficPattern

__all__ = [
    "CreateInferenceRecommendationsJob", "RecommendationJobInputConfig", "RecommendationJobResourceLimit",
    "RecommendationJobContainerConfig", "RecommendationJobPayloadConfig", "EndpointInfo",
    "RecommendationJobVpcConfig", "RecommendationJobStoppingConditions", "ModelLatencyThreshold",
    "RecommendationJobOutputConfig", "RecommendationJobCompiledOutputConfig", "Tag", "JOB_TYPES", "PERCENTILES",
    "MAX_JOB_DURATION_S", "DOMAINS", "TASKS", "FRAMEWORKS", "NEAREST_MODEL_NAMES",
]

JOB_TYPES = ("Default", "Advanced")
#: `ModelLatencyThreshold.Percentile`: "Acceptable values are P95 and P99" [BOTO-SM].
PERCENTILES = ("P95", "P99")
#: `JobDurationInSeconds`: "The maximum value is 18,000 seconds" [BOTO-SM].
MAX_JOB_DURATION_S = 18_000
#: Valid values the API reference lists for `RecommendationJobContainerConfig` (botocore: String).
#: Decision: OTHER is also accepted for Domain and Framework, as the troubleshooting page advises
#: "provide the ML Domain or OTHER if unknown" (and the same for Framework) [IRTS].
DOMAINS = ("COMPUTER_VISION", "NATURAL_LANGUAGE_PROCESSING", "MACHINE_LEARNING", "OTHER")
TASKS = ("IMAGE_CLASSIFICATION", "OBJECT_DETECTION", "TEXT_GENERATION", "IMAGE_SEGMENTATION", "FILL_MASK",
         "CLASSIFICATION", "REGRESSION", "OTHER")
FRAMEWORKS = ("TENSORFLOW", "PYTORCH", "XGBOOST", "SAGEMAKER-SCIKIT-LEARN", "OTHER")
NEAREST_MODEL_NAMES = ("efficientnetb7", "unet", "xgboost", "faster-rcnn-resnet101", "nasnetlarge", "vgg16",
                       "inception-v3", "mask-rcnn", "sagemaker-scikit-learn", "densenet201-gluon",
                       "resnet18v2-gluon", "xception", "densenet201", "yolov4", "resnet152", "bert-base-cased",
                       "xceptionV1-keras", "resnet50", "retinanet")

# --- member types (botocore shape names in comments) -----------------------------------------

_JobName = _text(1, 64, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}",  # RecommendationJobName
                 "letters, digits and inner hyphens, starting and ending with a letter or digit")
_RoleArn = _text(20, 2048, r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
                 "an IAM role ARN like 'arn:aws:iam::123456789012:role/MyRole'")
_ModelPackageArn = _text(1, 2048, r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/[\S]{1,2048}",
                         "a model package ARN like 'arn:aws:sagemaker:us-east-1:123456789012:model-package/name/1'")
_ModelName = _text(0, 63, r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?",
                   "letters, digits and inner hyphens, starting and ending with a letter or digit")
_EndpointName = _text(0, 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "letters, digits and inner hyphens")
_KmsKeyId = _text(0, 2048, r"[a-zA-Z0-9:/_-]*", "a KMS key id, key ARN, alias or alias ARN")
_S3Uri = _text(0, 1024, r"(https|s3)://([^/]+)/?(.*)", "an 's3://bucket/key' or 'https://' URI")
_String = _text(0)
_VpcId = _text(0, 32, r"[-0-9a-zA-Z]+", "letters, digits and hyphens")  # RecommendationJobVpc*Id
_FrameworkVersion = _text(3, 10, r"[0-9]\.[A-Za-z0-9.-]+", "a version like '1.5.1'")
_EndpointType = _one_of(("RealTime", "Serverless"))  # RecommendationJobSupportedEndpointType
_DataInputConfig = _text(1, 1024, r"[\S\s]+")
_MimeType = _text(0, 1024, r"[-\w]+\/.+", "a MIME type like 'text/csv'")  # RecommendationJobSupportedResponseMIMEType
_FlatInvocations = _one_of(("Continue", "Stop"))
_OptionalTrafficPattern = _optional(TrafficPattern)  # a member named like its type needs an alias


def _payload_archive(url: str) -> str:
    if not url.endswith(".tar.gz"):
        raise ValueError(f"SamplePayloadUrl must point to a single gzip compressed tar archive (.tar.gz suffix), "
                         f"got {url!r}")
    return url


def _tag_text(min_len: int, max_len: int):
    """`TagKey` / `TagValue`: `([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)` (Unicode letters, separators, numbers)."""
    def check(value: str) -> str:
        bad = [c for c in value if unicodedata.category(c)[0] not in "LZN" and c not in "_.:/=+-@"]
        if bad:
            raise ValueError(f"expected letters, digits, spaces and _ . : / = + - @, got {bad[0]!r} in {value!r}")
        return value
    return Annotated[_text(min_len, max_len), AfterValidator(check)]


# --- InputConfig -----------------------------------------------------------------------------

class RecommendationJobResourceLimit(_Spec):
    """MaxNumberOfTests and MaxParallelOfTests: "a minimum of 1 and a maximum of 10" [IRLOAD]."""

    MaxNumberOfTests: _optional(_int(1, 10)) = None
    MaxParallelOfTests: _optional(_int(1, 10)) = None


class RecommendationJobPayloadConfig(_Spec):
    SamplePayloadUrl: _optional(Annotated[_S3Uri, AfterValidator(_payload_archive)]) = None
    SupportedContentTypes: _optional(_list(_text(0, 256))) = None


class RecommendationJobContainerConfig(_Spec):
    """Overrides what AWS reads from the model package; simfleet reads the model profile instead
    (`job_file`). Domain, Task, Framework and NearestModelName take the values the API reference
    lists. Decision: SupportedInstanceTypes must be in the catalog when one is given (a Default
    job picks its candidates among them)."""

    Domain: _optional(_one_of(DOMAINS)) = None
    Task: _optional(_one_of(TASKS)) = None
    Framework: _optional(_one_of(FRAMEWORKS)) = None
    FrameworkVersion: _optional(_FrameworkVersion) = None
    PayloadConfig: _optional(RecommendationJobPayloadConfig) = None
    NearestModelName: _optional(_one_of(NEAREST_MODEL_NAMES)) = None
    SupportedInstanceTypes: _optional(_list(_String)) = None
    SupportedEndpointType: _optional(_EndpointType) = None
    DataInputConfig: _optional(_DataInputConfig) = None
    SupportedResponseMIMETypes: _optional(_list(_MimeType)) = None

    @_rule("SupportedInstanceTypes")
    def _supported_instance_types(self, context):
        return [(("SupportedInstanceTypes", i), message) for i, name in enumerate(self.SupportedInstanceTypes or ())
                for message in instance_type_problems(name, context)]


class EndpointInfo(_Spec):
    EndpointName: _optional(_EndpointName) = None


class RecommendationJobVpcConfig(_Spec):
    SecurityGroupIds: _list(_VpcId, min_len=1, max_len=5)
    Subnets: _list(_VpcId, min_len=1, max_len=16)


class RecommendationJobInputConfig(_Spec):
    """Exactly one of ModelPackageVersionArn and ModelName. JobDurationInSeconds is at most 18,000
    [BOTO-SM], and the total traffic duration may not exceed it [IRTS]. Decision: Endpoints
    (benchmarking an existing endpoint) is refused by simfleet, which has no existing endpoints;
    VolumeKmsKeyId and VpcConfig are validated and have no effect on the simulation."""

    ModelPackageVersionArn: _optional(_ModelPackageArn) = None
    ModelName: _optional(_ModelName) = None
    JobDurationInSeconds: _optional(_int(1, MAX_JOB_DURATION_S)) = None
    TrafficPattern: _OptionalTrafficPattern = None
    ResourceLimit: _optional(RecommendationJobResourceLimit) = None
    EndpointConfigurations: _optional(_list(EndpointInputConfiguration, min_len=1, max_len=10)) = None
    VolumeKmsKeyId: _optional(_KmsKeyId) = None
    ContainerConfig: _optional(RecommendationJobContainerConfig) = None
    Endpoints: _optional(_list(EndpointInfo, max_len=1)) = None
    VpcConfig: _optional(RecommendationJobVpcConfig) = None

    @_rule("ModelPackageVersionArn", "ModelName")
    def _one_model(self, context):
        if self.ModelPackageVersionArn is None and self.ModelName is None:
            return [(("ModelPackageVersionArn",), "give ModelPackageVersionArn or ModelName")]
        if self.ModelPackageVersionArn is not None and self.ModelName is not None:
            return [(("ModelName",), "give ModelPackageVersionArn or ModelName, not both")]
        return []

    @_rule("JobDurationInSeconds", "TrafficPattern")
    def _traffic_within_job_duration(self, context):
        pattern = self.TrafficPattern
        if self.JobDurationInSeconds is None or pattern is None or not pattern.is_complete:
            return []
        if pattern.duration_s <= self.JobDurationInSeconds:
            return []
        return [(("TrafficPattern",), f"Total Traffic duration ({pattern.duration_s:g} s across "
                 f"{'Phases' if pattern.TrafficType == 'PHASES' else 'Stairs'}) should not be more than Job "
                 f"duration (JobDurationInSeconds {self.JobDurationInSeconds})")]

    @_rule("Endpoints")
    def _no_existing_endpoints(self, context):
        if self.Endpoints and context.get(_SIMFLEET):
            return [(("Endpoints",), "benchmarking an existing endpoint is not simulated; list the instance types to "
                     "test in EndpointConfigurations")]
        return []


# --- StoppingConditions, OutputConfig, Tags --------------------------------------------------

class ModelLatencyThreshold(_Spec):
    """Decision: both members are required (botocore marks neither; a threshold without them cannot
    stop a test) and ValueInMilliseconds is at least 1 (AWS documents no minimum; 0 or less would
    stop every test at its first response). P95 and P99 are both accepted on every job: the API
    reference says to use P95 for custom load tests, while the console's Advanced job asks for a
    P99 threshold."""

    Percentile: _one_of(PERCENTILES)
    ValueInMilliseconds: _int(ge=1)


class RecommendationJobStoppingConditions(_Spec):
    """MaxInvocations: requests per minute, 1 to 30,000 [IRLOAD]; exactly one latency threshold
    [BOTO-SM]; FlatInvocations defaults to Stop (documented)."""

    MaxInvocations: _optional(_int(1, 30_000)) = None
    ModelLatencyThresholds: _optional(_list(ModelLatencyThreshold, min_len=1, max_len=1)) = None
    FlatInvocations: _FlatInvocations = "Stop"


class RecommendationJobCompiledOutputConfig(_Spec):
    S3OutputUri: _optional(_S3Uri) = None


class RecommendationJobOutputConfig(_Spec):
    KmsKeyId: _optional(_KmsKeyId) = None
    CompiledOutputConfig: _optional(RecommendationJobCompiledOutputConfig) = None


class Tag(_Spec):
    Key: _tag_text(1, 128)
    Value: _tag_text(0, 256)


# --- the request -----------------------------------------------------------------------------

class CreateInferenceRecommendationsJob(_Spec):
    """The request. Advanced jobs (load tests) need a TrafficPattern and StoppingConditions ("Load
    tests require that you also specify a traffic pattern and stopping conditions" [IRLOAD]) and
    EndpointConfigurations (the instances to test), and their phases and stairs last 120 to 3600 s
    ("for custom load tests"). Tag keys must be unique [BOTO-SM]. OutputConfig is validated and has
    no effect on the simulation."""

    JobName: _JobName
    JobType: _one_of(JOB_TYPES)
    RoleArn: _RoleArn
    InputConfig: RecommendationJobInputConfig
    JobDescription: _optional(_text(0, 128)) = None
    StoppingConditions: _optional(RecommendationJobStoppingConditions) = None
    OutputConfig: _optional(RecommendationJobOutputConfig) = None
    Tags: _optional(_list(Tag, max_len=50)) = None

    @property
    def is_load_test(self) -> bool:
        return self.JobType == "Advanced"

    @_rule("Tags")
    def _unique_tag_keys(self, context):
        found, seen = [], {}
        for i, tag in enumerate(self.Tags or ()):
            if tag.Key in seen:
                found.append((("Tags", i, "Key"), f"tag key {tag.Key!r} is used twice (also Tags[{seen[tag.Key]}]); "
                              "tag keys must be unique"))
            seen.setdefault(tag.Key, i)
        return found

    @_rule("JobType", "StoppingConditions")
    def _load_test_stops(self, context):
        if self.is_load_test and self.StoppingConditions is None:
            return [(("StoppingConditions",), "required for JobType Advanced (a load test)")]
        return []

    @_rule("JobType", "InputConfig")
    def _load_test_input(self, context):
        if not self.is_load_test:
            return []
        found = []
        config = self.InputConfig
        for name in ("TrafficPattern", "EndpointConfigurations"):
            if getattr(config, name) is None:
                found.append((("InputConfig", name), "required for JobType Advanced (a load test)"))
        low, high = CUSTOM_LOAD_TEST_DURATION_S
        pattern = config.TrafficPattern
        durations = []
        if pattern is not None:
            durations = [(("Phases", i), phase.DurationInSeconds) for i, phase in enumerate(pattern.Phases or ())]
            if pattern.Stairs is not None:
                durations.append((("Stairs",), pattern.Stairs.DurationInSeconds))
        for where, seconds in durations:
            if not low <= seconds <= high:
                found.append((("InputConfig", "TrafficPattern") + where + ("DurationInSeconds",),
                              f"for custom load tests (JobType Advanced) the value should be between {low} and {high}, "
                              f"got {seconds}"))
        return found
