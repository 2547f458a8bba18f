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


def cache_steps(records: CacheRecords, runtime: MultiModelRuntime):
    """(time, instance, quantity, change) of every step the cache events of one variant make."""
    kind, model, start, end = records.kind, records.model, records.time_s, records.time_s + records.duration_s
    memory = runtime.memory_bytes[model] * runtime.copies_per_load
    gpu = runtime.gpu_memory_bytes[model] * runtime.copies_per_load
    disk = runtime.artifact_bytes[model]
    load, unload = kind == CACHE_LOAD, kind == CACHE_UNLOAD
    download, delete = kind == CACHE_DOWNLOAD, kind == CACHE_DELETE
    load_given_up, download_given_up = kind == CACHE_LOAD_ABANDONED, kind == CACHE_DOWNLOAD_ABANDONED
    held = load | load_given_up                     # every load takes its memory at its start
    on_disk = download | download_given_up          # every download takes its disk at its start
    parts = [
        (end[load], LOADED, np.ones(int(load.sum())), load),
        (start[unload], LOADED, -np.ones(int(unload.sum())), unload),
        (start[held], MEMORY, memory[held], held),
        (end[unload], MEMORY, -memory[unload], unload),
        (end[load_given_up], MEMORY, -memory[load_given_up], load_given_up),
        (start[held], GPU_MEMORY, gpu[held], held),
        (end[unload], GPU_MEMORY, -gpu[unload], unload),
        (end[load_given_up], GPU_MEMORY, -gpu[load_given_up], load_given_up),
        (start[on_disk], DISK, disk[on_disk], on_disk),
        (start[delete], DISK, -disk[delete], delete),
        (end[download_given_up], DISK, -disk[download_given_up], download_given_up),
    ]
    time = np.concatenate([p[0] for p in parts])
    instance = np.concatenate([records.instance[p[3]] for p in parts]).astype(np.int64)
    quantity = np.concatenate([np.full(len(p[0]), p[1], np.int64) for p in parts])
    change = np.concatenate([np.asarray(p[2], np.float64) for p in parts])
    return time, instance, quantity, change


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
