"""Multi-model endpoints, end to end, against an LRU approximation and the cache's invariants.

* One instance, every model the same size, downloads and loads negligible, independent Zipf
  requests: the cache is an LRU cache of C models, whose hit ratio Che's approximation gives (its
  error against an exact LRU replay is below 0.002 on these populations, `tests/test_lru_reference.py`;
  the tolerance, 0.02, adds the sampling error of a 10-minute run: about 0.003 at 1 sigma for
  ~150 k correlated requests, and the requests still in the warm-up minute).
* On a run whose loads take time and whose memory is contended (downloads, loads, unloads,
  deletions, waits, 429s), from its requests and cache events: every load of a model on an instance
  follows a download of it there that no deletion undid; no model is unloaded while a request routed
  to it there is waiting, queued or served; a request that waited has its model loaded when it
  starts; loaded memory never exceeds the instance's; with ModelCacheSetting Disabled, each model
  is unloaded at the instant it became unused (its load's end, or its last request's completion).
"""

from __future__ import annotations

import numpy as np
import pytest

from small_experiments import base_experiment, scenario
from lru_reference import che_hit_ratio, zipf_popularity
from simfleet.engine.simulation import simulate
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_HIT, CACHE_LOAD, CACHE_MISS, CACHE_NONE,
                                      CACHE_UNLOAD, CacheRecords, RequestRecords)

N_MODELS = 1000
ARTIFACT = 40e6


def mme_experiment(rate: float, exponent: float, instances: int = 1, fast: bool = True, seed: int = 5,
                   cache: str = "Enabled") -> dict:
    raw = base_experiment(duration="10min", seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    raw["endpoints"][0]["production_variants"] = [{
        "variant_name": "A", "model_name": "toy", "instance_type": "ml.c5.xlarge", "initial_instance_count": instances,
        "mode": "MultiModel", "multi_model_config": {"model_cache_setting": cache},
        "model_population": {"count": N_MODELS, "artifact_size": {"kind": "constant", "value": f"{ARTIFACT:g} B"},
                             "popularity": {"kind": "zipf", "exponent": exponent}}}]
    if fast:  # downloads and loads negligible
        raw["multi_model"] = {"download_bandwidth": "1000 GB/s", "download_latency": "0s", "load_time_rule": "bandwidth",
                              "load_bandwidth": "1000 GB/s", "load_fixed_time": "0s", "unload_time": "0s"}
    else:
        raw["multi_model"] = {"load_time_rule": "bandwidth", "load_bandwidth": "200 MB/s", "load_fixed_time": "0.2s",
                              "storage_volume_size": "1 GiB", "memory_reserve": "7.5 GiB",
                              "unload_time": "0s"}  # unloads at their decision; ~6 models in memory, 26 on disk
    raw["traffic"] = [{"kind": "poisson", "rate": rate}]
    return raw


def run(raw: dict):
    parts: list[RequestRecords] = []
    events: list[CacheRecords] = []
    sc = scenario(raw)
    result = simulate(sc, requests_sink=parts.append, cache_sink=events.append)
    return result, RequestRecords.concat(parts), events


@pytest.mark.parametrize("exponent", [0.8, 1.2])
def test_one_instance_hit_ratio_is_che_s_approximation(exponent):
    result, records, _ = run(mme_experiment(250.0, exponent))
    runtime = result.fleet.variants[0].multi_model
    per_model = ARTIFACT * runtime.copies_per_load
    capacity = int(runtime.tiers.memory_bytes // per_model)
    assert int(runtime.tiers.disk_bytes // ARTIFACT) > capacity  # memory is the tier that evicts
    settled = (records.arrival_s >= 60.0) & (records.cache != CACHE_NONE)
    hit_ratio = (records.cache[settled] == CACHE_HIT).mean()
    expected = che_hit_ratio(zipf_popularity(N_MODELS, exponent), capacity)
    assert abs(hit_ratio - expected) < 0.02, (hit_ratio, expected, capacity)


@pytest.mark.parametrize("cache", ["Enabled", "Disabled"])
def test_the_cache_keeps_its_invariants_under_contention(cache):
    result, records, parts = run(mme_experiment(120.0, 1.0, instances=2, fast=False, cache=cache))
    events = CacheRecords(*(np.concatenate([getattr(p, f) for p in parts])
                            for f in ("time_s", "instance", "model", "kind", "duration_s")))
    assert {CACHE_DOWNLOAD, CACHE_LOAD, CACHE_UNLOAD, CACHE_DELETE} <= set(events.kind.tolist())
    assert (records.cache == CACHE_MISS).any() and (records.cache == CACHE_HIT).any()
    runtime = result.fleet.variants[0].multi_model
    per_model = ARTIFACT * runtime.copies_per_load
    order = np.lexsort((events.kind, events.time_s))
    for instance in (0, 1):
        on_disk, loaded_bytes = set(), 0.0
        mine = [k for k in order if events.instance[k] == instance]
        for k in mine:
            m, kind, t = int(events.model[k]), int(events.kind[k]), events.time_s[k]
            if kind == CACHE_DOWNLOAD:
                on_disk.add(m)
            elif kind == CACHE_DELETE:
                on_disk.discard(m)
            elif kind == CACHE_LOAD:
                assert m in on_disk, (instance, m, t)          # every load follows a download not undone
                loaded_bytes += per_model
            elif kind == CACHE_UNLOAD:
                loaded_bytes -= per_model
                served = (records.instance == instance) & (records.model == m) & (records.cache != CACHE_NONE)
                busy = served & (records.arrival_s <= t) & (records.complete_s > t)
                assert not busy.any(), (instance, m, t)         # never unloaded while in use
            assert loaded_bytes <= runtime.tiers.memory_bytes + 1e-6
        if cache == "Disabled":  # a model goes the instant it is unused: its load's end or a request's completion
            load_end = {}
            for k in mine:
                m, kind, t = int(events.model[k]), int(events.kind[k]), events.time_s[k]
                if kind == CACHE_LOAD:
                    load_end[m] = t + events.duration_s[k]
                elif kind == CACHE_UNLOAD:
                    completions = records.complete_s[(records.instance == instance) & (records.model == m)]
                    assert t == load_end[m] or (completions == t).any(), (instance, m, t)
    waited = (records.cache == CACHE_MISS) & (records.status == 0)
    assert np.all(records.start_s[waited] >= records.arrival_s[waited] + records.setup_s[waited] - 1e-9)
