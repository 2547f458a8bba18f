"""Run-level accumulators: the latency histogram and the exact sums behind summary.json."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simfleet.metrics.run_totals import ExactSum, LatencyHistogram

latencies = arrays(np.float64, st.integers(1, 500),
                   elements=st.floats(0, 5e4, allow_nan=False, allow_infinity=False))


@settings(max_examples=200, deadline=None)
@given(latencies)
def test_histogram_bins_equal_a_binary_search_over_the_edges(values):
    histogram = LatencyHistogram()
    edges = histogram.edges
    values = np.concatenate([values, edges[::97], edges[::89] * (1 + 1e-12)])
    histogram.add(values)
    reference = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(histogram.counts))
    np.testing.assert_array_equal(histogram.counts, reference)


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 500), elements=st.floats(1e-6, 1e4)), st.floats(0.1, 100))
def test_histogram_percentile_is_at_most_one_bin_above_the_exact_value(values, percentile):
    histogram = LatencyHistogram()
    histogram.add(values)
    ordered = np.sort(values)
    exact = ordered[max(1, int(np.ceil(percentile / 100 * len(values) - 1e-9))) - 1]
    reported = histogram.percentile(percentile)
    assert exact <= reported * (1 + 1e-12) and reported <= exact * 10 ** (1 / LatencyHistogram.BINS_PER_DECADE) * (1 + 1e-9)


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
