"""Progress of `simfleet run` on a terminal: one line on stderr, redrawn in place while the engine runs.

The line reads ``simulated 0:12:30 of 1:00:00 (21 %), 45,210 requests, wall 3.1 s, eta 12 s``: the
arrival instant of the latest request dispatched, the requests dispatched so far, the wall time
since the run began (its set-up included) and the time left at that pace (wall time per simulated
second so far, times the simulated seconds left). It is fed the engine's request batches (the same hand-over the request
trace gets), redrawn at most every `interval_s` of wall time, and erased when the run ends, so the
run table follows on a clean line. When stderr is not a terminal (a pipe, a log, CI) it writes
nothing. A run without traffic has no batches: it shows nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

__all__ = ["RunProgress"]


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class RunProgress:
    """Counts the requests of the batches given to `add` over a run of `duration_s` simulated seconds."""

    def __init__(self, duration_s: float, stream: TextIO | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, interval_s: float = 0.25):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.duration_s = float(duration_s)
        self.clock = clock
        self.interval_s = interval_s
        self.requests = 0
        self.simulated_s = 0.0
        self.began = clock()
        self._drawn_at: float | None = None

    def add(self, records) -> None:
        """One dispatched batch (`RequestRecords`): its requests and its latest arrival."""
        n = len(records.arrival_s)
        if n == 0:
            return
        self.requests += n
        self.simulated_s = max(self.simulated_s, float(records.arrival_s.max()))
        now = self.clock()
        if self.tty and (self._drawn_at is None or now - self._drawn_at >= self.interval_s):
            self.stream.write("\r\x1b[2K" + self.line(now))
            self.stream.flush()
            self._drawn_at = now

    def line(self, now: float) -> str:
        fraction = min(1.0, self.simulated_s / self.duration_s) if self.duration_s > 0 else 1.0
        elapsed = now - self.began
        eta = f", eta {elapsed * (1 - fraction) / fraction:.0f} s" if 0 < fraction < 1 else ""
        return (f"simulated {_clock(self.simulated_s)} of {_clock(self.duration_s)} ({fraction:.0%}), "
                f"{self.requests:,} requests, wall {elapsed:.1f} s{eta}")

    def close(self) -> None:
        """Erase the line (if one was drawn)."""
        if self._drawn_at is not None:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn_at = None
