"""The sweep file expanded into runs: grid, zip and sampled axes, seeds, run ids, partitions, and
every problem a sweep file can have, reported with its line.

Expected points are built here with plain nested loops; expected seeds and run ids are computed
from their definitions (SeedSequence of the point's canonical JSON; sha256 of the resolved
experiment); expected line numbers are found in the test's own TOML text, never taken from
simfleet's line scanner.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simfleet.errors import InputError
from simfleet.scenario import scenario_from_dict
from simfleet.sweep.plan import RunPlan, SweepPlan, load_sweep
from simfleet.version import simfleet_version

ROOT = Path(__file__).parents[1]
QUICKSTART = ROOT / "experiments" / "quickstart.toml"
V0 = "endpoints.0.production_variants.0"
HEAD = """\
[sweep]
name = "t"
base = "base.toml"
seed = 7
set = { "experiment.duration" = "2min" }
"""
SETTINGS = settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(directory: Path, body: str, base: str | None = None) -> Path:
    """A sweep file `sweep.toml` next to a copy of the quickstart experiment as `base.toml`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "base.toml").write_text(base if base is not None else QUICKSTART.read_text())
    path = directory / "sweep.toml"
    path.write_text(body)
    return path


def line(text: str, needle: str, occurrence: int = 0) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    found = [n for n, text_line in enumerate(text.splitlines(), start=1) if needle in text_line]
    return found[occurrence]


def problems(path: Path, overrides=()) -> set[tuple[str, str, int | None]]:
    with pytest.raises(InputError) as caught:
        load_sweep(path, overrides)
    for problem in caught.value.problems:
        assert "\n" not in str(problem)
    return {(p.file, p.key, p.line) for p in caught.value.problems}


def messages(path: Path, overrides=()) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        load_sweep(path, overrides)
    return {p.key: p.message for p in caught.value.problems}


def naive_seed(sweep_seed: int, point: dict) -> int:
    text = json.dumps(point, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).digest()
    key = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return int(np.random.SeedSequence(sweep_seed, spawn_key=key).generate_state(2, np.uint64)[0]) % 2**63


def get(raw, key: str):
    for part in key.split("."):
        raw = raw[int(part)] if part.isdigit() else raw[part]
    return raw


def ranged(low, high, key="traffic.0.rate", name="rate", scale="linear", integer=False) -> str:
    return (f'[[axes]]\nname = "{name}"\nkey = "{key}"\nlow = {low!r}\nhigh = {high!r}\n'
            f'scale = "{scale}"\ninteger = {str(integer).lower()}\n')


def grid(values, key="traffic.0.rate", name="rate") -> str:
    return f'[[axes]]\nname = "{name}"\nkey = "{key}"\nvalues = {json.dumps(values)}\n'


# ---------------------------------------------------------------------------------------------
# Expansion

TYPES = ["ml.c5.xlarge", "ml.c6i.xlarge", "ml.m5.xlarge"]
ROWS = [[200, "2 KB"], [400, "4 KB"]]
GRID = HEAD + "replicates = 2\n" + grid(TYPES, f"{V0}.instance_type", "instance_type") + f"""
[[axes]]
key = "{V0}.initial_instance_count"
values = [1, 3]

[[axes]]
names = ["rate", "payload_median"]
keys = ["traffic.0.rate", "traffic.0.payload.median"]
values = {json.dumps(ROWS)}
"""


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory) -> SweepPlan:
    return load_sweep(write(tmp_path_factory.mktemp("grid"), GRID))


def test_grid_and_zip_expand_to_the_product_times_replicates(grid_plan):
    expected = [{"instance_type": t, "initial_instance_count": n, "rate": r, "payload_median": m, "replicate": k}
                for t in TYPES for n in (1, 3) for r, m in ROWS for k in range(2)]
    assert [run.point for run in grid_plan.runs] == expected
    assert all(list(run.point) == list(expected[0]) for run in grid_plan.runs)   # axis order, then replicate
    assert grid_plan.axis_names == ("instance_type", "initial_instance_count", "rate", "payload_median")
    assert grid_plan.column_types == {"instance_type": "string", "initial_instance_count": "int64",
                                      "rate": "int64", "payload_median": "string"}
    assert len({run.run_id for run in grid_plan.runs}) == len(grid_plan.runs) == 3 * 2 * 2 * 2


def test_each_run_is_the_base_with_its_point_and_seed(grid_plan):
    keys = {"instance_type": f"{V0}.instance_type", "initial_instance_count": f"{V0}.initial_instance_count",
            "rate": "traffic.0.rate", "payload_median": "traffic.0.payload.median"}
    for run in grid_plan.runs:
        raw = grid_plan.experiment_dict(run)
        for name, key in keys.items():
            assert get(raw, key) == run.point[name]
            assert (key, run.point[name]) in run.overrides
        assert raw["experiment"]["seed"] == run.seed
        assert raw["experiment"]["duration"] == "2min"                     # [sweep] set
        assert raw["endpoints"][0]["production_variants"][1] == grid_plan.base_raw["endpoints"][0][
            "production_variants"][1]                                         # untouched
    assert grid_plan.base_raw["experiment"]["duration"] == "1h"               # base itself unchanged
    scenario = grid_plan.scenario(grid_plan.runs[-1])
    assert scenario.experiment.endpoints[0].production_variants[0].instance_type == "ml.m5.xlarge"
    assert scenario.experiment.experiment.duration == 120


def test_seeds_follow_their_definition_and_replicates_differ(grid_plan):
    for run in grid_plan.runs:
        assert run.seed == naive_seed(7, run.point)
        assert 0 <= run.seed < 2**63
    assert len({run.seed for run in grid_plan.runs}) == len(grid_plan.runs)


def test_run_id_is_sha256_of_the_resolved_experiment_seed_and_version(grid_plan):
    version = simfleet_version()
    for run in grid_plan.runs[:4]:
        text = json.dumps({"experiment": grid_plan.experiment_dict(run), "seed": run.seed, "simfleet": version},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=lambda v: v.isoformat())
        assert run.run_id == hashlib.sha256(text.encode()).hexdigest()[:16]


def test_run_ids_are_stable_and_change_with_any_override_or_seed(tmp_path, grid_plan):
    path = write(tmp_path / "a", GRID)
    again = load_sweep(path)
    assert [r.run_id for r in again.runs] == [r.run_id for r in grid_plan.runs]
    assert again.sweep_hash == grid_plan.sweep_hash
    changed = load_sweep(path, ["traffic.0.payload.sigma=0.5"])
    assert [r.seed for r in changed.runs] == [r.seed for r in grid_plan.runs]
    assert not {r.run_id for r in changed.runs} & {r.run_id for r in grid_plan.runs}
    assert changed.sweep_hash != grid_plan.sweep_hash
    reseeded = load_sweep(write(tmp_path / "b", GRID.replace("seed = 7", "seed = 8")))
    assert not {r.seed for r in reseeded.runs} & {r.seed for r in grid_plan.runs}
    assert not {r.run_id for r in reseeded.runs} & {r.run_id for r in grid_plan.runs}
    # A comment in the base changes nothing; a value does.
    comment = load_sweep(write(tmp_path / "c", GRID, QUICKSTART.read_text() + "\n# note\n"))
    assert comment.sweep_hash == grid_plan.sweep_hash
    base = QUICKSTART.read_text().replace("sigma = 0.4", "sigma = 0.5")
    valued = load_sweep(write(tmp_path / "d", GRID, base))
    assert valued.sweep_hash != grid_plan.sweep_hash
    assert [r.run_id for r in valued.runs] == [r.run_id for r in changed.runs]


def test_a_run_id_changes_with_one_override_value():
    plan = SweepPlan("t", Path("s.toml"), QUICKSTART, {"experiment": {"seed": 0}}, (), (), (), "")
    one = RunPlan("", {}, (("experiment.duration", "2min"),), 5, ())
    two = RunPlan("", {}, (("experiment.duration", "3min"),), 5, ())
    assert plan.experiment_dict(one) == {"experiment": {"seed": 5, "duration": "2min"}}
    assert plan.experiment_dict(one) != plan.experiment_dict(two)


def test_default_partitions_are_axes_with_at_most_16_values(tmp_path):
    body = HEAD + grid(list(range(100, 117)), "traffic.0.rate", "rate") + grid(
        [0.1, 0.25], f"{V0}.initial_variant_weight", "weight") + grid(["ml.c5.xlarge"], f"{V0}.instance_type", "it")
    plan = load_sweep(write(tmp_path, body))
    assert plan.partition_by == ("weight", "it")                 # rate has 17 values
    assert {run.partition for run in plan.runs} == {(("weight", "0.1"), ("it", "ml.c5.xlarge")),
                                                   (("weight", "0.25"), ("it", "ml.c5.xlarge"))}
    explicit = body.replace("seed = 7", 'seed = 7\npartition_by = ["rate", "it"]')
    plan = load_sweep(write(tmp_path / "e", explicit))
    assert plan.partition_by == ("rate", "it")
    assert all(run.partition == (("rate", str(run.point["rate"])), ("it", "ml.c5.xlarge")) for run in plan.runs)
    assert len(plan.runs) == 17 * 2


# ---------------------------------------------------------------------------------------------
# Sampled axes

def sampled_body(method: str, count: int, rate: tuple, weight: tuple, scale="linear") -> str:
    return (HEAD + f'\n[sweep.sampling]\nmethod = "{method}"\ncount = {count}\n' + ranged(*rate)
            + ranged(*weight, key=f"{V0}.initial_variant_weight", name="weight", scale=scale)
            + grid(["ml.c5.xlarge", "ml.m5.xlarge"], f"{V0}.instance_type", "it"))


def strata(values, low, high, count, log=False):
    f = (lambda v: math.log(v)) if log else (lambda v: v)
    return sorted(min(int((f(v) - f(low)) / (f(high) - f(low)) * count), count - 1) for v in values)


bounds = st.tuples(st.floats(0.5, 500), st.floats(1.01, 20)).map(lambda t: (round(t[0], 3), round(t[0] * t[1], 3)))


@SETTINGS
@given(count=st.integers(1, 8), rate=bounds, weight=bounds, log=st.booleans(), seed=st.integers(0, 2**40))
def test_lhs_puts_one_sample_in_each_stratum_of_every_axis(tmp_path, count, rate, weight, log, seed):
    body = sampled_body("lhs", count, rate, weight, "log" if log else "linear").replace("seed = 7", f"seed = {seed}")
    plan = load_sweep(write(tmp_path, body))
    assert len(plan.runs) == count * 2
    for it in ("ml.c5.xlarge", "ml.m5.xlarge"):
        points = [run.point for run in plan.runs if run.point["it"] == it]
        assert strata([p["rate"] for p in points], *rate, count) == list(range(count))
        assert strata([p["weight"] for p in points], *weight, count, log) == list(range(count))
    assert plan.sampling == {"method": "lhs", "count": count}
    assert plan.partition_by == ("it",)                                    # sampled axes are not partitions


@SETTINGS
@given(count=st.integers(1, 10), rate=bounds, weight=bounds, log=st.booleans())
def test_random_sampling_stays_within_bounds(tmp_path, count, rate, weight, log):
    plan = load_sweep(write(tmp_path, sampled_body("random", count, rate, weight, "log" if log else "linear")))
    assert len(plan.runs) == count * 2
    for run in plan.runs:
        assert rate[0] <= run.point["rate"] <= rate[1]
        assert weight[0] <= run.point["weight"] <= weight[1]
        assert plan.experiment_dict(run)["traffic"][0]["rate"] == run.point["rate"]


def test_log_scale_spreads_evenly_in_log_space(tmp_path):
    plan = load_sweep(write(tmp_path, sampled_body("lhs", 20, (1, 2), (0.01, 100.0), "log")))
    weights = [run.point["weight"] for run in plan.runs if run.point["it"] == "ml.c5.xlarge"]
    below_one = sum(w < 1 for w in weights)
    assert below_one == 10          # half the strata of log10 in [-2, 2] lie below 0; linear would give ~0


def test_integer_axes_round_and_repeated_points_run_once(tmp_path):
    body = HEAD + '\n[sweep.sampling]\nmethod = "lhs"\ncount = 20\n' + ranged(
        1, 4, key=f"{V0}.initial_instance_count", name="instances", integer=True)
    plan = load_sweep(write(tmp_path, body))
    values = [run.point["instances"] for run in plan.runs]
    assert all(type(v) is int for v in values)
    assert sorted(values) == [1, 2, 3, 4]     # every stratum holds a sample; rounding repeats are run once
    assert plan.column_types == {"instances": "int64"}


def test_sampling_is_deterministic_in_the_sweep_seed(tmp_path):
    body = sampled_body("lhs", 5, (10, 100), (1, 2))
    one = load_sweep(write(tmp_path / "a", body))
    two = load_sweep(write(tmp_path / "b", body))
    three = load_sweep(write(tmp_path / "c", body.replace("seed = 7", "seed = 9")))
    assert [r.point for r in one.runs] == [r.point for r in two.runs]
    assert [r.point for r in one.runs] != [r.point for r in three.runs]


# ---------------------------------------------------------------------------------------------
# Seeds do not depend on positions

@SETTINGS
@given(values=st.lists(st.integers(1, 2000), min_size=1, max_size=5, unique=True), extra=st.integers(2001, 3000),
       order=st.randoms(use_true_random=False), replicates=st.integers(1, 2))
def test_adding_or_reordering_values_keeps_the_seeds_of_existing_points(tmp_path, values, extra, order, replicates):
    head = HEAD + f"replicates = {replicates}\n"
    before = load_sweep(write(tmp_path / "a", head + grid(values)))
    changed = values + [extra]
    order.shuffle(changed)
    after = load_sweep(write(tmp_path / "b", head + grid(changed)))
    by_point = {json.dumps(r.point, sort_keys=True): (r.seed, r.run_id) for r in after.runs}
    assert len(after.runs) == len(before.runs) + replicates
    for run in before.runs:
        assert by_point[json.dumps(run.point, sort_keys=True)] == (run.seed, run.run_id)


# ---------------------------------------------------------------------------------------------
# Problems, each with its line

def test_unknown_keys_in_the_sweep_file(tmp_path):
    text = HEAD + "replicats = 2\n" + grid([1, 2]) + "valeus = [3]\n"
    path = write(tmp_path, text)
    assert problems(path) == {(str(path), "sweep.replicats", line(text, "replicats")),
                              (str(path), "axes[0].valeus", line(text, "valeus"))}


def test_count_below_one_and_bad_seed(tmp_path):
    text = HEAD.replace("seed = 7", "seed = -1") + "\n[sweep.sampling]\ncount = 0\n" + ranged(1, 2)
    path = write(tmp_path, text)
    assert problems(path) == {(str(path), "sweep.seed", line(text, "seed = -1")),
                              (str(path), "sweep.sampling.count", line(text, "count = 0"))}


def test_every_structural_problem_is_reported_at_once_with_its_line(tmp_path):
    text = (HEAD.replace('set = {', 'partition_by = ["rate", "nope"]\nset = {')
            + grid([1, 2])                                                  # rate
            + grid([3], "traffic.0.payload.sigma", "rate")                  # duplicate name
            + '[[axes]]\nkey = "traffic.0"\nvalues = [1]\n'                 # default name "0" is not a name
            + grid([], f"{V0}.initial_variant_weight", "empty")
            + '[[axes]]\nnames = ["a", "b"]\nkeys = ["traffic.0.payload.median", "traffic.0.kind"]\n'
              'values = [["2 KB", "poisson"], ["3 KB"]]\n'
            + ranged(5, 5, f"{V0}.model_error_rate", "flat")
            + ranged(0, 1, "endpoints.0.production_variants.1.initial_variant_weight", "logged", scale="log")
            + grid([1], "endpoints.3.production_variants.0.initial_instance_count", "far")
            + grid([1], "traffic.0.shape.level", "deep")
            + grid([1, "2"], "endpoints.0.production_variants.1.initial_instance_count", "mixed"))
    path = write(tmp_path, text)
    f = str(path)
    assert problems(path) == {
        (f, "sweep.partition_by[1]", line(text, "partition_by")),
        (f, "axes[1].name", line(text, 'name = "rate"', 1)),
        (f, "axes[2].name", line(text, 'key = "traffic.0"') - 1),           # the [[axes]] header
        (f, "axes[3].values", line(text, "values = []")),
        (f, "axes[4].values[1]", line(text, '["3 KB"]')),
        (f, "axes[5].low", line(text, "low = 5")),
        (f, "axes[6].low", line(text, "low = 0")),
        (f, "axes[5]", line(text, 'name = "flat"') - 1),                    # range axes without sampling
        (f, "axes[7].key", line(text, "endpoints.3.")),
        (f, "axes[8].key", line(text, "traffic.0.shape.level")),
        (f, "axes[9].values[1]", line(text, 'values = [1, "2"]')),
    }
    found = messages(path)
    assert "at least one value" in found["axes[3].values"]
    assert "out of range" in found["axes[7].key"]
    assert "used twice" in found["axes[1].name"]


def test_sampling_without_range_axes(tmp_path):
    text = HEAD + '\n[sweep.sampling]\ncount = 3\n' + grid([1, 2])
    path = write(tmp_path, text)
    assert problems(path) == {(str(path), "sweep.sampling", line(text, "[sweep.sampling]"))}


def test_a_bad_axis_value_is_blamed_on_its_line(tmp_path):
    text = (HEAD + grid(["ml.c5.xlarge", "ml.c5.huge", "ml.p3.2xlarge"], f"{V0}.instance_type", "it")
            + '[[axes]]\nnames = ["rate", "median"]\nkeys = ["traffic.0.rate", "traffic.0.payload.median"]\n'
              'values = [\n  [200, "2 KB"],\n  [-5, "4 KB"],\n]\n'
            + '\n[sweep.sampling]\ncount = 4\n' + ranged(0.5, 3.0, f"{V0}.model_error_rate", "err"))
    path = write(tmp_path, text)
    f = str(path)
    # Rows of a multi-line array are located at the array's key.
    assert problems(path) == {(f, "axes[0].values[1]", line(text, "ml.c5.huge")),
                              (f, "axes[0].values[2]", line(text, "ml.c5.huge")),
                              (f, "axes[1].values[1][0]", line(text, "values = [", 1)),
                              (f, "axes[2]", line(text, 'name = "err"') - 1)}
    found = messages(path)
    assert found["axes[0].values[1]"].startswith("ml.c5.huge: unknown instance type")
    assert found["axes[0].values[2]"].startswith("ml.p3.2xlarge: model 'xgboost-tabular' has no service entry")
    assert found["axes[1].values[1][0]"].startswith("-5: ")
    assert found["axes[2]"].startswith("sampled value ")


def test_a_key_the_experiment_does_not_know(tmp_path):
    text = HEAD + grid([1, 2], f"{V0}.worker", "w") + grid([4], f"{V0}.workers", "workers")
    path = write(tmp_path, text)
    assert problems(path) == {(str(path), "axes[0].key", line(text, f"{V0}.worker\""))}


def test_points_whose_axes_clash_are_reported(tmp_path):
    # 40 workers x 0.25 GiB fit on ml.c5.4xlarge (32 GiB) and the default workers fit on ml.c5.xlarge,
    # but 40 workers on ml.c5.xlarge (8 GiB) do not.
    base = QUICKSTART.read_text().replace('instance_type = "ml.c5.xlarge"', 'instance_type = "ml.c5.4xlarge"')
    text = HEAD + grid(["ml.c5.xlarge", "ml.c5.4xlarge"], f"{V0}.instance_type", "it") + grid(
        [4, 40], f"{V0}.workers", "workers")
    path = write(tmp_path, text, base)
    assert problems(path) == {(str(path), "axes", line(text, "[[axes]]"))}
    assert "point {it=ml.c5.xlarge, workers=40}" in messages(path)["axes"]


def test_problems_of_constants_and_of_the_base(tmp_path):
    base = QUICKSTART.read_text().replace('instance_type = "ml.c6i.xlarge"', 'instance_type = "ml.c6i.huge"')
    text = HEAD.replace('"2min"', '"90s"') + grid([1, 2])
    path = write(tmp_path, text, base)
    base_path = str(tmp_path / "base.toml")
    bad_type = (base_path, "endpoints[0].production_variants[1].instance_type", line(base, "ml.c6i.huge"))
    assert problems(path) == {(str(path), 'sweep.set."experiment.duration"', line(text, "set = ")), bad_type}
    assert problems(path, ["experiment.duration=7s"]) == {("--set", "experiment.duration", None), bad_type}


def test_a_missing_base_file(tmp_path):
    text = HEAD.replace("base.toml", "nothere.toml") + grid([1])
    path = write(tmp_path, text)
    assert problems(path) == {(str(path), "sweep.base", line(text, "nothere"))}


# ---------------------------------------------------------------------------------------------
# The shipped example

def test_the_shipped_quickstart_sweep_expands_and_every_run_validates():
    plan = load_sweep(ROOT / "experiments" / "sweep-quickstart.toml")
    assert len(plan.runs) == 3 * 4 * 3
    assert {run.point["instance_type"] for run in plan.runs} == {"ml.c5.xlarge", "ml.c6i.xlarge", "ml.m5.xlarge"}
    assert {run.point["instances"] for run in plan.runs} == {1, 2, 3, 4}
    for run in plan.runs:
        scenario = scenario_from_dict(plan.experiment_dict(run), str(plan.base), plan.base.parent)
        assert scenario.experiment.experiment.duration <= 600
        assert scenario.experiment.experiment.seed == run.seed
    assert plan.partition_by == ("instance_type", "instances", "rate")
    json.dumps(plan.summary())


def test_key_problems_and_bad_values_of_other_axes_are_reported_together(tmp_path):
    text = (HEAD + grid(["ml.c5.xlarge", "ml.c5.huge"], f"{V0}.instance_type", "it")
            + grid([1], "traffic.3.rate", "rate") + grid([], f"{V0}.initial_instance_count", "count"))
    path = write(tmp_path, text)
    keys = set(messages(path))
    assert keys == {"axes[0].values[1]", "axes[1].key", "axes[2].values"}
