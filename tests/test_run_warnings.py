"""Honest warnings (`simfleet.outputs.run_warnings`): each kind shown on a test experiment that
triggers it, on stderr, in `summary.json` (or `sweep.json`, `recommendations.json`'s `simfleet`) and in the
report; and absent from the shipped experiments where it has no reason to be."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from input_problems import edit, invoke
from small_experiments import base_experiment, scenario

from simfleet.outputs.run_directory import run_to_directory
from simfleet.outputs.run_warnings import (WARNING_CODES, input_warnings, latency_warnings, outcome_warnings,
                                           price_only_warnings)
from simfleet.run_limits import REQUESTS_PER_WALL_S, RUN_OVERHEAD_S
from simfleet.scenario import load_experiment

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"

BASE = """\
[experiment]
name = "t"
start_time = 2026-01-05T09:00:00Z
duration = "1min"
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


def run(workdir: Path, text: str, *args: str):
    """`simfleet run` of `text` into workdir/out: (the CLI result, summary.json)."""
    path = workdir / "exp.toml"
    path.write_text(text)
    result = invoke("run", path, "--out", workdir / "out", "--no-requests", *args)
    assert result.exit_code == 0, result.output
    return result, json.loads((workdir / "out" / "summary.json").read_text())


def warned(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def codes(summary: dict) -> list[tuple[str, str]]:
    return [(w["code"], w["where"]) for w in summary["warnings"]]


# --- every request or most rejected or failed ------------------------------------------------------

def test_every_request_refused_warns_after_the_run_naming_the_outcome(workdir):
    """A payload typed as "2GB": every request is refused (413) before any container."""
    result, summary = run(workdir, edit(BASE, [("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "2GB" }')]))
    assert codes(summary) == [("payload_over_limit", "traffic[0].payload"), ("requests_not_ok", "ep/A")]
    [outcome] = [w for w in summary["warnings"] if w["code"] == "requests_not_ok"]
    assert outcome["message"].startswith("every request") and "PayloadTooLarge" in outcome["message"]
    lines = warned(result)
    assert len(lines) == 2 and lines[1] == f"warning: ep/A: {outcome['message']}"


def test_most_requests_failing_warns_with_the_dominant_outcome(workdir):
    """One instance of 2 workers at 10 ms serves about 200 requests/s: at 2,000/s at least 90 % find
    the queue full."""
    text = edit(BASE, [("rate = 50", "rate = 2000"), ("initial_instance_count = 2", "initial_instance_count = 1")])
    result, summary = run(workdir, text)
    [warning] = summary["warnings"]
    assert warning["code"] == "requests_not_ok" and warning["where"] == "ep/A"
    assert "QueueFull" in warning["message"] and not warning["message"].startswith("every")
    assert summary["variants"][0]["outcomes"]["QueueFull"] > 0.8 * summary["requests"]
    assert any("QueueFull" in line for line in warned(result))


def test_an_ordinary_run_has_no_warnings(workdir):
    result, summary = run(workdir, BASE)
    assert summary["warnings"] == [] and warned(result) == []


def test_warnings_leave_the_figures_as_simulated(workdir):
    from simfleet.engine.simulation import simulate

    raw = {**base_experiment(duration="1min"), "traffic": [{"kind": "poisson", "rate": 2000}]}
    raw["endpoints"][0]["production_variants"][0]["initial_instance_count"] = 1
    simulated = simulate(scenario(raw)).summary
    written = run_to_directory(scenario(raw), workdir / "out").summary
    assert "warnings" not in simulated and [w["code"] for w in written["warnings"]] == ["requests_not_ok"]
    assert {k: v for k, v in written.items() if k != "warnings"} == simulated


def _summary(*outcomes: dict) -> dict:
    return {"variants": [{"EndpointName": "ep", "VariantName": f"V{i}", "requests": sum(o.values()),
                          "outcomes": o} for i, o in enumerate(outcomes)]}


def test_outcome_threshold_and_dominant_outcome():
    half = {"OK": 50, "QueueFull": 50}
    most = {"OK": 49, "QueueFull": 20, "NoCapacity": 31}
    none = {"OK": 0, "ModelError": 0}
    [warning] = outcome_warnings(_summary(half, most, none))
    assert warning.where == "ep/V1" and "mostly NoCapacity (31%)" in warning.message and "51%" in warning.message


def test_a_missing_serverless_price_warns_too():
    from simfleet.outputs.run_warnings import price_warnings

    summary = {"missing_prices": [{"EndpointName": "ep", "VariantName": "S", "price": "compute_price_per_gb_s",
                                   "of": "serverless compute"}]}
    [warning] = price_warnings(summary)
    assert (warning.code, warning.where) == ("no_price", "ep/S") and "compute_price_per_gb_s" in warning.message


# --- instance types without a price --------------------------------------------------------------

def test_unpriced_instance_type_cost_null_and_one_warning(workdir):
    text = edit(BASE, [('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.18xlarge"')])
    result, summary = run(workdir, text)
    assert summary["cost"] is None and summary["variants"][0]["cost"] is None
    assert codes(summary) == [("no_price", "ep/A")]
    assert len([line for line in warned(result) if "ml.c5.18xlarge" in line]) == 1  # said before the run only


# --- profile entries marked ASSUMPTION or copied from another family ------------------------------

def _variants(model: str, *types: str) -> dict:
    raw = base_experiment()
    raw["endpoints"][0]["production_variants"] = [
        {"variant_name": f"V{n}", "model_name": model, "instance_type": t, "initial_instance_count": 1,
         "initial_variant_weight": 1} for n, t in enumerate(types)]
    return raw


def test_c5_c6i_m5_latencies_are_the_same_assumption():
    s = scenario(_variants("xgboost-tabular", "ml.c5.xlarge", "ml.c6i.xlarge", "ml.m5.xlarge"))
    found = latency_warnings(s)
    assert [(w.code, w.where) for w in found if w.code == "assumed_latency"] == [
        ("assumed_latency", "ep/V0"), ("assumed_latency", "ep/V1"), ("assumed_latency", "ep/V2")]
    [same] = [w for w in found if w.code == "same_latency"]
    for text in ("ep/V0 (ml.c5.xlarge)", "ep/V1 (ml.c6i.xlarge)", "ep/V2 (ml.m5.xlarge)", "'c5', 'c6i', 'm5'",
                 "same assumption"):
        assert text in same.message


def test_a_copied_entry_is_found_by_its_numbers_not_its_wording(workdir):
    toy = (workdir / "models" / "toy.toml").read_text()
    copied = toy.replace('distribution = { kind = "lognormal", median = "8ms", sigma = 0.5 }',
                         'distribution = { kind = "exponential", mean = "10ms" }')
    (workdir / "models" / "toy.toml").write_text(copied)
    raw = _variants("toy", "ml.c5.xlarge", "ml.m5.xlarge")
    s = scenario_in(workdir, raw)
    assert [w.code for w in latency_warnings(s)] == ["same_latency"]  # the toy's sources are not ASSUMPTION


def scenario_in(folder: Path, raw: dict):
    from simfleet.scenario import scenario_from_dict

    return scenario_from_dict(raw, str(folder / "exp.toml"), folder)


def test_measured_and_distinct_entries_give_no_latency_warning():
    assert latency_warnings(scenario(_variants("toy", "ml.c5.xlarge", "ml.m5.xlarge", "ml.g5.xlarge"))) == []


# --- configurations that differ only in price -----------------------------------------------------

def _one(instance_type: str, seed: int = 1, count: int = 2):
    raw = base_experiment(seed=seed)
    raw["endpoints"][0]["production_variants"][0].update(instance_type=instance_type, initial_instance_count=count)
    return scenario(raw)


def test_configurations_that_differ_only_in_price():
    # the toy runs 2 workers on any c5 size: a c5.xlarge and a c5.2xlarge simulate the same fleet
    [warning] = price_only_warnings([("small", _one("ml.c5.xlarge")), ("large", _one("ml.c5.2xlarge", seed=9))])
    assert warning.code == "differ_only_in_price" and "small, large" in warning.message
    assert "ml.c5.xlarge $" in warning.message and "ml.c5.2xlarge $" in warning.message
    assert price_only_warnings([("c5", _one("ml.c5.xlarge")), ("m5", _one("ml.m5.xlarge"))]) == []
    assert price_only_warnings([("a", _one("ml.c5.xlarge")), ("b", _one("ml.c5.xlarge", seed=2))]) == []
    assert price_only_warnings([("a", _one("ml.c5.xlarge")), ("b", _one("ml.c5.2xlarge", count=3))]) == []


SWEEP = """\
[sweep]
name = "s"
base = "exp.toml"
seed = 3

[[axes]]
name = "instance_type"
key = "endpoints.0.production_variants.0.instance_type"
values = {types}

[[axes]]
name = "instances"
key = "endpoints.0.production_variants.0.initial_instance_count"
values = [1, 2]
"""


@pytest.mark.parametrize("types, expected", [('["ml.c5.xlarge", "ml.c5.2xlarge"]', 1),
                                             ('["ml.c5.xlarge", "ml.m5.xlarge"]', 0)])
def test_sweep_warns_at_the_end_and_in_sweep_json(workdir, types, expected):
    (workdir / "exp.toml").write_text(BASE)
    (workdir / "sweep.toml").write_text(SWEEP.format(types=types))
    result = invoke("sweep", workdir / "sweep.toml", "--out", workdir / "ds", "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads((workdir / "ds" / "sweep.json").read_text())
    assert len(document["warnings"]) == len(warned(result)) == expected
    assert json.loads(result.stdout)["warnings"] == document["warnings"]
    assert validate_warnings(workdir / "sweep.toml") == [w.removeprefix("warning: ") for w in warned(result)]
    if expected:
        [warning] = document["warnings"]
        assert warning["code"] == "differ_only_in_price" and "differ only in instance_type" in warning["message"]
        assert "2 such groups" in warning["message"]



@pytest.mark.parametrize("replicates", [1, 5])
def test_a_long_sweep_warns_with_its_estimate(workdir, replicates):
    """4 points x `replicates` runs of 3,000 requests (1 min at 50/s), each estimated at 3,000 / 1.5 M
    requests a second plus 0.1 s a run: 5 replicates, 20 runs, about 2 s, past slow_run_warning = 1 s;
    1 replicate, 4 runs, about 0.4 s, not. The runs' own estimates (0.002 s) warn of nothing."""
    (workdir / "exp.toml").write_text(BASE + '\n[limits]\nslow_run_warning = "1s"\n')
    (workdir / "sweep.toml").write_text(SWEEP.format(types='["ml.c5.xlarge", "ml.m5.xlarge"]')
                                        .replace("seed = 3", f"seed = 3\nreplicates = {replicates}"))
    said = validate_warnings(workdir / "sweep.toml")
    if replicates == 1:
        assert said == []
        return
    [warning] = said
    runs = 4 * replicates
    wall = runs * (3000 / REQUESTS_PER_WALL_S + RUN_OVERHEAD_S)
    assert f"a long sweep: {runs} runs, about {runs * 3000:,} requests, roughly {wall:.0f} s" in warning
    assert "limits.slow_run_warning: 1 s" in warning
    result = invoke("sweep", workdir / "sweep.toml", "--out", workdir / "ds", "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    [written] = json.loads((workdir / "ds" / "sweep.json").read_text())["warnings"]
    assert written["code"] == "long_run" and written["message"] == warning and written["where"] == ""
    assert [w.removeprefix("warning: ") for w in warned(result)] == [warning]

JOB = {"JobName": "price-only", "JobType": "Advanced", "RoleArn": "arn:aws:iam::123456789012:role/R",
       "InputConfig": {"ModelName": "fraud-model",
                       "EndpointConfigurations": [{"InstanceType": "ml.c5.large"}, {"InstanceType": "ml.c6i.large"},
                                                  {"InstanceType": "ml.c5.xlarge"}],
                       "TrafficPattern": {"TrafficType": "PHASES",
                                          "Phases": [{"InitialNumberOfUsers": 1, "SpawnRate": 1,
                                                      "DurationInSeconds": 120}]}},
       "StoppingConditions": {"MaxInvocations": 3000},
       "simfleet": {"model": "xgboost-tabular"}}


def test_recommender_job_warns_in_recommendations_json_and_lists_no_price(tmp_path):
    from simfleet.recommender.ranking import table

    path = tmp_path / "job.json"
    path.write_text(json.dumps(JOB))
    result = invoke("recommend", path, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.exit_code == 0, result.output
    response = json.loads((tmp_path / "out" / "recommendations.json").read_text())
    [warning] = response["simfleet"]["warnings"]
    assert warning["code"] == "differ_only_in_price"
    assert "ml.c5.large, ml.c6i.large differ only in price" in warning["message"]
    assert warned(result) == [f"warning: {warning['message']}"]
    assert validate_warnings(path) == [warning["message"]]  # said before the job runs too

    # a configuration without a price is ranked and shown as "no price", not dropped
    from simfleet.recommender.job_file import load_job_file
    from simfleet.recommender.job_output import job_warnings
    from simfleet.recommender.job_runner import run_job

    outcome = run_job(load_job_file(path), workers=1)
    unpriced = dataclasses.replace(outcome, results=[
        dataclasses.replace(r, price_per_hour=None, cost_per_hour=None, cost_per_inference=None)
        if r.instance_type == "ml.c5.xlarge" else r for r in outcome.results])
    [row] = [line for line in table(unpriced.results).splitlines() if "ml.c5.xlarge" in line]
    assert row.split()[0].isdigit() and row.count("no price") == 2
    assert [(w.code, w.where) for w in job_warnings(unpriced, [])] == [("no_price", "ml.c5.xlarge")]


def test_a_job_whose_duration_may_cut_its_tests_leaves_price_only_to_the_run(tmp_path):
    """Which tests run, and how long, depends on the runs when the job's duration may cut them: validate
    then does not say which configurations differ only in price (the run does). A tested instance
    type without a price is known from the file: validate says it."""
    job = json.loads(json.dumps(JOB))
    job["InputConfig"]["JobDurationInSeconds"] = 200  # three tests of up to 2 min, one at a time
    job["InputConfig"]["EndpointConfigurations"].append({"InstanceType": "ml.c5.18xlarge"})
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    said = validate_warnings(path)
    assert len(said) == 1 and said[0].startswith("ml.c5.18xlarge: ml.c5.18xlarge has no price in the catalog")
    job["InputConfig"]["JobDurationInSeconds"] = 4 * 120  # room for every test in full
    path.write_text(json.dumps(job))
    assert [line.split(" differ only")[0] for line in validate_warnings(path)][1:] == [
        "configurations ml.c5.large, ml.c6i.large"]


# --- said before the run: simfleet validate ---------------------------------------------------------

def validate_warnings(path: Path) -> list[str]:
    """The `warning:` lines of `simfleet validate PATH` (which must pass), without the prefix."""
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    return [line.removeprefix("warning: ") for line in result.stderr.splitlines() if line.startswith("warning: ")]


def assert_validate_said_what_the_run_wrote(said: list[str], summary: dict) -> None:
    """validate's lines and the warnings of the run's summary.json but `requests_not_ok` are the same,
    one to one: the experiment's own warnings shown as validate shows a problem (`file:line: key:
    message`), the others as the run shows them (`where: message`)."""
    expected = [w for w in summary["warnings"] if w["code"] != "requests_not_ok"]
    assert len(said) == len(expected), (said, expected)
    left = list(said)
    for warning in expected:
        shown = f"{warning['where']}: {warning['message']}" if warning["where"] else warning["message"]
        matches = [line for line in left if line == shown or line.endswith(f": {warning['message']}")]
        assert matches, (warning, left)
        left.remove(matches[0])


def test_validate_says_the_quickstart_latencies_are_the_same_assumption():
    """The quickstart's A/B test runs c5 and c6i on entries of the xgboost-tabular profile that are
    both assumptions holding one distribution (read from the profile file here)."""
    import tomllib

    profile = tomllib.loads((EXPERIMENTS.parent / "models" / "xgboost-tabular.toml").read_text())
    entries = {entry["instance"]: entry for entry in profile["service"] if entry["instance"] in ("c5", "c6i")}
    assert all(entry["source"].upper().startswith("ASSUMPTION") for entry in entries.values())
    assert {k: v for k, v in entries["c5"].items() if k not in ("instance", "source")} == \
        {k: v for k, v in entries["c6i"].items() if k not in ("instance", "source")}
    said = validate_warnings(EXPERIMENTS / "quickstart.toml")
    assumed = sorted(line.split(":")[0] for line in said if "rest on an assumption" in line)
    assert assumed == ["fraud-scoring/Candidate", "fraud-scoring/Current"]
    [same] = [line for line in said if "from the same figure" in line]
    assert "fraud-scoring/Current (ml.c5.xlarge)" in same and "fraud-scoring/Candidate (ml.c6i.xlarge)" in same
    assert len(said) == 3


def test_validate_says_an_instance_type_has_no_price_as_the_run_does(workdir):
    text = edit(BASE, [('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.18xlarge"')])
    _, summary = run(workdir, text)
    said = validate_warnings(workdir / "exp.toml")
    assert len(said) == 1 and "ml.c5.18xlarge has no price in the catalog" in said[0]
    assert_validate_said_what_the_run_wrote(said, summary)


def test_validate_says_a_serverless_price_is_missing_as_the_run_does(workdir):
    """The shipped serverless prices have no Provisioned Concurrency price: a variant with
    provisioned concurrency and no such price in its experiment lacks both."""
    from simfleet.catalog.serverless import load_serverless_prices

    shipped = load_serverless_prices()
    assert shipped.provisioned_price_per_gb_second is None and shipped.provisioned_inference_price_per_gb_second is None
    text = edit((EXPERIMENTS / "serverless.toml").read_text(), [("duration = \"1h\"", "duration = \"10min\"")])
    text = "\n".join(line for line in text.splitlines() if not line.startswith("provisioned_"))
    _, summary = run(workdir, text)
    said = validate_warnings(workdir / "exp.toml")
    assert sorted(line.split(" for ")[0] for line in said if "no price" in line or "no provisioned" in line) == [
        "classify/AllTraffic: no provisioned_inference_price_per_second",
        "classify/AllTraffic: no provisioned_price_per_second"]
    assert_validate_said_what_the_run_wrote(said, summary)


#: The shipped experiments; the longest (a day of traffic) run with the slow tests.
SHIPPED = sorted(p for p in EXPERIMENTS.glob("*.toml") if "[experiment]" in p.read_text())
LONG = {"diurnal-autoscaling", "diurnal-day"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in LONG else p
                                  for p in SHIPPED], ids=[p.stem for p in SHIPPED])
def test_validate_says_what_a_run_of_a_shipped_experiment_writes(path, tmp_path):
    """Every warning a run writes but `requests_not_ok` is decided by the configuration: validate says each."""
    result = invoke("run", path, "--out", tmp_path / "out", "--no-requests", "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert_validate_said_what_the_run_wrote(validate_warnings(path), summary)


# --- the report -----------------------------------------------------------------------------------

def test_report_shows_a_warnings_box_only_when_there_are_warnings(workdir):
    from simfleet.report.cli import write_run_report

    run(workdir, edit(BASE, [("rate = 50", 'rate = 50\npayload = { kind = "constant", value = "2GB" }')]))
    page = write_run_report(workdir / "out").read_text()
    box = page[page.index('id="warnings"'):page.index("<h2>Headline</h2>")]
    assert 'data-code="payload_over_limit"' in box and 'data-code="requests_not_ok"' in box
    shutil.rmtree(workdir / "out")
    run(workdir, BASE)
    assert 'id="warnings"' not in write_run_report(workdir / "out").read_text()


# --- codes of the experiment's own warnings -------------------------------------------------------

def test_the_experiments_warnings_keep_a_code_each():
    s = _one("ml.c5.18xlarge")
    assert [(w.code, w.where) for w in input_warnings(s)] == [("no_price", "ep/A")]
    raw = {**base_experiment(duration="1d"), "limits": {"slow_run_warning": "1s"},
           "traffic": [{"kind": "poisson", "rate": 1000,
                        "payload": {"kind": "constant", "value": "2GB"}}]}
    assert sorted(w.code for w in input_warnings(scenario(raw))) == ["long_run", "payload_over_limit"]
    assert set(WARNING_CODES) >= {"requests_not_ok", "no_price", "assumed_latency", "same_latency",
                                  "differ_only_in_price"}


# --- the shipped experiments ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quickstart", "multi-model", "inference-components", "serverless"])
def test_shipped_experiments_have_no_outcome_or_price_warning(name, tmp_path):
    s = load_experiment(EXPERIMENTS / f"{name}.toml")
    summary = run_to_directory(s, tmp_path / "out", requests=False).summary
    found = {w["code"] for w in summary["warnings"]}
    assert not found & {"requests_not_ok", "no_price", "differ_only_in_price"}, summary["warnings"]
    # quickstart's A/B test of c5 vs c6i says that both latencies are the same assumption
    assert ("same_latency" in found) == (name == "quickstart")
