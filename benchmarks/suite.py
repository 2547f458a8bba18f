"""simfleet's benchmark suite: every workload of issue 6, one command, a table and a JSON file.

    python benchmarks/suite.py [--quick] [--repeat N] [--json PATH] [--only NAME,...]

Workloads (`registry.py`; each is a module under `workloads/`): `open_loop`, `day`,
`closed_loop`, `kernel`, `jit`, each run in a fresh process of its own. For each: simulated
requests per wall second, wall time and peak memory of simfleet and of the engines it is
compared with, run in the same command on the same requests (median of `--repeat` runs, with
min and max), the ratios, checks that the engines produced the same per-request results, and
the issue's targets with whether each is met.
`--quick` runs every workload small (a few seconds each) to check that the suite works;
its timings mean little. Timings never go into tests (DESIGN §6).

JSON (`--json`): {"suite", "quick", "machine", "workloads": {name: {"title", "repeat",
"workload", "engines": {engine: {"label", "requests", "wall_s": {"median", "min", "max"},
"requests_per_s": {…}, "peak_bytes", "peak_source"} or {"label", "skipped"}}, "ratios",
"checks", "memory", "targets": [{"what", "measured", "relation", "bound", "unit", "met"}],
"notes"}}}.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from measure import child_probe, machine, run_child  # noqa: E402
from registry import Settings, workloads  # noqa: E402
from report import report  # noqa: E402


def run_suite(settings: Settings, only: list[str] | None = None) -> dict:
    """Every selected workload, each in a fresh process of its own.

    A workload's figures then owe nothing to the ones run before it in the same process (after
    the day's 40 M requests, the allocator's state made the closed loop measurably slower).
    """
    selected = [w for w in workloads() if only is None or w.name in only]
    out = {"suite": "simfleet benchmarks (issue 6)", "quick": settings.quick, "repeat": settings.repeat,
           "machine": machine(), "workloads": {}}
    for workload in selected:
        print(f"running {workload.name} ...", file=sys.stderr, flush=True)
        args = ["--child", f"{workload.name}.run", "--spec", json.dumps(asdict(settings))]
        result = run_child(args)
        result.pop("process_s", None)
        out["workloads"][workload.name] = result
    return out


def _child(name: str, spec: dict):
    """`--child WORKLOAD.run` (a whole workload) or `--child WORKLOAD.PROBE` in this fresh process."""
    workload_name, _, probe_name = name.partition(".")
    workload = {w.name: w for w in workloads()}[workload_name]
    if probe_name == "run":
        return workload.run(Settings(**spec))
    return workload.probes[probe_name](spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every workload small, 1 repeat: checks the suite runs")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help="timed repeats per figure (default: per workload, 1 with --quick)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures here")
    parser.add_argument("--only", default=None, metavar="NAME,...",
                        help=f"run only these workloads ({', '.join(w.name for w in workloads())})")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        result = _child(args.child, json.loads(args.spec))
        print(json.dumps(child_probe(*result) if isinstance(result, tuple) else result))
        return 0
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    only = None
    if args.only is not None:
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = sorted(set(only) - {w.name for w in workloads()})
        if unknown:
            parser.error(f"unknown workload(s) {', '.join(unknown)}; "
                         f"known: {', '.join(w.name for w in workloads())}")

    out = run_suite(Settings(args.quick, args.repeat), only)
    print(report(out))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
