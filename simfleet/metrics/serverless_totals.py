"""Whole-run figures of serverless variants for `summary.json`: what was billed and how the
environments behaved (the serverless counterpart of `metrics.run_totals` and the instance time).

Kept in constant memory and exact in any order of the batches (integers, and `ExactSum`s in
nanosecond or byte units), like `RunTotals`:

* counts: requests, served (an environment took them), cold starts, throttles, spillovers,
  requests served by Provisioned Concurrency;
* billed compute, in whole milliseconds: each served request bills its duration, from the start
  of its service (`start_s`, after any cold start) to its completion (`complete_s`), plus its cold
  start (`setup_s`) when `ServerlessRuntime.bill_cold_start` is set, **rounded up to the next
  millisecond per request** (AWS bills "by the millisecond"; the duration is first rounded to the
  nanosecond so that float noise never adds a millisecond). Requests on provisioned environments
  are counted apart, since AWS may price their compute differently. Every dispatched served
  request is billed in full, also when its completion falls after the end of the run;
* data processed: the payload of every served request, and `response_bytes` for each;
* time integrals over [0, duration): executions (served requests from arrival to completion),
  alive environments and provisioned environments. An environment count is a step function of
  the lifecycle records (`serverless_gauges.environment_steps`), whose integral is
  Σ step × (duration − time) over the records before the end: two running sums suffice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simfleet.fleet import Fleet
from simfleet.metrics.run_totals import ExactSum
from simfleet.metrics.serverless_gauges import codes_in, cold_started, environment_steps
from simfleet.request_records import (ENV_NONE, ENV_PROVISIONED, ENV_SPILLOVER_COLD, ENV_SPILLOVER_WARM, THROTTLED,
                                      EnvironmentRecords, RequestRecords)

__all__ = ["ServerlessVariantTotals", "ServerlessTotals", "billed_milliseconds", "DEFAULT_RESPONSE_BYTES"]

#: The response size assumed for "data processed out" when the experiment does not give one
#: (`[serverless] response_size`): a small JSON answer. An assumption, stated in the summary.
DEFAULT_RESPONSE_BYTES = 1024.0


def billed_milliseconds(duration_s: np.ndarray) -> np.ndarray:
    """Each duration in whole milliseconds, rounded up (after rounding to the nanosecond)."""
    return np.ceil(np.round(np.asarray(duration_s, np.float64) * 1e3, 6)).astype(np.int64)


class _StepIntegral:
    """∫ over [0, end) of a step function given by (time, step) records, as Σ step·(end − time)."""

    def __init__(self):
        self.steps = 0
        self.weighted = ExactSum()   # Σ step × time

    def add(self, time_s: np.ndarray, step: np.ndarray) -> None:
        self.steps += int(step.sum())
        self.weighted.add(step * time_s)

    def integral(self, end_s: float) -> float:
        return self.steps * end_s - self.weighted.value


@dataclass
class ServerlessVariantTotals:
    """One serverless variant's counts, billed quantities and time integrals over the run."""

    requests: int = 0
    served: int = 0
    cold_starts: int = 0
    throttles: int = 0
    spillovers: int = 0
    provisioned_invocations: int = 0
    billed_ms: int = 0               # on-demand compute
    provisioned_billed_ms: int = 0   # compute on provisioned environments
    data_bytes: ExactSum = field(default_factory=lambda: ExactSum(1e-3))
    setup_sum_s: ExactSum = field(default_factory=ExactSum)
    executions_s: ExactSum = field(default_factory=ExactSum)   # ∫ executions over the run
    alive: _StepIntegral = field(default_factory=_StepIntegral)
    provisioned: _StepIntegral = field(default_factory=_StepIntegral)


class ServerlessTotals:
    """The run's `ServerlessVariantTotals`, one per serverless variant (by variant index)."""

    def __init__(self, fleet: Fleet, duration_s: float, response_bytes: float | None = None):
        self.duration_s = duration_s
        self.response_bytes = DEFAULT_RESPONSE_BYTES if response_bytes is None else float(response_bytes)
        self.response_bytes_assumed = response_bytes is None
        self.variants = {v.index: ServerlessVariantTotals() for v in fleet.variants if v.serverless is not None}
        self._bill_cold_start = {v.index: v.serverless.bill_cold_start for v in fleet.variants
                                 if v.serverless is not None}

    def add(self, records: RequestRecords) -> None:
        """A dispatched batch (requests of instance-based variants are ignored)."""
        if not self.variants or not len(records):
            return
        for index, mine in records.by_variant(int(records.variant.max()) + 1):
            if index in self.variants:
                self._add(index, mine)

    def _add(self, index: int, records: RequestRecords) -> None:
        totals = self.variants[index]
        environment = records.environment if records.environment is not None else np.zeros(len(records), np.int8)
        setup = records.setup_s if records.setup_s is not None else np.zeros(len(records))
        served = environment != ENV_NONE
        totals.requests += len(records)
        totals.served += int(served.sum())
        totals.cold_starts += int(cold_started(environment).sum())
        totals.throttles += int((records.status == THROTTLED).sum())
        totals.spillovers += int(codes_in(environment, (ENV_SPILLOVER_WARM, ENV_SPILLOVER_COLD)).sum())
        on_provisioned = environment == ENV_PROVISIONED
        totals.provisioned_invocations += int(on_provisioned.sum())
        duration = records.complete_s - records.start_s
        if self._bill_cold_start[index]:
            duration = duration + setup
        billed = billed_milliseconds(duration[served])
        provisioned = on_provisioned[served]
        totals.billed_ms += int(billed[~provisioned].sum())
        totals.provisioned_billed_ms += int(billed[provisioned].sum())
        totals.data_bytes.add(records.payload_bytes[served])
        totals.data_bytes.add(np.full(int(served.sum()), self.response_bytes))
        totals.setup_sum_s.add(setup[served])
        arrival, complete = records.arrival_s[served], records.complete_s[served]
        inside = arrival < self.duration_s
        totals.executions_s.add(np.minimum(complete[inside], self.duration_s) - arrival[inside])

    def add_environment(self, records: EnvironmentRecords) -> None:
        """Lifecycle records of serverless environments (those at or after the run's end are ignored)."""
        if not len(records):
            return
        inside = records.time_s < self.duration_s
        alive, level = environment_steps(records)
        for index, totals in self.variants.items():
            mine = inside & (records.variant == index)
            if mine.any():
                totals.alive.add(records.time_s[mine], alive[mine])
                totals.provisioned.add(records.time_s[mine], level[mine])

    def end_early(self, end_s: float, unfinished: RequestRecords) -> None:
        """The run ends at `end_s` (`RunTotals.end_early`): clip the executions still running then
        (`unfinished`: every request answered at or after `end_s`; a request completes before it is
        answered) at the new end."""
        if self.variants and len(unfinished):
            for index, mine in unfinished.by_variant(int(unfinished.variant.max()) + 1):
                if index not in self.variants or mine.environment is None:
                    continue
                served = mine.environment != ENV_NONE
                complete = mine.complete_s[served]
                self.variants[index].executions_s.add(np.minimum(complete, end_s) - np.minimum(complete, self.duration_s))
        self.duration_s = end_s

    def mean_alive(self, index: int) -> float:
        """Time-average alive environments (provisioned and on-demand warm or starting)."""
        return self.variants[index].alive.integral(self.duration_s) / self.duration_s

    def provisioned_seconds(self, index: int) -> float:
        """Provisioned environment-seconds over the run (what the Provisioned Concurrency charge bills)."""
        return self.variants[index].provisioned.integral(self.duration_s)

    def mean_executions(self, index: int) -> float:
        """Time-average concurrent executions."""
        return self.variants[index].executions_s.value / self.duration_s
