"""What the model caches of a multi-model variant's instances hold over time: loaded models, host
memory, GPU memory and disk, as step functions of the cache events, sampled per instance.

Part of the metrics layer: `metrics.model_cache_metrics` samples it for `LoadedModelCount` and the
aggregator for the host metrics that follow the cache (`emission.utilization_values`). The request
kernel emits `CacheRecords` when it decides an event, which can be before the event's time (a
download queued on a busy channel, a load after its download), so the steps are kept until the
sample instants pass them; a step at or after a close stays pending (a run's last events may lie
after its end: they are never sampled).

simfleet's reading of the records (each an assumption where AWS is silent, written here once):

* a model is **loaded** (`LoadedModelCount`) from the end of its load (time + duration) until the
  start of its unload;
* it **holds its memory** (host memory, or GPU memory on a GPU variant; `copies_per_load` copies)
  from the start of its load until the end of its unload: the kernel makes room before a load
  starts and frees it when the unload is done, so the held memory never exceeds the tier;
* its artifact **holds disk** from the start of its download until its deletion;
* a load given up at the load limit (`CACHE_LOAD_ABANDONED`) holds the memory a load holds over
  [time, time + duration) and is then gone (no unload follows); the model is never loaded, so it
  never counts in `LoadedModelCount`;
* a download given up at the load limit (`CACHE_DOWNLOAD_ABANDONED`) holds its artifact's disk over
  [time, time + duration) and is then gone (no deletion follows).

A step counts from its own time on: a model whose load ends at a sample instant is loaded at it.
"""

from __future__ import annotations

import numpy as np

from simfleet.multi_model.runtime import MultiModelRuntime
from simfleet.request_records import (CACHE_DELETE, CACHE_DOWNLOAD, CACHE_DOWNLOAD_ABANDONED, CACHE_LOAD,
                                      CACHE_LOAD_ABANDONED, CACHE_UNLOAD, CacheRecords)

__all__ = ["LOADED", "MEMORY", "GPU_MEMORY", "DISK", "QUANTITIES", "cache_steps", "CacheOccupancy",
           "sample_times"]

#: The quantities an instance's cache holds (the last axis of `CacheOccupancy.sample`).
LOADED, MEMORY, GPU_MEMORY, DISK = range(4)
QUANTITIES = 4


#: The steps each kind of cache event makes, as (quantity, sign, at its end) — the reading above:
#: a load adds a loaded model at its end and its memory at its start; an unload takes the loaded
#: model away at its start and its memory at its end; a download adds its artifact's disk at its
#: start, a deletion takes it away; an abandoned download or load holds its disk or memory over its
#: duration only.
_STEPS = {
    CACHE_DOWNLOAD: ((DISK, 1, False),),
    CACHE_LOAD: ((LOADED, 1, True), (MEMORY, 1, False), (GPU_MEMORY, 1, False)),
    CACHE_UNLOAD: ((LOADED, -1, False), (MEMORY, -1, True), (GPU_MEMORY, -1, True)),
    CACHE_DELETE: ((DISK, -1, False),),
    CACHE_DOWNLOAD_ABANDONED: ((DISK, 1, False), (DISK, -1, True)),
    CACHE_LOAD_ABANDONED: ((MEMORY, 1, False), (MEMORY, -1, True), (GPU_MEMORY, 1, False), (GPU_MEMORY, -1, True)),
}
_KINDS = max(_STEPS) + 1
_COUNT = np.array([len(_STEPS.get(k, ())) for k in range(_KINDS)], np.int64)     # steps per kind
_FIRST = np.concatenate([[0], np.cumsum(_COUNT)[:-1]])                          # its first template
_TEMPLATE = np.array([step for k in range(_KINDS) for step in _STEPS.get(k, ())], np.int64).reshape(-1, 3)


def cache_steps(records: CacheRecords, runtime: MultiModelRuntime):
    """(time, instance, quantity, change) of every step the cache events of one variant make
    (`_STEPS`), event by event."""
    kind = records.kind.astype(np.int64)
    model = records.model
    event = np.repeat(np.arange(len(kind)), _COUNT[kind])
    # each step's template: its event's kind's first one, plus its place among the event's steps
    starts = np.cumsum(_COUNT[kind]) - _COUNT[kind]
    template = _TEMPLATE[_FIRST[kind[event]] + np.arange(len(event)) - np.repeat(starts, _COUNT[kind])]
    quantity, sign, at_end = template[:, 0], template[:, 1], template[:, 2].astype(bool)
    amount = np.stack([np.ones(len(kind)), runtime.memory_bytes[model] * runtime.copies_per_load,
                       runtime.gpu_memory_bytes[model] * runtime.copies_per_load,
                       runtime.artifact_bytes[model].astype(np.float64)])        # by quantity (LOADED.. DISK)
    time = records.time_s[event] + np.where(at_end, records.duration_s[event], 0.0)
    return time, records.instance[event].astype(np.int64), quantity, sign * amount[quantity, event]


def sample_times(t: float, period_s: int, sample_interval: float) -> np.ndarray:
    """The evenly spaced sample instants of the period ending at `t` (at least one), as the other
    sampled gauges take them."""
    n = max(1, int(round(period_s / sample_interval)))
    return t - period_s + np.arange(n) * (period_s / n)


class CacheOccupancy:
    """One variant's cache contents per instance (by the run's instance number), as pending steps and
    the levels reached by the steps already folded in. Steps may come in any order."""

    def __init__(self):
        self._steps: list[tuple[np.ndarray, ...]] = []
        self.level = np.zeros((0, QUANTITIES))

    def add(self, records: CacheRecords, runtime: MultiModelRuntime) -> None:
        if len(records):
            self.add_steps(cache_steps(records, runtime))

    def add_steps(self, steps: tuple[np.ndarray, ...]) -> None:
        """Steps `cache_steps` made (never changed in place here: two occupancies may share them)."""
        if len(steps[0]):
            self._steps.append(steps)

    def sample(self, times: np.ndarray, t: float, n_instances: int) -> np.ndarray:
        """(instance, sample, quantity) levels at each of `times` (ascending, all before `t`); the
        steps before `t` are folded into the levels, later ones kept."""
        n_instances = max(n_instances, len(self.level))
        if len(self.level) < n_instances:
            self.level = np.vstack([self.level, np.zeros((n_instances - len(self.level), QUANTITIES))])
        shape = (n_instances, len(times) + 1, QUANTITIES)
        grid = np.zeros(shape)
        if self._steps:
            time, instance, quantity, change = (np.concatenate(c) for c in zip(*self._steps))
            now = time < t
            bucket = np.searchsorted(times, time[now], side="left")   # the first sample at or after the step
            # each step added to its (instance, bucket, quantity) cell, in order (as np.add.at would)
            cell = (instance[now] * shape[1] + bucket) * QUANTITIES + quantity[now]
            grid = np.bincount(cell, weights=change[now], minlength=grid.size).reshape(shape)
            later = ~now
            self._steps = [(time[later], instance[later], quantity[later], change[later])] if later.any() else []
        running = self.level[:, None, :] + np.cumsum(grid, axis=1)
        self.level = running[:, -1, :].copy()
        return np.maximum(running[:, :-1, :], 0.0)   # float noise never makes a negative level
