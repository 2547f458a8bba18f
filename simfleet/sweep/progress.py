"""Progress of a sweep on stderr: a one-line bar on a terminal, plain lines otherwise.

Plain lines (logs, CI, a pipe) read ``run 3/20 ok 1f0c93a2b4d5e6f7 (1.2 s)``, one per finished
run; on a terminal the same information is redrawn in place as a bar with counts and an ETA.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

BAR_WIDTH = 24


class Progress:
    """Counts finished runs out of `total`; `skipped` of them were already done before."""

    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = None, tty: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = total
        self.skipped = skipped
        self.done = skipped
        self.ok = 0
        self.failed = 0
        self.began = time.monotonic()
        if self.tty and total > skipped:
            self._draw("")

    def update(self, run_id: str, status: str, wall_s: float | None) -> None:
        self.done += 1
        if status == "ok":
            self.ok += 1
        else:
            self.failed += 1
        seconds = "" if wall_s is None else f" ({wall_s:.1f} s)"
        if self.tty:
            self._draw(f"{status} {run_id}{seconds}")
        else:
            # One write per line: a signal arriving inside `print` (between its text and its newline)
            # would leave the line open and glue the interruption's `error:` line onto it.
            self.stream.write(f"run {self.done}/{self.total} {status} {run_id}{seconds}\n")
            self.stream.flush()

    def _draw(self, last: str) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(round(fraction * BAR_WIDTH))
        ran = self.done - self.skipped
        elapsed = time.monotonic() - self.began
        eta = f" eta {elapsed / ran * (self.total - self.done):.0f} s" if ran and self.done < self.total else ""
        failed = f", {self.failed} failed" if self.failed else ""
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}{failed}{eta}  {last}"
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.total > self.skipped:
            self.stream.write("\n")
            self.stream.flush()
