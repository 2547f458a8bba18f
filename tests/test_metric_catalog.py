"""The metric catalog (simfleet/cloudwatch/catalog.toml) against the reference, the engine and the docs.

* the shipped TOML validates, and the validator rejects broken entries (each problem on one line);
* every metric named in a table of reference §1 is in the catalog (under the namespace its
  section states), and every catalog entry is named in §1; units and valid statistics equal those
  of the reference tables; every source tag is defined in reference §9;
* what a small simulation emits is in the catalog, with its unit, a documented dimension set and
  the documented publish period;
* `docs/metrics.md` is the rendering of the catalog.

The reference lives outside the repository (../shared/reference): tests that read it are skipped
when it is absent, as in CI, which clones only the repository.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from small_experiments import base_experiment, scenario
from simfleet.engine.simulation import simulate
from simfleet.errors import InputError
from simfleet.cloudwatch import catalog_docs
from simfleet.cloudwatch.catalog import (AVAILABLE_CAPABILITIES, BASIC_STATISTICS, CAPABILITIES, NAMESPACES,
                                      OWN_SOURCE, SIMFLEET_NAMESPACE, UNITS, MetricSpec, metric_catalog, metric_spec,
                                      parse_catalog)
from simfleet.cloudwatch.catalog_docs import catalog_markdown
from simfleet.metrics.schema import DIMENSIONS

ROOT = Path(__file__).resolve().parent.parent
CATALOG_TOML = ROOT / "simfleet" / "cloudwatch" / "catalog.toml"
DOCS = ROOT / "docs" / "metrics.md"
REFERENCE = ROOT.parent / "shared" / "reference" / "sagemaker-semantics.md"
REGENERATE = "python -m simfleet.cloudwatch.catalog_docs > docs/metrics.md"

needs_reference = pytest.mark.skipif(not REFERENCE.is_file(),
                                     reason=f"reference not found at {REFERENCE} (CI clones only the repository)")


# -- the reference, read naively ---------------------------------------------------------------------

def _section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def _tables(block: str):
    """(text before the table, header cells, rows of cells) for every Markdown table of `block`."""
    lines = block.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("|") and index + 1 < len(lines) and re.match(r"^\|[-| ]+\|$", lines[index + 1]):
            header = [c.strip() for c in lines[index].strip("|").split("|")]
            rows = []
            j = index + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append([c.strip() for c in lines[j].strip("|").split("|")])
                j += 1
            yield "\n".join(lines[:index]), header, rows
            index = j
        else:
            index += 1


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _is_namespace(token: str) -> bool:
    return token == "AWS/SageMaker" or token.startswith("/aws/sagemaker/")


def reference_metrics() -> list[dict]:
    """One dict per metric row of a §1 table whose first column is "Metric", plus §1.10's names.

    `namespace` is the last namespace written between the subsection heading and the table (None
    when the subsection states none); `cells` maps header → cell.
    """
    text = REFERENCE.read_text(encoding="utf-8")
    part = _section(text, "## 1. ", "## 2. ")
    found = []
    for sub in re.split(r"\n(?=### 1\.)", part)[1:]:
        heading = sub.splitlines()[0]
        for before, header, rows in _tables(sub):
            namespaces = [t for t in _ticked(before) if _is_namespace(t)]
            namespace = namespaces[-1] if namespaces else None
            if header[0] == "Metric":
                for row in rows:
                    found.append({"section": heading, "name": _ticked(row[0])[0], "namespace": namespace,
                                  "cells": dict(zip(header, row))})
            elif "Metrics" in header:  # §1.10: the emission classes, names in the "Metrics" column
                column = header.index("Metrics")
                for row in rows:
                    for name in _ticked(row[column]):
                        found.append({"section": heading, "name": name, "namespace": None, "cells": {}})
    return found


_STAT_WORDS = {"SampleCount": "SampleCount", "Sum": "Sum", "Average": "Average", "Min": "Minimum",
               "Minimum": "Minimum", "Max": "Maximum", "Maximum": "Maximum", "Percentiles": "Percentiles"}


# -- the file itself ------------------------------------------------------------------------------------

def test_the_shipped_catalog_validates():
    specs = parse_catalog(CATALOG_TOML.read_text(encoding="utf-8"))
    assert specs == metric_catalog()
    assert all(isinstance(spec, MetricSpec) for spec in specs)
    assert metric_catalog() is metric_catalog()  # cached


def test_no_two_entries_share_namespace_and_name():
    raw = tomllib.loads(CATALOG_TOML.read_text(encoding="utf-8"))["metric"]
    counts = Counter((entry["namespace"], entry["name"]) for entry in raw)
    assert [key for key, n in counts.items() if n > 1] == []
    assert len(raw) == len(metric_catalog())


def test_namespaces_are_spelled_exactly():
    assert NAMESPACES == ("AWS/SageMaker", "/aws/sagemaker/Endpoints", "/aws/sagemaker/InferenceComponents",
                          "/aws/sagemaker/InferenceRecommendationsJobs", SIMFLEET_NAMESPACE)
    assert not SIMFLEET_NAMESPACE.startswith(("AWS/", "/aws/")), "simfleet's own metrics must not pose as AWS's"
    assert {spec.namespace for spec in metric_catalog()} == set(NAMESPACES)


def test_names_as_the_reference_spells_them():
    names = {spec.name for spec in metric_catalog()}
    assert {"Invocation4XXErrors", "Invocation5XXErrors", "InvocationsProcesssed"} <= names
    assert not {"Invocations4XXErrors", "Invocations5XXErrors", "InvocationsProcessed"} & names
    assert "sic" in metric_spec("AWS/SageMaker", "InvocationsProcesssed").notes
    assert metric_spec("/aws/sagemaker/InferenceRecommendationsJobs", "ClientLatency").unit == "Milliseconds"
    assert metric_spec("AWS/SageMaker", "ModelLatency").unit == "Microseconds"


def test_cpu_utilization_normalized_is_one_entry_per_namespace():
    both = [spec for spec in metric_catalog() if spec.name == "CPUUtilizationNormalized"]
    assert sorted(spec.namespace for spec in both) == ["/aws/sagemaker/Endpoints", "/aws/sagemaker/InferenceComponents"]
    assert {spec.emission for spec in both} == {"instance-gauge", "copy-gauge"}


def test_every_entry_is_well_formed():
    """Invariants the validator promises, checked again from the outside."""
    for spec in metric_catalog():
        where = f"{spec.namespace} {spec.name}"
        assert spec.unit in UNITS, where
        assert spec.unit_documented or spec.unit == "None", where
        assert spec.statistics_documented or set(spec.statistics) == set(BASIC_STATISTICS), where
        assert "\n" not in spec.description and spec.description.strip(), where
        plain = [frozenset(names) for names in spec.dimensions]
        for names in spec.dimensions:
            assert not {"InstanceId", "ContainerId", "AcceleratorId"} & set(names), where
        for names in spec.enhanced_dimensions:
            extra = set(names) - {"InstanceId", "ContainerId", "AcceleratorId"}
            assert frozenset(extra) in plain and extra != set(names), where
        assert any(spec.capability in item.capabilities for item in spec.dimension_sets), where
        assert spec.available == (spec.capability in AVAILABLE_CAPABILITIES)
        if not (spec.unit_documented and spec.statistics_documented):
            assert spec.notes, where  # a caveat says what AWS leaves open


def test_available_capabilities():
    assert AVAILABLE_CAPABILITIES == frozenset({"real-time", "high-resolution", "inference-recommender", "pipelines",
                                                "multi-container", "serverless", "serverless-provisioned-concurrency",
                                                "multi-model", "inference-components"})
    assert AVAILABLE_CAPABILITIES <= set(CAPABILITIES)
    # the multi-model cache is simfleet's only disk model
    assert metric_spec("/aws/sagemaker/Endpoints", "DiskUtilization").capability == "multi-model"
    assert metric_spec("/aws/sagemaker/Endpoints", "DiskUtilization").available
    assert metric_spec("AWS/SageMaker", "ConcurrentRequestsPerModel").capability == "high-resolution"


def test_metric_spec_lookup_names_both_parts_when_missing():
    assert metric_spec("AWS/SageMaker", "Invocations").key == ("AWS/SageMaker", "Invocations")
    with pytest.raises(KeyError) as error:
        metric_spec("/aws/sagemaker/Endpoints", "Invocations")
    assert "Invocations" in str(error.value) and "/aws/sagemaker/Endpoints" in str(error.value)


# -- the validator rejects broken entries ------------------------------------------------------------

_GOOD = '''
[[metric]]
namespace = "AWS/SageMaker"
name = "Invocations"
unit = "None"
statistics = ["Sum"]
dimensions = [["EndpointName", "VariantName"]]
enhanced_dimensions = [["EndpointName", "VariantName", "InstanceId"]]
emission = "request-counter"
period = "invocation"
capability = "real-time"
description = "InvokeEndpoint requests sent to the variant."
sources = ["[MCW]"]
'''


def test_a_minimal_entry_validates():
    (spec,) = parse_catalog(_GOOD)
    assert spec.dimensions == (("EndpointName", "VariantName"),)
    assert spec.dimension_sets[0].capabilities == ("real-time",)  # a plain list inherits the capability
    assert spec.enhanced_dimension_sets[0].available


@pytest.mark.parametrize("old, new, expected", [
    ('capability = "real-time"', 'capability = "realtime"', "capability"),
    ('unit = "None"', 'unit = "Microsecond"', "unit"),
    ('unit = "None"', 'unit = "Count"\nunit_documented = false', 'unit = "None"'),
    ('namespace = "AWS/SageMaker"', 'namespace = "aws/sagemaker/Endpoints"', "namespace"),
    ('statistics = ["Sum"]', 'statistics = ["Sum", "p99"]', "statistics"),
    ('statistics = ["Sum"]', 'statistics = ["Sum", "Sum"]', "repeat"),
    ('[["EndpointName", "VariantName"]]\nenhanced', '[["EndpointName", "InstanceId"]]\nenhanced', "enhanced"),
    ('["EndpointName", "VariantName", "InstanceId"]]', '["EndpointName", "InstanceId"]]', "does not extend"),
    ('["EndpointName", "VariantName", "InstanceId"]]', '["EndpointName", "VariantName", "JobName"]]',
     "no enhanced dimension"),
    ('enhanced_dimensions = [["EndpointName", "VariantName", "InstanceId"]]\n', '', "enhanced_dimensions"),
    ('period = "invocation"', 'period = "high-resolution"', "concurrency-gauge"),
    ('sources = ["[MCW]"]', 'sources = ["MCW"]', "tags"),
    ('dimensions = [["EndpointName", "VariantName"]]',
     'dimensions = [{ names = ["EndpointName", "VariantName"], capabilities = ["serverless"] }]',
     "publishes none"),
    ('capability = "real-time"', 'capability = "real-time"\ncolour = "red"', "unknown key"),
])
def test_broken_entries_are_reported_on_one_line(old, new, expected):
    assert old in _GOOD
    with pytest.raises(InputError) as error:
        parse_catalog(_GOOD.replace(old, new, 1), "bad.toml")
    assert len(error.value.problems) == 1
    message = str(error.value.problems[0])
    assert "\n" not in message and message.startswith("bad.toml")
    assert expected in message


def test_every_problem_is_reported_at_once_with_lines():
    text = _GOOD + _GOOD.replace('capability = "real-time"', 'capability = "nope"') + _GOOD
    with pytest.raises(InputError) as error:
        parse_catalog(text, "bad.toml")
    problems = error.value.problems
    assert len(problems) == 2
    assert "capability" in problems[0].key and problems[0].line == text.splitlines().index('capability = "nope"') + 1
    assert "already entry metric[0]" in problems[1].message


def test_not_toml_is_one_problem():
    with pytest.raises(InputError) as error:
        parse_catalog("[[metric]\nname =", "bad.toml")
    assert len(error.value.problems) == 1


# -- against the reference -----------------------------------------------------------------------------

@needs_reference
def test_the_reference_parser_finds_the_tables():
    rows = reference_metrics()
    sections = {row["section"].split()[1] for row in rows}
    assert sections >= {"1.1", "1.2", "1.3", "1.4", "1.6", "1.7", "1.9", "1.10"}
    assert len({row["name"] for row in rows}) >= 50


@needs_reference
def test_every_metric_of_the_reference_is_in_the_catalog():
    keys = {spec.key for spec in metric_catalog()}
    names = {spec.name for spec in metric_catalog()}
    missing = []
    for row in reference_metrics():
        if row["namespace"] is None:
            if row["name"] not in names:
                missing.append(f"{row['name']} ({row['section']})")
        elif (row["namespace"], row["name"]) not in keys:
            missing.append(f"{row['namespace']} {row['name']} ({row['section']})")
    assert missing == []


@needs_reference
def test_every_catalog_entry_is_named_in_reference_section_1():
    part = _section(REFERENCE.read_text(encoding="utf-8"), "## 1. ", "## 2. ")
    named = set(_ticked(part))
    assert [spec.name for spec in metric_catalog()
            if spec.name not in named and spec.namespace != SIMFLEET_NAMESPACE] == []


@needs_reference
def test_units_and_statistics_equal_the_reference_tables():
    wrong = []
    for row in reference_metrics():
        cells = row["cells"]
        matches = [s for s in metric_catalog()
                   if s.name == row["name"] and row["namespace"] in (None, s.namespace)]
        if not cells or len(matches) != 1:
            continue  # a missing metric is the business of the test above
        spec = matches[0]
        unit_cell = cells.get("Unit")
        if unit_cell is not None:
            stated = [u for u in re.findall(r"[A-Za-z/]+", unit_cell) if u in UNITS]
            if not stated:
                if spec.unit_documented or spec.unit != "None":
                    wrong.append(f"{spec.name}: unit not stated in the reference, catalog {spec.unit}")
            elif len(set(stated)) > 1:
                if spec.unit not in stated or "unit" not in spec.notes.lower():
                    wrong.append(f"{spec.name}: reference gives units {stated}, catalog {spec.unit} without a note")
            elif spec.unit != stated[0] or not spec.unit_documented:
                wrong.append(f"{spec.name}: unit {spec.unit}, reference {stated[0]}")
        stat_column = [h for h in cells if "statistics" in h.lower()]
        if stat_column:
            stated = {_STAT_WORDS[w] for w in re.findall(r"\b[A-Za-z]+\b", cells[stat_column[0]]) if w in _STAT_WORDS}
            if stated != set(spec.statistics):
                wrong.append(f"{spec.name}: statistics {sorted(spec.statistics)}, reference {sorted(stated)}")
    assert wrong == []


@needs_reference
def test_every_source_tag_is_defined_in_the_reference():
    text = REFERENCE.read_text(encoding="utf-8")
    sources = _section(text, "## 9. ", "## 10. ")
    defined = {row[0] for _, header, rows in _tables(sources) for row in rows}
    used = {tag for spec in metric_catalog() for tag in spec.sources} - {OWN_SOURCE}
    used |= {tag for spec in metric_catalog() for tag in re.findall(r"\[[A-Z][A-Z0-9-]*\]", spec.notes)}
    assert sorted(used - defined) == []


# -- against the engine ------------------------------------------------------------------------------

ENHANCED_FREQUENCY_S = 30


@pytest.fixture(scope="module")
def emitted():
    """Three endpoints: `ep` with enhanced metrics at 30 s (a CPU and a GPU variant), `plain` with defaults,
    `tested` driven by an Inference Recommender job's users."""
    raw = base_experiment(duration="2min")
    endpoint = raw["endpoints"][0]
    endpoint["production_variants"].append({"variant_name": "G", "model_name": "toy",
                                            "instance_type": "ml.g5.xlarge", "initial_instance_count": 1})
    endpoint["metrics_config"] = {"enable_enhanced_metrics": True,
                                  "metric_publish_frequency_in_seconds": ENHANCED_FREQUENCY_S}
    raw["endpoints"].append({"endpoint_name": "plain", "production_variants": [
        {"variant_name": "A", "model_name": "toy", "instance_type": "ml.g5.xlarge", "initial_instance_count": 1}]})
    raw["endpoints"].append({"endpoint_name": "tested", "production_variants": [
        {"variant_name": "A", "model_name": "toy", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1}]})
    raw["endpoints"].append({"endpoint_name": "pipeline", "production_variants": [
        {"variant_name": "A", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
         "containers": [{"model_name": "stage-a"}, {"model_name": "stage-b"}]}]})
    raw["endpoints"].append({"endpoint_name": "direct", "production_variants": [
        {"variant_name": "A", "instance_type": "ml.c5.xlarge", "initial_instance_count": 1,
         "inference_execution_config": {"mode": "Direct"},
         "containers": [{"container_hostname": "a", "model_name": "stage-a"},
                        {"container_hostname": "b", "model_name": "stage-b"}]}]})
    # inference components on a 4-GPU instance: one with copies, one scaled to zero (NoCapacity)
    raw["endpoints"].append({"endpoint_name": "components", "production_variants": [
        {"variant_name": "A", "instance_type": "ml.g5.12xlarge", "initial_instance_count": 1,
         "managed_instance_scaling": {"min_instance_count": 0, "max_instance_count": 2}}]})
    raw["inference_components"] = [
        {"inference_component_name": name, "endpoint_name": "components", "runtime_config": {"copy_count": copies},
         "specification": {"model_name": "toy", "compute_resource_requirements": {
             "number_of_accelerator_devices_required": 1, "number_of_cpu_cores_required": 2,
             "min_memory_required_in_mb": 4096}}} for name, copies in (("served", 2), ("zero", 0))]
    raw["traffic"] = [{"kind": "poisson", "rate": 20, "endpoint_name": "components", "target_inference_component": "served"},
                      {"kind": "poisson", "rate": 5, "endpoint_name": "components", "target_inference_component": "zero"},
                      {"kind": "poisson", "rate": 20, "endpoint_name": "pipeline"},
                      {"kind": "poisson", "rate": 20, "endpoint_name": "direct", "target_container_hostname": "a"},
                      {"kind": "poisson", "rate": 100, "endpoint_name": "ep"},
                      {"kind": "poisson", "rate": 50, "endpoint_name": "plain"},
                      # a load generator whose payloads are sometimes over the 6 MB limit (client errors)
                      {"kind": "users", "users": 4, "endpoint_name": "tested", "job_name": "job-1",
                       "payload": {"kind": "lognormal", "median": "4 MB", "sigma": 0.5}}]
    metrics = simulate(scenario(raw)).metrics
    frame = metrics.to_pandas() if hasattr(metrics, "to_pandas") else metrics
    assert len(frame) > 0
    return pd.concat([frame, _serverless_emitted(), _multi_model_emitted()], ignore_index=True)


def _multi_model_emitted():
    """A multi-model endpoint through the aggregator on synthetic records (until the request plane's
    cache runs it end to end in `simulate`: then it joins the run above)."""
    import numpy as np

    from mme_records import mme_fleet, run_aggregator, synthetic_run

    fleet, experiment = mme_fleet(2)
    records, caches = synthetic_run(np.random.default_rng(3), fleet.variants[0], 300, 240.0, 2, slow=True)
    return run_aggregator(fleet, experiment, records, caches, end_s=300.0)


def _serverless_emitted():
    """A serverless endpoint with Provisioned Concurrency, through the aggregator on synthetic records
    (until the request plane's serverless station runs it end to end: then it joins the run above)."""
    import numpy as np

    from serverless_records import serverless_fleet, synthetic_run
    from simfleet.metrics.aggregator import MetricsAggregator

    fleet, experiment = serverless_fleet(provisioned=2)
    records, environments = synthetic_run(np.random.default_rng(1), 500, 120.0, provisioned=2)
    aggregator = MetricsAggregator(fleet, experiment.metrics, experiment.experiment.start_time)
    aggregator.add_environment(environments)
    for t in np.arange(10.0, 301.0, 10.0):
        aggregator.add(records.select((records.arrival_s >= t - 10) & (records.arrival_s < t)))
        aggregator.close_tick(t, np.zeros((0, 1)), np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(0, np.int64))
    return aggregator.buffer.tables()[0].to_pandas()


def _streams(frame):
    dims = [name for name in DIMENSIONS if name in frame.columns]
    keys = frame[["namespace", "metric_name", "unit", "period_s"] + dims].drop_duplicates()
    for record in keys.to_dict("records"):
        present = tuple(sorted(name for name in dims if record[name] is not None and record[name] == record[name]))
        yield record, present


def _expected_period_s(spec: MetricSpec, enhanced: bool, frequency_s: int) -> int:
    """The documented publish period (reference §1.0, §1.8)."""
    return {"invocation": frequency_s if enhanced else 60, "utilization": frequency_s,
            "high-resolution": 10, "standard": 60}[spec.period]


def test_every_emitted_metric_is_in_the_catalog_with_its_unit_and_dimensions(emitted):
    wrong = []
    for record, present in _streams(emitted):
        key = (record["namespace"], record["metric_name"])
        try:
            spec = metric_spec(*key)
        except KeyError:
            wrong.append(f"{key} emitted but not in the catalog")
            continue
        if not spec.available:
            wrong.append(f"{key} emitted but its capability {spec.capability!r} is not available")
        if record["unit"] != spec.unit:
            wrong.append(f"{key} emitted with unit {record['unit']!r}, catalog {spec.unit!r}")
        allowed = {tuple(sorted(item.names)) for item in spec.dimension_sets + spec.enhanced_dimension_sets
                   if item.available}
        if present not in allowed:
            wrong.append(f"{key} emitted with dimensions {present}, catalog allows {sorted(allowed)}")
    assert wrong == []


def test_emitted_periods_follow_the_catalog(emitted):
    wrong = []
    for record, present in _streams(emitted):
        spec = metric_spec(record["namespace"], record["metric_name"])
        enhanced = record["EndpointName"] == "ep"
        expected = _expected_period_s(spec, enhanced, ENHANCED_FREQUENCY_S if enhanced else 60)
        if record["period_s"] != expected:
            wrong.append(f"{spec.name} {present} of {record['EndpointName']}: period {record['period_s']} s, "
                         f"expected {expected} s ({spec.period})")
    assert wrong == []


def test_emitted_metrics_match_catalog(emitted):
    """What the engine emits is exactly the available part of the catalog (GPU variants included)."""
    produced = set(map(tuple, emitted[["namespace", "metric_name", "unit"]].drop_duplicates().to_numpy()))
    expected = {(spec.namespace, spec.name, spec.unit) for spec in metric_catalog() if spec.available}
    assert sorted(expected - produced) == [] and sorted(produced - expected) == []


# -- the generated documentation ------------------------------------------------------------------------

def test_docs_metrics_md_is_the_rendered_catalog():
    assert DOCS.is_file(), f"docs/metrics.md is missing; generate it with: {REGENERATE}"
    assert DOCS.read_text(encoding="utf-8") == catalog_markdown(), \
        f"docs/metrics.md is out of date with simfleet/cloudwatch/catalog.toml; regenerate it with: {REGENERATE}"


def test_the_rendering_lists_every_entry_once_in_its_capability_section():
    text = catalog_markdown()
    for spec in metric_catalog():
        row = f"| `{spec.namespace}` | `{spec.name}` |"
        assert text.count(row) == 1, spec.key
        section = text.index(f"## {spec.capability} (")
        following = text.find("\n## ", section + 1)
        assert section < text.index(row) < (following if following > 0 else len(text)), spec.key
    assert f"{len(metric_catalog())} metrics, {sum(s.available for s in metric_catalog())} emitted." in text


def test_the_module_prints_the_rendering(capsys):
    catalog_docs.main()
    assert capsys.readouterr().out == catalog_markdown()
