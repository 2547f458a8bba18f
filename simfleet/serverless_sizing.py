"""How fast a model runs on a serverless endpoint, and how long a cold start takes.

Between the documents and the fleet (DESIGN §2.2, beside `profiles`): from a model profile, a
variant's `ServerlessConfig` and the experiment's `ServerlessSettings`, `serverless_problems` says
why AWS (or simfleet) would refuse the model on serverless, and `size_serverless` derives what
`simfleet.fleet` puts in a serverless variant's `VariantRuntime.entry` and `ServerlessRuntime`.

The rules, simfleet's assumptions where AWS is silent (reference §4: vCPUs per memory size and
cold-start durations are not documented):

* **Compute share.** An execution environment of M MB has ``vcpus = M / memory_mb_per_vcpu``
  vCPUs (default 1769 MB per vCPU, AWS Lambda's documented ratio). AWS says only that compute is
  "proportional to the memory".
* **Service times.** A profile's `instance = "serverless"` entry, if it has one, was measured on
  serverless and is used as is. Otherwise its `service_time_family` entry (default c5) is scaled by
  ``factor = max(1, cpu_cores_per_busy_worker / vcpus)``: a request that keeps c cores busy on an
  instance takes c / vcpus times as long when it gets fewer vCPUs than that, and no less when it
  gets more (one request per environment, one worker; a single request does not speed up with
  cores it does not use). The per-KB payload time is scaled alike; the factor falls as memory
  grows and is 1 from ``memory = c × memory_mb_per_vcpu`` on.
* **Cold start** (`ModelSetupTime`): container start (`container_start_time`, random) + artifact
  download (``artifact_size / download_bandwidth``) + the profile's `load_time` (not scaled), as AWS
  lists its parts: "model size, how long it takes to download your model, and the start-up time
  of your container" (developer guide, Serverless Inference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simfleet.config.serverless import EPHEMERAL_DISK_BYTES, SERVERLESS_ENTRY, ServerlessConfig, ServerlessSettings
from simfleet.distributions import Distribution, Scaled, Shifted
from simfleet.profiles import GIB, ModelProfile, ServiceEntry

__all__ = ["ServerlessSizing", "vcpus_for", "compute_factor", "serverless_problems", "size_serverless",
           "setup_time", "MIB"]

MIB = 2**20  # one MB of MemorySizeInMB (1 GB = 1024 MB, AWS's serverless convention)


def vcpus_for(memory_size_mb: float, memory_mb_per_vcpu: float) -> float:
    """vCPUs assumed for an environment of `memory_size_mb`: proportional to memory."""
    return memory_size_mb / memory_mb_per_vcpu


def compute_factor(cpu_cores_per_busy_worker: float, vcpus: float) -> float:
    """How much longer a request takes with `vcpus` than on an instance where it keeps
    `cpu_cores_per_busy_worker` cores busy: ``max(1, cores / vcpus)``."""
    return max(1.0, cpu_cores_per_busy_worker / vcpus)


@dataclass(frozen=True)
class ServerlessSizing:
    """A model on a serverless variant: its service entry (one worker, times scaled), the compute
    share and factor applied, where the times come from, and one cold start's duration."""

    entry: ServiceEntry
    vcpus: float
    factor: float
    service_basis: str
    setup_time: Distribution


def _base_entry(profile: ModelProfile, settings: ServerlessSettings) -> tuple[ServiceEntry | None, bool]:
    """(the entry the times come from with one worker, whether it is the profile's serverless entry)."""
    entry = profile.entry_for_key(SERVERLESS_ENTRY, 1)
    if entry is not None:
        return entry, True
    return profile.entry_for_key(settings.service_time_family, 1), False


def serverless_problems(profile: ModelProfile, config: ServerlessConfig,
                        settings: ServerlessSettings) -> list[tuple[tuple, str]]:
    """Why `profile` cannot run on a serverless variant of `config`: (key path relative to the variant,
    message) pairs; none when it can."""
    name = profile.name
    entry, _ = _base_entry(profile, settings)
    gpu = (("model_name",), f"model {name!r} needs a GPU; serverless endpoints have none (AWS, Serverless "
           "Inference feature exclusions: GPUs are not supported)")
    if entry is None:
        if profile.spec.gpus_per_busy_worker > 0 or profile.spec.gpu_memory_per_worker > 0:
            return [gpu]  # the cause, rather than the missing CPU entry that follows from it
        return [(("model_name",), f"model {name!r} has neither a \"serverless\" service entry nor a "
                 f"{settings.service_time_family!r} one to scale for serverless (it has: "
                 f"{', '.join(profile.supported())}; set serverless.service_time_family)")]
    out = []
    written = profile.service_spec(SERVERLESS_ENTRY)
    if written is not None and written.workers != 1 and "workers" in written.model_fields_set:
        out.append((("model_name",), f"model {name!r}: its \"serverless\" entry has workers = {written.workers!r}; "
                    "a serverless environment runs 1 worker (AWS recommends one; simfleet serves one request "
                    "per environment at a time)"))
    if entry.gpus_per_busy_worker > 0 or entry.gpu_memory_per_worker_bytes > 0:
        out.append(gpu)
    memory = config.memory_size_in_mb * MIB
    if entry.memory_per_worker_bytes > memory:
        out.append((("serverless_config", "memory_size_in_mb"),
                    f"model {name!r} needs {entry.memory_per_worker_bytes / MIB:.0f} MB of memory per worker; "
                    f"memory_size_in_mb is {config.memory_size_in_mb} (a larger size, up to 6144)"))
    artifact = profile.spec.artifact_size
    if artifact > EPHEMERAL_DISK_BYTES:
        out.append((("model_name",), f"model {name!r} has a {artifact / GIB:.1f} GiB artifact; a serverless "
                    f"endpoint has {EPHEMERAL_DISK_BYTES / GIB:.0f} GB of ephemeral disk (AWS, Serverless Inference)"))
    return out


def setup_time(profile: ModelProfile, settings: ServerlessSettings) -> Distribution:
    """One cold start: container start + artifact download + the profile's load time."""
    fixed = profile.spec.artifact_size / settings.download_bandwidth + profile.spec.load_time
    return Shifted(settings.container_start_time.build(), fixed)


def size_serverless(profile: ModelProfile, config: ServerlessConfig, settings: ServerlessSettings) -> ServerlessSizing:
    """The model on a serverless variant of `config` (call after `serverless_problems` found none)."""
    entry, measured = _base_entry(profile, settings)
    if entry is None:
        raise ValueError(f"model {profile.name!r} has no serverless or {settings.service_time_family} entry")
    vcpus = vcpus_for(config.memory_size_in_mb, settings.memory_mb_per_vcpu)
    if measured:
        factor, basis = 1.0, f"profile {profile.name} serverless entry"
    else:
        cores = entry.cpu_cores_per_busy_worker
        factor = compute_factor(cores, vcpus)
        basis = (f"profile {profile.name} {settings.service_time_family} entry × {factor:.3g} ({vcpus:.3g} vCPU at "
                 f"{config.memory_size_in_mb} MB vs {cores:.3g} cores per request)")
    if factor != 1.0:
        entry = replace(entry, service_time=Scaled(entry.service_time, factor),
                        payload_time_per_kb_s=entry.payload_time_per_kb_s * factor)
    entry = replace(entry, workers=1, source=f"{entry.source} [serverless: {basis}]")
    return ServerlessSizing(entry, vcpus, factor, basis, setup_time(profile, settings))
