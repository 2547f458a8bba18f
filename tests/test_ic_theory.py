"""Inference components through the whole engine against queueing theory and the reservation rule.

* A component whose copies each reserve a whole `ml.c5.xlarge` (4 cores: one copy per instance), with
  RANDOM routing and Poisson traffic at rate λ: each request picks one of the n copies uniformly and
  independently of the arrivals, so each copy sees Poisson traffic at λ/n (Poisson splitting) and is
  an M/M/k queue, k its workers (the toy profile on c5: 2 workers, exponential 10 ms). The mean wait
  and the probability of waiting, from the request trace, must match Erlang C within the 99.9 %
  Student-t interval over independent replications (as `tests/test_queueing_theory.py` does for a
  plain variant). Overhead latency 0: the queue is observed directly.
* A copy's workers follow its reservation (`simfleet.inference_components.runtime.copy_entry`):
  ``workers = "gpus"`` gives the copy its reserved accelerators, ``"vcpus"`` its reserved cores. A
  saturated copy keeps every worker busy, so its utilization over its reservation is
  100 × workers × (accelerators or vCPUs per busy worker) / reserved, and its instance's
  utilization (the only copy there) 100 × the same busy devices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as _scipy_stats

from small_experiments import scenario
from simfleet.engine.simulation import simulate
from simfleet.request_records import RequestRecords
from ic_experiments import ic_experiment

pytestmark = pytest.mark.slow

REPLICATIONS = 12
WARMUP_S = 30.0


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = λ/μ."""
    rho = offered / servers
    top = offered**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def _assert_in_interval(estimates: np.ndarray, expected: float, level: float = 0.999) -> None:
    mean = estimates.mean()
    half = float(_scipy_stats.t.ppf(0.5 + level / 2, len(estimates) - 1)) * estimates.std(ddof=1) / math.sqrt(
        len(estimates))
    assert abs(mean - expected) <= half, (
        f"analytic {expected:.6g} outside {mean:.6g} ± {half:.3g} ({level:.1%} CI over {len(estimates)} runs)")
    assert half < 0.05 * expected, f"interval ±{half:.3g} too wide to test {expected:.6g}"


def test_copies_one_per_instance_are_mmk_queues_against_erlang_c():
    copies, workers, mean_service, rho = 3, 2, 0.010, 0.8     # toy on c5: 2 workers, exponential 10 ms
    rate = copies * rho * workers / mean_service              # λ; each copy gets λ / n
    raw = ic_experiment([{"name": "m", "cores": 4.0, "memory": 1024, "copies": copies, "strategy": "SPREAD",
                          "rate": rate}], initial=copies, routing="RANDOM", duration="10min")
    offered = rate / copies * mean_service
    p_wait = erlang_c(workers, offered)
    mean_wait = p_wait * mean_service / (workers - offered)

    waits, waited = [], []
    for seed in range(REPLICATIONS):
        raw["experiment"]["seed"] = 3000 + seed
        parts: list[RequestRecords] = []
        result = simulate(scenario(raw), requests_sink=parts.append)
        records = RequestRecords.concat(parts)
        steady = records.select(records.arrival_s >= WARMUP_S)
        # one copy per instance, each serving its own requests
        assert len(np.unique(steady.instance)) == copies and (steady.instance >= 0).all()
        assert result.summary["requests"] == len(records)
        waits.append(float(np.mean(steady.start_s - steady.arrival_s)))
        waited.append(float(np.mean(steady.start_s > steady.arrival_s)))
    _assert_in_interval(np.array(waits), mean_wait)
    _assert_in_interval(np.array(waited), p_wait)


@pytest.mark.parametrize("instance_type, model, reservation, kind", [
    # resnet50 on g6: workers = "gpus", one accelerator and one vCPU per busy worker (models/resnet50.toml)
    ("ml.g6.12xlarge", "resnet50", {"number_of_accelerator_devices_required": 2, "number_of_cpu_cores_required": 4},
     "GPU"),
    # toy on m5: workers = "vcpus", one vCPU per busy worker (tests/data/models/toy.toml)
    ("ml.m5.xlarge", "toy", {"number_of_cpu_cores_required": 2}, "CPU"),
])
def test_a_saturated_copy_keeps_its_reserved_devices_busy(instance_type, model, reservation, kind):
    raw = ic_experiment([{"name": "c", "cores": 1.0, "memory": 4096, "copies": 1, "strategy": "SPREAD",
                          "rate": 5000}], initial=1, duration="3min")
    raw["experiment"]["model_paths"] = ["models", "../../models"]   # the test profiles and the shipped ones
    raw["endpoints"][0]["production_variants"][0]["instance_type"] = instance_type
    spec = raw["inference_components"][0]["specification"]
    spec["model_name"] = model
    spec["compute_resource_requirements"].update(reservation)
    metrics = simulate(scenario(raw)).metrics.to_pandas()
    metrics = metrics[metrics.timestamp > metrics.timestamp.min()]   # after the first minute

    def values(namespace, name):
        rows = metrics[(metrics.namespace == namespace) & (metrics.metric_name == name)]
        assert len(rows) == 2
        return rows["average"].to_numpy()

    # the rule: as many workers as reserved devices (a core is one vCPU by default), each keeping one
    # device busy when the copy is saturated
    reserved = reservation["number_of_accelerator_devices_required"] if kind == "GPU" else \
        reservation["number_of_cpu_cores_required"]
    workers = reserved
    per_copy = values("/aws/sagemaker/InferenceComponents", f"{kind}UtilizationNormalized")
    assert np.allclose(per_copy, 100.0 * workers / reserved, rtol=1e-3)
    host = values("/aws/sagemaker/Endpoints", f"{kind}Utilization")   # not clipped at the reservation
    assert np.allclose(host, 100.0 * reserved, rtol=1e-3)
    if kind == "GPU":   # the copy's CPU: one vCPU per busy worker over its 4 reserved cores
        assert np.allclose(values("/aws/sagemaker/InferenceComponents", "CPUUtilizationNormalized"),
                           100.0 * workers / reservation["number_of_cpu_cores_required"], rtol=1e-3)
