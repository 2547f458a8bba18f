"""Validation checks that a run can finish: limits on the work an input creates, absurd numbers,
strict types, replay traces against the run's window, unreadable paths, deep nesting, and the
closed-loop users that would send forever at one instant.

Every user mistake here must end as the CLI's contract says: exit 3, one `error:` line per
problem naming the file, the key and what was expected, no traceback, nothing written. What will
run but may mislead gives a `warning:` line and runs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from input_problems import edit, invoke, line_number
from small_experiments import base_experiment, scenario
from simfleet.errors import EXIT_INVALID_INPUT, InputError
from simfleet.input_files import MAX_NESTING
from simfleet.metrics.run_totals import LatencyHistogram
from simfleet.run_limits import VARIANT_TICK_WALL_S, estimate_workload
from simfleet.scenario import load_experiment
from simfleet.traffic.rate import RateFunction

BASE = """\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 1
model_paths = ["models"]

[[endpoints]]
endpoint_name = "ep"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 2

[[traffic]]
kind = "poisson"
rate = 50
"""


def refused(result) -> list[str]:
    """Exit 3 through typer.Exit, no traceback, every stderr line an `error:` or a `warning:`."""
    assert result.exit_code == EXIT_INVALID_INPUT, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), result.stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors, result.stderr
    return errors


def the_warning(path: Path) -> str:
    """`validate` accepts `path` (exit 0) and says exactly one warning: its line."""
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    return warning


def assert_refused_everywhere(workdir: Path, text: str, *expected: str, blamed: str | None = None) -> str:
    """`validate` and `run` both refuse the experiment `text` with one error line holding every
    `expected` fragment and naming the experiment (or the file `blamed`, in `workdir`), and `run`
    writes nothing. Returns the line."""
    path = workdir / "exp.toml"
    path.write_text(text, encoding="utf-8")
    [line] = refused(invoke("validate", path))
    for fragment in expected:
        assert fragment in line, line
    assert line.startswith(f"error: {workdir / blamed if blamed else path}"), line
    out = workdir / "out"
    [run_line] = refused(invoke("run", path, "--out", out))
    assert run_line == line
    assert not out.exists()
    return line


# --- the caps: each refused with the setting that raises it, and accepted once it is raised ---------

CAPS = [
    # (name, edits that exceed the cap, the key the error is on, the limits key, a value that lets it run)
    ("requests", [("rate = 50", 'rate = "1e8/s"')], "traffic", "max_requests", "100000000000"),
    ("users", [("kind = \"poisson\"\nrate = 50", 'kind = "users"\nusers = 60000\nthink_time = THINK\n\n[[traffic]]\n'
                                                 'kind = "users"\nusers = 50000\nthink_time = THINK')],
     "traffic", "max_users", "200000"),
    ("instances", [("initial_instance_count = 2", "initial_instance_count = 900"),
                   ("[[traffic]]", "[[endpoints.production_variants]]\nvariant_name = \"B\"\nmodel_name = \"toy\"\n"
                                   "instance_type = \"ml.c5.xlarge\"\ninitial_instance_count = 1000\n\n[[traffic]]")],
     "endpoints", "max_instances", "2000"),  # with max_instances = 1500 (LOWERED)
    ("failures", [("rate = 50", 'rate = 50\n\n[instances]\nmean_time_to_failure = "1us"')],
     "instances.mean_time_to_failure", "max_instance_failures", "1000000000"),
    ("samples", [("rate = 50", 'rate = 50\n\n[metrics]\nconcurrency_sample_interval = "1us"'),
                 ("initial_instance_count = 2", "initial_instance_count = 20")],
     "metrics.concurrency_sample_interval", "max_samples", "1000000000000"),
    ("knots", [("rate = 50", 'schedule = [["0s", 50], ["1s", 60], ["2s", 70]]')], "traffic", "max_schedule_knots",
     "3"),
]


@pytest.mark.parametrize("name, edits, key, limit, raised", CAPS, ids=[c[0] for c in CAPS])
def test_cap_refused_then_raised(workdir, name, edits, key, limit, raised):
    text = edit(BASE, [*edits]).replace("THINK", '{ kind = "constant", value = "10s" }')
    # other limits set for the case: lowered to reach the cap, or raised past the one a case also meets
    # (1e8 requests/s would hold some 810 GiB in a metric period, past limits.max_memory too)
    lowered = {"knots": "max_schedule_knots = 2", "instances": "max_instances = 1500",
               "requests": 'max_memory = "1 TiB"'}.get(name)
    if lowered:
        text += f"\n[limits]\n{lowered}\n"
    line = assert_refused_everywhere(workdir, text, f" {key}: ", f"limits.{limit}", "raise")
    assert "Traceback" not in line
    raised_text = (text.replace(f"\n[limits]\n{lowered}\n", "") if lowered else text) + \
        f"\n[limits]\n{limit} = {raised}\n"
    path = workdir / "raised.toml"
    path.write_text(raised_text, encoding="utf-8")
    from simfleet.scenario import load_experiment
    try:
        load_experiment(path)
    except InputError as error:  # only the cap raised: any other limit it still meets is another cap
        assert all(f"limits.{limit}" not in p.message for p in error.problems), error


def test_trace_size_cap(workdir):
    (workdir / "trace.csv").write_text("timestamp\n1\n2\n3\n", encoding="utf-8")
    text = edit(BASE, [('kind = "poisson"\nrate = 50', 'kind = "replay"\nfile = "trace.csv"')]) + \
        '\n[limits]\nmax_trace_size = "10 B"\n'
    assert_refused_everywhere(workdir, text, "limits.max_trace_size", "the trace is 16 bytes", blamed="trace.csv")


def test_autoscaling_capacity_counts_as_instances(workdir):
    """A MaxCapacity of 10^12 is refused as instances the fleet may hold, not run into a hang."""
    scaling = """
[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "endpoint/ep/variant/A"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
MinCapacity = 1
MaxCapacity = 1000000000000
"""
    path = workdir / "exp.toml"
    path.write_text(BASE + scaling)
    lines = refused(invoke("validate", path))
    assert any("endpoints: instances the fleet may hold at once" in line and "limits.max_instances" in line
               for line in lines), lines
    assert refused(invoke("run", path, "--out", workdir / "out")) == lines and not (workdir / "out").exists()


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(1, 119), st.floats(0, 500)), max_size=6, unique_by=lambda k: k[0]),
       st.floats(0, 500), st.sampled_from(["linear", "step"]),
       st.lists(st.tuples(st.integers(0, 130), st.integers(1, 60), st.floats(0, 300)), max_size=3))
def test_requests_estimate_is_the_rate_integral(knots, first, interpolation, bursts):
    """The estimate of open-loop requests is ∫ rate over the run, checked against a Riemann sum of
    the schedule as written (midpoints of 1 ms steps), computed here without simfleet."""
    schedule = [(0, first)] + sorted(knots)
    raw = base_experiment(duration="2min")
    raw["traffic"] = [{"kind": "poisson", "schedule": [[f"{t}s", r] for t, r in schedule],
                       "interpolation": interpolation,
                       "bursts": [{"start": f"{s}s", "duration": f"{d}s", "extra_rate": r} for s, d, r in bursts]}]
    s = scenario(raw)
    work, problems, _ = estimate_workload(s.experiment, s.catalog, s.autoscaling, s.base_dir)
    assert not problems
    step = 1e-3
    t = np.arange(0, 120, step) + step / 2
    times = np.array([k[0] for k in schedule], float)
    rates = np.array([k[1] for k in schedule], float)
    if interpolation == "linear":
        base = np.interp(t, times, rates)
    else:
        base = rates[np.searchsorted(times, t, side="right") - 1]
    extra = sum(((t >= s) & (t < s + d)) * r for s, d, r in bursts) if bursts else 0.0
    expected = float(np.sum(base + extra) * step)
    assert math.isclose(work.requests, expected, rel_tol=1e-6, abs_tol=1e-3 * (1 + max(rates.max(), 1) * 2 + 300 * len(bursts)))


# --- RateFunction.build, linear now: the same function as the obvious construction ---------------


def naive_build(knots, interpolation, bursts):
    """Reference: the per-segment scan of every knot and burst (quadratic, obviously right)."""
    times = [t for t, _ in knots]
    rates = [r for _, r in knots]

    def base(t, side):
        if interpolation == "step" or len(times) == 1:
            index = np.searchsorted(times, t, side="right" if side == "left" else "left") - 1
            return rates[max(index, 0)]
        return float(np.interp(t, times, rates))

    def extra(a, b):
        return sum(rate for start, length, rate in bursts if start <= a and b <= start + length)

    points = sorted(set(times) | {s for s, _, _ in bursts} | {s + d for s, d, _ in bursts})
    r0 = [base(a, "left") + extra(a, b) for a, b in zip(points, points[1:])]
    r1 = [base(b, "right") + extra(a, b) for a, b in zip(points, points[1:])]
    return points, r0, r1, rates[-1] + extra(points[-1], np.inf)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from([0.0, 0.1, 0.3, 2.5, 7.0])), max_size=8,
                unique_by=lambda k: k[0]),
       st.sampled_from([0.0, 1.0, 0.7]), st.sampled_from(["linear", "step"]),
       st.lists(st.tuples(st.integers(0, 45).map(float), st.sampled_from([0.5, 1.0, 3.0, 10.0]),
                          st.sampled_from([0.1, 0.2, 0.7, 5.0])), max_size=6))
def test_rate_function_equals_the_naive_construction(knots, first, interpolation, bursts):
    schedule = [(0.0, first)] + [(float(t), r) for t, r in sorted(knots)]
    built = RateFunction.build(schedule, interpolation, bursts)
    points, r0, r1, tail = naive_build(schedule, interpolation, bursts)
    assert built.starts.tolist() == points
    assert built.r0.tolist() == r0 and built.r1.tolist() == r1  # bit for bit: same sums, same order
    assert built.end_rate == tail


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from([0.0, 0.1, 0.3, 2.5, 7.0])), max_size=8,
                unique_by=lambda k: k[0]),
       st.sampled_from([0.0, 1.0, 0.7]), st.sampled_from(["linear", "step"]),
       st.lists(st.tuples(st.integers(0, 45).map(float), st.sampled_from([0.5, 1.0, 3.0, 10.0]),
                          st.sampled_from([0.1, 0.2, 0.7, 5.0])), max_size=6),
       st.floats(0.5, 60.0))
def test_rate_peak_bounds_the_rate_and_is_reached(knots, first, interpolation, bursts, until):
    """`peak(until)` (what the memory estimate reads) is at least the rate at every instant before
    `until`, and the rate comes within 1 % of it on a fine grid (just inside each segment's ends)."""
    rate = RateFunction.build([(0.0, first)] + [(float(t), r) for t, r in sorted(knots)], interpolation, bursts)
    peak = rate.peak(until)
    grid = np.concatenate([np.linspace(0.0, until, 20_001)[:-1],
                           np.clip(rate.starts, 0.0, np.nextafter(until, 0.0)),
                           np.clip(rate.starts - 1e-9, 0.0, np.nextafter(until, 0.0))])
    values = rate.rate(grid)
    assert values.max() <= peak + 1e-12
    # a segment reaching past `until` counts whole: the rate at its far end may be the peak
    inside = rate.starts[1:][rate.starts[1:] > until]
    beyond = rate.rate(np.nextafter(inside[:1], 0.0)) if len(inside) else np.zeros(0)
    assert max(values.max(), beyond.max(initial=0.0)) >= peak * 0.99 - 1e-9


def test_memory_warning_with_the_estimate(workdir):
    """20,000 requests/s: 1.2 M requests a 60 s period, 174 MB at 145 bytes each, over 100 MiB."""
    text = edit(BASE, [("rate = 50", 'rate = 20000\n\n[limits]\nmemory_warning = "100 MiB"')])
    path = workdir / "exp.toml"
    path.write_text(text)
    warning = the_warning(path)
    assert "up to 1,200,000 requests answered in one 60 s invocation metric period" in warning
    assert "roughly 165.9 MiB (limits.memory_warning: 100 MiB)" in warning and f"{path}:" in warning
    path.write_text(text.replace("rate = 20000", "rate = 12000"))  # 720 k: 99.6 MiB
    assert "warning" not in invoke("validate", path).stderr


def test_a_long_quiet_run_warns_of_its_ticks(workdir):
    """30 days of 1 s high-resolution metrics at one request every 1,000 s: 2,592 requests, but
    2,592,000 ticks of the metric clock at 0.25 ms each (a day of them took 43.6 s of CPU for 2
    variants): the estimate is the ticks', about 11 min, past slow_run_warning's 2 min. With the
    default periods, 259,200 ticks of 10 s, about 65 s: no warning."""
    path = workdir / "exp.toml"
    quiet = edit(BASE, [("rate = 50", "rate = 0.001"), ('duration = "2min"', 'duration = "30d"')])
    path.write_text(quiet.replace("[[endpoints]]", "[metrics]\nhigh_resolution = true\n\n[[endpoints]]", 1))
    warning = the_warning(path)
    assert "a long run: about 2,592 requests" in warning
    assert "over 2,592,000 ticks of the metric clock, 1 variant" in warning
    assert f"roughly {2_592_000 * VARIANT_TICK_WALL_S / 60:.0f} min of wall time" in warning
    path.write_text(quiet)
    assert "warning" not in invoke("validate", path).stderr


def test_memory_past_the_cap_is_refused_and_the_cap_raises(workdir):
    """Fuzz finding (seed 20261212): a rate of 4,000,000 requests/s ran out of the machine's memory
    (killed by the kernel at 21 GB). 240 M requests a minute, 32.4 GiB at 145 bytes each, over the
    8 GiB cap: refused at validation, naming the setting; raised past it, a warning only."""
    line = assert_refused_everywhere(workdir, edit(BASE, [("rate = 50", "rate = 4000000")]), "traffic:",
                                     "up to 240,000,000", "roughly 32.41 GiB", "limits.max_memory (8 GiB)")
    assert "lower the rate" in line
    path = workdir / "exp.toml"
    path.write_text(edit(BASE, [("rate = 50", 'rate = 4000000\n\n[limits]\nmax_memory = "40 GiB"')]))
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert "roughly 32.41 GiB (limits.memory_warning: 4 GiB)" in result.stderr


def test_memory_warning_of_a_replay_counts_its_busiest_period(workdir):
    """60 requests in the first minute, 90 in the second: the busiest period holds 90."""
    rows = [f"{0.5 * k}" for k in range(60)] + [f"{60 + 0.5 * k}" for k in range(90)]
    text = replay(workdir, "timestamp\n" + "\n".join(rows) + "\n", '\n\n[limits]\nmemory_warning = "10 KiB"')
    (workdir / "exp.toml").write_text(text)
    s = load_experiment(workdir / "exp.toml")
    work, problems, warnings = estimate_workload(s.experiment, s.catalog, s.autoscaling, s.base_dir)
    assert not problems and work.requests == 150 and work.period_requests == 90
    [(where, message)] = warnings
    assert where == ("traffic",) and "up to 90 requests" in message and "12.74 KiB" in message


# --- strict types and absurd numbers ------------------------------------------------------------

STRICT = [
    ("bool-count", ("initial_instance_count = 2", "initial_instance_count = true"), "initial_instance_count"),
    ("string-count", ("initial_instance_count = 2", 'initial_instance_count = "2"'), "initial_instance_count"),
    ("float-count", ("initial_instance_count = 2", "initial_instance_count = 2.0"), "initial_instance_count"),
    ("bool-rate", ("rate = 50", "rate = true"), "traffic[0].rate"),
    ("string-weight", ("initial_instance_count = 2", 'initial_instance_count = 2\ninitial_variant_weight = "1.5"'),
     "initial_variant_weight"),
    ("string-seed", ("seed = 1", 'seed = "1"'), "experiment.seed"),
    ("bool-percentile", ('model_paths = ["models"]', 'model_paths = ["models"]\n\n[metrics]\npercentiles = [true]'),
     "metrics.percentiles[0]"),
    ("start-time-number", ("start_time = 2026-01-05T09:00:00Z", "start_time = 1767603600"), "experiment.start_time"),
]


@pytest.mark.parametrize("name, change, key", STRICT, ids=[c[0] for c in STRICT])
def test_booleans_and_numeric_strings_are_not_numbers(workdir, name, change, key):
    assert_refused_everywhere(workdir, edit(BASE, [change]), key)


ABSURD = [
    ("past-year-9999", ("start_time = 2026-01-05T09:00:00Z", "start_time = 9999-12-31T23:59:00Z"),
     "experiment.start_time", "9999"),
    ("huge-price", ("[[endpoints]]", '[catalog."ml.c5.xlarge"]\nprice_per_hour = 1e308\n\n[[endpoints]]'),
     'catalog', "less than or equal"),
    ("median-near-float-limit", ("[[endpoints]]", '[platform]\noverhead_latency = { kind = "lognormal", '
                                                   'median = "1e307s", sigma = 0.5 }\n\n[[endpoints]]'),
     "platform.overhead_latency", "at most"),
    ("astronomical-rate", ("rate = 50", 'rate = "1e300/s"'), "traffic[0].rate", "at most"),
    ("astronomical-burst", ("rate = 50", 'rate = 50\nbursts = [{ start = "0s", duration = "10s", '
                                         'extra_rate = 1e15 }]'), "traffic[0].bursts[0].extra_rate", "at most"),
    ("astronomical-schedule", ("rate = 50", 'schedule = [["0s", 50], ["1e300s", 60]]'), "traffic[0].schedule",
     "at most"),
    ("astronomical-size", ("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "1e300 GB" }'),
     "traffic[0].payload", "at most"),
    ("microsecond-repeat", ("rate = 50", 'rate = 50\n\n[autoscaling]\ntargets = [{ ServiceNamespace = "sagemaker", '
                                         'ResourceId = "endpoint/ep/variant/A", ScalableDimension = '
                                         '"sagemaker:variant:DesiredInstanceCount", MinCapacity = 1, MaxCapacity = 2 }]'
                                         '\nsettings = { action_repeat_interval = "1us" }'),
     "autoscaling.settings.action_repeat_interval", "at least 1s"),
]


@pytest.mark.parametrize("name, change, key, fragment", ABSURD, ids=[c[0] for c in ABSURD])
def test_absurd_numbers_refused_at_validation(workdir, name, change, key, fragment):
    line = assert_refused_everywhere(workdir, edit(BASE, [change]), key, fragment)
    assert "inf" not in line.split(":", 3)[-1].split("got")[0]


# --- warnings: runs that will mislead ----------------------------------------------------------


def test_payload_typed_in_gigabytes_warns_and_runs(workdir):
    path = workdir / "exp.toml"
    path.write_text(edit(BASE, [("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "2GB" }')]))
    warning = the_warning(path)
    text = path.read_text()
    assert warning.startswith(f"warning: {path}:{line_number(text, 'payload =')}: traffic[0].payload: every payload")
    assert "max_payload_size" in warning
    result = invoke("run", path, "--out", workdir / "out")
    assert result.exit_code == 0 and warning in result.stderr
    import json
    summary = json.loads((workdir / "out" / "summary.json").read_text())
    assert summary["variants"][0]["outcomes"]["PayloadTooLarge"] == summary["requests"] > 0


def test_most_payloads_over_the_limit_warn(workdir):
    s = scenario({**base_experiment(), "traffic": [
        {"kind": "poisson", "rate": 10, "payload": {"kind": "lognormal", "median": "12 MiB", "sigma": 0.5}}]})
    [warning] = s.warnings
    assert warning.key == "traffic[0].payload" and "about" in warning.message and "most requests" in warning.message


def test_no_warning_for_an_ordinary_experiment():
    assert scenario(base_experiment()).warnings == ()


def test_unpriced_instance_type_warns(workdir):
    text = edit(BASE, [('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.18xlarge"')])
    path = workdir / "exp.toml"
    path.write_text(text)
    warning = the_warning(path)
    assert "ml.c5.18xlarge has no price" in warning and "price_per_hour" in warning
    assert f"{path}:{line_number(text, 'instance_type')}: endpoints[0].production_variants[0].instance_type" in warning


def test_long_run_warns_with_an_estimate(workdir):
    text = edit(BASE, [("rate = 50", "rate = 50\n\n[limits]\nslow_run_warning = \"1s\""),
                ('duration = "2min"', 'duration = "1d"'), ("rate = 50", "rate = 10000")])
    path = workdir / "exp.toml"
    path.write_text(text)
    warning = the_warning(path)
    assert "a long run: about 864,000,000 requests" in warning and "limits.slow_run_warning" in warning


# --- closed-loop users that would send forever at one instant -------------------------------------

HANG = edit(BASE, [('kind = "poisson"\nrate = 50', 'kind = "users"\nusers = 3\n'
                                                 'payload = { kind = "constant", value = "7 MiB" }'),
            ("[[endpoints]]", '[platform]\noverhead_latency = { kind = "constant", value = "0s" }\n\n[[endpoints]]')])


def test_users_refused_at_once_with_no_think_time_stop_with_one_line(workdir):
    path = workdir / "exp.toml"
    path.write_text(HANG)
    result = invoke("run", path, "--out", workdir / "out")
    [line] = refused(result)
    assert line.startswith(f"error: {path}: traffic[0]: the run cannot go on") and "PayloadTooLarge" in line
    assert "think_time" in line
    assert not (workdir / "out" / "summary.json").exists()


def test_users_with_zero_think_time_that_are_served_still_run(workdir):
    """The closed-network theory's configuration (no think time, no overhead, nothing refused) runs:
    the check is on what happens at run time, not on the configuration."""
    path = workdir / "exp.toml"
    path.write_text(HANG.replace('value = "7 MiB"', 'value = "1 KB"'))
    result = invoke("run", path, "--out", workdir / "out")
    assert result.exit_code == 0, result.output


# --- replay traces ------------------------------------------------------------------------------


def replay(workdir: Path, trace: str, extra: str = "", name: str = "trace.csv") -> str:
    (workdir / name).write_text(trace, encoding="utf-8")
    return edit(BASE, [('kind = "poisson"\nrate = 50', f'kind = "replay"\nfile = "{name}"{extra}')])


def test_trace_of_epoch_seconds_is_refused_with_the_reason(workdir):
    text = replay(workdir, "timestamp\n1767603600\n1767603601\n")
    assert_refused_everywhere(workdir, text, "traffic[0].file", "no request", "epoch")


def test_trace_before_the_run_is_refused(workdir):
    text = replay(workdir, "timestamp\n2026-01-04T09:00:00Z\n2026-01-04T09:00:01Z\n")
    assert_refused_everywhere(workdir, text, "traffic[0].file", "no request", "UTC")


def test_trace_after_the_end_of_a_shortened_run_warns(workdir):
    """Every time after the end, but within what a longer run could replay: a shortened run (a sweep's
    constant duration) replays none, and says so."""
    text = replay(workdir, "timestamp\n200\n300\n")
    path = workdir / "exp.toml"
    path.write_text(text)
    warning = the_warning(path)
    assert "traffic[0].file: no request of trace 'trace.csv' falls in the run" in warning
    assert "sends none" in warning and "first time in a run, 200 s" in warning


def test_trace_some_before_and_the_rest_past_any_run_is_refused(workdir):
    """Times before the start and times past the longest run allowed: no run of any duration could
    replay one of them (a shortened run's warning would promise what no longer run gives)."""
    text = replay(workdir, "timestamp\n-5\n-1e308\n1e308\n")
    assert_refused_everywhere(workdir, text, "traffic[0].file", "no request", "seconds from the start")


def test_trace_partly_outside_the_run_warns_with_counts(workdir):
    text = replay(workdir, "timestamp\n-5\n1\n2\n3\n500\n")
    path = workdir / "exp.toml"
    path.write_text(text)
    warning = the_warning(path)
    assert "2 of the 5 requests" in warning and "1 before its start, 1 at or after its end" in warning
    result = invoke("run", path, "--out", workdir / "out")
    assert result.exit_code == 0 and "simulated 3 requests" in result.stdout


def test_time_zones_are_honoured(workdir):
    """09:00:30Z, 11:00:40+02:00 and 04:00:50-05:00 are 30, 40 and 50 s into a run from 09:00Z."""
    text = replay(workdir, "timestamp\n2026-01-05T09:00:30Z\n2026-01-05T11:00:40+02:00\n2026-01-05T04:00:50-05:00\n")
    path = workdir / "exp.toml"
    path.write_text(text)
    result = invoke("run", path, "--out", workdir / "out", "--requests")
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq
    arrivals = sorted(pq.read_table(workdir / "out" / "requests.parquet").column("arrival_at_s").to_pylist())
    assert arrivals == [30.0, 40.0, 50.0]
    assert "warning" not in result.stderr


def test_unsorted_trace_warns(workdir):
    text = replay(workdir, "timestamp\n3\n1\n2\n")
    path = workdir / "exp.toml"
    path.write_text(text)
    result = invoke("validate", path)
    assert result.exit_code == 0
    assert any("not in order (1 rows" in line and "traffic[0].time_column" in line for line in result.stderr.splitlines())
    [warning] = [line for line in invoke("validate", workdir / "trace.csv").stderr.splitlines()]
    assert warning.startswith(f"warning: {workdir / 'trace.csv'}: timestamp: the times are not in order")


@pytest.mark.parametrize("trace, fragment", [
    ("timestamp,x\n1,a\n,b\n2,c\n", "row 2 holds nan (an empty cell?)"),
    ("timestamp\n1\ninf\n", "row 2 holds inf"),
    ("timestamp\n1\nsoon\n", "as a time"),
    ("timestamp\ntrue\nfalse\n", "true/false"),
    ("timestamp\n", "no rows"),
])
def test_bad_trace_times_are_refused(workdir, trace, fragment):
    text = replay(workdir, trace)
    assert_refused_everywhere(workdir, text, fragment, blamed="exp.toml" if "no rows" in fragment else "trace.csv")


def test_time_column_that_is_the_payload_column_is_refused(workdir):
    text = replay(workdir, "timestamp,bytes\n1,100\n2,200\n", '\ntime_column = "bytes"\npayload_column = "bytes"')
    assert_refused_everywhere(workdir, text, "traffic[0].time_column", "also the trace's payload")


def test_standalone_trace_of_epoch_numbers_warns(workdir):
    path = workdir / "trace.csv"
    path.write_text("timestamp\n1767603600\n1767603601\n")
    result = invoke("validate", path)
    assert result.exit_code == 0
    [warning] = result.stderr.splitlines()
    assert warning.startswith(f"warning: {path}: timestamp:") and "epoch" in warning


# --- paths that cannot be input files, and nesting too deep ------------------------------------


def _special_paths(tmp: Path) -> list[tuple[str, Path, str]]:
    fifo = tmp / "fifo.toml"
    os.mkfifo(fifo)
    loop = tmp / "loop.toml"
    os.symlink(loop, loop)
    folder = tmp / "folder.toml"
    folder.mkdir()
    return [("device", Path("/dev/zero"), "not a regular file"), ("fifo", fifo, "not a regular file"),
            ("loop", loop, "loop of symbolic links"), ("too-long", tmp / ("a" * 5000 + ".toml"), "too long"),
            ("folder", folder, "folder")]


@pytest.mark.parametrize("command", ["run", "validate"])
def test_special_paths_give_one_line(tmp_path, command):
    for name, path, fragment in _special_paths(tmp_path):
        args = ("run", path, "--out", tmp_path / "out") if command == "run" else ("validate", path)
        [line] = refused(invoke(*args))
        assert fragment in line, (name, line)
        assert not (tmp_path / "out").exists()


def test_trace_that_is_a_fifo_is_refused(workdir):
    os.mkfifo(workdir / "trace.csv")
    text = edit(BASE, [('kind = "poisson"\nrate = 50', 'kind = "replay"\nfile = "trace.csv"')])
    assert_refused_everywhere(workdir, text, "traffic[0].file", "not a regular file")


@pytest.mark.parametrize("depth", [MAX_NESTING + 5, 100_000])
def test_toml_nested_too_deep(workdir, depth):
    text = BASE + "deep = " + "[" * depth + "]" * depth + "\n"
    (workdir / "exp.toml").write_text(text)
    [line] = refused(invoke("validate", workdir / "exp.toml"))
    assert "nested more than" in line
    [line] = refused(invoke("run", workdir / "exp.toml", "--out", workdir / "out"))
    assert "nested more than" in line and not (workdir / "out").exists()


@pytest.mark.parametrize("depth", [MAX_NESTING + 5, 100_000])
def test_json_nested_too_deep(workdir, depth):
    path = workdir / "scaling.json"
    path.write_text('{"targets": ' + "[" * depth + "]" * depth + "}")
    [line] = refused(invoke("validate", path))
    assert line.startswith(f"error: {path}: ") and "nested more than" in line


# --- sweeps and summaries -------------------------------------------------------------------------


def test_sweep_that_expands_too_far_is_refused_before_expanding(workdir):
    (workdir / "exp.toml").write_text(BASE)
    axes = "".join(f'\n[[axes]]\nname = "a{k}"\nkey = "endpoints.0.production_variants.0.initial_variant_weight"'
                   f"\nvalues = [{', '.join(str(v + 1) for v in range(100))}]\n" for k in range(1))
    axes += "".join(f'\n[[axes]]\nname = "b{k}"\nkey = "traffic.0.rate"\nvalues = [{", ".join(str(v + 1) for v in range(100))}]\n'
                    for k in range(1))
    sweep = f'[sweep]\nname = "s"\nbase = "exp.toml"\nseed = 1\nreplicates = 2\n{axes}'
    (workdir / "sweep.toml").write_text(sweep)
    [line] = refused(invoke("validate", workdir / "sweep.toml"))
    assert "20,000 runs" in line and "sweep.max_runs (10,000)" in line


def test_percentile_above_the_histogram_is_unknown_not_clamped():
    histogram = LatencyHistogram()
    histogram.counts[-1] = 10   # every latency above HIGH_S
    histogram.counts[5] = 90
    assert histogram.percentile(50) == pytest.approx(LatencyHistogram.EDGES[5])
    assert histogram.percentile(95) is None


def test_numbers_near_the_float_limit_are_refused_in_every_spec(workdir):
    """Not only quantities with units: a plain number of any spec (here an autoscaling TargetValue)."""
    text = BASE + """
[[autoscaling.targets]]
ServiceNamespace = "sagemaker"
ResourceId = "endpoint/ep/variant/A"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
MinCapacity = 1
MaxCapacity = 4

[[autoscaling.policies]]
PolicyName = "p"
ServiceNamespace = "sagemaker"
ResourceId = "endpoint/ep/variant/A"
ScalableDimension = "sagemaker:variant:DesiredInstanceCount"
PolicyType = "TargetTrackingScaling"
TargetTrackingScalingPolicyConfiguration = { TargetValue = 1e300, PredefinedMetricSpecification = { PredefinedMetricType = "SageMakerVariantInvocationsPerInstance" } }
"""
    line = assert_refused_everywhere(workdir, text, "TargetTrackingScalingPolicyConfiguration.TargetValue",
                                     "at most 9.22e+18")
    assert f":{line_number(text, 'TargetValue')}:" in line


def test_sweep_base_that_is_a_fifo_is_refused(workdir):
    os.mkfifo(workdir / "exp.toml")
    (workdir / "sweep.toml").write_text('[sweep]\nname = "s"\nbase = "exp.toml"\nseed = 1\n\n[[axes]]\n'
                                        'key = "traffic.0.rate"\nvalues = [1, 2]\n')
    [line] = refused(invoke("validate", workdir / "sweep.toml"))
    assert "sweep.base" in line and "not a regular file" in line


def test_set_value_nested_too_deep(workdir):
    (workdir / "exp.toml").write_text(BASE)
    deep = "[" * 5000 + "]" * 5000
    [line] = refused(invoke("run", workdir / "exp.toml", "--out", workdir / "out", "--set", f"metrics.percentiles={deep}"))
    assert line.startswith("error: --set: metrics.percentiles: ") and "nested more than" in line
    assert not (workdir / "out").exists()


def test_closed_loop_users_are_not_refused_for_their_upper_bound():
    """Users wait for their answers, so the fleet bounds their requests: many users with no think time
    over a long run are not refused by max_requests (their bound without service times is only an
    estimate of how long the run takes)."""
    raw = base_experiment(duration="1d")
    raw["traffic"] = [{"kind": "users", "users": 1000}]
    s = scenario(raw)
    [warning] = s.warnings
    assert warning.key == "experiment.duration" and warning.message.startswith("a long run")


def test_models_cap_on_the_shipped_multi_model_experiment():
    """The shipped multi-model experiment is within the default caps; max_models below its population
    refuses it, naming the key."""
    from simfleet.scenario import load_experiment

    path = Path(__file__).parent.parent / "experiments" / "multi-model.toml"
    load_experiment(path, ["experiment.duration=10min"])
    with pytest.raises(InputError) as caught:
        load_experiment(path, ["experiment.duration=10min", "limits.max_models=1"])
    [problem] = caught.value.problems
    assert "models of multi-model populations" in problem.message and "limits.max_models (1)" in problem.message
    assert problem.file == str(path)


def test_copies_cap_on_the_shipped_inference_component_experiment():
    """The shipped inference-component experiment is within the default caps, up to 10,000 copies at
    their most (9,994 of the LLM, 2 of BERT, 4 at most of the thumbnails); one more, or a copy_count of
    two million (a fuzzed input that ran for minutes placing pending copies), is refused, naming the key."""
    from simfleet.scenario import load_experiment

    path = Path(__file__).parent.parent / "experiments" / "inference-components.toml"
    load_experiment(path, ["experiment.duration=10min"])
    load_experiment(path, ["experiment.duration=10min", "inference_components.0.runtime_config.copy_count=9994"])
    for overrides in (["limits.max_copies=1"], ["inference_components.0.runtime_config.copy_count=9995"],
                      ["inference_components.0.runtime_config.copy_count=2000000"]):
        with pytest.raises(InputError) as caught:
            load_experiment(path, ["experiment.duration=10min", *overrides])
        [problem] = caught.value.problems
        assert "inference-component copies at their most" in problem.message, problem.message
        assert "limits.max_copies" in problem.message and problem.file == str(path)


@pytest.mark.parametrize("limit, change, expected", [
    ("max_variants", ("[[traffic]]", '[[endpoints.production_variants]]\nvariant_name = "B"\nmodel_name = "toy"\n'
                                     'instance_type = "ml.c5.xlarge"\ninitial_instance_count = 1\n\n[[traffic]]'),
     "production variants: 2"),
    ("max_traffic_sources", ("rate = 50", 'rate = 50\n\n[[traffic]]\nkind = "constant"\nrate = 5'),
     "traffic entries: 2"),
])
def test_count_caps(workdir, limit, change, expected):
    assert_refused_everywhere(workdir, edit(BASE, [change]) + f"\n[limits]\n{limit} = 1\n", expected,
                              f"limits.{limit} (1)")


def test_shipped_experiments_give_no_warning():
    """The warnings mean something: none of the shipped experiments, as shipped, gives one. (What
    their runs would say may mislead, such as assumed latencies, validate says too: those are
    `outputs.run_warnings`' and tests/test_run_warnings.py's.)"""
    from simfleet.errors import Problem
    from simfleet.input_kinds import check_file

    for path in sorted((Path(__file__).parent.parent / "experiments").glob("*.toml")):
        kind, _, warnings = check_file(path)
        own = [w for w in warnings if isinstance(w, Problem)]
        assert own == [], (path, own)
