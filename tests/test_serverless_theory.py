"""Serverless endpoints, end to end, against queueing theory and an independent replay.

* Without a binding concurrency limit, the busy execution environments of a serverless variant
  under Poisson arrivals are an M/G/∞ system: the number busy at a random instant is Poisson with
  mean ρ = λ·E[S] whatever the service distribution (lognormal here), so its mean is ρ and
  P(none busy) = e^−ρ.
* With `max_concurrency = c` and environments never reaped within the run, requests that find c
  busy environments are throttled: an Erlang loss system, whose blocking probability is
  Erlang B(c, λ·E[S]), again whatever the service distribution.
* Cold starts happen exactly when no idle warm environment exists at a request's arrival: an
  independent replay of the run's own arrivals and completions (environments reused most recently
  freed first, reaped after the idle timeout) must find the same cold starts.
* The cold-start rate falls as the idle timeout grows; provisioned concurrency removes cold starts
  up to its level (a cold start or spill-over happens only while every provisioned environment is busy).

Theory checks run R seeded replications and ask the analytic value to lie in their 99.9 % Student-t
interval; environments' concurrency is read from the per-request records (busy over
[arrival, completion)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from small_experiments import base_experiment, scenario
from simfleet.engine.simulation import simulate
from simfleet.request_records import (ENV_COLD, ENV_NONE, ENV_PROVISIONED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM,
                                      ENV_WARM, THROTTLED, RequestRecords)

MEDIAN_S, SIGMA = 0.2, 0.5          # tests/data/models/serverless-toy.toml
MEAN_S = MEDIAN_S * math.exp(SIGMA**2 / 2)


def serverless_experiment(rate: float, max_concurrency: int, duration: str = "10min", seed: int = 1,
                          idle_timeout: str = "1h", container_start: str = "0s", provisioned: int | None = None,
                          traffic: list | None = None) -> dict:
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    config = {"memory_size_in_mb": 2048, "max_concurrency": max_concurrency}
    if provisioned is not None:
        config["provisioned_concurrency"] = provisioned
    raw["endpoints"][0]["production_variants"] = [
        {"variant_name": "A", "model_name": "serverless-toy", "serverless_config": config}]
    raw["serverless"] = {"idle_timeout": idle_timeout,
                         "container_start_time": {"kind": "constant", "value": container_start}}
    raw["traffic"] = traffic or [{"kind": "poisson", "rate": rate}]
    return raw


def run(raw: dict):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append)
    records = RequestRecords.concat(parts)
    return result, records.select(np.argsort(records.arrival_s, kind="stable"))


def busy_at(records: RequestRecords, instants: np.ndarray) -> np.ndarray:
    """Environments busy at each instant: served requests with arrival <= t < completion."""
    served = records.environment != ENV_NONE
    begin = np.sort(records.arrival_s[served])
    end = np.sort(records.complete_s[served])
    return np.searchsorted(begin, instants, "right") - np.searchsorted(end, instants, "right")


def interval(samples) -> tuple[float, float]:
    samples = np.asarray(samples, float)
    half = stats.t.ppf(0.9995, len(samples) - 1) * samples.std(ddof=1) / math.sqrt(len(samples))
    return samples.mean() - half, samples.mean() + half


@pytest.mark.slow
def test_busy_environments_follow_m_g_infinity():
    rate = 15.0
    rho = rate * MEAN_S
    means, empty = [], []
    for seed in range(1, 11):
        _, records = run(serverless_experiment(rate, 200, seed=seed))
        assert not (records.status == THROTTLED).any()
        instants = np.arange(60.0, 600.0, 0.25)  # after a minute of warm-up
        busy = busy_at(records, instants)
        means.append(busy.mean())
        empty.append((busy == 0).mean())
    low, high = interval(means)
    assert low <= rho <= high, (low, rho, high)
    low, high = interval(empty)
    assert low <= math.exp(-rho) <= high, (low, math.exp(-rho), high)


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.slow
def test_throttling_is_erlang_b_at_max_concurrency():
    rate, c = 12.0, 3
    offered = rate * MEAN_S
    blocked = []
    for seed in range(1, 11):
        _, records = run(serverless_experiment(rate, c, seed=seed))
        late = records.arrival_s >= 30.0
        blocked.append((records.status[late] == THROTTLED).mean())
        assert busy_at(records, np.arange(0.0, 600.0, 0.1)).max() <= c
    low, high = interval(blocked)
    assert low <= erlang_b(c, offered) <= high, (low, erlang_b(c, offered), high)


def replayed_cold_starts(records: RequestRecords, idle_timeout: float) -> np.ndarray:
    """Which served requests must start cold, from the run's arrivals and completions alone."""
    free: list[float] = []  # when each live environment frees (or freed)
    cold = []
    for arrival, complete, environment in zip(records.arrival_s, records.complete_s, records.environment):
        if environment == ENV_NONE:
            cold.append(False)
            continue
        free = [f for f in free if not (f <= arrival and f + idle_timeout <= arrival)]  # reaped
        idle = [k for k, f in enumerate(free) if f <= arrival]
        if idle:
            k = max(idle, key=lambda j: free[j])
            free[k] = complete
            cold.append(False)
        else:
            free.append(complete)
            cold.append(True)
    return np.array(cold)


@pytest.mark.parametrize("idle_timeout", [1.0, 20.0])
def test_cold_starts_happen_exactly_when_no_warm_environment_is_idle(idle_timeout):
    raw = serverless_experiment(0.0, 4, duration="10min", idle_timeout=f"{idle_timeout}s", container_start="2s",
                                traffic=[{"kind": "poisson", "schedule": [["0s", 0.5], ["200s", 5], ["300s", 0.2], ["600s", 0.2]]}])
    result, records = run(raw)
    cold = np.isin(records.environment, (ENV_COLD, ENV_SPILLOVER_COLD))
    assert cold.any() and (records.environment == ENV_WARM).any()
    np.testing.assert_array_equal(cold, replayed_cold_starts(records, idle_timeout))
    assert np.all(records.setup_s[cold] >= 2.0) and np.all(records.setup_s[~cold] == 0.0)


def test_cold_start_rate_falls_as_the_idle_timeout_grows():
    rates = []
    for idle in ("2s", "30s", "5min", "1h"):
        _, records = run(serverless_experiment(0.05, 10, duration="1h", idle_timeout=idle, container_start="2s",
                                               seed=3))
        rates.append(np.isin(records.environment, (ENV_COLD, ENV_SPILLOVER_COLD)).mean())
    assert all(a >= b for a, b in zip(rates, rates[1:])), rates
    assert rates[0] > 0.8 and rates[-1] < 0.01, rates


@pytest.mark.parametrize("provisioned", [2, 4])
def test_provisioned_concurrency_removes_cold_starts_up_to_its_level(provisioned):
    raw = serverless_experiment(8.0, 4, duration="5min", idle_timeout="1s", container_start="2s",
                                provisioned=provisioned)
    _, records = run(raw)
    on_pc = records.environment == ENV_PROVISIONED
    spill = np.isin(records.environment, (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD))
    assert on_pc.any()
    assert not np.isin(records.environment, (ENV_COLD, ENV_WARM)).any()  # with PC, on-demand is spill-over
    # a request spills over only when every provisioned environment is busy at its arrival
    pc_busy = busy_at(records.select(on_pc), records.arrival_s[spill])
    assert np.all(pc_busy == provisioned)
    if provisioned == 4:  # as many as MaxConcurrency: never a cold start
        assert not spill.any() and (records.setup_s == 0).all()
    else:
        assert spill.any()
