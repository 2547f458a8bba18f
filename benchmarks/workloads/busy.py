"""Busy: the shipped quickstart at 250,000 requests/s, with kernel calls cut by expected arrivals and without.

The quickstart experiment (`experiments/quickstart.toml`, an A/B test on 2 `ml.c5.xlarge` and 2
`ml.c6i.xlarge`) for one minute at a rate a mistyped or fuzzed load test asks for: 15 M requests,
most of them refused by the full queues. simfleet end to end, each run in a fresh process as a
`simfleet run` is, twice: as shipped, where the engine hands the request kernel at most
`request_driver.MAX_BATCH_ARRIVALS` expected arrivals per call, and with that bound lifted
(`max_batch` 10¹²), so that each call takes a whole 10 s segment (2.5 M requests), as every call
did before the bound. The results are the same (checked here, table for table); the figure is the
ratio of the median wall times, bounded / unbounded. A fresh process pays for the pages of
each call's arrays (a few hundred megabytes a call, unbounded) in system time; repeated runs in one
process reuse them and hide the difference, hence the fresh processes. Both hold the minute's
requests until their metric period closes (about 150 bytes a request; see the README on memory),
which sets the peak resident memory reported.
"""

from __future__ import annotations

from pathlib import Path

from measure import engine_figures, fresh_probe
from registry import Settings, Workload
from targets import target

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.toml"
FULL = {"rate": 250_000, "repeat": 3}
QUICK = {"rate": 30_000}   # 1.8 M requests: 300 k a segment, two calls a segment where there was one
UNBOUNDED = 10**12
#: Largest ratio of wall times (bounded / unbounded) read as the bound paying for itself.
RATIO_MAX = 0.9


def _scenario(rate: int):
    from simfleet.scenario import load_experiment

    return load_experiment(QUICKSTART, ["experiment.duration=1min", f"traffic.0.rate={rate}"])


def probe(spec: dict):
    from simfleet.engine.simulation import simulate

    return (lambda: simulate(_scenario(100)),
            lambda: simulate(_scenario(spec["rate"]), max_batch=spec["max_batch"]))


def run(settings: Settings) -> dict:
    from simfleet.engine.request_driver import MAX_BATCH_ARRIVALS
    from simfleet.engine.simulation import simulate

    repeat = settings.repeats(FULL["repeat"])
    rate = QUICK["rate"] if settings.quick else FULL["rate"]
    modes = (("bounded", MAX_BATCH_ARRIVALS, f"at most {MAX_BATCH_ARRIVALS:,} expected arrivals a call"),
             ("unbounded", UNBOUNDED, "one call per 10 s segment"))
    engines, medians, results = {}, {}, {}
    for name, batch, label in modes:
        probes = [fresh_probe("busy", "simfleet", {"rate": rate, "max_batch": batch}) for _ in range(repeat)]
        walls = [p["traced_wall_s"] for p in probes]
        engines[name] = engine_figures(f"simfleet end to end, {label}", probes[0]["requests"], walls,
                                       max(p["vmhwm_after_run_bytes"] or 0 for p in probes) or None,
                                       "peak resident memory (VmHWM) of the fresh process")
        medians[name] = sorted(walls)[len(walls) // 2]
        results[name] = simulate(_scenario(rate), max_batch=batch)
    same = all(getattr(results["bounded"], table).equals(getattr(results["unbounded"], table))
               for table in ("metrics", "metric_values", "events")) \
        and results["bounded"].summary == results["unbounded"].summary
    if not same:
        raise RuntimeError("cutting kernel calls by expected arrivals changed the run's results")
    ratio = medians["bounded"] / medians["unbounded"]
    return {
        "title": f"Busy: the quickstart for 1 min at {rate:,} requests/s, kernel calls cut by expected arrivals "
                 "against one call per 10 s segment, each run in a fresh process",
        "repeat": repeat,
        "workload": {"experiment": "experiments/quickstart.toml", "duration_s": 60, "rate_per_s": rate,
                     "max_batch": MAX_BATCH_ARRIVALS},
        "engines": engines,
        "ratios": {"bounded_over_unbounded_wall": ratio},
        "checks": {"same results, bounded and unbounded": same},
        "memory": {},
        "targets": [target("wall time, bounded / unbounded kernel calls", ratio, "<=", RATIO_MAX, "x")],
        "notes": ["ratio of median wall times of fresh processes (tracemalloc on); both modes give the same "
                  "tables and summary (checked in the suite's process)"],
    }


WORKLOAD = Workload("busy", run, {"simfleet": probe})
