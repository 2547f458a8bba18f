"""The choices calibration makes where neither AWS nor the data decide, each a setting.

`simfleet calibrate` builds one `CalibrationSettings` from its options; tests shrink the
simulation budget (`max_requests_per_level`, `max_candidates`) to stay fast.
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
    #: A direct fit is kept when its simulation of the load levels is within this (%) of the observed
    #: percentiles, as an RMS of log ratios (the fit's distance <= ln(1 + pct/100)); otherwise
    #: queueing inflated the latency and the fit is by simulation.
    direct_tolerance_pct: float = 5.0
    #: At most this many load levels (groups of periods of similar load) are simulated.
    max_levels: int = 4
    #: Requests simulated per load level and candidate (longer levels are cut to this many), and
    #: per level in the self-validation replay (which replays whole levels up to this many).
    max_requests_per_level: int = 20_000
    replay_max_requests: int = 200_000
    #: Nelder–Mead search of the fit by simulation (log units): first step, stopping size of the
    #: simplex (0.005: half a per cent), and the most candidates simulated per worker count.
    search_step: float = 0.1
    search_tolerance: float = 0.005
    max_candidates: int = 80
    #: With --workers auto, the fit by simulation searches only this many worker counts: those whose
    #: direct start is closest to the data (each count costs a whole search).
    auto_searched_counts: int = 2
    #: Lognormal sigma assumed when the data give one latency statistic only (a mean, or a single
    #: percentile): no dispersion can be fitted then. 0.25 is an ASSUMPTION (the value of the
    #: profile format's example in models/README.md, not a measurement), written into the profile's
    #: source whenever it is used.
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
