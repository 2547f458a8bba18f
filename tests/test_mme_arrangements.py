"""Multi-model endpoints, end to end: per-model worker pools, declared models with their own
profile, closed-loop users naming a model, several multi-model variants on one endpoint, and the
load limit (a download-and-load abandoned 360 s after the request that started it).

Expected values come from queueing theory (per-model pools: each model's pool is an M/M/1 queue),
from the profiles' service-time means (confidence intervals from the samples' own spread), or from
what must hold for every request (a pool never serves more requests at once than its workers; a
name only one variant's population has is found there only), never from simfleet's output.
"""

from __future__ import annotations

import numpy as np
import pytest

from small_experiments import base_experiment, scenario
from simfleet.engine.simulation import simulate
from simfleet.request_records import (CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, MODEL_NOT_FOUND, MODEL_NOT_READY, OK, CacheRecords,
                                      RequestRecords)

FAST = {"download_bandwidth": "1000 GB/s", "download_latency": "0s", "load_time_rule": "bandwidth",
        "load_bandwidth": "1000 GB/s", "load_fixed_time": "0s", "unload_time": "0s"}


def mme(population: dict, settings: dict | None = None, duration: str = "10min", rate: float = 100.0,
        instances: int = 1, seed: int = 3) -> dict:
    raw = base_experiment(duration=duration, seed=seed)
    raw["platform"] = {"overhead_latency": {"kind": "constant", "value": "0s"}}
    raw["endpoints"][0]["production_variants"] = [{
        "variant_name": "A", "model_name": "toy", "instance_type": "ml.c5.xlarge", "initial_instance_count": instances,
        "mode": "MultiModel", "model_population": population}]
    raw["multi_model"] = {**FAST, **(settings or {})}
    raw["traffic"] = [{"kind": "poisson", "rate": rate}]
    return raw


def run(raw: dict) -> tuple[RequestRecords, CacheRecords]:
    parts: list[RequestRecords] = []
    events: list[CacheRecords] = []
    simulate(scenario(raw), requests_sink=parts.append, cache_sink=events.append)
    joined = {name: np.concatenate([getattr(e, name) for e in events]) if events else np.empty(0)
              for name in ("time_s", "instance", "model", "kind", "duration_s")}
    return RequestRecords.concat(parts), CacheRecords(**joined)


def most_at_once(starts: np.ndarray, ends: np.ndarray) -> int:
    """The most intervals [start, end) open at one instant (an end before a start at a tie)."""
    times = np.concatenate([starts, ends])
    step = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((step, times))
    return int(np.cumsum(step[order]).max()) if len(times) else 0


UNIFORM_4 = {"count": 4, "artifact_size": {"kind": "constant", "value": "1 MB"}, "popularity": {"kind": "uniform"}}


def test_per_model_pools_serve_each_model_on_its_own_workers():
    """toy on ml.c5.xlarge has 2 shared workers; with a pool of 1 worker per model, 4 models at 120
    requests/s in all make 4 M/M/1 queues (λ = 30/s, μ = 100/s): at most one request of a model in
    service at once on an instance, more than 2 of all models at once, and each model's mean time
    in the system 1/(μ - λ) = 14.3 ms (within 6 %: about 4 standard errors of a 10-minute run)."""
    records, _ = run(mme(UNIFORM_4, {"worker_arrangement": "per_model", "workers_per_model": 1}, rate=120.0))
    served = (records.status == OK) & (records.cache == CACHE_HIT)
    assert served.mean() > 0.99
    for m in range(4):
        mine = served & (records.model == m)
        assert most_at_once(records.start_s[mine], records.complete_s[mine]) == 1
        sojourn = records.complete_s[mine] - records.arrival_s[mine]
        assert sojourn.mean() == pytest.approx(1 / (100 - 30), rel=0.06)
    assert most_at_once(records.start_s[served], records.complete_s[served]) > 2


def test_shared_workers_serve_every_model_on_the_instance_s_workers():
    """The default arrangement, same traffic at 100/s: never more requests in service at once than
    the instance's 2 workers, whatever their models."""
    records, _ = run(mme(UNIFORM_4, rate=100.0))
    served = records.status == OK
    assert most_at_once(records.start_s[served], records.complete_s[served]) == 2


def test_a_declared_model_with_its_own_profile_takes_that_profile_s_service_times():
    """Model "a" declares profile stage-a (exponential, mean 4 ms on c5), "b" the variant's toy
    (exponential, mean 10 ms) with latency_scale 1.5: their mean service times are 4 ms and 15 ms
    within 4 standard errors (mean / sqrt(n) for an exponential)."""
    population = {"models": [{"name": "a", "artifact_size": "1 MB", "profile": "stage-a"},
                             {"name": "b", "artifact_size": "1 MB", "latency_scale": 1.5}]}
    records, _ = run(mme(population, rate=60.0, duration="5min"))
    for code, mean in ((0, 0.004), (1, 0.015)):
        service = records.service_s[(records.model == code) & (records.status == OK)]
        assert len(service) > 5000
        assert abs(service.mean() - mean) < 4 * mean / np.sqrt(len(service))


def test_closed_loop_users_name_their_model():
    raw = mme({"models": [{"name": "a", "artifact_size": "1 MB"}, {"name": "b", "artifact_size": "1 MB"}]},
              duration="2min")
    think = {"kind": "constant", "value": "20ms"}
    raw["traffic"] = [{"kind": "users", "users": 3, "target_model": "b", "think_time": think},
                      {"kind": "users", "users": 2, "target_model": "nowhere", "think_time": think}]
    records, _ = run(raw)
    first, second = records.source == 0, records.source == 1
    assert first.sum() > 1000 and second.sum() > 1000
    assert (records.model[first] == 1).all() and (records.status[first] == OK).all()
    assert (records.status[second] == MODEL_NOT_FOUND).all()


def test_several_multi_model_variants_resolve_a_name_in_their_own_population():
    """Two variants, equal weights, populations {a, b} and {b, c}: requests for "b" are served by
    both (each share within 4 binomial standard errors of 1/2), requests for "a" only by the first
    (the second answers them ModelNotFound)."""
    raw = mme({"models": [{"name": "a", "artifact_size": "1 MB"}, {"name": "b", "artifact_size": "1 MB"}]},
              duration="3min", rate=40.0)
    second = dict(raw["endpoints"][0]["production_variants"][0], variant_name="B",
                  model_population={"models": [{"name": "b", "artifact_size": "1 MB"},
                                               {"name": "c", "artifact_size": "1 MB"}]})
    raw["endpoints"][0]["production_variants"].append(second)
    raw["traffic"] = [{"kind": "poisson", "rate": 40, "target_model": "b"},
                      {"kind": "poisson", "rate": 40, "target_model": "a"}]
    records, _ = run(raw)
    for source in (0, 1):
        mine = records.source == source
        n = mine.sum()
        assert abs((records.variant[mine] == 1).mean() - 0.5) < 4 * np.sqrt(0.25 / n)
    b = records.source == 0
    assert (records.status[b] == OK).all()
    assert (records.model[b & (records.variant == 0)] == 1).all() and (records.model[b & (records.variant == 1)] == 0).all()
    a = records.source == 1
    assert (records.status[a & (records.variant == 0)] == OK).all()
    assert (records.status[a & (records.variant == 1)] == MODEL_NOT_FOUND).all()


def one_model(artifact: str) -> dict:
    return {"models": [{"name": "big", "artifact_size": artifact, "memory": "1 GiB"}]}


def test_a_download_longer_than_the_load_limit_is_abandoned_and_started_again():
    """A 10 GB artifact at 20 MB/s downloads in 500 s: each attempt is abandoned 360 s after the
    request that started it, every request gets ModelNotReadyException, and the next request after
    an abandonment starts a new attempt (the disk never keeps a partial artifact)."""
    settings = {"download_bandwidth": "20 MB/s", "storage_volume_size": "100 GB"}
    raw = mme(one_model("10 GB"), settings, duration="20min", rate=1.0)
    records, events = run(raw)
    assert (records.status == MODEL_NOT_READY).all()
    abandoned = np.sort(events.time_s[events.kind == CACHE_DOWNLOAD_ABANDONED])
    assert len(abandoned) >= 3 and not np.isin(events.kind, [CACHE_DOWNLOAD, CACHE_LOAD]).any()
    assert np.allclose(events.duration_s[events.kind == CACHE_DOWNLOAD_ABANDONED], 360.0)
    # each attempt starts at the first request at or after the previous one's abandonment
    arrivals = np.sort(records.arrival_s)
    for begun, following in zip(abandoned[:-1], abandoned[1:]):
        assert following == arrivals[np.searchsorted(arrivals, begun + 360.0, "left")]
    # the 429 comes 60 s after each request (its wait, counted in its overhead)
    assert np.allclose(records.response_s - records.arrival_s, 60.0)


def test_a_load_abandoned_after_its_download_finds_the_artifact_on_disk_next_time():
    """Download 300 s, load 100 s: the first attempt's load is abandoned at 360 s (the artifact
    stays on disk), the next request only loads it (100 s), and the requests after that are hits."""
    settings = {"download_bandwidth": "10 MB/s", "load_bandwidth": "1000 GB/s", "load_fixed_time": "100s"}
    records, events = run(mme(one_model("3 GB"), settings, duration="20min", rate=0.5))
    kinds = events.kind
    assert (kinds == CACHE_DOWNLOAD).sum() == 1 and (kinds == CACHE_LOAD_ABANDONED).sum() == 1
    assert (kinds == CACHE_LOAD).sum() == 1 and (kinds == CACHE_DOWNLOAD_ABANDONED).sum() == 0
    first = records.arrival_s.min()
    assert events.duration_s[kinds == CACHE_LOAD_ABANDONED][0] == pytest.approx(60.0)
    load = events.time_s[kinds == CACHE_LOAD][0]
    assert load >= first + 360.0
    before = records.arrival_s < load + 100.0
    assert (records.status[before] == MODEL_NOT_READY).sum() >= 1
    after = records.arrival_s >= load + 100.0
    assert after.sum() > 50 and (records.cache[after] == CACHE_HIT).all() and (records.status[after] == OK).all()
