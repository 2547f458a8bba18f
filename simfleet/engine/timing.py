"""How control processes line up with the metric clock when they act at the same instant.

A change due at a tick of the metric clock (a traffic knot, a user count, a scheduled action)
happens after that tick: the tick publishes the periods ending there, the watcher may end the run
there, the alarms evaluate; then the change applies. So a run a watcher ends at a tick T is, event
for event, the run of duration T, whose changes at T never happen.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["at_time"]


def at_time(env, t: float, run_over: Callable[[], bool]):
    """Wait until `t`, then past the metric clock's tick at `t` (a zero-delay step, queued after
    it), and answer whether the run is still on. `run_over()` tells whether the clock has returned.
    Use as ``if not (yield from at_time(env, t, run_over)): return``."""
    yield env.timeout(t - env.now)
    yield env.timeout(0)
    return not run_over()
