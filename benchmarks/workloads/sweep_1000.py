"""Sweep of 1,000 runs in which one fails at run time, without disturbing the other 999.

A load test of the suite's model (`models/bench.toml`) alone on one `ml.c5.xlarge`: 2
closed-loop users with no think time, the platform's overhead latency set to 0 (the model's own
latency), 60 s each, over 1,000 constant payload sizes in steps of 6,292 bytes, "from 6 KB up to
the 6 MiB limit". The step was rounded up: the last size, 6,292,000 bytes, is 544 bytes over
`platform.max_payload_size` (6 MiB = 6,291,456 bytes). Validation passes (an oversize payload is
a warning, not an error: a run may mean to test rejections); at run time every request of that
point is refused at once (413, `PayloadTooLarge`), and each user, with no think time and no
overhead, sends again at the same instant: simulated time would never pass. The engine detects
this and fails the run (`simfleet.engine.request_driver`): it is the one failure that only
running finds. The model's service time does not depend on the payload (`payload_time_per_kb`
0), so the 999 other runs differ by their seeds.

`simfleet sweep` runs it as a user types it (2 worker processes, stderr a pseudo-terminal, so
its progress bar is drawn and the parent process's resident set is sampled at each redraw), then
the same sweep without the failing size. Checks: 999 ok and 1 failed in runs.parquet, the
failed run's error recorded (one line) and no metrics written for it, exit code 1 and the
"1 of 1000 runs failed" line; each of the 999 runs has the same run id, seed, headline row
(all but `wall_s`) and metrics table in both sweeps.

`--quick`: the last 20 sizes (19 ok, the same failing one).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

import simfleet_runs
from commands import run_command
from measure import engine_figures
from registry import Settings, Workload
from targets import LONG_RUN_FLAT_MAX, target

STEP_BYTES = 6_292
MAX_PAYLOAD_BYTES = 6 * 2**20
RUNS = {"full": 1000, "quick": 20}
WORKERS = 2
MIB = 2**20

BASE = """\
# A load test of the benchmark model alone: closed-loop users, no think time, no platform overhead.
[experiment]
name = "payload-load-test"
start_time = 2026-01-05T09:00:00Z
duration = "60s"
seed = 1
model_paths = ["models"]

[platform]
overhead_latency = { kind = "constant", value = "0s" }

[[endpoints]]
endpoint_name = "bench"

[[endpoints.production_variants]]
variant_name = "AllTraffic"
model_name = "bench"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]
kind = "users"
users = 2
payload = { kind = "constant", value = "1 KB" }
"""

#: the sweep's progress bar (`simfleet.sweep.progress.Progress._draw`): runs done of total
BAR = re.compile(r"\] (\d+)/(\d+)")


def sizes(runs: int) -> list[str]:
    """The last `runs` of the 1,000 payload sizes (always ending with the one over the limit)."""
    return [f"{STEP_BYTES * k} B" for k in range(RUNS["full"] - runs + 1, RUNS["full"] + 1)]


def write_sweep(folder: Path, name: str, values: list[str]) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'[sweep]\nname = "{name}"\nbase = "experiment/base.toml"\nseed = 2026\n\n'
                    f'[[axes]]\nname = "payload"\nkey = "traffic.0.payload.value"\nvalues = {json.dumps(values)}\n',
                    encoding="utf-8")
    return path


def metrics_by_run(out: Path) -> dict:
    """Every run's metrics table in a sweep dataset, by run id (schema metadata dropped: it names the sweep)."""
    tables = {}
    for path in sorted((out / "metrics").rglob("metrics.parquet")):
        table = pq.read_table(path)
        tables[table.schema.metadata[b"simfleet.run_id"].decode()] = table.replace_schema_metadata(None)
    return tables


def rss_figures(samples: list[tuple[int, int]], total: int) -> dict:
    """The parent's RSS over the first tenth of the runs and over the last tenth."""
    tenth = max(1, total // 10)
    first = [rss for done, rss in samples if done <= tenth]
    last = [rss for done, rss in samples if done > total - tenth]
    return {"first_tenth_max_bytes": max(first) if first else None,
            "last_tenth_max_bytes": max(last) if last else None, "samples": len(samples)}


def run(settings: Settings) -> dict:
    runs = RUNS["quick" if settings.quick else "full"]
    values = sizes(runs)
    with tempfile.TemporaryDirectory(prefix="simfleet-sweep1000-") as scratch:
        folder = Path(scratch)
        (folder / "experiment" / "models").mkdir(parents=True)
        shutil.copy(simfleet_runs.HERE / "models" / "bench.toml", folder / "experiment" / "models")
        (folder / "experiment" / "base.toml").write_text(BASE, encoding="utf-8")
        with_failure = write_sweep(folder, "payload-sizes", values)
        without = write_sweep(folder, "payload-sizes-within-limit", values[:-1])
        out_a, out_b = folder / "with-failure", folder / "without"
        a = run_command(["sweep", str(with_failure), "--out", str(out_a), "--workers", str(WORKERS)], terminal=True)
        b = run_command(["sweep", str(without), "--out", str(out_b), "--workers", str(WORKERS)])
        rows_a = pq.read_table(out_a / "runs.parquet").to_pylist()
        rows_b = pq.read_table(out_b / "runs.parquet").to_pylist()
        metrics_a, metrics_b = metrics_by_run(out_a), metrics_by_run(out_b)

    ok_a = [r for r in rows_a if r["status"] == "ok"]
    failed = [r for r in rows_a if r["status"] == "failed"]
    by_id_b = {r["run_id"]: r for r in rows_b}
    same_rows = (len(ok_a) == len(rows_b) == runs - 1 and all(
        r["run_id"] in by_id_b and {k: v for k, v in r.items() if k != "wall_s"}
        == {k: v for k, v in by_id_b[r["run_id"]].items() if k != "wall_s"} for r in ok_a))
    same_metrics = (set(metrics_a) == set(metrics_b) == {r["run_id"] for r in ok_a}
                    and all(metrics_a[key].equals(metrics_b[key]) for key in metrics_a))
    error = failed[0]["error"] if len(failed) == 1 else ""
    checks = {
        "one_failed_the_others_ok": len(failed) == 1 and len(ok_a) == runs - 1,
        "the_failing_point_is_the_oversize_payload": len(failed) == 1 and failed[0]["payload"] == values[-1]
        and STEP_BYTES * RUNS["full"] > MAX_PAYLOAD_BYTES >= STEP_BYTES * (RUNS["full"] - 1),
        "its_error_recorded_on_one_line": error.startswith("run stopped: ") and "PayloadTooLarge" in error
        and "cannot go on" in error and "\n" not in error,
        "no_metrics_for_the_failed_run": len(failed) == 1 and failed[0]["run_id"] not in metrics_a,
        "exit_code_1_and_said": a.returncode == 1 and f"1 of {runs} runs failed" in a.stderr,
        "sweep_without_it_exit_code_0": b.returncode == 0,
        "the_others_equal_the_sweep_without_it_rows": same_rows,
        "the_others_equal_the_sweep_without_it_metrics": same_metrics,
    }
    samples = [(int(m[-1][0]), rss) for _, text, rss in a.terminal_chunks
               if rss is not None and (m := BAR.findall(text))]
    rss = rss_figures(samples, runs)
    requests_a = sum(r["requests"] for r in ok_a)
    engines = {
        "sweep": engine_figures(f"simfleet sweep, {runs} runs, 1 failing", requests_a, [a.wall_s], None,
                                runs=runs, runs_per_s=runs / a.wall_s, parent_peak_rss_bytes=a.peak_rss_bytes),
        "sweep_without": engine_figures(f"the same without the failing point, {runs - 1} runs",
                                        sum(r["requests"] for r in rows_b), [b.wall_s], None, runs=runs - 1,
                                        runs_per_s=(runs - 1) / b.wall_s, parent_peak_rss_bytes=b.peak_rss_bytes),
    }
    targets = []
    if rss["first_tenth_max_bytes"] and rss["last_tenth_max_bytes"]:
        targets.append(target("sweep parent's resident set, last tenth of the runs / first tenth",
                              rss["last_tenth_max_bytes"] / rss["first_tenth_max_bytes"], "<=", LONG_RUN_FLAT_MAX,
                              "x"))
    run_walls = sorted(r["wall_s"] for r in rows_a)
    return {
        "title": f"sweep_1000: simfleet sweep of {runs} one-minute closed-loop runs ({WORKERS} workers), one failing "
                 "at run time (payload over 6 MiB)" + (" (--quick)" if settings.quick else ""),
        "repeat": 1,
        "workload": {"runs": runs, "workers": WORKERS, "failing_payload": values[-1], "requests": requests_a},
        "engines": engines,
        "ratios": {},
        "checks": checks,
        "memory": {"parent_peak_rss_bytes": a.peak_rss_bytes, "parent_peak_rss_bytes_without": b.peak_rss_bytes,
                   "parent_rss": rss},
        "failed_run": {k: failed[0][k] for k in ("run_id", "payload", "seed", "error")} if failed else None,
        "extra_lines": [
            f"runs/s: {runs / a.wall_s:.1f} with the failure, {(runs - 1) / b.wall_s:.1f} without (whole command: "
            f"validation of every point, {WORKERS} worker processes, runs.parquet and {runs - 1} metrics files); "
            f"one run's own wall time: median {run_walls[len(run_walls) // 2] * 1000:.0f} ms",
            f"parent process: peak RSS {(a.peak_rss_bytes or 0) / MIB:.0f} MiB (VmHWM; workers not included)"
            + (f", {rss['first_tenth_max_bytes'] / MIB:.0f} MiB over the first tenth of the runs, "
               f"{rss['last_tenth_max_bytes'] / MIB:.0f} MiB over the last ({rss['samples']} samples)"
               if rss["first_tenth_max_bytes"] and rss["last_tenth_max_bytes"] else ""),
            f"the failed run: payload {failed[0]['payload']}: {error[:160]}..." if failed else "no run failed"],
        "targets": targets,
        "notes": ["req/s: simulated requests of the runs that finished per second of the command's wall time",
                  f"the {runs - 1} other runs are compared by run id with the sweep without the failing point: same "
                  "seed, same headline row (wall_s aside) and the same metrics table, value for value"],
    }


WORKLOAD = Workload("sweep_1000", run)
