"""Fuzz cases: a shipped input of one kind, made cheap to run, mutated, with the commands that read it.

A `Case` is a folder of files (the mutated one and whatever it needs: the experiment that names a
mutated profile, trace or AWS request file, the base of a sweep), the files `simfleet validate`
checks together, and the command that reads them (`run` of a short experiment, `sweep`,
`recommend`, `metrics … get-metric-data`). `make_case(kind, chooser)` builds one for any kind
`simfleet validate` knows (`KINDS`, kept in step with `simfleet.input_kinds.KINDS` by a test).
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .documents import to_csv, to_json, to_toml
from .mutations import Chooser, Mutation, mutate_document, mutate_rows, mutate_text

__all__ = ["Case", "KINDS", "make_case", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
MODELS = ROOT / "models"

#: Shipped experiments that `run` refuses by design: validated only.
VALIDATE_ONLY: frozenset[str] = frozenset()
#: Placeholder, in a command, for the folder of a finished run (`metrics RUN get-metric-data`).
RUN_DIR = "{run}"
#: The simulated time of a fuzzed experiment: short, so that a run takes about a second.
SHORT = "1min"


@dataclass
class Case:
    """Files (relative path -> text, or bytes for a Parquet trace) to write into a fresh folder, then: `simfleet validate
    *validate *validate_args` and `simfleet *command` (paths relative to the folder). `partial`:
    validate checks the files without what the command also reads (a run's metrics), so the command
    may refuse what validate accepted."""

    kind: str
    files: dict[str, str]
    validate: list[str]
    command: list[str] | None = None
    validate_args: list[str] = field(default_factory=list)
    mutations: list[Mutation] = field(default_factory=list)
    partial: bool = False

    @property
    def nonsense(self) -> list[str]:
        """How the document is nonsense for certain (`mutations.nonsense_kind`), once per kind."""
        return sorted({m.nonsense for m in self.mutations if m.nonsense})

    def describe(self) -> str:
        return "; ".join(m.description for m in self.mutations) or "unmutated"

    def to_json(self) -> str:
        files = {name: {"base64": base64.b64encode(content).decode()} if isinstance(content, bytes) else content
                 for name, content in self.files.items()}
        return json.dumps({"kind": self.kind, "files": files, "validate": self.validate, "command": self.command,
                           "validate_args": self.validate_args, "partial": self.partial,
                           "mutations": [[m.description, m.nonsense] for m in self.mutations]})

    @classmethod
    def from_json(cls, text: str) -> "Case":
        data = json.loads(text)
        data["files"] = {name: base64.b64decode(content["base64"]) if isinstance(content, dict) else content
                         for name, content in data["files"].items()}
        mutations = [Mutation(d, n) for d, n in data.pop("mutations")]
        return cls(**data, mutations=mutations)


def _experiment_files() -> list[str]:
    return sorted(p.name for p in EXPERIMENTS.glob("*.toml") if "experiment" in tomllib.loads(p.read_text()))


def _shared_files() -> dict[str, str]:
    """The files shipped experiments refer to (AWS requests, traces), by their relative paths."""
    return {str(p.relative_to(EXPERIMENTS)): p.read_text() for folder in ("aws", "traces")
            for p in sorted((EXPERIMENTS / folder).iterdir()) if p.is_file()}


#: Shipped experiments that need longer than `SHORT`: a replayed trace that starts ten minutes in,
#: 5-minute metric periods (a run is a whole number of them).
LONGER = {"bursts-and-replay": "11min", "diurnal-day": "10min"}


def _shorten(text: str, name: str = "") -> str:
    """An experiment's text with its simulated duration cut to `SHORT` (its top-level key)."""
    duration = LONGER.get(Path(name).stem, SHORT)
    return re.sub(r'^duration\s*=\s*"[^"]*"', f'duration = "{duration}"', text, count=1, flags=re.MULTILINE)


def _mutated_toml(chooser: Chooser, document: dict, text: str | None = None) -> tuple[str, list[Mutation]]:
    """Mutate a TOML input: its parsed document (written back), or its `text` (default: the
    document written back) as text."""
    if chooser.chance(75):
        document = copy.deepcopy(document)
        done = mutate_document(chooser, document)
        return to_toml(document), done
    mutation, new = mutate_text(chooser, text if text is not None else to_toml(document))
    return new, [mutation]


def _mutated_json(chooser: Chooser, document) -> tuple[str, list[Mutation]]:
    if chooser.chance(75):
        document = copy.deepcopy(document)
        done = mutate_document(chooser, document)
        return to_json(document), done
    mutation, new = mutate_text(chooser, to_json(document))
    return new, [mutation]


def experiment_case(chooser: Chooser) -> Case:
    name = chooser.choice(_experiment_files())
    text = _shorten((EXPERIMENTS / name).read_text(), name)
    new, done = _mutated_toml(chooser, tomllib.loads(text), text)
    # The engine does not simulate inference components yet (`run` refuses them, `validate` checks them).
    command = None if name in VALIDATE_ONLY else ["run", name, "--out", "out"]
    return Case("experiment", {**_shared_files(), name: new}, [name], command, mutations=done)


def _profile_experiment(model: str, instance_type: str) -> str:
    return to_toml({
        "experiment": {"name": "profile-check", "start_time": "2026-01-05T09:00:00Z", "duration": SHORT, "seed": 1,
                       "model_paths": ["models"]},
        "endpoints": [{"endpoint_name": "ep", "production_variants": [
            {"variant_name": "A", "model_name": model, "instance_type": instance_type,
             "initial_instance_count": 1}]}],
        "traffic": [{"kind": "poisson", "rate": 5}],
    }).replace('"2026-01-05T09:00:00Z"', "2026-01-05T09:00:00Z")


def profile_case(chooser: Chooser) -> Case:
    path = chooser.choice(sorted(MODELS.glob("*.toml")))
    text = path.read_text()
    document = tomllib.loads(text)
    instance = document["service"][0]["instance"]
    instance_type = instance if instance.startswith("ml.") else f"ml.{instance}.xlarge"
    new, done = _mutated_toml(chooser, document, text)
    target = f"models/{path.name}"
    return Case("profile", {target: new, "exp.toml": _profile_experiment(path.stem, instance_type)},
                [target, "exp.toml"], ["run", "exp.toml", "--out", "out"], mutations=done)


def sweep_case(chooser: Chooser) -> Case:
    path = chooser.choice(sorted(EXPERIMENTS.glob("sweep-*.toml")))
    document = tomllib.loads(path.read_text())
    document["sweep"]["set"] = {**document["sweep"].get("set", {}), "experiment.duration": SHORT}
    for axis in document.get("axes", []):
        axis["values"] = axis["values"][:2]
    base = document["sweep"]["base"]
    new, done = _mutated_toml(chooser, document)
    # the base is short too: a mutation that deletes the sweep's duration must not make a long sweep
    return Case("sweep", {**_shared_files(), path.name: new, base: _shorten((EXPERIMENTS / base).read_text(), base)},
                [path.name],
                ["sweep", path.name, "--out", "out", "--workers", "1"], mutations=done)


def job_case(chooser: Chooser) -> Case:
    path = chooser.choice(sorted(EXPERIMENTS.glob("recommend-*")))
    document = (json.loads if path.suffix == ".json" else tomllib.loads)(path.read_text())
    config = document["InputConfig"]
    for phase in config.get("TrafficPattern", {}).get("Phases", []):
        phase["DurationInSeconds"] = 120
    config["EndpointConfigurations"] = config["EndpointConfigurations"][:2]
    model = [] if "simfleet" in document else ["--model", "xgboost-tabular"]
    if path.suffix == ".json":
        new, done = _mutated_json(chooser, document)
    else:
        new, done = _mutated_toml(chooser, document)
    return Case("job", {path.name: new}, [path.name], ["recommend", path.name, "--out", "out", "--workers", "1", *model],
                validate_args=model, mutations=done)


def autoscaling_case(chooser: Chooser) -> Case:
    experiment = tomllib.loads((EXPERIMENTS / "diurnal-autoscaling.toml").read_text())
    document = experiment.pop("autoscaling")
    experiment["autoscaling"] = {"file": "autoscaling.json"}
    experiment["experiment"]["duration"] = "20min"
    new, done = _mutated_json(chooser, document)
    return Case("autoscaling", {"autoscaling.json": new, "exp.toml": to_toml(experiment)},
                ["autoscaling.json", "exp.toml"], ["run", "exp.toml", "--out", "out"], mutations=done)


def _aws_case(kind: str, target: str, chooser: Chooser) -> Case:
    experiment = _shorten((EXPERIMENTS / "from-endpoint-config.toml").read_text())
    new, done = _mutated_json(chooser, json.loads((EXPERIMENTS / target).read_text()))
    return Case(kind, {**_shared_files(), "exp.toml": experiment, target: new}, [target, "exp.toml"],
                ["run", "exp.toml", "--out", "out"], mutations=done)


def endpoint_config_case(chooser: Chooser) -> Case:
    return _aws_case("endpoint_config", "aws/endpoint-config.json", chooser)


def model_case(chooser: Chooser) -> Case:
    return _aws_case("model", "aws/create-model.json", chooser)


def queries_case(chooser: Chooser) -> Case:
    new, done = _mutated_json(chooser, json.loads((EXPERIMENTS / "queries.json").read_text()))
    return Case("queries", {"queries.json": new}, ["queries.json"],
                ["metrics", RUN_DIR, "get-metric-data", "--metric-data-queries", "file://queries.json"],
                mutations=done, partial=True)


def calibration_source_case(chooser: Chooser) -> Case:
    """A CloudWatch export `simfleet calibrate` reads, validated only: a calibration is a search of
    many simulated runs, too long for one fuzzing case."""
    new, done = _mutated_json(chooser, json.loads((EXPERIMENTS / "calibration" / "cloudwatch-results.json").read_text()))
    return Case("calibration_source", {"cloudwatch-results.json": new}, ["cloudwatch-results.json"], None,
                validate_args=["--kind", "calibration_source"], mutations=done)


def trace_case(chooser: Chooser) -> Case:
    experiment = tomllib.loads((EXPERIMENTS / "bursts-and-replay.toml").read_text())
    experiment["traffic"] = [t for t in experiment["traffic"] if t["kind"] == "replay"]
    experiment["experiment"]["duration"] = "12min"
    lines = (EXPERIMENTS / "traces" / "batch-job.csv").read_text().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:400]]
    parquet = chooser.chance(30)
    if parquet or chooser.chance(75):
        done = mutate_rows(chooser, header, rows)
        content = _parquet(chooser, header, rows) if parquet else to_csv(header, rows)
    else:
        mutation, content = mutate_text(chooser, to_csv(header, rows))
        done = [mutation]
    target = experiment["traffic"][0]["file"]
    if parquet:
        target = experiment["traffic"][0]["file"] = target.replace(".csv", ".parquet")
    return Case("trace", {target: content, "exp.toml": to_toml(experiment)}, [target, "exp.toml"],
                ["run", "exp.toml", "--out", "out"], mutations=done)


def _parquet(chooser: Chooser, header: list[str], rows: list[list[str]]) -> bytes:
    """The table as Parquet, each column typed as a writer would type it: numbers where every cell is
    one, else text; a time column sometimes as timestamps (with or without a time zone)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for index, name in enumerate(header):
        cells = [row[index] if index < len(row) else "" for row in rows]
        numbers = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
        if len(cells) and not numbers.isna().any():
            columns[name] = pa.array(numbers.to_numpy())
        elif name == "timestamp" and chooser.chance(50):
            times = pd.to_datetime(pd.Series(cells), utc=True, errors="coerce", format="ISO8601")
            times = times.dt.tz_convert(None) if chooser.chance(50) else times
            columns[name] = pa.array(times)
        else:
            columns[name] = pa.array(cells, type=pa.string())
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"_": pa.array([], pa.int64())}), buffer)
    return buffer.getvalue()


#: kind name (as `simfleet validate --kind` spells it) -> case builder.
KINDS = {
    "experiment": experiment_case,
    "profile": profile_case,
    "sweep": sweep_case,
    "job": job_case,
    "autoscaling": autoscaling_case,
    "endpoint_config": endpoint_config_case,
    "model": model_case,
    "queries": queries_case,
    "calibration_source": calibration_source_case,
    "trace": trace_case,
}


def make_case(kind: str, chooser: Chooser) -> Case:
    return KINDS[kind](chooser)
