"""The profile calibration writes: a TOML file whose every number carries its source and fit quality.

`profile_text` renders a profile dict as TOML (strings JSON-escaped, which TOML's basic strings
accept); `write_profile` writes a new profile or, with `merge`, appends the `[[service]]` entry to
an existing one. Either way the result is loaded with `simfleet.profiles.load_profile` before it
replaces anything, so a file that would not pass the loader's provenance rule is never written.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from simfleet.errors import InputError

__all__ = ["profile_text", "service_text", "write_profile", "MARK"]

#: The first line of a profile calibrate wrote: only such a file is replaced by a new calibration.
MARK = "# Written by simfleet calibrate"

_TOP = ("name", "description", "framework", "artifact_size", "load_time", "memory_per_worker",
        "gpu_memory_per_worker", "cpu_cores_per_busy_worker", "gpus_per_busy_worker", "max_queue_size",
        "payload_time_per_kb")


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def service_text(service: dict, comments: list[str] = ()) -> str:
    lines = [""] + [f"# {line}" if line else "#" for line in comments]
    lines.append("[[service]]")
    lines += [f"{key} = {_value(value)}" for key, value in service.items()]
    return "\n".join(lines) + "\n"


def profile_text(profile: dict, header: list[str] = (), comments: list[str] = ()) -> str:
    lines = [f"# {line}" if line else "#" for line in header]
    if lines and not lines[0].startswith(MARK):
        lines.insert(0, MARK + ".")
    if lines:
        lines.append("")
    lines += [f"{key} = {_value(profile[key])}" for key in _TOP]
    lines += ["", "[sources]"] + [f"{key} = {_value(value)}" for key, value in profile["sources"].items()]
    text = "\n".join(lines) + "\n"
    for index, service in enumerate(profile["service"]):
        text += service_text(service, comments if index == 0 else ())
    return text


def write_profile(out: Path, profile: dict, header: list[str], comments: list[str], merge: bool) -> str:
    """Write `profile` to `out` (or append its service entry with `merge`); returns what was done.

    Raises `InputError` (nothing written) when `out` exists without `merge` and was not written by
    calibrate, when the merged entry's
    instance is already in the file, or when the result would not load."""
    from simfleet.outputs.atomic import write_text
    from simfleet.profiles import load_profile

    service = profile["service"][0]
    if merge:
        if not out.is_file():
            raise InputError.single(out, "--merge: no such profile to add the entry to")
        existing = load_profile(out)
        if existing.service_spec(service["instance"]) is not None:
            raise InputError.single(out, f"--merge: the profile already has a [[service]] entry for "
                                         f"{service['instance']!r}; remove it first or write a new profile",
                                    key="service.instance")
        text = out.read_text(encoding="utf-8").rstrip("\n") + "\n" + service_text(service, comments)
        done = f"added the {service['instance']} entry to {out}"
    else:
        if out.exists() and not out.read_text(encoding="utf-8", errors="replace").startswith(MARK):
            raise InputError.single(out, "already exists and was not written by simfleet calibrate; choose "
                                         "another --out, or add the entry with --merge")
        if out.stem != profile["name"]:
            raise InputError.single(out, "internal: profile name differs from the file name")
        text = profile_text(profile, header, comments)
        done = f"wrote {out}"
    with tempfile.TemporaryDirectory(prefix="simfleet-calibrate-") as folder:
        check = Path(folder) / out.name
        check.write_text(text, encoding="utf-8")
        try:
            load_profile(check)
        except InputError as error:
            raise InputError.single(out, f"the calibrated profile would not load: {error.problems[0].message}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    return done
