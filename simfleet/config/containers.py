"""Inference pipelines and multi-container endpoints in the experiment file: a production variant's
`containers` (`CreateModel.Containers`), its `inference_execution_config`, and the hostnames that
name the containers (`ContainerHostname`) and that requests name (`TargetContainerHostname`).

Part of the experiment schema (`simfleet.config.experiment` builds variants and traffic sources
from these); `simfleet.scenario` loads each container's model profile, `simfleet.fleet` resolves
hostnames into container indices for the engine.

AWS puts `Containers` and `InferenceExecutionConfig` on `CreateModel` and the instance type on the
endpoint configuration's variant; simfleet has no separate model object, so both live on the
variant, next to `instance_type`. Facts and their sources:

* `ContainerHostname`: at most 63 characters, pattern ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``
  (botocore's SageMaker service model, shape `ContainerHostname`; API reference page
  "ContainerDefinition"). `TargetContainerHostname` of InvokeEndpoint: at most 63 characters,
  pattern ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*`` (botocore's sagemaker-runtime service model), the same
  set of names.
* A pipeline is "a linear sequence of two to fifteen containers" (developer guide, "Inference
  pipelines in Amazon SageMaker AI"); a multi-container endpoint must "include more than one
  container in the `Containers` parameter" and "Currently there is a limit of up to 15 containers"
  (developer guide, "Create a multi-container endpoint (Boto 3)"); `ContainerDefinitionList` has
  at most 15 members (botocore). So 2 to 15 containers in either mode; one container is a
  `model_name` variant.
* "The default mode is `Serial`" and "The `ContainerHostname` parameter is required for each
  container in a multi-container endpoint with direct invocation" (same "Create a multi-container
  endpoint (Boto 3)" page).
* In a pipeline the hostname "uniquely identifies the container for the purposes of logging and
  metrics"; without one "a unique name is automatically assigned based on the position of the
  ContainerDefinition in the pipeline"; "If you specify a value for the ContainerHostName for any
  ContainerDefinition that is part of an inference pipeline, you must specify a value for the
  ContainerHostName parameter of every ContainerDefinition in that pipeline" (API reference,
  "ContainerDefinition", member ContainerHostname). Hostnames are compared exactly (AWS does not
  say whether case matters).
* The name AWS assigns by position is NOT documented. simfleet names the k-th container
  (1-based) ``container-k`` (`default_hostname`); it is what simfleet's `ContainerName`
  dimension shows for such a pipeline.
* `Mode = "MultiModel"`: "only one multi-model-enabled container can be included in an inference
  pipeline" (developer guide, "Inference pipelines"); simfleet runs a multi-model container only
  as a `model_name` variant's one container (`simfleet.config.multi_model`), so `mode` is accepted
  here to name the problem, and refused.
* Requests: with direct invocation "only the container with the `TargetContainerHostname`
  processes the invocation request"; a hostname that does not exist in the endpoint, no hostname
  on a direct-invocation endpoint, or a hostname on an endpoint not configured for direct
  invocation each give a validation error (developer guide, "Invoke a multi-container endpoint
  with direct invocation"). Those are runtime outcomes (HTTP 400, `INVALID_TARGET`), never
  refused here: only malformed hostnames are.
"""

from __future__ import annotations

from typing import Literal, Sequence

from pydantic import Field

from simfleet.schema.aws_fields import text
from simfleet.schema.quantities import StrictModel

__all__ = ["ContainerDefinition", "InferenceExecutionConfig", "Hostname", "HOSTNAME_PATTERN", "HOSTNAME_MAX_LENGTH",
           "MIN_CONTAINERS", "MAX_CONTAINERS", "default_hostname", "container_hostnames", "container_problems",
           "container_index", "NO_TARGET"]

#: `ContainerHostname` (botocore SageMaker service model; API reference "ContainerDefinition").
HOSTNAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
HOSTNAME_MAX_LENGTH = 63
#: 2 to 15 containers: "two to fifteen" (Inference pipelines page), "more than one" and "up to 15"
#: (Create a multi-container endpoint page), `ContainerDefinitionList` max 15 (botocore).
MIN_CONTAINERS = 2
MAX_CONTAINERS = 15
#: The container index of a request that names no container (`container_index`).
NO_TARGET = -1

#: A container hostname as a key's value: a string of 1 to 63 letters, digits and inner hyphens.
Hostname = text(1, HOSTNAME_MAX_LENGTH, HOSTNAME_PATTERN,
                expected="a hostname of letters, digits and hyphens that starts and ends with a letter or "
                         "digit (AWS's ContainerHostname pattern)")


class ContainerDefinition(StrictModel):
    """One member of `CreateModel.Containers`: a model profile serving as one container."""

    container_hostname: Hostname | None = Field(
        default=None, description="ContainerHostname: the container's name in CloudWatch's ContainerName "
                                  "dimension and in TargetContainerHostname; required for Direct mode")
    model_name: str = Field(min_length=1, description="a model profile name")
    workers: int | None = Field(default=None, ge=1, le=1024,
                                description="override the profile's workers (model server processes) of this container")
    mode: Literal["SingleModel", "MultiModel"] = Field(
        default="SingleModel", description="ContainerDefinition.Mode; simfleet runs MultiModel only on a "
                                           "model_name variant (see container_problems)")


class InferenceExecutionConfig(StrictModel):
    """`CreateModel.InferenceExecutionConfig` (API reference "InferenceExecutionConfig": Mode is
    `Serial` or `Direct`, required inside the structure; without the structure, Serial)."""

    mode: Literal["Serial", "Direct"] = Field(
        description="Serial: every request passes through the containers in order (an inference pipeline); "
                    "Direct: each request runs the one container its TargetContainerHostname names")


def default_hostname(position: int) -> str:
    """The hostname simfleet gives the container at 0-based `position` when none is written:
    ``container-1``, ``container-2``, … AWS assigns "a unique name ... based on the position" but does
    not document it, so this is simfleet's choice (and what its `ContainerName` dimension shows)."""
    return f"container-{position + 1}"


def container_hostnames(containers: Sequence[ContainerDefinition]) -> tuple[str, ...]:
    """Each container's hostname: the one written, or `default_hostname` of its position."""
    return tuple(c.container_hostname or default_hostname(k) for k, c in enumerate(containers))


def container_problems(containers: Sequence[ContainerDefinition], mode: str) -> list[str]:
    """What AWS would refuse in a variant's containers, one message per rule broken (no message: valid)."""
    if not MIN_CONTAINERS <= len(containers) <= MAX_CONTAINERS:
        return [f"containers needs {MIN_CONTAINERS} to {MAX_CONTAINERS} containers, got {len(containers)} "
                "(for a single container give model_name instead)"]
    named = [c.container_hostname for c in containers if c.container_hostname is not None]
    out = []
    if mode == "Direct" and len(named) < len(containers):
        out.append("with inference_execution_config.mode = \"Direct\" every container needs a container_hostname "
                   "(requests name it in target_container_hostname)")
    elif named and len(named) < len(containers):
        out.append("give a container_hostname to every container or to none (AWS: if any container of a pipeline "
                   "has one, all must)")
    repeated = sorted({n for n in named if named.count(n) > 1})
    if repeated:
        out.append(f"container_hostname must be unique within a variant, repeated: {', '.join(repeated)}")
    multi = sum(c.mode == "MultiModel" for c in containers)
    if multi > 1:
        out.append(f"{multi} containers have mode = \"MultiModel\"; AWS: \"only one multi-model-enabled container "
                   "can be included in an inference pipeline\"")
    elif multi == 1:
        out.append("a multi-model container inside a pipeline or multi-container endpoint is not supported by "
                   "simfleet (AWS allows one per pipeline); give the multi-model variant model_name, "
                   "mode = \"MultiModel\" and its model_population")
    return out


def container_index(hostnames: Sequence[str], hostname: str | None) -> int:
    """The container a request's `TargetContainerHostname` names, for the engine:

    the position of the container named `hostname`; `NO_TARGET` (-1) when the request names none;
    ``len(hostnames)`` when no container has that name. The engine refuses with `INVALID_TARGET`
    (HTTP 400) -1 on a Direct variant, ``len(hostnames)`` always, and anything but -1 on a
    variant that is not Direct (a pipeline or a single container).
    """
    if hostname is None:
        return NO_TARGET
    try:
        return list(hostnames).index(hostname)
    except ValueError:
        return len(hostnames)
