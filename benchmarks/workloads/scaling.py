"""Scaling: run time against the number of instances and of traffic schedule knots, as ratios.

Two families of runs of `models/bench.toml`, each simulated end to end (`simfleet_runs.run`) at a
size and at four times that size, with the requests held fixed, so that only the quantity under
test grows:

* instances: 10 simulated minutes at 200 req/s (≈ 120 k requests) on N instances that fail after
  an exponential time with a 2 min mean and are replaced (provisioning a constant 10 s), so that
  launches, failures and terminations grow with N as well;
* knots: 10 minutes of Poisson traffic whose rate follows a step schedule of K knots (50 to 130
  req/s, ≈ 54 k requests).

The figure is the ratio of the median wall times (4× size / 1× size): about 4 when run time is
linear in the quantity, about 16 when quadratic. Both were quadratic before: each instance state
change counted every instance ever launched, and each schedule segment scanned every knot and
burst. The target (ratio ≤ 8) separates the two with room for noise; a timing never goes into the
tests (DESIGN §6).
"""

from __future__ import annotations

from measure import engine_figures, timed
from registry import Settings, Workload
from simfleet_runs import experiment, run as simulate_run
from targets import target

FULL = {"repeat": 3, "instances": 100, "knots": 1000}
QUICK = {"instances": 20, "knots": 200}
GROWTH = 4
#: Largest ratio of wall times (size × GROWTH against size) that still reads as linear.
LINEAR_RATIO_MAX = 8.0


def instances_experiment(instances: int) -> dict:
    raw = experiment(f"scaling-instances-{instances}", 600.0, instances, {"kind": "poisson", "rate": 200})
    raw["instances"] = {"mean_time_to_failure": "2min", "provisioning_time": {"kind": "constant", "value": "10s"}}
    return raw


def knots_experiment(knots: int) -> dict:
    schedule = [[f"{600.0 * k / knots:g}s", 50 + (k % 5) * 20] for k in range(knots)]
    return experiment(f"scaling-knots-{knots}", 600.0, 2,
                      {"kind": "poisson", "schedule": schedule, "interpolation": "step"})


def run(settings: Settings) -> dict:
    repeat = settings.repeats(FULL["repeat"])
    sizes = QUICK if settings.quick else FULL
    engines, ratios, figures = {}, {}, {}
    for family, build in (("instances", instances_experiment), ("knots", knots_experiment)):
        small, large = sizes[family], sizes[family] * GROWTH
        simulate_run(build(small))  # warm-up: the kernels loaded, the catalog read
        walls = {}
        for size in (small, large):
            raw = build(size)
            times, result = timed(lambda raw=raw: simulate_run(raw), repeat)
            walls[size] = times
            engines[f"{family}_{size}"] = engine_figures(f"{size:,} {family}", result.summary["requests"], times)
        median = {size: sorted(w)[len(w) // 2] for size, w in walls.items()}
        ratios[f"{family}_x{GROWTH}_wall"] = median[large] / median[small]
        figures[family] = (small, large)
    return {
        "title": f"Scaling: wall time at {GROWTH}x the instances (with failures) and {GROWTH}x the schedule knots, "
                 "requests held fixed",
        "repeat": repeat,
        "workload": {family: {"sizes": list(pair)} for family, pair in figures.items()},
        "engines": engines,
        "ratios": ratios,
        "checks": {},
        "memory": {},
        "targets": [target(f"wall time, {GROWTH}x the {family} / 1x (linear ~{GROWTH}, quadratic ~{GROWTH ** 2})",
                           ratios[f"{family}_x{GROWTH}_wall"], "<=", LINEAR_RATIO_MAX, "x")
                    for family in ("instances", "knots")],
        "notes": ["ratio of median wall times; both families were quadratic before (see the workload's docstring)"],
    }


WORKLOAD = Workload("scaling", run)
