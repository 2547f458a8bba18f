"""Downloads and loads given up at the load limit (CACHE_DOWNLOAD_ABANDONED, CACHE_LOAD_ABANDONED)
in every reader of the cache events: the gauges, the CloudWatch metrics, the run totals, the
summary, the sweep row and the activity rows.

The records are built by hand (a few events whose every step is written out below) or drawn as
random lifecycles by hypothesis; the expected levels are computed from the lifecycles themselves
(what each download and load did and when), never from the records the program reads.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mme_records import DURATION_S, INSTANCES, mme_fleet, rows, run_aggregator
from simfleet.metrics.model_cache_activity import COUNTS, ModelCacheActivity
from simfleet.metrics.model_cache_gauges import DISK, GPU_MEMORY, LOADED, MEMORY, CacheOccupancy
from simfleet.metrics.model_cache_totals import ModelCacheTotals
from simfleet.metrics.run_totals import RunTotals
from simfleet.metrics.summary import FleetTime, build_summary
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_UNLOAD, CacheRecords, RequestRecords)

#: A runtime with what `cache_steps` reads: three models, two copies per load, GPU memory too.
RUNTIME = SimpleNamespace(memory_bytes=np.array([100.0, 200.0, 400.0]), gpu_memory_bytes=np.array([10.0, 20.0, 40.0]),
                          artifact_bytes=np.array([1000.0, 2000.0, 4000.0]), copies_per_load=2)


def cache_records(events) -> CacheRecords:
    """CacheRecords of (time, instance, model, kind, duration) tuples."""
    time, instance, model, kind, duration = zip(*events) if events else ([],) * 5
    return CacheRecords(np.array(time, np.float64), np.array(instance, np.int32), np.array(model, np.int32),
                        np.array(kind, np.int8), np.array(duration, np.float64))


# Instance 0: model 0 downloaded over [0, 10), loaded over [10, 15), unloaded over [100, 102) and
# deleted at 102; model 1's download given up at 380 after 360 s; model 2 downloaded over [30, 80)
# and its load given up at 390 after 310 s. Instance 1: a load of model 0 given up after 1 s at 6.
HAND_BUILT = [
    (0.0, 0, 0, CACHE_DOWNLOAD, 10.0), (10.0, 0, 0, CACHE_LOAD, 5.0), (100.0, 0, 0, CACHE_UNLOAD, 2.0),
    (102.0, 0, 0, CACHE_DELETE, 0.0), (20.0, 0, 1, CACHE_DOWNLOAD_ABANDONED, 360.0),
    (30.0, 0, 2, CACHE_DOWNLOAD, 50.0), (80.0, 0, 2, CACHE_LOAD_ABANDONED, 310.0),
    (5.0, 1, 0, CACHE_LOAD_ABANDONED, 1.0),
]
#: (instant, instance, loaded models, memory, GPU memory, disk) as the events above leave them.
HAND_LEVELS = [
    (0.0, 0, 0, 0, 0, 1000), (9.5, 0, 0, 0, 0, 1000), (10.0, 0, 0, 200, 20, 1000), (14.5, 0, 0, 200, 20, 1000),
    (15.0, 0, 1, 200, 20, 1000), (20.0, 0, 1, 200, 20, 3000), (30.0, 0, 1, 200, 20, 7000),
    (79.5, 0, 1, 200, 20, 7000), (80.0, 0, 1, 1000, 100, 7000),    # the load given up takes its memory
    (99.5, 0, 1, 1000, 100, 7000), (100.0, 0, 0, 1000, 100, 7000),  # and never counts as loaded
    (102.0, 0, 0, 800, 80, 6000), (379.5, 0, 0, 800, 80, 6000),
    (380.0, 0, 0, 800, 80, 4000),                                  # the download given up leaves the disk
    (389.5, 0, 0, 800, 80, 4000), (390.0, 0, 0, 0, 0, 4000),       # the load given up frees its memory
    (4.5, 1, 0, 0, 0, 0), (5.0, 1, 0, 200, 20, 0), (5.5, 1, 0, 200, 20, 0), (6.0, 1, 0, 0, 0, 0),
]


@pytest.mark.parametrize("cut", [None, 5.2, 90.0, 385.0])
def test_the_gauges_take_and_free_at_the_hand_built_instants(cut):
    """Every level of HAND_LEVELS, sampled at once or over two closes (`cut`: the first close; the
    steps after it stay pending, the ends of the events given up among them)."""
    occupancy = CacheOccupancy()
    occupancy.add(cache_records(HAND_BUILT[::-1]), RUNTIME)
    times = np.array(sorted({t for t, *_ in HAND_LEVELS}))
    closes = [(times, 400.0)] if cut is None else [(times[times < cut], cut), (times[times >= cut], 400.0)]
    sampled = [occupancy.sample(part, close, 2) for part, close in closes]
    levels = np.concatenate(sampled, axis=1)
    for t, instance, loaded, memory, gpu, disk in HAND_LEVELS:
        j = int(np.searchsorted(times, t))
        got = levels[instance, j]
        assert (got[LOADED], got[MEMORY], got[GPU_MEMORY], got[DISK]) == (loaded, memory, gpu, disk), (t, instance)


# --- random lifecycles --------------------------------------------------------------------------

@st.composite
def lifecycles(draw):
    """Lifecycles of (instance, model) copies, each self-consistent: a download (completed or given
    up) or none (already on disk: no deletion then), a load after a completed download (completed,
    given up, or none), an unload some time after a completed load, a deletion after the unload's end."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        instance, model = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        start = float(draw(st.integers(0, 300)))
        life = {"instance": instance, "model": model}
        download = draw(st.sampled_from(["done", "given_up", "none"]))
        t = start
        if download != "none":
            duration = float(draw(st.integers(1, 60)))
            life["download"] = (t, duration, download == "given_up")
            t += duration
            if download == "given_up":
                out.append(life)
                continue
        load = draw(st.sampled_from(["done", "given_up", "none"]))
        if load != "none":
            t += float(draw(st.integers(0, 5)))
            duration = float(draw(st.integers(1, 60)))
            life["load"] = (t, duration, load == "given_up")
            t += duration
            if load == "done" and draw(st.booleans()):
                t += float(draw(st.integers(0, 60)))
                unload = float(draw(st.integers(0, 5)))
                life["unload"] = (t, unload)
                t += unload
                if download == "done" and draw(st.booleans()):
                    life["delete"] = t
        out.append(life)
    return out


def _records_of(lives) -> CacheRecords:
    events = []
    for life in lives:
        i, m = life["instance"], life["model"]
        if "download" in life:
            t, d, given_up = life["download"]
            events.append((t, i, m, CACHE_DOWNLOAD_ABANDONED if given_up else CACHE_DOWNLOAD, d))
        if "load" in life:
            t, d, given_up = life["load"]
            events.append((t, i, m, CACHE_LOAD_ABANDONED if given_up else CACHE_LOAD, d))
        if "unload" in life:
            events.append((life["unload"][0], i, m, CACHE_UNLOAD, life["unload"][1]))
        if "delete" in life:
            events.append((life["delete"], i, m, CACHE_DELETE, 0.0))
    return cache_records(events)


def _naive_levels(lives, instance: int, t: float):
    """(loaded, memory, GPU memory, disk) of `instance` at `t`, from the lifecycles: a load holds memory
    from its start until its unload's end, or until its end when given up (inf: never freed); it is
    loaded from its end until its unload's start, never when given up; a download holds disk from its
    start until the deletion, or until its end when given up."""
    loaded = memory = gpu = disk = 0.0
    for life in lives:
        if life["instance"] != instance:
            continue
        m = life["model"]
        if "load" in life:
            start, duration, given_up = life["load"]
            if given_up:
                freed = start + duration
            else:
                freed = life["unload"][0] + life["unload"][1] if "unload" in life else np.inf
                if start + duration <= t < (life["unload"][0] if "unload" in life else np.inf):
                    loaded += 1
            if start <= t < freed:
                memory += RUNTIME.memory_bytes[m] * RUNTIME.copies_per_load
                gpu += RUNTIME.gpu_memory_bytes[m] * RUNTIME.copies_per_load
        if "download" in life:
            start, duration, given_up = life["download"]
            gone = start + duration if given_up else life.get("delete", np.inf)
            if start <= t < gone:
                disk += RUNTIME.artifact_bytes[m]
    return loaded, memory, gpu, disk


@settings(max_examples=200)
@given(lives=lifecycles(), order=st.randoms(use_true_random=False), cut=st.integers(1, 500),
       extra=st.lists(st.integers(0, 1000), max_size=20))
def test_the_gauges_equal_the_naive_levels_of_random_lifecycles(lives, order, cut, extra):
    """At every event boundary (where an off-by-one would show) and at random instants, each
    instance's loaded models, memory, GPU memory and disk equal the naive sums over the lifecycles,
    with the events handed over in any order and sampled over two closes."""
    records = _records_of(lives)
    shuffled = list(range(len(records)))
    order.shuffle(shuffled)
    half = len(shuffled) // 2
    occupancy = CacheOccupancy()
    for part in (shuffled[:half], shuffled[half:]):
        occupancy.add(CacheRecords(*(getattr(records, f)[part] for f in
                                     ("time_s", "instance", "model", "kind", "duration_s"))), RUNTIME)
    edges = set((records.time_s + records.duration_s).tolist()) | set(records.time_s.tolist())
    times = np.array(sorted(edges | {x / 2 for x in extra} | {0.0}))
    times = times[times < 1000.0]
    first = times < cut
    levels = np.concatenate([occupancy.sample(times[first], float(cut), 3),
                             occupancy.sample(times[~first], 1000.0, 3)], axis=1)
    for j, t in enumerate(times.tolist()):
        for instance in range(3):
            expected = _naive_levels(lives, instance, t)
            got = levels[instance, j]
            assert (got[LOADED], got[MEMORY], got[GPU_MEMORY], got[DISK]) == pytest.approx(expected), (t, instance)


# --- the CloudWatch metrics ---------------------------------------------------------------------

def test_abandoned_downloads_and_loads_are_no_duration_datapoints_and_never_loaded():
    """Only the completed download and load are ModelDownloadingTime / ModelLoadingTime samples; the
    load given up is never a loaded model (its memory: test_mme_metrics.test_memory_and_disk_follow_the_cache)."""
    fleet, experiment = mme_fleet(INSTANCES)
    caches = cache_records([
        (0.0, 0, 0, CACHE_DOWNLOAD, 10.0), (10.0, 0, 0, CACHE_LOAD, 5.0),          # ends in minute 0
        (20.0, 0, 1, CACHE_DOWNLOAD_ABANDONED, 100.0),                             # ends in minute 2
        (30.0, 1, 2, CACHE_DOWNLOAD, 50.0),                                        # ends in minute 1
        (80.0, 1, 2, CACHE_LOAD_ABANDONED, 170.0),                                 # [80, 250)
    ])
    frame = run_aggregator(fleet, experiment, RequestRecords.empty(), caches, interval=10.0)
    start = experiment.experiment.start_time

    def by_minute(metric):
        got = rows(frame, metric)
        return {int((ts - start).total_seconds() // 60): (int(n), float(s))
                for ts, n, s in zip(got.timestamp, got.sample_count, got["sum"])}

    assert by_minute("ModelDownloadingTime") == {0: (1, 10e6), 1: (1, 50e6)}
    assert by_minute("ModelLoadingTime") == {0: (1, 5e6)}
    loaded = by_minute("LoadedModelCount")
    # instance 0 holds model 0 from 15 s on: 4 of the 6 samples of minute 0 (20 s to 50 s), then all;
    # instance 1, whose load of model 2 is given up, never holds one
    assert loaded[0] == (INSTANCES, pytest.approx(4 / 6))
    assert all(loaded[k] == (INSTANCES, 1.0) for k in range(1, 10))


# --- totals, summary, sweep row, activity rows ---------------------------------------------------

def test_totals_summary_sweep_row_and_activity_count_the_abandoned_ones():
    fleet, _ = mme_fleet(INSTANCES)
    caches = cache_records([
        (0.0, 0, 0, CACHE_DOWNLOAD, 10.0), (10.0, 0, 0, CACHE_LOAD, 5.0),
        (20.0, 0, 1, CACHE_DOWNLOAD_ABANDONED, 360.0), (70.0, 1, 1, CACHE_DOWNLOAD_ABANDONED, 360.0),
        (130.0, 1, 2, CACHE_DOWNLOAD_ABANDONED, 30.0),
        (30.0, 1, 2, CACHE_DOWNLOAD, 50.0), (80.0, 1, 2, CACHE_LOAD_ABANDONED, 310.0),
        (DURATION_S, 0, 3, CACHE_LOAD_ABANDONED, 5.0),     # starts at the run's end: not part of it
    ])
    iv = lambda: np.zeros(INSTANCES, np.int32)  # noqa: E731
    totals, activity = ModelCacheTotals(fleet, DURATION_S, iv), ModelCacheActivity(fleet, iv)
    totals.add_cache(caches)
    activity.add_cache(caches)
    events = totals.variants[0].events
    assert events == {"downloads": 2, "loads": 1, "unloads": 0, "deletions": 0, "downloads_abandoned": 3,
                      "loads_abandoned": 1}
    # activity: by their start, one row per minute with activity
    got = {int(r.window_start_s // 60): {k: v for k, v in r.counts.items() if v} for r in activity.flush(DURATION_S)}
    assert got == {0: {"downloads": 2, "loads": 1, "downloads_abandoned": 1},
                   1: {"downloads_abandoned": 1, "loads_abandoned": 1}, 2: {"downloads_abandoned": 1}}
    assert {"downloads_abandoned", "loads_abandoned"} <= set(COUNTS)
    # summary.json's multi_model block and the sweep row
    run = RunTotals(len(fleet.variants), DURATION_S)
    summary = build_summary(fleet, run, [FleetTime(0.0, 0.0, 0)], [0.0], DURATION_S, multi_model=totals)
    block = summary["variants"][0]["multi_model"]
    assert (block["downloads"], block["loads"], block["downloads_abandoned"], block["loads_abandoned"]) == (2, 1, 3, 1)
    from simfleet.sweep.execute import HEADLINE_FIELDS, headline
    row = headline(summary, pa.table({"event": pa.array([], pa.string())}))
    assert (row["downloads_abandoned"], row["loads_abandoned"]) == (3, 1)
    types = dict(HEADLINE_FIELDS)
    assert types["downloads_abandoned"] == types["loads_abandoned"] == pa.int64()
