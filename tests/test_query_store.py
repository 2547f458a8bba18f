"""The store that reads run directories (`simfleet.query.store.RunStore`), on run directories built
from known raw values (`stored_runs`)."""

from __future__ import annotations

import numpy as np
import pytest

from simfleet.cloudwatch.distribution import Distribution
from simfleet.errors import InputError
from simfleet.query.store import RunStore
from stored_runs import START_S, latency_stream, stored_rows, write_run


# -- the store ----------------------------------------------------------------------------------

def test_store_groups_rows_into_streams_with_exact_dimension_sets(tmp_path):
    rng = np.random.default_rng(1)
    run = write_run(tmp_path / "run", [
        latency_stream(rng, EndpointName="ep", VariantName="A"),
        latency_stream(rng, EndpointName="ep", VariantName="B"),
        latency_stream(rng, EndpointName="ep", VariantName="A", InstanceId="i-1"),
    ])
    store = RunStore.open(run)
    assert len(store.streams) == 3
    sets = {s.dimensions for s in store.streams}
    assert (("EndpointName", "ep"), ("VariantName", "A")) in sets
    assert (("EndpointName", "ep"), ("VariantName", "A"), ("InstanceId", "i-1")) in sets
    for stream in store.streams:
        assert np.all(np.diff(store.timestamps_ms[stream.rows]) > 0)
        assert stream.periods_s == (60,) and stream.units == ("Microseconds",)
    assert store.window_ms == (START_S * 1000, (START_S + 3600) * 1000)


def test_store_distributions_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    stream = latency_stream(rng, n=3000, distinct=None)
    store = RunStore.open(write_run(tmp_path / "run", [stream]))
    for row, (start, raw) in zip(store.streams[0].rows, stored_rows(stream)):
        assert store.timestamps_ms[row] == start * 1000
        assert store.distribution(row) == Distribution.from_values(raw)


def test_store_window_falls_back_to_the_data_span(tmp_path):
    rng = np.random.default_rng(3)
    stream = latency_stream(rng, span_s=600)
    store = RunStore.open(write_run(tmp_path / "run", [stream], manifest=False))
    starts = [s for s, _ in stored_rows(stream)]
    assert store.window_ms == (starts[0] * 1000, (starts[-1] + 60) * 1000)


@pytest.mark.parametrize("case", ["missing-dir", "no-values", "row-mismatch"])
def test_store_refuses_unusable_run_directories(tmp_path, case):
    rng = np.random.default_rng(4)
    run = tmp_path / "run"
    if case == "no-values":
        write_run(run, [latency_stream(rng)], values_file=False)
    elif case == "row-mismatch":
        write_run(run, [latency_stream(rng)])
        other = write_run(tmp_path / "other", [latency_stream(rng, span_s=120)])
        (other / "metric_values.parquet").replace(run / "metric_values.parquet")
    with pytest.raises(InputError) as raised:
        RunStore.open(run)
    message = str(raised.value)
    assert "\n" not in message and str(run) in message
    assert {"missing-dir": "not found", "no-values": "metric_values.parquet",
            "row-mismatch": "rows"}[case] in message
