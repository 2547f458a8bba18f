"""How a command that writes outputs ends on Ctrl-C (SIGINT) or SIGTERM: one line, exit 130 or 143.

`interruptible(describe)` wraps a command's work. Inside it SIGTERM raises `Terminated`, as SIGINT
raises `KeyboardInterrupt`, so every `with` and `finally` on the way out runs: an `OutputDirectory`
removes its temporary directory, an executor stops its worker processes, a sweep keeps the runs
that finished. Then it prints ``error: interrupted by SIGINT; <describe()>`` and exits with 128 +
the signal's number, the shell's convention: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["Terminated", "interruptible", "exit_code"]


class Terminated(BaseException):
    """SIGTERM arrived (a `BaseException`, like `KeyboardInterrupt`: `except Exception` does not stop it).

    Its only argument is the signal's number, so that a copy made as `type(e)(*e.args)` (SimPy
    re-raises a failed process's exception so) is the same."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(int(signum))

    @property
    def signum(self) -> int:
        return self.args[0]

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


def _terminate(signum, frame) -> None:
    raise Terminated(signum)


def exit_code(signum: int) -> int:
    """The exit code of a command ended by signal `signum`: 128 + its number (SIGINT 130, SIGTERM 143)."""
    return 128 + int(signum)


def _forget_unhandled_interrupt() -> None:
    """CPython marks a KeyboardInterrupt that leaves code run from a string (`exec("...")`, which
    numba and dataclasses use) as unhandled, and a program run with `python -m` then ends with SIGINT
    itself instead of the exit code asked for, even though the interrupt was caught further up.
    Running a string resets the mark, so the exit code is 130 as intended."""
    exec("None")


@contextmanager
def interruptible(describe: Callable[[], str]) -> Iterator[None]:
    """End the block's work on SIGINT or SIGTERM with one `error:` line (`describe()` says what was
    kept or not written) and `typer.Exit(exit_code(signal))`."""
    import typer

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        yield
    except (KeyboardInterrupt, Terminated) as error:
        _forget_unhandled_interrupt()
        signum = error.signum if isinstance(error, Terminated) else signal.SIGINT
        typer.echo(f"error: interrupted by {signal.Signals(signum).name}; {describe()}", err=True)
        raise typer.Exit(exit_code(signum)) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
