"""Week: seven days of diurnal traffic at the rates of `experiments/diurnal-day.toml`, memory over time.

The schedule is the day of `experiments/diurnal-day.toml` (10 requests/s at night, 200 at the
15:00 peak, linear between its knots) repeated seven times, about 8 M requests a day and 56 M in
the week, on 2 instances of the suite's model (`models/bench.toml`, exponential 10 ms, 2 workers
per instance: the peak keeps them 200 × 0.010 / 4 = 50 % busy).

What it shows:

* **working memory stays flat**: simfleet's traced peak for the first day alone and for the whole
  week, each in a fresh process, less what a run keeps by design to its end: its datapoints
  (their values and counts, about 1.7 KB a datapoint here, mostly the latency histograms, and
  their rows, about 200 bytes), which grow with the number of metric periods, 27,360 datapoints a
  simulated day at 60 s. The week's working memory may be at most `FLAT_MAX` times the day's;
* **the whole command over the week**: `simfleet run week.toml` as a user types it, Parquet
  written, its stderr a pseudo-terminal so that it draws its progress line. The progress lines
  are parsed (simulated time, requests, eta) and, each time the terminal receives one, the
  command's resident set is sampled: how much it grows per simulated day, set against the
  datapoints the run adds per day (their Arrow size), and its memory during the last simulated
  day less those datapoints against the first day (at most `FLAT_MAX` times).

`--quick` compresses the week as `day` compresses its day (schedule hours of 60 s: 168 minutes).
"""

from __future__ import annotations

import re
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np

import simfleet_runs
from commands import run_command
from measure import child_probe, engine_figures, fresh_probe
from registry import Settings, Workload
from targets import LONG_RUN_FLAT_MAX, target

INSTANCES = 2
DAYS = 7
#: (hour, requests/s): the knots of experiments/diurnal-day.toml, as they are
SCHEDULE_H = [(0, 20), (5, 10), (7, 40), (9, 160), (12, 170), (15, 200), (18, 120), (21, 50), (24, 20)]
FLAT_MAX = LONG_RUN_FLAT_MAX
MIB = 2**20
FULL = {"hour_s": 3600.0}
QUICK = {"hour_s": 60.0}
#: a line of `simfleet run`'s progress display (`simfleet.outputs.run_progress.RunProgress.line`)
PROGRESS = re.compile(r"simulated (\d+):(\d\d):(\d\d) of (\d+):(\d\d):(\d\d) \((\d+)%\), ([\d,]+) requests, "
                      r"wall ([\d.]+) s(?:, eta (\d+) s)?")


def experiment(hour_s: float, days: int = DAYS) -> dict:
    """`days` diurnal days with `hour_s` seconds per schedule hour (3600: real days)."""
    knots = [(day * 24 + h, rate) for day in range(days) for h, rate in SCHEDULE_H if day == 0 or h > 0]
    schedule = [[f"{h * hour_s:g}s", rate] for h, rate in knots]
    return simfleet_runs.experiment("week-bench", days * 24 * hour_s, INSTANCES,
                                    {"kind": "poisson", "interpolation": "linear", "schedule": schedule})


def buffer_bytes(buffer) -> int:
    """What a run's `DatapointBuffer` holds when its tables are built (the run's last call): its typed
    row arrays and lists with their spare capacity, the objects its lists refer to, each once (a timestamp
    per period and metric group, instance ids), and its distribution chunks (values, counts,
    offsets, exact flags). Reads the buffer's private fields: a measurement, not an interface."""
    total, seen = 0, set()
    for column in buffer.rows.values():
        total += sys.getsizeof(column)
        if isinstance(column, list):
            for item in column:
                if item is not None and id(item) not in seen:
                    seen.add(id(item))
                    total += sys.getsizeof(item)
    distributions = buffer.distributions
    total += sum(values.nbytes + counts.nbytes + sys.getsizeof(offsets)
                 for values, counts, offsets in distributions._chunks)
    return total + sys.getsizeof(distributions._exact)


def probe(spec: dict) -> dict:
    """`measure.child_probe` of the run, plus the size of its datapoint buffer at the end (`buffer_bytes`)."""
    from simfleet.metrics.datapoints import DatapointBuffer

    held: dict = {}
    tables = DatapointBuffer.tables

    def measured_tables(buffer):
        if tracemalloc.is_tracing():  # the measured run (the warm-up comes first, untraced)
            held["simulating_peak_bytes"] = tracemalloc.get_traced_memory()[1]
            held["bytes"] = buffer_bytes(buffer)
            tracemalloc.reset_peak()  # the measurement's own allocations (a set of ids) are not the run's
        return tables(buffer)

    DatapointBuffer.tables = measured_tables
    out = child_probe(lambda: simfleet_runs.run(experiment(60.0, 1)),
                      lambda: simfleet_runs.run(experiment(spec["hour_s"], spec["days"])))
    # the peak from the tables on (the output built at the end), and over the whole run
    out["output_phase_peak_bytes"] = out["tracemalloc_peak_bytes"]
    out["tracemalloc_peak_bytes"] = max(out["tracemalloc_peak_bytes"], held["simulating_peak_bytes"])
    return {**out, "kept_buffer_bytes": held["bytes"], "simulating_peak_bytes": held["simulating_peak_bytes"]}


def toml_text(raw: dict) -> str:
    """An experiment dict as a TOML file: each top-level key an inline table (or an array of them)."""
    from simfleet.sweep.identity import toml_literal

    return "".join(f"{key} = {toml_literal(value)}\n" for key, value in raw.items())


def progress_lines(text: str) -> list[dict]:
    """Every progress line drawn on the terminal, in order."""
    lines = []
    for match in PROGRESS.finditer(text):
        h, m, s, dh, dm, ds, percent, requests, wall, eta = match.groups()
        lines.append({"simulated_s": int(h) * 3600 + int(m) * 60 + int(s),
                      "duration_s": int(dh) * 3600 + int(dm) * 60 + int(ds), "percent": int(percent),
                      "requests": int(requests.replace(",", "")), "wall_s": float(wall),
                      "eta_s": None if eta is None else int(eta)})
    return lines


def command_run(raw: dict, day_s: float) -> dict:
    """`simfleet run` of `raw` on a terminal: its wall time, peak RSS, progress lines and RSS samples."""
    with tempfile.TemporaryDirectory(prefix="simfleet-week-") as folder:
        raw = {**raw, "experiment": {**raw["experiment"], "model_paths": [str(simfleet_runs.HERE / "models")]}}
        path = Path(folder) / "week.toml"
        path.write_text(toml_text(raw), encoding="utf-8")
        done = run_command(["run", str(path), "--out", str(Path(folder) / "run")], terminal=True)
    if done.returncode != 0:
        raise RuntimeError(f"simfleet run failed ({done.returncode}):\n{done.stderr}\n{done.stdout}")
    lines = progress_lines(done.stderr)
    # each chunk the terminal received: the last progress line in it, and the command's RSS then
    samples = [(line[-1]["simulated_s"], rss) for _, text, rss in done.terminal_chunks
               if rss is not None and (line := progress_lines(text))]
    printed = re.search(r"simulated ([\d,]+) requests over", done.stdout)
    return {"wall_s": done.wall_s, "peak_rss_bytes": done.peak_rss_bytes, "lines": lines, "samples": samples,
            "requests": int(printed.group(1).replace(",", "")) if printed else None,
            "erased": done.stderr.endswith("\r\x1b[2K"), "day_s": day_s}


def rss_figures(samples: list[tuple[float, int]], day_s: float, days: int) -> dict:
    """RSS during the first and the last simulated day, and its growth per simulated day after the first."""
    first = [rss for t, rss in samples if t < day_s]
    last = [rss for t, rss in samples if t >= (days - 1) * day_s]
    later = [(t / day_s, rss) for t, rss in samples if t >= day_s]
    slope = float(np.polyfit(*np.array(later, float).T, 1)[0]) if len(later) >= 3 else None
    return {"first_day_max_bytes": max(first) if first else None, "last_day_max_bytes": max(last) if last else None,
            "growth_bytes_per_day": slope, "samples": len(samples)}


def run(settings: Settings) -> dict:
    hour_s = (QUICK if settings.quick else FULL)["hour_s"]
    day_s = 24 * hour_s
    raw = experiment(hour_s)
    first_day = fresh_probe("week", "simfleet", {"hour_s": hour_s, "days": 1})
    week = fresh_probe("week", "simfleet", {"hour_s": hour_s, "days": DAYS})
    command = command_run(raw, day_s)
    n_week = week["requests"]
    lines = command["lines"]
    days_shown = sorted({int(line["simulated_s"] // day_s) for line in lines})
    rss = rss_figures(command["samples"], day_s, DAYS)

    kept = {name: p["kept_buffer_bytes"] for name, p in (("first_day", first_day), ("week", week))}
    working = {name: p["simulating_peak_bytes"] - kept[name] for name, p in (("first_day", first_day),
                                                                             ("week", week))}
    # building the tables at the end: temporary copies that grow with the datapoints (output, not working memory)
    output_phase = {name: p["output_phase_peak_bytes"] - kept[name] for name, p in (("first_day", first_day),
                                                                                    ("week", week))}
    kept_per_day = (week["kept_values_bytes"] - first_day["kept_values_bytes"]) / (DAYS - 1)
    tables_per_day = (week["result_table_bytes"] - first_day["result_table_bytes"]) / (DAYS - 1)
    engines = {"simfleet": engine_figures("simfleet run week.toml (the command, Parquet written)", n_week,
                                          [command["wall_s"]], week["tracemalloc_peak_bytes"],
                                          "tracemalloc peak of simulate, fresh process")}
    targets = [target("working memory (traced peak while simulating - kept datapoints), week / its first day",
                      working["week"] / working["first_day"], "<=", FLAT_MAX, "x")]
    if rss["first_day_max_bytes"] and rss["last_day_max_bytes"]:
        # the datapoints a run keeps to its end (its output) grow by about `tables_per_day` a simulated day
        rss["last_day_less_kept_bytes"] = rss["last_day_max_bytes"] - (DAYS - 1) * tables_per_day
        targets.append(target("simfleet run's resident set during day 7, less the metric tables of days 2-7, / "
                              "during day 1", rss["last_day_less_kept_bytes"] / rss["first_day_max_bytes"], "<=",
                              FLAT_MAX, "x"))
    checks = {
        "command_requests_equal_simulate": command["requests"] == n_week,
        "progress_shown": bool(lines),
        "progress_in_order": all(a["simulated_s"] <= b["simulated_s"] and a["requests"] <= b["requests"]
                                 for a, b in zip(lines, lines[1:])),
        "progress_has_eta": any(line["eta_s"] is not None for line in lines),
        "progress_of_the_week": all(line["duration_s"] == round(DAYS * day_s) for line in lines),
        "progress_erased_at_the_end": command["erased"],
    }
    if not settings.quick:  # a day takes seconds of wall time: the line is redrawn within every one
        checks["progress_in_every_day"] = days_shown == list(range(DAYS))
    growth = rss["growth_bytes_per_day"]
    notes = [f"the schedule: experiments/diurnal-day.toml's day ({min(r for _, r in SCHEDULE_H)} to "
             f"{max(r for _, r in SCHEDULE_H)} requests/s, linear between knots) repeated {DAYS} times; 60 s metrics",
             "working memory = tracemalloc peak while simulating (up to the building of the output tables) less "
             "the datapoints a run keeps to its end (its output: what its datapoint buffer holds when the tables "
             "are built, rows and values, spare capacity included); the first day and the week each run in a "
             "fresh process. Building the tables at the end adds temporaries that grow with the datapoints: "
             "reported apart ('building the tables')",
             "the command's RSS is sampled each time its progress line is redrawn (stderr is a pseudo-terminal)"]
    if settings.quick:
        notes.append("--quick: schedule hours of 60 s (the week in 168 minutes); the progress line may not be "
                     "redrawn within every simulated day")
    return {
        "title": f"week: {DAYS} x the diurnal day of experiments/diurnal-day.toml (10-200 req/s) on {INSTANCES} x "
                 f"{simfleet_runs.INSTANCE_TYPE}, 60 s metrics" + (" (--quick: 168 min)" if settings.quick else ""),
        "repeat": 1,
        "workload": {"hour_s": hour_s, "days": DAYS, "duration_s": DAYS * day_s, "instances": INSTANCES,
                     "requests": n_week, "first_day_requests": first_day["requests"],
                     "schedule_requests_per_s": SCHEDULE_H},
        "engines": engines,
        "ratios": {},
        "checks": checks,
        "memory": {"simfleet_first_day": first_day, "simfleet_week": week, "working_bytes": working,
                   "kept_datapoints_bytes": kept, "output_phase_bytes": output_phase,
                   "command_peak_rss_bytes": command["peak_rss_bytes"], "command_rss": rss,
                   "kept_values_bytes_per_day": kept_per_day, "result_tables_bytes_per_day": tables_per_day},
        "progress": {"lines": len(lines), "days_shown": days_shown,
                     "first": lines[0] if lines else None, "last": lines[-1] if lines else None},
        "extra_lines": [
            f"progress: {len(lines)} lines drawn on the terminal over {command['wall_s']:.1f} s, in simulated days "
            f"{', '.join(str(d + 1) for d in days_shown)}" + (f"; last: {_shown(lines[-1])}" if lines else ""),
            f"working memory: first day {working['first_day'] / MIB:.1f} MiB, week {working['week'] / MIB:.1f} MiB "
            f"({first_day['requests']:,} -> {n_week:,} requests); kept datapoints {kept['first_day'] / MIB:.1f} -> "
            f"{kept['week'] / MIB:.1f} MiB in the buffer ({first_day['datapoints']:,} -> {week['datapoints']:,} "
            "datapoints; as Arrow tables: values "
            f"{first_day['kept_values_bytes'] / MIB:.1f} -> {week['kept_values_bytes'] / MIB:.1f} MiB, rows "
            f"{first_day['metric_rows_bytes'] / MIB:.1f} -> {week['metric_rows_bytes'] / MIB:.1f} MiB); metric "
            f"tables {tables_per_day / MIB:.2f} MiB per simulated day; building the tables at the end: traced peak "
            f"{output_phase['first_day'] / MIB:.1f} -> {output_phase['week'] / MIB:.1f} MiB above the kept datapoints",
            "simfleet run's RSS: "
            + (f"day 1 {rss['first_day_max_bytes'] / MIB:.0f} MiB, " if rss["first_day_max_bytes"] else "")
            + (f"day 7 {rss['last_day_max_bytes'] / MIB:.0f} MiB "
               f"({rss['last_day_max_bytes'] / rss['first_day_max_bytes']:.2f}x), "
               if rss["last_day_max_bytes"] and rss["first_day_max_bytes"] else "")
            + (f"{growth / MIB:+.1f} MiB per simulated day after the first, " if growth is not None else "")
            + f"peak {(command['peak_rss_bytes'] or 0) / MIB:.0f} MiB (VmHWM, Parquet writing included); "
            f"{rss['samples']} samples"],
        "targets": targets,
        "notes": notes,
    }


def _shown(line: dict) -> str:
    eta = f", eta {line['eta_s']} s" if line["eta_s"] is not None else ""
    return (f"simulated {line['simulated_s'] / 3600:.1f} h of {line['duration_s'] / 3600:.0f} h "
            f"({line['percent']} %), {line['requests']:,} requests, wall {line['wall_s']:.1f} s{eta}")


WORKLOAD = Workload("week", run, {"simfleet": probe})
