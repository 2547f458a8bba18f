"""Inference pipelines and multi-container endpoints, configuration side (issue 14): a variant's
`containers` and `inference_execution_config`, `target_container_hostname` on traffic and in replayed
traces, the fleet's containers and its hostname -> container index rule, and the shipped examples.

Bad input follows `tests/test_bad_input.py`: one problem per case, one line naming the file, the key
path the user wrote and the line it is on. Nothing here runs a pipeline: the engine side lands apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simfleet.config.containers import (MAX_CONTAINERS, NO_TARGET, ContainerDefinition, container_index,
                                        container_problems, default_hostname)
from simfleet.errors import InputError
from simfleet.fleet import build_fleet
from simfleet.rng import RandomStreams
from simfleet.scenario import load_experiment
from simfleet.traffic.hostnames import TargetHostnames
from simfleet.traffic.sources import build_source
from test_bad_input import MODELS, assert_at, assert_exit_invalid, edit, invoke, load_problems, write

ROOT = Path(__file__).resolve().parent.parent
P = "endpoints[0].production_variants[0]"
C = f"{P}.containers"

# A two-container pipeline of the test profile `toy` (c5: 2 workers, 100 MiB each).
PIPE = """\
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
instance_type = "ml.c5.xlarge"
initial_instance_count = 2

[[endpoints.production_variants.containers]]
container_hostname = "pre"
model_name = "toy"

[[endpoints.production_variants.containers]]
container_hostname = "main"
model_name = "toy"

[[traffic]]
kind = "poisson"
rate = 50
"""

SECOND = """
[[endpoints.production_variants.containers]]
container_hostname = "main"
model_name = "toy"
"""

DIRECT = ("initial_instance_count = 2", 'initial_instance_count = 2\ninference_execution_config = { mode = "Direct" }')


def first_model(name: str) -> tuple[str, str]:
    """An edit: the first container serves the profile `name`."""
    return 'container_hostname = "pre"\nmodel_name = "toy"', f'container_hostname = "pre"\nmodel_name = "{name}"'

# A profile like toy with a c5 entry only, so that one container can lack an entry alone.
LITE = (MODELS / "toy.toml").read_text(encoding="utf-8").replace('name = "toy"', 'name = "lite"')
LITE = LITE[: LITE.index("[[service]]\ninstance = \"m5\"")]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    (tmp_path / "models" / "lite.toml").write_text(LITE, encoding="utf-8")
    return tmp_path


def fleet_of(path: Path, overrides=()):
    return build_fleet(load_experiment(path, list(overrides)))


# ---------------------------------------------------------------------------------------------
# good input: what the fleet holds


def test_a_pipeline_loads_and_its_fleet_has_the_containers(workdir):
    [variant] = fleet_of(write(workdir, PIPE)).variants
    assert variant.hostnames == ("pre", "main")
    assert [c.model_name for c in variant.containers] == ["toy", "toy"]
    assert [c.entry.workers for c in variant.containers] == [2, 2]  # toy's c5 entry
    assert not variant.direct and variant.multi_container
    # entry and model_name stay the first container's (what single-container code reads)
    assert variant.entry is variant.containers[0].entry and variant.model_name == "toy"


def test_the_default_mode_is_serial(workdir):
    """AWS: "The default mode is Serial" (Create a multi-container endpoint (Boto 3))."""
    scenario = load_experiment(write(workdir, PIPE))
    spec = scenario.experiment.endpoints[0].production_variants[0]
    assert spec.inference_execution_config is None and spec.execution_mode == "Serial"
    serial = edit(PIPE, [("initial_instance_count = 2", 'initial_instance_count = 2\n'
                                                         'inference_execution_config = { mode = "Serial" }')])
    assert not fleet_of(write(workdir, serial)).variants[0].direct


def test_direct_mode(workdir):
    [variant] = fleet_of(write(workdir, edit(PIPE, [DIRECT]))).variants
    assert variant.direct and variant.hostnames == ("pre", "main")


def test_default_hostnames_are_by_position(workdir):
    """Without any container_hostname a Serial pipeline's containers are container-1, container-2, …
    (AWS assigns names by position but does not document them: simfleet's choice)."""
    text = PIPE.replace('container_hostname = "pre"\n', "").replace('container_hostname = "main"\n', "")
    [variant] = fleet_of(write(workdir, text)).variants
    assert variant.hostnames == ("container-1", "container-2") == (default_hostname(0), default_hostname(1))


def test_container_workers_override_the_profile(workdir):
    text = edit(PIPE, [('container_hostname = "main"\nmodel_name = "toy"',
                        'container_hostname = "main"\nmodel_name = "toy"\nworkers = 5')])
    [variant] = fleet_of(write(workdir, text)).variants
    assert [c.entry.workers for c in variant.containers] == [2, 5]


def test_set_reaches_a_container(workdir):
    [variant] = fleet_of(write(workdir, PIPE), ["endpoints.0.production_variants.0.containers.1.workers=3"]).variants
    assert [c.entry.workers for c in variant.containers] == [2, 3]


def test_fifteen_containers_are_accepted(workdir):
    text = PIPE.replace(SECOND, "") + "".join(
        SECOND.replace('"main"', f'"c{k}"') for k in range(MAX_CONTAINERS - 1))
    [variant] = fleet_of(write(workdir, text)).variants
    assert len(variant.containers) == MAX_CONTAINERS


def test_a_model_name_variant_has_one_container(workdir):
    text = PIPE[: PIPE.index("[[endpoints.production_variants.containers]]")].replace(
        'variant_name = "A"', 'variant_name = "A"\nmodel_name = "toy"') + '[[traffic]]\nkind = "poisson"\nrate = 50\n'
    [variant] = fleet_of(write(workdir, text)).variants
    [container] = variant.containers
    assert container.hostname == "container-1" and container.model_name == "toy"
    assert container.entry is variant.entry and not variant.direct and not variant.multi_container


def test_a_profile_may_serve_several_containers_and_the_variant_names_its_models(workdir):
    text = edit(PIPE, [first_model("lite")])
    scenario = load_experiment(write(workdir, text))
    assert set(scenario.profiles) == {"lite", "toy"}  # every container's profile is loaded


# ---------------------------------------------------------------------------------------------
# hostnames on requests are resolved at run time, never refused when well formed


@pytest.mark.parametrize("direct, hostname", [
    (True, "nope"),  # no container has it
    (True, None),  # none on a Direct variant
    (False, "pre"),  # one on a Serial pipeline
    (False, "anything"),
])
def test_target_hostnames_that_sagemaker_answers_with_400_are_accepted(workdir, direct, hostname):
    text = edit(PIPE, [DIRECT] if direct else [])
    if hostname is not None:
        text = edit(text, [("rate = 50", f'rate = 50\ntarget_container_hostname = "{hostname}"')])
    scenario = load_experiment(write(workdir, text))
    assert scenario.experiment.traffic[0].target_container_hostname == hostname


def test_a_hostname_on_a_single_container_endpoint_is_accepted(workdir):
    from test_bad_input import BASE
    text = edit(BASE, [("rate = 50", 'rate = 50\ntarget_container_hostname = "main"')])
    [variant] = fleet_of(write(workdir, text)).variants
    assert variant.container_index("main") == 1  # unknown: the engine answers 400


def test_users_may_name_a_container(workdir):
    text = edit(PIPE, [DIRECT, ('kind = "poisson"\nrate = 50', 'kind = "users"\nusers = 4\n'
                                                               'target_container_hostname = "main"')])
    scenario = load_experiment(write(workdir, text))
    assert scenario.experiment.traffic[0].target_container_hostname == "main"


def test_hostnames_resolve_per_variant(workdir):
    """One source naming `main` reaches two variants whose containers differ: index 1 in A, unknown in B."""
    second = ('[[endpoints.production_variants]]\nvariant_name = "B"\ninstance_type = "ml.c5.xlarge"\n'
              'initial_instance_count = 1\ninference_execution_config = { mode = "Direct" }\n\n'
              '[[endpoints.production_variants.containers]]\ncontainer_hostname = "x"\nmodel_name = "toy"\n\n'
              '[[endpoints.production_variants.containers]]\ncontainer_hostname = "y"\nmodel_name = "toy"\n\n'
              '[[traffic]]')
    text = edit(PIPE, [DIRECT, ("\n[[traffic]]", "\n" + second),
                       ("rate = 50", 'rate = 50\ntarget_container_hostname = "main"')])
    a, b = fleet_of(write(workdir, text)).variants
    assert (a.container_index("main"), b.container_index("main")) == (1, 2)


def test_hostname_to_index_rule(workdir):
    """Index of the named container; -1 for no hostname; len(containers) for an unknown one."""
    [variant] = fleet_of(write(workdir, edit(PIPE, [DIRECT]))).variants
    assert variant.container_index("pre") == 0 and variant.container_index("main") == 1
    assert variant.container_index(None) == NO_TARGET == -1
    assert variant.container_index("nope") == 2 == len(variant.containers)
    assert variant.container_index("Main") == 2  # compared exactly


def test_container_index_without_a_fleet():
    assert container_index(("a", "b"), "b") == 1
    assert container_index(("a", "b"), None) == -1
    assert container_index(("a", "b"), "c") == 2
    assert container_index((), "a") == 0 and container_index((), None) == -1


# ---------------------------------------------------------------------------------------------
# the rules AWS enforces on containers, without a file


def containers(*hostnames):
    return [ContainerDefinition(container_hostname=h, model_name="toy") for h in hostnames]


@pytest.mark.parametrize("hostnames, mode, fragment", [
    ((None,), "Serial", "2 to 15 containers, got 1"),
    ((None,) * 16, "Serial", "2 to 15 containers, got 16"),
    (("a", None), "Serial", "every container or to none"),
    ((None, None), "Direct", "every container needs a container_hostname"),
    (("a", None), "Direct", "every container needs a container_hostname"),
    (("a", "a"), "Serial", "repeated: a"),
    (("a", "b", "a", "b"), "Direct", "repeated: a, b"),
])
def test_container_rules(hostnames, mode, fragment):
    [message] = container_problems(containers(*hostnames), mode)
    assert fragment in message


@pytest.mark.parametrize("hostnames, mode", [
    ((None, None), "Serial"), (("a", "b"), "Serial"), (("a", "b"), "Direct"), ((None,) * 15, "Serial"),
    (("a", "A"), "Direct"),  # exact comparison: AWS does not say whether case matters
])
def test_valid_containers(hostnames, mode):
    assert container_problems(containers(*hostnames), mode) == []


# ---------------------------------------------------------------------------------------------
# bad input: one problem each, one line naming the file, key and line


def _sixteen() -> str:
    return PIPE + "".join(SECOND.replace('"main"', f'"c{k}"') for k in range(14))


CASES = [
    ("model-name-and-containers", [('variant_name = "A"', 'variant_name = "A"\nmodel_name = "toy"')],
     {P: "[[endpoints.production_variants]]"}, ("exactly one of model_name", "containers")),
    ("neither-model-name-nor-containers", [(SECOND, ""), ('[[endpoints.production_variants.containers]]\n'
                                                          'container_hostname = "pre"\nmodel_name = "toy"\n', "")],
     {P: "[[endpoints.production_variants]]"}, ("exactly one of model_name",)),
    ("one-container", [(SECOND, "")], {C: "[[endpoints.production_variants.containers]]"},
     ("2 to 15 containers, got 1", "model_name instead")),
    ("direct-without-hostnames", [DIRECT, ('container_hostname = "pre"\n', ""), ('container_hostname = "main"\n', "")],
     {C: ("[[endpoints.production_variants.containers]]", 1)},
     ("Direct", "every container needs a container_hostname")),
    ("direct-with-one-hostname-missing", [DIRECT, ('container_hostname = "main"\n', "")],
     {C: ("[[endpoints.production_variants.containers]]", 1)}, ("every container needs a container_hostname",)),
    ("serial-with-some-hostnames", [('container_hostname = "main"\n', "")],
     {C: ("[[endpoints.production_variants.containers]]", 1)}, ("to every container or to none",)),
    ("duplicate-hostnames", [('container_hostname = "main"', 'container_hostname = "pre"')],
     {C: ("[[endpoints.production_variants.containers]]", 1)}, ("unique", "repeated: pre")),
    ("hostname-underscore", [('container_hostname = "main"', 'container_hostname = "main_1"')],
     {f"{C}[1].container_hostname": 'container_hostname = "main_1"'}, ("hostname", "ContainerHostname", "'main_1'")),
    ("hostname-leading-hyphen", [('container_hostname = "main"', 'container_hostname = "-main"')],
     {f"{C}[1].container_hostname": 'container_hostname = "-main"'}, ("hostname", "'-main'")),
    ("hostname-too-long", [('container_hostname = "main"', f'container_hostname = "{"m" * 64}"')],
     {f"{C}[1].container_hostname": "container_hostname = \"mmm"}, ("1 to 63 characters, got 64",)),
    ("hostname-empty", [('container_hostname = "main"', 'container_hostname = ""')],
     {f"{C}[1].container_hostname": 'container_hostname = ""'}, ("1 to 63 characters, got 0",)),
    ("hostname-not-a-string", [('container_hostname = "main"', "container_hostname = 7")],
     {f"{C}[1].container_hostname": "container_hostname = 7"}, ("valid string", "7")),
    ("mode-unknown", [("initial_instance_count = 2",
                       'initial_instance_count = 2\ninference_execution_config = { mode = "Parallel" }')],
     {f"{P}.inference_execution_config.mode": "inference_execution_config"}, ("'Serial'", "'Direct'", "'Parallel'")),
    ("mode-upper-case", [("initial_instance_count = 2",
                          'initial_instance_count = 2\ninference_execution_config = { mode = "DIRECT" }')],
     {f"{P}.inference_execution_config.mode": "inference_execution_config"}, ("'Serial'", "'Direct'", "'DIRECT'")),
    ("mode-missing", [("initial_instance_count = 2", "initial_instance_count = 2\ninference_execution_config = {}")],
     {f"{P}.inference_execution_config.mode": "inference_execution_config"}, ("required key is missing",)),
    ("variant-workers-with-containers", [("initial_instance_count = 2", "initial_instance_count = 2\nworkers = 3")],
     {f"{P}.workers": "workers = 3"}, ("each container its own workers",)),
    ("container-unknown-key", [('container_hostname = "main"', 'container_hostname = "main"\nimage = "x"')],
     {f"{C}[1].image": 'image = "x"'}, ("unknown key",)),
    ("container-without-model", [('model_name = "toy"\n\n[[traffic]]', "\n[[traffic]]")],
     {f"{C}[1].model_name": ("[[endpoints.production_variants.containers]]", 2), f"{C}[1]": (
         "[[endpoints.production_variants.containers]]", 2)}, ("required key is missing",)),
    ("container-unknown-model", [('container_hostname = "main"\nmodel_name = "toy"',
                                  'container_hostname = "main"\nmodel_name = "toyy"')],
     {f"{C}[1].model_name": 'model_name = "toyy"'}, ("unknown model 'toyy'", "toy")),
    ("container-workers-zero", [('container_hostname = "main"\nmodel_name = "toy"',
                                 'container_hostname = "main"\nmodel_name = "toy"\nworkers = 0')],
     {f"{C}[1].workers": "workers = 0"}, ("greater than or equal to 1", "0")),
    ("container-without-service-entry", [first_model("lite"), ("ml.c5.xlarge", "ml.m5.xlarge")],
     {f"{C}[0].model_name": 'model_name = "lite"'}, ("model 'lite' has no service entry for ml.m5.xlarge", "c5")),
    # 1000 workers x 100 MiB = 97.7 GiB on a 4 GiB ml.c5.large
    ("container-does-not-fit", [("ml.c5.xlarge", "ml.c5.large"),
                                ('container_hostname = "main"\nmodel_name = "toy"',
                                 'container_hostname = "main"\nmodel_name = "toy"\nworkers = 1000')],
     {f"{C}[1].model_name": ('model_name = "toy"', 2)}, ("1000 workers of 'toy'", "97.7 GiB", "4.0 GiB")),
    # each 30 x 100 MiB = 2.9 GiB fits 4 GiB alone; together 5.9 GiB do not
    ("containers-do-not-fit-together", [("ml.c5.xlarge", "ml.c5.large"),
                                        ('container_hostname = "pre"\nmodel_name = "toy"',
                                         'container_hostname = "pre"\nmodel_name = "toy"\nworkers = 30'),
                                        ('container_hostname = "main"\nmodel_name = "toy"',
                                         'container_hostname = "main"\nmodel_name = "toy"\nworkers = 30')],
     {f"{P}.instance_type": "instance_type"}, ("2 containers together need 5.9 GiB", "ml.c5.large has 4.0 GiB")),
    ("target-hostname-malformed", [("rate = 50", 'rate = 50\ntarget_container_hostname = "pre main"')],
     {"traffic[0].target_container_hostname": "target_container_hostname"}, ("hostname", "'pre main'")),
    ("target-hostname-empty", [("rate = 50", 'rate = 50\ntarget_container_hostname = ""')],
     {"traffic[0].target_container_hostname": "target_container_hostname"}, ("1 to 63 characters, got 0",)),
    ("target-hostname-not-a-string", [("rate = 50", "rate = 50\ntarget_container_hostname = 3")],
     {"traffic[0].target_container_hostname": "target_container_hostname"}, ("valid string", "3")),
    ("target-hostname-list", [("rate = 50", 'rate = 50\ntarget_container_hostname = ["pre"]')],
     {"traffic[0].target_container_hostname": "target_container_hostname"}, ("valid string",)),
]


@pytest.mark.parametrize("name, edits, at, expect", CASES, ids=[c[0] for c in CASES])
def test_bad_pipeline_reported_and_located(workdir, name, edits, at, expect):
    text = edit(PIPE, edits)
    path = write(workdir, text)
    [problem] = load_problems(path)
    assert problem.file == str(path)
    for fragment in expect:
        assert fragment in problem.message, f"{fragment!r} not in {problem}"
    assert_at(problem, text, at)


def test_sixteen_containers_refused(workdir):
    text = _sixteen()
    [problem] = load_problems(write(workdir, text))
    assert problem.key == C and "2 to 15 containers, got 16" in problem.message


def test_several_container_problems_reported_at_once(workdir):
    text = edit(PIPE, [('container_hostname = "main"', 'container_hostname = "main_1"'),
                       first_model("toyy"),
                       ("rate = 50", 'rate = 50\ntarget_container_hostname = "a.b"')])
    problems = load_problems(write(workdir, text))
    assert {p.key for p in problems} == {f"{C}[1].container_hostname", f"{C}[0].model_name",
                                         "traffic[0].target_container_hostname"}
    text = edit(PIPE, [first_model("toyy"),
                       ("initial_instance_count = 2", "initial_instance_count = 2\nworkers = 3")])
    problems = load_problems(write(workdir, text))
    assert {p.key for p in problems} == {f"{C}[0].model_name", f"{P}.workers"}


def test_pascal_case_mode_is_an_unknown_key(workdir):
    """AWS spells it Mode; the experiment file spells it snake_case, as every other key."""
    text = edit(PIPE, [("initial_instance_count = 2",
                        'initial_instance_count = 2\ninference_execution_config = { Mode = "Direct" }')])
    problems = load_problems(write(workdir, text))
    assert {(p.key, p.message) for p in problems} == {
        (f"{P}.inference_execution_config.Mode", "unknown key (check its spelling and the documented keys)"),
        (f"{P}.inference_execution_config.mode", "required key is missing")}


def test_cli_validate_rejects_a_bad_pipeline(workdir):
    path = write(workdir, edit(PIPE, [('container_hostname = "main"', 'container_hostname = "pre"')]))
    [line] = assert_exit_invalid(invoke("validate", path))
    assert line.startswith(f"error: {path}:") and f"{C}:" in line and "repeated: pre" in line


# ---------------------------------------------------------------------------------------------
# traffic sources hand the engine each request's hostname


def source_of(path: Path, index: int = 0):
    scenario = load_experiment(path)
    spec = scenario.experiment.traffic[index]
    start = scenario.experiment.experiment.start_time.timestamp()
    return build_source(spec, "ep", index, scenario.experiment.experiment.duration, start, scenario.base_dir,
                        RandomStreams(1))


def test_a_source_without_hostname_hands_none(workdir):
    part = source_of(write(workdir, PIPE)).take_until(60.0)
    assert len(part.times) > 0 and part.hostnames is None


def test_a_fixed_hostname_names_every_request(workdir):
    text = edit(PIPE, [DIRECT, ("rate = 50", 'rate = 50\ntarget_container_hostname = "main"')])
    source = source_of(write(workdir, text))
    for until in (30.0, 60.0, 120.0):
        part = source.take_until(until)
        assert part.hostnames.names == ("main",) and len(part.hostnames) == len(part.times) > 0
        assert set(part.hostnames.values()) == {"main"}


def replay(workdir: Path, trace: str, extra: str, name: str = "trace.csv") -> Path:
    if isinstance(trace, str):
        (workdir / name).write_text(trace, encoding="utf-8")
    else:
        pq.write_table(trace, workdir / name)
    text = edit(PIPE, [DIRECT, ('kind = "poisson"\nrate = 50', f'kind = "replay"\nfile = "{name}"\n'
                                                               'time_column = "ts"' + extra)])
    return write(workdir, text)


COLUMN = '\ntarget_container_hostname_column = "target_container_hostname"'


def test_a_trace_column_names_each_request_in_time_order(workdir):
    trace = ("ts,target_container_hostname\n3.0,main\n1.0,pre\n2.0,\n500.0,pre\n4.0,123\n0.5,main\n")
    source = source_of(replay(workdir, trace, COLUMN))
    first = source.take_until(2.5)
    assert first.times.tolist() == [0.5, 1.0, 2.0]
    assert first.hostnames.values() == ["main", "pre", None]  # an empty cell names no container
    second = source.take_until(200.0)  # 500 s is past the 2 min run
    assert second.times.tolist() == [3.0, 4.0] and second.hostnames.values() == ["main", "123"]  # digits stay text
    assert second.hostnames.names is first.hostnames.names  # one table for the whole run


def test_a_parquet_trace_column(workdir):
    table = pa.table({"ts": [1.0, 2.0, 3.0], "target_container_hostname": ["pre", None, "main"]})
    part = source_of(replay(workdir, table, COLUMN, "trace.parquet")).take_until(120.0)
    assert part.hostnames.values() == ["pre", None, "main"]


def test_a_trace_without_the_column_key_hands_none_or_the_fixed_name(workdir):
    trace = "ts,target_container_hostname\n1.0,main\n"
    assert source_of(replay(workdir, trace, "")).take_until(120.0).hostnames is None
    part = source_of(replay(workdir, trace, '\ntarget_container_hostname = "pre"')).take_until(120.0)
    assert part.hostnames.values() == ["pre"]


@pytest.mark.parametrize("value", ["bad_name", "-x", "m" * 64, "two words"])
def test_a_malformed_hostname_in_a_trace_is_refused_by_validation(workdir, value):
    """Read by validation as the run reads it, so that `validate` refuses it and a run never starts."""
    path = replay(workdir, f"ts,target_container_hostname\n1.0,pre\n2.0,{value}\n", COLUMN)
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    [problem] = caught.value.problems
    assert Path(problem.file).resolve() == (workdir / "trace.csv").resolve()
    assert problem.key == "traffic[0].target_container_hostname_column"
    assert repr(value) in problem.message and "hostname" in problem.message
    assert "\n" not in str(problem)


def test_a_non_text_parquet_hostname_column_is_refused(workdir):
    path = replay(workdir, pa.table({"ts": [1.0], "target_container_hostname": [7]}), COLUMN, "trace.parquet")
    with pytest.raises(InputError) as caught:
        source_of(path)
    [problem] = caught.value.problems
    assert problem.key == "traffic[0].target_container_hostname_column" and "text" in problem.message


def test_a_missing_hostname_column_is_found_by_validation(workdir):
    path = replay(workdir, "ts,bytes\n1.0,100\n", COLUMN)
    [problem] = load_problems(path)
    assert problem.key == "traffic[0].target_container_hostname_column"
    assert "no column 'target_container_hostname'" in problem.message and "columns: ts, bytes" in problem.message
    assert problem.line == path.read_text().splitlines().index(COLUMN.strip()) + 1


def test_a_fixed_hostname_and_a_column_together_are_refused(workdir):
    path = replay(workdir, "ts,target_container_hostname\n1.0,pre\n", COLUMN + '\ntarget_container_hostname = "pre"')
    [problem] = load_problems(path)
    assert problem.key == "traffic[0]" and "not both" in problem.message


def test_hostnames_of_a_part():
    a = TargetHostnames(("x", "y"), np.array([1, -1, 0], dtype=np.int32))
    assert a.values() == ["y", None, "x"]
    assert a.take(1, 3).values() == [None, "x"]
    assert TargetHostnames.fixed("y", 2).values() == ["y", "y"]


# ---------------------------------------------------------------------------------------------
# the shipped examples (they run once the engine side of issue 14 lands)


def test_the_pipeline_example():
    [variant] = build_fleet(load_experiment(ROOT / "experiments" / "pipeline.toml")).variants
    assert not variant.direct and len(variant.containers) == 3
    assert [c.model_name for c in variant.containers] == ["sklearn-featurizer", "xgboost-tabular",
                                                          "sklearn-postprocessor"]


def test_the_multi_container_example():
    scenario = load_experiment(ROOT / "experiments" / "multi-container.toml")
    [variant] = build_fleet(scenario).variants
    assert variant.direct and len(variant.containers) == 3
    named = [variant.container_index(t.target_container_hostname) for t in scenario.experiment.traffic]
    assert sorted(named) == [0, 1, 2]  # each source names a different container
    rates = [t.rate for t in scenario.experiment.traffic]
    assert len(set(rates)) == 3  # uneven traffic
