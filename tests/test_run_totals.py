"""Run-level accumulators: the latency histogram and the exact sums behind summary.json.

`RunTotals.add` is one compiled pass (`metrics.aggregation_kernels.accumulate_totals`); it is
checked here against the definitions computed naively with NumPy: bins by binary search over the
edges, sums of ``round(seconds / 1e-9)`` per request, outcome counts by variant.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simfleet.request_records import RequestRecords
from simfleet.metrics.emission import REACHED_CONTAINER, STATUS_NAMES
from simfleet.metrics.run_totals import ExactSum, LatencyHistogram, RunTotals

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

latencies = arrays(np.float64, st.integers(1, 500),
                   elements=st.floats(0, 5e4, allow_nan=False, allow_infinity=False))


def _records(arrival, response, status=None, variant=None, start=None, model_latency=None) -> RequestRecords:
    n = len(arrival)
    return RequestRecords(
        arrival_s=arrival, variant=np.zeros(n, np.int32) if variant is None else variant,
        instance=np.zeros(n, np.int32), status=np.zeros(n, np.int8) if status is None else status,
        payload_bytes=np.zeros(n), service_s=np.zeros(n), start_s=arrival if start is None else start, complete_s=arrival if start is None else start,
        model_latency_s=response - arrival if model_latency is None else model_latency, overhead_s=np.zeros(n),
        response_s=response, active_instances=np.ones(n, np.int32),
        container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16))


def _units(values) -> int:
    return int(np.round(np.asarray(values, dtype=np.float64) / 1e-9).astype(np.int64).sum())


def _bins_equal_a_binary_search_over_the_edges(values):
    edges = LatencyHistogram.EDGES
    totals = RunTotals(1, 1e9)
    totals.add(_records(np.zeros(len(values)), values))
    reference = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    np.testing.assert_array_equal(totals.variants[0].e2e.counts, reference)


def test_histogram_bins_equal_a_binary_search_at_the_edges_and_the_lookup_slices():
    """The values where a lookup can go wrong, checked once (they are the same in every example of the
    property below): edges, the floats just above and below them, the starts of the lookup table's
    binade slices (powers of two among them) and the floats just below those."""
    edges = LatencyHistogram.EDGES
    slices = np.ldexp(0.5 + np.arange(0, 256, 5) / 512, np.arange(-19, 15)[:, None]).ravel()
    _bins_equal_a_binary_search_over_the_edges(np.concatenate([
        edges[::97], edges[::89] * (1 + 1e-12), edges[::83] * (1 - 1e-12), slices, np.nextafter(slices, 0)]))


@settings(max_examples=200)
@given(latencies)
def test_histogram_bins_equal_a_binary_search_over_the_edges(values):
    _bins_equal_a_binary_search_over_the_edges(values)


@settings(max_examples=200)
@given(arrays(np.float64, st.integers(1, 500), elements=st.floats(1e-6, 1e4)), st.floats(0.1, 100))
def test_histogram_percentile_is_at_most_one_bin_above_the_exact_value(values, percentile):
    totals = RunTotals(1, 1e9)
    totals.add(_records(np.zeros(len(values)), values))
    ordered = np.sort(values)
    exact = ordered[max(1, int(np.ceil(percentile / 100 * len(values) - 1e-9))) - 1]
    reported = totals.variants[0].e2e.percentile(percentile)
    one_bin = 10 ** (1 / LatencyHistogram.BINS_PER_DECADE)
    assert exact <= reported * (1 + 1e-12) and reported <= exact * one_bin * (1 + 1e-9)


@settings(max_examples=150)
@given(n=st.integers(1, 400), n_variants=st.integers(1, 3), seed=st.integers(0, 2**32 - 1),
       duration=st.floats(0.5, 20.0), cuts=st.lists(st.integers(0, 400), max_size=3))
def test_totals_equal_naive_sums_whatever_the_batches(n, n_variants, seed, duration, cuts):
    """Outcome counts, answered requests, nanosecond sums and Little's-law sums against NumPy, for
    records fed whole or cut into batches (results must not depend on the cut)."""
    rng = np.random.default_rng(seed)
    arrival = np.sort(rng.random(n) * 10.0)
    start = arrival + rng.exponential(0.2, n) * (rng.random(n) < 0.7)
    model_latency = rng.exponential(0.1, n)
    response = start + model_latency + rng.exponential(0.003, n)
    status = rng.integers(0, len(STATUS_NAMES), n).astype(np.int8)
    variant = rng.integers(0, n_variants, n).astype(np.int32)
    records = _records(arrival, response, status, variant, start, model_latency)
    whole, pieces = RunTotals(n_variants, duration), RunTotals(n_variants, duration)
    whole.add(records)
    bounds = sorted({0, n, *[min(c, n) for c in cuts]})
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        pieces.add(records.select(slice(lo, hi)))
    reached = np.isin(status, REACHED_CONTAINER)
    for totals in (whole, pieces):
        assert totals.arrivals == n
        assert totals.sojourn_sum_s.value == _units(response - arrival) * 1e-9
        assert totals.sojourn_in_window_s.value == _units(np.minimum(response, duration) - arrival) * 1e-9
        for v, mine in enumerate(totals.variants):
            ours = (variant == v)
            np.testing.assert_array_equal(mine.status_counts, np.bincount(status[ours], minlength=len(STATUS_NAMES)))
            answered = ours & reached
            assert mine.answered == int(answered.sum())
            assert mine.e2e_sum_s.value == _units((response - arrival)[answered]) * 1e-9
            assert mine.model_latency_sum_s.value == _units(model_latency[answered]) * 1e-9
            assert mine.queue_wait_sum_s.value == _units((start - arrival)[answered]) * 1e-9
            assert int(mine.e2e.counts.sum()) == mine.answered


@given(arrays(np.float64, st.integers(0, 300), elements=st.floats(0, 1e5)), st.randoms())
def test_exact_sum_does_not_depend_on_grouping_or_order(values, random):
    whole = ExactSum()
    whole.add(values)
    shuffled = values.copy()
    random.shuffle(shuffled)
    cuts = sorted(random.sample(range(len(values) + 1), k=min(3, len(values) + 1)))
    pieces = ExactSum()
    for lo, hi in zip([0, *cuts], [*cuts, len(values)]):
        pieces.add(shuffled[lo:hi])
    assert whole.value == pieces.value
    assert abs(whole.value - float(np.sum(values))) <= 1e-9 * max(1, len(values))
