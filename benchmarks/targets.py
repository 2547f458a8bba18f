"""The performance targets of issue 6, and how a measured figure is checked against one.

Source of every bound: issue 6 ("Performance: millions of simulated requests per second, memory
independent of run length"), section "Targets"; the pipeline workload's, issue 14 ("Request plane
v2"), section "Performance"; the serverless workload's, issue 16 ("Serverless endpoints"), and the
multi_model workload's, issue 15 ("Multi-model endpoints"), section "Performance"; the long runs'
(week, sweep_1000), issue 20 (output safety), deliverable "Long runs".
"""

from __future__ import annotations

__all__ = ["NAIVE_RATIO_MIN", "KERNEL_FACTOR_MAX", "DAY_WALL_MAX_S", "DAY_PEAK_RSS_MAX_BYTES",
           "TINY_RUN_MAX_S", "RECOMMENDER_WALL_MAX_S", "PIPELINE_NAIVE_RATIO_MIN", "PIPELINE_KERNEL_FACTOR_MAX",
           "SERVERLESS_NAIVE_RATIO_MIN", "MULTI_MODEL_NAIVE_RATIO_MIN", "MULTI_MODEL_MEMORY_GROWTH_MAX",
           "LONG_RUN_FLAT_MAX",
           "target", "speed_targets"]

#: open and closed loop end to end, metrics included: at least this many times the naive SimPy model
NAIVE_RATIO_MIN = 100.0
#: ... and within this factor of the bare kernel (kernel requests/s ÷ simfleet requests/s)
KERNEL_FACTOR_MAX = 3.0
#: the day workload: wall time and peak memory
DAY_WALL_MAX_S = 120.0
DAY_PEAK_RSS_MAX_BYTES = 2**30
#: `simfleet run` on a tiny experiment with a warm JIT cache, the whole command
TINY_RUN_MAX_S = 2.0
#: the recommender job (an Advanced job over 10 instance types)
RECOMMENDER_WALL_MAX_S = 30.0
#: issue 14, the pipeline workload (three containers, 1 h): end to end at least this many times the
#: naive per-hop SimPy model, and within this factor of its own bare kernel
PIPELINE_NAIVE_RATIO_MIN = 50.0
PIPELINE_KERNEL_FACTOR_MAX = 4.0
#: issue 16, the serverless workload (spiky traffic, 1 h, over a million requests): end to end at
#: least this many times the naive SimPy model of environments
SERVERLESS_NAIVE_RATIO_MIN = 50.0
#: issue 15, the multi_model workload (1,000 models, 4 instances, 1 h at 500 req/s): end to end at
#: least this many times the naive SimPy model with its cache, and memory bounded by models x
#: instances, not by requests: a 6x longer run may not take more than this much more peak memory
MULTI_MODEL_NAIVE_RATIO_MIN = 50.0
MULTI_MODEL_MEMORY_GROWTH_MAX = 1.5
#: issue 20, the week workload: "a week of diurnal traffic ... simulated with flat working memory".
#: The issue gives no number; "flat" is read as: the last day's memory at most this many times the
#: first day's (a growth of a quarter over six more days would not be flat in any sense)
LONG_RUN_FLAT_MAX = 1.25


def target(what: str, measured: float, relation: str, bound: float, unit: str = "") -> dict:
    """One target: `measured relation bound` (relation "<=", "<" or ">=") and whether it holds."""
    checks = {">=": measured >= bound, "<=": measured <= bound, "<": measured < bound}
    return {"what": what, "measured": float(measured), "relation": relation, "bound": float(bound),
            "unit": unit, "met": bool(checks[relation])}


def speed_targets(simfleet_rate: float, naive_rate: float, kernel_rate: float) -> list[dict]:
    """The two end-to-end speed targets of the open- and closed-loop workloads."""
    return [
        target("simfleet end to end / naive SimPy", simfleet_rate / naive_rate, ">=", NAIVE_RATIO_MIN, "x"),
        target("bare kernel / simfleet end to end", kernel_rate / simfleet_rate, "<=", KERNEL_FACTOR_MAX, "x"),
    ]
