"""Serverless load tests of an Inference Recommender job: what one tests, its cold starts, its cost.

Beside `results`, used by `test_plan`, `load_test` and `responses`: a `ServerlessSetup` is the
`ServerlessConfig` {MemorySizeInMB, MaxConcurrency} of an `EndpointConfigurations` member
(ProvisionedConcurrency is refused there, as AWS documents: "not supported for serverless endpoint
recommendations for Inference Recommender jobs" [BOTO-SM]); `model_setup_time_us` reduces the
`ModelSetupTime` datapoints of a test's run to the one integer of `RecommendationMetrics`;
`serverless_cost_per_inference` reads what a test's run billed.

What AWS documents (reference §7.3, and the load-test results page, seed 003): a serverless
recommendation is read like an instance one, except that `EndpointConfiguration` holds the
`ServerlessConfig` tested, and its metrics add `ModelSetupTime`, "the time it takes to launch new
compute resources for a serverless endpoint", measured "in microseconds" (botocore:
integer ≥ 0, "NaN indicates that the value is not available").

Decisions where AWS is silent (README, Inference Recommender jobs):

* **ModelSetupTime** is one statistic (`SimfleetSettings.model_setup_time_statistic`, default
  Average) of every `ModelSetupTime` sample (one per cold start, µs) the test's run published for
  its endpoint, whole test long, rounded to an integer: cold starts come when the ramp first
  needs an environment, not at the plateau, so the plateau minute alone often has none. Without
  any cold start the member is left out (an integer member cannot hold NaN).
* **Throughput.** A serverless endpoint has no instances: `MaxInvocations` is the plateau itself
  (served invocations per minute within the latency threshold), capped by MaxConcurrency, and
  `EndpointConfiguration` has no InitialInstanceCount. Requests throttled at MaxConcurrency are
  answered 400 and counted in `Invocation4XXErrors` (DESIGN §4); they are taken out of each
  minute's invocations (Invocations − Invocation4XXErrors), so they neither reach
  StoppingConditions.MaxInvocations nor raise the plateau: once MaxConcurrency binds, served
  invocations level off and `FlatInvocations` stops the test, as on a saturated instance. Errors
  stop no test, on instances or serverless. When StoppingConditions.MaxInvocations is above the
  plateau the configuration cannot carry it (the `simfleet` member of the response says so,
  `carries_max_invocations`); it is still a recommendation, ranked by its numbers.
* **Cost.** `CostPerInference` = what the run billed for compute and data processed (per-ms
  compute × the memory size's price + data IN and OUT, `metrics.serverless_billing`) ÷ the
  requests served, over the whole test (a request's bill does not depend on the load);
  `CostPerHour` = CostPerInference × MaxInvocations × 60, the hour at the recommended rate, so that
  CostPerInference = CostPerHour / (MaxInvocations × 60) holds on every recommendation, instance or
  serverless, and both rank side by side. A price the catalog lacks leaves the cost members out,
  as for an instance type without a price.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

__all__ = ["ServerlessSetup", "model_setup_time_us", "serverless_cost_per_inference", "SETUP_STATISTICS",
           "check_setup_statistic"]

#: Statistics `model_setup_time_statistic` may name: CloudWatch's, or a percentile like "p90".
SETUP_STATISTICS = ("Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(\d{1,2}(\.\d+)?|100)")


@dataclass(frozen=True)
class ServerlessSetup:
    """A serverless configuration under test: `ServerlessConfig` {MemorySizeInMB, MaxConcurrency}."""

    memory_size_mb: int
    max_concurrency: int

    @property
    def label(self) -> str:
        """How tables and progress lines name it, e.g. ``serverless 2048 MB ×5``."""
        return f"serverless {self.memory_size_mb} MB ×{self.max_concurrency}"

    def serverless_config(self) -> dict:
        """`ProductionVariantServerlessConfig` as the AWS response writes it."""
        return {"MemorySizeInMB": self.memory_size_mb, "MaxConcurrency": self.max_concurrency}

    def variant_config(self) -> dict:
        """The experiment file's `serverless_config` of the variant under test."""
        return {"memory_size_in_mb": self.memory_size_mb, "max_concurrency": self.max_concurrency}


def check_setup_statistic(name: str) -> str:
    """`name` if it is one of `SETUP_STATISTICS` or a percentile ``p0``…``p100``; ValueError otherwise."""
    if name in SETUP_STATISTICS or _PERCENTILE.fullmatch(name):
        return name
    raise ValueError(f"expected Average, Minimum, Maximum or a percentile like 'p90', got {name!r}")


def model_setup_time_us(parts: Sequence[Any], statistic: str = "Average") -> int | None:
    """The statistic of the ModelSetupTime samples (µs) behind `parts` (CloudWatch `Distribution`s of
    the test's ModelSetupTime datapoints), rounded to a whole µs; None when there is none."""
    parts = [p for p in parts if p.count]
    if not parts:
        return None
    check_setup_statistic(statistic)
    if statistic == "Average":
        value = sum(p.total for p in parts) / sum(p.count for p in parts)
    elif statistic == "Minimum":
        value = min(p.minimum for p in parts)
    elif statistic == "Maximum":
        value = max(p.maximum for p in parts)
    else:
        merged = type(parts[0]).merge(parts) if len(parts) > 1 else parts[0]
        value = merged.percentile(float(statistic[1:]))
    return int(round(value))


def serverless_cost_per_inference(variant_summary: Mapping[str, Any]) -> float | None:
    """USD per served request of a serverless variant's run (`summary.json`'s variant entry): its
    billed cost ÷ its served requests; None when a price is missing or nothing was served."""
    cost = variant_summary.get("cost")
    served = (variant_summary.get("serverless") or {}).get("served") or 0
    if cost is None or not served or not math.isfinite(cost):
        return None
    return cost / served
