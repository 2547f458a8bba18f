"""Read an experiment file into a validated `Scenario`, or raise `InputError` with every problem.

Scenario assembly, the first stage of the data flow: above the documents it assembles (`config`'s
experiment schema, `catalog`, `profiles`, `traffic`, `autoscaling`) and below `fleet`, which is
built from a `Scenario` (DESIGN §2.2). TOML text → AWS request files (`endpoint_config_file`, `model_files`)
translated into TOML keys (`simfleet.aws_requests`) → (`--set` overrides) → schema validation, together
with checks of the names the file refers to (instance types, models, endpoints and variants named by
traffic, trace files and their columns) → checks that need validated values (alignment to the metric
period; each model's service entry for its instance type, and whether it fits in memory, for
every container of a pipeline or multi-container variant alone and all of them together; for a
serverless variant, which has no instance type, whether its model can run on serverless at all,
`simfleet.serverless_sizing.serverless_problems`; for a multi-model variant, whether it may run
multi-model on its instance type and whether every model of its population fits the cache,
`_multi_model_problems`; for inference components, their endpoints, variants, reservations against
the variant's instance type and the traffic that names them,
`simfleet.config.inference_components.component_problems`, and each component's model on that
instance type, `_component_model_problems`). Every problem found is reported at once; a problem in a
`--set` value is reported against `--set`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from simfleet.aws_requests import expand_request_files, relocate
from simfleet.autoscaling.document import AutoscalingConfig, load_autoscaling
from simfleet.autoscaling.metric_sources import alarm_watch, policy_watches, watch_problems
from simfleet.catalog import INSTANCE_TYPE_PATTERN, Catalog, load_catalog
from simfleet.config.experiment import Experiment
from simfleet.config.inference_components import component_problems
from simfleet.config.publish_periods import alignment_s
from simfleet.errors import InputError, Problem
from simfleet.input_files import file_problem, parse_json, parse_toml, read_input_text
from simfleet.multi_model.capacity import cache_tiers, copies_per_load, is_gpu_variant, model_fit_problems
from simfleet.multi_model.population import build_population
from simfleet.run_limits import Workload, estimate_workload
from simfleet.profiles import (GIB, ModelProfile, available_profiles, builtin_profile_dir, fit_problems,
                               load_profile)
from simfleet.schema.toml_lines import key_lines, line_of
from simfleet.serverless_sizing import serverless_problems
from simfleet.schema.validation import dotted, problems_from_validation, undotted
from simfleet.traffic.trace_file import trace_columns

__all__ = ["Scenario", "load_experiment", "scenario_from_dict", "apply_overrides"]


@dataclass(frozen=True)
class Scenario:
    """A validated experiment with everything it refers to loaded: the input of `simulate`."""

    experiment: Experiment
    catalog: Catalog
    profiles: dict[str, ModelProfile]
    source: str
    base_dir: Path
    autoscaling: AutoscalingConfig | None = None
    #: What will run but may mislead or take long (`simfleet.run_limits`): printed by `run` and `validate`.
    warnings: tuple[Problem, ...] = ()
    #: The work the run will create, estimated (`simfleet.run_limits.Workload`): a sweep sums its runs'.
    workload: Workload | None = None


def load_experiment(path: str | Path, overrides: list[str] = ()) -> Scenario:
    """Load `path`, apply ``key=value`` overrides (``--set``), validate and resolve."""
    path = Path(path)
    text = read_input_text(path, "experiment file")
    raw = parse_toml(text, path)
    return _assemble(raw, str(path), path.resolve().parent, key_lines(text), overrides)


def _blame_override(problem: Problem, overrides: list[str]) -> Problem:
    """A problem in a value given with --set is reported against --set, not a line of the file."""
    for assignment in overrides:
        key = assignment.partition("=")[0].strip()
        path = dotted(tuple(int(p) if p.isdigit() else p for p in key.split(".")))
        if problem.key == path or problem.key.startswith(path + ".") or problem.key.startswith(path + "["):
            return Problem("--set", problem.key, problem.message)
    return problem


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``a.b.0.c=value`` assignments; values are TOML literals, or bare strings."""
    raw = copy.deepcopy(raw)
    problems = []
    for assignment in overrides:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", assignment, "expected key=value, e.g. experiment.seed=7"))
            continue
        try:
            value = parse_toml(f"v = {text.strip()}", "--set")["v"]
        except InputError as error:
            if "nested more than" in error.problems[0].message:
                problems.append(Problem("--set", key.strip(), error.problems[0].message))
                continue
            value = text.strip()  # not a TOML literal: a bare string
        parts = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
        node = raw
        try:
            for part in parts[:-1]:
                node = node[part] if isinstance(node, list) else node.setdefault(part, {})
            node[parts[-1]] = value
        except (AttributeError, IndexError, KeyError, TypeError):
            problems.append(Problem("--set", key.strip(), "no such key path in the experiment"))
    if problems:
        raise InputError(problems)
    return raw


def scenario_from_dict(raw: dict, source: str = "<experiment>", base_dir: Path | None = None,
                       lines: dict | None = None) -> Scenario:
    """Validate an experiment given as a dict (what `load_experiment` does after parsing)."""
    return _assemble(raw, source, base_dir or Path.cwd(), lines or {})


def _assemble(raw: dict, source: str, base_dir: Path, lines: dict, overrides: list[str] = ()) -> Scenario:
    """Translate AWS request files (`simfleet.aws_requests`), then apply ``--set`` overrides (so they
    reach keys that came from the JSON too), then validate. A problem in a value given with --set is
    reported against --set, one in a key from a request file against that file."""
    expansion = expand_request_files(raw, source, base_dir, lines)
    raw = apply_overrides(expansion.raw, overrides)
    try:
        return _scenario(raw, source, base_dir, lines, expansion.problems)
    except InputError as error:
        problems = []
        for problem in error.problems:
            if problem in expansion.problems:
                problems.append(problem)
            elif not expansion.follows_on(problem, source):
                blamed = _blame_override(problem, overrides)
                problems.append(blamed if blamed is not problem else relocate(problem, expansion.origins, source))
        raise InputError(problems) from None


def _scenario(raw: dict, source: str, base_dir: Path, lines: dict, problems: list[Problem]) -> Scenario:
    """`scenario_from_dict` once AWS request files are translated (`simfleet.aws_requests`)."""
    problems = list(problems)
    experiment = None
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as error:
        problems += problems_from_validation(error, source, (), lines, raw)
    names = _NameChecks(raw, source, base_dir, lines)
    problems += names.problems
    if experiment is None:
        raise InputError(problems)
    catalog = load_catalog().with_overrides(experiment.catalog, source, lines)
    profiles, more = _resolve(experiment, catalog, names.known_profiles, source, lines)
    autoscaling, scaling_problems = _autoscaling(experiment, source, base_dir, lines)
    if problems or more or scaling_problems:
        raise InputError(problems + more + scaling_problems)
    try:
        workload, limit_problems, warnings = estimate_workload(experiment, catalog, autoscaling, base_dir)
    except InputError as error:  # a replay trace that cannot be read: the problems name its file
        raise InputError(error.problems) from None

    def located(path: tuple, message: str) -> Problem:
        return Problem(source, dotted(path), message, line_of(lines, path))

    if limit_problems:
        raise InputError([located(path, message) for path, message in limit_problems])
    return Scenario(experiment, catalog, profiles, source, base_dir, autoscaling,
                    tuple(located(path, message) for path, message in warnings), workload)


def _autoscaling(experiment: Experiment, source: str, base_dir: Path, lines: dict):
    """The Application Auto Scaling requests of `[autoscaling]` (inline, or its JSON `file`), validated
    against the experiment: targets name its variants or inference components, alarms read metrics
    it publishes."""
    section = experiment.autoscaling
    if section is None:
        return None, []
    if section.file is not None:
        path = base_dir / section.file
        document_source, prefix = str(Path(source).parent / section.file), ()
        unreadable = file_problem(path, "file")
        if unreadable is not None:
            return None, [Problem(source, "autoscaling.file", unreadable.replace("no such file", f"no such file "
                                                                                 f"{section.file!r}"),
                                  line_of(lines, ("autoscaling", "file")))]
        try:
            data = parse_json(read_input_text(path, "autoscaling document"), document_source)
        except InputError as error:
            return None, error.problems
    else:
        document_source, prefix, data = source, ("autoscaling",), section.requests()

    def problem(path: tuple, message: str) -> Problem:
        full = prefix + path
        return Problem(document_source, dotted(full), message, line_of(lines, full) if prefix else None)

    variants = {(e.endpoint_name, v.variant_name) for e in experiment.endpoints for v in e.production_variants}
    serverless = {(e.endpoint_name, v.variant_name): v.serverless_config.max_concurrency
                  for e in experiment.endpoints for v in e.production_variants if v.serverless_config is not None}
    components = {c.inference_component_name: (c.endpoint_name, experiment.component_variant(c))
                  for c in experiment.inference_components}
    try:
        config = load_autoscaling(data, document_source, variants=variants, serverless=serverless,
                                  components=components)
    except InputError as error:
        return None, [problem(undotted(p.key), p.message) for p in error.problems]
    found = []
    settings = section.settings
    for i, policy in enumerate(config.policies):
        tracking = policy.TargetTrackingScalingPolicyConfiguration
        if tracking is None:
            continue
        where = ("policies", i, "TargetTrackingScalingPolicyConfiguration",
                 "PredefinedMetricSpecification" if tracking.PredefinedMetricSpecification else
                 "CustomizedMetricSpecification")
        for watch in dict.fromkeys(policy_watches(policy, settings)):
            for relative, message in watch_problems(watch, experiment):
                if relative == ("Period",):
                    message += " (set autoscaling.settings.target_tracking_period or high_resolution_out_period)"
                found.append(problem(where + relative, message))
    for i, alarm in enumerate(config.alarms):
        found += [problem(("alarms", i) + relative, message)
                  for relative, message in watch_problems(alarm_watch(alarm), experiment)]
    return (None if found else config), found


class _NameChecks:
    """Checks of names the experiment refers to, run on the raw data so that they are reported
    together with schema problems: model folders, instance types, models, endpoint and variant
    names in traffic, trace files and their columns. Values of the wrong type are left to the
    schema's own report."""

    def __init__(self, raw: dict, source: str, base_dir: Path, lines: dict):
        self.source, self.base_dir, self.lines = source, base_dir, lines
        self.problems: list[Problem] = []
        experiment = _dict(raw.get("experiment"))
        folders = [f for f in _list(experiment.get("model_paths")) if isinstance(f, str)]
        for index, folder in enumerate(folders):
            if not _is_folder(base_dir / folder):
                self.report(("experiment", "model_paths", index), f"no such folder {folder!r}")
        self.known_profiles = available_profiles([base_dir / f for f in folders] + [builtin_profile_dir()])
        types = set(load_catalog()) | set(_dict(raw.get("catalog")))
        endpoints: dict[str, list[str]] = {}
        self.multi_model: dict[str, set] = {}  # endpoint name -> its multi-model variants' names
        for e_index, endpoint in enumerate(_list(raw.get("endpoints"))):
            endpoint = _dict(endpoint)
            variants = [_dict(v) for v in _list(endpoint.get("production_variants"))]
            name = endpoint.get("endpoint_name")
            if isinstance(name, str):
                if name in endpoints:
                    self.report(("endpoints", e_index, "endpoint_name"), f"endpoint name {name!r} is used twice")
                endpoints[name] = [v.get("variant_name") for v in variants]
                self.multi_model[name] = {v.get("variant_name") for v in variants if v.get("mode") == "MultiModel"
                                          and isinstance(v.get("variant_name"), str)}  # else the schema refuses
            for v_index, variant in enumerate(variants):
                where = ("endpoints", e_index, "production_variants", v_index)
                instance_type = variant.get("instance_type")
                if (isinstance(instance_type, str) and re.fullmatch(INSTANCE_TYPE_PATTERN, instance_type)
                        and instance_type not in types):
                    self.report(where + ("instance_type",), f"unknown instance type {instance_type!r} "
                                "(see `simfleet catalog`, or add it under [catalog])")
                self._model(where + ("model_name",), variant.get("model_name"))
                for c_index, container in enumerate(_list(variant.get("containers"))):
                    self._model(where + ("containers", c_index, "model_name"), _dict(container).get("model_name"))
                for m_index, declared in enumerate(_list(_dict(variant.get("model_population")).get("models"))):
                    self._model(where + ("model_population", "models", m_index, "profile"), _dict(declared).get("profile"))
        for c_index, component in enumerate(_list(raw.get("inference_components"))):
            self._model(("inference_components", c_index, "specification", "model_name"),
                        _dict(_dict(component).get("specification")).get("model_name"))
        for t_index, traffic in enumerate(_list(raw.get("traffic"))):
            self._traffic(("traffic", t_index), _dict(traffic), endpoints)

    def report(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.source, dotted(path), message, line_of(self.lines, path)))

    def _model(self, path: tuple, model) -> None:
        if isinstance(model, str) and model and model not in self.known_profiles:
            names = ", ".join(sorted(self.known_profiles)) or "none found"
            self.report(path, f"unknown model {model!r} (profiles: {names})")

    def _traffic(self, where: tuple, traffic: dict, endpoints: dict[str, list]) -> None:
        name = traffic.get("endpoint_name")
        if name is None:
            if len(endpoints) > 1:
                self.report(where + ("endpoint_name",), "required when the experiment has several endpoints")
                return
            variants = next(iter(endpoints.values()), None)
        elif isinstance(name, str):
            variants = endpoints.get(name)
            if variants is None and endpoints:
                self.report(where + ("endpoint_name",),
                            f"unknown endpoint {name!r} (endpoints: {', '.join(endpoints)})")
        else:
            return
        target = traffic.get("target_variant")
        if isinstance(target, str) and variants is not None and target not in variants:
            self.report(where + ("target_variant",), f"no variant {target!r} in this endpoint "
                        f"(variants: {', '.join(str(v) for v in variants)})")
        self._target_model(where, traffic, name if isinstance(name, str) else next(iter(endpoints), None))
        if traffic.get("kind") == "replay" and isinstance(traffic.get("file"), str):
            self._trace(where, traffic)

    def _target_model(self, where: tuple, traffic: dict, endpoint) -> None:
        """A TargetModel only on traffic that reaches a multi-model variant (AWS: the header is for
        multi-model endpoints); which model it names is checked at run time (a 4XX), not here."""
        key = next((k for k in ("target_model", "target_model_column") if traffic.get(k) is not None), None)
        if key is None or endpoint not in self.multi_model:
            return
        multi = self.multi_model[endpoint]
        target = traffic.get("target_variant")
        if isinstance(target, str):
            if target not in multi:
                self.report(where + (key,), f"{key} names models of a multi-model variant; variant {target!r} of "
                            f"endpoint {endpoint!r} is not one (mode = \"MultiModel\")")
        elif not multi:
            self.report(where + (key,), f"{key} names models of a multi-model endpoint; endpoint {endpoint!r} has no "
                        "multi-model variant (mode = \"MultiModel\")")

    def _trace(self, where: tuple, traffic: dict) -> None:
        path = self.base_dir / traffic["file"]
        unreadable = file_problem(path, "trace file")
        if unreadable is not None:
            self.report(where + ("file",), unreadable.replace("no such trace file", f"no such trace file "
                                                              f"{traffic['file']!r}"))
            return
        try:
            columns = trace_columns(path)
        except InputError as error:
            self.problems += error.problems
            return
        for key, default in (("time_column", "timestamp"), ("payload_column", None),
                             ("target_container_hostname_column", None), ("target_model_column", None)):
            column = traffic.get(key, default)
            if isinstance(column, str) and column not in columns:
                self.report(where + (key,), f"trace {traffic['file']!r} has no column {column!r} "
                            f"(columns: {', '.join(columns)})")


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a path too long for the system, or with a NUL character
        return False


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _resolve(experiment: Experiment, catalog: Catalog, known: dict[str, Path], source: str,
             lines: dict) -> tuple[dict[str, ModelProfile], list[Problem]]:
    """Checks that need validated values: alignment to the period, and each model on its instance."""
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        problems.append(Problem(source, dotted(path), message, line_of(lines, path)))

    period = alignment_s(experiment)
    if experiment.experiment.start_time.timestamp() % period:
        report(("experiment", "start_time"), f"must be aligned to the metric periods ({period:g}s), "
               "as CloudWatch periods are, e.g. 2026-01-05T09:00:00Z")
    if experiment.experiment.duration % period:
        report(("experiment", "duration"), f"must be a whole number of metric periods ({period:g}s: every "
               "publish period in use closes at the end)")

    profiles: dict[str, ModelProfile] = {}
    failed: set[str] = set()

    def profile(name: str) -> ModelProfile | None:
        if name not in profiles and name not in failed:
            try:
                profiles[name] = load_profile(known[name])
            except InputError as error:
                problems.extend(error.problems)
                failed.add(name)
        return profiles.get(name)

    for e_index, endpoint in enumerate(experiment.endpoints):
        for v_index, variant in enumerate(endpoint.production_variants):
            where = ("endpoints", e_index, "production_variants", v_index)
            if variant.serverless_config is not None:  # no instance type: the serverless checks instead
                loaded = profile(variant.model_name) if variant.model_name in known else None
                if loaded is not None:
                    for relative, message in serverless_problems(loaded, variant.serverless_config,
                                                                 experiment.serverless):
                        report(where + relative, message)
                continue
            if variant.instance_type not in catalog:
                continue  # already reported by the name checks
            if variant.model_name is None and variant.containers is None:
                continue  # hosts inference components: checked below
            instance = catalog[variant.instance_type]
            if variant.containers is None:
                models = [(variant.model_name, variant.workers, where + ("instance_type",))]
            else:
                models = [(c.model_name, c.workers, where + ("containers", k, "model_name"))
                          for k, c in enumerate(variant.containers)]
            entries = []
            for name, workers, key in models:
                loaded = profile(name) if name in known else None  # an unknown name is already reported
                if loaded is None:
                    continue
                entry = loaded.entry_for(instance, workers)
                if entry is None:
                    report(key, f"model {loaded.name!r} has no service entry for {instance.name} "
                                f"(it has: {', '.join(loaded.supported())})")
                    continue
                fit = fit_problems(entry, instance, loaded.name)
                for message in fit:
                    report(key, message)
                if not fit:
                    entries.append((loaded.name, entry))
            if len(entries) > 1 and len(entries) == len(models):
                for message in _together_problems(entries, instance):
                    report(where + ("instance_type",), message)
            if variant.multi_model and len(entries) == 1:
                for relative, message in _multi_model_problems(experiment, endpoint.endpoint_name, variant, instance,
                                                               entries[0][1], known, profile):
                    report(where + relative, message)
    for path, message in component_problems(experiment, catalog):
        report(path, message)
    for path, message in _component_model_problems(experiment, catalog, known, profile):
        report(path, message)
    return profiles, problems


def _component_model_problems(experiment: Experiment, catalog: Catalog, known: dict,
                              profile) -> list[tuple[tuple, str]]:
    """Each inference component's model on its variant's instance type: the profile has an entry
    for it, and a model that needs an accelerator reserves one (a copy uses only what it reserves)."""
    out = []
    variants = {(e.endpoint_name, v.variant_name): v for e in experiment.endpoints for v in e.production_variants}
    for index, component in enumerate(experiment.inference_components):
        variant = variants.get((component.endpoint_name, experiment.component_variant(component)))
        name = component.specification.model_name
        if variant is None or variant.instance_type not in catalog or name not in known:
            continue  # an unknown endpoint, variant, instance type or model is reported elsewhere
        loaded = profile(name)
        if loaded is None:
            continue
        instance = catalog[variant.instance_type]
        where = ("inference_components", index, "specification")
        entry = loaded.entry_for(instance)
        if entry is None:
            out.append((where + ("model_name",), f"model {name!r} has no service entry for {instance.name} "
                        f"(it has: {', '.join(loaded.supported())})"))
        elif entry.gpus_per_busy_worker > 0 and component.specification.compute_resource_requirements.accelerators == 0:
            out.append((where + ("compute_resource_requirements", "number_of_accelerator_devices_required"),
                        f"model {name!r} runs on an accelerator on {instance.name}; each copy must reserve at least "
                        "1 (a copy uses only the accelerators it reserves)"))
    return out


def _multi_model_problems(experiment: Experiment, endpoint_name: str, variant, instance, entry, known: dict,
                          profile) -> list[tuple[tuple, str]]:
    """What keeps a multi-model variant from running on its instance type: a GPU variant on a type
    with several GPUs (AWS: "all CPU instances types and on single-GPU instance types", developer
    guide "Multi-model endpoints"), a declared model's profile without an entry for the type, a cache
    tier with no room at all, and a model that fits no tier. (relative key path, message) each."""
    settings = experiment.multi_model
    out: list[tuple[tuple, str]] = []
    gpu = is_gpu_variant(instance, entry.gpus_per_busy_worker)
    if gpu and instance.accelerators > 1:
        return [(("instance_type",), f"GPU multi-model endpoints run on single-GPU instance types only (AWS: \"all "
                                     f"CPU instances types and on single-GPU instance types\"); {instance.name} has "
                                     f"{instance.accelerators} GPUs")]
    spec = variant.model_population
    for index, declared in enumerate(spec.models or ()):
        if declared.profile is None or declared.profile not in known:
            continue  # an unknown profile is reported by the name checks
        loaded = profile(declared.profile)
        if loaded is not None and loaded.entry_for(instance) is None:
            out.append((("model_population", "models", index, "profile"),
                        f"model {loaded.name!r} has no service entry for {instance.name} "
                        f"(it has: {', '.join(loaded.supported())})"))
    tiers = cache_tiers(instance, gpu, settings)
    if tiers.memory_bytes <= 0:
        out.append((("instance_type",), f"{instance.name} has {instance.memory_bytes / GIB:.3g} GiB of memory, "
                                        f"no more than multi_model.memory_reserve "
                                        f"({settings.memory_reserve / GIB:.3g} GiB): no room for models"))
    if gpu and tiers.gpu_memory_bytes <= 0:
        out.append((("instance_type",), f"the GPU of {instance.name} has {instance.accelerator_memory_bytes / GIB:.3g} "
                                        "GiB, no more than multi_model.gpu_memory_reserve: no room for models"))
    if out:
        return out
    population = build_population(spec, gpu, experiment.experiment.seed, endpoint_name, variant.variant_name)
    if not gpu and population.gpu_memory_bytes.any():
        k = int(population.gpu_memory_bytes.nonzero()[0][0])
        out.append((("model_population", "models", k, "gpu_memory"),
                    f"model {population.names[k]!r} gives gpu_memory, but this variant runs on CPU ({instance.name} "
                    f"with model {variant.model_name!r}): give memory instead"))
        return out
    copies = copies_per_load(settings, entry.workers)
    for index, overflowed, message in model_fit_problems(population, tiers, copies, instance.name,
                                                         every_model=population.declared):
        tier = overflowed[0]  # the key of the first tier it overflows: the size it comes from
        if population.declared:
            declared = spec.models[index]
            given = {"memory": declared.memory, "gpu_memory": declared.gpu_memory}.get(tier)
            key = ("model_population", "models", index, tier if given is not None else "artifact_size")
        else:
            key = ("model_population", "memory" if tier != "disk" and spec.memory is not None else "artifact_size")
        out.append((key, message))
    return out


def _together_problems(entries: list, instance) -> list[str]:
    """Why a variant's containers, each fitting alone, do not fit on one instance together: AWS runs
    every container of a pipeline or multi-container model on each instance (developer guide,
    "Inference pipelines in Amazon SageMaker AI": "installs and runs all of the containers on each ...
    instance")."""
    memory = sum(entry.workers * entry.memory_per_worker_bytes for _, entry in entries)
    out = []
    if memory > instance.memory_bytes:
        out.append(f"the {len(entries)} containers together need {memory / GIB:.1f} GiB of memory "
                   f"({', '.join(name for name, _ in entries)}); {instance.name} has "
                   f"{instance.memory_bytes / GIB:.1f} GiB (lower their workers)")
    if instance.accelerators:
        gpu_memory = sum(entry.workers * entry.gpu_memory_per_worker_bytes for _, entry in entries)
        total = instance.accelerators * instance.accelerator_memory_bytes
        if gpu_memory > total:
            out.append(f"the {len(entries)} containers together need {gpu_memory / GIB:.1f} GiB of accelerator "
                       f"memory; {instance.name} has {total / GIB:.1f} GiB")
    return out
