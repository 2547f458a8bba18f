"""Which period each metric of an endpoint is published at (reference §1.0, §1.8).

SageMaker publishes invocation metrics every 60 s; with `EnableEnhancedMetrics` they follow
`MetricPublishFrequencyInSeconds`, which utilization metrics always follow; the concurrency
metrics are high resolution, every 10 s. simfleet's `metrics.high_resolution` publishes every
metric every second instead. An Inference Recommender load generator (closed-loop users with a
`job_name`) publishes its client metrics every 60 s ("standard"), every second in high resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.config.experiment import (CONCURRENCY_PERIOD_S, HIGH_RESOLUTION_PERIOD_S, INVOCATION_PERIOD_S,
                                        ClosedLoopTraffic, Endpoint, Experiment)

__all__ = ["PublishPlan", "publish_plan", "periods_in_use", "clock_tick_s", "alignment_s", "load_generator_jobs"]


@dataclass(frozen=True)
class PublishPlan:
    """Publish periods (seconds) of one endpoint's metrics, whether enhanced dimensions are on, and
    whether a load generator publishes client metrics at `standard_s` for it."""

    invocation_s: int
    utilization_s: int
    concurrency_s: int
    enhanced: bool
    standard_s: int = INVOCATION_PERIOD_S
    load_generator: bool = False

    @property
    def periods(self) -> tuple[int, ...]:
        own = (self.invocation_s, self.utilization_s, self.concurrency_s)
        return own + (self.standard_s,) if self.load_generator else own

    def period_for(self, rule: str) -> int:
        """The period of a metric catalog `period` rule: invocation, utilization, high-resolution, standard."""
        return {"invocation": self.invocation_s, "utilization": self.utilization_s,
                "high-resolution": self.concurrency_s, "standard": self.standard_s}[rule]


def load_generator_jobs(experiment: Experiment) -> dict[str, str]:
    """Endpoint name → Inference Recommender job name, for endpoints driven by users with a `job_name`."""
    default = experiment.endpoints[0].endpoint_name
    return {source.endpoint_name or default: source.job_name for source in experiment.traffic
            if isinstance(source, ClosedLoopTraffic) and source.job_name is not None}


def publish_plan(experiment: Experiment, endpoint: Endpoint) -> PublishPlan:
    config = endpoint.metrics_config
    driven = endpoint.endpoint_name in load_generator_jobs(experiment)
    if experiment.metrics.high_resolution:
        one = HIGH_RESOLUTION_PERIOD_S
        return PublishPlan(one, one, one, config.enable_enhanced_metrics, one, driven)
    frequency = config.metric_publish_frequency_in_seconds
    invocation = frequency if config.enable_enhanced_metrics else INVOCATION_PERIOD_S
    return PublishPlan(invocation, frequency, CONCURRENCY_PERIOD_S, config.enable_enhanced_metrics,
                       INVOCATION_PERIOD_S, driven)


def periods_in_use(experiment: Experiment) -> list[int]:
    return sorted({p for endpoint in experiment.endpoints for p in publish_plan(experiment, endpoint).periods})


def clock_tick_s(experiment: Experiment) -> int:
    """The metric clock's step: every period in use is a whole number of ticks."""
    return math.gcd(*periods_in_use(experiment))


def alignment_s(experiment: Experiment) -> int:
    """Start time and duration must be whole multiples of this, so every period in use closes whole."""
    return math.lcm(*periods_in_use(experiment))
