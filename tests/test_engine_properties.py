"""Properties every run must have, on hypothesis-generated fleets and traffic.

* cutting time into segments changes nothing; the same seed gives the same tables;
* Little's law: the time-average number of requests in the system, sampled independently from
  the request trace, equals λ·W.

The metric semantics (every datapoint against a naive recomputation) are in test_metric_semantics.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from small_experiments import base_experiment, scenario
from fleet_strategies import experiments
from simfleet.request_records import RequestRecords
from simfleet.engine.simulation import simulate


def _run(raw, **kwargs):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append, **kwargs)
    return result, RequestRecords.concat(parts) if parts else RequestRecords.empty()


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(), st.sampled_from([0.37, 3.0, 1000.0]))
def test_segmentation_changes_nothing(raw, segment):
    reference, reference_records = _run(raw)
    result, records = _run(raw, max_segment_s=segment)
    assert result.metrics.equals(reference.metrics)
    assert result.metric_values.equals(reference.metric_values)
    assert result.summary == reference.summary
    for name in ("arrival_s", "instance", "status", "start_s", "response_s"):
        np.testing.assert_array_equal(getattr(records, name), getattr(reference_records, name))


def test_same_seed_same_results_other_seed_other_results():
    raw = base_experiment(duration="2min")
    first, second = simulate(scenario(raw)), simulate(scenario(raw))
    assert first.metrics.equals(second.metrics) and first.events.equals(second.events)
    raw["experiment"]["seed"] = 2
    assert not simulate(scenario(raw)).metrics.equals(first.metrics)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(experiments())
def test_littles_law(raw):
    result, records = _run(raw)
    duration = result.summary["duration_s"]
    law = result.summary["littles_law"]
    if len(records) < 50:
        return
    # Independent estimate of L: sample the number of requests in the system at uniform random
    # instants (a regular grid would alias with evenly spaced arrivals, e.g. every 5 ms at 200/s).
    grid = np.sort(np.random.default_rng(0).uniform(0.0, duration, 200_000))
    arrivals = np.sort(records.arrival_s)
    responses = np.sort(records.response_s)
    in_system = np.searchsorted(arrivals, grid, side="right") - np.searchsorted(responses, grid, side="right")
    sampled_l = in_system.mean()
    assert law["arrival_rate_per_s"] == pytest.approx(len(records) / duration)
    # λ·W counts the whole sojourn of requests still in flight at the end; L only their part
    # inside the window. The difference is exactly that tail, and the sampled L matches L.
    tail = np.clip(records.response_s - duration, 0, None).sum() / duration
    assert law["lambda_times_w"] - law["mean_requests_in_system"] == pytest.approx(tail, rel=1e-6, abs=1e-9)
    assert sampled_l == pytest.approx(law["mean_requests_in_system"], rel=0.02, abs=0.02)
