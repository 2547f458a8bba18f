"""Order Inference Recommender results by cost, latency and throughput, and show them as a table.

Last stage of `simfleet recommend`, after `results`: `rank` orders the load tests that gave a
recommendation (the first is the best, as the SageMaker Python SDK assumes when it deploys
`inference_recommendations[0]` [SDK-IR]); `table` prints them on the terminal.

What AWS documents: Studio Classic's results tab has three drop-downs, one each for Cost, Latency
and Throughput, each set to one of five levels, "Lowest importance", "Low importance",
"Moderate importance", "High importance" or "Highest importance", and shows its top
recommendation from those choices [IRLOAD] (seed 003). Which metric stands for each objective is
qualitative: latency-sensitive → ModelLatency, throughput → MaxInvocations, cost without latency
deadline → CostPerHour, price-performance → CostPerInference [IRRES]. How the console weighs the
levels is not documented.

Decision (the score): each level is a weight, Lowest 0, Low 1, Moderate 2, High 3, Highest 4, so
that Lowest takes an objective out of the ranking. Each objective scores a result in (0, 1] by
its ratio to the best result: cost = lowest cost / its cost (CostPerHour by default, the cost of
the recommended fleet, which carries StoppingConditions.MaxInvocations when the job gives one;
`Preferences.cost_metric` may name CostPerInference), latency = lowest ModelLatency / its
ModelLatency, throughput = its MaxInvocations / highest MaxInvocations. The rank is by the
weighted sum, highest first; a result missing a metric (no price) scores 0 on that objective and
stays in the ranking, its cost shown as "no price".
Ties, and all weights Lowest, fall back to CostPerInference, then ModelLatency, then the order of
EndpointConfigurations. The default is Moderate for all three (the console's default is not
documented). Serverless and instance configurations rank together on the same three metrics
(a serverless CostPerHour is the hour at its MaxInvocations, `serverless_tests`).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from simfleet.recommender.results import LoadTestResult

__all__ = ["Importance", "Preferences", "scores", "rank", "table", "COST_METRICS"]

COST_METRICS = ("CostPerHour", "CostPerInference")


class Importance(enum.IntEnum):
    """The five importance levels of Studio Classic's Cost, Latency and Throughput drop-downs; the
    value is the weight (see the module's Decision)."""

    LOWEST = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3
    HIGHEST = 4

    @property
    def label(self) -> str:
        """The console's wording, e.g. "Moderate importance"."""
        return f"{self.name.capitalize()} importance"

    @classmethod
    def parse(cls, text: "str | Importance") -> "Importance":
        """From a name ("high"), a console label ("High importance") or a weight ("3")."""
        if isinstance(text, cls):
            return text
        key = str(text).strip().lower().removesuffix(" importance").strip()
        for level in cls:
            if key in (level.name.lower(), str(level.value)):
                return level
        raise ValueError(f"expected one of {', '.join(level.label for level in cls)} (or lowest, low, moderate, "
                         f"high, highest), got {text!r}")


@dataclass(frozen=True)
class Preferences:
    """How important cost, latency and throughput are (Studio Classic's three drop-downs)."""

    cost: Importance = Importance.MODERATE
    latency: Importance = Importance.MODERATE
    throughput: Importance = Importance.MODERATE
    cost_metric: str = "CostPerHour"

    def __post_init__(self):
        for name in ("cost", "latency", "throughput"):
            object.__setattr__(self, name, Importance.parse(getattr(self, name)))
        if self.cost_metric not in COST_METRICS:
            raise ValueError(f"cost_metric must be one of {', '.join(COST_METRICS)}, got {self.cost_metric!r}")


def _value(result: LoadTestResult, metric: str) -> float | None:
    value = {"CostPerHour": result.cost_per_hour, "CostPerInference": result.cost_per_inference,
             "ModelLatency": result.model_latency_us, "MaxInvocations": result.max_invocations}[metric]
    return None if value is None or not math.isfinite(value) else float(value)


def _ratios(results: Sequence[LoadTestResult], metric: str, lower_is_better: bool) -> list[float]:
    """Each result's value as a fraction of the best one, in (0, 1]; 0 where the value is missing."""
    values = [_value(r, metric) for r in results]
    known = [v for v in values if v is not None]
    if not known:
        return [0.0] * len(values)
    best = min(known) if lower_is_better else max(known)
    out = []
    for v in values:
        if v is None:
            out.append(0.0)
        elif lower_is_better:
            out.append(1.0 if v <= 0 else (best / v if best > 0 else 0.0))
        else:
            out.append(v / best if best > 0 else 1.0)
    return out


def scores(results: Sequence[LoadTestResult], preferences: Preferences = Preferences()) -> list[float]:
    """The weighted score of each result (higher is better); results without a recommendation score 0."""
    positions = [i for i, r in enumerate(results) if r.succeeded]
    usable = [results[i] for i in positions]
    parts = zip(_ratios(usable, preferences.cost_metric, True), _ratios(usable, "ModelLatency", True),
                _ratios(usable, "MaxInvocations", False))
    out = [0.0] * len(results)
    for i, (cost, latency, throughput) in zip(positions, parts):
        out[i] = preferences.cost * cost + preferences.latency * latency + preferences.throughput * throughput
    return out


def _tie_break(result: LoadTestResult) -> tuple:
    per_inference, latency = _value(result, "CostPerInference"), _value(result, "ModelLatency")
    return (math.inf if per_inference is None else per_inference, math.inf if latency is None else latency,
            result.index)


def rank(results: Iterable[LoadTestResult], preferences: Preferences = Preferences()) -> list[LoadTestResult]:
    """The results that gave a recommendation, best first (see the module's Decision)."""
    usable = [r for r in results if r.succeeded]
    weighted = scores(usable, preferences)
    order = sorted(range(len(usable)), key=lambda i: (-weighted[i], _tie_break(usable[i])))
    return [usable[i] for i in order]


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


def _cost(value: float | None, spec: str) -> str:
    """A cost, or "no price" where the catalog has none: the configuration stays in the ranking."""
    return "no price" if value is None or not math.isfinite(value) else format(value, spec)


def table(results: Iterable[LoadTestResult], preferences: Preferences = Preferences()) -> str:
    """A fixed-width table: the ranked recommendations, then the load tests that gave none."""
    results = list(results)
    ranked = rank(results, preferences)
    header = (f"{'#':>2}  {'Configuration':<24} {'Count':>5} {'MaxInvocations':>14} {'ModelLatency ms':>15} "
              f"{'CostPerHour':>11} {'CostPerInference':>16}  Stopped by")
    lines = [f"Ranked with Cost: {preferences.cost.label}, Latency: {preferences.latency.label}, "
             f"Throughput: {preferences.throughput.label}", header, "-" * len(header)]
    for n, r in enumerate(ranked, start=1):
        count = "—" if r.initial_instance_count is None else r.initial_instance_count
        lines.append(f"{n:>2}  {r.label:<24} {count:>5} {r.max_invocations:>14} "
                     f"{_fmt(r.model_latency_ms, '.1f'):>15} {_cost(r.cost_per_hour, '.3f'):>11} "
                     f"{_cost(r.cost_per_inference, '.4e'):>16}  {r.stop.condition or '—'}")
    for r in results:
        if not r.succeeded:
            blank = f"{'—':>5} {'—':>14} {'—':>15} {'—':>11} {'—':>16}"
            lines.append(f"{'—':>2}  {r.label:<24} {blank}  {r.stop.condition or '—'}: no recommendation, "
                         f"{r.failure_reason}")
    return "\n".join(lines)
