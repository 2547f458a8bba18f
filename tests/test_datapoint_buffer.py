"""The datapoint buffer keeps rows in typed arrays and distributions in flat chunks: what it writes
must be exactly what was added, whatever the chunk boundaries (datapoints larger than a chunk,
chunks filled exactly, many small datapoints)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.cloudwatch.distribution import Distribution
from simfleet.metrics.datapoints import DatapointBuffer, _DistributionColumns

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

START = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)


@settings(max_examples=100)
@given(sizes=st.lists(st.integers(1, 40), min_size=0, max_size=30), chunk=st.sampled_from([1, 7, 16, 1 << 16]),
       seed=st.integers(0, 2**32 - 1))
def test_tables_hold_exactly_the_datapoints_added(sizes, chunk, seed):
    default = _DistributionColumns.CHUNK
    _DistributionColumns.CHUNK = chunk
    try:
        _check_round_trip(sizes, seed)
    finally:
        _DistributionColumns.CHUNK = default


def _check_round_trip(sizes, seed):
    rng = np.random.default_rng(seed)
    buffer = DatapointBuffer([50, 99.9], 8, "AcceleratorId")
    added = []
    for i, size in enumerate(sizes):
        raw = rng.choice([0.0, 1.0, 2.5], size) if i % 2 else rng.exponential(1.0, size * 10)
        dist = Distribution.from_values(raw)
        dims = {"EndpointName": "ep", "VariantName": "A"} | ({"InstanceId": f"i-{i}"} if i % 3 == 0 else {})
        buffer.add_distribution(START + dt.timedelta(seconds=60 * i), 60, "AWS/SageMaker", "ModelLatency",
                                "Microseconds", dims, dist)
        added.append((dist, dims))
    metrics, values = buffer.tables()
    assert metrics.num_rows == values.num_rows == len(added) == len(buffer)
    got = values.to_pydict()
    rows = metrics.to_pydict()
    for i, (dist, dims) in enumerate(added):
        assert got["values"][i] == dist.values.tolist() and got["counts"][i] == dist.counts.tolist()
        assert got["exact"][i] == dist.exact
        assert rows["sample_count"][i] == dist.count and rows["sum"][i] == dist.total
        assert (rows["minimum"][i], rows["maximum"][i]) == (dist.minimum, dist.maximum)
        assert rows["p99_9"][i] == dist.percentile(99.9) and rows["p50"][i] == dist.percentile(50)
        assert rows["InstanceId"][i] == dims.get("InstanceId") and rows["period_s"][i] == 60
        assert rows["timestamp"][i] == START + dt.timedelta(seconds=60 * i)

