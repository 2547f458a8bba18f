"""An endpoint given as the AWS requests a user already has: `CreateEndpointConfig` (+ `CreateModel`) JSON.

Scenario assembly, before schema validation: `simfleet.scenario.scenario_from_dict` hands the
parsed experiment here, and each `[[endpoints]]` entry with `endpoint_config_file` (and optionally
`model_files`) is replaced by the snake_case entry the TOML would have held, so that the experiment
schema, the name checks and everything downstream are the same as for a hand-written experiment.
`origins` records where each translated key came from, and `relocate` puts every problem found in
a translated key back on the JSON file, key path (`ProductionVariants[0].InstanceType`) and line.

Both shapes users have are read: the boto3 request dict saved as JSON and the AWS CLI's
`--cli-input-json` file (`generate-cli-skeleton`), which have the same PascalCase keys.

CreateModel has no latency data, so each AWS `ModelName` is mapped to a simfleet model profile in
the experiment's top-level `[model_profiles]` table: a profile name for a model of one container
(or an endpoint config without `model_files`), a list of profile names, one per container in
order, for `Containers` of two or more (a pipeline, or `InferenceExecutionConfig.Mode = "Direct"`).

What simfleet does with each member (botocore's SageMaker service model lists them all):

* translated: `ProductionVariants[]` (`VariantName`, `ModelName`, `InstanceType`,
  `InitialInstanceCount`, `InitialVariantWeight`, `ServerlessConfig`, `ManagedInstanceScaling`,
  `RoutingConfig`), `MetricsConfig`; CreateModel's `PrimaryContainer` / `Containers[]`
  (`ContainerHostname`, `Mode`, and `Environment.SAGEMAKER_MODEL_SERVER_WORKERS` as the container's
  `workers`) and `InferenceExecutionConfig`.
* accepted and ignored, as they change nothing simfleet simulates: `EndpointConfigName`, `Tags`,
  `KmsKeyId`, `DataCaptureConfig`, `ExecutionRoleArn`, `VpcConfig`, `EnableNetworkIsolation`,
  `TracingConfig`, `CrossRegionTrafficConfig`; a variant's `VolumeSizeInGB`,
  `ModelDataDownloadTimeoutInSeconds`, `ContainerStartupHealthCheckTimeoutInSeconds`,
  `EnableSSMAccess`, `InferenceAmiVersion`, `CoreDumpConfig`,
  `VariantInstanceProvisionTimeoutInSeconds`; a container's `Image`, `ImageConfig`,
  `ModelDataUrl`, `ModelDataSource`, `AdditionalModelDataSources`, the rest of `Environment`,
  `ModelPackageName`, `InferenceSpecificationName`, `ContainerMetricsConfig`, `MultiModelConfig`.
* refused, as simfleet would simulate something else than the request asks for:
  `AsyncInferenceConfig`, `ShadowProductionVariants`, `ExplainerConfig`; a variant's
  `AcceleratorType`, `InstancePools`, `CapacityReservationConfig`, `AcceleratorPartitionLayouts`;
  `Mode = "MultiModel"` (a multi-model endpoint needs a `model_population`, which only the TOML
  form gives).

The package, in the order data flows: `shapes` (the members and naming of each request shape),
`reading` (request files read and checked against their shape), `translation` (a request as the
experiment's endpoint entry), `expansion` (the experiment's entries replaced), `origins` (where each
translated key came from, problems put back there), `standalone` (`simfleet validate` of a file alone).
"""

from __future__ import annotations

from simfleet.aws_requests.expansion import Expansion, expand_request_files
from simfleet.aws_requests.origins import Origin, relocate
from simfleet.aws_requests.shapes import pascal, snake
from simfleet.aws_requests.standalone import check_endpoint_config_file, check_model_file
from simfleet.aws_requests.translation import translate_endpoint_config

__all__ = [
    "Expansion",
    "Origin",
    "check_endpoint_config_file",
    "check_model_file",
    "expand_request_files",
    "pascal",
    "relocate",
    "snake",
    "translate_endpoint_config",
]
