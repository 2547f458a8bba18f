"""simfleet's console command run in a fresh process, with its own peak memory and, optionally, a terminal.

`run_command(args)` runs ``simfleet ARGS`` as a user types it, in a new Python process that writes
its own peak resident set (`VmHWM` of `/proc/self/status`) to a file when it exits: the command's
whole process (interpreter, numba, pyarrow...), and not its parent's high-water mark, which a
child's `ru_maxrss` would start from on Linux (see `measure`). Worker processes the command starts
(a sweep's pool) are not counted: this is the command's own process.

With `terminal=True` its stderr is a pseudo-terminal (`os.openpty`), as when a user watches it:
`simfleet run` then draws its progress line (`simfleet.outputs.run_progress`). Everything written
there is kept, and each time the terminal receives output the command's current resident set
(`VmRSS` of `/proc/PID/status`) is sampled: the memory of the run as it goes, without touching it.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CommandRun", "run_command", "status_bytes"]

#: the child: record VmHWM at exit (atexit runs on the SystemExit of the command's exit code)
_WRAPPER = """\
import atexit, sys
def _hwm(path=sys.argv[1]):
    with open("/proc/self/status", encoding="ascii") as status:
        line = next((l for l in status if l.startswith("VmHWM:")), "VmHWM: 0 kB")
    with open(path, "w", encoding="ascii") as out:
        out.write(str(int(line.split()[1]) * 1024))
atexit.register(_hwm)
sys.argv = ["simfleet", *sys.argv[2:]]
from simfleet.cli import main
main()
"""


@dataclass
class CommandRun:
    returncode: int
    wall_s: float                 # from the start of the process to its exit
    stdout: str
    stderr: str                   # the terminal's output when `terminal`
    peak_rss_bytes: int | None    # VmHWM of the command's process at exit (None without /proc)
    #: (wall seconds since start, text received on the terminal then, VmRSS in bytes then or None)
    terminal_chunks: list[tuple[float, str, int | None]] = field(default_factory=list)


def status_bytes(pid: int | str, key: str) -> int | None:
    """`key` (e.g. "VmRSS") of `/proc/PID/status` in bytes, or None (no /proc, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_command(args: list[str], terminal: bool = False, timeout_s: float = 3600.0) -> CommandRun:
    """Run ``simfleet ARGS`` in a fresh process (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="simfleet-bench-cmd-") as scratch:
        hwm_file = Path(scratch) / "vmhwm"
        command = [sys.executable, "-c", _WRAPPER, str(hwm_file), *args]
        began = time.perf_counter()
        if not terminal:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
            wall = time.perf_counter() - began
            return CommandRun(done.returncode, wall, done.stdout, done.stderr, _read_int(hwm_file))
        chunks: list[tuple[float, str, int | None]] = []
        master, slave = os.openpty()
        with tempfile.TemporaryFile("w+") as stdout:
            process = subprocess.Popen(command, stdout=stdout, stderr=slave, stdin=subprocess.DEVNULL)
            os.close(slave)
            try:
                while True:
                    ready, _, _ = select.select([master], [], [], 0.5)
                    if ready:
                        try:
                            data = os.read(master, 65536)
                        except OSError:  # EIO: every holder of the terminal's other end has closed it
                            data = b""
                        if not data:
                            break
                        chunks.append((time.perf_counter() - began, data.decode("utf-8", "replace"),
                                       status_bytes(process.pid, "VmRSS")))
                    elif process.poll() is not None:
                        break
                    if time.perf_counter() - began > timeout_s:
                        process.kill()
                        raise TimeoutError(f"simfleet {' '.join(args)}: still running after {timeout_s:g} s")
                returncode = process.wait()
            finally:
                os.close(master)
                if process.poll() is None:
                    process.kill()
                    process.wait()
            wall = time.perf_counter() - began
            stdout.seek(0)
            out = stdout.read()
        return CommandRun(returncode, wall, out, "".join(text for _, text, _ in chunks), _read_int(hwm_file),
                          chunks)


def _read_int(path: Path) -> int | None:
    try:
        value = int(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return value or None
