"""Percentiles the user states (`--p50 40ms --p99 90ms [--at-rate R]`) as one observation.

For a first what-if before any data exists. The percentiles are taken as container-side latency
(as CloudWatch's ModelLatency). Without `--at-rate` they are taken at a load light enough for no
request to wait, so the direct fit applies; with it they are taken at R requests per second over
the `--instances` instances, and calibration checks by simulation whether queueing at that rate
inflates them. The period is given `STATED_REQUESTS` requests: that only sets the simulation's length.
"""

from __future__ import annotations

from simfleet.calibration.observations import Observations, Period
from simfleet.errors import InputError

__all__ = ["stated_observations", "STATED_REQUESTS", "LIGHT_LOAD"]

STATED_REQUESTS = 5_000
#: The load a stated observation without --at-rate is simulated at: this fraction of one worker's
#: capacity per instance (rate = LIGHT_LOAD x instances / p50), where waiting is negligible.
LIGHT_LOAD = 0.02


def stated_observations(percentiles_s: dict[float, float], rate_per_s: float | None, instances: int) -> Observations:
    if 50.0 not in percentiles_s:
        raise InputError.single("--p50", "stated percentiles need --p50 (and --p90 or --p99 for the dispersion)")
    ordered = [percentiles_s[q] for q in sorted(percentiles_s)]
    if any(b <= a for a, b in zip(ordered, ordered[1:])) or ordered[0] <= 0:
        raise InputError.single("--p50", "stated percentiles must be positive and increase with the percentile "
                                         f"(got {', '.join(f'p{q:g} {v * 1e3:g} ms' for q, v in sorted(percentiles_s.items()))})")
    if rate_per_s is not None and rate_per_s <= 0:
        raise InputError.single("--at-rate", f"expected a positive rate, got {rate_per_s:g}")
    light = rate_per_s is None
    rate = LIGHT_LOAD * instances / percentiles_s[50.0] if light else rate_per_s
    text = ", ".join(f"p{q:g} {v * 1e3:g} ms" for q, v in sorted(percentiles_s.items()))
    load = "at light load (no --at-rate)" if light else f"at {rate_per_s:g} req/s on {instances} instance(s)"
    period = Period("stated", STATED_REQUESTS / rate, float(STATED_REQUESTS), dict(percentiles_s), None, instances)
    return Observations(sources=(f"stated on the command line: {text} {load}",), latency="model",
                        periods=(period,), notes=(f"percentiles stated by the user, not measured: {text} {load}",))
