"""The closed forms the test suite checks, each next to one seeded simfleet run (for `validation_page`).

The tests check these in replicated runs with confidence intervals (`tests/test_*theory*.py`,
`tests/test_closed_loop.py`); the page shows one seeded run each, so readers see the size of the
agreement. The formulas are written out here, independently of the engine:

* Erlang C (M/M/c): P(wait) = C(c, a), mean wait C(c, a) / (c mu - lambda), a = lambda / mu;
* Pollaczek–Khinchine (M/G/1): mean wait lambda E[S^2] / (2 (1 - rho));
* closed-loop saturation: N users, no think time, c workers: throughput min(N, c) / E[S],
  response N / throughput (Little's law);
* Jackson tandem (an inference pipeline of M/M/1 containers): mean ModelLatency sum 1/(mu_i - lambda);
* M/G/infinity (serverless environments): mean busy environments lambda E[S], P(none busy) e^-rho;
* Erlang B (serverless max_concurrency c): throttled fraction B(c, a);
* Che's approximation of an LRU cache (multi-model endpoints): T solves sum (1 - e^(-p_i T)) = C,
  hit ratio sum p_i (1 - e^(-p_i T)).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Check", "theory_checks", "simulate_with", "erlang_c", "erlang_b", "che_hit_ratio", "profile_dict"]

START = "2026-01-05T00:00:00Z"
WARMUP_S = 30.0


@dataclass(frozen=True)
class Check:
    closed_form: str
    setting: str
    quantity: str
    expected: float
    simulated: float
    unit: str
    tests: str

    @property
    def error_pct(self) -> float:
        return (self.simulated / self.expected - 1) * 100


def erlang_c(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def che_hit_ratio(p: np.ndarray, capacity: int) -> float:
    """Che's approximation for unit-size objects; T by bisection on a monotone function."""
    if capacity >= len(p):
        return 1.0
    low, high = 0.0, 1.0
    while np.sum(-np.expm1(-p * high)) < capacity:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if np.sum(-np.expm1(-p * mid)) < capacity else (low, mid)
    return float(np.dot(p, -np.expm1(-p * (low + high) / 2)))


def profile_dict(name: str, service: list[dict], note: str) -> dict:
    sources = {key: note for key in ("artifact_size", "load_time", "memory_per_worker", "gpu_memory_per_worker",
                                     "cpu_cores_per_busy_worker", "gpus_per_busy_worker", "max_queue_size",
                                     "payload_time_per_kb")}
    return {"name": name, "description": note, "framework": "none", "artifact_size": "1 MB", "load_time": "1s",
            "memory_per_worker": "100 MiB", "gpu_memory_per_worker": "0 GiB", "cpu_cores_per_busy_worker": 1.0,
            "gpus_per_busy_worker": 0.0, "max_queue_size": 100_000, "payload_time_per_kb": "0us",
            "sources": sources, "service": [{**entry, "source": note} for entry in service]}


def simulate_with(raw: dict, profiles: list[dict], cache: bool = False):
    """Run experiment `raw` with `profiles` (dicts) in a temporary model folder: (result, records, cache parts)."""
    from simfleet.calibration.profile_writer import profile_text
    from simfleet.engine.simulation import simulate
    from simfleet.request_records import RequestRecords
    from simfleet.scenario import scenario_from_dict

    with tempfile.TemporaryDirectory(prefix="simfleet-validation-") as folder:
        for profile in profiles:
            (Path(folder) / f"{profile['name']}.toml").write_text(profile_text(profile), encoding="utf-8")
        raw = {**raw, "experiment": {**raw["experiment"], "model_paths": [folder]}}
        scenario = scenario_from_dict(raw, "<validation>", Path(folder))
    parts: list = []
    events: list = []
    result = simulate(scenario, requests_sink=parts.append, cache_sink=events.append if cache else None)
    return result, RequestRecords.concat(parts), events


_NOTE = "validation page input, not a measurement"


def _experiment(duration: str, seed: int, variant: dict, traffic: dict, **extra) -> dict:
    return {"experiment": {"name": "validation", "start_time": START, "duration": duration, "seed": seed},
            "metrics": {"percentiles": [50, 99]},
            "platform": {"overhead_latency": {"kind": "constant", "value": "0s"}},
            "endpoints": [{"endpoint_name": "validation", "production_variants": [{"variant_name": "A", **variant}]}],
            "traffic": [traffic], **extra}


def _exp_profile(mean: str = "10ms") -> dict:
    return profile_dict("exp-10ms", [{"instance": "c5", "workers": "vcpus",
                                      "distribution": {"kind": "exponential", "mean": mean}}], _NOTE)


def _erlang_c() -> list[Check]:
    c, mean, rate = 4, 0.010, 320.0
    raw = _experiment("10min", 11, {"model_name": "exp-10ms", "instance_type": "ml.c5.xlarge",
                                    "initial_instance_count": 1, "workers": c}, {"kind": "poisson", "rate": rate})
    _, records, _ = simulate_with(raw, [_exp_profile()])
    steady = records.select(records.arrival_s >= WARMUP_S)
    wait = steady.start_s - steady.arrival_s
    a = rate * mean
    pw = erlang_c(c, a)
    setting = f"M/M/{c}, E[S] = 10 ms, lambda = {rate:g}/s (rho = {a / c:g}), 10 min"
    tests = "tests/test_queueing_theory.py"
    return [Check("Erlang C", setting, "P(wait)", pw, float(np.mean(wait > 1e-12)), "", tests),
            Check("Erlang C", setting, "mean wait", pw / (c / mean - rate), float(np.mean(wait)), "s", tests)]


def _pollaczek_khinchine() -> list[Check]:
    median, sigma, rate = 0.008, 0.5, 77.0
    profile = profile_dict("lognormal-8ms", [{"instance": "c5", "workers": 1, "distribution": {
        "kind": "lognormal", "median": "8ms", "sigma": sigma}}], _NOTE)
    raw = _experiment("20min", 12, {"model_name": "lognormal-8ms", "instance_type": "ml.c5.large",
                                    "initial_instance_count": 1}, {"kind": "poisson", "rate": rate})
    _, records, _ = simulate_with(raw, [profile])
    steady = records.select(records.arrival_s >= WARMUP_S)
    mean = median * math.exp(sigma**2 / 2)
    second = median**2 * math.exp(2 * sigma**2)
    rho = rate * mean
    expected = rate * second / (2 * (1 - rho))
    return [Check("Pollaczek–Khinchine", f"M/G/1, lognormal median 8 ms sigma {sigma:g}, lambda = {rate:g}/s "
                  f"(rho = {rho:.3g}), 20 min", "mean wait", expected,
                  float(np.mean(steady.start_s - steady.arrival_s)), "s", "tests/test_queueing_theory.py")]


def _closed_loop() -> list[Check]:
    checks = []
    c, mean, seconds = 4, 0.010, 300.0
    for users in (2, 8):
        raw = _experiment("5min", 13, {"model_name": "exp-10ms", "instance_type": "ml.c5.xlarge",
                                       "initial_instance_count": 1, "workers": c}, {"kind": "users", "users": users})
        _, records, _ = simulate_with(raw, [_exp_profile()])
        throughput = min(users, c) / mean
        setting = f"{users} users, no think time, {c} workers, exponential E[S] = 10 ms, 5 min"
        checks += [Check("closed-loop saturation", setting, "throughput", throughput, len(records) / seconds, "/s",
                         "tests/test_closed_loop.py"),
                   Check("closed-loop saturation", setting, "mean response (Little)", users / throughput,
                         float(np.mean(records.response_s - records.arrival_s)), "s", "tests/test_closed_loop.py")]
    return checks


def _serverless() -> list[Check]:
    from simfleet.request_records import THROTTLED

    median, sigma = 0.2, 0.5
    mean = median * math.exp(sigma**2 / 2)
    profile = profile_dict("serverless-200ms", [{"instance": "serverless", "workers": 1, "distribution": {
        "kind": "lognormal", "median": "200ms", "sigma": sigma}}], _NOTE)
    checks = []
    for rate, limit in ((10.0, 200), (10.0, 3)):
        variant = {"model_name": "serverless-200ms",
                   "serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": limit}}
        raw = _experiment("10min", 14, variant, {"kind": "poisson", "rate": rate},
                          serverless={"idle_timeout": "1h", "container_start_time": {"kind": "constant",
                                                                                     "value": "0s"}})
        _, records, _ = simulate_with(raw, [profile])
        rho = rate * mean
        steady = records.select(records.arrival_s >= WARMUP_S)
        if limit == 200:
            served = records.status != THROTTLED
            busy, idle = _busy_profile(records.arrival_s[served], records.complete_s[served], WARMUP_S, 600.0)
            setting = f"serverless, lambda = {rate:g}/s, lognormal median 200 ms sigma {sigma:g}, no binding limit"
            checks += [Check("M/G/infinity", setting, "mean busy environments", rho, busy, "",
                             "tests/test_serverless_theory.py"),
                       Check("M/G/infinity", setting, "P(none busy)", math.exp(-rho), idle, "",
                             "tests/test_serverless_theory.py")]
        else:
            checks.append(Check("Erlang B", f"serverless, lambda = {rate:g}/s, max_concurrency {limit}, "
                                f"a = {rho:.3g}", "throttled fraction", erlang_b(limit, rho),
                                float(np.mean(steady.status == THROTTLED)), "", "tests/test_serverless_theory.py"))
    return checks


def _busy_profile(starts: np.ndarray, ends: np.ndarray, t0: float, t1: float) -> tuple[float, float]:
    """Time-average number busy over [t0, t1) and the fraction of that time with none busy."""
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones_like(starts), -np.ones_like(ends)])
    order = np.lexsort((-steps, times))
    edges, level = np.clip(times[order], t0, t1), np.cumsum(steps[order])
    widths = np.diff(np.concatenate([edges, [t1]]))
    busy = float(np.sum(level * widths) / (t1 - t0))
    none = float((np.sum(widths[level == 0]) + edges[0] - t0) / (t1 - t0))
    return busy, none


def _che() -> list[Check]:
    from simfleet.request_records import CACHE_HIT, CACHE_NONE

    n, exponent, artifact = 1000, 0.8, 40e6
    variant = {"model_name": "exp-10ms", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
               "mode": "MultiModel", "multi_model_config": {"model_cache_setting": "Enabled"},
               "model_population": {"count": n, "artifact_size": {"kind": "constant", "value": f"{artifact:g} B"},
                                    "popularity": {"kind": "zipf", "exponent": exponent}}}
    fast = {"download_bandwidth": "1000 GB/s", "download_latency": "0s", "load_time_rule": "bandwidth",
            "load_bandwidth": "1000 GB/s", "load_fixed_time": "0s", "unload_time": "0s"}
    raw = _experiment("10min", 15, variant, {"kind": "poisson", "rate": 250.0}, multi_model=fast)
    result, records, _ = simulate_with(raw, [_exp_profile()], cache=True)
    runtime = result.fleet.variants[0].multi_model
    capacity = int(runtime.tiers.memory_bytes // (artifact * runtime.copies_per_load))
    settled = (records.arrival_s >= 60.0) & (records.cache != CACHE_NONE)
    weights = np.arange(1, n + 1, dtype=float) ** -exponent
    expected = che_hit_ratio(weights / weights.sum(), capacity)
    return [Check("Che's approximation (LRU)", f"multi-model, {n} models, Zipf s = {exponent:g}, cache of "
                  f"{capacity} models, 250 req/s, 10 min", "hit ratio", expected,
                  float(np.mean(records.cache[settled] == CACHE_HIT)), "", "tests/test_mme_theory.py")]


def _jackson_tandem() -> list[Check]:
    from simfleet.request_records import OK

    means, rate = {"stage-a": 0.004, "stage-b": 0.006, "stage-c": 0.008}, 100.0
    profiles = [profile_dict(name, [{"instance": "c5", "workers": 1, "distribution": {
        "kind": "exponential", "mean": f"{mean * 1e3:g}ms"}}], _NOTE) for name, mean in means.items()]
    variant = {"instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
               "containers": [{"container_hostname": name, "model_name": name} for name in means]}
    raw = _experiment("10min", 16, variant, {"kind": "poisson", "rate": rate})
    _, records, _ = simulate_with(raw, profiles)
    steady = records.select((records.arrival_s >= WARMUP_S) & (records.status == OK))
    expected = sum(1 / (1 / mean - rate) for mean in means.values())
    return [Check("Jackson tandem (pipeline)", f"3 serial containers, 1 worker each, exponential 4, 6, 8 ms, "
                  f"lambda = {rate:g}/s, 10 min", "mean ModelLatency (sum of 1/(mu_i - lambda))", expected,
                  float(np.mean(steady.model_latency_s)), "s", "tests/test_pipeline_theory.py")]


def theory_checks() -> list[Check]:
    return [*_erlang_c(), *_pollaczek_khinchine(), *_closed_loop(), *_jackson_tandem(), *_serverless(), *_che()]
