"""Multi-model caches: each multi-model variant's model population and each of its instances'
container memory and storage volume, as flat arrays (DESIGN §2.1: a readiness step before the
container's station).

The request kernel (`kernels.flow`) routes a multi-model request, finds its model loaded, loading,
on disk or absent on the instance, downloads and loads it, and evicts unused models to make room;
the control plane adds a cache row when it launches an instance of a multi-model variant
(`add_instance`).

simfleet's choices where AWS is silent (each written where the user sets it):
* models are evicted least recently requested first, and only unused ones: a model is in use while
  it downloads or loads and while requests routed to it are queued or served on the instance; a
  model in memory is never deleted from disk;
* room is made when the request that needs it arrives: disk first (a download starts on the
  instance's download channel that frees first), then memory (unloads one after the other; the
  load starts when its download and those unloads are done); a request that would find no room
  even after evicting every unused model is refused (507) and evicts nothing;
* a request waits for its model's load (the first request and any arriving while it loads), up to
  the wait limit (60 s): beyond it, `ModelNotReadyException` (429) at the limit, the load goes on;
* a download-and-load still unfinished `load_timeout` (360 s) after the request that started it is
  abandoned then (AWS: the model "continues to download and load ... for up to 360 seconds"): its
  channel frees, its memory frees (no unload), its artifact leaves the disk unless fully
  downloaded; every request for it until then gets the 429; the next request starts again;
* ModelCacheSetting Disabled: a model is unloaded and deleted at the instant it becomes unused
  (its load done and its last request completed), and a download and its load hold one of the
  instance's `channels` (the "factor of the vCPUs" AWS does not give) together;
* routing is sticky: the least loaded instance that holds the model (loaded or loading), unless it
  has `spread_at` outstanding requests or more and another instance has fewer, then the least
  loaded instance of all (ties by the routing draw).
"""

from __future__ import annotations

import numpy as np

from simfleet.engine.kernels.flow import CacheOut, Caches

__all__ = ["ModelCaches", "cache_out"]


class ModelCaches:
    """The caches of a run's multi-model variants, one per variant (`cache_of`), a row per instance."""

    def __init__(self, variants: list[int], mem_need, disk_need, download_s, load_s, unload_s, scale, cdf,
                 spread_at: list[int], wait_limit: list[float], mem_cap: list[float], disk_cap: list[float],
                 channels: list[int], disabled: list[bool] | None = None, load_timeout: list[float] | None = None,
                 per_model: list[bool] | None = None):
        """Per variant (the run's variant numbers `variants`): per-model arrays (each a sequence of
        equal length within a variant), the instance's memory and disk for models and its download
        channels, whether its ModelCacheSetting is Disabled, how long a download-and-load may take
        before it is abandoned (None: never), and whether each model has its own worker pool (the
        request plane then gives each instance a station per model)."""
        self.cache_of = {int(v): c for c, v in enumerate(variants)}
        widest = max(len(m) for m in mem_need)

        def table(rows):
            out = np.zeros((len(rows), widest))
            for c, values in enumerate(rows):
                out[c, : len(values)] = values
            return out

        self._mem_cap = list(map(float, mem_cap))
        self._disk_cap = list(map(float, disk_cap))
        self._channels = max(1, max(channels))
        self._channel_count = list(channels)
        self.n_rows = 0
        n_models = np.array([len(m) for m in mem_need], np.int64)
        self.state = Caches(
            n_models=n_models, mem_need=table(mem_need), disk_need=table(disk_need), download_s=table(download_s),
            load_s=table(load_s), unload_s=table(unload_s), scale=table(scale), cdf=table(cdf),
            spread_at=np.asarray(spread_at, np.int64),
            disabled=np.asarray(disabled if disabled is not None else [False] * len(variants), np.bool_),
            wait_limit=np.asarray(wait_limit, np.float64),
            load_timeout=np.asarray(load_timeout if load_timeout is not None else [np.inf] * len(variants),
                                    np.float64),
            per_model=np.asarray(per_model if per_model is not None else [False] * len(variants), np.bool_),
            row_of=np.full(0, -1, np.int64), row_cache=np.zeros(0, np.int64), row_instance=np.zeros(0, np.int64),
            mem_cap=np.zeros(0), disk_cap=np.zeros(0), mem_used=np.zeros(0),
            disk_used=np.zeros(0), channels=np.zeros((0, self._channels)),
            mem_state=np.zeros((0, widest), np.int8), ready=np.zeros((0, widest)),
            disk_state=np.zeros((0, widest), np.int8), disk_ready=np.zeros((0, widest)),
            busy_until=np.zeros((0, widest)), doomed=np.zeros((0, widest), np.int8), n_doomed=np.zeros(0, np.int64),
            m_prev=np.zeros((0, widest), np.int64),
            m_next=np.zeros((0, widest), np.int64), m_head=np.zeros(0, np.int64), m_tail=np.zeros(0, np.int64),
            d_prev=np.zeros((0, widest), np.int64), d_next=np.zeros((0, widest), np.int64),
            d_head=np.zeros(0, np.int64), d_tail=np.zeros(0, np.int64))

    def add_instance(self, instance: int, variant: int) -> None:
        """A cache row, empty, for a new instance of a multi-model variant (the request plane's
        instance number `instance`)."""
        c = self.cache_of[variant]
        s = self.state
        row = self.n_rows
        if row >= len(s.mem_cap):  # grow the rows by doubling
            grown = {}
            new = max(4, 2 * len(s.mem_cap))
            for name in ("row_cache", "row_instance", "mem_cap", "disk_cap", "mem_used", "disk_used", "channels",
                         "mem_state", "ready",
                         "disk_state", "disk_ready", "busy_until", "doomed", "n_doomed", "m_prev", "m_next", "m_head", "m_tail",
                         "d_prev", "d_next", "d_head", "d_tail"):
                array = getattr(s, name)
                bigger = np.full((new,) + array.shape[1:], -1 if name == "row_instance" else 0, array.dtype)
                bigger[: len(array)] = array
                grown[name] = bigger
            s = s._replace(**grown)
        if instance >= len(s.row_of):
            row_of = np.full(max(instance + 1, 2 * len(s.row_of)), -1, np.int64)
            row_of[: len(s.row_of)] = s.row_of
            s = s._replace(row_of=row_of)
        s.row_of[instance] = row
        s.row_cache[row], s.row_instance[row] = c, instance
        s.mem_cap[row], s.disk_cap[row] = self._mem_cap[c], self._disk_cap[c]
        s.mem_used[row] = s.disk_used[row] = 0.0
        s.channels[row] = np.inf          # channels beyond the variant's count never free
        s.channels[row, : self._channel_count[c]] = 0.0
        for name in ("mem_state", "ready", "disk_state", "disk_ready", "busy_until", "doomed", "n_doomed"):
            getattr(s, name)[row] = 0
        for name in ("m_prev", "m_next", "d_prev", "d_next"):
            getattr(s, name)[row] = -1
        s.m_head[row] = s.m_tail[row] = s.d_head[row] = s.d_tail[row] = -1
        self.n_rows += 1
        self.state = s


def cache_out(capacity: int) -> CacheOut:
    return CacheOut(np.empty(capacity), np.empty(capacity, np.int32), np.empty(capacity, np.int32),
                    np.empty(capacity, np.int8), np.empty(capacity), np.zeros(1, np.int64))
