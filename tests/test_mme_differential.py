"""Multi-model caches: the request kernel against the naive SimPy oracle, request for request.

Generated runs of one multi-model variant on 1–3 instances (1–2 worker slots, short queues), its
cache enabled or disabled (ModelCacheSetting), with populations of 2–12 models of different sizes, memory and disk that hold a few of them, 1–2
download channels, downloads, loads and unloads of different lengths, Zipf-like or named
TargetModels (unknown ones included), the wait limit reached or not, routing that sticks to
instances holding a model and spreads when they are busy, full queues, timeouts, times on a coarse
grid (where ties are frequent) or continuous, and the run cut into segments anywhere. The kernel
(`EndpointFlow` with `ModelCaches`, fed the same values through `GivenValues` rows) must give every
request (instance, outcome, model, hit or miss, wait, start, completion, latencies) and every
cache event (download, load, unload, deletion) exactly as `tests/oracle.py`'s `naive_mme` does.
With loads and service negligible, hits, disk hits and misses equal an independent two-tier LRU
replay of the same model sequence (`tests/lru_reference.py`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lru_reference import DISK_HIT, MEMORY_HIT, two_tier_replay
from oracle import NaiveModelCache, naive_mme
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.model_caches import ModelCaches
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import (CACHE_DELETE, CACHE_HIT, CACHE_MISS, CACHE_UNLOAD, MODEL_NOT_FOUND,
                                      MODEL_NOT_READY, NO_CACHE_ROOM, ROUTING_LEAST_OUTSTANDING, RequestRecords)

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

    n_models = draw(st.integers(2, 12))
    sizes = rng.integers(1, 5, n_models).astype(float)
    weights = 1.0 / np.arange(1, n_models + 1) ** draw(st.sampled_from([0.0, 0.8, 1.5]))
    cdf = np.cumsum(weights) / weights.sum()
    cdf[-1] = 1.0
    cache = NaiveModelCache(
        mem_need=list(sizes), disk_need=list(sizes * 2), download_s=list(durations(n_models, 1, 8, 1.0)),
        load_s=list(durations(n_models, 0, 4, 0.5)), unload_s=list(durations(n_models, 0, 2, 0.2)),
        scale=list(rng.choice([0.5, 1.0, 2.0], n_models)), cdf=list(cdf), spread_at=draw(st.integers(1, 4)),
        wait_limit=float(draw(st.sampled_from([2.0, 5.0, 1e9]))), mem_cap=float(draw(st.integers(4, 12))),
        disk_cap=float(draw(st.integers(8, 30))), channels=draw(st.integers(1, 2)), disabled=draw(st.booleans()))
    instances = [(draw(st.integers(1, 2)), draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 3)))]
    n = draw(st.integers(0, 120))
    load = draw(st.floats(0.5, 6.0))
    times = np.sort(rng.integers(0, int(HORIZON * 4), n) / 4.0) if grid else np.cumsum(rng.exponential(1.0 / load, n))
    named = draw(st.sampled_from([0.0, 0.3]))
    models = np.where(rng.random(n) < named, rng.integers(0, n_models + 2, n), -1).astype(np.int64)
    arrivals = (times, models, np.where(rng.random(n) < 0.05, 1.5, rng.uniform(0, 0.9, n)))
    streams = {"overhead": list(durations(n + 1, 0, 1, 0.05)), "route": list(rng.random(n + 1)),
               "model": list(rng.random(n + 1)), "service": list(durations(n + 1, 1, 6, 0.6)),
               "error": list(rng.random(n + 1))}
    error_rate = float(draw(st.sampled_from([0.0, 0.3])))
    timeout = draw(st.sampled_from([3.0, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, int(HORIZON * 4)), max_size=5)))
    return cache, instances, arrivals, streams, error_rate, timeout, [c / 4.0 for c in cuts]


def _kernel(cache, instances, arrivals, streams, error_rate, timeout, cuts):
    plane = RequestPlane([ROUTING_LEAST_OUTSTANDING])
    plane.caches = ModelCaches([0], [cache.mem_need], [cache.disk_need], [cache.download_s], [cache.load_s],
                               [cache.unload_s], [cache.scale], [cache.cdf], [cache.spread_at], [cache.wait_limit],
                               [cache.mem_cap], [cache.disk_cap], [cache.channels], [cache.disabled])
    for workers, queue_limit in instances:
        plane.add_instance(0, workers, queue_limit)
    variant = FlowVariant(
        index=0, weight=1.0, route=GivenValues(streams["route"]), services=(GivenValues(streams["service"]),),
        payload_time_per_kb=(0.0,), error=GivenValues(streams["error"]), error_rate=error_rate,
        model=GivenValues(streams["model"]))
    flow = EndpointFlow(plane, [variant], None, GivenValues(streams["overhead"]), 0.0, MAX_PAYLOAD, timeout)
    times, models, payload = arrivals
    records, events = [], []
    done = 0
    for until in [*sorted(set(cuts) | {HORIZON}), np.inf]:  # the last call drains the waits
        mine = slice(done, int(np.searchsorted(times, min(until, HORIZON), "left")))
        k = mine.stop - mine.start
        arr = Arrivals(times[mine], np.zeros(k, np.int64), payload[mine], np.zeros(k, np.int64),
                       np.zeros(k, np.int64), np.zeros(1, np.int64), models[mine])
        record, _ = flow.advance(plane, arr, until)
        done = mine.stop
        if record is not None:
            records.append(record)
        cache_events = flow.take_cache_events()
        if cache_events is not None:
            events.append(cache_events)
    return records, events


@settings(max_examples=300, deadline=None)
@given(runs())
def test_multi_model_kernel_matches_the_naive_oracle(run):
    cache, instances, arrivals, streams, error_rate, timeout, cuts = run
    expected, expected_events = naive_mme(cache, instances, arrivals, streams, error_rate, MAX_PAYLOAD, timeout,
                                          HORIZON)
    records, events = _kernel(*run)
    fields = ("arrival", "instance", "status", "model", "cache", "setup", "start", "complete", "model_latency",
              "overhead", "service")
    # the kernel answers in the order answers happen, the oracle lists requests as they arrive: the
    # same rows, compared as sorted tuples (requests arriving together differ in their other fields)
    got = sorted((float(r.arrival_s[k]), int(r.instance[k]), int(r.status[k]), int(r.model[k]), int(r.cache[k]),
                  float(r.setup_s[k]), float(r.start_s[k]), float(r.complete_s[k]), float(r.model_latency_s[k]),
                  float(r.overhead_s[k]), float(r.service_s[k])) for r in records for k in range(len(r)))
    expected = sorted(tuple(float(row[f]) if isinstance(row[f], float) else row[f] for f in fields)
                      for row in expected)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert mine == theirs, dict(zip(fields, zip(mine, theirs)))
    kernel_events = sorted((float(t), int(i), int(m), int(k), float(d)) for e in events
                           for t, i, m, k, d in zip(e.time_s, e.instance, e.model, e.kind, e.duration_s))
    assert kernel_events == sorted((float(t), i, m, k, float(d)) for t, i, m, k, d in expected_events)


def test_the_generator_reaches_every_case():
    """The generated runs hit and miss, unload and delete, spread, refuse for room, time out waiting
    and name unknown models (so the differential test exercises each)."""
    seen = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(runs())
    def collect(run):
        cache, instances, arrivals, streams, error_rate, timeout, _ = run
        requests, events = naive_mme(cache, instances, arrivals, streams, error_rate, MAX_PAYLOAD, timeout, HORIZON)
        seen.update(r["status"] for r in requests)
        seen.update(("cache", r["cache"]) for r in requests)
        seen.update(("event", e[3]) for e in events)

    collect()
    for case in (MODEL_NOT_FOUND, MODEL_NOT_READY, NO_CACHE_ROOM, ("cache", CACHE_HIT), ("cache", CACHE_MISS),
                 ("event", CACHE_UNLOAD), ("event", CACHE_DELETE)):
        assert case in seen, case


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30), st.integers(1, 8), st.integers(1, 12),
       st.sampled_from([0.0, 0.8, 1.2]))
def test_the_cache_agrees_with_an_independent_lru_replay(seed, n_models, memory, extra_disk, exponent):
    """Loads, downloads and service negligible (0 s), one instance: every request's hit or miss, and
    whether a miss had its model on disk, equal an independent two-tier LRU replay of the same
    model sequence (`tests/lru_reference.py`), unit sizes, the disk larger than memory."""
    rng = np.random.default_rng(seed)
    n = 300
    weights = 1.0 / np.arange(1, n_models + 1) ** exponent
    models = rng.choice(n_models, n, p=weights / weights.sum()).astype(np.int64)
    disk = memory + extra_disk
    zeros = [0.0] * n_models
    cache = NaiveModelCache(mem_need=[1.0] * n_models, disk_need=[1.0] * n_models, download_s=zeros, load_s=zeros,
                            unload_s=zeros, scale=[1.0] * n_models, cdf=list(np.linspace(1 / n_models, 1, n_models)),
                            spread_at=1, wait_limit=60.0, mem_cap=float(memory), disk_cap=float(disk), channels=1)
    times = np.arange(n) * (HORIZON / n)   # apart: each request is answered before the next
    streams = {"overhead": [0.0] * (n + 1), "route": [0.5] * (n + 1), "model": [0.5] * (n + 1),
               "service": [0.0] * (n + 1), "error": [1.0] * (n + 1)}
    records, events = _kernel(cache, [(1, 10)], (times, models, np.zeros(n)), streams, 0.0, 1e9, [])
    record = RequestRecords.concat(records)
    order = np.argsort(record.arrival_s, kind="stable")
    hits = record.cache[order] == CACHE_HIT
    downloads = {float(t) for e in events for t, k in zip(e.time_s, e.kind) if k == 0}
    replay = two_tier_replay(list(models), memory, disk, [1] * n_models, [1] * n_models)
    np.testing.assert_array_equal(hits, replay.outcome == MEMORY_HIT)
    on_disk = np.array([float(t) not in downloads for t in times])
    np.testing.assert_array_equal(on_disk & ~hits, replay.outcome == DISK_HIT)
