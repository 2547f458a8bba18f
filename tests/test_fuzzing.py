"""Fuzzing every input kind through the command line (`tests/fuzzing`): the short campaign.

Each case is a shipped input of one kind, mutated (keys deleted, types swapped, extreme numbers,
unicode, deep nesting, duplicated lines, truncation…), run through `simfleet validate` and the
command that reads it (`run` of a one-minute experiment, `sweep`, `recommend`, `metrics …
get-metric-data`). The only allowed outcomes: success, or one-line `error:` messages with exit
code 3 (1 for a sweep or job that ran and failed) and nothing written; `validate` and the command
agreeing. Hypothesis draws the mutations (and shrinks a failing case to its smallest form). The
long campaign is `python tests/fuzzing --minutes 60`; every finding it made is a regression case
below, small and written inline.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing.cases import EXPERIMENTS, KINDS, Case, make_case
from fuzzing.documents import to_json, to_toml
from fuzzing.harness import ESTIMATE_ALLOWANCE, Finding, execute, invoke, query_run
from fuzzing.mutations import Deep, HypothesisChooser, RandomChooser, Unmutated
from fuzzing.worker import Worker
from simfleet.input_files import MAX_NESTING
from simfleet.input_kinds import KINDS as VALIDATE_KINDS
from simfleet.run_limits import REQUESTS_PER_WALL_S, RUN_OVERHEAD_S

#: Findings of a kind no longer pending (booleans as numbers are refused by the schema).
PENDING: set[str] = set()

_FOLDERS = iter(range(10**9))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def run_dir(scratch) -> Path:
    return query_run(scratch)


def run_case(case: Case, scratch: Path, run_dir: Path | None = None, timeout: float = 60) -> list[Finding]:
    folder = scratch / f"case-{next(_FOLDERS)}"
    folder.mkdir()
    return [f for f in execute(case, folder, timeout, run_dir) if f.category not in PENDING]


def test_the_fuzzer_covers_every_kind_validate_knows():
    assert set(KINDS) == set(VALIDATE_KINDS)


class _Index(Unmutated):
    """Unmutated, picking the `index`-th seed file of a kind."""

    def __init__(self, index: int):
        self.index, self.first = index, True

    def integer(self, low: int, high: int) -> int:
        if self.first:
            self.first = False
            return min(low + self.index, high)
        return low


def _seeds():
    for kind in KINDS:
        names, index = set(), 0
        while True:
            case = make_case(kind, _Index(index))
            name = case.validate[0]
            if name in names:
                break
            names.add(name)
            yield pytest.param(kind, index, id=f"{kind}-{name}")
            index += 1


@pytest.mark.parametrize("kind, index", list(_seeds()))
def test_every_seed_runs_clean_unmutated(kind, index, scratch, run_dir):
    """A mutation's failure means something only if the file it mutated succeeds as shipped."""
    case = make_case(kind, _Index(index))
    assert not case.mutations
    folder = scratch / f"seed-{kind}-{index}"
    folder.mkdir()
    assert execute(case, folder, 120, run_dir) == []
    if case.command and case.command[0] in ("run", "sweep", "recommend"):
        assert (folder / "out").is_dir(), "the unmutated command ran and wrote its output"


# --- the short campaign: a few mutated cases of every kind, through validate and the command ------

@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=6, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_inputs_run_or_fail_on_one_line(kind, data, scratch, run_dir):
    case = make_case(kind, HypothesisChooser(data, bounded=True))
    findings = run_case(case, scratch, run_dir, timeout=30)
    assert not findings, f"{case.describe()}: " + "; ".join(f"{f.category}: {f.detail}" for f in findings)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(sorted(KINDS)))
def test_mutated_inputs_validate_or_fail_on_one_line(data, kind, scratch):
    """`validate` alone on many more cases (it is cheap): never a traceback, an unescaped line break,
    a file written, or certain nonsense accepted."""
    case = make_case(kind, HypothesisChooser(data))
    case.command = None
    findings = run_case(case, scratch)
    assert not findings, f"{case.describe()}: " + "; ".join(f"{f.category}: {f.detail}" for f in findings)


#: Top-level keys of each kind (what `simfleet validate` recognises it by, and what it holds), for
#: documents hypothesis builds from nothing.
TOP_KEYS = {
    "experiment": ("experiment", "metrics", "endpoints", "traffic", "autoscaling", "catalog", "instances",
                   "model_profiles", "output", "inference_components"),
    "profile": ("service", "name", "description", "artifact_size", "load_time", "memory_per_worker", "sources"),
    "sweep": ("sweep", "axes"),
    "job": ("JobName", "JobType", "RoleArn", "InputConfig", "StoppingConditions", "OutputConfig", "simfleet"),
    "autoscaling": ("targets", "policies", "scheduled_actions", "alarms"),
    "endpoint_config": ("EndpointConfigName", "ProductionVariants", "MetricsConfig", "Tags"),
    "model": ("ModelName", "PrimaryContainer", "Containers", "InferenceExecutionConfig"),
}


def _documents(json: bool):
    import datetime as dt

    scalars = (st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
               | st.sampled_from(["1min", "2 KB", "100/s", "ml.c5.xlarge", "poisson", "xgboost-tabular", "P95"]))
    scalars = scalars | (st.none() if json else st.datetimes(timezones=st.just(dt.UTC)))
    keys = st.text(max_size=10) | st.sampled_from(["name", "kind", "rate", "duration", "variant_name", "Id"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                        max_leaves=12)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), kind=st.sampled_from(sorted(TOP_KEYS) + ["queries"]))
def test_generated_documents_validate_or_fail_on_one_line(data, kind, scratch):
    """Documents built from nothing but their kind's top-level keys: `validate --kind` on them."""
    as_json = kind not in ("experiment", "profile", "sweep") and (kind != "job" or data.draw(st.booleans()))
    values = _documents(as_json)
    if kind == "queries":
        document = data.draw(st.lists(st.dictionaries(st.sampled_from(["Id", "MetricStat", "Expression", "Label",
                                                                        "ReturnData", "Period"]), values), max_size=3))
    else:
        names = TOP_KEYS[kind]
        document = {names[0]: data.draw(values)}
        document.update(data.draw(st.dictionaries(st.sampled_from(names), values, max_size=len(names))))
    name = f"doc.{'json' if as_json else 'toml'}"
    case = Case(kind, {name: to_json(document) if as_json else to_toml(document)}, [name],
                validate_args=["--kind", kind])
    findings = run_case(case, scratch)
    assert not findings, f"{case.files[name][:300]!r}: " + "; ".join(f"{f.category}: {f.detail}" for f in findings)


def test_the_judge_catches_what_it_must(scratch, monkeypatch):
    """The harness is not vacuous: a traceback, a hang, a multi-line error and a refused run that
    leaves a folder behind are each a finding."""
    from simfleet import input_kinds
    from simfleet.errors import InputError, Problem

    case = make_case("experiment", _Index(0))
    case.command = None

    def boom(*args, **kwargs):
        raise ZeroDivisionError("inside validation")

    monkeypatch.setattr(input_kinds, "check_file", boom)
    assert [f.category for f in run_case(case, scratch)] == ["traceback"]

    def slow(*args, **kwargs):
        import time
        time.sleep(5)

    monkeypatch.setattr(input_kinds, "check_file", slow)
    assert [f.category for f in run_case(case, scratch, timeout=0.5)] == ["hang"]

    def two_lines(path, *args):
        raise InputError([Problem(str(path), "", "first\nsecond")])

    monkeypatch.setattr(input_kinds, "check_file", two_lines)
    monkeypatch.setattr(Problem, "__str__", lambda self: f"{self.file}: {self.message}")
    assert [f.category for f in run_case(case, scratch)] == ["not one line"]
    monkeypatch.undo()

    def leaves_a_file(path, *args):
        (Path(path).parent / "half-written").write_text("")
        raise InputError([Problem(str(path), "", "refused")])

    monkeypatch.setattr(input_kinds, "check_file", leaves_a_file)
    assert [f.category for f in run_case(case, scratch)] == ["written on failure"]


def test_the_long_campaign_kills_a_hung_case_and_goes_on(scratch):
    """The worker subprocess of `python tests/fuzzing`: a case past its time is a "hang" finding
    (the worker killed), and the next case runs in a fresh worker. The time limit is shorter than
    the worker's start, so that any case overruns it."""
    slow = make_case("experiment", _Index(0))
    worker = Worker(scratch, timeout=0.05)
    try:
        (scratch / "slow").mkdir()
        assert [f.category for f in worker.run(slow, scratch / "slow")] == ["hang"]
        worker.stop()
        worker.timeout = 120
        (scratch / "next").mkdir()
        assert worker.run(make_case("model", RandomChooser(0)), scratch / "next") is not None
    finally:
        worker.stop()


def _busy_quickstart(per_second: int) -> Case:
    """The one-minute quickstart at `per_second` requests a second: per_second x 60 requests."""
    text = QUICKSTART.replace('rate = "18000/min"', f"rate = {per_second}")
    assert text != QUICKSTART
    return experiment_case(text)


def test_a_long_run_is_given_time_by_its_own_estimate_not_called_a_hang(scratch):
    """15 M requests take seconds; with a limit of 3 s and no allowance the alarm calls the run a
    hang. The program's estimate (15 M at 1.5 M requests per wall second: 10 s) buys it 3 x 10 s."""
    asked = []
    case = _busy_quickstart(250_000)
    folder = scratch / f"busy-{next(_FOLDERS)}"
    folder.mkdir()
    assert execute(case, folder, 3, allow=lambda extra: asked.append(extra) or True) == []
    assert asked == [pytest.approx(ESTIMATE_ALLOWANCE * 15e6 / REQUESTS_PER_WALL_S, rel=0.01)]
    assert (folder / "out" / "summary.json").is_file()
    folder = scratch / f"busy-{next(_FOLDERS)}"
    folder.mkdir()
    assert [f.category for f in execute(case, folder, 3)] == ["hang"]


def test_a_command_estimated_past_the_longest_is_left_out_and_counted(scratch):
    """`--longest`: the worker leaves out a command whose estimate would take it past the limit
    (its `validate` still runs), says so, and runs the next case's command."""
    worker = Worker(scratch, timeout=120, longest=125)
    try:
        (scratch / "long").mkdir()   # 3 M requests: 2 s estimated, 6 s asked for, more than 125 - 120
        assert worker.run(_busy_quickstart(50_000), scratch / "long") == []
        assert worker.skipped and not (scratch / "long" / "out").exists()
        (scratch / "short").mkdir()  # 18,000 requests: 0.04 s asked for
        assert worker.run(_busy_quickstart(300), scratch / "short") == []
        assert not worker.skipped and (scratch / "short" / "out" / "summary.json").is_file()
    finally:
        worker.stop()



def test_a_sweep_of_many_replicates_is_given_time_for_every_run(scratch):
    """Finding of the campaign of seed 20261211: `sweep.replicates` fuzzed to 1,024 made the serverless
    sweep 8 points x 1,024 short runs, minutes in all, and the campaign called it a hang: the allowance
    counted each point's estimate once. It now counts the sweep's own estimate (every run, and
    `RUN_OVERHEAD_S` each), which `validate` also warns of."""
    name = "sweep-serverless.toml"
    case = next(c for c in (make_case("sweep", _Index(i)) for i in range(20)) if name in c.files)
    document = tomllib.loads(case.files[name])
    document["sweep"]["replicates"] = 1024
    case.files[name] = to_toml(document)
    asked = []
    folder = scratch / f"replicates-{next(_FOLDERS)}"
    folder.mkdir()
    assert execute(case, folder, 60, allow=lambda extra: asked.append(extra) or False) == []
    assert asked and asked[0] >= ESTIMATE_ALLOWANCE * 8 * 1024 * RUN_OVERHEAD_S
    assert not (folder / "out").exists()
    validated = invoke(["validate", str(folder / name)], 60)
    assert validated.exit_code == 0 and "a long sweep: 8,192 runs" in validated.stderr


# --- regressions: every finding of the long campaign, minimised ------------------------------------

QUICKSTART = (EXPERIMENTS / "quickstart.toml").read_text().replace('duration = "1h"', 'duration = "1min"')
FROM_REQUESTS = (EXPERIMENTS / "from-endpoint-config.toml").read_text()
TRACE_HEADER = "timestamp,payload_bytes\n"
TRACE_ROWS = "".join(f"2026-03-02T12:00:{s:02d}Z,1000\n" for s in range(10))


def replay_experiment(**traffic) -> str:
    """A one-minute experiment replaying `trace.csv` (payload sizes from its payload_bytes column)."""
    document = {
        "experiment": {"name": "replay", "start_time": "START", "duration": "1min", "seed": 1},
        "endpoints": [{"endpoint_name": "ep", "production_variants": [
            {"variant_name": "A", "model_name": "xgboost-tabular", "instance_type": "ml.c5.xlarge",
             "initial_instance_count": 1}]}],
        "traffic": [{"kind": "replay", "file": "trace.csv", "payload_column": "payload_bytes", **traffic}],
    }
    return to_toml(document).replace('"START"', "2026-03-02T12:00:00Z")


def experiment_case(text: str, name: str = "exp.toml", **files) -> Case:
    return Case("experiment", {name: text, **files}, [name], ["run", name, "--out", "out"])


def aws_case(target: str, change) -> Case:
    """The shipped from-endpoint-config experiment, with `change` applied to one of its JSON requests."""
    document = json.loads((EXPERIMENTS / target).read_text())
    change(document)
    files = {"exp.toml": (EXPERIMENTS / "from-endpoint-config.toml").read_text().replace('"10min"', '"1min"'),
             "aws/endpoint-config.json": (EXPERIMENTS / "aws/endpoint-config.json").read_text(),
             "aws/create-model.json": (EXPERIMENTS / "aws/create-model.json").read_text()}
    files[target] = to_json(document)
    return Case("model", files, [target, "exp.toml"], ["run", "exp.toml", "--out", "out"])


def _set(path: tuple, value):
    def change(document):
        node = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


def _deep_sweep() -> Case:
    sweep = (EXPERIMENTS / "sweep-quickstart.toml").read_text().replace('"10min"', f'"1min", deep = {"[" * 5000}{"]" * 5000}')
    return Case("sweep", {"sweep.toml": sweep, "quickstart.toml": QUICKSTART}, ["sweep.toml"],
                ["sweep", "sweep.toml", "--out", "out", "--workers", "1"])


def _deep_autoscaling(depth: int) -> Case:
    experiment = (EXPERIMENTS / "diurnal-autoscaling.toml").read_text()
    experiment = experiment[:experiment.index("[[autoscaling.targets]]")] + '[autoscaling]\nfile = "scaling.json"\n'
    return Case("autoscaling", {"exp.toml": experiment.replace('duration = "24h"', 'duration = "20min"'),
                                "scaling.json": to_json({"targets": Deep(depth)})},
                ["scaling.json", "exp.toml"], ["run", "exp.toml", "--out", "out"])


def _profile(text: str) -> Case:
    profile = (Path(EXPERIMENTS.parent / "models" / "xgboost-tabular.toml")).read_text()
    return Case("profile", {"models/xgboost-tabular.toml": text.replace("PROFILE", profile),
                            "exp.toml": QUICKSTART.replace("[experiment]", '[experiment]\nmodel_paths = ["models"]')},
                ["models/xgboost-tabular.toml", "exp.toml"], ["run", "exp.toml", "--out", "out"])


#: name -> (case, a phrase of the error every refusal must give). `validate` and the command must
#: both refuse with it, on one line each, writing nothing.
REGRESSIONS = {
    # a request file name past the system's limit (255 bytes): OSError ENAMETOOLONG from Path.is_file
    # (campaign of seed 20261214)
    "request file name too long": (experiment_case(FROM_REQUESTS.replace(
        'endpoint_config_file = "aws/endpoint-config.json"', f'endpoint_config_file = "{"x" * 300}.json"')),
        "the path is too long for this system"),
    # TOML or JSON nested past what the parsers recurse through: RecursionError tracebacks.
    "toml nested 5000 deep": (experiment_case(QUICKSTART.replace('seed = ', f'x = {"[" * 5000}{"]" * 5000}\nseed = ')),
                              "nested more than"),
    "toml nested past the cap": (experiment_case(QUICKSTART.replace(
        'seed = ', f'x = {"[" * (MAX_NESTING + 1)}{"]" * (MAX_NESTING + 1)}\nseed = ')), "nested more than"),
    "sweep nested 5000 deep": (_deep_sweep(), "nested more than"),
    "json nested 5000 deep": (_deep_autoscaling(5000), "nested more than"),
    "json nested past the cap": (_deep_autoscaling(MAX_NESTING + 1), "nested more than"),
    # replayed traces were read only at run time: after validate accepted them, and after the run
    # folder was made; an empty trace ran with no request
    "trace without rows": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER}), "has no rows"),
    "trace outside the run": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER + "".join(
        f"{1772452800000 + s},1000\n" for s in range(10))}), "falls in the run"),
    "trace with a NaN payload": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER + TRACE_ROWS
                                                                         + "2026-03-02T12:00:30Z,nan\n"}),
                                 "payload sizes must be finite"),
    "trace truncated in a time": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER + TRACE_ROWS
                                                                          + "2026-03-"}), "as a time"),
    "trace time past pandas' range": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER + TRACE_ROWS
                                                                              + "-1,1000\n"}), "cannot read the times"),
    # numeric times near the float limit: their median and differences overflowed (a RuntimeWarning
    # on stderr beside the one-line error)
    "trace times near the float limit": (experiment_case(replay_experiment(), **{"trace.csv": TRACE_HEADER + "".join(
        f"{sign}1e308,1000\n" for sign in "-+-+-")}), "falls in the run"),
    # a VariantName that is a list: TypeError (unhashable) while merging variants
    "list as a JSON VariantName": (aws_case("aws/endpoint-config.json", _set(("ProductionVariants", 1, "VariantName"),
                                                                              ["Candidate"])), "VariantName"),
    # members simfleet ignores were accepted with any value, where AWS refuses the wrong type
    "number as an Environment": (aws_case("aws/create-model.json", _set(("PrimaryContainer", "Environment"), 2**64)),
                                 "environment variables"),
    "table as a Tags key": (aws_case("aws/endpoint-config.json", _set(("Tags",), [{"Key": {"": ""}, "Value": "x"}])),
                            "tags"),
    "table as an ExecutionRoleArn": (aws_case("aws/create-model.json", _set(("ExecutionRoleArn",), {"": ""})),
                                     "expected a string"),
    # a line break in a key or value broke the one-line message
    "line separator in a key": (aws_case("aws/endpoint-config.json", _set(("EndpointConfigName\u2028",), "x")),
                                "EndpointConfigName\\u2028"),
    "newline in a key": (experiment_case(QUICKSTART.replace("[experiment]", '[experiment]\n"bad\\nkey" = 1')),
                         "bad\\nkey"),
    # an integer rate past the floats: OverflowError converting it
    "integer rate past the floats": (experiment_case(QUICKSTART.replace('rate = "18000/min"', f"rate = {10**400}")),
                                     "rate"),
    # ProductionVariants null: nothing reported, then a KeyError (found by the generated documents)
    "null ProductionVariants": (aws_case("aws/endpoint-config.json", _set(("ProductionVariants",), None)),
                                "ProductionVariants"),
    # an EndpointConfigName of any type was accepted
    "list as the EndpointConfigName": (aws_case("aws/endpoint-config.json", _set(("EndpointConfigName",), [])),
                                       "EndpointConfigName"),
    # a multi-model variant named by a list: TypeError (unhashable) in the name checks
    "list as a multi-model variant name": (experiment_case(
        (EXPERIMENTS / "multi-model.toml").read_text().replace('duration = "1h"', 'duration = "1min"')
        .replace('variant_name = "AllTenants"', 'variant_name = ["AllTenants"]')), "variant_name"),
    # a single container's Mode was read only for "MultiModel": anything else was accepted
    "table as a container Mode": (aws_case("aws/create-model.json", _set(("PrimaryContainer", "Mode"), {})),
                                  "ContainerMode"),
    # endpoints not a list in an experiment with [model_profiles]: TypeError (iterating a float)
    "number as the endpoints": (experiment_case(to_toml({**tomllib.loads(FROM_REQUESTS), "endpoints": 1e308})),
                                "endpoints"),
    # a profile that is not UTF-8: UnicodeDecodeError traceback
    "profile not UTF-8": (_profile("PROFILE\n# \udcff\n"), "cannot read model profile"),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(name, scratch):
    case, phrase = REGRESSIONS[name]
    folder = scratch / f"regression-{next(_FOLDERS)}"
    folder.mkdir()
    assert execute(case, folder, 60) == []
    validated = invoke(["validate", *[str(folder / f) for f in case.validate]], 60)
    assert validated.exit_code == 3 and phrase in validated.stderr, validated.stderr
    command = invoke([str(folder / w) if (folder / w).exists() or w == "out" else w for w in case.command], 60)
    assert command.exit_code == 3 and phrase in command.stderr, command.stderr
    assert not (folder / "out").exists()


def test_regression_deep_set_override(scratch):
    """`--set key=[[[…]]]` nested past the TOML parser: a string value the schema refuses, not a traceback."""
    path = scratch / "set.toml"
    path.write_text(QUICKSTART)
    outcome = invoke(["run", str(path), "--out", str(scratch / "set-out"), "--set",
                      f"experiment.seed={'[' * 5000}{']' * 5000}"], 60)
    assert outcome.exception is None and outcome.exit_code == 3 and "experiment.seed" in outcome.stderr
    assert not (scratch / "set-out").exists()


def test_regression_query_file_not_utf8(scratch, run_dir):
    """`get-metric-data --metric-data-queries file://…` of a file that is not UTF-8: one line, not a
    UnicodeDecodeError traceback."""
    path = scratch / "queries.json"
    path.write_bytes(b'[{"Id": "\xed"}]')
    outcome = invoke(["metrics", str(run_dir), "get-metric-data", "--metric-data-queries", f"file://{path}"], 60)
    assert outcome.exception is None and outcome.exit_code == 3
    assert outcome.stderr.startswith("error: ") and "cannot read file" in outcome.stderr


def test_regression_export_integer_past_the_floats(scratch):
    """A CloudWatch export whose Values hold an integer past the float range (Python's JSON reader
    keeps it exact): an OverflowError traceback from `validate` (the long campaign's finding); both
    `validate` and `calibrate` must refuse it on one line, writing nothing."""
    folder = scratch / f"export-{next(_FOLDERS)}"
    folder.mkdir()
    shipped = EXPERIMENTS / "calibration"
    document = json.loads((shipped / "cloudwatch-results.json").read_text())
    document["MetricDataResults"][0]["Values"][0] = 10**400
    (folder / "results.json").write_text(to_json(document))
    (folder / "queries.json").write_text((shipped / "cloudwatch-queries.json").read_text())
    validated = invoke(["validate", str(folder / "results.json"), "--kind", "calibration_source"], 60)
    assert validated.exception is None and validated.exit_code == 3, validated.stderr
    assert validated.stderr.count("\n") == 1 and "MetricDataResults[0].Values[0]" in validated.stderr
    out = folder / "fitted.toml"
    calibrated = invoke(["calibrate", "--instance-type", "ml.c5.xlarge", str(folder / "queries.json"),
                         str(folder / "results.json"), "--out", str(out)], 60)
    assert calibrated.exception is None and calibrated.exit_code == 3, calibrated.stderr
    assert "float range" in calibrated.stderr and not out.exists()


def test_regression_names_too_long_for_the_system(scratch):
    """Path.is_file and Path.is_dir raise on a name past the system's limit (ENAMETOOLONG) where
    os.path's answer False: a job's model folder and a calibration source gave tracebacks."""
    folder = scratch / f"long-{next(_FOLDERS)}"
    folder.mkdir()
    job = (EXPERIMENTS / "recommend-xgboost.toml").read_text()
    assert "\n[simfleet]\n" in job
    (folder / "job.toml").write_text(job.replace("\n[simfleet]\n", f'\n[simfleet]\nmodel_paths = ["{"y" * 300}"]\n', 1))
    validated = invoke(["validate", str(folder / "job.toml")], 60)
    assert validated.exception is None and validated.exit_code == 3, validated.stderr
    assert validated.stderr.count("\n") == 1 and "simfleet.model_paths[0]: no such folder" in validated.stderr
    out = folder / "fitted.toml"
    calibrated = invoke(["calibrate", "--instance-type", "ml.c5.xlarge",
                         str(EXPERIMENTS / "calibration" / "cloudwatch-queries.json"), str(folder / ("x" * 300)),
                         "--out", str(out)], 60)
    assert calibrated.exception is None and calibrated.exit_code == 3, calibrated.stderr
    assert calibrated.stderr.count("\n") == 1 and "the path is too long for this system" in calibrated.stderr
    assert not out.exists()


LONG = "z" * 300  # one name past the 255 bytes of common file systems
LONG_PATHS = {
    "run --out": ["run", "EXP", "--out", "TMP/LONG"],
    "run --out under": ["run", "EXP", "--out", "TMP/LONG/sub"],
    "sweep --out under": ["sweep", "SWEEP", "--out", "TMP/LONG/sub"],
    "recommend --out under": ["recommend", "JOB", "--out", "TMP/LONG/sub"],
    "report of": ["report", "TMP/LONG/sub"],
    "report --out": ["report", "RUN", "--out", "TMP/LONG.html"],
    "metrics of": ["metrics", "TMP/LONG", "list-metrics"],
    "calibrate --out": ["calibrate", "--instance-type", "ml.c5.xlarge", "QUERIES", "RESULTS", "--out", "TMP/LONG/f.toml"],
    "validate": ["validate", "TMP/LONG/x.toml"],
}


@pytest.mark.parametrize("name", sorted(LONG_PATHS))
def test_paths_too_long_for_the_system_get_one_line(name, scratch, run_dir):
    """Every command, given a path with a name too long for the system: one `error:` line, exit 3,
    nothing written (pathlib's exists/is_dir/is_symlink raise ENAMETOOLONG where os.path's do not)."""
    folder = scratch / f"long-path-{next(_FOLDERS)}"
    folder.mkdir()
    words = {"EXP": str(EXPERIMENTS / "quickstart.toml"), "SWEEP": str(EXPERIMENTS / "sweep-quickstart.toml"),
             "JOB": str(EXPERIMENTS / "recommend-xgboost.toml"),
             "QUERIES": str(EXPERIMENTS / "calibration" / "cloudwatch-queries.json"),
             "RESULTS": str(EXPERIMENTS / "calibration" / "cloudwatch-results.json"), "RUN": str(run_dir)}
    argv = [words.get(w, w.replace("TMP", str(folder)).replace("LONG", LONG)) for w in LONG_PATHS[name]]
    outcome = invoke(argv, 60)
    assert outcome.exception is None, outcome.trace
    assert outcome.exit_code == 3 and outcome.stderr.count("\n") == 1, outcome.stderr
    assert outcome.stderr.startswith("error: ")
    assert list(folder.iterdir()) == []


def test_case_generation_never_fails():
    """The long campaign's generator on many seeds (it once divided an integer past the floats), in
    one process as the campaign makes them: no case changes the junk values of the next (a junk
    table was once put in a document, given a key, and came to contain itself)."""
    from fuzzing.mutations import JUNK

    junk = repr(JUNK)
    for kind in KINDS:
        for seed in range(150):
            make_case(kind, RandomChooser(seed))
    make_case("model", RandomChooser(249322392224476))   # the seed that made a table contain itself
    assert repr(JUNK) == junk
    from fuzzing.mutations import _variant_of

    assert all(_variant_of(RandomChooser(seed), 10**400) is not None for seed in range(50))


def test_replacing_what_a_mutation_added_is_not_nonsense():
    """A table a mutation added, replaced by a later mutation with a string, is a string where a
    string belongs: the long campaign once flagged its acceptance as "a table swapped with a scalar"."""
    case = make_case("model", RandomChooser(266800112636520))
    assert case.describe() == ("add PrimaryContainer.Environment.name = {}; "
                               "PrimaryContainer.Environment.name = '-1min'")
    assert case.nonsense == []


def test_seeded_cases_are_reproducible():
    """Case N of seed S is the same case on every run: a long campaign's finding is replayed from it."""
    for kind in KINDS:
        assert make_case(kind, RandomChooser(7)).to_json() == make_case(kind, RandomChooser(7)).to_json()


def test_the_document_writers_round_trip():
    import datetime as dt

    document = {"a b": {"x": [1, 2.5, float("inf"), "ü𝄞\"\\\n\u2028"], "t": dt.datetime(2026, 1, 5, tzinfo=dt.UTC)},
                "empty": {}, "big": 2**64}
    assert tomllib.loads(to_toml(document)) == document
    assert tomllib.loads(to_toml({"d": Deep(3)})) == {"d": [[[]]]}
    assert json.loads(to_json({"d": Deep(3), "n": 1})) == {"d": [[[]]], "n": 1}


# --- findings fixed by the limits work (caps and strict numbers) -----------------------------------

def _validate_refuses(scratch: Path, name: str, text: str, **files) -> None:
    folder = scratch / f"pending-{next(_FOLDERS)}"
    folder.mkdir()
    for relative, content in {name: text, **files}.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    outcome = invoke(["validate", str(folder / name)], 60)
    assert outcome.exception is None and outcome.exit_code == 3, outcome.stdout + outcome.stderr


def test_an_astronomical_rate_is_refused(scratch):
    """A sweep point of 2e299 requests/s was accepted and its run never ended (the long campaign's
    "hang" finding); validation must refuse it."""
    _validate_refuses(scratch, "exp.toml", QUICKSTART.replace('rate = "18000/min"', "rate = 2e299"))


def test_an_astronomical_schedule_rate_is_refused(scratch):
    """A knot of a rate schedule at 1e308/s was accepted and its run never ended."""
    _validate_refuses(scratch, "exp.toml", (EXPERIMENTS / "diurnal-day.toml").read_text().replace(
        '["9h", 160]', '["9h", "1e308/s"]'))


@pytest.mark.parametrize("old, new", [("seed = 20260105", "seed = true"),
                                      ("initial_instance_count = 2", "initial_instance_count = true")])
def test_a_boolean_is_not_a_number(scratch, old, new):
    _validate_refuses(scratch, "exp.toml", QUICKSTART.replace(old, new))

