"""`simfleet run`'s progress line (`outputs.run_progress.RunProgress`) against what it must say: the
latest arrival, the request count, the wall time and the ETA at the pace so far, computed here from
the batches given and a fake clock; drawn at most every `interval_s`, erased at the end, silent when
stderr is not a terminal (as under CliRunner: `tests/test_cli.py` checks `run`'s stderr)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simfleet.outputs.run_progress import RunProgress

ERASE = "\r\x1b[2K"


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def batch(times) -> SimpleNamespace:
    return SimpleNamespace(arrival_s=np.asarray(times, dtype=np.float64))


def hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{(s % 3600) // 60:02d}:{s % 60:02d}"


@settings(max_examples=100)
@given(duration=st.integers(60, 86_400),
       batches=st.lists(st.tuples(st.lists(st.floats(0, 1), min_size=1, max_size=20), st.floats(0.01, 5)),
                        min_size=1, max_size=15))
def test_the_line_says_how_far_the_run_is_and_the_time_left_at_that_pace(duration, batches):
    stream, clock = io.StringIO(), FakeClock()
    progress = RunProgress(duration, stream, tty=True, clock=clock, interval_s=0.0)
    latest, count = 0.0, 0
    for fractions, wall_step in batches:
        clock.now += wall_step
        times = [f * duration for f in fractions]
        latest, count = max(latest, max(times)), count + len(times)
        progress.add(batch(times))
        drawn = stream.getvalue().split(ERASE)[-1]
        fraction = latest / duration
        elapsed = clock.now - 100.0
        expected = (f"simulated {hms(latest)} of {hms(duration)} ({fraction:.0%}), {count:,} requests, "
                    f"wall {elapsed:.1f} s")
        if 0 < fraction < 1:
            expected += f", eta {elapsed / fraction * (1 - fraction):.0f} s"
        assert drawn == expected


def test_drawn_at_most_every_interval_and_erased_at_the_end():
    stream, clock = io.StringIO(), FakeClock()
    progress = RunProgress(600, stream, tty=True, clock=clock, interval_s=0.25)
    for k in range(20):                 # a batch every 0.1 s of wall time: drawn at 0, 0.3, 0.6, … (7 times)
        clock.now = 100.0 + 0.1 * k
        progress.add(batch([30.0 * k]))
    progress.add(batch([]))             # an empty batch changes nothing
    assert stream.getvalue().count(ERASE) == 7
    progress.close()
    assert stream.getvalue().endswith(ERASE) and stream.getvalue().count(ERASE) == 8
    assert progress.requests == 20


def test_silent_when_not_a_terminal():
    stream = io.StringIO()
    progress = RunProgress(600, stream, tty=False, interval_s=0.0)
    progress.add(batch([1.0, 2.0]))
    progress.close()
    assert stream.getvalue() == "" and progress.requests == 2
