"""The endpoint configurations an Inference Recommender job load tests: instance types or serverless.

`InputConfig.EndpointConfigurations` of the `CreateInferenceRecommendationsJob` request
(`job_request`): one load test each [IRLOAD], with botocore's constraints [BOTO-SM], AWS's
refusal of burstable t2 types [IRTS], and, under `job_file.load_job`, the checks against
simfleet's instance catalog and what it can simulate.
"""

import difflib

from simfleet.catalog import INSTANCE_TYPE_PATTERN
from simfleet.recommender.api_fields import _CATALOG, _rule, _Spec
from simfleet.schema.aws_fields import integer as _int, list_of as _list, optional as _optional, text as _text

__all__ = ["EndpointInputConfiguration", "ProductionVariantServerlessConfig", "EnvironmentParameterRanges",
           "CategoricalParameter", "instance_type_problems"]

_NAME63 = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_InstanceType = _text(1, None, INSTANCE_TYPE_PATTERN.strip("^$"), "an instance type like 'ml.c5.xlarge'")
_InferenceSpecificationName = _text(1, 63, _NAME63, "letters, digits and inner hyphens")
_String64 = _text(0, 64)
_String128 = _text(0, 128)


class ProductionVariantServerlessConfig(_Spec):
    """MemorySizeInMB "in 1 GB increments: 1024 MB, 2048 MB, …, 6144 MB"; ProvisionedConcurrency "is
    not supported for serverless endpoint recommendations for Inference Recommender jobs" [BOTO-SM]."""

    MemorySizeInMB: _int(1024, 6144)
    MaxConcurrency: _int(1, 200)
    ProvisionedConcurrency: _optional(_int(1, 200)) = None

    @_rule()
    def _serverless_values(self, context):
        found = []
        if self.MemorySizeInMB % 1024:
            found.append((("MemorySizeInMB",), "valid values are in 1 GB increments: 1024, 2048, 3072, 4096, 5120 "
                          f"or 6144, got {self.MemorySizeInMB}"))
        if self.ProvisionedConcurrency is not None:
            found.append((("ProvisionedConcurrency",), "ProvisionedConcurrency is not supported for serverless "
                          "endpoint recommendations for Inference Recommender jobs; leave it out"))
        return found


class CategoricalParameter(_Spec):
    Name: _String64
    Value: _list(_String128, min_len=1, max_len=3)


class EnvironmentParameterRanges(_Spec):
    CategoricalParameterRanges: _optional(_list(CategoricalParameter, min_len=1, max_len=5)) = None


_OptionalEnvironmentParameterRanges = _optional(EnvironmentParameterRanges)


class EndpointInputConfiguration(_Spec):
    """One load test: InstanceType or ServerlessConfig, not both [IRLOAD]. Burstable ml.t2 types are
    refused with AWS's message [IRTS]. Decision: InstanceType is checked for the `ml.<family>.<size>`
    shape here, and against simfleet's instance catalog when one is given (`job_file.load_job`),
    which stands in for botocore's `ProductionVariantInstanceType` enumeration. A ServerlessConfig
    is load tested on a serverless variant (`serverless_tests`); `job_file.load_job` checks that the
    model runs on it."""

    InstanceType: _optional(_InstanceType) = None
    ServerlessConfig: _optional(ProductionVariantServerlessConfig) = None
    InferenceSpecificationName: _optional(_InferenceSpecificationName) = None
    EnvironmentParameterRanges: _OptionalEnvironmentParameterRanges = None

    @_rule("InstanceType", "ServerlessConfig")
    def _one_kind_of_endpoint(self, context):
        if self.InstanceType is None and self.ServerlessConfig is None:
            return [((), "give InstanceType or ServerlessConfig")]
        if self.InstanceType is not None and self.ServerlessConfig is not None:
            return [(("ServerlessConfig",), "give InstanceType or ServerlessConfig, not both")]
        if self.InstanceType is not None:
            return [(("InstanceType",), message) for message in instance_type_problems(self.InstanceType, context)]
        return []


def instance_type_problems(name: str, context) -> list[str]:
    """Why `name` cannot be load tested: AWS refuses burstable t2 types; under `load_job` (validation
    context with a catalog) it must be in simfleet's instance catalog."""
    if name.startswith("ml.t2."):
        return [f"Burstable instance type {name} is not allowed. Inference Recommender doesn't support load testing "
                "on t2 instance family because burstable instances do not provide consistent performance"]
    catalog = context.get(_CATALOG)
    if catalog is not None and name not in catalog:
        close = difflib.get_close_matches(name, list(catalog), n=3, cutoff=0.8)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return [f"{name} is not in simfleet's instance catalog{hint}"]
    return []
