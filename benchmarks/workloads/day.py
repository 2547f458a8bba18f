"""Day: 24 hours of a diurnal schedule peaking at 1,000 requests/s on 8 instances.

The schedule has the shape of `experiments/diurnal-day.toml` (quiet night, morning ramp,
afternoon peak, evening decline) scaled to a 1,000 requests/s peak, linear between its knots;
about 40 M requests. The model is the suite's (`models/bench.toml`, exponential 10 ms, 2 workers
per instance), so the peak keeps the 8 instances 1000 × 0.010 / 16 = 62.5 % busy.

Engines: simfleet end to end over the whole day, and the naive one-SimPy-process-per-request
model on a slice of `slice_s` seconds from the peak (15:00) on, its wall time scaled to the
day's request count (the naive model would take many minutes for 40 M requests). The slice is
run from an idle fleet by both the naive model and the bare dispatch kernel, whose results
must agree request for request. Memory: simfleet's peak for its busiest hour alone (15:00 to
16:00 as a run of its own) and for the whole day, each in a fresh process, to show that the peak
does not grow with the number of requests.

`--quick` compresses the same schedule into 24 minutes (knot times / 60, same rates).
"""

from __future__ import annotations

import numpy as np

import baselines
import simfleet_runs
from measure import engine_figures, fresh_probe, timed, traced_peak
from registry import Settings, Workload
from targets import DAY_PEAK_RSS_MAX_BYTES, DAY_WALL_MAX_S, target

INSTANCES = 8
#: (hour, requests/s): the knots of experiments/diurnal-day.toml × 5 (its peak is 200 requests/s).
SCHEDULE_H = [(0, 100), (5, 50), (7, 200), (9, 800), (12, 850), (15, 1000), (18, 600), (21, 250), (24, 100)]
PEAK_H = 15
#: "does not grow": the whole day's working memory may exceed its busiest hour's by this factor at most
WORKING_MEMORY_GROWTH_MAX = 1.5
MIB = 2**20
FULL = {"hour_s": 3600.0, "slice_s": 300.0, "repeat": 3}
QUICK = {"hour_s": 60.0, "slice_s": 10.0}


def experiment(hour_s: float, hours: float = 24, from_hour: float = 0) -> dict:
    """The day with `hour_s` seconds per schedule hour (3600: a real day), `hours` of it from `from_hour` on."""
    knots = [(h - from_hour, rate) for h, rate in SCHEDULE_H if h >= from_hour]
    schedule = [[f"{h * hour_s:g}s", rate] for h, rate in knots]
    return simfleet_runs.experiment("day-bench", hours * hour_s, INSTANCES,
                                    {"kind": "poisson", "interpolation": "linear", "schedule": schedule})


def probe(spec: dict):
    return (lambda: simfleet_runs.run(experiment(60.0, 1)),
            lambda: simfleet_runs.run(experiment(spec["hour_s"], spec["hours"], spec.get("from_hour", 0))))


def run(settings: Settings) -> dict:
    sizes = QUICK if settings.quick else FULL
    repeat = settings.repeats(FULL["repeat"])
    hour_s, slice_s = sizes["hour_s"], sizes["slice_s"]
    raw = experiment(hour_s)

    peak_hour = fresh_probe("day", "simfleet", {"hour_s": hour_s, "hours": 1, "from_hour": PEAK_H})
    whole_day = fresh_probe("day", "simfleet", {"hour_s": hour_s, "hours": 24})
    window = (PEAK_H * hour_s, PEAK_H * hour_s + slice_s)
    req = simfleet_runs.capture_open(raw, window)
    n_day, n_slice = req["total_requests"], len(req["times"])
    req["times"] = req["times"] - window[0]  # the slice alone, from an idle fleet at its start

    simfleet_walls, _ = timed(lambda: simfleet_runs.run(raw), repeat)
    naive_walls, naive_out = timed(lambda: baselines.naive_open(req), repeat)
    kernel_out = baselines.open_kernel(req)
    naive_rate = float(np.median([n_slice / w for w in naive_walls]))

    engines = {
        "simfleet": engine_figures("simfleet end to end (validate + simulate)", n_day, simfleet_walls,
                                   whole_day["tracemalloc_peak_bytes"], "tracemalloc peak, fresh process"),
        "naive_simpy": engine_figures(f"naive SimPy, {slice_s:g} s slice at the peak", n_slice, naive_walls,
                                      traced_peak(lambda: baselines.naive_open(req)), slice_s=slice_s,
                                      scaled={"requests": n_day, "wall_s": n_day / naive_rate}),
    }
    rates = {name: e["requests_per_s"]["median"] for name, e in engines.items()}
    working = {name: probe_["tracemalloc_peak_bytes"] - probe_["kept_values_bytes"]
               for name, probe_ in (("peak_hour", peak_hour), ("whole_day", whole_day))}
    targets = [target("day wall time, simfleet end to end", engines["simfleet"]["wall_s"]["median"], "<",
                      DAY_WALL_MAX_S * (hour_s / 3600.0), "s")]
    rss_day = whole_day["vmhwm_after_run_bytes"]
    if rss_day is not None:
        targets.append(target("day peak memory, whole process (VmHWM)", rss_day / MIB, "<",
                              DAY_PEAK_RSS_MAX_BYTES / MIB, "MiB"))
    targets.append(target("working memory (traced peak - kept datapoint values), whole day / its peak hour",
                          working["whole_day"] / working["peak_hour"], "<=", WORKING_MEMORY_GROWTH_MAX, "x"))
    notes = [f"the naive SimPy model runs {slice_s:g} s of arrivals from the peak ({PEAK_H}:00) on, from an idle "
             f"fleet; its wall time is scaled to the day's {n_day:,} requests at the same requests/s (the peak is "
             "the busiest hour; the naive model is somewhat cheaper per request at night)",
             "memory: a run keeps its datapoints and the values behind them to the end (its output: the values "
             "and counts are kept in traced NumPy memory, measured as the Arrow size of metric_values' values and "
             "counts columns; the rows are typed arrays, a few MiB for a day); everything else is working memory, "
             "bounded by one metric period of requests. 'Does not grow with requests' is checked as: the whole "
             f"day's working memory is at most {WORKING_MEMORY_GROWTH_MAX:g}x that of its busiest hour alone"]
    if settings.quick:
        notes.append("--quick: the schedule is compressed into 24 minutes (knot times / 60), and the wall-time "
                     "target with it (120 s / 60)")
    return {
        "title": f"day: 24 h diurnal schedule (linear, {min(r for _, r in SCHEDULE_H)}-{max(r for _, r in SCHEDULE_H)}"
                 f" req/s, peak at {PEAK_H}:00) on {INSTANCES} x {simfleet_runs.INSTANCE_TYPE}, 60 s metrics with "
                 "p50/p90/p99" + (" (--quick: compressed to 24 min)" if settings.quick else ""),
        "repeat": repeat,
        "workload": {"hour_s": hour_s, "duration_s": 24 * hour_s, "instances": INSTANCES, "requests": n_day,
                     "schedule_requests_per_s": SCHEDULE_H, "slice_s": slice_s},
        "engines": engines,
        "ratios": {"simfleet_over_naive": rates["simfleet"] / rates["naive_simpy"]},
        "checks": {"kernel_equals_naive_on_slice": baselines.same_results(naive_out, kernel_out)},
        "memory": {"simfleet_peak_hour": peak_hour, "simfleet_whole_day": whole_day,
                   "working_bytes": working},
        "extra_lines": [
            f"memory vs requests: peak hour alone {peak_hour['requests']:,} requests, whole day {n_day:,} "
            f"({n_day / peak_hour['requests']:.1f}x); metric tables {peak_hour['result_table_bytes'] / MIB:.1f} -> "
            f"{whole_day['result_table_bytes'] / MIB:.1f} MiB, of which datapoint values "
            f"{peak_hour['kept_values_bytes'] / MIB:.1f} -> {whole_day['kept_values_bytes'] / MIB:.1f} MiB "
            f"({peak_hour['datapoints']:,} -> "
            f"{whole_day['datapoints']:,} datapoints); working memory {working['peak_hour'] / MIB:.1f} -> "
            f"{working['whole_day'] / MIB:.1f} MiB"],
        "targets": targets,
        "notes": notes,
    }


WORKLOAD = Workload("day", run, {"simfleet": probe})
