"""Every kind of bad input a user can give simfleet, through the API and through the CLI.

Each problem must be (a) an `InputError` from the API, or exit code 3 with no traceback from the
CLI, (b) one line naming the file, the key path and what was expected, and (c) when the problem
sits in a TOML file, located on the right line. Experiments are written as real TOML text into
`tmp_path`, and expected line numbers are found in that text by the tests themselves (never taken
from simfleet's own line scanner): the helpers are `input_problems`'.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from input_problems import (BASE, Case, assert_at, assert_exit_invalid, edit, invoke, line_number, load_problems,
                            write)
from simfleet.engine.simulation import simulate
from simfleet.errors import EXIT_INVALID_INPUT, InputError, Problem
from simfleet.outputs import run_directory
from simfleet.profiles import load_profile
from simfleet.scenario import load_experiment
from small_experiments import MODELS

P = "endpoints[0].production_variants[0]"

SECOND_VARIANT_A = """\
[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]"""

SECOND_ENDPOINT = """\
[[endpoints]]
endpoint_name = "{name}"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[traffic]]"""


# ---------------------------------------------------------------------------------------------
# one problem each: a table of cases, checked through the API (reported, located) and the CLI


CASES = [
    # unknown keys
    Case("unknown-key-top-level", [("[experiment]", "bogus = 1\n\n[experiment]")],
         {"bogus": "bogus = 1"}, ("unknown key",)),
    Case("unknown-key-in-variant", [("initial_instance_count = 2", "initial_instance_count = 2\ninstance_cont = 3")],
         {f"{P}.instance_cont": "instance_cont"}, ("unknown key",)),
    Case("unknown-key-in-metrics", [('high_resolution = false', 'high_resolution = false\nstatistic = "p50"')],
         {"metrics.statistic": "statistic"}, ("unknown key",)),
    Case("unknown-key-in-inline-table", [("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "1 KB", vaule = 2 }')],
         {"traffic[0].payload.vaule": "payload"}, ("unknown key",)),
    Case("missing-required-key", [('instance_type = "ml.c5.xlarge"\n', "")],
         {f"{P}.instance_type": "[[endpoints.production_variants]]"}, ("required key is missing",)),
    Case("wrong-type", [("initial_instance_count = 2", 'initial_instance_count = "two"')],
         {f"{P}.initial_instance_count": "initial_instance_count"}, ("valid integer", "'two'")),
    # negative and non-finite numbers
    Case("negative-weight", [("initial_instance_count = 2", "initial_instance_count = 2\ninitial_variant_weight = -1")],
         {f"{P}.initial_variant_weight": "initial_variant_weight"}, ("greater than or equal to 0", "-1")),
    Case("negative-rate", [("rate = 50", "rate = -5")],
         {"traffic[0].rate": "rate = -5"}, ("non-negative", "-5")),
    Case("negative-rate-per-minute", [("rate = 50", 'rate = "-300/min"')],
         {"traffic[0].rate": "rate ="}, ("non-negative", "-300/min")),
    Case("negative-seed", [("seed = 1", "seed = -1")],
         {"experiment.seed": "seed = -1"}, ("greater than or equal to 0", "-1")),
    Case("negative-duration", [("[metrics]", '[platform]\ninvocation_timeout = "-5s"\n\n[metrics]')],
         {"platform.invocation_timeout": "invocation_timeout"}, ("non-negative", "-5s")),
    Case("nan-rate", [("rate = 50", "rate = nan")], {"traffic[0].rate": "rate = nan"}, ("finite", "nan")),
    Case("inf-rate", [("rate = 50", "rate = inf")], {"traffic[0].rate": "rate = inf"}, ("finite", "inf")),
    Case("nan-weight", [("initial_instance_count = 2", "initial_instance_count = 2\ninitial_variant_weight = nan")],
         {f"{P}.initial_variant_weight": "initial_variant_weight"}, ("finite", "nan")),
    Case("inf-percentile", [("percentiles = [50, 90, 99]", "percentiles = [50, inf]")],
         {"metrics.percentiles[1]": "percentiles", "metrics.percentiles": "percentiles"}, ("finite", "inf")),
    # durations and sizes
    Case("duration-without-unit", [('duration = "2min"', 'duration = "60"')],
         {"experiment.duration": "duration"}, ("duration like '90s'", "units: us", "'60'")),
    Case("duration-bare-number", [('duration = "2min"', "duration = 60")],
         {"experiment.duration": "duration"}, ("with a unit", "60")),
    Case("duration-wrong-unit", [('duration = "2min"', 'duration = "5 parsecs"')],
         {"experiment.duration": "duration"}, ("units: us", "'5 parsecs'")),
    Case("size-bad-unit", [("[metrics]", '[platform]\nmax_payload_size = "6 MiBs"\n\n[metrics]')],
         {"platform.max_payload_size": "max_payload_size"}, ("size like", "MiB", "'6 MiBs'")),
    Case("size-bad-unit-in-payload", [("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "1 KX" }')],
         {"traffic[0].payload.value": "payload", "traffic[0].payload": "payload"}, ("size like", "KiB", "'1 KX'")),
    Case("duration-zero", [('duration = "2min"', 'duration = "0s"')],
         {"experiment.duration": "duration"}, ("between 1s and 31d", "0 s")),
    Case("duration-absurd", [('duration = "2min"', 'duration = "400d"')],
         {"experiment.duration": "duration"}, ("between 1s and 31d",)),
    # instances and models
    Case("unknown-instance-type", [("ml.c5.xlarge", "ml.c5.huge")],
         {f"{P}.instance_type": "instance_type"}, ("unknown instance type 'ml.c5.huge'", "simfleet catalog")),
    Case("malformed-instance-type", [('"ml.c5.xlarge"', '"c5.xlarge"')],
         {f"{P}.instance_type": "instance_type"}, ("pattern", "'c5.xlarge'")),
    Case("unknown-model", [('model_name = "toy"', 'model_name = "toyy"')],
         {f"{P}.model_name": "model_name"}, ("unknown model 'toyy'", "toy")),
    Case("model-without-service-entry", [("ml.c5.xlarge", "ml.r5.large")],
         {f"{P}.instance_type": "instance_type"}, ("no service entry for ml.r5.large", "c5, m5, g5")),
    # 1000 workers x 100 MiB = 97.66 GiB on a 4 GiB ml.c5.large
    Case("model-does-not-fit", [("ml.c5.xlarge", "ml.c5.large"),
                                ("initial_instance_count = 2", "initial_instance_count = 2\nworkers = 1000")],
         {f"{P}.instance_type": "instance_type", f"{P}.workers": "workers"},
         ("1000 workers", "97.7 GiB", "ml.c5.large has 4.0 GiB")),
    Case("zero-instances", [("initial_instance_count = 2", "initial_instance_count = 0")],
         {f"{P}.initial_instance_count": "initial_instance_count"}, ("greater than or equal to 1", "0")),
    Case("unknown-routing-strategy", [("initial_instance_count = 2",
                                       'initial_instance_count = 2\nrouting_config = { routing_strategy = "ROUND_ROBIN" }')],
         {f"{P}.routing_config.routing_strategy": "routing_config"},
         ("LEAST_OUTSTANDING_REQUESTS", "RANDOM", "'ROUND_ROBIN'")),
    Case("bad-endpoint-name", [('endpoint_name = "ep"', 'endpoint_name = "my_ep"')],
         {"endpoints[0].endpoint_name": "endpoint_name"}, ("pattern", "'my_ep'")),
    # time: periods, alignment, time zones
    Case("removed-metrics-period", [('high_resolution = false', 'period = "60s"')],
         {"metrics.period": "period"}, ("unknown key",)),
    Case("publish-frequency-not-allowed",
         [('endpoint_name = "ep"', 'endpoint_name = "ep"\nmetrics_config = { metric_publish_frequency_in_seconds = 45 }')],
         {"endpoints[0].metrics_config.metric_publish_frequency_in_seconds": "metrics_config"},
         ("must be one of", "10, 30, 60", "got 45")),
    Case("publish-frequency-as-duration",
         [('endpoint_name = "ep"', 'endpoint_name = "ep"\nmetrics_config = { metric_publish_frequency_in_seconds = "60s" }')],
         {"endpoints[0].metrics_config.metric_publish_frequency_in_seconds": "metrics_config"},
         ("integer",)),
    Case("enhanced-metrics-not-bool",
         [('endpoint_name = "ep"', 'endpoint_name = "ep"\nmetrics_config = { enable_enhanced_metrics = "yes" }')],
         {"endpoints[0].metrics_config.enable_enhanced_metrics": "metrics_config"}, ("bool",)),
    Case("unknown-key-in-metrics-config",
         [('endpoint_name = "ep"', 'endpoint_name = "ep"\nmetrics_config = { MetricPublishFrequencyInSeconds = 10 }')],
         {"endpoints[0].metrics_config.MetricPublishFrequencyInSeconds": "metrics_config"}, ("unknown key",)),
    Case("duration-not-whole-publish-periods",
         [('endpoint_name = "ep"', 'endpoint_name = "ep"\nmetrics_config = { metric_publish_frequency_in_seconds = 300 }')],
         {"experiment.duration": "duration"}, ("whole number", "300s")),
    Case("concurrency-sample-interval-not-dividing",
         [('high_resolution = false', 'concurrency_sample_interval = "3s"')],
         {"metrics.concurrency_sample_interval": "concurrency_sample_interval"}, ("divide", "10s", "got 3s")),
    Case("histogram-scale-too-fine", [('high_resolution = false', 'histogram_scale = 20')],
         {"metrics.histogram_scale": "histogram_scale"}, ("less than or equal to 12",)),
    Case("accelerator-dimension-unknown", [('high_resolution = false', 'accelerator_dimension = "GPU"')],
         {"metrics.accelerator_dimension": "accelerator_dimension"}, ("AcceleratorId", "GpuId")),
    Case("start-time-not-aligned", [("T09:00:00Z", "T09:00:30Z")],
         {"experiment.start_time": "start_time"}, ("aligned", "60s")),
    Case("start-time-without-zone", [("T09:00:00Z", "T09:00:00")],
         {"experiment.start_time": "start_time"}, ("time zone",)),
    Case("start-time-string-without-zone", [("2026-01-05T09:00:00Z", '"2026-01-05T09:00:00"')],
         {"experiment.start_time": "start_time"}, ("time zone",)),
    Case("duration-not-whole-periods", [('duration = "2min"', 'duration = "90s"')],
         {"experiment.duration": "duration"}, ("whole number", "60s")),
    # endpoints and variants
    Case("duplicate-variant-names", [("\n[[traffic]]", "\n" + SECOND_VARIANT_A)],
         {"endpoints[0]": "[[endpoints]]",
          "endpoints[0].production_variants[1]": ("[[endpoints.production_variants]]", 2),
          "endpoints[0].production_variants[1].variant_name": ('variant_name = "A"', 2)},
         ("unique", "repeated: A")),
    Case("all-weights-zero", [("initial_instance_count = 2", "initial_instance_count = 2\ninitial_variant_weight = 0")],
         {"endpoints[0]": "[[endpoints]]", "endpoints[0].production_variants": "[[endpoints.production_variants]]",
          f"{P}.initial_variant_weight": "initial_variant_weight"},
         ("initial_variant_weight > 0",)),
    Case("duplicate-endpoint-names", [("\n[[traffic]]", "\n" + SECOND_ENDPOINT.format(name="ep")),
                                      ('kind = "poisson"', 'endpoint_name = "ep"\nkind = "poisson"')],
         {"endpoints": ("[[endpoints]]", 1), "endpoints[1]": ("[[endpoints]]", 2),
          "endpoints[1].endpoint_name": ('endpoint_name = "ep"', 2)},
         ("is used twice",)),
    # traffic
    Case("rate-and-schedule", [("rate = 50", 'rate = 50\nschedule = [["0s", 10], ["1min", 20]]')],
         {"traffic[0]": "[[traffic]]", "traffic[0].rate": "rate = 50", "traffic[0].schedule": "schedule"},
         ("exactly one of rate or schedule",)),
    Case("neither-rate-nor-schedule", [("rate = 50\n", "")],
         {"traffic[0]": "[[traffic]]"}, ("exactly one of rate or schedule",)),
    Case("schedule-not-starting-at-zero", [("rate = 50", 'schedule = [["10s", 10], ["1min", 20]]')],
         {"traffic[0]": "[[traffic]]", "traffic[0].schedule": "schedule"}, ("start at time 0s",)),
    Case("schedule-not-increasing", [("rate = 50", 'schedule = [["0s", 10], ["1min", 20], ["30s", 5]]')],
         {"traffic[0]": "[[traffic]]", "traffic[0].schedule": "schedule"}, ("strictly increasing",)),
    Case("unknown-traffic-kind", [('kind = "poisson"', 'kind = "bursty"')],
         {"traffic[0]": "[[traffic]]", "traffic[0].kind": 'kind = "bursty"'},
         ("'bursty'", "'poisson'", "'constant'", "'replay'")),
    Case("traffic-unknown-endpoint", [("rate = 50", 'rate = 50\nendpoint_name = "nope"')],
         {"traffic[0].endpoint_name": 'endpoint_name = "nope"'}, ("unknown endpoint 'nope'", "endpoints: ep")),
    Case("traffic-endpoint-ambiguous", [("\n[[traffic]]", "\n" + SECOND_ENDPOINT.format(name="ep2"))],
         {"traffic[0].endpoint_name": "[[traffic]]", "traffic[0]": "[[traffic]]"},
         ("required when the experiment has several endpoints",)),
    Case("target-variant-unknown", [("rate = 50", 'rate = 50\ntarget_variant = "B"')],
         {"traffic[0].target_variant": "target_variant"}, ("no variant 'B'", "variants: A")),
    Case("replay-file-missing", [('kind = "poisson"\nrate = 50', 'kind = "replay"\nfile = "trace.csv"')],
         {"traffic[0].file": "file ="}, ("no such trace file 'trace.csv'",)),
    # distributions
    Case("empirical-not-starting-at-zero",
         [("rate = 50", 'rate = 50\npayload = { kind = "empirical", quantiles = [[0.1, "1 KB"], [1.0, "2 KB"]] }')],
         {"traffic[0].payload": "payload", "traffic[0].payload.quantiles": "payload"},
         ("start at probability 0.0",)),
    Case("empirical-not-increasing",
         [("rate = 50", 'rate = 50\npayload = { kind = "empirical", quantiles = '
                        '[[0.0, "1 KB"], [0.5, "2 KB"], [0.4, "3 KB"], [1.0, "4 KB"]] }')],
         {"traffic[0].payload": "payload", "traffic[0].payload.quantiles": "payload"},
         ("strictly increasing",)),
    Case("lognormal-sigma-zero",
         [("rate = 50", 'rate = 50\npayload = { kind = "lognormal", median = "1 KB", sigma = 0 }')],
         {"traffic[0].payload.sigma": "payload"}, ("greater than 0", "got 0")),
    Case("lognormal-sigma-negative",
         [("[metrics]", '[platform]\noverhead_latency = { kind = "lognormal", median = "3ms", sigma = -0.5 }\n\n[metrics]')],
         {"platform.overhead_latency.sigma": "overhead_latency"}, ("greater than 0", "-0.5")),
    Case("lognormal-median-zero",
         [("rate = 50", 'rate = 50\npayload = { kind = "lognormal", median = "0 KB", sigma = 1 }')],
         {"traffic[0].payload": "payload", "traffic[0].payload.median": "payload"},
         ("greater than 0", "got 0")),
    # percentiles
    Case("percentile-above-100", [("percentiles = [50, 90, 99]", "percentiles = [50, 100.5]")],
         {"metrics.percentiles": "percentiles"}, ("(0, 100]", "100.5")),
    Case("percentile-zero", [("percentiles = [50, 90, 99]", "percentiles = [0, 50]")],
         {"metrics.percentiles": "percentiles"}, ("(0, 100]", "got 0")),
    Case("percentile-repeated", [("percentiles = [50, 90, 99]", "percentiles = [50, 90, 50]")],
         {"metrics.percentiles": "percentiles"}, ("must not repeat",)),
]


def _located_param(case: Case):
    return pytest.param(case, id=case.id)


def test_base_experiment_is_valid(workdir):
    """The cases below each break one thing of this file; unbroken, it loads."""
    scenario = load_experiment(write(workdir, BASE))
    assert scenario.experiment.traffic[0].rate == 50


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_reported(case: Case, workdir):
    """(a) an InputError, (b) exactly one problem, naming the file and saying what was expected."""
    path = write(workdir, case.text)
    [problem] = load_problems(path)
    assert problem.file == str(path)
    for fragment in case.expect:
        assert fragment in problem.message, f"{fragment!r} not in {problem}"
    assert str(problem).startswith(str(path))


@pytest.mark.parametrize("case", [_located_param(c) for c in CASES])
def test_located(case: Case, workdir):
    """(c) the key path is one the user wrote, and the line is where that key is written."""
    path = write(workdir, case.text)
    [problem] = load_problems(path)
    assert_at(problem, case.text, case.at)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_cli_run_rejects(case: Case, workdir):
    """`simfleet run` exits 3 with one error line naming the file; it creates no run directory."""
    path = write(workdir, case.text)
    out = workdir / "out"
    result = invoke("run", path, "--out", out)
    [line] = assert_exit_invalid(result)
    assert line.startswith(f"error: {path}")
    for fragment in case.expect:
        assert fragment in line
    assert "simulated" not in result.stdout
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# unreadable files


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    [problem] = load_problems(path)
    assert problem.file == str(path)
    assert "no such experiment file" in problem.message
    [line] = assert_exit_invalid(invoke("run", path, "--out", tmp_path / "out"))
    assert line == f"error: {path}: no such experiment file"
    assert not (tmp_path / "out").exists()


def test_directory_instead_of_file(tmp_path):
    path = tmp_path / "folder.toml"
    path.mkdir()
    [problem] = load_problems(path)
    assert problem.file == str(path)
    assert "cannot read experiment file: it is a folder" in problem.message
    [line] = assert_exit_invalid(invoke("run", path, "--out", tmp_path / "out"))
    assert line.startswith(f"error: {path}: cannot read experiment file")
    [line] = assert_exit_invalid(invoke("validate", path))
    assert line == f"error: {path}: is a folder: give the files in it"  # validate cannot tell its kind


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace('name = "t"', 'name = "caf\xe9"').encode("latin-1"))
    [problem] = load_problems(path)
    assert problem.file == str(path)
    assert "cannot read experiment file" in problem.message


def test_toml_syntax_error(workdir):
    text = edit(BASE, [("rate = 50", "rate 50")])
    path = write(workdir, text)
    [problem] = load_problems(path)
    assert problem.file == str(path)
    assert "not valid TOML" in problem.message
    expected = line_number(text, "rate 50")
    assert problem.line == expected or f"line {expected}," in problem.message, str(problem)
    [line] = assert_exit_invalid(invoke("run", path, "--out", workdir / "out"))
    assert line.startswith(f"error: {path}") and "not valid TOML" in line


def test_line_numbers_survive_comments_and_multiline_values(workdir):
    """Multi-line strings and arrays, comments with brackets and quoted keys do not shift lines."""
    text = """\
# a comment that looks like a table: [[traffic]] rate = 1
[experiment]
name = "t"
description = \"\"\"
rate = 7
[[endpoints]]
\"\"\"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
model_paths = [
  "models",   # [ a bracket in a comment
]

[metrics]
high_resolution = false
percentiles = [
  50,
  90,
]

[[endpoints]]
endpoint_name = "ep"
  [[endpoints.production_variants]]
  variant_name = "A"
  model_name = "toy"
  instance_type = "ml.c5.xlarge"
  initial_instance_count = 2

[[traffic]]
kind = "poisson"
"rate" = -5
"""
    path = write(workdir, text)
    [problem] = load_problems(path)
    assert_at(problem, text, {"traffic[0].rate": '"rate" = -5'})


# ---------------------------------------------------------------------------------------------
# several problems at once

MULTI = """\
[experiment]
name = "multi"
start_time = 2026-01-05T09:00:00Z
duration = "5 parsecs"
seed = 1
model_paths = ["models"]
colour = "blue"

[[endpoints]]
endpoint_name = "first"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[endpoints]]
endpoint_name = "second"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[endpoints.production_variants]]
variant_name = "B"
model_name = "toy"
instance_type = "ml.m5.large"
initial_instance_count = 0
initial_variant_weight = -1

[[traffic]]
endpoint_name = "first"
kind = "poisson"
rate = 10
payload = { kind = "lognormal", median = "1 KB", sigma = 0 }

[[traffic]]
endpoint_name = "second"
kind = "constant"
rate = -5
"""


def test_several_schema_problems_reported_at_once(workdir):
    path = write(workdir, MULTI)
    problems = load_problems(path)
    expected = {
        "experiment.duration": line_number(MULTI, '"5 parsecs"'),
        "experiment.colour": line_number(MULTI, "colour"),
        "endpoints[1].production_variants[1].initial_instance_count": line_number(MULTI, "initial_instance_count = 0"),
        "endpoints[1].production_variants[1].initial_variant_weight": line_number(MULTI, "initial_variant_weight"),
        "traffic[0].payload.sigma": line_number(MULTI, "payload ="),
        "traffic[1].rate": line_number(MULTI, "rate = -5"),
    }
    assert len(problems) == 6, "\n".join(map(str, problems))
    assert {p.key: p.line for p in problems} == expected
    assert len({p.line for p in problems}) == 6
    assert all(p.file == str(path) for p in problems)
    lines = assert_exit_invalid(invoke("validate", path))
    assert len(lines) == 6
    assert sorted(lines) == sorted(f"error: {p}" for p in problems)


MULTI_REFERENCES = """\
[experiment]
name = "refs"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
model_paths = ["models"]

[[endpoints]]
endpoint_name = "first"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "toy"
instance_type = "ml.c5.huge"
initial_instance_count = 1

[[endpoints]]
endpoint_name = "second"

[[endpoints.production_variants]]
variant_name = "A"
model_name = "nosuchmodel"
instance_type = "ml.c5.xlarge"
initial_instance_count = 1

[[endpoints.production_variants]]
variant_name = "B"
model_name = "toy"
instance_type = "ml.r5.large"
initial_instance_count = 1

[[traffic]]
endpoint_name = "first"
target_variant = "Z"
kind = "poisson"
rate = 10

[[traffic]]
endpoint_name = "third"
kind = "poisson"
rate = 10

[[traffic]]
endpoint_name = "second"
kind = "replay"
file = "missing.csv"
"""


def test_several_reference_problems_reported_at_once(workdir):
    path = write(workdir, MULTI_REFERENCES)
    problems = load_problems(path)
    expected = {
        ("endpoints[0].production_variants[0].instance_type", line_number(MULTI_REFERENCES, "ml.c5.huge")),
        ("endpoints[1].production_variants[0].model_name", line_number(MULTI_REFERENCES, "nosuchmodel")),
        ("endpoints[1].production_variants[1].instance_type", line_number(MULTI_REFERENCES, "ml.r5.large")),
        ("traffic[0].target_variant", line_number(MULTI_REFERENCES, "target_variant")),
        ("traffic[1].endpoint_name", line_number(MULTI_REFERENCES, '"third"')),
        ("traffic[2].file", line_number(MULTI_REFERENCES, "missing.csv")),
    }
    assert {(p.key, p.line) for p in problems} == expected, "\n".join(map(str, problems))
    assert len(problems) == 6


def test_schema_and_reference_problems_reported_together(workdir):
    text = edit(BASE, [("rate = 50", "rate = -5"), ('model_name = "toy"', 'model_name = "toyy"')])
    path = write(workdir, text)
    problems = load_problems(path)
    assert {(p.key, p.line) for p in problems} == {
        ("traffic[0].rate", line_number(text, "rate = -5")),
        (f"{P}.model_name", line_number(text, "toyy")),
    }


def test_missing_model_folder(workdir):
    text = edit(BASE, [('model_paths = ["models"]', 'model_paths = ["modelz"]')])
    path = write(workdir, text)
    problems = load_problems(path)
    folder = [p for p in problems if p.key == "experiment.model_paths[0]"]
    assert len(folder) == 1 and "no such folder 'modelz'" in folder[0].message
    assert folder[0].line == line_number(text, "model_paths")


# ---------------------------------------------------------------------------------------------
# [catalog] overrides


def test_catalog_override_bad_size(workdir):
    text = edit(BASE, [("[metrics]", '[catalog."ml.c5.xlarge"]\nmemory = "8 GiBB"\n\n[metrics]')])
    path = write(workdir, text)
    [problem] = load_problems(path)
    assert "size like" in problem.message and "'8 GiBB'" in problem.message
    assert_at(problem, text, {"catalog.ml.c5.xlarge.memory": "memory ="})


def test_catalog_new_type_incomplete_reported(workdir):
    text = edit(BASE, [("[metrics]", '[catalog."ml.x9.large"]\nvcpus = 2\n\n[metrics]')])
    path = write(workdir, text)
    problems = load_problems(path)
    assert {p.key for p in problems} == {"catalog.ml.x9.large.memory", "catalog.ml.x9.large.accelerators",
                                         "catalog.ml.x9.large.accelerator_memory"}
    assert all("required key is missing" in p.message and p.file == str(path) for p in problems)


def test_catalog_new_type_incomplete_located(workdir):
    text = edit(BASE, [("[metrics]", '[catalog."ml.x9.large"]\nvcpus = 2\n\n[metrics]')])
    problems = load_problems(write(workdir, text))
    header = line_number(text, '[catalog."ml.x9.large"]')
    assert [p.line for p in problems] == [header] * 3


# ---------------------------------------------------------------------------------------------
# replay files: read when the run starts


def replay_experiment(workdir: Path, trace: str, extra: str = "") -> Path:
    (workdir / "trace.csv").write_text(trace, encoding="utf-8")
    text = edit(BASE, [('kind = "poisson"\nrate = 50', f'kind = "replay"\nfile = "trace.csv"{extra}')])
    return write(workdir, text)


def replay_problem(path: Path) -> Problem:
    """The one problem with a replay trace: found by validation (columns) or by the run (content)."""
    with pytest.raises(InputError) as caught:
        simulate(load_experiment(path))
    [problem] = caught.value.problems
    return problem


def test_replay_no_such_time_column(workdir):
    path = replay_experiment(workdir, "ts,bytes\n0.5,100\n1.5,200\n")
    problem = replay_problem(path)
    assert Path(problem.file).resolve() == path.resolve()  # found when the experiment is validated
    assert problem.key == "traffic[0].time_column"
    assert "no column 'timestamp'" in problem.message and "columns: ts, bytes" in problem.message


def test_replay_no_such_named_column(workdir):
    path = replay_experiment(workdir, "ts,bytes\n0.5,100\n", '\ntime_column = "ts"\npayload_column = "size"')
    problem = replay_problem(path)
    assert Path(problem.file).resolve() == path.resolve()
    assert problem.key == "traffic[0].payload_column" and "no column 'size'" in problem.message


def test_replay_unparseable_times(workdir):
    path = replay_experiment(workdir, "timestamp\n2026-01-05T09:00:01Z\nyesterday\n")
    problem = replay_problem(path)
    assert Path(problem.file).resolve() == (workdir / "trace.csv").resolve()
    assert problem.key == "traffic[0].time_column"
    assert "'yesterday'" in problem.message and "ISO 8601" in problem.message


def test_replay_problem_cli_exit_3_and_nothing_written(workdir):
    path = replay_experiment(workdir, "ts,bytes\n0.5,100\n")
    out = workdir / "out"
    [line] = assert_exit_invalid(invoke("run", path, "--out", out, "--requests"))
    assert "trace.csv" in line and "no column 'timestamp'" in line
    assert not out.exists() or list(out.iterdir()) == []


def test_validate_catches_replay_column(workdir):
    path = replay_experiment(workdir, "ts,bytes\n0.5,100\n")
    result = invoke("validate", path)
    assert result.exit_code == EXIT_INVALID_INPUT, result.output


# ---------------------------------------------------------------------------------------------
# --set overrides


@pytest.mark.parametrize("assignment, key, expected", [
    ("endpoints.3.variant_name=x", "endpoints.3.variant_name", "no such key path"),
    ("endpoints.first.variant_name=x", "endpoints.first.variant_name", "no such key path"),
    ("experiment.seed", "experiment.seed", "expected key=value"),
    ("=5", "=5", "expected key=value"),
])
def test_set_bad(assignment, key, expected, workdir):
    path = write(workdir, BASE)
    [problem] = load_problems(path, [assignment])
    assert problem.file == "--set" and problem.key == key and expected in problem.message
    [line] = assert_exit_invalid(invoke("run", path, "--out", workdir / "out", "--set", assignment))
    assert line == f"error: {problem}"
    assert line.startswith(f"error: --set: {key}: ")


def test_set_several_bad_reported_together(workdir):
    path = write(workdir, BASE)
    problems = load_problems(path, ["endpoints.3.variant_name=x", "experiment.seed"])
    assert [(p.file, p.key) for p in problems] == [("--set", "endpoints.3.variant_name"), ("--set", "experiment.seed")]


def test_set_value_invalid_is_reported_on_its_key(workdir):
    path = write(workdir, BASE)
    [problem] = load_problems(path, ["endpoints.0.production_variants.0.initial_instance_count=0"])
    assert problem.key == f"{P}.initial_instance_count"
    assert "greater than or equal to 1" in problem.message and "got 0" in problem.message


def test_set_unknown_key_is_reported(workdir):
    path = write(workdir, BASE)
    [problem] = load_problems(path, ["experiment.sed=7"])
    assert problem.key == "experiment.sed" and "unknown key" in problem.message


def test_set_path_through_a_scalar_api(workdir):
    path = write(workdir, BASE)
    [problem] = load_problems(path, ["experiment.name.x.y=1"])
    assert problem.file == "--set" and problem.key == "experiment.name.x.y"


def test_set_path_through_a_scalar_cli(workdir):
    path = write(workdir, BASE)
    [line] = assert_exit_invalid(invoke("run", path, "--out", workdir / "out", "--set", "experiment.name.x.y=1"))
    assert line.startswith("error: --set: experiment.name.x.y: ")


# ---------------------------------------------------------------------------------------------
# model profile files, checked with `simfleet validate`

TOY = (MODELS / "toy.toml").read_text(encoding="utf-8")
SOURCE_LOAD_TIME = 'load_time = "test input, not a measurement"\n'


def profile(tmp_path: Path, text: str, stem: str = "toy") -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    return write(folder, text, f"{stem}.toml")


def test_good_profile_validates(tmp_path):
    path = profile(tmp_path, TOY)
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok: {path} (profile)"


PROFILE_MODEL_LEVEL = [
    pytest.param(edit(TOY, [(SOURCE_LOAD_TIME, "")]), ("required key is missing",),
                 {"sources": "[sources]", "sources.load_time": "[sources]"}, id="missing-sources-entry"),
    pytest.param(edit(TOY, [('instance = "m5"', 'instance = "c5"')]), ("instance 'c5' appears twice",),
                 {"service[1]": ("[[service]]", 2), "service[1].instance": ('instance = "c5"', 2)},
                 id="repeated-service-instance"),
]


@pytest.mark.parametrize("text, expect, at", PROFILE_MODEL_LEVEL)
def test_profile_model_level_problem_reported(text, expect, at, tmp_path):
    path = profile(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_profile(path)
    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert all(fragment in problem.message for fragment in expect)
    [line] = assert_exit_invalid(invoke("validate", path))
    assert line.startswith(f"error: {path}") and all(fragment in line for fragment in expect)


@pytest.mark.parametrize("text, expect, at", PROFILE_MODEL_LEVEL)
def test_profile_model_level_problem_located(text, expect, at, tmp_path):
    path = profile(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_profile(path)
    [problem] = caught.value.problems
    assert_at(problem, text, at)


@pytest.mark.parametrize("text, stem, at, expect", [
    pytest.param(TOY, "toy2", {"name": 'name = "toy"'}, ("must equal the file name 'toy2'",), id="name-not-stem"),
    pytest.param(edit(TOY, [("max_queue_size = 100", "max_queue_size = 100\nmax_queue = 5")]), "toy",
                 {"max_queue": "max_queue = 5"}, ("unknown key",), id="unknown-key"),
    pytest.param(edit(TOY, [('mean = "10ms"', 'mean = "10"')]), "toy",
                 {"service[0].distribution.mean": ('distribution = { kind = "exponential"', 1),
                  "service[0].distribution": ('distribution = { kind = "exponential"', 1)},
                 ("units:", "'10'"), id="service-time-without-unit"),
    pytest.param(edit(TOY, [("cpu_cores_per_busy_worker = 1.0", "cpu_cores_per_busy_worker = nan")]), "toy",
                 {"cpu_cores_per_busy_worker": "cpu_cores_per_busy_worker = nan"}, ("finite",), id="nan"),
])
def test_profile_problem_via_validate(text, stem, at, expect, tmp_path):
    path = profile(tmp_path, text, stem)
    with pytest.raises(InputError) as caught:
        load_profile(path)
    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert all(fragment in problem.message for fragment in expect), str(problem)
    assert_at(problem, text, at)
    [line] = assert_exit_invalid(invoke("validate", path))
    assert line == f"error: {problem}"


def broken_profile_experiment(tmp_path: Path, variants: int) -> tuple[Path, Path, str]:
    """An experiment whose profile folder holds a toy profile with an unknown key."""
    (tmp_path / "models").mkdir()
    text = edit(TOY, [("max_queue_size = 100", "max_queue_size = 100\nmax_queue = 5")])
    profile_path = write(tmp_path / "models", text, "toy.toml")
    experiment = BASE if variants == 1 else edit(BASE, [("\n[[traffic]]", "\n" + SECOND_VARIANT_A.replace(
        'variant_name = "A"', 'variant_name = "B"'))])
    return write(tmp_path, experiment), profile_path, text


def test_broken_profile_reported_from_experiment(tmp_path):
    path, profile_path, text = broken_profile_experiment(tmp_path, 1)
    problems = load_problems(path)
    assert len(problems) == 1
    assert problems[0].file == str(profile_path)
    assert_at(problems[0], text, {"max_queue": "max_queue = 5"})


def test_broken_profile_reported_once(tmp_path):
    path, profile_path, _ = broken_profile_experiment(tmp_path, 2)
    problems = load_problems(path)
    assert len(problems) == 1, "\n".join(map(str, problems))


# ---------------------------------------------------------------------------------------------
# a failed run leaves nothing half-written


def test_failed_run_late_leaves_no_partial_files(workdir, monkeypatch):
    """A run that fails after the request trace has streamed rows leaves no run directory: its files
    were in the temporary directory beside it, which is removed."""
    path = write(workdir, BASE)
    out = workdir / "out"
    before = set(workdir.iterdir())
    real = run_directory.simulate
    seen_partial = []

    def failing(scenario, requests_sink=None, **kwargs):
        real(scenario, requests_sink=requests_sink, **kwargs)
        requests_sink.flush()  # a row group is now in the temporary requests file
        [staging] = [p for p in workdir.iterdir() if p.name.startswith(".out.simfleet-new-")]
        seen_partial.extend(p.name for p in staging.iterdir())
        raise InputError.single(workdir / "trace.csv", "simulated late failure")

    monkeypatch.setattr(run_directory, "simulate", failing)
    [line] = assert_exit_invalid(invoke("run", path, "--out", out, "--requests"))
    assert line.endswith("simulated late failure")
    assert seen_partial and all(name.startswith(".tmp-") for name in seen_partial), seen_partial
    assert set(workdir.iterdir()) == before


def test_failed_run_keeps_no_metrics_from_invalid_input(workdir):
    path = write(workdir, edit(BASE, [("rate = 50", "rate = -5")]))
    out = workdir / "out"
    out.mkdir()
    assert_exit_invalid(invoke("run", path, "--out", out, "--requests"))
    assert list(out.iterdir()) == []


def test_set_problems_are_reported_against_set(workdir):
    """A bad value or unknown key given with --set names --set, not a line of the file."""
    path = write(workdir, BASE)
    result = invoke("run", path, "--set", "experiment.sed=7", "--set",
                    "endpoints.0.production_variants.0.initial_instance_count=0", "--out", workdir / "out")
    lines = assert_exit_invalid(result)
    assert sorted(lines) == sorted([
        "error: --set: experiment.sed: unknown key (check its spelling and the documented keys)",
        "error: --set: endpoints[0].production_variants[0].initial_instance_count: "
        "Input should be greater than or equal to 1, got 0",
    ])
