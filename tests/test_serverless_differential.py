"""Serverless environment pools: the request kernel against the naive SimPy oracle, request for request.

Generated runs of 1–3 serverless variants (each an endpoint of its own, all in one flow, as the
request driver groups them), with MaxConcurrency 1–4, idle timeouts from 0 to longer than the run,
provisioned concurrency at the start and changed between kernel calls (up and down, while busy),
an account concurrency that binds or not, cold starts, throttles, spill-over, reaps, payloads over
the limit, model errors and timeouts, times on a coarse grid (where ties are frequent) or continuous,
and the run cut into segments anywhere. The kernel (`EndpointFlow` with `EnvironmentPools`, fed the
same values through `GivenValues` rows) must give every request (outcome, environment, cold start,
start, completion, latencies) and every environment event (cold start, reap, provisioned added and
released) exactly as `tests/oracle.py`'s `naive_serverless` does.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import NaivePool, naive_serverless
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.environment_pools import UNLIMITED, EnvironmentPools
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import (ENV_COLD, ENV_PROVISIONED, ENV_REAPED, ENV_SPILLOVER_COLD, ENV_WARM,
                                      MODEL_TIMEOUT, ROUTING_RANDOM, THROTTLED)

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

HORIZON = 16.0
MAX_PAYLOAD = 1.0


@st.composite
def runs(draw):
    grid = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def durations(size, low_quarters, high_quarters, mean):
        if grid:
            return rng.integers(low_quarters, high_quarters + 1, size) / 4.0
        return rng.lognormal(np.log(mean), 0.8, size) + 1e-3

    pools = []
    for _ in range(draw(st.integers(1, 3))):
        c = draw(st.integers(1, 4))
        pools.append(NaivePool(c, float(draw(st.sampled_from([0.0, 0.5, 2.0, 100.0]))),
                               draw(st.integers(0, c))))
    account = draw(st.sampled_from([UNLIMITED, 1, 2, 3, 5]))
    n = draw(st.integers(0, 150))
    load = draw(st.floats(0.3, 6.0))
    times = np.sort(rng.integers(0, int(HORIZON * 4), n) / 4.0) if grid else \
        np.cumsum(rng.exponential(1.0 / load, n))
    arrivals = (times, rng.integers(0, len(pools), n).astype(np.int64),
                np.where(rng.random(n) < 0.05, 1.5, rng.uniform(0, 0.9, n)))
    error_rates = [float(draw(st.sampled_from([0.0, 0.3]))) for _ in pools]
    streams = {}
    for p in range(len(pools)):
        streams[("overhead", p)] = list(durations(n + 1, 0, 1, 0.05))
        streams[("route", p)] = list(rng.random(n + 1))
        streams[("service", p)] = list(durations(n + 1, 1, 8, 0.6))
        streams[("error", p)] = list(rng.random(n + 1))
        streams[("setup", p)] = list(durations(n + 1, 1, 12, 1.0))
    timeout = draw(st.sampled_from([2.5, 1e9]))
    changes = []
    for _ in range(draw(st.integers(0, 4))):
        p = draw(st.integers(0, len(pools) - 1))
        t = float(rng.integers(1, int(HORIZON * 4)) / 4.0 if grid else rng.uniform(0.1, HORIZON))
        changes.append((t, p, draw(st.integers(0, pools[p].max_concurrency))))
    changes.sort(key=lambda c: c[0])
    cuts = sorted(draw(st.lists(st.integers(0, int(HORIZON * 4)), max_size=5)))
    return pools, account, arrivals, streams, error_rates, timeout, changes, [c / 4.0 for c in cuts]


def _kernel(pools, account, arrivals, streams, error_rates, timeout, changes, cuts):
    plane = RequestPlane([ROUTING_RANDOM] * len(pools))
    plane.pools = EnvironmentPools(list(range(len(pools))), [p.max_concurrency for p in pools],
                                   [p.idle_timeout for p in pools], account)
    for v, pool in enumerate(pools):
        plane.pools.set_provisioned(v, pool.provisioned, 0.0)
    variants = [FlowVariant(
        index=v, weight=1.0, route=GivenValues(streams[("route", v)]), services=(GivenValues(streams[("service", v)]),),
        payload_time_per_kb=(0.0,), error=GivenValues(streams[("error", v)]), error_rate=error_rates[v],
        overhead=GivenValues(streams[("overhead", v)]), setup=GivenValues(streams[("setup", v)]))
        for v in range(len(pools))]
    flow = EndpointFlow(plane, variants, None, GivenValues([]), 0.0, MAX_PAYLOAD, timeout)
    times, variant, payload = arrivals
    events = [plane.pools.take_events()]
    records = []
    # the kernel's calls end at every cut and at every change of provisioned concurrency
    stops = sorted({*cuts, *(c[0] for c in changes), HORIZON})
    done = 0
    for until in stops:
        mine = slice(done, int(np.searchsorted(times, until, "left")))  # the arrivals before `until`
        n = mine.stop - mine.start
        arr = Arrivals(times[mine], variant[mine], payload[mine], np.zeros(n, np.int64), np.zeros(n, np.int64),
                       np.zeros(1, np.int64))
        record, _ = flow.advance(plane, arr, until)
        done = mine.stop
        if record is not None:
            records.append(record)
        events.append(flow.take_environment_events())
        for t, p, count in changes:
            if t == until:
                plane.pools.set_provisioned(p, count, t)
                events.append(plane.pools.take_events())
    return records, [e for e in events if e is not None]


@settings(max_examples=300)
@given(runs())
def test_serverless_kernel_matches_the_naive_oracle(run):
    pools, account, arrivals, streams, error_rates, timeout, changes, cuts = run
    expected, expected_events = naive_serverless(pools, account, arrivals, streams, error_rates, MAX_PAYLOAD, timeout,
                                                 HORIZON, changes)
    records, events = _kernel(*run)
    got = [dict(arrival=r.arrival_s[k], variant=int(r.variant[k]), status=int(r.status[k]), setup=r.setup_s[k],
                environment=int(r.environment[k]), start=r.start_s[k], complete=r.complete_s[k],
                model_latency=r.model_latency_s[k], overhead=r.overhead_s[k], service=r.service_s[k])
           for r in records for k in range(len(r))]
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert mine == theirs
    kernel_events = sorted((float(t), int(v), int(k)) for e in events for t, v, k in zip(e.time_s, e.variant, e.kind))
    assert kernel_events == sorted(expected_events)


@pytest.mark.no_kernel  # the oracle alone: the JIT-off tier would run it unchanged
def test_the_generator_reaches_every_case():
    """The generated runs throttle, start cold, reuse warm and provisioned environments, spill over,
    reap and time out (so the differential test exercises each)."""
    seen = set()

    @settings(max_examples=200, database=None)
    @given(runs())
    def collect(run):
        requests, events = naive_serverless(run[0], run[1], run[2], run[3], run[4], MAX_PAYLOAD, run[5], HORIZON, run[6])
        seen.update(r["status"] for r in requests)
        seen.update(("env", r["environment"]) for r in requests)
        seen.update(("event", k) for _, _, k in events)

    collect()
    for case in (THROTTLED, MODEL_TIMEOUT, ("env", ENV_COLD), ("env", ENV_WARM), ("env", ENV_PROVISIONED),
                 ("env", ENV_SPILLOVER_COLD), ("event", ENV_REAPED)):
        assert case in seen, case
