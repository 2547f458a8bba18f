"""Every kind of input file simfleet reads, recognised from its content and checked as its command would.

`simfleet validate FILE…` sits here in the data flow: before any command runs, a file is
recognised (experiment, model profile, sweep, recommender job, autoscaling requests, metric
data queries, CreateEndpointConfig and CreateModel requests, calibration sources, replay trace) and handed to the very loader the command that reads it uses (`scenario.load_experiment`,
`profiles.load_profile`, `sweep.plan.load_sweep`, `recommender.job_file.load_job_file`,
`autoscaling.document.load_autoscaling`, `query.requests.parse_get_metric_data`,
`traffic.trace_file`), so validating a file and running
it can never disagree. Each kind is one `InputKind` in the `KINDS` registry: how to recognise it
from the parsed document, and how to check it. Loaders are imported inside the checks, so
validating never loads the engine (numba) or the query layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from simfleet.errors import InputError, Problem

__all__ = ["InputKind", "KINDS", "detect_kind", "check_file"]

#: Top-level keys of a CreateInferenceRecommendationsJob request (a recommender job file).
_JOB_KEYS = frozenset({"JobName", "JobType", "RoleArn", "InputConfig", "StoppingConditions", "OutputConfig"})
#: Top-level keys of an autoscaling requests document (`[autoscaling] file = "…json"`).
_AUTOSCALING_KEYS = frozenset({"targets", "policies", "scheduled_actions", "alarms"})
#: Members a CreateEndpointConfig request must have; a CreateModel request's name and container(s).
_ENDPOINT_CONFIG_KEYS = frozenset({"EndpointConfigName", "ProductionVariants"})
_TRACE_SUFFIXES = frozenset({".csv", ".parquet", ".pq"})


@dataclass(frozen=True)
class InputKind:
    """One kind of input: its name (for `--kind`), what it looks like, and how its command checks it."""

    name: str
    looks_like: str                              # for messages: how the kind is recognised
    recognise: Callable[[str, object], bool]     # (suffix, parsed document or None) -> is this kind
    # (path, --model) -> a note for the ok line, or (note, warnings: each a `Problem` or an
    # `outputs.run_warnings.RunWarning`, shown as `warning: <it>`), or raises `InputError`
    check: Callable[[Path, str | None], str | tuple[str, tuple]]


def _table(document) -> dict:
    return document if isinstance(document, dict) else {}


# --- the checks: each one is what the command that reads the file does ----------------------------


def _check_experiment(path: Path, model: str | None) -> tuple[str, tuple]:
    """As `simfleet run` does, with the warnings it says before the run and those of its results
    that the configuration decides (`outputs.run_warnings.config_warnings`), in the same words."""
    from simfleet.outputs.run_warnings import config_warnings
    from simfleet.scenario import load_experiment

    scenario = load_experiment(path)
    return "", (*scenario.warnings, *config_warnings(scenario))


def _check_profile(path: Path, model: str | None) -> str:
    from simfleet.profiles import load_profile

    load_profile(path)
    return ""


def _check_sweep(path: Path, model: str | None) -> tuple[str, tuple]:
    """As `simfleet sweep` does, with the warnings it says at its end (its plan decides them)."""
    from simfleet.outputs.run_warnings import sweep_warnings
    from simfleet.sweep.dataset import check_column_names
    from simfleet.sweep.plan import load_sweep

    plan = load_sweep(path)
    check_column_names(plan)
    return f"{len(plan.runs)} runs", tuple(sweep_warnings(plan))


def _check_job(path: Path, model: str | None) -> str | tuple[str, tuple]:
    """As `simfleet recommend` does, with the warnings of its end that the job file decides
    (`recommender.job_runner.planned_job_warnings`); a job that names no model (an AWS request as
    sent, which `recommend` takes with `--model`) is checked in full except for the model, and says so."""
    from simfleet.recommender.job_file import load_job_file
    from simfleet.recommender.job_runner import planned_job_warnings

    try:
        job = load_job_file(path, model=model)
    except InputError as error:
        rest = [p for p in error.problems if not _is_missing_model(p)]
        if rest:
            raise InputError(rest) from None
        return "no model profile named: give one with --model to check the instance types against it"
    return f"model {job.model}", tuple(planned_job_warnings(job))


def _is_missing_model(problem: Problem) -> bool:
    return problem.key == "simfleet.model" and problem.message.startswith("required")


def _check_autoscaling(path: Path, model: str | None) -> str:
    """As an experiment's `[autoscaling] file` is checked, less what needs the experiment (which
    variants exist, which metrics they publish): validate the experiment that names it for those."""
    from simfleet.autoscaling.document import load_autoscaling
    from simfleet.input_files import parse_json, read_input_text
    from simfleet.schema.json_lines import json_key_lines
    from simfleet.schema.toml_lines import line_of
    from simfleet.schema.validation import undotted

    text = read_input_text(path, "autoscaling document")
    data = parse_json(text, path)
    lines, _ = json_key_lines(text)
    try:
        load_autoscaling(data, str(path))
    except InputError as error:
        raise InputError([Problem(p.file, p.key, p.message, p.line if p.line is not None or not p.key
                                  else line_of(lines, undotted(p.key))) for p in error.problems]) from None
    return "standalone: the experiment that names it checks its targets and metrics"


def _check_queries(path: Path, model: str | None) -> str:
    """As `simfleet metrics RUN get-metric-data --metric-data-queries file://PATH` checks its queries
    (GetMetricData's shapes and CloudWatch's rules), before any run directory is opened."""
    from simfleet.input_files import parse_json, read_input_text
    from simfleet.query.requests import parse_get_metric_data
    from simfleet.schema.json_lines import json_key_lines
    from simfleet.schema.toml_lines import line_of
    from simfleet.schema.validation import undotted

    text = read_input_text(path, "queries file")
    data = parse_json(text, path)
    lines, _ = json_key_lines(text)
    try:
        request = parse_get_metric_data({"MetricDataQueries": data, "StartTime": 0, "EndTime": 60})
    except InputError as error:
        raise InputError([Problem(str(path), p.key, p.message, line_of(lines, undotted(p.key)[1:]))
                          for p in error.problems]) from None
    return f"{len(request.queries)} MetricDataQueries"


def _check_endpoint_config(path: Path, model: str | None) -> str:
    """As an experiment's `endpoint_config_file` is read, less the ModelName mapping
    (`[model_profiles]`), which the experiment that names it checks."""
    from simfleet.aws_requests import check_endpoint_config_file

    count = check_endpoint_config_file(path)
    return f"{count} ProductionVariants; standalone: the experiment that names it maps their ModelNames to profiles"


def _check_model(path: Path, model: str | None) -> str:
    """As an experiment's `model_files` entry is read, less its profile mapping."""
    from simfleet.aws_requests import check_model_file

    count = check_model_file(path)
    return f"{count} container{'s' if count != 1 else ''}; standalone: the experiment that names it maps it to profiles"


#: The column a replay reads its times from unless the experiment says otherwise (`time_column`).
_TIME_COLUMN = "timestamp"


def _check_calibration_source(path: Path, model: str | None) -> str:
    """As `simfleet calibrate` reads it (`calibration.sources.check_source`)."""
    from simfleet.calibration.sources import check_source

    return check_source(path)


def _is_calibration_source(suffix: str, document) -> bool:
    from simfleet.calibration.sources import looks_like_source

    return looks_like_source(suffix, document)


def _check_trace(path: Path, model: str | None) -> tuple[str, tuple[Problem, ...]]:
    """As a replay reads it: a readable CSV or Parquet file with request times in `timestamp`
    (seconds from the start, or ISO 8601 timestamps), finite and in order. An experiment that
    replays it with another `time_column` checks that column, and which of its times fall in the
    run, when it is validated."""
    import pandas as pd

    from simfleet.config.limits import LimitsSection
    from simfleet.traffic.trace_file import read_trace, replay_window, trace_times

    table = read_trace(path, LimitsSection().max_trace_size)
    if _TIME_COLUMN not in table.columns:
        raise InputError.single(path, f"no column {_TIME_COLUMN!r}, the request times a replay reads by default "
                                      f"(columns: {', '.join(map(str, table.columns))}); an experiment naming "
                                      "another time_column checks it when validated", _TIME_COLUMN)
    if len(table) == 0:
        raise InputError.single(path, "no requests: the trace has no rows", _TIME_COLUMN)
    column = table[_TIME_COLUMN]
    numeric = pd.api.types.is_numeric_dtype(column)
    times = trace_times(column, 0.0, path, _TIME_COLUMN)
    window = replay_window(times, float("inf"), numeric)
    warnings = []
    if window.out_of_order:
        warnings.append(Problem(str(path), _TIME_COLUMN, f"the times are not in order ({window.out_of_order:,} rows "
                                                         "earlier than the row before): a replay sorts them; check "
                                                         "that this is the column of request times"))
    if window.epoch_like:
        warnings.append(Problem(str(path), _TIME_COLUMN, "these numbers look like Unix epoch seconds or milliseconds, "
                                                         "but a replay reads numbers as seconds from the start of the "
                                                         "run: write ISO 8601 times, or give the replay a time_offset"))
    elif numeric and window.before:
        warnings.append(Problem(str(path), _TIME_COLUMN, f"{window.before:,} times are negative: a replay sends "
                                                         "none of them (seconds from the start of the run)"))
    return f"{len(table):,} requests", tuple(warnings)


KINDS: dict[str, InputKind] = {kind.name: kind for kind in (
    InputKind("experiment", "an experiment TOML (an [experiment] table)",
              lambda suffix, doc: suffix == ".toml" and "experiment" in _table(doc), _check_experiment),
    InputKind("profile", "a model profile TOML (models/*.toml: name and [[service]])",
              lambda suffix, doc: suffix == ".toml" and "service" in _table(doc) and "experiment" not in _table(doc),
              _check_profile),
    InputKind("sweep", "a sweep TOML (a [sweep] table)",
              lambda suffix, doc: suffix == ".toml" and "sweep" in _table(doc), _check_sweep),
    InputKind("job", "a recommender job, TOML or JSON (JobName, InputConfig, …)",
              lambda suffix, doc: suffix in (".toml", ".json") and bool(_JOB_KEYS & set(_table(doc))), _check_job),
    InputKind("autoscaling", "autoscaling requests JSON (targets, policies, scheduled_actions, alarms)",
              lambda suffix, doc: (suffix == ".json" and bool(_table(doc))
                                   and set(_table(doc)) <= _AUTOSCALING_KEYS), _check_autoscaling),
    InputKind("endpoint_config", "a CreateEndpointConfig request JSON (EndpointConfigName, ProductionVariants)",
              lambda suffix, doc: suffix == ".json" and _ENDPOINT_CONFIG_KEYS <= set(_table(doc)),
              _check_endpoint_config),
    InputKind("model", "a CreateModel request JSON (ModelName with PrimaryContainer or Containers)",
              lambda suffix, doc: (suffix == ".json" and "ModelName" in _table(doc)
                                   and bool({"PrimaryContainer", "Containers"} & set(_table(doc)))), _check_model),
    InputKind("queries", "GetMetricData queries JSON (a list of MetricDataQueries, each with an Id)",
              lambda suffix, doc: (suffix == ".json" and isinstance(doc, list) and bool(doc)
                                   and all(isinstance(q, dict) and "Id" in q for q in doc)), _check_queries),
    InputKind("calibration_source", "a simfleet calibrate source: CloudWatch get-metric-data or "
              "get-metric-statistics response JSON (MetricDataResults, Datapoints), Locust --csv stats",
              _is_calibration_source, _check_calibration_source),
    InputKind("trace", "a replay trace (.csv, .parquet)",
              lambda suffix, doc: suffix in _TRACE_SUFFIXES, _check_trace),
)}


def _parsed(path: Path, suffix: str):
    """The document to recognise: TOML or JSON parsed, None for a trace; raises `InputError` for a
    file that cannot be read or parsed (one problem, with its line where the parser gives one)."""
    from simfleet.input_files import parse_json, parse_toml, read_input_text

    if suffix == ".csv":
        from simfleet.calibration.sources import CsvHeader

        return CsvHeader.of(path)
    if suffix in _TRACE_SUFFIXES:
        return None
    text = read_input_text(path, "file", encoding="utf-8-sig")
    return parse_json(text, path) if suffix == ".json" else parse_toml(text, path)


def detect_kind(path: Path) -> str:
    """The name of the kind of input at `path`, recognised from its content (its suffix for traces).
    Raises `InputError` (one problem) when it cannot be read or is none of the kinds."""
    from simfleet.input_files import file_problem

    path = Path(path)
    suffix = path.suffix.lower()
    unreadable = file_problem(path, "file")
    if unreadable is not None and unreadable.endswith("it is a folder"):
        raise InputError.single(path, "is a folder: give the files in it")
    if unreadable is not None and not unreadable.startswith("no such"):
        raise InputError.single(path, unreadable)  # a device, a FIFO, a loop: whatever its suffix
    if suffix not in (".toml", ".json") and suffix not in _TRACE_SUFFIXES:
        raise InputError.single(path, f"cannot tell which simfleet input this is from its suffix "
                                      f"{path.suffix or '(none)'!r}: expected .toml, .json, .csv or .parquet, "
                                      "or give --kind")
    if unreadable is not None:
        raise InputError.single(path, unreadable)
    document = _parsed(path, suffix)
    for kind in KINDS.values():
        if kind.recognise(suffix, document):
            return kind.name
    keys = ", ".join(map(str, _table(document))) or "none"
    expected = "; ".join(kind.looks_like for kind in KINDS.values())
    raise InputError.single(path, f"cannot tell which simfleet input this is (top-level keys: {keys}): expected "
                                  f"{expected}; or give --kind")


def check_file(path: Path, kind: str | None = None, model: str | None = None) -> tuple[str, str, tuple]:
    """Check `path` as the command that reads it would: (kind name, note for the ok line, warnings:
    what will run but may mislead, each shown as the command shows it: a `Problem` or a
    `RunWarning`). Raises `InputError` with every problem found."""
    path = Path(path)
    name = kind or detect_kind(path)
    result = KINDS[name].check(path, model)
    note, warnings = (result, ()) if isinstance(result, str) else result
    return name, note, tuple(warnings)
