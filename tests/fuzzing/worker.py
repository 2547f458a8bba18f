"""A subprocess that runs fuzz cases for the long campaign, so that a case that hangs (even inside
compiled code, where no alarm reaches it) is ended by killing this process, not the campaign.

Protocol: one JSON request per line on stdin, {"case": Case JSON, "folder": empty folder}; one
reply line per request on stdout, `REPLY` followed by {"findings": [[category, detail], …]}. Other
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

__all__ = ["Worker", "main", "REPLY"]

REPLY = "@@fuzz-reply "


def main(scratch: str, timeout: str) -> None:
    for line in sys.stdin:
        request = json.loads(line)
        case = Case.from_json(request["case"])
        findings = execute(case, Path(request["folder"]), float(timeout), query_run(Path(scratch)))
        sys.__stdout__.write(REPLY + json.dumps({"findings": [[f.category, f.detail] for f in findings]}) + "\n")
        sys.__stdout__.flush()


class Worker:
    """The parent's end: start, send a case, wait for its reply at most `timeout` seconds."""

    def __init__(self, scratch: Path, timeout: float):
        self.scratch, self.timeout = scratch, timeout
        self.process: subprocess.Popen | None = None
        self.cases = 0

    def _start(self) -> None:
        package = __package__ or "fuzzing"
        root = Path(__file__).resolve().parents[len(package.split("."))]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
        code = f"import sys; from {package}.worker import main; main(sys.argv[1], sys.argv[2])"
        # the inner alarm rings first (a hang in Python code is then a clean finding); the kill is
        # for a hang the alarm cannot reach
        self.process = subprocess.Popen([sys.executable, "-c", code, str(self.scratch), str(self.timeout * 0.8)],
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
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith(REPLY):
                    return [Finding(c, d) for c, d in json.loads(text[len(REPLY):])["findings"]]
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                return [Finding("hang", f"{case.command[0] if case.command else 'validate'}: no outcome within "
                                        f"{self.timeout:g} s (the worker was killed)")]
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    code = self.process.wait()
                    self.process = None
                    return [Finding("crash", f"the worker process died (exit {code}): a crash below Python")]
                self._buffer += chunk
