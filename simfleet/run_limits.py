"""The work a run will create, estimated before it starts and held against the experiment's `[limits]`.

The last check of scenario assembly (`simfleet.scenario`), after the schema and the names: it
reads the validated experiment (and its autoscaling targets, and its replay traces in full) and
estimates what the engine will do: requests, closed-loop users, instances at their most,
instance failures, concurrency samples, variants, models, schedule knots. A run that could not
finish is refused here, by `validate` and before `run` writes anything, with a message naming the
`limits.*` key that raises the cap; a run that will merely take long, and inputs that will run but
mislead (every payload over the size limit, a trace of which part falls outside the run, an
instance type without a price), give warnings.

Memory grows with: the instances at their most (per-instance state and metric series), the
closed-loop users, the multi-model population, the replay traces (read whole), the metric
datapoints (duration / period x dimensions), and the requests of one invocation metric period,
which are kept until it closes (`HELD_BYTES_PER_REQUEST`; a warning above
`limits.memory_warning`, refused above `limits.max_memory`). Otherwise requests stream through the engine in batches and do not
accumulate; with `output.requests` they go to `requests.parquet` on disk (about 70 bytes each on
the quickstart).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simfleet.autoscaling.document import AutoscalingConfig
from simfleet.catalog import Catalog
from simfleet.config.experiment import (MAX_DURATION_S, ClosedLoopTraffic, Experiment, OpenLoopTraffic,
                                       ReplayTraffic)
from simfleet.config.publish_periods import clock_tick_s, publish_plan
from simfleet.schema.validation import dotted
from simfleet.traffic.rate import RateFunction
from simfleet.traffic.trace_file import read_trace, replay_window, trace_times

__all__ = ["Workload", "estimate_workload", "REQUESTS_PER_WALL_S", "HELD_BYTES_PER_REQUEST", "RUN_OVERHEAD_S",
           "VARIANT_TICK_WALL_S",
           "sweep_wall_s", "long_sweep_message"]

#: Requests simulated per second of wall time, for the estimate of a long run: the README's figures
#: for a 2-core machine (the quickstart's 1.1 M requests in about 0.6 s, a day of 40 M in 12-14 s:
#: 1.8 to 3 M/s), rounded down to leave room for metrics-heavy runs.
REQUESTS_PER_WALL_S = 1.5e6
#: Wall time of one tick of the metric clock per variant (closing its periods, publishing their
#: datapoints, the alarms' and the watcher's turns), requests aside: measured on a 2-core machine
#: with the quickstart (2 variants) at 0.01 requests/s, 1.5 s of start-up aside: a week of its 10 s
#: ticks (60,480) took 17 s of CPU, 0.13 ms a variant and tick; a day of 1 s high-resolution ticks
#: (86,400), 43.6 s, 0.25 ms. The larger, for a run of long duration and little traffic, which
#: takes as long as its ticks make it.
VARIANT_TICK_WALL_S = 2.5e-4
#: Concurrency samples per second of wall time: measured, 20 instances sampled every 0.1 ms over
#: 10 simulated minutes (1.2e8 samples) took about 17 s on a 2-core machine (7e6/s), rounded down.
SAMPLES_PER_WALL_S = 5e6
#: What a sweep's run costs a worker besides its requests and samples (building the run, its metric
#: tables, writing them into the dataset), measured on a 2-core machine: the benchmarks' `sweep_1000`,
#: 1,000 one-minute closed-loop runs of 12 k requests in 72 s on 2 worker processes, 0.144 s of a
#: worker a run, 0.008 s of it the requests at `REQUESTS_PER_WALL_S`; `experiments/sweep-serverless.toml`
#: with 128 replicates, 1,024 one-minute runs of 36 requests, 37 s on 2 workers while another job
#: used a core, about 0.05 s. Between the two.
RUN_OVERHEAD_S = 0.1
#: Memory a request holds from its answer until its invocation metric period closes (its columns in
#: the metrics aggregator, `_PendingByPeriod`): measured, the quickstart for one minute at 250,000
#: requests/s peaks at 2.3 GB resident for 15 M requests (`benchmarks/`, workload `busy`), of
#: which about 250 MB is the process without them: (2,324 - 250) MiB / 15 M = 145 bytes.
HELD_BYTES_PER_REQUEST = 145
#: Payload draws used to tell "every" or "most" requests over the size limit (a fixed seed: the
#: estimate never touches the run's random streams).
_PAYLOAD_DRAWS = 4096


@dataclass(frozen=True)
class Workload:
    """What a run will do, estimated from its experiment."""

    requests: float        # open-loop and replayed: what `limits.max_requests` caps
    user_requests: float   # closed-loop, at most: users x duration / (think time + overhead), means
    users: int
    traffic_sources: int
    instances: int
    instance_failures: float
    samples: float
    variants: int
    models: int
    schedule_knots: int
    copies: int = 0        # inference-component copies at their most, all components
    period_requests: float = 0.0  # open-loop and replayed requests of one invocation period, at most
    ticks: float = 0.0     # ticks of the metric clock (duration / the greatest common period)

    @property
    def wall_s(self) -> float:
        """Wall time estimate, in seconds (see `REQUESTS_PER_WALL_S`)."""
        return ((self.requests + self.user_requests) / REQUESTS_PER_WALL_S + self.samples / SAMPLES_PER_WALL_S
                + self.ticks * max(1, self.variants) * VARIANT_TICK_WALL_S)

    @property
    def held_bytes(self) -> float:
        """Memory the requests of the busiest invocation period hold until it closes, at most."""
        return self.period_requests * HELD_BYTES_PER_REQUEST


def estimate_workload(experiment: Experiment, catalog: Catalog, autoscaling: AutoscalingConfig | None,
                      base_dir: Path) -> tuple[Workload, list[tuple[tuple, str]], list[tuple[tuple, str]]]:
    """(the workload, problems, warnings): problems and warnings as (key path, message) pairs. A
    replay trace that cannot be read raises `simfleet.errors.InputError` (it names its own file)."""
    problems: list[tuple[tuple, str]] = []
    warnings: list[tuple[tuple, str]] = []
    limits = experiment.limits
    duration = experiment.experiment.duration
    start_epoch = experiment.experiment.start_time.timestamp()
    overhead_mean = experiment.platform.overhead_latency.build().mean

    requests = user_requests = period_requests = 0.0
    users = 0
    knots = 0
    # the longest invocation period: a source's requests of one period are at most its peak rate x it
    period = max(publish_plan(experiment, endpoint).invocation_s for endpoint in experiment.endpoints)
    for index, spec in enumerate(experiment.traffic):
        where = ("traffic", index)
        if isinstance(spec, OpenLoopTraffic):
            schedule = [(0.0, spec.rate)] if spec.rate is not None else [tuple(k) for k in spec.schedule]
            knots += len(schedule) + len(spec.bursts)
            rate = RateFunction.build(schedule, spec.interpolation,
                                      [(b.start, b.duration, b.extra_rate) for b in spec.bursts])
            requests += rate.integral(duration)
            period_requests += rate.peak(duration) * period
        elif isinstance(spec, ClosedLoopTraffic):
            most = max(n for _, n in spec.knots())
            knots += len(spec.knots())
            users += most
            cycle = spec.think_time.build().mean + overhead_mean
            # An upper bound that leaves the service times out: users wait for their answers, so the
            # fleet's capacity bounds them too. Not capped (it would refuse load tests that run
            # fine), only counted in the long-run estimate; with no think time and no overhead at
            # all, the fleet alone bounds them (or, refused at once, the run stops: `UsersStalled`).
            if cycle > 0:
                user_requests += most * duration / cycle
        elif isinstance(spec, ReplayTraffic):
            replayed, busiest = _replay(spec, where, base_dir, start_epoch, duration, period,
                                        limits.max_trace_size, problems, warnings)
            requests += replayed
            period_requests += busiest
        payload_where = where + ("payload",)
        if not (isinstance(spec, ReplayTraffic) and spec.payload_column is not None):
            warnings += [(payload_where, m) for m in _payload_warnings(spec.payload, experiment.platform.max_payload_size)]

    variants = [(e, v) for e in experiment.endpoints for v in e.production_variants]
    instances = sum(_most_instances(e.endpoint_name, v, autoscaling) for e, v in variants)
    mttf = experiment.instances.mean_time_to_failure
    failures = instances * duration / mttf if mttf is not None else 0.0
    samples = instances * duration / experiment.metrics.concurrency_sample_interval
    models = sum(v.model_population.size for _, v in variants if v.model_population is not None)
    copies = sum(_most_copies(c, autoscaling) for c in experiment.inference_components)
    work = Workload(requests, user_requests, users, len(experiment.traffic), instances, failures, samples, len(variants), models,
                    knots, copies, period_requests, duration / clock_tick_s(experiment))

    def cap(value: float, key: str, what: str, where: tuple = ("limits",)) -> None:
        limit = getattr(limits, key)
        if not value <= limit:  # also refuses a NaN or an infinite estimate
            problems.append((where, f"{what}: {_count(value)}, more than limits.{key} ({_count(limit)}); raise "
                                    f"limits.{key} if the run is meant to be this large"))

    cap(work.requests, "max_requests", "expected requests (open-loop rate x duration and replayed rows, all "
        "traffic)", ("traffic",))
    cap(work.users, "max_users", "closed-loop users at once (all traffic entries)", ("traffic",))
    cap(work.traffic_sources, "max_traffic_sources", "traffic entries", ("traffic",))
    cap(work.instances, "max_instances", "instances the fleet may hold at once (initial counts, or "
        "MaxCapacity where larger)", ("endpoints",))
    cap(work.instance_failures, "max_instance_failures", "expected instance failures (instances x duration / "
        "mean_time_to_failure)", ("instances", "mean_time_to_failure"))
    cap(work.samples, "max_samples", "ConcurrentRequestsPerModel samples (instances x duration / "
        "concurrency_sample_interval)", ("metrics", "concurrency_sample_interval"))
    cap(work.variants, "max_variants", "production variants", ("endpoints",))
    cap(work.models, "max_models", "models of multi-model populations", ("endpoints",))
    cap(work.schedule_knots, "max_schedule_knots", "traffic schedule knots and bursts", ("traffic",))
    cap(work.copies, "max_copies", "inference-component copies at their most (copy_count, or the MaxCapacity of "
        "a DesiredCopyCount target where larger, all components)", ("inference_components",))
    if not work.held_bytes <= limits.max_memory:
        problems.append((("traffic",), f"the requests of one {period} s invocation metric period, kept until it "
                                       f"closes: up to {_count(work.period_requests)} (open-loop traffic at its peak "
                                       f"rate, replays in their busiest period), about {HELD_BYTES_PER_REQUEST} bytes "
                                       f"each, roughly {_bytes(work.held_bytes)}, more than limits.max_memory "
                                       f"({_bytes(limits.max_memory)}); lower the rate, or raise limits.max_memory "
                                       f"if the machine has the memory"))
    if not problems and work.wall_s > limits.slow_run_warning:
        warnings.append((("experiment", "duration"),
                         f"a long run: about {_count(work.requests + work.user_requests)} requests and {_count(work.samples)} concurrency "
                         f"samples over {_count(work.ticks)} ticks of the metric clock, {len(variants)} variant"
                         f"{'s' if len(variants) != 1 else ''}, roughly {_wall(work.wall_s)} of wall time "
                         f"(limits.slow_run_warning: "
                         f"{_wall(limits.slow_run_warning)})"))
    if not problems and work.held_bytes > limits.memory_warning:
        warnings.append((("traffic",),
                         f"a run holding much memory: up to {_count(work.period_requests)} requests answered in one "
                         f"{period} s invocation metric period (open-loop traffic at its peak rate, replays in their "
                         f"busiest period) are kept until the period closes, about {HELD_BYTES_PER_REQUEST} bytes "
                         f"each: roughly {_bytes(work.held_bytes)} (limits.memory_warning: "
                         f"{_bytes(limits.memory_warning)})"))
    warnings += _price_warnings(experiment, catalog)
    return work, problems, warnings


def sweep_wall_s(points) -> float:
    """Wall time estimate of a sweep's runs one after another, in seconds: `points` holds (a point's
    `Workload`, its runs) pairs (the runs of a point, its replicates, differ only in seed)."""
    return math.fsum(runs * (work.wall_s + RUN_OVERHEAD_S) for work, runs in points)


def long_sweep_message(runs: int, requests: float, wall_s: float, limit: float) -> str:
    """The warning before a sweep whose runs together are estimated to take longer than `limit`."""
    return (f"a long sweep: {runs:,} runs, about {_count(requests)} requests, roughly {_wall(wall_s)} of run time "
            f"in all, shared among the worker processes (limits.slow_run_warning: {_wall(limit)})")


def _most_instances(endpoint_name: str, variant, autoscaling: AutoscalingConfig | None) -> int:
    """The most instances a variant may hold: its initial count, or more where a scalable target
    (`DesiredInstanceCount`) or managed instance scaling lets it grow. A serverless variant has none."""
    if variant.serverless_config is not None:
        return 0
    most = variant.initial_instance_count or 0
    if variant.managed_instance_scaling is not None and variant.managed_instance_scaling.max_instance_count:
        most = max(most, variant.managed_instance_scaling.max_instance_count)
    if autoscaling is not None:
        for target in autoscaling.targets:
            if (not target.provisioned and target.ScalableDimension.endswith("DesiredInstanceCount")
                    and target.endpoint_name == endpoint_name and target.variant_name == variant.variant_name):
                most = max(most, target.MaxCapacity)
    return most


def _most_copies(component, autoscaling: AutoscalingConfig | None) -> int:
    """The most copies a component may have: its copy_count, or the MaxCapacity of its
    `DesiredCopyCount` scalable target where larger."""
    most = component.runtime_config.copy_count
    if autoscaling is not None:
        for target in autoscaling.targets:
            if target.copies and target.component_name == component.inference_component_name:
                most = max(most, target.MaxCapacity)
    return most


def _replay(spec: ReplayTraffic, where: tuple, base_dir: Path, start_epoch: float, duration: float, period: int,
            max_bytes: float, problems: list, warnings: list) -> tuple[int, int]:
    """(the requests a replay will send, the most of them in one `period` from the start); problems
    for a trace that sends none or whose time column is another column's, warnings for rows it will
    not send and times out of order."""
    path = base_dir / spec.file
    others = {spec.payload_column, spec.target_container_hostname_column, spec.target_model_column} - {None}
    if spec.time_column in others:
        problems.append((where + ("time_column",), f"time_column {spec.time_column!r} is also the trace's "
                                                   "payload, hostname or model column; name the column of request "
                                                   "times"))
        return 0, 0
    info = path.stat()
    loaded = _trace_times(str(path), info.st_mtime_ns, info.st_size, info.st_ino, spec.time_column, max_bytes,
                          f"{dotted(where)}.time_column")
    if loaded is None:
        return 0, 0  # no such column: reported by the name checks
    numeric, epoch_times = loaded
    if spec.payload_column is not None and not _payloads_valid(str(path), info.st_mtime_ns, info.st_size, info.st_ino,
                                                               spec.payload_column, max_bytes):
        problems.append((where + ("payload_column",), "payload sizes must be finite, non-negative byte counts"))
        return 0, 0
    if len(epoch_times) == 0:
        problems.append((where + ("file",), f"trace {spec.file!r} has no rows: the replay would send no request"))
        return 0, 0
    times = (epoch_times if numeric else epoch_times - start_epoch) + spec.time_offset
    window = replay_window(times, duration, numeric)
    span = f"its times run from {_seconds(float(times.min()))} to {_seconds(float(times.max()))} from the start"
    if window.replayed == 0:
        if window.epoch_like:
            hint = ("numbers are read as seconds from the start of the run, and these look like Unix epoch "
                    "seconds or milliseconds: write ISO 8601 times (2026-01-05T09:00:00Z) or set time_offset")
        elif numeric:
            hint = "numbers are read as seconds from the start of the run (time_offset shifts them)"
        else:
            hint = "timestamps without a time zone are read as UTC; compare them with experiment.start_time"
        message = (f"no request of trace {spec.file!r} falls in the run ([0, {duration:g}) s from "
                   f"experiment.start_time): {span}")
        later = times[(times >= 0) & (times < MAX_DURATION_S)]
        if window.epoch_like or len(later) == 0:
            problems.append((where + ("file",), f"{message}; {hint}"))  # no run could replay them
        else:  # a shortened run (a sweep's, a test's): a longer one would replay them
            warnings.append((where + ("file",), f"{message}: the replay sends none (experiment.duration ends "
                                                f"before the trace's first time in a run, "
                                                f"{_seconds(float(later.min()))})"))
        return 0, 0
    if window.replayed < window.rows:
        warnings.append((where + ("file",), f"{window.rows - window.replayed:,} of the {window.rows:,} requests of "
                                            f"trace {spec.file!r} fall outside the run and are not sent "
                                            f"({window.before:,} before its start, {window.after:,} at or after its "
                                            f"end; {span})"))
    if window.out_of_order:
        warnings.append((where + ("time_column",), f"the times of column {spec.time_column!r} are not in order "
                                                   f"({window.out_of_order:,} rows earlier than the row before): the "
                                                   "replay sorts them; check that it is the column of request times"))
    sent = times[(times >= 0) & (times < duration)]  # what the replay sends (ReplaySource's window)
    busiest = int(np.bincount((sent // period).astype(np.int64)).max()) if len(sent) else 0
    return window.replayed, busiest


@functools.lru_cache(maxsize=8)
def _trace_times(path: str, mtime_ns: int, size: int, inode: int, column: str, max_bytes: float,
                 key: str) -> tuple[bool, np.ndarray] | None:
    """(numeric column, its times: numbers as written, date-times as Unix seconds) of a trace's
    time column, or None when it has no such column. Kept for the few most recent files, keyed by
    their identity and modification time, so that a sweep validating a thousand points of one
    replayed experiment reads its trace once (the run itself reads it again, `traffic.sources`)."""
    import pandas as pd

    table = read_trace(Path(path), max_bytes)
    if column not in table.columns:
        return None
    values = table[column]
    numeric = bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))
    times = trace_times(values, 0.0, Path(path), key)
    times.flags.writeable = False
    return numeric, times


@functools.lru_cache(maxsize=8)
def _payloads_valid(path: str, mtime_ns: int, size: int, inode: int, column: str, max_bytes: float) -> bool:
    """Whether a trace's payload column holds finite, non-negative byte counts only, as the replay
    requires (`traffic.sources`); True when it has no such column (reported by the name checks)."""
    import pandas as pd

    table = read_trace(Path(path), max_bytes)
    if column not in table.columns:
        return True
    sizes = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
    return bool(np.all(np.isfinite(sizes)) and not np.any(sizes < 0))


def _payload_warnings(payload, limit: float) -> list[str]:
    """A payload distribution whose draws are all, or mostly, over `platform.max_payload_size`: every
    such request is refused (413) before any container, which a typo ("2GB" for "2KB") produces."""
    draws = payload.build().sample(np.random.default_rng(0), _PAYLOAD_DRAWS)
    over = float(np.mean(draws > limit))
    if over == 1.0:
        return [f"every payload is over platform.max_payload_size ({_bytes(limit)}; the smallest drawn is "
                f"{_bytes(float(draws.min()))}): every request will be refused before reaching a model (is the "
                "unit right?)"]
    if over > 0.5:
        return [f"about {over:.0%} of payloads are over platform.max_payload_size ({_bytes(limit)}): most requests "
                "will be refused before reaching a model (is the unit right?)"]
    return []


def _price_warnings(experiment: Experiment, catalog: Catalog) -> list[tuple[tuple, str]]:
    out = []
    for e_index, endpoint in enumerate(experiment.endpoints):
        for v_index, variant in enumerate(endpoint.production_variants):
            instance = catalog.get(variant.instance_type) if variant.instance_type is not None else None
            if instance is not None and instance.price_per_hour is None:
                out.append((("endpoints", e_index, "production_variants", v_index, "instance_type"),
                            f"{instance.name} has no price in the catalog: this variant's cost will be null (\"n/a\"), "
                            f"not zero; give catalog.\"{instance.name}\".price_per_hour to cost it"))
    return out


def _count(value: float) -> str:
    if not math.isfinite(value):
        return "unbounded"
    return f"{value:,.0f}" if value < 1e12 else f"{value:.3g}"


def _wall(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _seconds(value: float) -> str:
    return f"{value:.6g} s"


def _bytes(value: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.4g} {unit}"
    return f"{value:.4g} B"



