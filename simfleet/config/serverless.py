"""Serverless endpoints in the experiment file: a production variant's `serverless_config`
(`ProductionVariantServerlessConfig`) and the experiment's `[serverless]` section, simfleet's
choices where AWS is silent.

Part of the experiment schema (`simfleet.config.experiment` puts `ServerlessConfig` on a variant
and `ServerlessSettings` on the experiment); `simfleet.serverless_sizing` turns them and a model
profile into service and cold-start times, `simfleet.fleet` into a variant's `ServerlessRuntime`.

Facts and their sources (reference sagemaker-semantics.md §4 and §11.4):

* `MemorySizeInMB` "1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, or 6144 MB", required;
  `MaxConcurrency` 1 to 200, required; `ProvisionedConcurrency` 1 to 200, optional, "less than or
  equal to MaxConcurrency" (API reference, ProductionVariantServerlessConfig; botocore's SageMaker
  service model).
* A serverless variant names no instance type and no instance count: "you provide a
  ServerlessConfig instead of instance type and count" (developer guide, Create an endpoint
  configuration for serverless).
* Not supported with serverless: GPUs, multi-model endpoints, inference pipelines, "multiple
  production variants", among others (developer guide, Serverless Inference, "Feature
  exclusions"). AWS recommends "only one worker in the container".
* "5 GB of ephemeral disk storage" whatever the memory size; container image at most "10 GB";
  request and response payloads at most "4 MB"; `/invocations` must answer within "1 minute"
  (developer guide, Serverless Inference).
* Account concurrency shared by all serverless endpoints of a Region: 1000 in us-east-1, us-east-2,
  us-west-2, ap-southeast-1, ap-southeast-2, ap-northeast-1, eu-central-1 and eu-west-1, 500
  elsewhere (developer guide, 2023); accounts report a default quota of 10 (re:Post,
  "Total concurrency for serverless inference is not 200, only 10", 2024-25).

Where AWS is silent (how long an idle environment stays warm, vCPUs per memory size, how fast a
cold start is, what is billed during one), `ServerlessSettings` holds simfleet's choice, each a
setting whose description says where it comes from or that it is an assumption.
"""

from __future__ import annotations

import re

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from simfleet.schema.distributions import TimeDistribution
from simfleet.schema.quantities import Bandwidth, Duration, Size, StrictModel

__all__ = ["ServerlessConfig", "ServerlessSettings", "MEMORY_SIZES_MB", "MAX_CONCURRENCY",
           "EPHEMERAL_DISK_BYTES", "DEFAULT_MAX_PAYLOAD_SIZE", "DEFAULT_INVOCATION_TIMEOUT_S",
           "DEFAULT_ACCOUNT_MAX_CONCURRENCY", "DEFAULT_RESPONSE_SIZE", "SERVERLESS_ENTRY"]

#: `MemorySizeInMB` values (API reference, ProductionVariantServerlessConfig: "Valid values are in 1 GB
#: increments: 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, or 6144 MB").
MEMORY_SIZES_MB = (1024, 2048, 3072, 4096, 5120, 6144)
#: `MaxConcurrency` and `ProvisionedConcurrency`: 1 to 200 (same page).
MAX_CONCURRENCY = 200
#: "5 GB of ephemeral disk storage" (developer guide, Serverless Inference). In GB of 1024 MB, AWS's
#: convention for serverless memory sizes (1 GB = 1024 MB above).
EPHEMERAL_DISK_BYTES = 5 * 2**30
#: "maximum request and response payload size ... is 4 MB" (developer guide, Serverless Inference); MB
#: read as 2**20 bytes, as simfleet reads InvokeEndpoint's 6 MB (6,291,456 bytes, botocore).
DEFAULT_MAX_PAYLOAD_SIZE = 4 * 2**20
#: `/invocations` timeout "1 minute" (developer guide, Serverless Inference).
DEFAULT_INVOCATION_TIMEOUT_S = 60.0
#: Account concurrency per Region, us-east-1 and seven other Regions (developer guide, 2023).
DEFAULT_ACCOUNT_MAX_CONCURRENCY = 1000
#: Data processed OUT per response: profiles give no response size. ASSUMPTION: 1 KB.
DEFAULT_RESPONSE_SIZE = 1000.0
#: The `instance` key of a model profile's service entry measured on serverless itself.
SERVERLESS_ENTRY = "serverless"

_ALLOWED_MEMORY = ", ".join(str(m) for m in MEMORY_SIZES_MB)


class ServerlessConfig(StrictModel):
    """`ProductionVariantServerlessConfig`, in snake_case: a serverless variant's memory and concurrency."""

    memory_size_in_mb: StrictInt = Field(
        description="MemorySizeInMB: 1024, 2048, 3072, 4096, 5120 or 6144 (required, as in the API); compute "
                    "is proportional to it")
    max_concurrency: StrictInt = Field(
        description="MaxConcurrency: 1 to 200 concurrent invocations of this endpoint (required); more are throttled")
    provisioned_concurrency: StrictInt | None = Field(
        default=None, description="ProvisionedConcurrency: 1 to 200 environments kept warm, at most max_concurrency; "
                                  "requests beyond them spill over to on-demand environments")

    @field_validator("memory_size_in_mb")
    @classmethod
    def _memory(cls, value: int) -> int:
        if value not in MEMORY_SIZES_MB:
            raise ValueError(f"memory_size_in_mb must be one of {_ALLOWED_MEMORY} (MemorySizeInMB, 1 GB steps), "
                             f"got {value}")
        return value

    @field_validator("max_concurrency", "provisioned_concurrency")
    @classmethod
    def _concurrency(cls, value: int | None, info) -> int | None:
        if value is not None and not 1 <= value <= MAX_CONCURRENCY:
            raise ValueError(f"{info.field_name} must be between 1 and {MAX_CONCURRENCY}, got {value}")
        return value

    @model_validator(mode="after")
    def _provisioned_within_max(self):
        if self.provisioned_concurrency is not None and self.provisioned_concurrency > self.max_concurrency:
            raise ValueError(f"provisioned_concurrency ({self.provisioned_concurrency}) must be less than or equal "
                             f"to max_concurrency ({self.max_concurrency}), as AWS requires")
        return self


class ServerlessSettings(StrictModel):
    """`[serverless]`: simfleet's choices for serverless endpoints where AWS is silent, and AWS's limits.

    Every default says its source; "assumption" means none is published. Prices left out use the
    shipped `simfleet/catalog/serverless.toml`; a price given here replaces it for this experiment.
    """

    idle_timeout: Duration = Field(
        default=300.0,
        description="how long an on-demand environment stays warm after its last request before it is "
                    "reaped. AWS does not publish it (reference §4). ASSUMPTION: 5 min, the figure reported "
                    "for AWS Lambda, on which Serverless Inference runs (\"most Lambda containers die after "
                    "~5 minutes of inactivity\", aws/sagemaker-python-sdk issue 3446, 2022); the same issue's "
                    "reporter saw serverless environments torn down after \"a couple of seconds\" idle")
    provisioned_concurrency_delay: Duration = Field(
        default=0.0,
        description="how long Application Auto Scaling takes to provision the environments it adds to a "
                    "variant's provisioned concurrency (sagemaker:variant:DesiredProvisionedConcurrency). AWS says "
                    "provisioned environments are \"ready within milliseconds\" but not how long provisioning "
                    "takes. ASSUMPTION: at once (0 s); a raise takes effect this long after the scaling activity, "
                    "a lowering at once")
    account_max_concurrency: StrictInt = Field(
        default=DEFAULT_ACCOUNT_MAX_CONCURRENCY, ge=1, le=100_000,
        description="concurrent executions of all serverless endpoints of the account together; beyond it "
                    "requests are throttled. 1000: the documented figure for us-east-1 and seven other "
                    "Regions (500 elsewhere; developer guide 2023); accounts report a default quota of 10 "
                    "(re:Post QUY0gXNLrdTH6eqqA4hv5FeA, 2024-25)")
    memory_mb_per_vcpu: float = Field(
        default=1769.0, gt=0, le=1_000_000,
        description="MB of memory per vCPU of an execution environment. AWS says compute is \"proportional "
                    "to the memory\" but not how much (reference §4). ASSUMPTION: 1769 MB per vCPU, AWS "
                    "Lambda's documented ratio (\"At 1,769 MB, a function has the equivalent of one vCPU\", "
                    "Lambda developer guide, Configure memory), not documented for SageMaker")
    service_time_family: str = Field(
        default="c5",
        description="the profile's instance family whose service times are used (scaled by the compute "
                    "share) when a profile has no \"serverless\" entry. ASSUMPTION: c5 (compute-optimised "
                    "x86, the family every shipped CPU profile has an entry for); a serverless vCPU is taken "
                    "to be as fast as one of its vCPUs")
    container_start_time: TimeDistribution = Field(
        default_factory=lambda: {"kind": "lognormal", "median": "5s", "sigma": 0.5}, validate_default=True,
        description="the container-start part of a cold start (launch and start before the model download). "
                    "ASSUMPTION: lognormal, median 5 s, sigma 0.5; AWS says only that cold starts are \"in "
                    "the order of seconds\" (AWS ML blog, Introducing the Amazon SageMaker Serverless "
                    "Inference Benchmarking Toolkit, 2022)")
    download_bandwidth: Bandwidth = Field(
        default=100e6,
        description="speed of the model artifact's download from S3 during a cold start. ASSUMPTION: "
                    "100 MB/s; no figure is published")
    max_payload_size: Size = Field(
        default=DEFAULT_MAX_PAYLOAD_SIZE,
        description="request (and response) body limit of a serverless endpoint: \"4 MB\" (developer guide, "
                    "Serverless Inference), read as 4 MiB; it replaces platform.max_payload_size there")
    invocation_timeout: Duration = Field(
        default=DEFAULT_INVOCATION_TIMEOUT_S,
        description="the container must answer within it: \"1 minute\" (developer guide, Serverless Inference)")
    bill_cold_start: StrictBool = Field(
        default=False,
        description="bill a cold start's duration as compute. AWS bills \"the compute capacity used to "
                    "process inference requests, billed by the millisecond\" and says nothing of cold starts; "
                    "simfleet's default bills only the request's processing")
    response_size: Size = Field(
        default=DEFAULT_RESPONSE_SIZE,
        description="size of each response, counted as data processed OUT (profiles give no response size). "
                    "ASSUMPTION: 1 KB")
    price_per_gb_second: float | None = Field(
        default=None, ge=0, description="on-demand compute, USD per GB of memory per second (default: the catalog)")
    provisioned_price_per_gb_second: float | None = Field(
        default=None, ge=0, description="Provisioned Concurrency, USD per GB per second provisioned, per "
                                        "environment (default: the catalog, which has none)")
    provisioned_inference_price_per_gb_second: float | None = Field(
        default=None, ge=0, description="compute of requests served by provisioned environments, USD per GB-second "
                                        "(default: the catalog, which has none)")
    data_price_per_gb: float | None = Field(
        default=None, ge=0, description="data processed IN and OUT, USD per GB (default: the catalog)")

    @field_validator("idle_timeout")
    @classmethod
    def _idle(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("idle_timeout must be greater than zero (an environment serves at least its request)")
        return value

    @field_validator("provisioned_concurrency_delay")
    @classmethod
    def _delay(cls, value: float) -> float:
        if value < 0:
            raise ValueError("provisioned_concurrency_delay cannot be negative")
        return value

    @field_validator("invocation_timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("invocation_timeout must be greater than zero")
        return value

    @field_validator("max_payload_size")
    @classmethod
    def _payload(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("max_payload_size must be greater than zero")
        return value

    @field_validator("service_time_family")
    @classmethod
    def _family(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", value) or value == SERVERLESS_ENTRY:
            raise ValueError(f"service_time_family is an instance family such as 'c5' or 'm5', got {value!r}")
        return value

    def price_overrides(self) -> dict[str, float | None]:
        """The price keys, by `simfleet.catalog.serverless.ServerlessPrices` field name."""
        return {"price_per_gb_second": self.price_per_gb_second,
                "provisioned_price_per_gb_second": self.provisioned_price_per_gb_second,
                "provisioned_inference_price_per_gb_second": self.provisioned_inference_price_per_gb_second,
                "data_price_per_gb": self.data_price_per_gb}
