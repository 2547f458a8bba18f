"""Read an Inference Recommender job: the AWS request JSON unchanged, or the same keys in TOML.

Input stage of `simfleet recommend JOB`: file → (JSON or TOML by suffix) → `load_job`, which
validates the `CreateInferenceRecommendationsJob` request (`job_request`) together with what
simfleet needs that AWS reads from the model package, and checks the names the job refers to
(instance types in the catalog, the model profile). Every problem is reported at once, one line
each, with the line of the file where the key is written.

Decision: simfleet's own settings sit in an optional top-level member `simfleet` (lower case, so
it can never clash with an AWS member), e.g. ``{"simfleet": {"model": "xgboost-tabular", "seed": 7}}``
or a ``[simfleet]`` table:

* ``model``: the model profile to load test (stands for the model package or ModelName, which
  simfleet cannot read). Required, from the file or from the caller (`model=`, the CLI's
  ``--model``, which wins), so that an AWS request can be used unchanged.
* ``model_paths``: extra profile folders, relative to the job file (as in experiments).
* ``seed``: seed of every random stream of the job, 0 to 2**63 - 1, default 0.
* ``think_time``: pause of each user between a response and its next request, a duration like
  ``"50ms"``, default ``"0s"`` (AWS documents none, DESIGN §4).
* ``start_time``: the job's CreationTime in the simulated world, when its first load tests start,
  UTC and on a whole minute; default 2026-01-01T00:00:00Z (a fixed instant, so that the same job
  gives the same output).
* ``region``: the Region of the JobArn, default ``"us-east-1"``.
* ``default_users_per_worker`` and ``default_ramp``: the traffic of a `Default` job, which AWS
  chooses itself without saying how: each candidate is load tested with one phase that starts
  with 1 user and spawns users evenly over `default_ramp` (default ``"10min"``) until
  `default_users_per_worker` (default 3) × the model's workers on that instance run. A closed
  loop saturates c workers once N × S / (S + overhead) ≥ c; three users per worker leave room for
  the overhead, and `FlatInvocations` stops the test once invocations level off.
* ``serverless``: the experiment's `[serverless]` settings for the job's serverless
  configurations (idle timeout, cold-start parts, prices …, `simfleet.config.serverless`),
  validated the same way; default: none given, simfleet's defaults.
* ``model_setup_time_statistic``: how a serverless test's cold starts become its one
  `ModelSetupTime`: ``"Average"`` (default), ``"Minimum"``, ``"Maximum"`` or a percentile like
  ``"p90"`` of every cold start of the test (AWS does not say; `serverless_tests`).

The job's model is checked against every instance type it names: the profile must have a
service entry for it and its workers must fit (as in experiments); and against every
`ServerlessConfig`: it must run on serverless at that memory size (`serverless_sizing`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Mapping

from pydantic import Field, Strict, ValidationError, field_validator

from simfleet.catalog import Catalog, load_catalog
from simfleet.config.serverless import ServerlessConfig, ServerlessSettings
from simfleet.errors import InputError, Problem
from simfleet.input_files import parse_json, parse_toml, read_input_text
from simfleet.profiles import ModelProfile, available_profiles, builtin_profile_dir, fit_problems, load_profile
from simfleet.recommender.api_fields import _CATALOG, _semantic_only, _SIMFLEET, _walk
from simfleet.recommender.job_request import CreateInferenceRecommendationsJob
from simfleet.schema.json_lines import json_key_lines
from simfleet.recommender.serverless_tests import check_setup_statistic
from simfleet.schema.aws_fields import DEFER as _DEFER
from simfleet.schema.quantities import Duration, StrictModel, Timestamp
from simfleet.schema.toml_lines import key_lines, line_of
from simfleet.schema.validation import dotted, problems_from_validation
from simfleet.serverless_sizing import serverless_problems

__all__ = ["SimfleetSettings", "RecommendationJob", "load_job", "load_job_file", "SIMFLEET_KEY"]

SIMFLEET_KEY = "simfleet"
#: Default CreationTime of a simulated job.
DEFAULT_START_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_PROFILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class SimfleetSettings(StrictModel):
    """The `simfleet` member of a job (see the module docstring)."""

    model: Annotated[str, Strict(), Field(pattern=_PROFILE_NAME)] | None = None
    model_paths: list[Annotated[str, Strict()]] = Field(default_factory=list)
    seed: Annotated[int, Strict(), Field(ge=0, lt=2**63)] = 0
    think_time: Duration = 0.0
    start_time: Timestamp = DEFAULT_START_TIME
    region: Annotated[str, Strict(), Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "us-east-1"
    default_users_per_worker: Annotated[float, Field(gt=0, le=100)] = 3.0
    default_ramp: Duration = 600.0
    serverless: dict[str, Any] = Field(default_factory=dict)   # validated as ServerlessSettings by load_job
    model_setup_time_statistic: Annotated[str, Strict()] = "Average"

    @field_validator("model_setup_time_statistic")
    @classmethod
    def _setup_statistic(cls, value: str) -> str:
        return check_setup_statistic(value)

    def serverless_settings(self) -> ServerlessSettings:
        """The `serverless` member as the experiment's `[serverless]` settings (valid under `load_job`)."""
        return ServerlessSettings.model_validate(self.serverless)

    @field_validator("start_time")
    @classmethod
    def _whole_minute_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("start_time needs a time zone, e.g. 2026-01-05T09:00:00Z")
        value = value.astimezone(dt.timezone.utc)
        if value.timestamp() % 60:
            raise ValueError("start_time must be on a whole minute (load tests publish 60 s metric periods)")
        return value

    @field_validator("think_time", "default_ramp")
    @classmethod
    def _not_negative(cls, value: float, info) -> float:
        if value < 0 or (info.field_name == "default_ramp" and not 60 <= value <= 3600):
            raise ValueError("expected a duration ≥ 0" if info.field_name == "think_time"
                             else "expected a duration from 1min to 1h")
        return value


@dataclass(frozen=True)
class RecommendationJob:
    """A validated job: the AWS request, simfleet's settings (with `model` resolved) and where
    they came from. `model_path` and `profile` are the model's profile file and the profile, when
    the loader knew the profiles."""

    request: CreateInferenceRecommendationsJob
    settings: SimfleetSettings
    source: str
    model_path: Path | None = None
    profile: ModelProfile | None = None

    @property
    def model(self) -> str:
        return self.settings.model


def load_job(data: Any, source: str, *, catalog: Catalog | None = None, model: str | None = None,
             profiles: Mapping[str, Path] | None = None, lines: Mapping[tuple, int] | None = None
             ) -> RecommendationJob:
    """Validate a job given as the parsed JSON/TOML document; raise `InputError` with every problem.

    `catalog`: instance types an InstanceType may name (default: the catalog shipped with
    simfleet). `model`: profile name that replaces `simfleet.model`. `profiles`: profile name →
    file; when given, the model must be one of them. `lines`: key path → line, for messages.
    """
    if not isinstance(data, dict):
        raise InputError.single(source, "expected an object with the members of a CreateInferenceRecommendationsJob "
                                f"request, got {type(data).__name__}")
    catalog = load_catalog() if catalog is None else catalog
    raw = {key: value for key, value in data.items() if key != SIMFLEET_KEY}
    problems: list[Problem] = []
    context = {_CATALOG: catalog, _SIMFLEET: True}
    request = None
    try:
        request = CreateInferenceRecommendationsJob.model_validate(raw, context={**context, _DEFER: True})
        located = _walk(request, (), context)
    except ValidationError as error:
        problems += problems_from_validation(error, source, (), dict(lines or {}), raw=raw)
        located = _semantic_only(CreateInferenceRecommendationsJob, raw, (), context)
    problems += [Problem(source, dotted(loc), message, line_of(dict(lines), loc) if lines else None)
                 for loc, message in located]
    settings_raw = data.get(SIMFLEET_KEY, {})
    settings = None
    try:
        settings = SimfleetSettings.model_validate(settings_raw)
    except ValidationError as error:
        problems += problems_from_validation(error, source, (SIMFLEET_KEY,), dict(lines or {}), raw=settings_raw)
    if settings is not None:
        try:
            settings.serverless_settings()
        except ValidationError as error:
            problems += problems_from_validation(error, source, (SIMFLEET_KEY, "serverless"), dict(lines or {}),
                                                 raw=settings.serverless)
    if settings is not None:
        where = (SIMFLEET_KEY, "model")
        line = line_of(dict(lines), where) if lines else None
        known = f" (known profiles: {', '.join(sorted(profiles))})" if profiles else ""
        if model is not None:
            settings = settings.model_copy(update={"model": model})
        if model is not None and not re.fullmatch(_PROFILE_NAME, model):
            problems.append(Problem("--model", dotted(where), f"expected a profile name like 'xgboost-tabular', "
                                    f"got {model!r}"))
        elif settings.model is None:
            problems.append(Problem(source, dotted(where), "required: the model profile to load test, e.g. "
                                    "'xgboost-tabular' (AWS reads the model from the model package; simfleet needs "
                                    f"a profile), in the job or given with --model{known}", line))
        elif profiles is not None and settings.model not in profiles:
            origin = "--model" if model is not None else source
            problems.append(Problem(origin, dotted(where), f"no model profile named {settings.model!r}{known}",
                                    None if model is not None else line))
    if problems:
        raise InputError(problems)
    model_path = profiles.get(settings.model) if profiles is not None else None
    profile = None
    if model_path is not None:
        profile = load_profile(model_path)
        problems += _model_problems(request, profile, catalog, source, dict(lines or {}))
        problems += _serverless_model_problems(request, profile, settings.serverless_settings(), source,
                                               dict(lines or {}))
    if problems:
        raise InputError(problems)
    return RecommendationJob(request, settings, source, model_path, profile)


def _model_problems(request: CreateInferenceRecommendationsJob, profile: ModelProfile, catalog: Catalog,
                    source: str, lines: dict) -> list[Problem]:
    """Every instance type the job names must run the model: a service entry, workers that fit."""
    config = request.InputConfig
    named = [(("InputConfig", "EndpointConfigurations", i, "InstanceType"), c.InstanceType)
             for i, c in enumerate(config.EndpointConfigurations or ()) if c.InstanceType is not None]
    if config.ContainerConfig is not None:
        named += [(("InputConfig", "ContainerConfig", "SupportedInstanceTypes", i), name)
                  for i, name in enumerate(config.ContainerConfig.SupportedInstanceTypes or ())]
    problems = []
    for where, name in named:
        instance = catalog[name]
        entry = profile.entry_for(instance)
        messages = ([f"model {profile.name!r} has no service entry for {name} (it has: "
                     f"{', '.join(profile.supported())})"] if entry is None
                    else fit_problems(entry, instance, profile.name))
        problems += [Problem(source, dotted(where), message, line_of(lines, where) if lines else None)
                     for message in messages]
    return problems


def _serverless_model_problems(request: CreateInferenceRecommendationsJob, profile: ModelProfile,
                               settings: ServerlessSettings, source: str, lines: dict) -> list[Problem]:
    """Every ServerlessConfig the job names must run the model (as a serverless variant would)."""
    problems = []
    for i, c in enumerate(request.InputConfig.EndpointConfigurations or ()):
        if c.ServerlessConfig is None:
            continue
        config = ServerlessConfig(memory_size_in_mb=c.ServerlessConfig.MemorySizeInMB,
                                  max_concurrency=c.ServerlessConfig.MaxConcurrency)
        for rel, message in serverless_problems(profile, config, settings):
            where = ("InputConfig", "EndpointConfigurations", i, "ServerlessConfig")
            if rel == ("serverless_config", "memory_size_in_mb"):
                where += ("MemorySizeInMB",)
            problems.append(Problem(source, dotted(where), message, line_of(lines, where) if lines else None))
    return problems


def load_job_file(path: str | Path, *, catalog: Catalog | None = None, model: str | None = None
                  ) -> RecommendationJob:
    """Read a job file: ``.json`` (the request a user would send to AWS, plus an optional
    `simfleet` member) or ``.toml`` (the same keys). Profiles are looked up in the job's
    `simfleet.model_paths` (relative to the file), then among those shipped with simfleet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise InputError.single(path, "expected a job file ending in .json (a CreateInferenceRecommendationsJob "
                                f"request) or .toml, got {path.suffix or 'no suffix'!r}")
    text = read_input_text(path, "job file", encoding="utf-8-sig")
    problems: list[Problem] = []
    if suffix == ".json":
        data = parse_json(text, path)
        lines, repeated = json_key_lines(text)
        problems += [Problem(str(path), dotted(key), "written twice; JSON keeps only the last, remove one", line)
                     for key, line in repeated]
    else:
        data = parse_toml(text, path)
        lines = key_lines(text)
    folders = []
    settings = data.get(SIMFLEET_KEY) if isinstance(data, dict) else None
    paths = settings.get("model_paths") if isinstance(settings, dict) else None
    for index, folder in enumerate(paths if isinstance(paths, list) else []):
        if not isinstance(folder, str):
            continue  # reported by load_job
        resolved = path.resolve().parent / folder
        if not os.path.isdir(resolved):  # False, not an error, for a path too long or holding a NUL
            key = (SIMFLEET_KEY, "model_paths", index)
            problems.append(Problem(str(path), dotted(key), f"no such folder {folder!r}", line_of(lines, key)))
        folders.append(resolved)
    profiles = available_profiles(folders + [builtin_profile_dir()])
    try:
        job = load_job(data, str(path), catalog=catalog, model=model, profiles=profiles, lines=lines)
    except InputError as error:
        raise InputError(problems + error.problems) from None
    if problems:
        raise InputError(problems)
    return job
