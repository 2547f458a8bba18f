"""A stateful hypothesis test of the streaming aggregator against exact NumPy statistics.

The machine feeds `MetricsAggregator` batches of synthetic requests in time order (responses may
fall several periods later, as long requests do) and closes the metric clock's ticks in between.
After every tick, the datapoints published so far must equal NumPy statistics over every request
fed whose response fell in a closed period — and no request may be published twice or lost.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from reference_statistics import nearest_rank_value
from small_experiments import base_experiment, scenario
from simfleet.request_records import OK
from simfleet.request_records import RequestRecords
from simfleet.fleet import build_fleet
from simfleet.metrics.aggregator import MetricsAggregator

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)


class AggregatorMachine(RuleBasedStateMachine):
    @initialize(frequency=st.sampled_from([10, 30, 60]), enhanced=st.booleans(), percentile=st.sampled_from([50, 99]))
    def build(self, frequency, enhanced, percentile):
        raw = base_experiment(duration="10min")
        raw["metrics"]["percentiles"] = [percentile]
        raw["endpoints"][0]["metrics_config"] = {"enable_enhanced_metrics": enhanced,
                                                 "metric_publish_frequency_in_seconds": frequency}
        self.scenario = scenario(raw)
        self.fleet = build_fleet(self.scenario)
        self.period = frequency if enhanced else 60
        self.percentile = percentile
        start = self.scenario.experiment.experiment.start_time
        self.aggregator = MetricsAggregator(self.fleet, self.scenario.experiment.metrics, start)
        self.now = 0.0
        self.fed: list[RequestRecords] = []
        self.instances = self.fleet.variants[0].initial_instance_count

    @rule(n=st.integers(0, 60), spread=st.floats(0.0, 1.0), latency=st.sampled_from([0.001, 0.5, 12.0, 95.0]),
          seed=st.integers(0, 2**32 - 1))
    def add_batch(self, n, spread, latency, seed):
        rng = np.random.default_rng(seed)
        arrival = np.sort(self.now + rng.random(n) * 10.0 * spread)
        model = rng.exponential(latency, n)
        overhead = rng.exponential(0.003, n)
        records = RequestRecords(
            arrival_s=arrival, variant=np.zeros(n, np.int32), instance=rng.integers(0, self.instances, n).astype(np.int32),
            status=np.full(n, OK, np.int8), payload_bytes=np.full(n, 1000.0), service_s=model, start_s=arrival, complete_s=arrival,
            model_latency_s=model, overhead_s=overhead, response_s=arrival + model + overhead,
            active_instances=np.full(n, self.instances, np.int32),
            container=np.full(n, -1, np.int32), source=np.zeros(n, np.int16))
        self.fed.append(records)
        self.aggregator.add(records)

    @rule()
    def tick(self):
        self.now += 10.0
        slots = np.zeros((self.instances, 2))
        self.aggregator.close_tick(self.now, slots, np.zeros(self.instances, np.int32), np.ones(self.instances, bool))

    @invariant()
    def published_equals_numpy(self):
        if not hasattr(self, "aggregator"):
            return
        closed_until = (self.now // self.period) * self.period
        fed = RequestRecords.concat(self.fed) if self.fed else RequestRecords.empty()
        buffer = self.aggregator.buffer.rows
        rows = [i for i, (metric, instance) in enumerate(zip(buffer["metric_name"], buffer["InstanceId"]))
                if metric == "ModelLatency" and instance is None]
        published = {buffer["timestamp"][i]: i for i in rows}
        start = self.scenario.experiment.experiment.start_time
        expected = {}
        for lo in np.arange(0, closed_until, self.period):
            mine = (fed.response_s >= lo) & (fed.response_s < lo + self.period)
            if mine.any():
                expected[start + np.timedelta64(int(lo), "s").item()] = fed.model_latency_s[mine] * 1e6
        assert set(published) == set(expected)
        column = self.aggregator.buffer.percentile_columns[0]
        for timestamp, values in expected.items():
            i = published[timestamp]
            assert buffer["sample_count"][i] == len(values)
            assert buffer["minimum"][i] == values.min() and buffer["maximum"][i] == values.max()
            assert np.isclose(buffer["sum"][i], values.sum(), rtol=1e-12)
            exact = nearest_rank_value(values, self.percentile)
            if len(np.unique(values)) <= 150:
                assert buffer[column][i] == exact
            else:
                assert np.isclose(buffer[column][i], exact, rtol=2 ** (2 ** -8 / 2) - 1)
        # Nothing is published twice and nothing answered in a closed period is still pending.
        pending = self.aggregator.pending_requests()
        assert not np.any(pending.response_s < closed_until)
        assert sum(buffer["sample_count"][i] for i in rows) + np.sum(
            (pending.response_s >= closed_until)) == len(fed)


AggregatorMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30)
test_streaming_aggregator = AggregatorMachine.TestCase
