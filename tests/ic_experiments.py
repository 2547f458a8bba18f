"""Experiments with inference components for the tests: `ic_experiment`, an endpoint whose variant
hosts components on ml.c5.xlarge instances, served by the toy profile (tests/data/models/toy.toml);
`COMPONENTS`, the same kind of file as TOML text, for the configuration tests (one component of the
toy profile on ml.g5.12xlarge: 48 vCPUs, 4 GPUs, 192 GiB = 196608 MiB; toy runs on g5 with one GPU
per worker)."""

from __future__ import annotations

from small_experiments import base_experiment

#: a valid experiment whose variant hosts one component (`toy-ic`), the base the configuration tests edit
COMPONENTS = """\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
instance_type = "ml.g5.12xlarge"
initial_instance_count = 2
managed_instance_scaling = { min_instance_count = 1, max_instance_count = 4 }

[[inference_components]]
inference_component_name = "toy-ic"
endpoint_name = "ep"
variant_name = "A"
runtime_config = { copy_count = 3 }

[inference_components.specification]
model_name = "toy"
compute_resource_requirements = { number_of_accelerator_devices_required = 1, number_of_cpu_cores_required = 4, min_memory_required_in_mb = 4096 }
scheduling_config = { placement_strategy = "SPREAD" }

[[traffic]]
kind = "poisson"
rate = 50
target_inference_component = "toy-ic"
"""

#: ml.c5.xlarge as copies see it: 4 vCPUs (cores, by default) and 8 GiB.
C5_CORES, C5_MIB = 4, 8192


def ic_experiment(components: list[dict], initial: int = 2, scaling: dict | None = None, duration: str = "10min",
                  mttf: str | None = None, routing: str = "LEAST_OUTSTANDING_REQUESTS", seed: int = 1) -> dict:
    """An endpoint "ep" whose variant "H" (ml.c5.xlarge) hosts `components` (name, cores, memory,
    copies, strategy, rate), each with its own Poisson traffic; the toy profile serves them."""
    raw = base_experiment(duration=duration, seed=seed)
    raw["endpoints"][0]["production_variants"] = [{
        "variant_name": "H", "instance_type": "ml.c5.xlarge", "initial_instance_count": initial,
        "routing_config": {"routing_strategy": routing},
        **({"managed_instance_scaling": scaling} if scaling else {})}]
    raw["inference_components"] = [{
        "inference_component_name": c["name"], "endpoint_name": "ep",
        "specification": {"model_name": "toy", "compute_resource_requirements": {
            "number_of_cpu_cores_required": c["cores"], "min_memory_required_in_mb": c["memory"]},
            "scheduling_config": {"placement_strategy": c["strategy"]}},
        "runtime_config": {"copy_count": c["copies"]}} for c in components]
    raw["traffic"] = [{"kind": "poisson", "rate": c["rate"], "target_inference_component": c["name"]}
                      for c in components]
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    if mttf is not None:
        raw["instances"] = {"mean_time_to_failure": mttf}
    return raw
