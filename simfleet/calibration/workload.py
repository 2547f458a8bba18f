"""The observed traffic simulated with a candidate service entry, on simfleet's own engine.

One load level (`observations.LoadLevel`) becomes a one-variant experiment: Poisson arrivals at the
level's rate (open loop), or its closed-loop users with the think time Little's law gives, on the
level's instance count of the calibrated instance type. The run is cut to
`settings.max_requests_per_level` requests (rounded up to whole minutes). The result is the simulated percentiles of the same
latency the source measured (ModelLatency: dispatch to container answer; client: arrival to
response, SageMaker's overhead included) and the throughput.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simfleet.calibration.candidate import Candidate, base_profile_dict
from simfleet.calibration.observations import Latency, LoadLevel
from simfleet.calibration.settings import PERCENTILES, CalibrationSettings
from simfleet.catalog import InstanceType

__all__ = ["SimulatedLevel", "Workload"]

_MODEL = "calibration-candidate"


@dataclass(frozen=True)
class SimulatedLevel:
    latency_s: dict[float, float]
    throughput_per_s: float
    requests: int


class Workload:
    """Simulates load levels with candidates; the scenario is validated once, candidates swap its profile."""

    def __init__(self, instance: InstanceType, key: str, latency: Latency, settings: CalibrationSettings):
        self.instance, self.key, self.latency, self.settings = instance, key, latency, settings
        self.simulations = 0

    def _experiment(self, level: LoadLevel, candidate: Candidate, seed: int, max_requests: int) -> dict:
        settings = self.settings
        throughput = level.rate_per_s
        if level.users is not None:
            traffic = {"kind": "users", "users": level.users,
                       "think_time": {"kind": "constant", "value": f"{level.think_time_s:.9f}s"}}
        else:
            traffic = {"kind": "poisson", "rate": float(level.rate_per_s)}
        requests = min(level.requests, max_requests)
        # Whole minutes: simfleet's invocation metrics close every 60 s (fewer periods, faster runs).
        duration = 60 * max(1, math.ceil(requests / throughput / 60))
        return {
            "experiment": {"name": "calibration", "start_time": "2026-01-05T00:00:00Z",
                           "duration": f"{duration}s", "seed": seed},
            "metrics": {"percentiles": [50, 90, 99]},
            "platform": {"overhead_latency": {"kind": "lognormal", "median": f"{settings.overhead_median_s}s",
                                              "sigma": settings.overhead_sigma}},
            "endpoints": [{"endpoint_name": "calibration", "production_variants": [{
                "variant_name": "Observed", "model_name": _MODEL, "instance_type": self.instance.name,
                "initial_instance_count": level.instances, "workers": candidate.workers,
                "routing_config": {"routing_strategy": settings.routing}}]}],
            "traffic": [traffic],
        }

    def simulate(self, level: LoadLevel, candidate: Candidate, seed: int, max_requests: int | None = None
                 ) -> SimulatedLevel:
        """Simulate `level` with `candidate` for at most `max_requests` requests (default:
        `settings.max_requests_per_level`); the same seed gives the same arrivals and draws."""
        from simfleet.engine.simulation import simulate
        from simfleet.request_records import OK, RequestRecords
        from simfleet.scenario import scenario_from_dict
        from simfleet.calibration.profile_writer import profile_text

        raw = self._experiment(level, candidate, seed, max_requests or self.settings.max_requests_per_level)
        with tempfile.TemporaryDirectory(prefix="simfleet-calibrate-") as folder:
            path = Path(folder) / f"{_MODEL}.toml"
            path.write_text(profile_text(base_profile_dict(_MODEL, self.instance, candidate, self.key,
                                                           "candidate under test", self.settings.max_queue_size)),
                            encoding="utf-8")
            raw["experiment"]["model_paths"] = [folder]
            scenario = scenario_from_dict(raw, "<calibration>", Path(folder))
        parts: list = []
        result = simulate(scenario, requests_sink=parts.append)
        self.simulations += 1
        records = RequestRecords.concat(parts) if parts else RequestRecords.empty()
        ok = records.status == OK
        if self.latency == "model":
            latency = records.model_latency_s[ok]
        else:
            latency = (records.response_s - records.arrival_s)[ok]
        duration = float(result.summary["duration_s"])
        if latency.size == 0:
            return SimulatedLevel({q: float("nan") for q in PERCENTILES}, 0.0, 0)
        values = np.percentile(latency, PERCENTILES)
        return SimulatedLevel({q: float(v) for q, v in zip(PERCENTILES, values)}, latency.size / duration,
                              int(latency.size))
