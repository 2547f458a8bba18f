"""End-to-end runs against closed-form queueing results, within confidence intervals.

Each check runs R independent seeded replications through `simulate` (traffic, routing,
metrics and all), takes one estimate per replication, and asks that the analytic value lie in
the replications' 99.9 % Student-t interval. Overhead latency is set to zero so the queue is
observed directly from the request trace.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as _scipy_stats

from small_experiments import base_experiment, scenario
from simfleet.request_records import RequestRecords
from simfleet.engine.simulation import simulate

pytestmark = pytest.mark.slow

REPLICATIONS = 12
WARMUP_S = 30.0


def _t_quantile(level: float, df: int) -> float:
    return float(_scipy_stats.t.ppf(0.5 + level / 2, df))


def _replicate(raw: dict, estimator, replications: int = REPLICATIONS) -> np.ndarray:
    estimates = []
    for seed in range(replications):
        raw["experiment"]["seed"] = 1000 + seed
        parts: list[RequestRecords] = []
        simulate(scenario(raw), requests_sink=parts.append)
        records = RequestRecords.concat(parts)
        steady = records.select(records.arrival_s >= WARMUP_S)
        estimates.append(estimator(steady))
    return np.array(estimates)


def _assert_in_interval(estimates: np.ndarray, expected: float, level: float = 0.999) -> None:
    mean = estimates.mean()
    half = _t_quantile(level, len(estimates) - 1) * estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert abs(mean - expected) <= half, (
        f"analytic {expected:.6g} outside {mean:.6g} ± {half:.3g} ({level:.1%} CI over {len(estimates)} runs)")
    # The interval must also be tight enough to mean something: within 5 % of the value.
    assert half < 0.05 * expected, f"interval ±{half:.3g} too wide to test {expected:.6g}"


def _queue_experiment(instance_type: str, workers: int, rate: float, duration: str = "10min") -> dict:
    raw = base_experiment(duration=duration)
    variant = raw["endpoints"][0]["production_variants"][0]
    variant.update(instance_type=instance_type, initial_instance_count=1, workers=workers)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    raw["traffic"] = [{"kind": "poisson", "rate": rate}]
    return raw


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = λ/μ."""
    rho = offered / servers
    top = offered**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def test_mmc_mean_wait_and_probability_of_waiting_match_erlang_c():
    servers, mean_service = 4, 0.010  # toy profile on c5: exponential, 10 ms mean
    rate = 0.8 * servers / mean_service
    raw = _queue_experiment("ml.c5.xlarge", servers, rate)
    offered = rate * mean_service
    p_wait = erlang_c(servers, offered)
    mean_wait = p_wait * mean_service / (servers - offered)

    waits = _replicate(raw, lambda r: float(np.mean(r.start_s - r.arrival_s)))
    _assert_in_interval(waits, mean_wait)
    waited = _replicate(raw, lambda r: float(np.mean(r.start_s > r.arrival_s)))
    _assert_in_interval(waited, p_wait)


@pytest.mark.parametrize("instance_type, second_moment, mean_service", [
    # toy on m5: lognormal, median 8 ms, sigma 0.5 → E[S] = m·e^{σ²/2}, E[S²] = m²·e^{2σ²}
    ("ml.m5.xlarge", 0.008**2 * math.exp(2 * 0.5**2), 0.008 * math.exp(0.5**2 / 2)),
    # toy on g5: gamma, mean 5 ms, cv 0.5 → E[S²] = mean²(1 + cv²)
    ("ml.g5.xlarge", 0.005**2 * (1 + 0.5**2), 0.005),
])
def test_mg1_mean_wait_matches_pollaczek_khinchine(instance_type, second_moment, mean_service):
    rho = 0.7
    rate = rho / mean_service
    raw = _queue_experiment(instance_type, 1, rate)
    expected = rate * second_moment / (2 * (1 - rho))
    waits = _replicate(raw, lambda r: float(np.mean(r.start_s - r.arrival_s)))
    _assert_in_interval(waits, expected)


def test_utilization_metric_matches_offered_load():
    """CPUUtilization (1 core per busy worker) averages 100 × λ·E[S] per instance."""
    servers, mean_service = 4, 0.010
    rate = 0.6 * servers / mean_service
    raw = _queue_experiment("ml.c5.xlarge", servers, rate)
    estimates = []
    for seed in range(REPLICATIONS):
        raw["experiment"]["seed"] = 2000 + seed
        metrics = simulate(scenario(raw)).metrics.to_pandas()
        cpu = metrics[metrics.metric_name == "CPUUtilization"]
        estimates.append(cpu["average"].iloc[1:].mean())  # skip the first (warm-up) period
    _assert_in_interval(np.array(estimates), 100 * rate * mean_service)
