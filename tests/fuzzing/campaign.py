"""The long fuzzing campaign: `python tests/fuzzing --minutes 60` (from the repository root).

Builds mutated cases of every input kind from a seeded random stream (case N of seed S is the
same case on every machine), runs each in a worker subprocess with a time limit, and writes each
kind of finding (its first examples) to `--findings` (default `fuzz-findings/`): the case's files,
its `case.json`, and `finding.txt` with what broke and how to replay it
(`python tests/fuzzing --replay fuzz-findings/…/case.json`). Exit code 1 when anything was found.

A case has `--timeout` seconds, and a command the program estimates to be long more
(`harness.ESTIMATE_ALLOWANCE` times its estimate); a command that would then have more than
`--longest` seconds is left out (its `validate` still runs and is judged), and the summary counts it.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .cases import KINDS, Case, make_case
from .harness import execute, query_run, write_case
from .mutations import RandomChooser
from .worker import Worker

EXAMPLES_PER_SIGNATURE = 3


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80] or "finding"


def campaign(minutes: float, seed: int, findings_dir: Path, timeout: float, cases: int | None,
             kinds: list[str], out=sys.stdout, longest: float = 600.0) -> int:
    """Run cases until `minutes` have passed (or `cases` ran); returns the number of findings."""
    stream = random.Random(seed)
    seen: Counter = Counter()
    found = 0
    deadline = time.monotonic() + minutes * 60
    per_kind: Counter = Counter()
    left_out = 0
    with tempfile.TemporaryDirectory(prefix="simfleet-fuzz-") as scratch:
        worker = Worker(Path(scratch), timeout, longest)
        try:
            n = 0
            while time.monotonic() < deadline and (cases is None or n < cases):
                kind = kinds[n % len(kinds)]
                case_seed = stream.getrandbits(48)
                try:
                    case = make_case(kind, RandomChooser(case_seed))
                except Exception as error:  # noqa: BLE001 - a bug of the fuzzer: said, and the campaign goes on
                    found += 1
                    seen[f"fuzzer error: {type(error).__name__}"] += 1
                    print(f"fuzzer error [{kind}, case seed {case_seed}]: {type(error).__name__}: {error}", file=out,
                          flush=True)
                    n += 1
                    continue
                folder = Path(scratch) / f"case-{n}"
                folder.mkdir()
                findings = worker.run(case, folder)
                left_out += worker.skipped
                shutil.rmtree(folder, ignore_errors=True)
                per_kind[kind] += 1
                n += 1
                for finding in findings:
                    found += 1
                    seen[finding.signature] += 1
                    if seen[finding.signature] <= EXAMPLES_PER_SIGNATURE:
                        _save(findings_dir, finding, case, kind, case_seed, seen[finding.signature])
                        print(f"finding [{kind}, case seed {case_seed}]: {finding.signature}", file=out, flush=True)
                if n % 200 == 0:
                    print(f"{n} cases, {found} findings ({len(seen)} kinds) in "
                          f"{minutes * 60 - (deadline - time.monotonic()):.0f} s", file=out, flush=True)
        finally:
            worker.stop()
    print(f"done: {sum(per_kind.values())} cases ({', '.join(f'{k} {v}' for k, v in sorted(per_kind.items()))}), "
          f"{found} findings of {len(seen)} kinds" + (f" -> {findings_dir}" if seen else "")
          + (f"; {left_out} commands left out, estimated past --longest {longest:g} s" if left_out else ""),
          file=out, flush=True)
    return found


def _save(root: Path, finding, case: Case, kind: str, case_seed: int, index: int) -> None:
    folder = root / _slug(finding.signature) / str(index)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_case(case, folder)
    (folder / "finding.txt").write_text(
        f"{finding.category}\n{finding.detail}\n\nkind: {kind}; case seed: {case_seed}\n"
        f"mutations: {case.describe()}\nvalidate: {' '.join(case.validate + case.validate_args)}\n"
        f"command: {' '.join(case.command or [])}\n"
        f"replay: python tests/fuzzing --replay {folder / 'case.json'}\n")


def replay(path: Path, timeout: float) -> int:
    """Run one saved case in this process and print its findings."""
    case = Case.from_json(path.read_text())
    with tempfile.TemporaryDirectory(prefix="simfleet-fuzz-") as scratch:
        folder = Path(scratch) / "case"
        folder.mkdir()
        findings = execute(case, folder, timeout, query_run(Path(scratch)), allow=lambda extra: True)
    print(f"{case.kind}: {case.describe()}")
    for finding in findings:
        print(f"{finding.category}: {finding.detail}")
    print("no findings" if not findings else f"{len(findings)} findings")
    return 1 if findings else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/fuzzing", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (default 60)")
    parser.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    parser.add_argument("--seed", type=int, default=None, help="seed of the case stream (default: random, printed)")
    parser.add_argument("--kind", action="append", choices=sorted(KINDS), help="only these kinds (repeatable)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a case may take (default 60), "
                        "more where the program estimates its run to be long")
    parser.add_argument("--longest", type=float, default=600.0, help="seconds a case may take at most, its "
                        "estimate included: a longer command is left out (default 600)")
    parser.add_argument("--findings", type=Path, default=Path("fuzz-findings"), help="where findings are written")
    parser.add_argument("--replay", type=Path, help="run one saved case.json and print its findings")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args.replay, args.timeout)
    # SIGTERM ends the campaign as Ctrl-C does: the worker is stopped and the scratch folder removed
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
    print(f"fuzzing every input kind for {args.minutes:g} min, seed {seed}", flush=True)
    if args.longest < args.timeout:
        parser.error(f"--longest ({args.longest:g}) is shorter than --timeout ({args.timeout:g})")
    return 1 if campaign(args.minutes, seed, args.findings, args.timeout, args.cases, args.kind or sorted(KINDS),
                         longest=args.longest) else 0

