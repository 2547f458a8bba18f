"""The invocation metrics of one group of requests, as datapoint distributions, from outcome counts.

SageMaker emits per request a 1 per invocation, 0/1 error indicators (`emission.error_class`),
1 / in-service instances, and latencies in microseconds (reference §1.1). Building each datapoint
from those arrays costs a distinct-value search per metric and period; five of the seven metrics take
at most a few distinct values known in advance, so here they are counted instead: one `bincount`
of the outcome codes gives `Invocations` and the three error indicators, one of the in-service
instance counts gives `InvocationsPerInstance`. Only the two latencies go through
`Distribution.from_values`.

Every distribution equals ``Distribution.from_values`` of the corresponding per-request array,
bit for bit (the Sum included): `tests/test_invocation_datapoints.py` checks it on generated
outcomes against those arrays built naively.
"""

from __future__ import annotations

import numpy as np

from simfleet.cloudwatch.distribution import EXACT_DISTINCT_LIMIT, Distribution
from simfleet.fleet import VariantRuntime
from simfleet.metrics.emission import MODEL_ERROR_OUTCOMES, REACHED_CONTAINER, STATUS_NAMES, error_class, status_in

__all__ = ["invocation_distributions"]

_CODES = np.arange(len(STATUS_NAMES), dtype=np.int8)
_MODEL_ERROR_CODES = status_in(_CODES, MODEL_ERROR_OUTCOMES)
_ONE = np.array([1.0])
_ZERO_ONE = np.array([0.0, 1.0])


def invocation_distributions(status: np.ndarray, active_instances: np.ndarray, model_latency_s: np.ndarray,
                             overhead_s: np.ndarray, variant: VariantRuntime, scale: int):
    """(metric name, unit, Distribution) for one variant's (or instance's) requests answered in one
    period (Invocations, InvocationsPerInstance, 4XX, 5XX, model errors, ModelLatency,
    OverheadLatency), leaving out the metrics without a value."""
    n = len(status)
    if n == 0:
        return []
    by_status = np.bincount(status, minlength=len(_CODES))[: len(_CODES)]
    is_4xx, is_5xx = error_class(_CODES, variant)
    reached = status_in(status, REACHED_CONTAINER)
    out = [("Invocations", "None", Distribution.from_distinct(_ONE, [n], float(n), scale))]
    per_instance = _per_instance(active_instances, scale)
    if per_instance is not None:
        out.append(("InvocationsPerInstance", "None", per_instance))
    for metric, codes in (("Invocation4XXErrors", is_4xx), ("Invocation5XXErrors", is_5xx),
                          ("InvocationModelErrors", _MODEL_ERROR_CODES)):
        out.append((metric, "None", _indicator(int(by_status[codes].sum()), n, scale)))
    if reached.any():
        out.append(("ModelLatency", "Microseconds", Distribution.from_values(model_latency_s[reached] * 1e6, scale)))
        out.append(("OverheadLatency", "Microseconds", Distribution.from_values(overhead_s[reached] * 1e6, scale)))
    return out


def _indicator(ones: int, n: int, scale: int) -> Distribution:
    """The distribution of n 0/1 values of which `ones` are 1 (their Sum is exact in any order)."""
    if ones == 0:
        return Distribution.from_distinct(_ZERO_ONE[:1], [n], 0.0, scale)
    if ones == n:
        return Distribution.from_distinct(_ONE, [n], float(n), scale)
    return Distribution.from_distinct(_ZERO_ONE, [n - ones, ones], float(ones), scale)


def _per_instance(active_instances: np.ndarray, scale: int) -> Distribution | None:
    """`InvocationsPerInstance`: 1 / in-service instances for each request dispatched to some."""
    has = active_instances > 0
    values = 1.0 / (active_instances if has.all() else active_instances[has])
    if not len(values):
        return None
    per_count = np.bincount(active_instances)
    present = np.flatnonzero(per_count[1:]) + 1
    if len(present) > EXACT_DISTINCT_LIMIT:
        return Distribution.from_values(values, scale)
    # 1/k ascends as k descends; the Sum is the one `from_values` takes, over the same array
    return Distribution.from_distinct(1.0 / present[::-1], per_count[present[::-1]], float(values.sum()), scale)
