"""The CloudWatch metrics only serverless variants publish (reference §1.6), from their request
records and the lifecycle of their execution environments.

Part of the metrics layer, beside `metrics.aggregator`, which feeds it and publishes what it returns:

* per request, with the variant's invocation metrics (`request_values`): `ModelSetupTime`, one
  sample in microseconds per request that waited for a cold start (`setup_s` > 0); with
  Provisioned Concurrency, `ServerlessProvisionedConcurrencyInvocations` and
  `...SpilloverInvocations`. AWS lists Average/Maximum/Minimum for these two Counts and no Sum, the
  statistics of a gauge: simfleet publishes **one value per period, the number of such requests
  answered in it** (so Average = Maximum = Minimum = that count, SampleCount = 1; a coarser period
  re-bucketed from them has the mean count per base period as Average).
* sampled gauges, at the variant's utilization period (`SampledState.close`): every
  `metrics.concurrency_sample_interval`, as `ConcurrentRequestsPerModel` is sampled, the concurrent
  executions — the served requests whose environment is busy, from arrival (the cold start counts
  against MaxConcurrency) to completion, ``arrival_s <= t < complete_s`` — divided by
  `MaxConcurrency` (`ServerlessConcurrentExecutionsUtilization`); with Provisioned Concurrency the
  executions on provisioned environments (`...ProvisionedConcurrencyExecutions`) and those divided
  by the provisioned environments at that instant (`...ProvisionedConcurrencyUtilization`; an
  instant with none is left out). `MemoryUtilization`: AWS does not say what it measures for a
  serverless variant; simfleet takes the model's memory footprint (workers × memory per worker) as a
  percentage of `MemorySizeInMB` MiB, one value per sample instant at which at least one environment
  is alive (alive = provisioned environments + on-demand ones started and not yet reaped).

Which metrics a serverless variant publishes at all comes from the catalog (`SERVERLESS_METRICS`:
the entries whose ``EndpointName, VariantName`` set the serverless capabilities publish), so host
metrics, `InvocationsPerInstance` and `InvocationModelErrors` never appear for one.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from simfleet.cloudwatch.catalog import metric_catalog
from simfleet.cloudwatch.distribution import Distribution
from simfleet.fleet import VariantRuntime
from simfleet.metrics.aggregation_kernels import sample_occupancy
from simfleet.request_records import (ENV_COLD, ENV_NONE, ENV_PROVISIONED, ENV_PROVISIONED_ADDED, ENV_REAPED,
                                      ENV_RELEASED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, ENV_STARTED,
                                      EnvironmentRecords)

__all__ = ["SERVERLESS_CAPABILITIES", "serverless_metrics", "request_values", "SampledState",
           "environment_steps", "has_provisioned", "memory_utilization_percent", "cold_started", "MIB"]

SERVERLESS_CAPABILITIES = ("serverless", "serverless-provisioned-concurrency")
#: `MemorySizeInMB` counts binary megabytes (1024 MB is the 1 GB step of the API).
MIB = 1 << 20

_SERVED = np.array([False, True])
_PROVISIONED_KEY, _ON_DEMAND_KEY = 1, 0
_COLD = (ENV_COLD, ENV_SPILLOVER_COLD)
_SPILLOVER = (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD)


@cache
def serverless_metrics() -> frozenset[tuple[str, str]]:
    """(namespace, name) of every metric a serverless variant publishes: the catalog's available
    entries whose ``EndpointName, VariantName`` dimension set a serverless capability publishes."""
    return frozenset(spec.key for spec in metric_catalog() if spec.available and any(
        set(item.capabilities) & set(SERVERLESS_CAPABILITIES) and item.names == ("EndpointName", "VariantName")
        for item in spec.dimension_sets))


def has_provisioned(variant: VariantRuntime, level_seen: bool = False) -> bool:
    """Does the variant publish the Provisioned Concurrency metrics (configured, or seen added)?"""
    return variant.serverless is not None and (variant.serverless.provisioned_concurrency > 0 or level_seen)


def request_values(setup_s: np.ndarray, environment: np.ndarray, provisioned: bool, scale: int):
    """(metric name, unit, Distribution) of the per-request serverless metrics of one variant's
    requests answered in one period (see the module docstring)."""
    out = []
    cold = setup_s > 0
    if cold.any():
        out.append(("ModelSetupTime", "Microseconds", Distribution.from_values(setup_s[cold] * 1e6, scale)))
    if provisioned:
        for metric, codes in (("ServerlessProvisionedConcurrencyInvocations", (ENV_PROVISIONED,)),
                              ("ServerlessProvisionedConcurrencySpilloverInvocations", _SPILLOVER)):
            count = float(codes_in(environment, codes).sum())
            out.append((metric, "Count", Distribution.from_values(np.array([count]), scale)))
    return out


def memory_utilization_percent(variant: VariantRuntime) -> float:
    """The model's memory footprint as a percentage of the variant's `MemorySizeInMB` (at most 100)."""
    entry = variant.entry
    return min(100.0, 100.0 * entry.workers * entry.memory_per_worker_bytes / (variant.serverless.memory_size_mb * MIB))


def environment_steps(records: EnvironmentRecords) -> tuple[np.ndarray, np.ndarray]:
    """(change of alive environments, change of provisioned environments) of each lifecycle record:
    a start or a provisioned addition adds one, a reap or a release takes one away."""
    kind = records.kind
    alive = codes_in(kind, (ENV_STARTED, ENV_PROVISIONED_ADDED)).astype(np.int64) \
        - codes_in(kind, (ENV_REAPED, ENV_RELEASED)).astype(np.int64)
    level = (kind == ENV_PROVISIONED_ADDED).astype(np.int64) - (kind == ENV_RELEASED).astype(np.int64)
    return alive, level


class SampledState:
    """One serverless variant's sampled gauges: its executions not yet past the last close, and
    its environments (alive, provisioned) as steps in time.

    Executions are kept as `sample_occupancy` keeps an instance's requests (key 1: on a provisioned
    environment, 0: on-demand), so memory holds one period of requests plus those still running.
    Lifecycle records may come in any order; a record counts from its own time on (an environment
    started at a sample instant is alive at it, one reaped then is not).
    """

    def __init__(self, variant: VariantRuntime):
        self.variant = variant
        self._parts: list[tuple] = []
        self._events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.alive = 0          # alive environments from the records before the last close
        self.level = 0          # provisioned environments likewise
        self.level_seen = False

    def add(self, arrival_s: np.ndarray, complete_s: np.ndarray, environment: np.ndarray) -> None:
        served = (environment != ENV_NONE).astype(np.int8)
        key = np.where(environment == ENV_PROVISIONED, _PROVISIONED_KEY, _ON_DEMAND_KEY).astype(np.int32)
        self._parts.append((key, arrival_s, complete_s, served))

    def add_environment(self, records: EnvironmentRecords) -> None:
        alive, level = environment_steps(records)
        self._events.append((np.asarray(records.time_s, np.float64), alive, level))
        self.level_seen |= bool((records.kind == ENV_PROVISIONED_ADDED).any())

    def steps_at(self, times: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(alive, provisioned) environments at each of `times` (all before `t`), from the records
        before `t`; those are folded into the running counts, later ones kept."""
        events = [e for e in self._events if len(e[0])]
        if not events:
            return np.full(len(times), float(self.alive)), np.full(len(times), float(self.level))
        time = np.concatenate([e[0] for e in events])
        alive = np.concatenate([e[1] for e in events])
        level = np.concatenate([e[2] for e in events])
        now = time < t
        order = np.argsort(time[now], kind="stable")
        sorted_time = time[now][order]
        upto = np.searchsorted(sorted_time, times, side="right")
        cum_alive = np.concatenate([[0], np.cumsum(alive[now][order])])
        cum_level = np.concatenate([[0], np.cumsum(level[now][order])])
        alive_at = (self.alive + cum_alive[upto]).astype(np.float64)
        level_at = (self.level + cum_level[upto]).astype(np.float64)
        self.alive += int(cum_alive[-1])
        self.level += int(cum_level[-1])
        self._events = [(time[~now], alive[~now], level[~now])] if (~now).any() else []
        return alive_at, level_at

    def close(self, t: float, period_s: int, sample_interval: float):
        """(namespace, metric, unit, values) of the gauges of the period ending at `t`."""
        variant, runtime = self.variant, self.variant.serverless
        n = max(1, int(round(period_s / sample_interval)))
        times = t - period_s + np.arange(n) * (period_s / n)
        counts, still = sample_occupancy(self._parts, _SERVED, times, t, 2)
        self._parts = [still] if len(still[0]) else []
        executions = counts[_ON_DEMAND_KEY] + counts[_PROVISIONED_KEY]
        alive, level = self.steps_at(times, t)
        out = [("AWS/SageMaker", "ServerlessConcurrentExecutionsUtilization", "None",
                executions / runtime.max_concurrency)]
        if has_provisioned(variant, self.level_seen):
            provisioned = counts[_PROVISIONED_KEY]
            out.append(("AWS/SageMaker", "ServerlessProvisionedConcurrencyExecutions", "Count", provisioned))
            some = level > 0
            if some.any():
                out.append(("AWS/SageMaker", "ServerlessProvisionedConcurrencyUtilization", "None",
                            provisioned[some] / level[some]))
        if (alive > 0).any():
            out.append(("/aws/sagemaker/Endpoints", "MemoryUtilization", "Percent",
                        np.full(int((alive > 0).sum()), memory_utilization_percent(variant))))
        return out


def cold_started(environment: np.ndarray) -> np.ndarray:
    """Requests that waited for a new on-demand environment."""
    return codes_in(environment, _COLD)


def codes_in(column: np.ndarray, codes) -> np.ndarray:
    """``column`` ∈ ``codes`` for a column of small non-negative codes (ENV_* codes, lifecycle kinds),
    by table lookup (`np.isin` sorts both sides on every call)."""
    table = np.zeros(max(codes) + 2, np.bool_)   # the last entry stands for every larger code
    table[list(codes)] = True
    return np.take(table, column, mode="clip")
