"""An experiment's `[[endpoints]]` entries given as request files, expanded in place.

Each entry with `endpoint_config_file` (and `model_files`) is replaced by the keys the files stand
for (`translation`), merged with what the TOML entry adds, and `[model_profiles]` is dropped; the
`Expansion` keeps where each translated key came from, for `origins.relocate`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from simfleet.aws_requests.origins import Origin, Translation
from simfleet.aws_requests.reading import load_request, read_models
from simfleet.aws_requests.translation import translate_endpoint_config
from simfleet.errors import Problem
from simfleet.schema.validation import undotted

__all__ = ["Expansion", "expand_request_files"]


@dataclass
class Expansion:
    """The experiment with AWS requests translated, where each translated key came from, and the
    problems found while translating (all of them, one line each)."""

    raw: dict
    origins: dict[tuple, Origin]
    problems: list[Problem]
    spoiled: set[tuple] = field(default_factory=set)

    def follows_on(self, problem: Problem, source: str) -> bool:
        """A problem in a translated variant whose translation already failed (e.g. no model
        profile: the variant then seems to serve nothing), which would only repeat it."""
        if problem.file != source or not problem.key:
            return False
        path = undotted(problem.key)
        return any(path[:cut] in self.spoiled for cut in range(1, len(path) + 1))


def expand_request_files(raw: dict, source: str, base_dir: Path, lines: dict) -> Expansion:
    """Replace each `[[endpoints]]` entry's `endpoint_config_file` (and `model_files`) by the keys
    they stand for, and drop `[model_profiles]`. A raw experiment without them is returned as is."""
    endpoints = raw.get("endpoints") if isinstance(raw.get("endpoints"), list) else []
    uses = [e for e in endpoints if isinstance(e, dict) and ("endpoint_config_file" in e or "model_files" in e)]
    if not uses and "model_profiles" not in raw:
        return Expansion(raw, {}, [])
    raw = copy.deepcopy(raw)
    origins: dict = {}
    problems: list[Problem] = []
    toml = Origin(source, (), lines)
    tr = Translation(origins, problems, toml)
    profiles = raw.pop("model_profiles", {})
    profiles_origin = Origin(source, ("model_profiles",), lines)
    if not isinstance(profiles, dict):
        tr.report(profiles_origin, "expected a table of AWS ModelName = \"simfleet profile\"")
        profiles = {}
    source_dir = Path(source).parent
    used: set = set()
    unread = False  # some endpoint_config_file could not be read: its ModelNames are unknown
    endpoints = raw.get("endpoints")
    for e_index, endpoint in enumerate(endpoints if isinstance(endpoints, list) else []):  # else the schema refuses
        if not isinstance(endpoint, dict) or not ("endpoint_config_file" in endpoint or "model_files" in endpoint):
            continue
        where = ("endpoints", e_index)
        file = endpoint.pop("endpoint_config_file", None)
        files = endpoint.pop("model_files", [])
        if file is None:
            tr.report(Origin(source, where + ("model_files",), lines),
                      "model_files applies with endpoint_config_file (the CreateEndpointConfig that names the models)")
            continue
        at = Origin(source, where + ("endpoint_config_file",), lines)
        if not tr.expected(file, str, at, "a JSON file name"):
            continue
        if not isinstance(files, list):
            tr.report(Origin(source, where + ("model_files",), lines), "expected a list of JSON file names")
            files = []
        models = read_models(files, base_dir, source_dir, where, toml, tr)
        loaded = load_request(base_dir / file, str(source_dir / file), "CreateEndpointConfig request file", at, tr)
        entry = None
        if loaded is not None:
            data, json_lines = loaded
            origin = Origin(str(source_dir / file), (), json_lines)
            entry = translate_endpoint_config(data, origin, where, tr, models, profiles, profiles_origin, used)
        if entry is None:  # its variants are unknown: what would follow from their absence is not reported
            tr.spoiled.add(where + ("production_variants",))
            unread = True
            continue
        _merge(endpoint, entry, where, origin, tr)
        for model_name, (_, model_origin) in models.items():
            if model_name not in used:
                tr.report(Origin(model_origin.file, ("ModelName",), model_origin.lines),
                          f"no variant of {origin.file} names model {model_name!r}")
    for name in profiles:
        if name not in used and not unread:
            tr.report(Origin(source, ("model_profiles", name), lines),
                      "no ProductionVariants[].ModelName of an endpoint_config_file names this AWS model")
    return Expansion(raw, origins, problems, tr.spoiled)


def _merge(endpoint: dict, entry: dict, where: tuple, origin: Origin, tr: Translation) -> None:
    """The JSON's variants first, then any the TOML entry adds; a variant or key in both is refused."""
    written = endpoint.get("production_variants", [])
    translated = entry.get("production_variants", [])
    if isinstance(written, list):
        # names of the wrong type (a list…) are left to the schema to refuse
        json_names = {v["variant_name"]: k for k, v in enumerate(translated)
                      if isinstance(v, dict) and isinstance(v.get("variant_name"), str)}
        kept = []
        for k, variant in enumerate(written):
            name = variant.get("variant_name") if isinstance(variant, dict) else None
            name = name if isinstance(name, str) else None
            if name in json_names:
                tr.report(tr.at_toml(where + ("production_variants", k, "variant_name")),
                          f"variant {name!r} is also in {origin.file} (ProductionVariants[{json_names[name]}]): "
                          "give each variant in one place")
                continue
            # the TOML's own variants follow the JSON's: their problems stay on the TOML's lines
            tr.origins[where + ("production_variants", len(translated) + len(kept))] = tr.at_toml(
                where + ("production_variants", k))
            kept.append(variant)
        endpoint["production_variants"] = translated + kept
    if "metrics_config" in entry:
        if "metrics_config" in endpoint:
            tr.report(tr.at_toml(where + ("metrics_config",)),
                      f"metrics_config is also given by {origin.file} (MetricsConfig): give it in one place")
        endpoint["metrics_config"] = entry["metrics_config"]
