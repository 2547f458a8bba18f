"""A subprocess that runs fuzz cases for the long campaign, so that a case that hangs (even inside
compiled code, where no alarm reaches it) is ended by killing this process, not the campaign.

Protocol: one JSON request per line on stdin, {"case": Case JSON, "folder": empty folder}; one
reply line per request on stdout, `REPLY` followed by {"findings": [[category, detail], …],
"skipped": whether the command was left out}. Before a command whose estimate buys it more time
(`harness.ESTIMATE_ALLOWANCE`), an `EXTEND` line with the seconds added to the case's limit. Other
output (a library printing to the real stdout) is ignored by the reader.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from .cases import Case
from .harness import Finding, execute, query_run

__all__ = ["Worker", "main", "REPLY", "EXTEND"]

REPLY = "@@fuzz-reply "
EXTEND = "@@fuzz-extend "


def main(scratch: str, timeout: str, most_extra: str) -> None:
    """Serve requests; `timeout` is the worker's own limit (the parent's, shortened), `most_extra`
    the most time a command's estimate may add to the parent's before the command is left out."""
    for line in sys.stdin:
        request = json.loads(line)
        case = Case.from_json(request["case"])
        skipped = False

        def allow(extra: float) -> bool:
            nonlocal skipped
            if extra > float(most_extra):
                skipped = True
                return False
            if extra > 0:
                sys.__stdout__.write(f"{EXTEND}{extra!r}\n")
                sys.__stdout__.flush()
            return True

        findings = execute(case, Path(request["folder"]), float(timeout), query_run(Path(scratch)), allow)
        reply = {"findings": [[f.category, f.detail] for f in findings], "skipped": skipped}
        sys.__stdout__.write(REPLY + json.dumps(reply) + "\n")
        sys.__stdout__.flush()


class Worker:
    """The parent's end: start, send a case, wait for its reply at most `timeout` seconds."""

    def __init__(self, scratch: Path, timeout: float, longest: float = 600.0):
        self.scratch, self.timeout, self.longest = scratch, timeout, longest
        self.process: subprocess.Popen | None = None
        self.cases = 0
        self.skipped = False   # whether the last case's command was left out (its estimate past `longest`)

    def _start(self) -> None:
        package = __package__ or "fuzzing"
        root = Path(__file__).resolve().parents[len(package.split("."))]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
        code = f"import sys; from {package}.worker import main; main(*sys.argv[1:4])"
        # the inner alarm rings first (a hang in Python code is then a clean finding); the kill is
        # for a hang the alarm cannot reach
        self.process = subprocess.Popen([sys.executable, "-c", code, str(self.scratch), str(self.timeout * 0.8),
                                         str(self.longest - self.timeout)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                        stderr=(self.scratch / "worker-stderr.log").open("ab"))
        self._buffer = b""
        self.cases = 0

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def run(self, case: Case, folder: Path) -> list[Finding]:
        if self.process is None or self.cases >= 300:   # a fresh process now and then: no state builds up
            self.stop()
            self._start()
        self.cases += 1
        self.process.stdin.write((json.dumps({"case": case.to_json(), "folder": str(folder)}) + "\n").encode())
        self.process.stdin.flush()
        self.skipped = False
        limit = self.timeout
        deadline = time.monotonic() + limit
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith(EXTEND):
                    extra = float(text[len(EXTEND):])
                    limit, deadline = limit + extra, deadline + extra
                elif text.startswith(REPLY):
                    reply = json.loads(text[len(REPLY):])
                    self.skipped = reply["skipped"]
                    return [Finding(c, d) for c, d in reply["findings"]]
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                return [Finding("hang", f"{case.command[0] if case.command else 'validate'}: no outcome within "
                                        f"{limit:.0f} s (the worker was killed)")]
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    code = self.process.wait()
                    self.process = None
                    return [Finding("crash", f"the worker process died (exit {code}): a crash below Python")]
                self._buffer += chunk
