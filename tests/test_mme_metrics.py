"""The metrics of multi-model variants (issue 15) against naive computations on synthetic records.

Records come from `mme_records` (a plain per-instance LRU replay shaped as the request plane's
interface says; its slow runs give up downloads and loads at a load limit of LIMIT_S, so their
records hold CACHE_DOWNLOAD_ABANDONED and CACHE_LOAD_ABANDONED events too); every expected value is
recomputed from those records with loops and sorted lists, never read from the program's output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mme_records import DURATION_S, INSTANCES, mme_fleet, rows, run_aggregator, synthetic_run
from simfleet.metrics.emission import error_class
from simfleet.metrics.model_cache_activity import COUNTS, ModelCacheActivity
from simfleet.metrics.model_cache_totals import ModelCacheTotals
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_UNLOAD, MODEL_NOT_FOUND, MODEL_NOT_READY,
                                      NO_CACHE_ROOM)

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

LIMIT_S = 90.0   # the load limit of the slow synthetic runs (downloads take 20-120 s there, loads 8-80 s)


def limit(slow: bool):
    return LIMIT_S if slow else None


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), slow=st.booleans())
def test_request_metrics_of_a_multi_model_variant(seed, n, slow):
    fleet, experiment = mme_fleet(INSTANCES)
    records, caches = synthetic_run(np.random.default_rng(seed), fleet.variants[0], n, DURATION_S, INSTANCES, slow,
                                    limit(slow))
    frame = run_aggregator(fleet, experiment, records, caches, end_s=DURATION_S + 120)
    hits = sum(1 for c in records.cache if c == CACHE_HIT)
    misses = sum(1 for c in records.cache if c == CACHE_MISS)
    hit_rows = rows(frame, "ModelCacheHit")
    # ModelCacheHit: one 0/1 per request that reached a cache; Sum = hits, so Average = hits / requests
    assert hit_rows.sample_count.sum() == hits + misses
    assert hit_rows["sum"].sum() == hits
    if hits + misses:
        assert hit_rows["sum"].sum() / hit_rows.sample_count.sum() == pytest.approx(hits / (hits + misses))
    # exactly one ModelLoadingWaitTime sample per request that waited, 429s included at their wait
    waited = [k for k in range(n) if records.cache[k] == CACHE_MISS and records.setup_s[k] > 0]
    wait_rows = rows(frame, "ModelLoadingWaitTime")
    assert wait_rows.sample_count.sum() == len(waited)
    if waited:
        assert wait_rows["sum"].sum() == pytest.approx(sum(records.setup_s[k] * 1e6 for k in waited))
        assert (wait_rows.maximum <= 60e6 + 1e-3).all()
    # 429 and unknown models are 4XX; no room is 5XX
    four = sum(1 for s in records.status if s in (MODEL_NOT_READY, MODEL_NOT_FOUND))
    five = sum(1 for s in records.status if s == NO_CACHE_ROOM)
    assert rows(frame, "Invocation4XXErrors")["sum"].sum() == four
    assert rows(frame, "Invocation5XXErrors")["sum"].sum() == five
    assert (frame[frame.metric_name.isin(["ModelCacheHit", "LoadedModelCount", "ModelLoadingTime"])].period_s
            == 60).all()


def test_429_and_model_not_found_are_4xx_and_no_room_is_5xx():
    fleet, _ = mme_fleet()
    status = np.array([MODEL_NOT_READY, MODEL_NOT_FOUND, NO_CACHE_ROOM], np.int8)
    is_4xx, is_5xx = error_class(status, fleet.variants[0])
    assert is_4xx.tolist() == [True, True, False] and is_5xx.tolist() == [False, False, True]


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), slow=st.booleans())
def test_event_durations_are_published_in_the_period_they_end(seed, n, slow):
    """One sample per completed download, load or unload, in the period it ends; a download or load
    given up at the load limit is none (its kind is not the metric's)."""
    fleet, experiment = mme_fleet(INSTANCES)
    records, caches = synthetic_run(np.random.default_rng(seed), fleet.variants[0], n, DURATION_S, INSTANCES, slow,
                                    limit(slow))
    end_s = DURATION_S + 120
    frame = run_aggregator(fleet, experiment, records, caches, end_s=end_s)
    start = experiment.experiment.start_time
    for kind, metric in ((CACHE_DOWNLOAD, "ModelDownloadingTime"), (CACHE_LOAD, "ModelLoadingTime"),
                         (CACHE_UNLOAD, "ModelUnloadingTime")):
        naive = {}
        for time, k, duration in zip(caches.time_s, caches.kind, caches.duration_s):
            end = time + duration
            if k == kind and end < end_s:
                minute = int(end // 60)
                naive[minute] = naive.get(minute, 0) + 1
        got = {int((ts - start).total_seconds() // 60): int(c)
               for ts, c in zip(rows(frame, metric).timestamp, rows(frame, metric).sample_count)}
        assert got == naive, metric


def _naive_loaded(caches, instance, t):
    """Models loaded on `instance` at `t`: loads ended by t minus unloads started by t."""
    loads = sum(1 for time, i, k, d in zip(caches.time_s, caches.instance, caches.kind, caches.duration_s)
                if i == instance and k == CACHE_LOAD and time + d <= t)
    unloads = sum(1 for time, i, k in zip(caches.time_s, caches.instance, caches.kind)
                  if i == instance and k == CACHE_UNLOAD and time <= t)
    return loads - unloads


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), interval=st.sampled_from([5.0, 10.0, 60.0]),
       slow=st.booleans())
def test_loaded_model_count_is_the_naive_mean_and_never_exceeds_what_fits(seed, n, interval, slow):
    fleet, experiment = mme_fleet(INSTANCES)
    variant = fleet.variants[0]
    records, caches = synthetic_run(np.random.default_rng(seed), variant, n, DURATION_S, INSTANCES, slow, limit(slow))
    frame = run_aggregator(fleet, experiment, records, caches, interval=interval)
    runtime = variant.multi_model
    fits = math.floor(runtime.tiers.memory_bytes / (runtime.memory_bytes.min() * runtime.copies_per_load))
    got = rows(frame, "LoadedModelCount")
    assert len(got) == DURATION_S / 60 and (got.sample_count == INSTANCES).all()
    assert (got.maximum <= fits).all()
    start = experiment.experiment.start_time
    for ts, total in zip(got.timestamp, got["sum"]):
        t0 = (ts - start).total_seconds()
        samples = [t0 + j * interval for j in range(int(60 / interval))]
        naive = sum(np.mean([_naive_loaded(caches, i, s) for s in samples]) for i in range(INSTANCES))
        assert total == pytest.approx(naive)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), slow=st.booleans())
def test_memory_and_disk_follow_the_cache(seed, n, slow):
    """A load holds its memory from its start to its unload's end, a load given up from its start to
    the end of its record; an artifact holds disk from its download's start to its deletion, one given
    up from its start to the end of its record."""
    fleet, experiment = mme_fleet(INSTANCES)
    variant = fleet.variants[0]
    records, caches = synthetic_run(np.random.default_rng(seed), variant, n, DURATION_S, INSTANCES, slow, limit(slow))
    frame = run_aggregator(fleet, experiment, records, caches, interval=60.0)   # one sample per period
    runtime, instance = variant.multi_model, variant.instance_type
    need = runtime.memory_bytes * runtime.copies_per_load
    workers = variant.entry.workers * variant.entry.memory_per_worker_bytes
    start = experiment.experiment.start_time
    memory, disk = rows(frame, "MemoryUtilization"), rows(frame, "DiskUtilization")
    assert len(memory) == len(disk) == DURATION_S / 60
    for frame_rows, name in ((memory, "memory"), (disk, "disk")):
        for ts, total in zip(frame_rows.timestamp, frame_rows["sum"]):
            t = (ts - start).total_seconds()
            naive = 0.0
            for i in range(INSTANCES):
                held = 0.0
                for time, inst, m, k, d in zip(caches.time_s, caches.instance, caches.model, caches.kind,
                                               caches.duration_s):
                    if inst != i:
                        continue
                    given_up = time <= t < time + d      # what a download or load given up holds
                    if name == "memory":
                        held += need[m] * (int(k == CACHE_LOAD and time <= t) - int(k == CACHE_UNLOAD and time + d <= t)
                                           + int(k == CACHE_LOAD_ABANDONED and given_up))
                    else:
                        held += runtime.artifact_bytes[m] * (int(k == CACHE_DOWNLOAD and time <= t)
                                                             - int(k == CACHE_DELETE and time <= t)
                                                             + int(k == CACHE_DOWNLOAD_ABANDONED and given_up))
                assert held <= (runtime.tiers.memory_bytes if name == "memory" else runtime.tiers.disk_bytes) + 1
                naive += min(100.0, 100 * (workers + held) / instance.memory_bytes) if name == "memory" \
                    else 100 * held / runtime.tiers.disk_bytes
            assert total == pytest.approx(naive, abs=1e-6), (name, t)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), slow=st.booleans())
def test_summary_and_activity_counts_equal_a_naive_count(seed, n, slow):
    fleet, _ = mme_fleet(INSTANCES)
    records, caches = synthetic_run(np.random.default_rng(seed), fleet.variants[0], n, DURATION_S, INSTANCES, slow,
                                    limit(slow))
    iv = lambda: np.zeros(INSTANCES, np.int32)  # noqa: E731
    totals, activity = ModelCacheTotals(fleet, DURATION_S, iv), ModelCacheActivity(fleet, iv)
    for part in (records.select(slice(0, n // 2)), records.select(slice(n // 2, n))):
        totals.add(part)
        activity.add(part)
    totals.add_cache(caches)
    activity.add_cache(caches)
    mt = totals.variants[0]
    assert mt.hits == sum(1 for c in records.cache if c == CACHE_HIT)
    assert mt.misses == sum(1 for c in records.cache if c == CACHE_MISS)
    assert mt.model_not_ready == sum(1 for s in records.status if s == MODEL_NOT_READY)
    for kind, name in ((CACHE_DOWNLOAD, "downloads"), (CACHE_LOAD, "loads"), (CACHE_UNLOAD, "unloads"),
                       (CACHE_DELETE, "deletions"), (CACHE_DOWNLOAD_ABANDONED, "downloads_abandoned"),
                       (CACHE_LOAD_ABANDONED, "loads_abandoned")):
        assert mt.events[name] == sum(1 for t, k in zip(caches.time_s, caches.kind) if k == kind and t < DURATION_S)
    rows_ = activity.flush(DURATION_S)
    summed = {name: sum(r.counts[name] for r in rows_) for name in COUNTS}
    for name in ("downloads", "loads", "unloads", "deletions", "downloads_abandoned", "loads_abandoned"):
        assert summed[name] == mt.events[name], name
    assert summed["misses"] == mt.misses
    assert summed["model_not_ready"] == mt.model_not_ready
    assert all(r.time_s - r.window_start_s <= 60 for r in rows_)
