"""Output directories that hold their own files only: checked first, assembled aside, swapped in whole.

A run directory, a recommender job folder and a report's PNG folder are each written by
`OutputDirectory`:

1. **Checked before any work** (`OutputDirectory.check`): the destination must be a new path, an
   empty directory, or a directory simfleet wrote (`replaceable`: a run directory or a job folder
   with its simfleet `manifest.json` and nothing but simfleet's files, or a folder of report PNGs).
   A file, a directory holding anything else (unless `force`), the current directory (or one
   that holds it), or a place that cannot be created is refused with one line naming the path.
2. **Assembled under a temporary sibling name** (`.<name>.simfleet-new-<pid>`, hidden, beside the
   destination so that the swap is a rename on one file system), created with any missing
   parent folders.
3. **Swapped in whole**: a new path is the renamed temporary directory; an existing directory is
   exchanged with it in one step (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere, or on a file
   system without it, two renames with the old directory moved aside under
   `.<name>.simfleet-old-<pid>`), then the old one is deleted. An earlier output is therefore
   replaced as a whole, never mixed with the new files. A process killed outright between the two
   renames leaves no directory at the destination: the old one is under its `old` name and the
   complete new one under its `new` name. The next command that writes the destination, or reads
   it as a run directory (`recover_swap`), first completes that swap: the new directory is renamed
   in and the old one deleted (had the new one gone, the old one would be renamed back). Until
   then the destination is missing, and nothing is lost.
4. **Or discarded**: on any error or interruption inside the `with` block (Ctrl-C, SIGTERM, a full
   disk) the temporary directory and the parent folders it created are removed, and the
   destination is as it was. An `OSError` from writing becomes a one-line `InputError` naming the
   destination ("cannot write the run directory (No space left on device); nothing was written").

Ctrl-C and SIGTERM are held back while the swap or the clean-up runs and delivered right after,
so neither is cut in half. A process killed outright (SIGKILL) can leave a temporary directory;
the next writer of the same destination deletes those whose writer is gone. The writer holds an
exclusive `flock` on its `new` directory while it assembles it, and the kernel drops the lock
whatever way the process ends, so a directory nobody holds is stale even when its process
number has been given to another process since (after a kill, the number is free; in a container
the next process is likely to get it). Where locks are not available, and for an `old`
directory, the process number alone decides.

`writing(path, what)` gives the same one-line errors for an output written in place (a sweep's
dataset, which resumes instead of being replaced).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from simfleet.errors import InputError
from simfleet.input_files import name_problem

try:
    import fcntl
except ImportError:  # Windows: no flock; the process number alone tells a stale directory
    fcntl = None

__all__ = ["OutputDirectory", "replaceable", "png_folder", "writing", "signals_held", "check_new_or_directory",
           "recover_swap", "RUN_DIRECTORY_FILES", "JOB_FOLDER_FILES", "TEMPORARY_MARK"]

#: Files a run directory may hold (`run_directory.RUN_FILES`, the optional request trace, the report).
RUN_DIRECTORY_FILES = frozenset({"metrics.parquet", "metric_values.parquet", "events.parquet", "summary.json",
                                 "manifest.json", "requests.parquet", "report.html"})
#: Files a recommender job folder may hold beside `tests/` (a folder of run directories).
JOB_FOLDER_FILES = frozenset({"recommendations.json", "steps.json", "manifest.json", "report.html"})
JOB_TESTS_FOLDER = "tests"
#: In the names of temporary directories: `.<name>.simfleet-new-<pid>` and `.<name>.simfleet-old-<pid>`.
TEMPORARY_MARK = ".simfleet-"
_ATOMIC_LEFTOVER = ".tmp-"  # `outputs.atomic`'s temporary files


# --- what may be replaced --------------------------------------------------------------------------


def _simfleet_manifest(path: Path) -> bool:
    """A `manifest.json` written by simfleet: a run's (`simfleet_version`) or a job's (`simfleet`, `libraries`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and ("simfleet_version" in document
                                           or ("simfleet" in document and "libraries" in document))


def _entries(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted((e for e in it if not e.name.startswith(_ATOMIC_LEFTOVER)), key=lambda e: e.name)


def _run_or_job(path: Path, prefix: str = "") -> str | None:
    entries = _entries(path)
    if not entries:
        return None
    if not (path / "manifest.json").is_file() or not _simfleet_manifest(path / "manifest.json"):
        return f"no simfleet manifest.json; it holds {prefix + entries[0].name!r}"
    job = not prefix and any(e.name in ("recommendations.json", "steps.json", JOB_TESTS_FOLDER) for e in entries)
    for entry in entries:
        if job and entry.name == JOB_TESTS_FOLDER and entry.is_dir(follow_symlinks=False):
            for test in _entries(Path(entry.path)):
                inner = f"{JOB_TESTS_FOLDER}/{test.name}"
                if not test.is_dir(follow_symlinks=False):
                    return f"{inner!r} is not a file simfleet writes there"
                why = _run_or_job(Path(test.path), prefix=inner + "/")
                if why is not None:
                    return why
        elif not (entry.is_file(follow_symlinks=False)
                  and entry.name in (JOB_FOLDER_FILES if job else RUN_DIRECTORY_FILES)):
            return f"{prefix + entry.name!r} is not a file simfleet writes there"
    return None


def replaceable(path: str | Path) -> str | None:
    """Why the directory `path` may not be replaced as a whole without `--force`; None when it may:
    it is empty, or it is a run directory or a job folder (a simfleet `manifest.json` and only the
    files simfleet writes there: `RUN_DIRECTORY_FILES`; `JOB_FOLDER_FILES` and `tests/` of run
    directories)."""
    return _run_or_job(Path(path))


def png_folder(path: str | Path) -> str | None:
    """As `replaceable`, for `simfleet report --png DIR`: empty, or only PNG files, `page.png` among them."""
    entries = _entries(Path(path))
    if not entries:
        return None
    for entry in entries:
        if not (entry.is_file(follow_symlinks=False) and entry.name.endswith(".png")):
            return f"{entry.name!r} is not a file simfleet writes there"
    if "page.png" not in {e.name for e in entries}:
        return "PNG files but no page.png, so not a simfleet report's"
    return None


# --- signals and errors ------------------------------------------------------------------------------


def _deliver(handler, signum: int, frame) -> None:
    """What `handler` (a handler as `signal.getsignal` gives it) does with signal `signum`."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM arriving inside the block are delivered when it ends (main thread only;
    elsewhere signals cannot be handled anyway).

    The stand-in handler forwards to the real one once the block is over, so a signal arriving
    while the handlers are being put back (`signal.signal` runs pending handlers first) is
    neither lost nor left with the stand-in."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    holding = [True]
    previous: dict = {}

    def stand_in(signum, frame):
        if holding[0]:
            pending.append(signum)
        else:
            _deliver(previous[signum], signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.signal(sig, stand_in)
        previous[sig] = handler if handler is not None else signal.SIG_DFL  # None: not set from Python
    try:
        yield
    finally:
        holding[0] = False
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pending:
            _deliver(previous[pending[0]], pending[0], None)


def _reason(error: OSError) -> str:
    text = error.strerror or str(error) or type(error).__name__
    return " ".join(text.split())


def _cannot_write(shown: Path, what: str, error: OSError, then: str = "; nothing was written") -> InputError:
    return InputError.single(shown, f"cannot write the {what} ({_reason(error)}){then}")


@contextmanager
def writing(path: str | Path, what: str, then: str = "") -> Iterator[None]:
    """An `OSError` inside the block (permission denied, a full disk) becomes a one-line `InputError`
    naming `path`: "cannot write the <what> (<reason>)<then>"."""
    try:
        yield
    except OSError as error:
        raise _cannot_write(Path(path), what, error, then) from None


def _nearest_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_new_or_directory(path: str | Path, what: str, option: str = "--out", in_place: bool = False) -> None:
    """`path` is a directory or can be created as one: refuses a file, a path under a file, and a place
    where a folder cannot be created, or (an existing directory) where it cannot be replaced, or with
    `in_place` written into. One-line `InputError` naming `path`."""
    shown = Path(path)
    absolute = Path(os.path.abspath(shown))
    unnamed = name_problem(absolute)
    if unnamed is not None:
        raise InputError.single(shown, f"cannot be created: {unnamed}")
    if absolute.exists() and not absolute.is_dir():
        raise InputError.single(shown, f"is a file, not a directory; {option} names the {what} to write "
                                       "(a new path or a directory)")
    if not absolute.exists():
        if os.path.lexists(absolute):
            raise InputError.single(shown, f"is a broken symbolic link; {option} names the {what} to write")
        ancestor = _nearest_existing(absolute.parent)
        if not ancestor.is_dir():
            raise InputError.single(shown, f"cannot be created: {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise InputError.single(shown, f"cannot be created: permission denied in {ancestor}")
    else:
        target = absolute if in_place else absolute.parent
        if not os.access(target, os.W_OK | os.X_OK):
            raise InputError.single(shown, f"cannot write the {what}: permission denied in {target}")


# --- the directory ----------------------------------------------------------------------------------


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock(path: Path) -> int | None:
    """An open descriptor of the directory `path` holding an exclusive lock on it (None: no lock)."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:  # waits only for another writer's check (`_locked`), which lets go at once
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd


def _locked(path: Path) -> bool | None:
    """Whether a live process holds the lock of the directory `path`; None when that cannot be told."""
    if fcntl is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # and with it the lock just taken
    return False


def recover_swap(path: str | Path) -> bool:
    """Complete the swap into `path` of a writer killed between its two renames (module docstring,
    step 3): `path` missing, the old directory aside as `.<name>.simfleet-old-<pid>` and the complete
    new one as `.<name>.simfleet-new-<pid>`, whose writer is gone (no one holds the new directory's
    lock, or, where that cannot be told, its process has ended). The new directory is renamed in
    and the old one deleted; without a new one, the old one is renamed back. Whether it did so."""
    final = Path(os.path.abspath(path))
    if os.path.lexists(final) or not os.path.isdir(final.parent):  # os.path: False for a path too long
        return False
    pattern = re.compile(re.escape(f".{final.name}{TEMPORARY_MARK}") + r"old-(\d+)")
    try:
        entries = sorted(final.parent.iterdir())
    except OSError:
        return False
    with signals_held():
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if not match or not entry.is_dir() or entry.is_symlink():
                continue
            pid = int(match.group(1))
            new = final.parent / f".{final.name}{TEMPORARY_MARK}new-{pid}"
            locked = _locked(new) if new.is_dir() and not new.is_symlink() else None
            if locked or (locked is None and pid != os.getpid() and _process_alive(pid)):
                continue  # its writer is still at it
            try:
                if new.is_dir() and not new.is_symlink():
                    os.rename(new, final)
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    os.rename(entry, final)
            except OSError:
                continue  # another process got there first, or the folder cannot be written: as it was
            return True
    return False


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


class OutputDirectory:
    """``with OutputDirectory(out) as folder:`` write into `folder`; at the end of the block it
    replaces `out` as a whole, or, on an error or interruption, is removed (module docstring).

    `what` names the output in messages ("run directory"), `option` the command-line option that
    gave the path; `recognise(path)` says why an existing directory may not be replaced (None: it
    may), and `force` replaces any directory anyway (never a file)."""

    def __init__(self, final: str | Path, *, what: str = "run directory", option: str = "--out", force: bool = False,
                 recognise: Callable[[Path], str | None] = replaceable):
        self.shown = Path(final)
        absolute = Path(os.path.abspath(self.shown))
        self.final = Path(os.path.realpath(absolute)) if os.path.islink(absolute) else absolute
        self.what, self.option, self.force, self.recognise = what, option, force, recognise
        self.staging = self.final.parent / f".{self.final.name}{TEMPORARY_MARK}new-{os.getpid()}"
        self.committed = False
        self._created: list[Path] = []
        self._held: int | None = None  # the lock on `staging` (`_lock`)

    # -- before any work

    def check(self) -> None:
        """Refuse, in one line, a destination this output may not be written to (see the module
        docstring), after completing a swap into it that a killed writer left half done."""
        unnamed = name_problem(self.final)
        if unnamed is not None:
            raise InputError.single(self.shown, f"cannot be created: {unnamed}")
        recover_swap(self.final)
        check_new_or_directory(self.shown, self.what, self.option)
        if not self.final.is_dir():
            return
        cwd = Path(os.path.realpath(os.getcwd()))
        if cwd == self.final or self.final in cwd.parents:
            raise InputError.single(self.shown, f"is the current directory (or holds it); {self.option} names the "
                                                f"{self.what} to write, which replaces the whole directory")
        if self.force:
            return
        try:
            why = self.recognise(self.final)
        except OSError as error:
            raise InputError.single(self.shown, f"cannot be read ({_reason(error)})") from None
        if why is not None:
            raise InputError.single(self.shown, f"is not a directory simfleet wrote ({why}); the {self.what} "
                                                f"replaces {self.option} as a whole: choose another {self.option}, "
                                                "or add --force to replace it")

    # -- the block

    def __enter__(self) -> Path:
        self.check()
        try:
            with signals_held():
                self._remove_leftovers()
                self._make_parents()
                self.staging.mkdir()
                self._held = _lock(self.staging)
        except BaseException as error:  # a signal held back is delivered as the hold ends: here too
            with signals_held():
                self._discard()
            if isinstance(error, OSError):
                raise _cannot_write(self.shown, self.what, error) from None
            raise
        return self.staging

    def __exit__(self, kind, error, trace) -> None:
        with signals_held():
            if kind is not None:
                self._discard()
                if isinstance(error, OSError) and self._about_output(error):
                    raise _cannot_write(self.shown, self.what, error) from None
                return
            try:
                self._swap()
            except OSError as failure:
                self._discard()
                raise _cannot_write(self.shown, self.what, failure) from None
            self.committed = True

    # -- the steps

    def _about_output(self, error: OSError) -> bool:
        """An error in writing this output (no file named, or one under it), not in reading an input."""
        names = [os.path.abspath(os.fsdecode(n)) for n in (error.filename, error.filename2) if n is not None]
        return not names or any(n == str(p) or n.startswith(str(p) + os.sep)
                                for n in names for p in (self.staging, self.final))

    def _remove_leftovers(self) -> None:
        """Temporary directories of this destination whose writer is gone (killed outright: its process
        has ended, or no one holds the lock of a `new` one), or that an earlier writer in this
        process could not remove."""
        pattern = re.compile(re.escape(f".{self.final.name}{TEMPORARY_MARK}") + r"(new|old)-(\d+)")
        if not self.final.parent.is_dir():
            return
        for entry in self.final.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if not match or not entry.is_dir() or entry.is_symlink():
                continue
            pid = int(match.group(2))
            locked = _locked(entry) if match.group(1) == "new" else None
            if pid == os.getpid() or locked is False or not _process_alive(pid):
                shutil.rmtree(entry, ignore_errors=True)

    def _make_parents(self) -> None:
        missing = []
        parent = self.final.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir()
            self._created.append(folder)

    def _swap(self) -> None:
        if not os.path.lexists(self.final):
            os.rename(self.staging, self.final)
            self._release()
            return
        if _exchange(self.staging, self.final):
            old = self.staging
        else:
            old = self.final.parent / f".{self.final.name}{TEMPORARY_MARK}old-{os.getpid()}"
            os.rename(self.final, old)
            try:
                os.rename(self.staging, self.final)
            except OSError:
                os.rename(old, self.final)
                raise
        self._release()
        shutil.rmtree(old, ignore_errors=True)

    def _release(self) -> None:
        if self._held is not None:
            os.close(self._held)
            self._held = None

    def _discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._release()
        for folder in reversed(self._created):
            try:
                folder.rmdir()
            except OSError:
                break
        self._created = []
