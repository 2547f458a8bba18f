"""What an Inference Recommender load generator publishes about the endpoint it drives.

Namespace `/aws/sagemaker/InferenceRecommendationsJobs`, dimensions `JobName`, `EndpointName`
(reference/sagemaker-semantics.md §1.9, [MCW]); the generator is an endpoint's closed-loop users
with a `job_name`. Every period (`PublishPlan.standard_s`: 60 s, 1 s in high resolution):

* `ClientInvocations`: 1 per request whose response the users received in the period;
* `ClientInvocationErrors`: 1 per such request that failed (any outcome but a 2xx: model errors,
  timeouts, full queues, no capacity, payloads over the limit); no datapoint without failures;
* `ClientLatency`: each such request's time from sending to receiving the response, in
  milliseconds (the client has no network of its own in simfleet: it is ModelLatency plus
  OverheadLatency, or the overhead alone for requests SageMaker refused);
* `NumberOfUsers`: the users of the schedule, sampled every `concurrency_sample_interval`.

Decision: the client counts a request when its response arrives (as its latency needs), so a
request in flight at a period's end counts in the next period, like `Invocations`. Requests
refused before reaching an instance count too: the client sent them, whatever
`invocations_include_rejected` says of the endpoint's own metrics.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simfleet.request_records import OK
from simfleet.request_records import RequestRecords

__all__ = ["LOAD_GENERATOR_NAMESPACE", "LoadGenerator", "LoadGeneratorMetrics"]

LOAD_GENERATOR_NAMESPACE = "/aws/sagemaker/InferenceRecommendationsJobs"


class LoadGenerator:
    """One job's users on one endpoint: the names its datapoints carry, its user schedule and the
    traffic source whose requests are its clients' (`RequestRecords.source`)."""

    def __init__(self, job_name: str, endpoint_name: str, knots: list[tuple[float, int]], source: int = -1):
        self.job_name = job_name
        self.endpoint_name = endpoint_name
        self.source = source
        self._times = np.array([t for t, _ in knots], dtype=np.float64)
        self._users = np.array([n for _, n in knots], dtype=np.float64)

    def users_at(self, times: np.ndarray) -> np.ndarray:
        """Users of the schedule at each instant (a change at an instant counts from then on)."""
        at = np.searchsorted(self._times, times, side="right") - 1
        return np.where(at >= 0, self._users[np.maximum(at, 0)], 0.0)


class LoadGeneratorMetrics:
    """Collects the requests of driven endpoints and publishes the client metrics as periods close."""

    def __init__(self, generators: list[LoadGenerator], buffer, start: dt.datetime, period_s: int,
                 sample_interval_s: float):
        """`buffer`: the run's `DatapointBuffer`; `period_s`: the publish period of every generator."""
        self.buffer = buffer
        self.start = start
        self.period_s = period_s
        self.samples = max(1, int(round(period_s / sample_interval_s)))
        self.generators = generators
        #: generator index of each traffic source's requests, -1 for sources that are no load generator's
        self._generator_of = np.full(max([g.source for g in generators], default=-1) + 1, -1, np.int64)
        for k, g in enumerate(generators):
            self._generator_of[g.source] = k
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, records: RequestRecords) -> None:
        if not len(records):
            return
        known = (records.source >= 0) & (records.source < len(self._generator_of))
        generator = np.where(known, self._generator_of[np.where(known, records.source, 0)], -1)
        mine = generator >= 0
        if mine.any():
            self._pending.append((generator[mine], records.arrival_s[mine], records.response_s[mine],
                                  records.status[mine] != OK))

    def close_tick(self, t: float) -> None:
        """Publish the period ending at `t`, if one does (t and the period are whole seconds)."""
        if not self.generators or round(t) % self.period_s:
            return
        generator, arrival, response, failed = (np.concatenate(column) for column in zip(*self._pending)) \
            if self._pending else (np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, np.bool_))
        due = response < t
        keep = ~due
        self._pending = [(generator[keep], arrival[keep], response[keep], failed[keep])] if keep.any() else []
        timestamp = self.start + dt.timedelta(seconds=t - self.period_s)
        samples = t - self.period_s + np.arange(self.samples) * (self.period_s / self.samples)
        for index, load in enumerate(self.generators):
            dims = {"JobName": load.job_name, "EndpointName": load.endpoint_name}
            mine = due & (generator == index)
            latency_ms = (response[mine] - arrival[mine]) * 1e3
            errors = int(failed[mine].sum())
            if len(latency_ms):
                self.buffer.add(timestamp, self.period_s, LOAD_GENERATOR_NAMESPACE, "ClientInvocations", "None",
                                dims, np.ones(len(latency_ms)))
            if errors:
                self.buffer.add(timestamp, self.period_s, LOAD_GENERATOR_NAMESPACE, "ClientInvocationErrors", "None",
                                dims, np.ones(errors))
            if len(latency_ms):
                self.buffer.add(timestamp, self.period_s, LOAD_GENERATOR_NAMESPACE, "ClientLatency", "Milliseconds",
                                dims, latency_ms)
            self.buffer.add(timestamp, self.period_s, LOAD_GENERATOR_NAMESPACE, "NumberOfUsers", "None", dims,
                            load.users_at(samples))
