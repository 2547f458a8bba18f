"""A multi-model fleet and synthetic multi-model records, for the metrics tests.

The metrics layer is tested here apart from the request kernel: `synthetic_run` replays a simple,
obviously correct cache per instance (LRU over a memory tier, every model on disk once
downloaded, no disk eviction but a deletion now and then of an unloaded model) and writes
`RequestRecords` and `CacheRecords` shaped as request_records.py says: a hit waits 0, a miss
waits for its download and load (a 429 at the 60 s limit when longer), a load's memory is held
from its start to its unload's end, events are handed over in no particular order.

With `load_timeout`, a download or a load still unfinished `load_timeout` after the request that
started it is given up then (CACHE_DOWNLOAD_ABANDONED or CACHE_LOAD_ABANDONED from its start until
then, a 429 for its request): until then it holds its disk or memory (no room is made from it), and
a request for the same model on that instance waits for it and gets a 429 too.

`run_aggregator` feeds such records to the metrics aggregator tick by tick, as the engine would.
"""

from __future__ import annotations

import math

import numpy as np

from small_experiments import base_experiment, scenario
from simfleet.fleet import build_fleet
from simfleet.metrics.aggregator import MetricsAggregator
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_HIT, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_MISS, CACHE_NONE, CACHE_UNLOAD, MODEL_NOT_FOUND,
                                      MODEL_NOT_READY, NO_CACHE_ROOM, OK, CacheRecords, RequestRecords)

MODELS = 6
#: the metrics tests' synthetic runs: their length and instances (`run_aggregator` feeds that many)
DURATION_S = 600.0
INSTANCES = 2


def mme_fleet(instances: int = 2):
    """(fleet of one multi-model variant on ml.c5.xlarge, its experiment): six models of 0.5–3 GB."""
    raw = base_experiment(duration="10min")
    raw["endpoints"][0]["endpoint_name"] = "mme"
    raw["traffic"] = [{"kind": "poisson", "rate": 1, "endpoint_name": "mme"}]
    variant = raw["endpoints"][0]["production_variants"][0]
    variant.update(mode="MultiModel", initial_instance_count=instances, model_population={"models": [
        {"name": f"m{k}.tar.gz", "artifact_size": f"{500 * (k + 1)} MB"} for k in range(MODELS)]})
    built = scenario(raw)
    return build_fleet(built), built.experiment


def synthetic_run(rng: np.random.Generator, variant, n: int, duration_s: float, instances: int = 2,
                  slow: bool = False, load_timeout: float | None = None):
    """(RequestRecords, CacheRecords) of `n` requests over [0, duration_s) on `instances` instances
    (`load_timeout`: give up downloads and loads unfinished that long after their request)."""
    runtime = variant.multi_model
    need = runtime.memory_bytes * runtime.copies_per_load
    cap = runtime.tiers.memory_bytes
    arrival = np.sort(rng.random(n) * duration_s)
    model = rng.integers(0, MODELS + 1, n).astype(np.int32)          # MODELS: not in the population
    instance = rng.integers(0, instances, n).astype(np.int32)
    cache = np.zeros(n, np.int8)
    setup = np.zeros(n)
    status = np.full(n, OK, np.int8)
    events = []                                                      # (time, instance, model, kind, duration)
    loaded = [dict() for _ in range(instances)]                      # model -> (ready time, last use)
    on_disk = [set() for _ in range(instances)]
    given_up = [dict() for _ in range(instances)]                    # model -> (until, its memory held or 0)
    scale = 40.0 if slow else 1.0
    for k in range(n):
        m, i, a = int(model[k]), int(instance[k]), float(arrival[k])
        if m == MODELS:
            status[k], instance[k] = MODEL_NOT_FOUND, -1
            continue
        given_up[i] = {x: g for x, g in given_up[i].items() if g[0] > a}   # those over by now are gone
        if m in given_up[i]:                                         # waits for a download or load given up
            cache[k], setup[k], status[k] = CACHE_MISS, min(60.0, given_up[i][m][0] - a), MODEL_NOT_READY
            continue
        if m in loaded[i]:
            ready, _ = loaded[i][m]
            loaded[i][m] = (ready, a)
            if ready <= a:
                cache[k] = CACHE_HIT
                continue
            cache[k], setup[k] = CACHE_MISS, ready - a
        else:
            start = a
            limit = math.inf if load_timeout is None else a + load_timeout
            if m not in on_disk[i]:
                download = scale * rng.uniform(0.5, 3.0)
                if a + download > limit:
                    events.append((a, i, m, CACHE_DOWNLOAD_ABANDONED, limit - a))
                    given_up[i][m] = (limit, 0.0)
                    cache[k], setup[k], status[k] = CACHE_MISS, 60.0, MODEL_NOT_READY
                    continue
                events.append((a, i, m, CACHE_DOWNLOAD, download))
                on_disk[i].add(m)
                start = a + download
            room = True
            held = sum(g[1] for g in given_up[i].values())           # loads given up, not over yet
            while held + sum(need[x] for x in loaded[i]) + need[m] > cap:   # LRU among the loaded ones
                idle = [x for x in loaded[i] if loaded[i][x][0] <= a]
                if not idle:
                    room = False
                    break
                victim = min(idle, key=lambda x: loaded[i][x][1])
                unload = rng.uniform(0.1, 1.0)
                events.append((a, i, victim, CACHE_UNLOAD, unload))
                del loaded[i][victim]
                if rng.random() < 0.3:
                    events.append((a + unload, i, victim, CACHE_DELETE, 0.0))
                    on_disk[i].discard(victim)
                start = max(start, a + unload)
            if not room:
                status[k] = NO_CACHE_ROOM
                continue
            load = scale * rng.uniform(0.2, 2.0)
            if start + load > limit:
                if start < limit:                                    # started, then given up
                    events.append((start, i, m, CACHE_LOAD_ABANDONED, limit - start))
                    given_up[i][m] = (limit, float(need[m]))
                cache[k], setup[k], status[k] = CACHE_MISS, 60.0, MODEL_NOT_READY
                continue
            events.append((start, i, m, CACHE_LOAD, load))
            loaded[i][m] = (start + load, a)
            cache[k], setup[k] = CACHE_MISS, start + load - a
        if setup[k] > 60.0:
            status[k], setup[k] = MODEL_NOT_READY, 60.0
    service = rng.exponential(0.05, n)
    start_s = arrival + setup
    reached = status == OK
    complete = np.where(reached, start_s + service, arrival)
    overhead = 0.001 + setup
    response = np.where(reached, complete + 0.001, arrival + setup)
    records = RequestRecords(
        arrival_s=arrival, variant=np.zeros(n, np.int32), instance=instance, status=status,
        payload_bytes=np.full(n, 1000.0), service_s=service, start_s=start_s, complete_s=complete,
        model_latency_s=np.where(reached, complete - start_s, 0.0), overhead_s=overhead, response_s=response,
        active_instances=np.full(n, instances, np.int32), container=np.full(n, -1, np.int32),
        source=np.zeros(n, np.int16), setup_s=setup, environment=np.zeros(n, np.int8), model=model, cache=cache)
    order = rng.permutation(len(events))
    columns = list(zip(*[events[j] for j in order])) if events else [[]] * 5
    cache_records = CacheRecords(np.array(columns[0], np.float64), np.array(columns[1], np.int32),
                                 np.array(columns[2], np.int32), np.array(columns[3], np.int8),
                                 np.array(columns[4], np.float64))
    assert CACHE_NONE == 0
    return records, cache_records


def run_aggregator(fleet, experiment, records, caches, end_s=DURATION_S, interval=None):
    """Feed each 10 s tick's arrivals and the cache events decided by then, close every tick."""
    settings_ = experiment.metrics if interval is None else \
        experiment.metrics.model_copy(update={"concurrency_sample_interval": interval})
    aggregator = MetricsAggregator(fleet, settings_, experiment.experiment.start_time)
    iv = np.zeros(INSTANCES, np.int32)
    serving = np.ones(INSTANCES, bool)
    stations = np.arange(INSTANCES)
    given_ = np.zeros(len(caches), bool)
    for t in np.arange(10.0, end_s + 1, 10.0):
        aggregator.add(records.select((records.arrival_s >= t - 10) & (records.arrival_s < t)))
        # an event is decided at the arrival of the request that caused it, at most minutes early
        now = ~given_ & (caches.time_s - 120.0 < t)
        given_ |= now
        aggregator.add_cache(type(caches)(*(getattr(caches, f)[now] for f in
                                            ("time_s", "instance", "model", "kind", "duration_s"))))
        busy = np.zeros((INSTANCES, fleet.variants[0].entry.workers))
        aggregator.close_tick(t, busy, iv, serving, stations)
    return aggregator.buffer.tables()[0].to_pandas()


def rows(frame, metric):
    return frame[frame.metric_name == metric]
