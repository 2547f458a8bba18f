"""Hypothesis strategies for whole experiments: fleets, publish settings and traffic (shared by tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from small_experiments import base_experiment

__all__ = ["experiments"]


@st.composite
def experiments(draw, gpu: bool = False):
    """A small experiment of 1–3 variants of the toy model, with generated MetricsConfig and traffic.

    Durations are whole minutes so that every publish period (up to 60 s here) closes whole.
    """
    raw = base_experiment(duration=draw(st.sampled_from(["1min", "2min"])), seed=draw(st.integers(0, 2**31)))
    raw["metrics"] = {"percentiles": draw(st.sampled_from([[50], [50, 99], [10, 90, 99.9]])),
                      "high_resolution": draw(st.sampled_from([False, False, True])),
                      "histogram_scale": draw(st.sampled_from([4, 8])),
                      "concurrency_sample_interval": draw(st.sampled_from(["1s", "2.5s", "10s"]))}
    raw["endpoints"][0]["metrics_config"] = {
        "enable_enhanced_metrics": draw(st.booleans()),
        "metric_publish_frequency_in_seconds": draw(st.sampled_from([10, 30, 60])),
    }
    instance_types = ["ml.c5.large", "ml.c5.xlarge", "ml.m5.large"] + (["ml.g5.xlarge", "ml.g5.12xlarge"] if gpu else [])
    variants = []
    for index in range(draw(st.integers(1, 3))):
        instance_type = draw(st.sampled_from(instance_types))
        variant = {
            "variant_name": f"V{index}",
            "model_name": "toy",
            "instance_type": instance_type,
            "initial_instance_count": draw(st.integers(1, 4)),
            "initial_variant_weight": draw(st.sampled_from([0.5, 1.0, 3.0])),
            "routing_config": {"routing_strategy": draw(st.sampled_from(["RANDOM", "LEAST_OUTSTANDING_REQUESTS"]))},
            "model_error_rate": draw(st.sampled_from([0.0, 0.05])),
            "model_error_status": draw(st.sampled_from([400, 500])),
        }
        if instance_type == "ml.g5.12xlarge":
            variant["workers"] = draw(st.sampled_from([1, 4]))
        variants.append(variant)
    raw["endpoints"][0]["production_variants"] = variants
    kind = draw(st.sampled_from(["poisson", "constant"]))
    traffic = {"kind": kind, "payload": {"kind": "lognormal", "median": "2 KB", "sigma": 2.0}}
    if draw(st.booleans()):
        traffic["rate"] = draw(st.integers(5, 900))
    else:
        traffic["schedule"] = [["0s", draw(st.integers(0, 300))], ["30s", draw(st.integers(0, 900))]]
        traffic["interpolation"] = draw(st.sampled_from(["linear", "step"]))
    raw["traffic"] = [traffic]
    if draw(st.booleans()):  # a second source, possibly aimed at one variant
        raw["traffic"].append({"kind": draw(st.sampled_from(["poisson", "constant"])),
                               "rate": draw(st.integers(1, 200))})
        if draw(st.booleans()):
            raw["traffic"][-1]["target_variant"] = "V0"
    raw["platform"] = {"max_payload_size": "100 KB", "invocation_timeout": draw(st.sampled_from(["50ms", "60s"]))}
    return raw
