"""The AWS request shapes as simfleet reads them: which members of `CreateEndpointConfig`,
`ProductionVariant`, `CreateModel` and `ContainerDefinition` are translated, which are accepted and
ignored, which are refused (and why), and the naming rule between AWS's PascalCase members and
simfleet's snake_case keys. `tests/test_aws_request_files.py` checks that every member of botocore's
SageMaker service model has its decision here.
"""

from __future__ import annotations

import re

__all__ = ["CONFIG", "CONFIG_IGNORED", "CONFIG_KEYS", "CONFIG_REFUSED", "CONTAINER_IGNORED", "CONTAINER_KEYS",
           "MODEL", "MODEL_IGNORED", "MODEL_KEYS", "VARIANT_IGNORED", "VARIANT_KEYS", "VARIANT_REFUSED",
           "IGNORED_TYPES", "ignored_type_problem",
           "WORKERS_VARIABLE", "pascal", "snake"]

CONFIG = "CreateEndpointConfig"
MODEL = "CreateModel"

CONFIG_KEYS = {"EndpointConfigName", "ProductionVariants", "MetricsConfig"}
CONFIG_IGNORED = {"Tags", "KmsKeyId", "DataCaptureConfig", "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation",
                   "TracingConfig", "CrossRegionTrafficConfig"}
CONFIG_REFUSED = {
    "AsyncInferenceConfig": "simfleet simulates real-time endpoints; asynchronous inference is not simulated",
    "ShadowProductionVariants": "shadow variants are not simulated",
    "ExplainerConfig": "SageMaker Clarify explainers are not simulated",
}
VARIANT_KEYS = {"VariantName", "ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight",
                 "ServerlessConfig", "ManagedInstanceScaling", "RoutingConfig"}
VARIANT_IGNORED = {"VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds",
                    "EnableSSMAccess", "InferenceAmiVersion", "CoreDumpConfig", "VariantInstanceProvisionTimeoutInSeconds"}
VARIANT_REFUSED = {
    "AcceleratorType": "Elastic Inference accelerators are not simulated",
    "InstancePools": "instance pools are not simulated; give one InstanceType",
    "CapacityReservationConfig": "capacity reservations are not simulated",
    "AcceleratorPartitionLayouts": "accelerator partitions are not simulated",
}
MODEL_KEYS = {"ModelName", "PrimaryContainer", "Containers", "InferenceExecutionConfig"}
MODEL_IGNORED = {"ExecutionRoleArn", "Tags", "VpcConfig", "EnableNetworkIsolation"}
CONTAINER_KEYS = {"ContainerHostname", "Mode"}
CONTAINER_IGNORED = {"Image", "ImageConfig", "ModelDataUrl", "ModelDataSource", "AdditionalModelDataSources",
                      "Environment", "ModelPackageName", "InferenceSpecificationName", "ContainerMetricsConfig",
                      "MultiModelConfig"}

#: The environment variable of a container that sets its model server's workers (SageMaker inference toolkit).
WORKERS_VARIABLE = "SAGEMAKER_MODEL_SERVER_WORKERS"

#: Words AWS writes in capitals inside member names (`MemorySizeInMB`, `VolumeSizeInGB`, `EnableSSMAccess`).
_ACRONYMS = {"mb": "MB", "gb": "GB", "ssm": "SSM"}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """`MemorySizeInMB` → `memory_size_in_mb`: AWS's member name as simfleet's key."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def pascal(name) -> str:
    """`memory_size_in_mb` → `MemorySizeInMB`: a snake_case key that is not in `origins` (a missing
    member) in a JSON key path."""
    if not isinstance(name, str):
        return name
    return "".join(_ACRONYMS.get(part, part[:1].upper() + part[1:]) for part in name.split("_"))


#: The JSON type of each ignored member (botocore's SageMaker service model): its value changes nothing
#: simfleet simulates, but a value of another type is a request AWS refuses, so simfleet refuses it too.
IGNORED_TYPES = {
    **dict.fromkeys(("KmsKeyId", "ExecutionRoleArn", "InferenceAmiVersion", "Image", "ModelDataUrl",
                     "ModelPackageName", "InferenceSpecificationName"), (str, "a string")),
    **dict.fromkeys(("DataCaptureConfig", "VpcConfig", "CoreDumpConfig", "ImageConfig", "ModelDataSource",
                     "MultiModelConfig"), (dict, "an object")),
    **dict.fromkeys(("EnableNetworkIsolation", "EnableSSMAccess"), (bool, "true or false")),
    **dict.fromkeys(("VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds", "ContainerStartupHealthCheckTimeoutInSeconds",
                     "VariantInstanceProvisionTimeoutInSeconds"), (int, "a whole number")),
    "AdditionalModelDataSources": (list, "a list"),
}


def ignored_type_problem(name: str, value) -> str | None:
    """Why the value of the ignored member `name` is not what AWS accepts there, if it is not."""
    if name == "Tags":
        if not (isinstance(value, list) and all(isinstance(tag, dict) and isinstance(tag.get("Key"), str)
                                                and isinstance(tag.get("Value", ""), str) for tag in value)):
            return 'expected a list of {"Key": string, "Value": string} tags'
        return None
    if name == "Environment":
        if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            return "expected an object of string values (environment variables)"
        return None
    kind, what = IGNORED_TYPES.get(name, (object, ""))
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return f"expected {what} (simfleet ignores this member, but AWS refuses a value of another type)"
    return None
