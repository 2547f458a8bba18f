"""`sample_occupancy` (the compiled pass behind ConcurrentRequestsPerModel) against a naive count.

A served request is on its instance from arrival to its last container's completion; at each sample
instant t_k the count is the number of requests with begin <= t_k < end, per instance. Requests
starting or ending exactly at an instant, unserved outcomes and requests cut into several parts
are all generated; the requests still in a container after the period must be kept, the others
dropped.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.metrics.aggregation_kernels import sample_occupancy
from simfleet.request_records import MODEL_ERROR, MODEL_TIMEOUT, OK
from simfleet.metrics.emission import STATUS_NAMES

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

SERVED = np.zeros(len(STATUS_NAMES), np.bool_)
SERVED[[OK, MODEL_ERROR, MODEL_TIMEOUT]] = True


@settings(max_examples=200)
@given(n=st.integers(0, 300), n_instances=st.integers(1, 5), samples=st.sampled_from([1, 2, 10, 60]),
       period=st.sampled_from([1, 10, 60]), seed=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(0, 300), max_size=3))
def test_counts_equal_a_naive_count_at_every_instant(n, n_instances, samples, period, seed, cuts):
    rng = np.random.default_rng(seed)
    t = 3.0 * period
    instants = (t - period) + np.arange(samples) * (period / samples)
    # begins and ends on the instants, one float either side of them, or anywhere around the period
    near = np.concatenate([instants, np.nextafter(instants, -np.inf), np.nextafter(instants, np.inf)])
    begin = np.where(rng.random(n) < 0.5, rng.choice(near, n), t - 1.5 * period + rng.random(n) * 2 * period)
    wait = np.where(rng.random(n) < 0.3, 0.0, rng.exponential(period / 4, n))
    start = begin + wait
    ends = rng.choice(near, n)
    service = np.where((rng.random(n) < 0.4) & (ends >= start), ends - start, rng.exponential(period / 3, n))
    instance = rng.integers(0, n_instances, n).astype(np.int32)
    status = rng.integers(0, len(STATUS_NAMES), n).astype(np.int8)
    end = start + service
    bounds = sorted({0, n, *[min(c, n) for c in cuts]})
    parts = [(instance[lo:hi], begin[lo:hi], end[lo:hi], status[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]

    counts, kept = sample_occupancy(parts, SERVED, instants, t, n_instances)

    served = SERVED[status]
    expected = np.zeros((n_instances, samples))
    for i in range(n_instances):
        for k, instant in enumerate(instants):
            expected[i, k] = np.sum(served & (instance == i) & (begin <= instant) & (instant < end))
    np.testing.assert_array_equal(counts, expected)
    still = served & (end > t)
    for column, reference in zip(kept, (instance, begin, end, status)):
        np.testing.assert_array_equal(column, reference[still])


def test_no_requests_no_counts():
    counts, kept = sample_occupancy([], SERVED, np.array([0.0, 5.0]), 10.0, 3)
    assert counts.shape == (3, 2) and not counts.any() and all(len(column) == 0 for column in kept)
