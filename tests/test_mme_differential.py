"""Multi-model caches: the request kernel against the naive SimPy oracle, request for request.

Generated runs of one multi-model variant on 1–3 instances (1–2 worker slots, short queues), its
cache enabled or disabled (ModelCacheSetting), with populations of 2–12 models of different sizes, memory and disk that hold a few of them, 1–2
download channels, downloads, loads and unloads of different lengths, Zipf-like or named
TargetModels (unknown ones included), the wait limit reached or not, a load limit (none, or as short
as a download and a load, so that queued downloads are given up before or after they begin and
loads are given up), one worker pool per instance or one per model, models with their own latency
profile (their service from their entry's stream), routing that sticks to instances holding a
model and spreads when they are busy, full queues, timeouts, times on a coarse grid (where ties are
frequent) or continuous, and the run cut into segments anywhere. Generated runs of two multi-model
variants of one endpoint add the variant choice by weight, requests that name their variant, and
populations that share some model names (a name is resolved in the chosen variant's population,
MODEL_NOT_FOUND when it lacks it). The kernel (`EndpointFlow` with `ModelCaches`, fed the same
values through `GivenValues` rows) must give every request (variant, instance, outcome, model, hit
or miss, wait, start, completion, latencies) and every cache event (download, load, unload,
deletion, download or load given up) exactly as `tests/oracle.py`'s `naive_mme` does. With loads
and service negligible, hits, disk hits and misses equal an independent two-tier LRU replay of the
same model sequence (`tests/lru_reference.py`).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lru_reference import DISK_HIT, MEMORY_HIT, two_tier_replay
from oracle import NaiveMMVariant, NaiveModelCache, naive_mme
from simfleet.engine.endpoint_flow import EndpointFlow, FlowVariant, GivenValues
from simfleet.engine.kernels.flow import Arrivals
from simfleet.engine.model_caches import ModelCaches
from simfleet.engine.request_plane import RequestPlane
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT, CACHE_LOAD_ABANDONED,
                                      CACHE_MISS, CACHE_UNLOAD, MODEL_NOT_FOUND, MODEL_NOT_READY, NO_CACHE_ROOM,
                                      NO_CAPACITY, OK, QUEUE_FULL, ROUTING_LEAST_OUTSTANDING, RequestRecords)

pytestmark = pytest.mark.jit_off  # also run with numba's JIT off (tests/test_jit_off.py)

HORIZON = 16.0
MAX_PAYLOAD = 1.0
#: load limits: none, or about as long as a download and a load (downloads take 0.25–2 s, loads 0–1 s)
LOAD_TIMEOUTS = [np.inf, 0.75, 1.5, 3.0]


def _durations(rng, grid, size, low_quarters, high_quarters, mean):
    if grid:
        return rng.integers(low_quarters, high_quarters + 1, size) / 4.0
    return rng.lognormal(np.log(mean), 0.8, size) + 1e-3


def _variant(draw, rng, grid, k, names, n, streams, instances=None) -> NaiveMMVariant:
    """Variant k of the run, its population `names`; adds its streams (n + 1 values each) to `streams`."""
    n_models = len(names)
    sizes = rng.integers(1, 5, n_models).astype(float)
    weights = 1.0 / np.arange(1, n_models + 1) ** draw(st.sampled_from([0.0, 0.8, 1.5]))
    cdf = np.cumsum(weights) / weights.sum()
    cdf[-1] = 1.0
    entries = draw(st.integers(0, 2))   # own latency profiles
    entry = rng.integers(-1, entries, n_models) if entries else np.full(n_models, -1)
    cache = NaiveModelCache(
        mem_need=list(sizes), disk_need=list(sizes * 2), download_s=list(_durations(rng, grid, n_models, 1, 8, 1.0)),
        load_s=list(_durations(rng, grid, n_models, 0, 4, 0.5)),
        unload_s=list(_durations(rng, grid, n_models, 0, 2, 0.2)),
        scale=list(rng.choice([0.5, 1.0, 2.0], n_models)), cdf=list(cdf), spread_at=draw(st.integers(1, 4)),
        wait_limit=float(draw(st.sampled_from([2.0, 5.0, 1e9]))), mem_cap=float(draw(st.integers(4, 12))),
        disk_cap=float(draw(st.integers(8, 30))), channels=draw(st.integers(1, 2)), disabled=draw(st.booleans()),
        entry=[int(e) for e in entry], load_timeout=float(draw(st.sampled_from(LOAD_TIMEOUTS))),
        per_model=draw(st.booleans()))
    if instances is None:
        instances = draw(st.integers(1, 3))
    streams[("route", k)] = list(rng.random(n + 1))
    streams[("model", k)] = list(rng.random(n + 1))
    streams[("service", k)] = list(_durations(rng, grid, n + 1, 1, 6, 0.6))
    streams[("error", k)] = list(rng.random(n + 1))
    for e in range(entries):
        streams[("model_service", k, e)] = list(_durations(rng, grid, n + 1, 1, 10, 1.0))
    return NaiveMMVariant(cache, [(draw(st.integers(1, 2)), draw(st.integers(0, 3))) for _ in range(instances)],
                          list(names), float(draw(st.sampled_from([1.0, 3.0]))))


def _arrivals(draw, rng, grid, n, vocabulary, n_variants):
    """n arrivals: times, target variant (-1: the weights decide), index into `vocabulary` (-1: no
    model named), payload (some too large)."""
    load = draw(st.floats(0.5, 6.0))
    times = np.sort(rng.integers(0, int(HORIZON * 4), n) / 4.0) if grid else np.cumsum(rng.exponential(1.0 / load, n))
    named = draw(st.sampled_from([0.0, 0.3]))
    models = np.where(rng.random(n) < named, rng.integers(0, len(vocabulary), n), -1).astype(np.int64)
    targeted = draw(st.sampled_from([0.0, 0.3])) if n_variants > 1 else 0.0
    targets = np.where(rng.random(n) < targeted, rng.integers(0, n_variants, n), -1).astype(np.int64)
    return times, targets, models, np.where(rng.random(n) < 0.05, 1.5, rng.uniform(0, 0.9, n))


@st.composite
def runs(draw):
    """One multi-model variant: (variants, vocabulary, arrivals, streams, error rates, timeout, cuts);
    arrivals name models by their index in `vocabulary`."""
    grid = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_models = draw(st.integers(2, 12))
    n = draw(st.integers(0, 120))
    names = [f"model-{c}" for c in range(n_models)]
    streams = {"overhead": list(_durations(rng, grid, n + 1, 0, 1, 0.05))}
    variants = [_variant(draw, rng, grid, 0, names, n, streams)]
    vocabulary = names + ["unknown-a", "unknown-b"]
    arrivals = _arrivals(draw, rng, grid, n, vocabulary, 1)
    error_rates = [float(draw(st.sampled_from([0.0, 0.3])))]
    timeout = draw(st.sampled_from([3.0, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, int(HORIZON * 4)), max_size=5)))
    return variants, vocabulary, arrivals, streams, error_rates, timeout, [c / 4.0 for c in cuts]


#: the two variants' populations are drawn from these names (so they share some), requests also name others
_NAMES = [chr(ord("a") + c) for c in range(14)]


@st.composite
def two_variant_runs(draw):
    """Two multi-model variants of one endpoint, the same tuple as `runs`."""
    grid = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(0, 120))
    streams = {"overhead": list(_durations(rng, grid, n + 1, 0, 1, 0.05)), "choice": list(rng.random(n + 1))}
    variants = []
    for k in range(2):
        population = list(rng.permutation(_NAMES)[: draw(st.integers(2, 10))])
        instances = draw(st.sampled_from([0, 1, 1, 2, 2, 3])) if k == 1 else None
        variants.append(_variant(draw, rng, grid, k, population, n, streams, instances))
    vocabulary = _NAMES + ["unknown"]
    arrivals = _arrivals(draw, rng, grid, n, vocabulary, 2)
    error_rates = [float(draw(st.sampled_from([0.0, 0.3]))) for _ in variants]
    timeout = draw(st.sampled_from([3.0, 1e9]))
    cuts = sorted(draw(st.lists(st.integers(0, int(HORIZON * 4)), max_size=5)))
    return variants, vocabulary, arrivals, streams, error_rates, timeout, [c / 4.0 for c in cuts]


def _oracle(variants, vocabulary, arrivals, streams, error_rates, timeout, attempts=None):
    times, targets, models, payload = arrivals
    names = [vocabulary[j] if j >= 0 else None for j in models]
    return naive_mme(variants, (times, targets, names, payload), streams, error_rates, MAX_PAYLOAD, timeout,
                     HORIZON, attempts)


def _kernel(variants, vocabulary, arrivals, streams, error_rates, timeout, cuts):
    """The kernel on the run: its records and cache events, and the plane's instance number of each
    (variant, instance within the variant)."""
    caches = [v.cache for v in variants]
    plane = RequestPlane([ROUTING_LEAST_OUTSTANDING] * len(variants),
                         stations=[len(v.names) if v.cache.per_model else 1 for v in variants])

    def each(name):
        return [getattr(c, name) for c in caches]

    plane.caches = ModelCaches(
        list(range(len(variants))), each("mem_need"), each("disk_need"), each("download_s"), each("load_s"),
        each("unload_s"), each("scale"), each("cdf"), each("spread_at"), each("wait_limit"), each("mem_cap"),
        each("disk_cap"), each("channels"), each("disabled"), load_timeout=each("load_timeout"),
        per_model=each("per_model"))
    number = {}
    for k, variant in enumerate(variants):
        for j, (workers, queue_limit) in enumerate(variant.instances):
            number[k, j] = plane.add_instance(k, workers, queue_limit)
    flow_variants = []
    for k, variant in enumerate(variants):
        entry = [-1] * len(variant.names) if variant.cache.entry is None else variant.cache.entry
        own = max(entry, default=-1) + 1
        flow_variants.append(FlowVariant(
            index=k, weight=variant.weight, route=GivenValues(streams["route", k]),
            services=(GivenValues(streams["service", k]),), payload_time_per_kb=(0.0,),
            error=GivenValues(streams["error", k]), error_rate=error_rates[k], model=GivenValues(streams["model", k]),
            models=tuple(variant.names),
            model_services=tuple(GivenValues(streams["model_service", k, e]) for e in range(own)),
            model_entry=tuple(int(e) for e in entry)))
    choice = GivenValues(streams["choice"]) if len(variants) > 1 else None
    flow = EndpointFlow(plane, flow_variants, choice, GivenValues(streams["overhead"]), 0.0, MAX_PAYLOAD, timeout)
    times, targets, models, payload = arrivals
    # the names the arrivals use, in order of first use: each call tells the flow those seen so far
    seen = []
    for j in models:
        if j >= 0 and vocabulary[j] not in seen:
            seen.append(vocabulary[j])
    index = np.array([seen.index(vocabulary[j]) if j >= 0 else -1 for j in models], np.int64)
    records, events = [], []
    done = 0
    for until in [*sorted(set(cuts) | {HORIZON}), np.inf]:  # the last call drains the waits
        mine = slice(done, int(np.searchsorted(times, min(until, HORIZON), "left")))
        k = mine.stop - mine.start
        known = int(index[: mine.stop].max(initial=-1)) + 1
        codes = flow.model_codes(seen[:known])[index[mine]]
        arr = Arrivals(times[mine], targets[mine], payload[mine], np.zeros(k, np.int64), np.zeros(k, np.int64),
                       np.zeros(1, np.int64), codes)
        record, _ = flow.advance(plane, arr, until)
        done = mine.stop
        if record is not None:
            records.append(record)
        cache_events = flow.take_cache_events()
        if cache_events is not None:
            events.append(cache_events)
    return records, events, number


_FIELDS = ("arrival", "variant", "instance", "status", "model", "cache", "setup", "start", "complete",
           "model_latency", "overhead", "service")


def _same_as_the_oracle(run):
    expected, expected_events = _oracle(*run[:-1])
    records, events, number = _kernel(*run)
    # the kernel answers in the order answers happen, the oracle lists requests as they arrive: the
    # same rows, compared as sorted tuples (requests arriving together differ in their other fields)
    got = sorted((float(r.arrival_s[k]), int(r.variant[k]), int(r.instance[k]), int(r.status[k]), int(r.model[k]),
                  int(r.cache[k]), float(r.setup_s[k]), float(r.start_s[k]), float(r.complete_s[k]),
                  float(r.model_latency_s[k]), float(r.overhead_s[k]), float(r.service_s[k]))
                 for r in records for k in range(len(r)))
    for row in expected:
        row["instance"] = number[row["variant"], row["instance"]] if row["instance"] >= 0 else -1
    expected = sorted(tuple(float(row[f]) if isinstance(row[f], float) else row[f] for f in _FIELDS)
                      for row in expected)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected):
        assert mine == theirs, dict(zip(_FIELDS, zip(mine, theirs)))
    kernel_events = sorted((float(t), int(i), int(m), int(k), float(d)) for e in events
                           for t, i, m, k, d in zip(e.time_s, e.instance, e.model, e.kind, e.duration_s))
    assert kernel_events == sorted((float(t), number[v, i], m, k, float(d)) for t, v, i, m, k, d in expected_events)


@settings(max_examples=250)
@given(runs())
def test_multi_model_kernel_matches_the_naive_oracle(run):
    _same_as_the_oracle(run)


@settings(max_examples=150)
@given(two_variant_runs())
def test_multi_model_variants_of_one_endpoint_match_the_naive_oracle(run):
    _same_as_the_oracle(run)


def _collect(generator, examples, seen, check):
    @settings(max_examples=examples, database=None)
    @given(generator)
    def collect(run):
        attempts = []
        requests, events = _oracle(*run[:-1], attempts=attempts)
        check(run, requests, events, attempts)

    collect()


@pytest.mark.no_kernel  # the oracle alone: the JIT-off tier would run it unchanged
def test_the_generator_reaches_every_case():
    """The generated runs hit and miss, unload and delete, spread, refuse for room, time out waiting
    and name unknown models; give up downloads (begun and not yet begun) and loads at the load limit,
    load a model again on an instance after an attempt there was given up, refuse requests for a model
    whose attempt is being given up; fill a per-model pool's queue; serve models with their own
    latency profile (so the differential test exercises each)."""
    seen = set()

    def check(run, requests, events, attempts):
        variants = run[0]
        cache = variants[0].cache
        seen.update(r["status"] for r in requests)
        seen.update(("cache", r["cache"]) for r in requests)
        seen.update(("event", e[4]) for e in events)
        for a in attempts:
            if a["abandoned"] and a["download"] is not None and a["download"] >= a["abandon"]:
                seen.add("download given up before it began")
            same = [b for b in attempts if (b["variant"], b["instance"], b["model"]) ==
                    (a["variant"], a["instance"], a["model"])]
            if a["abandoned"] and any(b["start"] > a["start"] and not b["abandoned"] for b in same):
                seen.add("loaded again after an attempt given up")
        for r in requests:
            if r["status"] == MODEL_NOT_READY and r["abandoned"]:
                seen.add("not ready: its attempt given up")
            if r["status"] == QUEUE_FULL and cache.per_model:
                seen.add("per-model queue full")
            if r["status"] == OK and r["model"] < len(cache.entry) and cache.entry[r["model"]] >= 0:
                seen.add("own latency profile served")

    _collect(runs(), 300, seen, check)
    for case in (MODEL_NOT_FOUND, MODEL_NOT_READY, NO_CACHE_ROOM, ("cache", CACHE_HIT), ("cache", CACHE_MISS),
                 ("event", CACHE_UNLOAD), ("event", CACHE_DELETE), ("event", CACHE_DOWNLOAD_ABANDONED),
                 ("event", CACHE_LOAD_ABANDONED), "download given up before it began",
                 "loaded again after an attempt given up", "not ready: its attempt given up",
                 "per-model queue full", "own latency profile served"):
        assert case in seen, case


@pytest.mark.no_kernel  # the oracle alone: the JIT-off tier would run it unchanged
def test_the_two_variant_generator_reaches_every_case():
    """Two variants: each is chosen by weight and named as a target, each serves requests; a name in
    both populations is served by each (under its own code there), a name only in the other
    variant's population and a name in neither are MODEL_NOT_FOUND; a variant without instances."""
    seen = set()

    def check(run, requests, events, attempts):
        variants, vocabulary, arrivals = run[0], run[1], run[2]
        _, targets, models, _ = arrivals
        for r in requests:
            k = r["variant"]
            target = int(targets[r["request"]])
            name = vocabulary[models[r["request"]]] if models[r["request"]] >= 0 else None
            seen.add(("chosen" if target < 0 else "targeted", k))
            seen.add((r["status"], k))
            other = variants[1 - k].names
            if r["status"] == OK and name is not None and name in other:
                seen.add("a shared name served")
                if other.index(name) != r["model"]:
                    seen.add("a shared name under different codes")
            if r["status"] == MODEL_NOT_FOUND:
                seen.add("not found: the other variant's" if name in other else "not found: nobody's")

    _collect(two_variant_runs(), 200, seen, check)
    for case in (("chosen", 0), ("chosen", 1), ("targeted", 0), ("targeted", 1), (OK, 0), (OK, 1),
                 "a shared name served", "a shared name under different codes", "not found: the other variant's",
                 "not found: nobody's", (NO_CAPACITY, 1)):
        assert case in seen, case


@settings(max_examples=200)
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
    names = [f"model-{c}" for c in range(n_models)]
    times = np.arange(n) * (HORIZON / n)   # apart: each request is answered before the next
    streams = {"overhead": [0.0] * (n + 1), ("route", 0): [0.5] * (n + 1), ("model", 0): [0.5] * (n + 1),
               ("service", 0): [0.0] * (n + 1), ("error", 0): [1.0] * (n + 1)}
    arrivals = (times, np.full(n, -1, np.int64), models, np.zeros(n))
    records, events, _ = _kernel([NaiveMMVariant(cache, [(1, 10)], names)], names, arrivals, streams, [0.0], 1e9, [])
    record = RequestRecords.concat(records)
    order = np.argsort(record.arrival_s, kind="stable")
    hits = record.cache[order] == CACHE_HIT
    downloads = {float(t) for e in events for t, k in zip(e.time_s, e.kind) if k == 0}
    replay = two_tier_replay(list(models), memory, disk, [1] * n_models, [1] * n_models)
    np.testing.assert_array_equal(hits, replay.outcome == MEMORY_HIT)
    on_disk = np.array([float(t) not in downloads for t in times])
    np.testing.assert_array_equal(on_disk & ~hits, replay.outcome == DISK_HIT)


def _hand_cache(**changes):
    """Three models A, B, C (downloads 0.75, 0.5, 0.5 s; loads 0.5, 0.25, 0.25 s), room for all."""
    cache = NaiveModelCache(mem_need=[1.0] * 3, disk_need=[1.0] * 3, download_s=[0.75, 0.5, 0.5],
                            load_s=[0.5, 0.25, 0.25], unload_s=[0.0] * 3, scale=[1.0] * 3, cdf=[1 / 3, 2 / 3, 1.0],
                            spread_at=1, wait_limit=5.0, mem_cap=10.0, disk_cap=10.0, channels=1)
    for name, value in changes.items():
        setattr(cache, name, value)
    return cache


def _hand_run(cache, instances, arrivals):
    n = len(arrivals)
    streams = {"overhead": [0.0] * n, ("route", 0): [0.0] * n, ("service", 0): [0.1] * n}
    times, names = [a[0] for a in arrivals], [a[1] for a in arrivals]
    return naive_mme([NaiveMMVariant(cache, instances, ["A", "B", "C"])], (times, [-1] * n, names, [0.0] * n),
                     streams, [0.0], MAX_PAYLOAD, 1e9, HORIZON)


def test_the_oracle_gives_up_at_the_load_limit_as_worked_by_hand():
    """Load limit 1 s, one channel. At 0: A downloads [0, 0.75] and would load [0.75, 1.25]: its load
    is given up at 1 (A stays on disk); B's queued download begins at 0.75 and is given up at 1; C's
    would begin at 1 and never does. Every request meanwhile is MODEL_NOT_READY after the whole wait
    limit (5 s: the model never loads for it). At 1: A loads from disk, B downloads again, both served."""
    from simfleet.request_records import CACHE_DOWNLOAD, CACHE_LOAD

    requests, events = _hand_run(_hand_cache(load_timeout=1.0), [(1, 10)],
                                 [(0.0, "A"), (0.0, "B"), (0.0, "C"), (0.5, "A"), (1.0, "A"), (1.0, "B")])
    assert sorted(events) == sorted([
        (0.0, 0, 0, 0, CACHE_DOWNLOAD, 0.75), (0.75, 0, 0, 0, CACHE_LOAD_ABANDONED, 0.25),
        (0.75, 0, 0, 1, CACHE_DOWNLOAD_ABANDONED, 0.25),
        (1.0, 0, 0, 0, CACHE_LOAD, 0.5), (1.0, 0, 0, 1, CACHE_DOWNLOAD, 0.5), (1.5, 0, 0, 1, CACHE_LOAD, 0.25)])
    got = [(r["arrival"], r["model"], r["status"], r["setup"], r["start"], r["complete"], r["abandoned"])
           for r in sorted(requests, key=lambda r: r["request"])]
    assert got == [(0.0, 0, MODEL_NOT_READY, 5.0, 0.0, 0.0, True), (0.0, 1, MODEL_NOT_READY, 5.0, 0.0, 0.0, True),
                   (0.0, 2, MODEL_NOT_READY, 5.0, 0.0, 0.0, True), (0.5, 0, MODEL_NOT_READY, 5.0, 0.5, 0.5, True),
                   (1.0, 0, OK, 0.5, 1.5, 1.6, False), (1.0, 1, OK, 0.75, 1.75, 1.85, False)]


def test_the_oracle_gives_up_at_the_load_limit_with_the_cache_disabled():
    """Disabled: A's download (with its load, one channel) would hold the channel to 1.25, released at
    the limit 1; A, downloaded but not loaded, is deleted then; B's download, queued to 1, never begins;
    a wait limit of 0.5 s bounds the recorded waits."""
    from simfleet.request_records import CACHE_DOWNLOAD

    requests, events = _hand_run(_hand_cache(load_timeout=1.0, disabled=True, wait_limit=0.5), [(1, 10)],
                                 [(0.0, "A"), (0.0, "B")])
    assert sorted(events) == [(0.0, 0, 0, 0, CACHE_DOWNLOAD, 0.75), (0.75, 0, 0, 0, CACHE_LOAD_ABANDONED, 0.25),
                              (1.0, 0, 0, 0, CACHE_DELETE, 0.0)]
    assert [(r["status"], r["setup"], r["model_latency"], r["overhead"]) for r in requests] == \
        [(MODEL_NOT_READY, 0.5, 0.0, 0.5)] * 2


def test_the_oracle_gives_each_model_its_own_pool():
    """One worker and no queue per pool: A and B at once are both served with a pool per model; with one
    shared pool, B's request finds it full. A second A at once finds A's pool full either way."""
    for per_model, statuses in ((True, [OK, OK, QUEUE_FULL]), (False, [OK, QUEUE_FULL, QUEUE_FULL])):
        cache = _hand_cache(download_s=[0.0] * 3, load_s=[0.0] * 3, per_model=per_model)
        requests, _ = _hand_run(cache, [(1, 0)], [(0.0, "A"), (0.0, "B"), (0.0, "A")])
        assert [r["status"] for r in sorted(requests, key=lambda r: r["request"])] == statuses, per_model
