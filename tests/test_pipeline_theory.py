"""Inference pipelines and direct invocation, end to end, against queueing theory and per-request identities.

* A serial pipeline of three containers with one worker each, exponential service (means 4, 6 and
  8 ms) and Poisson arrivals is a Jackson tandem: each container behaves as an M/M/1 queue, so its
  mean `ContainerLatency` is 1/(μᵢ − λ), and the pipeline's mean `ModelLatency` is their sum.
* Direct invocation with per-container Poisson rates: each container is its own M/M/c queue
  (Erlang C), whatever the other containers on the instance carry.
* Identities on every request and period: a pipeline request's `ModelLatency` is the sum of its
  containers' latencies, and each period's `ContainerLatency` sample count of the last container
  equals the requests its answers completed in that period.

Each theory check runs R seeded replications and asks the analytic value to lie in their 99.9 %
Student-t interval; the metrics are read as a user reads them, from the run's datapoints.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from small_experiments import base_experiment, scenario
from simfleet.engine.simulation import simulate
from simfleet.request_records import OK, RequestRecords

REPLICATIONS = 10
MEANS_S = {"stage-a": 0.004, "stage-b": 0.006, "stage-c": 0.008}


def pipeline_experiment(rate: float, duration: str = "10min", seed: int = 1) -> dict:
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    raw["endpoints"][0]["production_variants"] = [{
        "variant_name": "A", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
        "containers": [{"container_hostname": name, "model_name": name} for name in MEANS_S],
    }]
    raw["traffic"] = [{"kind": "poisson", "rate": rate}]
    return raw


def direct_experiment(rates: dict[str, float], workers: int, duration: str = "10min", seed: int = 1) -> dict:
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    raw["endpoints"][0]["production_variants"] = [{
        "variant_name": "A", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
        "inference_execution_config": {"mode": "Direct"},
        "containers": [{"container_hostname": name, "model_name": name, "workers": workers} for name in rates],
    }]
    raw["traffic"] = [{"kind": "poisson", "rate": rate, "target_container_hostname": name}
                      for name, rate in rates.items()]
    return raw


def run(raw: dict):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append)
    return result, RequestRecords.concat(parts)


def container_means_us(metrics) -> dict[str, float]:
    """Each container's mean ContainerLatency over the run, from its datapoints (Sum / SampleCount)."""
    table = metrics.to_pandas()
    table = table[table.metric_name == "ContainerLatency"]
    sums = table.groupby("ContainerName")[["sum", "sample_count"]].sum()
    return (sums["sum"] / sums["sample_count"]).to_dict()


def _interval(samples, level: float = 0.999):
    samples = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, len(samples) - 1) * samples.std(ddof=1) / math.sqrt(len(samples))
    return samples.mean() - half, samples.mean() + half


@pytest.mark.slow
def test_a_pipeline_is_a_jackson_tandem_of_mm1_queues():
    rate = 100.0
    per_container = {name: [] for name in MEANS_S}
    model = []
    for seed in range(REPLICATIONS):
        result, records = run(pipeline_experiment(rate, seed=1000 + seed))
        for name, mean_us in container_means_us(result.metrics).items():
            per_container[name].append(mean_us / 1e6)
        ok = records.status == OK
        model.append(records.model_latency_s[ok].mean())
    for name, mean_s in MEANS_S.items():
        lo, hi = _interval(per_container[name])
        expected = 1.0 / (1.0 / mean_s - rate)
        assert lo <= expected <= hi, (name, expected, lo, hi)
    lo, hi = _interval(model)
    total = sum(1.0 / (1.0 / mean_s - rate) for mean_s in MEANS_S.values())
    assert lo <= total <= hi, (total, lo, hi)


def erlang_c_sojourn(servers: int, rate: float, mean_service: float) -> float:
    """M/M/c mean time in system: the mean service plus Erlang C's mean wait."""
    offered = rate * mean_service
    top = offered ** servers / math.factorial(servers) * servers / (servers - offered)
    waiting = top / (sum(offered ** k / math.factorial(k) for k in range(servers)) + top)
    return mean_service + waiting * mean_service / (servers - offered)


@pytest.mark.slow
def test_direct_invocation_containers_are_independent_mmc_queues():
    rates = {"stage-a": 300.0, "stage-b": 250.0, "stage-c": 150.0}
    means = {name: [] for name in rates}
    for seed in range(REPLICATIONS):
        result, _ = run(direct_experiment(rates, workers=2, seed=2000 + seed))
        for name, mean_us in container_means_us(result.metrics).items():
            means[name].append(mean_us / 1e6)
    for name, rate in rates.items():
        lo, hi = _interval(means[name])
        expected = erlang_c_sojourn(2, rate, MEANS_S[name])
        assert lo <= expected <= hi, (name, expected, lo, hi)


def test_model_latency_is_the_sum_of_the_container_latencies_and_counts_match_per_period():
    result, records = run(pipeline_experiment(150.0, duration="3min"))
    table = result.metrics.to_pandas()
    latency = table[table.metric_name == "ContainerLatency"]
    assert set(latency.ContainerName) == set(MEANS_S)
    model = table[(table.metric_name == "ModelLatency") & table.InstanceId.isna()]
    # over the run: each answered request's ModelLatency is its containers' latencies end to end
    # (its hops' times telescope), so the Sums agree up to rounding and the requests in flight
    served_us = latency.groupby("ContainerName")["sum"].sum().sum()
    assert served_us == pytest.approx(model["sum"].sum(), rel=2e-3)
    # per period, the last container's samples are the requests it answered in that period
    last = latency[latency.ContainerName == "stage-c"].set_index("timestamp")["sample_count"]
    ok = records.status == OK
    start = result.metrics.to_pandas().timestamp.min()
    period = np.floor(records.complete_s[ok] / 60.0)
    counts = np.bincount(period.astype(int), minlength=3)
    for k, count in enumerate(counts[:3]):   # the three periods the run closes
        stamp = start + np.timedelta64(60 * k, "s")
        assert last.get(stamp, 0) == count, k
    # no container latency for single-container variants
    plain, _ = run(base_experiment(duration="1min"))
    assert "ContainerLatency" not in set(plain.metrics.to_pandas().metric_name)


def test_a_replayed_trace_names_each_requests_container(tmp_path):
    """A trace's hostname column reaches the engine request by request: each container counts the
    requests that named it, and a name no container has, or none, is a 400 at the variant's level."""
    rng = np.random.default_rng(7)
    n = 600
    names = rng.choice(["stage-a", "stage-b", "stage-c", "nobody", ""], n, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    times = np.sort(rng.uniform(0, 110, n))
    trace = tmp_path / "trace.csv"
    trace.write_text("ts,host\n" + "".join(f"{t:.6f},{name}\n" for t, name in zip(times, names)))
    raw = direct_experiment({"stage-a": 1.0}, workers=2, duration="2min")
    raw["endpoints"][0]["production_variants"][0]["containers"] = [
        {"container_hostname": name, "model_name": name, "workers": 2} for name in MEANS_S]
    raw["traffic"] = [{"kind": "replay", "file": str(trace), "time_column": "ts",
                       "target_container_hostname_column": "host"}]
    result, records = run(raw)
    table = result.metrics.to_pandas()
    invocations = table[(table.metric_name == "Invocations")]
    per_container = invocations[invocations.ContainerName.notna()].groupby("ContainerName")["sum"].sum()
    for name in MEANS_S:
        assert per_container.get(name, 0) == np.sum(names == name), name
    variant = invocations[invocations.ContainerName.isna() & invocations.InstanceId.isna()]["sum"].sum()
    assert variant == n
    errors = table[(table.metric_name == "Invocation4XXErrors") & table.ContainerName.isna()
                   & table.InstanceId.isna()]["sum"].sum()
    assert errors == np.sum((names == "nobody") | (names == ""))


def test_the_request_trace_names_each_requests_container_and_source(tmp_path):
    import pandas as pd

    from simfleet.outputs.run_directory import run_to_directory

    rates = {"stage-a": 30.0, "stage-b": 10.0}
    raw = direct_experiment(rates, workers=2, duration="1min")
    raw["traffic"].append({"kind": "poisson", "rate": 5.0, "target_container_hostname": "nobody"})
    run_to_directory(scenario(raw), tmp_path, requests=True)
    trace = pd.read_parquet(tmp_path / "requests.parquet")
    by_source = trace.groupby("source")
    assert set(by_source.groups) == {0, 1, 2}
    for source, name in enumerate(rates):
        assert set(by_source.get_group(source).ContainerName) == {name}
    unknown = by_source.get_group(2)
    assert unknown.ContainerName.isna().all() and (unknown.status == "InvalidTarget").all()
    assert (unknown.error_class == "4XX").all()
    served = trace[trace.status == "OK"]
    assert (served.complete_at_s >= served.start_at_s).all()
