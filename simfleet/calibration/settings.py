"""The choices calibration makes where neither AWS nor the data decide, each a setting.

`simfleet calibrate` builds one `CalibrationSettings` from its options; tests shrink the
simulation budget (`max_requests_per_level`, grid sizes) to stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CalibrationSettings", "PERCENTILES"]

#: The percentiles calibration compares (CloudWatch's and Locust's common ones).
PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True)
class CalibrationSettings:
    """Every knob of a calibration, with the reason for its default."""

    #: Self-validation warns when an observed/simulated percentile or throughput differs by more (%).
    warn_error_pct: float = 10.0
    #: A direct fit is kept when its simulated replay of every load level is within this (%) of the
    #: observed percentiles; otherwise queueing inflated the latency and the fit is by simulation.
    direct_tolerance_pct: float = 5.0
    #: At most this many load levels (groups of periods of similar load) are simulated.
    max_levels: int = 4
    #: Requests simulated per load level and candidate (longer levels are cut to this many).
    max_requests_per_level: int = 20_000
    #: Candidate grid of the fit by simulation: points per parameter and refinement rounds.
    grid_points: int = 5
    grid_rounds: int = 3
    #: Lognormal sigma assumed when the data give one latency statistic only (a mean, or a single
    #: percentile): no dispersion can be fitted then. 0.25 is the median of the shipped profiles'
    #: GPU entries (an ASSUMPTION, written into the profile's source).
    assumed_sigma: float = 0.25
    #: Routing of the simulated variant: SageMaker's ProductionVariant has no documented default
    #: RoutingStrategy; simfleet assumes RANDOM there (config.experiment.RoutingConfig), and so here.
    routing: str = "RANDOM"
    #: SageMaker overhead added to client-side latencies (Locust, request logs marked client):
    #: simfleet's platform default, an ASSUMPTION (config.experiment.PlatformSection).
    overhead_median_s: float = 0.003
    overhead_sigma: float = 0.3
    #: Seeds of the fit (common random numbers across candidates) and of the replay (a fresh seed,
    #: so the replay does not reuse the noise the fit may have adapted to).
    fit_seed: int = 1
    replay_seed: int = 2
    #: Container queue depth of a new profile (max_queue_size): large, so the simulation refuses
    #: nothing the real endpoint answered. ASSUMPTION, written into the profile.
    max_queue_size: int = 1000
