"""A candidate service entry: lognormal service time and a worker count, as a profile spec.

The fits search over candidates; `profile_writer` writes the chosen one. The lognormal is the
family `models/README.md` fits from percentiles (`sigma = ln(p99/p50) / 2.326`).
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet.catalog import InstanceType

__all__ = ["Candidate", "Z99", "Z90", "base_profile_dict"]

Z99 = 2.3263478740408408   # standard normal quantile of 0.99
Z90 = 1.2815515655446004   # ... of 0.90


@dataclass(frozen=True)
class Candidate:
    median_s: float
    sigma: float
    workers: int

    def distribution(self) -> dict:
        return {"kind": "lognormal", "median": _duration(self.median_s), "sigma": round(self.sigma, 4)}


def _duration(seconds: float) -> str:
    """Seconds as a profile duration, 4 significant digits (the fit's resolution), in s, ms or us."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale or unit == "us":
            return f"{float(f'{seconds / scale:.4g}'):g}{unit}"


def base_profile_dict(name: str, instance: InstanceType, candidate: Candidate, key: str, source: str,
                      max_queue_size: int) -> dict:
    """A whole profile holding one service entry: top-level numbers calibration does not measure are
    stated as assumptions (artifact and memory only matter for loading and fitting checks)."""
    gpus = 1.0 if instance.accelerators else 0.0
    assumed = "ASSUMPTION: not measured by simfleet calibrate; "
    return {
        "name": name,
        "description": f"Calibrated by simfleet calibrate on {instance.name}.",
        "framework": "unknown (calibrated from measurements)",
        "artifact_size": "1 GB", "load_time": "1min", "memory_per_worker": "1 GiB",
        "gpu_memory_per_worker": "1 GiB" if gpus else "0 GiB",
        "cpu_cores_per_busy_worker": 1.0, "gpus_per_busy_worker": gpus,
        "max_queue_size": max_queue_size, "payload_time_per_kb": "0us",
        "sources": {
            "artifact_size": assumed + "1 GB placeholder, affects only model download time; replace with the artifact's size.",
            "load_time": assumed + "1 min, affects only instance start-up; replace with the measured ModelSetupTime.",
            "memory_per_worker": assumed + "1 GiB per worker, used only to check that the workers fit the instance.",
            "gpu_memory_per_worker": assumed + ("1 GiB per worker on an accelerator instance."
                                                if gpus else "0 on an instance without accelerators."),
            "cpu_cores_per_busy_worker": assumed + "one vCPU per busy worker (CPUUtilization reports only).",
            "gpus_per_busy_worker": assumed + ("one accelerator per busy worker." if gpus else "no accelerator."),
            "max_queue_size": assumed + f"{max_queue_size}, deep enough that the simulation refuses nothing "
                                        "the measured endpoint answered.",
            "payload_time_per_kb": assumed + "0; the payload cost is inside the calibrated service time.",
        },
        "service": [service_dict(key, candidate, source)],
    }


def service_dict(key: str, candidate: Candidate, source: str) -> dict:
    return {"instance": key, "workers": candidate.workers, "distribution": candidate.distribution(),
            "source": source}
