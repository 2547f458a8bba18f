"""Bad `[autoscaling]` and `[instances]` input: one line per problem, naming the file, key and line.

The requests are written as a user would: inline in the experiment's TOML (key paths start with
`autoscaling.`, lines point into the TOML), or in a JSON file named by `autoscaling.file` (problems
name that file). Expected line numbers are found in the test's own text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autoscaling_experiments import BASE, RID, STEP_ALARM
from input_problems import edit, line_number, load_problems, write
from simfleet.cli import app
from simfleet.errors import EXIT_INVALID_INPUT
from simfleet.scenario import load_experiment

def test_the_base_loads_with_its_requests(workdir):
    scenario = load_experiment(write(workdir, BASE + STEP_ALARM))
    config = scenario.autoscaling
    assert [t.ResourceId for t in config.targets] == [RID]
    assert [p.PolicyName for p in config.policies] == ["tt", "step"]
    assert [a.AlarmName for a in config.alarms] == ["high"]


# (description, edit of BASE + STEP_ALARM as (old, new), expected key, line needle, message fragment).
# A few mistakes have consequences that are problems too (CONSEQUENCES): those are reported with them.
CASES = [
    ("negative target", ("TargetValue = 1000.0", "TargetValue = -5.0"),
     "autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.TargetValue", "TargetValue = -5.0",
     "greater than 0"),
    ("unknown variant", ('ResourceId = "endpoint/ep/variant/A"\nScalableDimension = "sagemaker:variant:DesiredInstanceCount"'
                         '\nMinCapacity', 'ResourceId = "endpoint/ep/variant/B"\nScalableDimension = '
                         '"sagemaker:variant:DesiredInstanceCount"\nMinCapacity'),
     "autoscaling.targets[0].ResourceId", 'ResourceId = "endpoint/ep/variant/B"', "no endpoint 'ep' with variant 'B'"),
    ("max below min", ("MaxCapacity = 4", "MaxCapacity = 0"),
     "autoscaling.targets[0].MaxCapacity", "MaxCapacity = 0", "less than MinCapacity"),
    ("string capacity", ("MinCapacity = 1", 'MinCapacity = "1"'),
     "autoscaling.targets[0].MinCapacity", 'MinCapacity = "1"', "integer"),
    ("metric not simulated yet", ('MetricName = "CPUUtilization"\nNamespace = "/aws/sagemaker/Endpoints"',
                                  'MetricName = "ApproximateBacklogSizePerInstance"\nNamespace = "AWS/SageMaker"'),
     "autoscaling.alarms[0].MetricName", 'MetricName = "ApproximateBacklogSizePerInstance"', "does not simulate yet"),
    ("alarm period shorter than the metric's", ("Period = 60", "Period = 30"),
     "autoscaling.alarms[0].Period", "Period = 30", "not a multiple of the 60 s"),
    ("dimension set not published", ('Dimensions = [{ Name = "EndpointName", Value = "ep" }, '
                                     '{ Name = "VariantName", Value = "A" }]',
                                     'Dimensions = [{ Name = "EndpointName", Value = "ep" }]'),
     "autoscaling.alarms[0].Dimensions", 'Dimensions = [{ Name = "EndpointName"', "CloudWatch matches the exact set"),
    ("alarm on another endpoint", ('{ Name = "EndpointName", Value = "ep" }, { Name = "VariantName"',
                                   '{ Name = "EndpointName", Value = "other" }, { Name = "VariantName"'),
     "autoscaling.alarms[0].Dimensions", 'Value = "other"', "not an endpoint of the experiment"),
    ("alarm action names no policy", ('AlarmActions = ["step"]', 'AlarmActions = ["stepp"]'),
     "autoscaling.alarms[0].AlarmActions[0]", 'AlarmActions = ["stepp"]', "no scaling policy named 'stepp'"),
    ("unknown request member", ("TargetValue = 1000.0", "TargetValue = 1000.0\nTargetValu = 2.0"),
     "autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.TargetValu", "TargetValu = 2.0", "unknown key"),
    ("settings: bad ratio", ("[instances]", "[autoscaling.settings]\nscale_in_ratio = 1.5\n\n[instances]"),
     "autoscaling.settings.scale_in_ratio", "scale_in_ratio = 1.5", "less than or equal to 1"),
    ("settings: bad alarm period", ("[instances]", "[autoscaling.settings]\ntarget_tracking_period = 45\n\n[instances]"),
     "autoscaling.settings.target_tracking_period", "target_tracking_period = 45", "10, 20, 30 or a multiple of 60"),
    ("instances: family key", ("[instances]\n", '[instances]\nprovisioning_time_by_family = { "ml.g5" = '
                               '{ kind = "constant", value = "1s" } }\n'),
     "instances.provisioning_time_by_family", "provisioning_time_by_family", "instance families"),
    ("instances: zero MTTF", ("[instances]\n", '[instances]\nmean_time_to_failure = "0s"\n'),
     "instances.mean_time_to_failure", "mean_time_to_failure", "greater than zero"),
]


CONSEQUENCES = {
    # the policies name a target that is no longer registered
    "unknown variant": {"autoscaling.policies[0].ResourceId", "autoscaling.policies[1].ResourceId"},
    # the step policy is left without an alarm
    "alarm action names no policy": {"autoscaling.policies[1].PolicyName"},
}


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in CASES])
def test_bad_request_reported_on_its_key_and_line(case, workdir):
    name, (old, new), key, needle, fragment = case
    text = edit(BASE + STEP_ALARM, [(old, new)])
    path = write(workdir, text)
    found = load_problems(path)
    assert {p.key for p in found} == {key} | CONSEQUENCES.get(name, set()), [str(p) for p in found]
    [problem] = [p for p in found if p.key == key]
    assert problem.file == str(path)
    assert problem.key == key, str(problem)
    assert fragment in problem.message, str(problem)
    assert problem.line == line_number(text, needle), str(problem)


def test_several_problems_at_once(workdir):
    text = edit(BASE + STEP_ALARM, [("TargetValue = 1000.0", "TargetValue = -5.0"), ("Period = 60", "Period = 30")])
    keys = {p.key for p in load_problems(write(workdir, text))}
    assert "autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration.TargetValue" in keys
    # the alarm problem needs a valid document first: reported once the policy is fixed
    text = edit(BASE + STEP_ALARM, [("Period = 60", "Period = 30")])
    text = edit(text, [("MetricName = \"CPUUtilization\"", "MetricName = \"CPUUtilisation\"")])
    assert {p.key for p in load_problems(write(workdir, text))} == {"autoscaling.alarms[0].MetricName"}


def test_high_resolution_out_period_must_fit_the_concurrency_metric(workdir):
    text = edit(BASE, [('"SageMakerVariantInvocationsPerInstance"',
                        '"SageMakerVariantConcurrentRequestsPerModelHighResolution"')])
    load_experiment(write(workdir, text))  # 10 s periods on a 10 s metric
    text = edit(text, [("[instances]", "[autoscaling.settings]\nhigh_resolution_out_period = 20\n\n[instances]")])
    load_experiment(write(workdir, text))  # 20 s: two datapoints per period
    enhanced = edit(BASE, [('endpoint_name = "ep"\n', 'endpoint_name = "ep"\nmetrics_config = { enable_enhanced_metrics '
                            '= true, metric_publish_frequency_in_seconds = 120 }\n')])
    [problem] = load_problems(write(workdir, enhanced))
    assert problem.key.startswith("autoscaling.policies[0].TargetTrackingScalingPolicyConfiguration")
    assert "not a multiple of the 120 s" in problem.message and "target_tracking_period" in problem.message


def test_requests_inline_and_in_a_file_is_an_error(workdir):
    text = BASE.replace("[[autoscaling.targets]]", '[autoscaling]\nfile = "scaling.json"\n\n[[autoscaling.targets]]')
    [problem] = load_problems(write(workdir, text))
    assert problem.key == "autoscaling" and "not both" in problem.message


def _file_experiment(workdir: Path, document) -> Path:
    head = BASE.split("[[autoscaling.targets]]")[0]
    (workdir / "scaling.json").write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return write(workdir, head + '[autoscaling]\nfile = "scaling.json"\n')


def _document() -> dict:
    target = {"ServiceNamespace": "sagemaker", "ResourceId": RID,
              "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "MinCapacity": 1, "MaxCapacity": 4}
    policy = {"PolicyName": "tt", "ServiceNamespace": "sagemaker", "ResourceId": RID,
              "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "PolicyType": "TargetTrackingScaling",
              "TargetTrackingScalingPolicyConfiguration": {
                  "TargetValue": 1000.0,
                  "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}}
    return {"targets": [target], "policies": [policy]}


def test_a_json_file_of_requests_loads(workdir):
    scenario = load_experiment(_file_experiment(workdir, _document()))
    assert scenario.autoscaling.policies[0].PolicyName == "tt"


def test_problems_in_the_json_file_name_that_file(workdir):
    document = _document()
    document["policies"][0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = "high"
    path = _file_experiment(workdir, document)
    [problem] = load_problems(path)
    assert problem.file == str(workdir / "scaling.json")
    assert problem.key == "policies[0].TargetTrackingScalingPolicyConfiguration.TargetValue"


def test_json_syntax_error_has_its_line(workdir):
    text = json.dumps(_document(), indent=2).replace('"MinCapacity": 1,', '"MinCapacity": 1,,')
    [problem] = load_problems(_file_experiment(workdir, text))
    assert problem.file == str(workdir / "scaling.json") and "not valid JSON" in problem.message
    assert problem.line == line_number(text, '"MinCapacity": 1,,')


def test_missing_json_file(workdir):
    path = _file_experiment(workdir, "{}")
    (workdir / "scaling.json").unlink()
    [problem] = load_problems(path)
    assert problem.key == "autoscaling.file" and "no such file" in problem.message
    assert problem.line == line_number(path.read_text(), 'file = "scaling.json"')


def test_cli_run_exits_3_and_writes_nothing(workdir):
    path = write(workdir, edit(BASE, [("TargetValue = 1000.0", "TargetValue = 0.0")]))
    out = workdir / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == EXIT_INVALID_INPUT, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "TargetValue" in errors[0] and str(path) in errors[0]
    assert "Traceback" not in result.output
    assert not out.exists()
