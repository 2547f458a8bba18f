"""One calibration from the command's options to the written profile and the printed report.

`CalibrateRequest.from_options` checks every option before anything is read or simulated;
`run_calibration` reads the sources, fits, replays, writes, and returns the lines to print
(and the warnings of the replay).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simfleet.calibration.settings import CalibrationSettings
from simfleet.errors import InputError, Problem
from simfleet.input_files import name_problem

__all__ = ["CalibrateRequest", "run_calibration", "entry_source"]


@dataclass(frozen=True)
class CalibrateRequest:
    sources: list[Path]
    instance_type: str
    out: Path
    workers: int | None             # None: auto
    merge: bool
    stated_s: dict[float, float]
    at_rate_per_s: float | None
    instances: int | None
    period_s: float
    settings: CalibrationSettings

    @classmethod
    def from_options(cls, sources, instance_type, out, workers, merge, stated, at_rate, instances, period,
                     warn_error, settings: CalibrationSettings | None = None) -> "CalibrateRequest":
        from simfleet.catalog import load_catalog
        from simfleet.schema.quantities import parse_rate
        from simfleet.units import parse_duration

        problems = []
        if instance_type not in load_catalog():
            problems.append(Problem("--instance-type", "", f"unknown instance type {instance_type!r} "
                                                           "(see `simfleet catalog`)"))
        count = None
        if workers != "auto":
            try:
                count = int(workers)
                if not 1 <= count <= 1024:
                    raise ValueError
            except ValueError:
                problems.append(Problem("--workers", "", f"expected a number from 1 to 1024 or 'auto', got {workers!r}"))
        stated_s = {}
        for q, text in stated.items():
            if text is not None:
                try:
                    stated_s[q] = parse_duration(text)
                except ValueError as error:
                    problems.append(Problem(f"--p{q:g}", "", str(error)))
        rate = None
        if at_rate is not None:
            try:
                rate = parse_rate(_number_or_text(at_rate))
            except ValueError as error:
                problems.append(Problem("--at-rate", "", str(error)))
            if not any(v is not None for v in stated.values()):
                problems.append(Problem("--at-rate", "", "goes with stated percentiles (--p50 …)"))
        try:
            period_s = parse_duration(period)
            if period_s <= 0:
                raise ValueError("expected a positive duration")
        except ValueError as error:
            problems.append(Problem("--period", "", str(error)))
            period_s = 60.0
        if bool(sources) == bool(stated_s):
            problems.append(Problem("SOURCE", "", "give SOURCE files, or stated percentiles (--p50 …), not both "
                                                  "and not neither"))
        unnamed = name_problem(out)
        if unnamed is not None:
            problems.append(Problem(str(out), "", f"--out: cannot be created: {unnamed}"))
        elif out.suffix != ".toml":
            problems.append(Problem(str(out), "", "--out: expected a .toml profile path"))
        elif not _valid_name(out.stem):
            problems.append(Problem(str(out), "", "--out: the file name is the profile name: letters, digits, "
                                                  "'.', '_', '-'"))
        if not merge and unnamed is None and out.exists():
            from simfleet.calibration.profile_writer import MARK

            if not out.read_text(encoding="utf-8", errors="replace").startswith(MARK):
                problems.append(Problem(str(out), "", "already exists and was not written by simfleet calibrate; "
                                                      "choose another --out, or add the entry with --merge"))
        if merge and not os.path.isfile(out):
            problems.append(Problem(str(out), "", "--merge: no such profile to add the entry to"))
        if not warn_error > 0:
            problems.append(Problem("--warn-error", "", f"expected a positive percentage, got {warn_error:g}"))
        if problems:
            raise InputError(problems)
        base = settings or CalibrationSettings()
        from dataclasses import replace

        return cls(list(sources), instance_type, out, count, merge, stated_s, rate, instances, period_s,
                   replace(base, warn_error_pct=warn_error))


def _number_or_text(text: str):
    """A bare number on the command line is requests per second, as in an experiment file."""
    try:
        return float(text)
    except ValueError:
        return text


def _valid_name(stem: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", stem) is not None


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.4g} ms"


def entry_source(request: CalibrateRequest, observations, calibration) -> str:
    """The `source` of the written entry: files, periods, methods and the fit's quality."""
    from simfleet.calibration.simulated_fit import DISTANCE
    from simfleet.version import simfleet_version

    c = calibration.candidate
    quality = "; ".join(f"{row.level} {row.text()}" for row in calibration.replay)
    levels = "; ".join(f"level {i + 1}: {level.label}" for i, level in enumerate(calibration.levels))
    return (f"CALIBRATED by simfleet calibrate {simfleet_version() or ''} on {request.instance_type} from "
            f"{observations.describe()}. Data: {' | '.join(observations.notes)}. Load levels: {levels}. "
            f"Service time (lognormal median {_ms(c.median_s)}, sigma {c.sigma:.4g}): "
            f"{calibration.methods['service time']}. Workers ({c.workers}): {calibration.methods['workers']}. "
            f"Distance: {DISTANCE}. Fit quality (self-validation replay, seed {request.settings.replay_seed}, "
            f"observed vs simulated, error %): {quality}.")


def run_calibration(request: CalibrateRequest) -> tuple[list[str], list[str]]:
    from simfleet.calibration.candidate import base_profile_dict
    from simfleet.calibration.fit import calibrate
    from simfleet.calibration.profile_writer import write_profile
    from simfleet.calibration.replay import table, warnings
    from simfleet.calibration.sources import read_sources
    from simfleet.calibration.stated import stated_observations
    from simfleet.catalog import load_catalog

    instance = load_catalog()[request.instance_type]
    if request.stated_s:
        observations = stated_observations(request.stated_s, request.at_rate_per_s, request.instances or 1)
    else:
        observations = read_sources(request.sources, request.instance_type, request.period_s)
    settings = request.settings
    calibration = calibrate(observations, instance, request.instance_type, request.workers, settings,
                            request.instances or 1)
    source = entry_source(request, observations, calibration)
    profile = base_profile_dict(request.out.stem, instance, calibration.candidate, request.instance_type, source,
                                settings.max_queue_size)
    c = calibration.candidate
    what = "ModelLatency (container side)" if observations.latency == "model" else \
        f"client-side latency (SageMaker overhead simulated: lognormal median {_ms(settings.overhead_median_s)}, " \
        f"sigma {settings.overhead_sigma:g}, simfleet's default)"
    header = ["Written by simfleet calibrate.",
              f"Fitted on {request.instance_type} to {what} from: {observations.describe()}.",
              "Top-level numbers are ASSUMPTIONS (calibrate measures service time and workers only)."]
    comments = [f"Calibrated entry for {request.instance_type}: lognormal median {_ms(c.median_s)}, "
                f"sigma {c.sigma:.4g}, {c.workers} workers.",
                f"service time: {calibration.methods['service time']}",
                f"workers: {calibration.methods['workers']}",
                "fit quality (self-validation replay): level, quantity, observed, simulated, error %:"]
    comments += [f"  {row.level} {row.text()}" for row in calibration.replay]
    done = write_profile(request.out, profile, header, comments, request.merge)
    lines = [f"calibrating {request.instance_type} from {observations.describe()}",
             f"latency measured: {what}"]
    lines += [f"data: {note}" for note in observations.notes]
    lines += [f"service time: lognormal median {_ms(c.median_s)}, sigma {c.sigma:.4g}",
              f"  method: {calibration.methods['service time']}",
              f"workers: {c.workers}",
              f"  method: {calibration.methods['workers']}",
              f"self-validation: the calibration workload replayed with the fitted entry "
              f"(seed {settings.replay_seed}, {calibration.simulations} simulations in all):"]
    lines += ["  " + line for line in table(calibration.replay, calibration.levels)]
    lines.append(done)
    return lines, warnings(calibration.replay, settings.warn_error_pct)
