"""The `simfleet` command line (DESIGN §5): run, validate, catalog, help and usage errors.

Runs are short (2 minutes of simulated time at 50 requests/s, 60 s periods) so each takes well
under a second once numba has compiled the kernels (the first run in a process pays that).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE
from input_problems import invoke
from small_experiments import MODELS

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
RUN_FILES = {"metrics.parquet", "metric_values.parquet", "events.parquet", "summary.json", "manifest.json"}
SHIPPED_FAMILIES = ("c5", "c6i", "m5", "r5", "g4dn", "g5", "g6", "p3", "p4d", "inf2")

EXPERIMENT = """\
[experiment]
name = "cli-test"
start_time = 2026-01-05T09:00:00Z
duration = "2min"
seed = 11
model_paths = ["models"]

[metrics]
percentiles = [99.9, 50, 90, 99]

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

METRICS_COLUMNS = [
    "timestamp", "period_s", "namespace", "metric_name", "unit",
    "EndpointName", "VariantName", "ContainerName", "InstanceId", "InferenceComponentName", "ContainerId",
    "AcceleratorId", "JobName", "sample_count", "sum", "minimum", "maximum", "average",
    "p50", "p90", "p99", "p99_9",
]


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    path = tmp_path / "experiment.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def run_ok(experiment: Path, out: Path, *args):
    result = invoke("run", experiment, "--out", out, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# run: the run directory


def test_run_writes_the_run_directory(experiment, tmp_path):
    out = tmp_path / "out"
    result = run_ok(experiment, out)
    assert files_in(out) == RUN_FILES  # no requests.parquet unless asked, no temporary leftovers
    assert str(out) in result.stdout
    assert "ep/A" in result.stdout
    for name in ("metrics.parquet", "events.parquet"):
        assert pq.read_table(out / name).num_rows > 0
    assert summary(out)["duration_s"] == 120


def test_run_with_requests_writes_one_row_per_request(experiment, tmp_path):
    out = tmp_path / "out"
    run_ok(experiment, out, "--requests")
    assert files_in(out) == RUN_FILES | {"requests.parquet"}
    requests = pq.read_table(out / "requests.parquet")
    assert requests.num_rows == summary(out)["requests"] > 0
    arrivals = requests.column("arrival_at_s").to_pylist()
    assert min(arrivals) >= 0 and max(arrivals) < 120


def test_requests_columns_say_instant_or_duration(experiment, tmp_path):
    """`*_at_s` instants (seconds from the run's start), other `*_s` durations; each field's metadata agrees."""
    out = tmp_path / "out"
    run_ok(experiment, out, "--requests")
    schema = pq.read_schema(out / "requests.parquet")
    kinds = {field.name: (field.metadata or {}).get(b"kind", b"").decode() for field in schema}
    assert all(kinds.values()), [name for name, kind in kinds.items() if not kind]
    for name, kind in kinds.items():
        if name.endswith("_at_s") or name == "timestamp":
            assert kind == "instant", name
        elif name.endswith("_s"):
            assert kind == "duration", name
        if name.endswith("_s"):
            assert schema.field(name).metadata[b"unit"] == b"s", name
    table = pq.read_table(out / "requests.parquet").to_pydict()
    for arrival, start, response, complete, wait in zip(table["arrival_at_s"], table["start_at_s"],
                                                        table["response_at_s"], table["complete_at_s"],
                                                        table["queue_wait_s"]):
        assert arrival <= start <= complete <= response and wait == pytest.approx(start - arrival, abs=1e-9)


def test_every_parquet_file_carries_provenance_and_dictionary_strings(experiment, tmp_path):
    out = tmp_path / "out"
    run_ok(experiment, out, "--requests", "--seed", "11")
    made = manifest(out)
    for name in ("metrics.parquet", "metric_values.parquet", "events.parquet", "requests.parquet"):
        schema = pq.read_schema(out / name)
        meta = schema.metadata
        assert meta[b"simfleet.version"].decode() == made["simfleet_version"], name
        assert meta[b"simfleet.config_hash"].decode() == made["config_hash"], name
        assert meta[b"simfleet.seed"] == b"11", name
        for column in ("namespace", "metric_name", "unit", "EndpointName", "VariantName", "InstanceId", "event",
                       "status", "environment"):
            if column in schema.names:
                assert pa.types.is_dictionary(schema.field(column).type), (name, column)
        for column in ("detail", "time_s", "sum"):
            if column in schema.names:
                assert not pa.types.is_dictionary(schema.field(column).type), (name, column)
    assert made["seed"] == 11


def test_run_table_says_what_each_number_is(experiment, tmp_path):
    lines = run_ok(experiment, tmp_path / "out").stdout.splitlines()
    header = next(line for line in lines if line.startswith("endpoint/variant"))
    assert header.split()[1:] == ["mean", "inst", "peak", "inst", "req/s", "err", "%", "p50", "ms", "p99", "ms",
                                  "$/hour", "run", "cost", "$"]
    notes = lines[lines.index(header) + 1 + len(summary(tmp_path / "out")["variants"]):]
    assert any("end-to-end latency" in line for line in notes) and any("mean, peak inst" in line for line in notes)
    assert all(len(line) <= 100 for line in lines[lines.index(header):]), lines


def test_run_quiet_prints_nothing(experiment, tmp_path):
    result = run_ok(experiment, tmp_path / "out", "--quiet")
    assert result.stdout == "" and result.stderr == ""
    assert files_in(tmp_path / "out") == RUN_FILES


def test_run_json_is_the_summary_on_stdout_and_nothing_else(experiment, tmp_path):
    out = tmp_path / "out"
    result = run_ok(experiment, out, "--json")
    printed = json.loads(result.stdout)   # stdout holds exactly one JSON document
    assert set(printed) == {"run_dir", "wall_s", "report", "summary"}
    assert printed["run_dir"] == str(out) and printed["report"] is None and printed["wall_s"] > 0
    assert printed["summary"] == summary(out)
    assert result.stderr == ""            # not a terminal: no progress line
    assert json.loads(run_ok(experiment, tmp_path / "quiet", "--json", "--quiet").stdout)["summary"] == summary(out)


def test_the_progress_display_does_not_change_the_run(experiment, tmp_path):
    """On a terminal the progress line reads every request batch (beside the request trace); the run
    directory is byte for byte the one written without it."""
    import io

    from simfleet.outputs.run_directory import run_to_directory
    from simfleet.outputs.run_progress import RunProgress
    from simfleet.scenario import load_experiment

    scenario = load_experiment(experiment)
    stream = io.StringIO()
    progress = RunProgress(scenario.experiment.experiment.duration, stream, tty=True, interval_s=0.0)
    run_to_directory(scenario, tmp_path / "with", requests=True, on_requests=progress.add)
    run_to_directory(scenario, tmp_path / "without", requests=True)
    assert progress.requests == summary(tmp_path / "with")["requests"]
    assert "requests, wall" in stream.getvalue()
    for name in RUN_FILES | {"requests.parquet"}:
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes(), name


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_run_shows_its_progress_when_stderr_is_a_terminal(experiment, tmp_path):
    """A real process whose stderr is a pseudo-terminal: the progress line is drawn there and erased at
    the end; stdout (a pipe) still gets the run table."""
    import pty

    main, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "simfleet", "run", str(experiment), "--out", str(tmp_path / "o")],
                               stdout=subprocess.PIPE, stderr=terminal, cwd=tmp_path)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:   # the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    stdout = process.communicate(timeout=300)[0].decode()
    os.close(main)
    assert process.returncode == 0, shown
    assert b"simulated 0:0" in shown and b" of 0:02:00 (" in shown and b"requests, wall" in shown, shown
    assert shown.endswith(b"\r\x1b[2K"), shown   # erased before the table
    assert stdout.startswith("simulated ") and "endpoint/variant" in stdout


def test_run_table_fits_100_columns_with_30_character_names():
    from simfleet.cli import run_table

    variant = {"EndpointName": "classify-serverless", "VariantName": "AllTraffic", "mean_instances_in_service": 1.0,
               "peak_instances_in_service": 1, "throughput_per_s": 1234.5, "error_rate": 0.0028,
               "latency_s": {"p50": 0.4365, "p99": 21.6272}, "cost_per_hour": 12.5, "cost": 25.0}
    serverless = {**variant, "serverless": {}}
    lines = run_table({"duration_s": 86400.0, "variants": [serverless, {**variant, "EndpointName": "classify-realtime"}]})
    assert max(map(len, lines)) <= 100, lines
    assert lines[1].split()[1:] == ["-", "-", "1234.5", "0.28", "436.5", "21627.2", "12.5000", "25.0000"]
    assert lines[2].split()[1:3] == ["1.00", "1"]
    assert "(-: serverless)" in lines[3]


def test_requests_key_in_file_and_no_requests_flag(experiment, tmp_path):
    experiment.write_text(EXPERIMENT + "\n[output]\nrequests = true\n", encoding="utf-8")
    asked = tmp_path / "asked"
    run_ok(experiment, asked)
    assert "requests.parquet" in files_in(asked)
    refused = tmp_path / "refused"
    run_ok(experiment, refused, "--no-requests")
    assert files_in(refused) == RUN_FILES


def test_run_default_directory_is_runs_slash_name(experiment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", experiment)
    assert result.exit_code == 0, result.output
    assert files_in(tmp_path / "runs" / "cli-test") == RUN_FILES


def test_metrics_columns_follow_the_contract(experiment, tmp_path):
    out = tmp_path / "out"
    run_ok(experiment, out)
    schema = pq.read_schema(out / "metrics.parquet")
    assert schema.names == METRICS_COLUMNS
    for name in ("EndpointName", "VariantName", "ContainerName", "InstanceId", "InferenceComponentName",
                 "ContainerId", "AcceleratorId", "JobName"):
        assert schema.field(name).type == pa.dictionary(pa.int32(), pa.string()) and schema.field(name).nullable
    for name in ("sum", "minimum", "maximum", "average", "p50", "p90", "p99", "p99_9"):
        assert schema.field(name).type == pa.float64()


def test_timestamps_are_utc_period_starts(experiment, tmp_path):
    out = tmp_path / "out"
    run_ok(experiment, out)
    table = pq.read_table(out / "metrics.parquet")
    kind = table.schema.field("timestamp").type
    assert pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00")
    stamps = table.column("timestamp").to_pylist()
    assert all(t.utcoffset() == dt.timedelta(0) for t in stamps)
    # 2 minutes at 50 requests/s: both 60 s periods have datapoints, each stamped with its start;
    # ConcurrentRequestsPerModel is high resolution: twelve 10 s periods.
    invocations = table.filter(pc.equal(table.column("metric_name"), "Invocations"))
    assert set(invocations.column("timestamp").to_pylist()) == {START, START + dt.timedelta(seconds=60)}
    assert set(invocations.column("period_s").to_pylist()) == {60}
    concurrency = table.filter(pc.equal(table.column("metric_name"), "ConcurrentRequestsPerModel"))
    assert set(concurrency.column("timestamp").to_pylist()) == {START + dt.timedelta(seconds=s) for s in range(0, 120, 10)}
    assert set(table.column("EndpointName").to_pylist()) == {"ep"}


def test_period_and_duration_set_the_timestamps(experiment, tmp_path):
    out = tmp_path / "out"
    frequency = "endpoints.0.metrics_config.metric_publish_frequency_in_seconds"
    run_ok(experiment, out, "--set", f"{frequency}=30", "--set", "endpoints.0.metrics_config.enable_enhanced_metrics=true",
           "--set", "experiment.duration=90s")
    table = pq.read_table(out / "metrics.parquet")
    invocations = table.filter(pc.equal(table.column("metric_name"), "Invocations"))
    assert set(invocations.column("timestamp").to_pylist()) == {START + dt.timedelta(seconds=s) for s in (0, 30, 60)}
    assert set(invocations.column("period_s").to_pylist()) == {30}


def test_seed_changes_the_manifest_and_the_results(experiment, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_ok(experiment, a, "--seed", "7")
    run_ok(experiment, b, "--seed", "8")
    for out, seed in ((a, 7), (b, 8)):
        assert manifest(out)["seed"] == seed
        assert manifest(out)["resolved"]["experiment"]["experiment"]["seed"] == seed
    assert manifest(a)["config_hash"] != manifest(b)["config_hash"]
    latency = []
    for out in (a, b):
        table = pq.read_table(out / "metrics.parquet").to_pandas()
        latency.append(table.loc[table.metric_name == "ModelLatency", "sum"].tolist())
    assert latency[0] != latency[1]
    assert (a / "metrics.parquet").read_bytes() != (b / "metrics.parquet").read_bytes()


def test_seed_from_the_file_when_not_given(experiment, tmp_path):
    out = tmp_path / "out"
    run_ok(experiment, out)
    assert manifest(out)["seed"] == 11
    assert manifest(out)["resolved"]["experiment"]["experiment"]["seed"] == 11


def test_set_changes_the_resolved_experiment_and_the_fleet(experiment, tmp_path):
    plain, more = tmp_path / "plain", tmp_path / "more"
    key = "endpoints.0.production_variants.0.initial_instance_count"
    run_ok(experiment, plain)
    run_ok(experiment, more, "--set", f"{key}=3", "--set", "traffic.0.rate=20")
    for out, count, rate in ((plain, 2, 50), (more, 3, 20)):
        resolved = manifest(out)["resolved"]["experiment"]
        assert resolved["endpoints"][0]["production_variants"][0]["initial_instance_count"] == count
        assert resolved["traffic"][0]["rate"] == rate
        assert summary(out)["variants"][0]["instance_count"] == count
        events = pq.read_table(out / "events.parquet").to_pandas()
        assert (events.event == "InstanceInService").sum() == count
    # 120 s at 20/s is about 2400 requests (sd ~ 50), at 50/s about 6000
    assert 2000 < summary(more)["requests"] < 2800
    assert 5500 < summary(plain)["requests"] < 6500
    assert experiment.read_text(encoding="utf-8") == EXPERIMENT  # --set never edits the file


def test_same_seed_gives_byte_identical_outputs(experiment, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    run_ok(experiment, first, "--seed", "5", "--requests")
    run_ok(experiment, second, "--seed", "5", "--requests")
    assert files_in(first) == files_in(second) == RUN_FILES | {"requests.parquet"}
    for name in sorted(RUN_FILES | {"requests.parquet"}):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_subprocess_python_m_simfleet_matches_in_process_run(experiment, tmp_path):
    """A real process (fresh hash seed, own numba state) gives the same bytes as an in-process run."""
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    run_ok(experiment, inside, "--seed", "3")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run([sys.executable, "-m", "simfleet", "run", str(experiment), "--out", str(outside),
                           "--seed", "3"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "simulated" in done.stdout
    assert files_in(outside) == RUN_FILES
    for name in sorted(RUN_FILES):
        assert (inside / name).read_bytes() == (outside / name).read_bytes(), name


# ---------------------------------------------------------------------------------------------
# validate


def test_validate_prints_ok_for_good_files(experiment):
    profile = experiment.parent / "models" / "toy.toml"
    result = invoke("validate", experiment, profile)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"ok: {experiment} (experiment)", f"ok: {profile} (profile)"]
    assert result.stderr == ""


def test_validate_reports_every_bad_file_at_once(experiment, tmp_path):
    negative = tmp_path / "negative.toml"
    negative.write_text(EXPERIMENT.replace("rate = 50", "rate = -5"), encoding="utf-8")
    no_entry = tmp_path / "no_entry.toml"
    no_entry.write_text(EXPERIMENT.replace("ml.c5.xlarge", "ml.r5.large"), encoding="utf-8")
    misnamed = tmp_path / "misnamed.toml"
    misnamed.write_text((MODELS / "toy.toml").read_text(encoding="utf-8"), encoding="utf-8")
    missing = tmp_path / "missing.toml"

    result = invoke("validate", negative, experiment, no_entry, misnamed, missing)
    assert result.exit_code == EXIT_INVALID_INPUT, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout.splitlines() == [f"ok: {experiment} (experiment)"]
    errors = result.stderr.splitlines()
    # one line per problem, in the order of the files, each located (lines counted in EXPERIMENT)
    rate_line = EXPERIMENT.splitlines().index("rate = 50") + 1
    instance_line = EXPERIMENT.splitlines().index('instance_type = "ml.c5.xlarge"') + 1
    expected = [
        (f"error: {negative}:{rate_line}: traffic[0].rate: ", "non-negative"),
        (f"error: {no_entry}:{instance_line}: endpoints[0].production_variants[0].instance_type: ", "no service entry"),
        (f"error: {misnamed}:2: name: ", "'misnamed'"),
        (f"error: {missing}: ", "no such file"),
    ]
    assert len(errors) == len(expected), result.stderr
    for line, (prefix, fragment) in zip(errors, expected):
        assert line.startswith(prefix) and fragment in line, line
    assert "Traceback" not in result.output


def test_validate_needs_a_file():
    result = invoke("validate")
    assert result.exit_code == EXIT_USAGE


# ---------------------------------------------------------------------------------------------
# catalog


def catalog_rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in output.splitlines() if line.startswith("ml.")}


def test_catalog_lists_the_shipped_families():
    result = invoke("catalog")
    assert result.exit_code == 0, result.output
    rows = catalog_rows(result.stdout)
    families = {name.split(".")[1] for name in rows}
    assert families >= set(SHIPPED_FAMILIES)
    # ml.g5.xlarge: 4 vCPUs, 16 GiB, one NVIDIA A10G with 24 GiB (AWS instance specifications)
    g5 = rows["ml.g5.xlarge"]
    assert g5[1:3] == ["4", "16"]
    assert "A10G" in " ".join(g5) and "24 GiB" in " ".join(g5)
    assert rows["ml.c5.large"][1:3] == ["2", "4"]


def test_catalog_family_filter():
    result = invoke("catalog", "--family", "g5")
    assert result.exit_code == 0, result.output
    rows = catalog_rows(result.stdout)
    sizes = {"xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"}
    assert set(rows) == {f"ml.g5.{size}" for size in sizes}


# ---------------------------------------------------------------------------------------------
# help and usage errors


@pytest.mark.parametrize("command, expected", [
    ([], ["run", "validate", "catalog"]),
    (["run"], ["experiment", "--out", "--seed", "--set", "--requests", "--no-requests", "--quiet", "--json"]),
    (["validate"], ["files", "experiment", "model profile", "sweep", "recommender job", "autoscaling", "trace",
                    "--kind", "experiment|profile|sweep|job|autoscaling|endpoint_config|model|queries|calibration_source|trace",
                        "calibration source", "--model"]),
    (["recommend"], ["--cost", "--latency", "--throughput", "lowest|low|moderate|high|highest",
                     "--cost-metric", "costperhour|costperinference", "--quiet", "--json"]),
    (["sweep"], ["--executor", "local|dask", "--quiet", "--json"]),
    (["catalog"], ["--family"]),
])
def test_help(command, expected):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
    for word in expected:
        assert word in result.stdout.lower(), word


@pytest.mark.parametrize("args", [
    ["bogus"],
    ["run", "--bogus", "x.toml"],
    ["validate", "--bogus", "x.toml"],
    ["catalog", "--bogus"],
    ["run"],
    ["run", "x.toml", "--seed", "abc"],
    ["catalog", "--family"],
])
def test_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing was run


def test_invalid_input_is_not_a_usage_error(experiment, tmp_path):
    """A negative --seed is a well-formed option with an invalid value: exit 3, naming the key."""
    result = invoke("run", experiment, "--out", tmp_path / "out", "--seed", "-1")
    assert result.exit_code == EXIT_INVALID_INPUT, result.output
    assert "experiment.seed" in result.stderr and "greater than or equal to 0" in result.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# the conventions of a command line: version, completion, exit codes, choices, fast startup

REPO = Path(__file__).resolve().parents[1]


def pyproject_version() -> str:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_version_is_the_package_version():
    result = invoke("--version")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"simfleet {pyproject_version()}"
    import simfleet

    assert simfleet.__version__ == pyproject_version()


def test_top_level_help_lists_exit_codes_and_completion():
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    for fragment in ("--version", "--install-completion", "--show-completion", "Exit codes: 0 success",
                     "1 a sweep or recommender job ran but failed", "2 usage error", "3 invalid input"):
        assert fragment in text, fragment
    assert f"{EXIT_USAGE} usage error" in text and f"{EXIT_INVALID_INPUT} invalid input" in text


def test_shell_completion_is_switched_on():
    """typer's completion, under the command's name, completes commands and option choices."""
    done = subprocess.run([sys.executable, "-m", "simfleet", "--show-completion", "bash"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "_SIMFLEET_COMPLETE=complete_bash" in done.stdout and "complete -o default" in done.stdout
    for words, expected in (("simfleet va", {"validate"}),
                            ("simfleet recommend job.json --cost ", {"lowest", "low", "moderate", "high", "highest"})):
        current = len(words.split()) - (0 if words.endswith(" ") else 1)  # index of the word being completed
        env = dict(os.environ, _SIMFLEET_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(current))
        done = subprocess.run([sys.executable, "-m", "simfleet"], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120)
        assert set(done.stdout.split()) == expected, (words, done.stdout, done.stderr)


@pytest.mark.parametrize("args, option", [
    (["recommend", "job.json", "--cost", "urgent"], "--cost"),
    (["recommend", "job.json", "--cost-metric", "CostPerDay"], "--cost-metric"),
    (["sweep", "s.toml", "--out", "x", "--executor", "ray"], "--executor"),
    (["validate", "x.toml", "--kind", "yaml"], "--kind"),
])
def test_a_value_outside_the_choices_is_a_one_line_usage_error(args, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert option in line and "is not one of" in line, line
    assert "╭" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_choices_follow_their_sources():
    """The CLI's enumerations list exactly what the code they feed accepts."""
    from simfleet.cli import InputKindName
    from simfleet.input_kinds import KINDS
    from simfleet.recommender.cli import CostMetric, ImportanceLevel
    from simfleet.recommender.ranking import COST_METRICS, Importance
    from simfleet.sweep.cli import ExecutorKind
    from simfleet.sweep.executors import make_executor

    assert [k.value for k in InputKindName] == list(KINDS)
    assert [k.value for k in ImportanceLevel] == [level.name.lower() for level in Importance]
    assert tuple(k.value for k in CostMetric) == COST_METRICS
    assert {k.value for k in ExecutorKind} == {"local", "dask"} and callable(make_executor)


HEAVY = ("numba", "pandas", "simfleet.engine", "simfleet.query.store")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["validate", "experiments/quickstart.toml"],
                                  ["validate", "models/xgboost-tabular.toml", "experiments/sweep-quickstart.toml",
                                   "experiments/recommend-xgboost.toml"]])
def test_commands_that_do_not_simulate_import_no_engine(args):
    """`simfleet --help`, `--version` and `validate` start fast: numba (~0.3 s to import), pandas and the
    engine are imported only by the commands that simulate or query."""
    code = ("import sys\nsys.argv = ['simfleet', *sys.argv[1:]]\nfrom simfleet.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            f"print('loaded:', sorted(m for m in sys.modules if m.startswith({HEAVY!r})))\n"
            "print('exit:', code)")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "exit: 0" in done.stdout, (done.stdout, done.stderr)
    assert "loaded: []" in done.stdout, done.stdout


def test_a_simulating_command_does_import_the_engine():
    """The check above can fail: `simfleet run` loads numba."""
    code = ("import sys\nfrom simfleet.cli import run\nimport simfleet.engine.simulation\n"
            "print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr
