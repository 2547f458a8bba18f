"""`simfleet metrics RUN_DIR <operation> …`: the AWS CLI's `aws cloudwatch` commands on a run directory.

Registered in `simfleet/cli.py` as the `metrics` sub-app. Options are spelled as the AWS CLI spells
them, so a user can paste `aws cloudwatch get-metric-statistics …` and swap the prefix:

    simfleet metrics runs/quickstart list-metrics --namespace AWS/SageMaker
    simfleet metrics runs/quickstart get-metric-statistics --namespace AWS/SageMaker \\
        --metric-name ModelLatency --dimensions Name=EndpointName,Value=fraud-scoring \\
        Name=VariantName,Value=Current --period 300 --extended-statistics p50 p99
    simfleet metrics runs/quickstart get-metric-data --metric-data-queries file://q.json

Like the AWS CLI, an option takes every following word up to the next `--option`
(`--statistics Sum Average`), `--option=value` works, list options also take a JSON list,
`--dimensions` takes the shorthand `Name=N,Value=V` or JSON, `--metric-data-queries`,
`--label-options` and `--cli-input-json` take JSON or `file://path`. click cannot give one option
several values, so each operation receives its words raw and parses them here. StartTime and
EndTime default to the run's window; `--output json|csv|emf` (default json, indented as the AWS CLI).

Exit codes: 2 for usage mistakes (unknown option, missing value or required option), 3
(`EXIT_INVALID_INPUT`) for a bad query or run directory, one `error:` line each on stderr.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import typer

from simfleet.errors import EXIT_INVALID_INPUT, EXIT_USAGE, InputError, Problem
from simfleet.input_files import check_nesting

__all__ = ["app", "OptionSpec", "OPERATION_OPTIONS", "parse_words"]

app = typer.Typer(name="metrics", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="Query a run's CloudWatch metrics like `aws cloudwatch` (list-metrics, "
                       "get-metric-statistics, get-metric-data).")

_RAW = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@dataclass(frozen=True)
class OptionSpec:
    """One AWS CLI option: its API parameter, how many words it takes, how to convert them."""

    option: str
    param: str | None            # None: not a request parameter (--output, --cli-input-json)
    kind: str                    # "text", "int", "list", "dimensions", "filters", "json"
    help: str
    required: bool = False


_OUTPUT = OptionSpec("--output", None, "text", "json (default), csv or emf")
_INPUT_JSON = OptionSpec("--cli-input-json", None, "json",
                         "the whole request as JSON or file://path (explicit options take precedence)")
_START = OptionSpec("--start-time", "StartTime", "text", "ISO 8601 or epoch seconds, inclusive (default: run start)")
_END = OptionSpec("--end-time", "EndTime", "text", "ISO 8601 or epoch seconds, exclusive (default: run end)")

OPERATION_OPTIONS: dict[str, tuple[str, tuple[OptionSpec, ...]]] = {
    "list-metrics": ("ListMetrics", (
        OptionSpec("--namespace", "Namespace", "text", "only this namespace"),
        OptionSpec("--metric-name", "MetricName", "text", "only this metric name"),
        OptionSpec("--dimensions", "Dimensions", "filters", "Name=N[,Value=V] … metrics having these dimensions"),
        OptionSpec("--recently-active", "RecentlyActive", "text", "PT3H: with datapoints in the run's last 3 hours"),
        OptionSpec("--next-token", "NextToken", "text", "continue a previous listing"),
        _INPUT_JSON, _OUTPUT)),
    "get-metric-statistics": ("GetMetricStatistics", (
        OptionSpec("--namespace", "Namespace", "text", "e.g. AWS/SageMaker", required=True),
        OptionSpec("--metric-name", "MetricName", "text", "e.g. ModelLatency", required=True),
        OptionSpec("--dimensions", "Dimensions", "dimensions", "Name=N,Value=V … the metric's exact dimension set"),
        _START, _END,
        OptionSpec("--period", "Period", "int", "seconds: 1, 5, 10, 20, 30 or a multiple of 60, and a multiple "
                                                 "of the stored period", required=True),
        OptionSpec("--statistics", "Statistics", "list", "SampleCount Average Sum Minimum Maximum (up to 5)"),
        OptionSpec("--extended-statistics", "ExtendedStatistics", "list", "p99 p99.9 tm90 TM(10%:90%) … (up to 10)"),
        OptionSpec("--unit", "Unit", "text", "only datapoints stored with this unit"),
        _INPUT_JSON, _OUTPUT)),
    "get-metric-data": ("GetMetricData", (
        OptionSpec("--metric-data-queries", "MetricDataQueries", "json", "JSON list or file://q.json "
                                                                         "(MetricStat queries)", required=True),
        _START, _END,
        OptionSpec("--next-token", "NextToken", "text", "the NextToken of the previous page"),
        OptionSpec("--scan-by", "ScanBy", "text", "TimestampDescending (default) or TimestampAscending"),
        OptionSpec("--max-datapoints", "MaxDatapoints", "int", "page size (default 100800)"),
        OptionSpec("--label-options", "LabelOptions", "json", "accepted for compatibility (Timezone=…)"),
        _INPUT_JSON, _OUTPUT)),
}

_OUTPUTS = ("json", "csv", "emf")


class _Usage(Exception):
    """A usage mistake (exit 2)."""


@app.callback()
def _select_run(ctx: typer.Context,
                run_dir: Path = typer.Argument(..., help="run directory written by `simfleet run`")) -> None:
    """Query RUN_DIR's metrics like `aws cloudwatch`; run `simfleet metrics RUN_DIR OPERATION --help`."""
    ctx.obj = run_dir


def _operation(name: str):
    def command(ctx: typer.Context) -> None:
        _run(ctx.obj, name, list(ctx.args))
    command.__doc__ = f"aws cloudwatch {name}, answered from RUN_DIR (see --help)."
    return command


for _name in OPERATION_OPTIONS:
    app.command(_name, context_settings=_RAW, add_help_option=False)(_operation(_name))


def _run(run_dir: Path, command: str, words: list[str]) -> None:
    operation, specs = OPERATION_OPTIONS[command]
    if any(w in ("--help", "-h") for w in words):
        typer.echo(_help(command))
        raise typer.Exit(0)
    try:
        values = parse_words(command, words)
        output = values.pop("--output", "json")
        if output not in _OUTPUTS:
            raise _Usage(f"--output: expected one of {', '.join(_OUTPUTS)}, got {output!r}")
        params = _params(command, specs, values)
    except _Usage as error:
        typer.echo(f"error: {command}: {error}", err=True)
        raise typer.Exit(EXIT_USAGE)
    except InputError as error:
        _fail(command, operation, error)
    from simfleet.query.responses import to_json
    from simfleet.query.run_metrics import RunMetrics

    try:
        answer = RunMetrics.open(run_dir).answer(operation, params)
        if output == "json":
            typer.echo(to_json(answer.response()))
        elif output == "csv":
            typer.echo(answer.csv(), nl=False)
        else:
            for line in answer.emf():
                typer.echo(line)
    except InputError as error:
        _fail(command, operation, error)


def _fail(command: str, operation: str, error: InputError) -> None:
    for problem in error.problems:
        where = command if problem.file in (operation, "") else problem.file
        typer.echo(f"error: {Problem(where, _option_path(problem.key), problem.message, problem.line)}", err=True)
    raise typer.Exit(EXIT_INVALID_INPUT)


def _option_path(key: str) -> str:
    """`MetricDataQueries[0].Id` → `--metric-data-queries[0].Id` (the option the user typed)."""
    match = re.match(r"([A-Z][A-Za-z]*)(.*)", key)
    if not match:
        return key
    return "--" + re.sub(r"(?<!^)(?=[A-Z])", "-", match.group(1)).lower() + match.group(2)


def parse_words(command: str, words: list[str]) -> dict[str, str | list[str]]:
    """AWS-CLI style words → {option: value or [values]}; raises _Usage for usage mistakes."""
    specs = {spec.option: spec for spec in OPERATION_OPTIONS[command][1]}
    values: dict[str, list[str]] = {}
    current = None
    for word in words:
        if word.startswith("--"):
            option, equals, inline = word.partition("=")
            if option not in specs:
                close = difflib.get_close_matches(option, specs, n=1)
                hint = f" (did you mean {close[0]}?)" if close else f" (options: {', '.join(specs)})"
                raise _Usage(f"unknown option {option}{hint}")
            if option in values:
                raise _Usage(f"{option} is given twice")
            values[option] = [inline] if equals else []
            current = option
        elif current is None:
            raise _Usage(f"unexpected argument {word!r}; every value follows an --option")
        else:
            values[current].append(word)
    parsed: dict[str, str | list[str]] = {}
    for option, words_of in values.items():
        spec = specs[option]
        if not words_of:
            raise _Usage(f"{option} needs a value ({spec.help})")
        if spec.kind in ("list", "dimensions", "filters"):
            parsed[option] = words_of
        elif len(words_of) > 1:
            raise _Usage(f"{option} takes one value, got {len(words_of)}: {' '.join(words_of)}")
        else:
            parsed[option] = words_of[0]
    return parsed


def _params(command: str, specs: tuple[OptionSpec, ...], values: dict) -> dict:
    params: dict = {}
    if "--cli-input-json" in values:
        loaded = _json_value("--cli-input-json", values.pop("--cli-input-json"))
        if not isinstance(loaded, dict):
            raise InputError([Problem(command, "--cli-input-json", "expected a JSON object of request parameters")])
        params.update(loaded)
    for spec in specs:
        if spec.param is None or spec.option not in values:
            if spec.required and spec.param not in params:
                raise _Usage(f"missing required option {spec.option} ({spec.help})")
            continue
        params[spec.param] = _convert(spec, values[spec.option])
    return params


def _convert(spec: OptionSpec, value):
    if spec.kind == "text":
        return value
    if spec.kind == "int":
        return int(value) if re.fullmatch(r"[+-]?\d+", value.strip()) else value
    if spec.kind == "json":
        if spec.option == "--label-options" and not value.lstrip().startswith(("{", "file://")):
            return dict(item.partition("=")[::2] for item in value.split(","))
        return _json_value(spec.option, value)
    if len(value) == 1 and value[0].lstrip().startswith("["):
        return _json_value(spec.option, value[0])
    if spec.kind == "list":
        return list(value)
    return [_shorthand_dimension(spec.option, word, value_required=spec.kind == "dimensions") for word in value]


def _shorthand_dimension(option: str, word: str, value_required: bool) -> dict:
    """`Name=EndpointName,Value=ep` (the value may contain commas) → {"Name": …, "Value": …}."""
    match = re.fullmatch(r"Name=([^,]*),Value=(.*)", word, re.DOTALL) or \
        re.fullmatch(r"Value=(?P<v>.*?),Name=(?P<n>[^,]*)", word, re.DOTALL)
    if match and match.re.pattern.startswith("Name"):
        return {"Name": match.group(1), "Value": match.group(2)}
    if match:
        return {"Name": match.group("n"), "Value": match.group("v")}
    name_only = re.fullmatch(r"Name=([^,]*)", word)
    if name_only and not value_required:
        return {"Name": name_only.group(1)}
    expected = "Name=NAME,Value=VALUE" if value_required else "Name=NAME[,Value=VALUE]"
    raise InputError([Problem("", option, f"expected {expected} (or a JSON list), got {word!r}")])


def _json_value(option: str, text: str):
    source = "JSON"
    if text.startswith("file://"):
        path = Path(text[len("file://"):])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InputError([Problem(str(path), option, f"cannot read the file: {error.strerror}")]) from None
        except UnicodeDecodeError as error:
            raise InputError([Problem(str(path), option, f"cannot read the file: {error}")]) from None
        source = f"JSON in {path}"
    try:
        return check_nesting(json.loads(text), option)
    except json.JSONDecodeError as error:
        raise InputError([Problem("", option, f"invalid {source}: {error.msg} at line {error.lineno} "
                                              f"column {error.colno}")]) from None
    except RecursionError:
        raise InputError([Problem("", option, f"invalid {source}: nested too deep")]) from None


def _help(command: str) -> str:
    operation, specs = OPERATION_OPTIONS[command]
    lines = [f"Usage: simfleet metrics RUN_DIR {command} [OPTIONS]", "",
             f"  aws cloudwatch {command} ({operation}) answered from RUN_DIR's stored datapoints.", "",
             "Options:"]
    width = max(len(s.option) for s in specs) + 2
    for spec in specs:
        marker = " (required)" if spec.required else ""
        lines.append(f"  {spec.option:<{width}}{spec.help}{marker}")
    return "\n".join(lines)
