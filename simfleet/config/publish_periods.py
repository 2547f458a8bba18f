"""Which period each metric of an endpoint is published at (reference §1.0, §1.8).

SageMaker publishes invocation metrics every 60 s; with `EnableEnhancedMetrics` they follow
`MetricPublishFrequencyInSeconds`, which utilization metrics always follow; the concurrency
metrics are high resolution, every 10 s. simfleet's `metrics.high_resolution` publishes every
metric every second instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simfleet.config.experiment import (CONCURRENCY_PERIOD_S, HIGH_RESOLUTION_PERIOD_S, INVOCATION_PERIOD_S,
                                        Endpoint, Experiment)

__all__ = ["PublishPlan", "publish_plan", "periods_in_use", "clock_tick_s", "alignment_s"]


@dataclass(frozen=True)
class PublishPlan:
    """Publish periods (seconds) of one endpoint's metrics, and whether enhanced dimensions are on."""

    invocation_s: int
    utilization_s: int
    concurrency_s: int
    enhanced: bool

    @property
    def periods(self) -> tuple[int, int, int]:
        return (self.invocation_s, self.utilization_s, self.concurrency_s)

    def period_for(self, rule: str) -> int:
        """The period of a metric catalog `period` rule: invocation, utilization, high-resolution, standard."""
        return {"invocation": self.invocation_s, "utilization": self.utilization_s,
                "high-resolution": self.concurrency_s, "standard": INVOCATION_PERIOD_S}[rule]


def publish_plan(experiment: Experiment, endpoint: Endpoint) -> PublishPlan:
    config = endpoint.metrics_config
    if experiment.metrics.high_resolution:
        one = HIGH_RESOLUTION_PERIOD_S
        return PublishPlan(one, one, one, config.enable_enhanced_metrics)
    frequency = config.metric_publish_frequency_in_seconds
    invocation = frequency if config.enable_enhanced_metrics else INVOCATION_PERIOD_S
    return PublishPlan(invocation, frequency, CONCURRENCY_PERIOD_S, config.enable_enhanced_metrics)


def periods_in_use(experiment: Experiment) -> list[int]:
    return sorted({p for endpoint in experiment.endpoints for p in publish_plan(experiment, endpoint).periods})


def clock_tick_s(experiment: Experiment) -> int:
    """The metric clock's step: every period in use is a whole number of ticks."""
    return math.gcd(*periods_in_use(experiment))


def alignment_s(experiment: Experiment) -> int:
    """Start time and duration must be whole multiples of this, so every period in use closes whole."""
    return math.lcm(*periods_in_use(experiment))
