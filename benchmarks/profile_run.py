"""cProfile of one simfleet end-to-end run of a suite workload (the profiles in benchmarks/README.md).

    python benchmarks/profile_run.py open_loop|day|closed_loop [--sort tottime|cumtime] [--top N]

Runs the workload's experiment once untimed (JIT loading, caches), once timed without the
profiler, then once under cProfile, and prints the wall times and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simfleet_runs  # noqa: E402
from workloads import closed_loop, day, open_loop  # noqa: E402

EXPERIMENTS = {
    "open_loop": lambda: open_loop.experiment(open_loop.FULL["duration_s"]),
    "day": lambda: day.experiment(day.FULL["hour_s"]),
    "closed_loop": lambda: closed_loop.experiment(closed_loop.FULL["step_s"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=sorted(EXPERIMENTS))
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumtime"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    raw = EXPERIMENTS[args.workload]()
    simfleet_runs.run(raw)
    began = time.perf_counter()
    simfleet_runs.run(raw)
    print(f"wall time without the profiler: {time.perf_counter() - began:.3f} s")
    profiler = cProfile.Profile()
    profiler.runcall(simfleet_runs.run, raw)
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
