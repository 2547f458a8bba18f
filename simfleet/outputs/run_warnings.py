"""Honest warnings: what a run, a sweep or a recommender job says about results that may mislead.

The last step before a run's `summary.json` is written (`outputs.run_directory`), and the end of a
sweep (`sweep`) and of a recommender job (`recommender`). Each warning is a `RunWarning` with a
stable `code` per kind, a one-line `message`, and `where` it applies ("endpoint/variant", a key of
the experiment file, or "" for the whole run). They go to stderr, to `summary.json` under
`warnings`, and to the run's report when there is one.

Codes:

* from the experiment, before the run (`Scenario.warnings`, `run_limits`): `long_run`,
  `large_memory`, `payload_over_limit`, `trace_outside_run`, `trace_out_of_order` (`input` for any
  other);
* `requests_not_ok`: every request, or most (> 50 %), of a variant was rejected or failed; the
  message names the dominant outcome and what usually causes it;
* `no_price`: a price nobody knows (an instance type without one, a serverless price): the cost is
  null, never 0, and the configuration is listed as "no price", not dropped; known before the run
  (`Scenario.warnings`, `serverless_price_warnings`) except a Provisioned Concurrency price needed
  only because autoscaling provisioned some during the run;
* `assumed_latency`: a variant's service times come from a profile entry whose source starts with
  `ASSUMPTION` (not published);
* `same_latency`: variants on different instance types whose profile entries hold the same service
  time distribution (one copied from the other family, as `c5`, `c6i` and `m5` of the shipped
  profiles): what tells them apart is an assumption, not a measurement;
* `differ_only_in_price` (sweeps and recommender jobs): configurations whose simulations are the
  same but for the price of their instance types; their latency, throughput and errors agree by
  construction, and only the cost ranks them;
* `long_run` of a sweep: its runs together are estimated to take longer than the base experiment's
  `limits.slow_run_warning` (each point's estimate times its replicates, plus
  `run_limits.RUN_OVERHEAD_S` a run), said by `validate` before it runs, and by `sweep` with its other
  warnings.

All but `requests_not_ok` depend on the configuration alone, so `simfleet validate` says them
before anything runs (`config_warnings` for an experiment, `sweep_warnings` for a sweep; a
recommender job's in `recommender.job_runner.planned_job_warnings`), with the same text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Sequence

from simfleet.errors import Problem
from simfleet.scenario import Scenario

__all__ = ["RunWarning", "run_warnings", "input_warnings", "outcome_warnings", "price_warnings",
           "serverless_price_warnings", "config_warnings", "latency_warnings", "behaviour_key",
           "price_only_warnings", "sweep_warnings", "as_json", "WARNING_CODES"]

WARNING_CODES = ("long_run", "large_memory", "payload_over_limit", "trace_outside_run", "trace_out_of_order", "input",
                 "requests_not_ok", "no_price", "assumed_latency", "same_latency", "differ_only_in_price")

#: Above this fraction of a variant's requests not OK, `requests_not_ok`.
MOST = 0.5

#: What usually causes each outcome: the "why" of `requests_not_ok`.
_CAUSES = {
    "ModelError": "the model answered with an error (model_error_rate)",
    "ModelTimeout": "the model took longer than the invocation timeout",
    "PayloadTooLarge": "payloads over platform.max_payload_size were refused before any container (is the "
                       "payload's unit right?)",
    "QueueFull": "the model server's queue was full (max_queue_size): more load than the instances serve; add "
                 "instances or autoscaling",
    "NoCapacity": "no instance was in service to take them",
    "InvalidTarget": "they named a container or model the variant does not have",
    "Throttled": "the serverless variant's MaxConcurrency was reached",
    "ModelNotReady": "the model was not loaded yet",
    "ModelNotFound": "they named a model the multi-model variant does not hold",
    "NoCacheRoom": "the multi-model cache had no room to load their model",
}

#: The last key of a `Scenario.warnings` problem → its code (`run_limits` decides the keys).
_INPUT_CODES = {"duration": "long_run", "traffic": "large_memory", "payload": "payload_over_limit", "file": "trace_outside_run",
                "time_column": "trace_out_of_order", "instance_type": "no_price"}


@dataclass(frozen=True)
class RunWarning:
    """One thing about a result that may mislead: `code` (stable per kind), `message`, `where`."""

    code: str
    message: str
    where: str = ""

    def as_json(self) -> dict:
        return {"code": self.code, "message": self.message, "where": self.where}

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def input_warnings(scenario: Scenario) -> list[RunWarning]:
    """The experiment's warnings (`Scenario.warnings`), with their codes; a missing price is named
    by endpoint/variant, as the run's own `no_price` warnings are."""
    out = []
    for problem in scenario.warnings:
        last = problem.key.rsplit(".", 1)[-1]
        code = _INPUT_CODES.get(last, "input")
        where = _variant_of(scenario, problem) if code == "no_price" else problem.key
        out.append(RunWarning(code, problem.message, where))
    return out


def _variant_of(scenario: Scenario, problem: Problem) -> str:
    for e_index, endpoint in enumerate(scenario.experiment.endpoints):
        for v_index, variant in enumerate(endpoint.production_variants):
            if problem.key == f"endpoints[{e_index}].production_variants[{v_index}].instance_type":
                return f"{endpoint.endpoint_name}/{variant.variant_name}"
    return problem.key


def run_warnings(scenario: Scenario, summary: dict) -> list[RunWarning]:
    """Every warning of a finished run: the experiment's, then those read from its summary and its
    profiles. A variant's missing price is said once (the experiment's warning, said before the
    run, is kept)."""
    said = {w.where for w in input_warnings(scenario) if w.code == "no_price"}
    return (input_warnings(scenario) + outcome_warnings(summary)
            + [w for w in price_warnings(summary) if w.where not in said] + latency_warnings(scenario))


def _name(row: dict) -> str:
    name = f"{row['EndpointName']}/{row['VariantName']}"
    return name + (f"/{row['InferenceComponentName']}" if row.get("InferenceComponentName") else "")


def outcome_warnings(summary: dict) -> list[RunWarning]:
    """`requests_not_ok` for each variant of which every request, or most, was not OK."""
    out = []
    for row in summary["variants"]:
        requests = row["requests"]
        outcomes = row["outcomes"]
        failed = requests - outcomes.get("OK", 0)
        if not requests or failed / requests <= MOST:
            continue
        dominant, count = max(((name, n) for name, n in outcomes.items() if name != "OK"), key=lambda kv: kv[1])
        share = "every request" if failed == requests else f"{failed / requests:.0%} of the requests"
        out.append(RunWarning("requests_not_ok",
                              f"{share} ({failed:,} of {requests:,}) were rejected or failed, mostly {dominant} "
                              f"({count / requests:.0%}): {_CAUSES.get(dominant, 'see the outcomes in summary.json')}",
                              _name(row)))
    return out


def price_warnings(summary: dict) -> list[RunWarning]:
    """`no_price` for each price the run's cost needed and nobody knows (`missing_prices`)."""
    return [_no_price(f"{missing['EndpointName']}/{missing['VariantName']}", missing["price"], missing["of"])
            for missing in summary.get("missing_prices", [])]


def _no_price(where: str, price: str, of: str) -> RunWarning:
    return RunWarning("no_price", f"no {price} for {of}: this variant's cost is null (listed as \"no price\"), "
                                  "not zero, and the run's cost is null", where)


def serverless_price_warnings(scenario: Scenario) -> list[RunWarning]:
    """`no_price` for each serverless price that every run of the experiment needs and nobody knows,
    as the run names it (`metrics.serverless_billing.serverless_cost`): compute and data always, the
    Provisioned Concurrency prices when a variant starts with provisioned concurrency. (A variant
    that autoscaling gives provisioned concurrency during the run needs them too: the run says so.)"""
    from simfleet.catalog.serverless import load_serverless_prices

    experiment = scenario.experiment
    prices = load_serverless_prices().with_overrides(experiment.serverless.price_overrides(), scenario.source)
    out = []
    for endpoint in experiment.endpoints:
        for variant in endpoint.production_variants:
            config = variant.serverless_config
            if config is None:
                continue
            memory = config.memory_size_in_mb
            provisioned = bool(config.provisioned_concurrency)
            needed = [("price_per_second", prices.price_per_gb_second, True),
                      ("provisioned_inference_price_per_second", prices.provisioned_inference_price_per_gb_second,
                       provisioned),
                      ("provisioned_price_per_second", prices.provisioned_price_per_gb_second, provisioned),
                      ("data_price_per_gb", prices.data_price_per_gb, True)]
            out += [_no_price(f"{endpoint.endpoint_name}/{variant.variant_name}", name, f"serverless {memory} MB")
                    for name, price, used in needed if used and price is None]
    return out


def config_warnings(scenario: Scenario) -> list[RunWarning]:
    """The warnings of a run that its configuration decides, beyond the experiment's own
    (`input_warnings`): `no_price` for serverless prices, `assumed_latency`, `same_latency`.
    `simfleet validate` says them; a run says them too, with the same text."""
    return serverless_price_warnings(scenario) + latency_warnings(scenario)


def _entries(scenario: Scenario):
    """(endpoint/variant, model, instance type, the profile's `[[service]]` key, its spec) for every
    model an instance-based variant or one of its inference components runs."""
    experiment = scenario.experiment
    for endpoint in experiment.endpoints:
        for variant in endpoint.production_variants:
            if variant.instance_type is None:
                continue
            instance = scenario.catalog.get(variant.instance_type)
            if instance is None:
                continue
            where = f"{endpoint.endpoint_name}/{variant.variant_name}"
            models = ([variant.model_name] if variant.model_name is not None else
                      [c.model_name for c in variant.containers or ()])
            models += [c.specification.model_name for c in experiment.inference_components
                       if c.endpoint_name == endpoint.endpoint_name
                       and experiment.component_variant(c) == variant.variant_name]
            for model in dict.fromkeys(models):
                profile = scenario.profiles.get(model)
                if profile is None:
                    continue
                for key in (instance.name, instance.family):
                    spec = profile.service_spec(key)
                    if spec is not None:
                        yield where, model, instance.name, key, spec
                        break


def _distribution(spec) -> str:
    return json.dumps(spec.distribution.model_dump(mode="json"), sort_keys=True)


def latency_warnings(scenario: Scenario) -> list[RunWarning]:
    """`assumed_latency` per variant on an ASSUMPTION entry; `same_latency` per model whose entries
    for two or more instance families of the run hold the same distribution."""
    out = []
    groups: dict[tuple[str, str], list] = {}
    for where, model, instance, key, spec in _entries(scenario):
        if spec.source.upper().startswith("ASSUMPTION"):
            out.append(RunWarning("assumed_latency", f"the service times of {model!r} on {instance} rest on an "
                                                     f"assumption (profile entry {key!r}: {_gist(spec.source)})",
                                  where))
        groups.setdefault((model, _distribution(spec)), []).append((where, instance, key, spec))
    for (model, _), members in groups.items():
        keys = dict.fromkeys(key for _, _, key, _ in members)
        if len(keys) < 2:
            continue
        spec = members[0][3]
        names = ", ".join(f"{where} ({instance})" for where, instance, _, _ in members)
        out.append(RunWarning("same_latency", f"{names} take the service times of {model!r} from the same figure "
                                              f"({_shown(spec)}; profile entries {', '.join(map(repr, keys))}): "
                                              "their latencies are the same assumption, not measurements of each "
                                              "instance family", ""))
    return out


def _shown(spec) -> str:
    fields = spec.distribution.model_dump(mode="json")
    return " ".join(f"{k}={v}" for k, v in fields.items())


def _gist(source: str, limit: int = 120) -> str:
    text = " ".join(source.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- configurations that differ only in price (sweeps, recommender jobs) ------------------------------

def behaviour_key(scenario: Scenario) -> str:
    """What a run simulates, without its name, seed, start time, endpoint names, prices and instance
    type names: two scenarios with the same key give the same latency, throughput and errors (up to
    their seeds), and differ at most in cost. An instance type stands for what the simulation reads
    of it: the profile entries it resolves to (service times, workers); its vCPUs and accelerators
    where autoscaling may read its utilization; its memory where the run reads it (multi-model
    caches, inference components)."""
    raw = scenario.experiment.model_dump(mode="json")
    raw.pop("catalog", None)
    raw["experiment"].pop("seed", None)
    raw["experiment"].pop("name", None)
    raw["experiment"].pop("description", None)
    raw["experiment"].pop("start_time", None)
    raw.pop("output", None)
    raw.pop("limits", None)
    memory_matters = bool(scenario.experiment.inference_components)
    scaled = scenario.autoscaling is not None
    for e_index, endpoint in enumerate(scenario.experiment.endpoints):
        for v_index, variant in enumerate(endpoint.production_variants):
            if variant.instance_type is None:
                continue
            instance = scenario.catalog.get(variant.instance_type)
            if instance is None:
                continue
            models = [variant.model_name] if variant.model_name is not None else \
                [c.model_name for c in variant.containers or ()]
            entries = []
            for model in models:
                profile = scenario.profiles.get(model)
                entry = profile.entry_for(instance, variant.workers) if profile is not None else None
                if entry is not None:
                    spec = profile.service_spec(instance.name) or profile.service_spec(instance.family)
                    entries.append([model, _distribution(spec), entry.workers, entry.cpu_cores_per_busy_worker,
                                    entry.gpus_per_busy_worker, entry.max_queue_size, entry.payload_time_per_kb_s,
                                    entry.load_time_s])
            hardware = {"entries": entries}
            if scaled:  # utilization metrics, which a policy may read, divide by the hardware
                hardware.update(vcpus=instance.vcpus, accelerators=instance.accelerators)
            if memory_matters or variant.model_population is not None:
                hardware.update(memory=instance.memory_bytes, accelerator_memory=instance.accelerator_memory_bytes)
            raw["endpoints"][e_index]["production_variants"][v_index]["instance_type"] = hardware
    names = {e.endpoint_name: f"<endpoint {i}>" for i, e in enumerate(scenario.experiment.endpoints)}
    return json.dumps(_renamed(raw, names), sort_keys=True, default=str)


def _renamed(value, names: dict):
    """`value` with every string that is an endpoint's name replaced by its position (a recommender
    job names each load test's endpoint after the test)."""
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def _prices(scenario: Scenario) -> tuple:
    out = []
    for endpoint in scenario.experiment.endpoints:
        for variant in endpoint.production_variants:
            instance = scenario.catalog.get(variant.instance_type) if variant.instance_type is not None else None
            out.append(None if instance is None else (instance.name, instance.price_per_hour))
    return tuple(out)


def _price_only_groups(configurations: Sequence[tuple[str, Scenario]]) -> list[list[tuple[str, Scenario]]]:
    """The groups of two or more configurations (label, scenario) whose simulations are the same
    (`behaviour_key`) but whose instance types or prices differ."""
    groups: dict[str, list[tuple[str, Scenario]]] = {}
    for label, scenario in configurations:
        groups.setdefault(behaviour_key(scenario), []).append((label, scenario))
    return [members for members in groups.values()
            if len(members) > 1 and len({_prices(scenario) for _, scenario in members}) > 1]


def _costs(members: list[tuple[str, Scenario]]) -> str:
    priced = sorted({p for _, s in members for p in _prices(s) if p is not None}, key=str)
    return ", ".join(f"{name} {'no price' if price is None else f'${price:g}/h'}" for name, price in priced)


_SAME = ("they simulate the same service times, workers and traffic, so their latency, throughput and errors "
         "differ by the noise of their seeds alone; only the instance type's name and price tell them apart")


def price_only_warnings(configurations: Sequence[tuple[str, Scenario]], what: str = "runs") -> list[RunWarning]:
    """`differ_only_in_price` for each group of two or more configurations (label, scenario) whose
    simulations are the same but whose instance types or prices differ."""
    out = []
    for members in _price_only_groups(configurations):
        labels = list(dict.fromkeys(label for label, _ in members))
        shown = ", ".join(labels[:6]) + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")
        out.append(RunWarning("differ_only_in_price",
                              f"{what} {shown} differ only in price ({_costs(members)}): {_SAME}", ""))
    return out


def sweep_warnings(plan) -> list[RunWarning]:
    """The warnings of a sweep plan (`simfleet.sweep.plan.SweepPlan`), each point once (its
    replicates differ only in seed; a point that is not valid is left out): `long_run` when its
    valid runs together are estimated to take longer than the base's `limits.slow_run_warning`
    (`run_limits.sweep_wall_s`), and `differ_only_in_price`, one warning per set of axes along
    which points differ only in price, not one per group."""
    from simfleet.errors import InputError

    points: dict[str, tuple[dict, Scenario]] = {}
    runs: dict[str, int] = {}  # runs of each valid point
    for run in plan.runs:
        point = {key: value for key, value in run.point.items() if key != "replicate"}
        label = ", ".join(f"{key}={value}" for key, value in point.items()) or run.run_id
        if label not in points and label not in runs:
            try:
                points[label] = (point, plan.scenario(run))
            except InputError:
                runs[label] = 0  # not valid: left out, and not built again
                continue
        if label in points:
            runs[label] = runs.get(label, 0) + 1
    return _long_sweep(points, runs) + _price_only_sweep(points)


def _long_sweep(points: dict[str, tuple[dict, Scenario]], runs: dict[str, int]) -> list[RunWarning]:
    from simfleet.run_limits import long_sweep_message, sweep_wall_s

    works = [(scenario.workload, runs[label]) for label, (_, scenario) in points.items()]
    if not works:
        return []
    wall = sweep_wall_s(works)
    limit = next(iter(points.values()))[1].experiment.limits.slow_run_warning
    if not wall > limit:
        return []
    requests = sum(count * (work.requests + work.user_requests) for work, count in works)
    return [RunWarning("long_run", long_sweep_message(sum(runs.values()), requests, wall, limit), "")]


def _price_only_sweep(points: dict[str, tuple[dict, Scenario]]) -> list[RunWarning]:
    by_axes: dict[tuple, list] = {}
    for members in _price_only_groups([(label, scenario) for label, (_, scenario) in points.items()]):
        chosen = [points[label][0] for label, _ in members]
        varying = tuple(key for key in chosen[0]
                        if len({json.dumps(p.get(key), sort_keys=True, default=str) for p in chosen}) > 1)
        by_axes.setdefault(varying, []).append(members)
    out = []
    for varying, groups in by_axes.items():
        axes = " and ".join(varying) or "nothing but their prices"
        example = ", ".join(f"{key}={value}" for key, value in points[groups[0][0][0]][0].items() if key not in varying)
        out.append(RunWarning("differ_only_in_price",
                              f"sweep points that differ only in {axes} differ only in price ({_costs(groups[0])}): "
                              f"{_SAME}; {len(groups)} such group{'s' if len(groups) != 1 else ''} of points"
                              + (f", the first at {example}" if example else ""), ""))
    return out


def as_json(warnings: Iterable[RunWarning]) -> list[dict]:
    """The `warnings` list of `summary.json` and of the other outputs."""
    return [w.as_json() for w in warnings]
