"""Properties every run must have, on hypothesis-generated fleets and traffic.

* cutting time into segments (by length or by expected arrivals) changes nothing; the same seed gives the same tables;
* Little's law: the time-average number of requests in the system, sampled independently from
  the request trace, equals λ·W.

The metric semantics (every datapoint against a naive recomputation) are in test_metric_semantics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from small_experiments import base_experiment, scenario
from fleet_strategies import experiments
from simfleet.request_records import RequestRecords
from simfleet.engine.simulation import simulate
from simfleet.rng import RandomStreams
from simfleet.scenario import load_experiment
from simfleet.traffic.sources import build_source


def _run(raw, **kwargs):
    parts: list[RequestRecords] = []
    result = simulate(scenario(raw), requests_sink=parts.append, **kwargs)
    return result, RequestRecords.concat(parts) if parts else RequestRecords.empty()


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(experiments(), st.sampled_from([{"max_segment_s": 0.37}, {"max_segment_s": 3.0}, {"max_segment_s": 1000.0},
                                       {"max_batch": 7}, {"max_batch": 1, "max_segment_s": 1000.0}]))
def test_segmentation_changes_nothing(raw, cut):
    """Kernel calls cut by simulated time (`max_segment_s`) or by expected arrivals (`max_batch`)."""
    reference, reference_records = _run(raw)
    result, records = _run(raw, **cut)
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


EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
#: Every shipped experiment: open-loop, closed-loop and replayed traffic, serverless, multi-model,
#: pipelines and inference components, ten minutes of each.
SHIPPED = sorted(p for p in EXPERIMENTS.glob("*.toml") if "[experiment]" in p.read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_cutting_by_expected_arrivals_changes_nothing_in_any_shipped_experiment(path):
    """Kernel calls of a few expected arrivals (about 200 batches a run, cut in equal steps between
    control events) give the same tables, summary and request records as the default batches."""
    def run(**cut):
        parts: list[RequestRecords] = []
        result = simulate(load_experiment(path, ["experiment.duration=10min"]), requests_sink=parts.append, **cut)
        return result, RequestRecords.concat(parts)

    reference, reference_records = run()
    assert len(reference_records) >= 100
    result, records = run(max_batch=max(1, len(reference_records) // 200))
    for table in ("metrics", "metric_values", "events"):
        assert getattr(result, table).equals(getattr(reference, table)), table
    assert result.summary == reference.summary
    # each batch holds every endpoint's requests in turn: the cut interleaves endpoints, not a variant's own
    order, reference_order = np.argsort(records.variant, kind="stable"), np.argsort(reference_records.variant,
                                                                                   kind="stable")
    for name in ("arrival_s", "variant", "instance", "status", "start_s", "complete_s", "response_s"):
        np.testing.assert_array_equal(getattr(records, name)[order], getattr(reference_records, name)[reference_order])


@pytest.mark.parametrize("kind", ["poisson", "constant"])
def test_a_rate_driven_source_expects_what_it_sends(kind):
    """`expected_arrivals` (what batches are sized by) against the arrivals handed, over 40 seeds:
    the bursts-and-replay schedule, 80 requests/s with bursts of +250 and +60, windows across them."""
    scenario = load_experiment(EXPERIMENTS / "bursts-and-replay.toml", [f"traffic.0.kind={kind}"])
    spec, duration = scenario.experiment.traffic[0], scenario.experiment.experiment.duration
    windows = [(0.0, 290.0), (290.0, 331.5), (1150.0, 1400.0), (duration - 10.0, duration + 50.0)]
    counts = np.zeros((40, len(windows)))
    for seed in range(40):
        source = build_source(spec, "ep", 0, duration, 0.0, scenario.base_dir, RandomStreams(seed))
        for k, (begin, end) in enumerate(windows):
            source.take_until(begin)
            counts[seed, k] = len(source.take_until(end).times)
    expected = np.array([source.expected_arrivals(b, e) for b, e in windows])
    if kind == "constant":  # evenly spaced: within one arrival of the integral
        assert np.all(np.abs(counts - expected) <= 1.0), (counts[0], expected)
    else:                   # Poisson: mean of 40 counts within 4 standard errors (variance = mean)
        assert np.all(np.abs(counts.mean(axis=0) - expected) <= 4 * np.sqrt(expected / 40)), (counts.mean(0), expected)


def test_a_replayed_source_expects_exactly_what_it_sends():
    scenario = load_experiment(EXPERIMENTS / "bursts-and-replay.toml")
    spec, duration = scenario.experiment.traffic[1], scenario.experiment.experiment.duration
    start = scenario.experiment.experiment.start_time.timestamp()
    source = build_source(spec, "ep", 1, duration, start, scenario.base_dir, RandomStreams(1))
    edges = np.linspace(0.0, duration + 60.0, 37)
    expected = [source.expected_arrivals(b, e) for b, e in zip(edges[:-1], edges[1:])]
    handed = [len(source.take_until(e).times) for e in edges[1:]]
    assert expected == handed and sum(handed) > 0
