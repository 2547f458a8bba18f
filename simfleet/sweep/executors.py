"""Where sweep runs execute: a local process pool, or a Dask cluster.

Both take the same task function and the same small tasks (`execute.RunTask`) and yield each
outcome as it completes, in whatever order; the results do not depend on the executor because a
task carries everything its run depends on. An exception raised outside the task function (a
worker process that died, a lost Dask worker) is yielded in place of the result, so the caller
records that run as failed and goes on.

An executor left by an exception (Ctrl-C, SIGTERM, a full disk) is aborted, not closed: its
workers are stopped at once instead of finishing their runs (`abort`). A signal is answered in
every phase, the pool's start included: the local pool's tasks are submitted, and so its worker
processes started, by a thread of their own while the main thread waits where a signal reaches
it. Starting the first worker waits for the fork server to import the simulator, which can take
long on a busy machine; an abort then ends the fork server and the workers it forked, so that
start fails at once instead of being waited for. Local workers ignore
Ctrl-C, which a terminal sends to every process of the command: the parent alone decides. A local
worker whose parent is gone (killed outright, SIGKILL, where nothing of the parent runs any more)
ends at once too: each worker holds the reading end of a pipe whose writing end only the parent
holds, and a thread of the worker that sees the pipe close ends the process. Otherwise the workers
would live on, run the tasks already queued, write their metrics into the dataset after the sweep
was killed (beside the next attempt's) and then wait for work forever.

Dask (`simfleet[dask]`) is imported only when asked for. Its workers must be able to import
simfleet and to read the base experiment's folder and write to the output folder (a shared file
system), since each run writes its own metrics file.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.connection import Connection
from typing import Callable, Iterable, Iterator

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "MissingDependency", "make_executor"]

Outcome = tuple[object, object, BaseException | None]  # (task, result, error)


# the main thread's waits end this often: a signal the system hands to another thread (allowed
# outside Linux) is then handled within this time, even if no wait is interrupted by it
_POLL_S = 0.25


class MissingDependency(RuntimeError):
    """An optional dependency (the `dask` extra) is not installed."""


class Executor:
    """Runs `fn(task)` for every task; yields `(task, result, None)` or `(task, None, error)`."""

    description = "executor"

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[Outcome]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Stop at once: running tasks are abandoned, pending ones cancelled."""
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _worker_setup(parent: Connection) -> None:
    """A local worker's initializer. Ctrl-C reaches the whole process group; the parent handles it.
    `parent` is the reading end of the pipe the parent holds open for its whole life: a thread
    waits for it to close and then ends the worker (`_exit_with_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="simfleet-parent-watch", daemon=True).start()


def _end_fork_server() -> None:
    """End this process's fork server, if it runs (Linux), and the processes it has forked: a worker
    start waiting for it fails at once, and a worker forked a moment ago, whose start the pool has
    not yet seen, ends too (left alone, it would end by itself, but perhaps with a traceback about
    the queues its parent removed). The fork server is stopped first, so that it forks no more while
    its children are listed. The next start launches a new one (`ensure_running` sees it gone)."""
    if not sys.platform.startswith("linux"):
        return
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for child in _children(pid):
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    # the next start in this process (a sweep run again from Python) launches a new fork server only
    # once `os.waitpid` reports this one ended: until then (a process of several threads takes a
    # moment to end) it is taken to run, and that start fails on the closed connection
    deadline = time.monotonic() + 1.0
    while not _ended(pid) and time.monotonic() < deadline:
        time.sleep(0.001)


def _ended(pid: int) -> bool:
    """The child `pid` has ended, as `os.waitpid` would report it, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _children(pid: int) -> list[int]:
    """The processes `pid` has forked that still run (Linux /proc; none where it cannot be read)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _exit_with_parent(parent: Connection) -> None:
    """Wait until the parent's end of the pipe closes (nothing is ever sent), then end this process
    at once: a worker whose parent is gone has no one to hand its result to."""
    try:
        parent.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _wait_until_ended(thread: threading.Thread | None, deadline: float,
                      meanwhile: Callable[[], None] | None = None) -> None:
    """Wait until `thread` has ended, calling `meanwhile()` between looks, until `deadline` at most.

    The pool's threads are daemons here (its manager thread is started by the starter thread, a
    daemon, and inherits that), so the process does not wait for them as it exits. But a thread's
    last references, here to the pool's queues, are dropped as it ends, and each queue then
    releases its named semaphores: unlinked, then unregistered from multiprocessing's resource
    tracker. A thread still doing so when the process exits stops half-way, and the resource
    tracker then writes warnings (a leaked or a missing semaphore) on stderr after the command's
    last line. So the command waits for them. The thread is polled (`is_alive`, which is true until
    the thread's references are gone), not joined: a join cut short by a signal marks the thread
    ended in Python 3.11 even while it still runs."""
    while thread is not None and thread.is_alive() and time.monotonic() < deadline:
        if meanwhile is not None:
            meanwhile()
        time.sleep(0.01)


class LocalExecutor(Executor):
    """A `ProcessPoolExecutor` of `workers` processes (forked from a clean fork server on Linux,
    which has imported the simulator once; spawned elsewhere)."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.description = f"local process pool, {self.workers} worker{'s' if self.workers > 1 else ''}"
        if sys.platform.startswith("linux"):
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["simfleet.sweep.execute", "simfleet.engine.simulation",
                                            "simfleet.scenario"])
        else:
            context = multiprocessing.get_context("spawn")
        # the writing end stays open in this process alone until the pool is shut down (or the
        # process ends, however it ends); the workers watch the reading end
        self._watched, self._alive = context.Pipe(duplex=False)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                         initializer=_worker_setup, initargs=(self._watched,))
        self._stopped = False
        self._stop = threading.Event()  # set when the tasks not yet submitted are to stay so
        self._lock = threading.Lock()
        self._submitted = threading.Event()  # clear while the starter thread submits
        self._submitted.set()
        self._starter: threading.Thread | None = None

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[Outcome]:
        tasks = list(tasks)
        pending: dict[Future, object] = {}
        failed: list[BaseException] = []
        # a submission may start a worker process, which waits for the fork server: the starter
        # thread submits while this (main) thread waits where a signal is handled at once
        # (an Event, not Thread.join: a join cut short by a signal marks the thread ended in
        # Python 3.11 even while it still runs)
        self._stop.clear()
        self._submitted.clear()
        self._starter = threading.Thread(target=self._submit, args=(fn, tasks, pending, failed),
                                         name="simfleet-pool-start", daemon=True)
        self._starter.start()
        try:
            while not self._submitted.wait(_POLL_S):
                pass
            if failed:
                raise failed[0]
            while pending:
                done, _ = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    error = future.exception()
                    yield (task, None, error) if error is not None else (task, future.result(), None)
        finally:
            # the tasks not yet started are cancelled by `close` or `abort`, which follow, inside the
            # pool (`shutdown(cancel_futures=True)`): a future cancelled from here while the pool
            # still lists it fails the pool's manager thread, with a traceback on stderr, if the pool
            # then breaks (as `abort` breaks it), since Python 3.11 sets an error on every future
            # it lists
            self._stop.set()

    def _submit(self, fn: Callable, tasks: list, pending: dict, failed: list) -> None:
        """The starter thread: submit every task unless the executor is stopping."""
        try:
            for task in tasks:
                if self._stop.is_set():
                    return
                future = self._pool.submit(fn, task)
                with self._lock:
                    pending[future] = task
        except BaseException as error:  # noqa: BLE001 - raised again in the main thread
            if not self._stop.is_set():
                failed.append(error)
        finally:
            self._submitted.set()

    def close(self) -> None:
        if not self._stopped:
            self._stopped = True
            _wait_until_ended(self._starter, time.monotonic() + 5.0)
            self._pool.shutdown(wait=True, cancel_futures=True)  # (joins the pool's manager thread)
            self._close_pipe()

    def abort(self, timeout_s: float = 5.0) -> None:
        """Terminate the worker processes (SIGTERM, then SIGKILL after `timeout_s`) and wait for them,
        and for the threads of the pool (see `_wait_until_ended`). A pool still starting its workers
        has its fork server ended first, again and again while the starter thread still submits: a
        start may be waiting for it, and the fork server may be relaunched, or its process id not yet
        known when first looked at. A submission in progress holds the pool's lock, which `shutdown`
        waits for: with the fork server importing the simulator, for as long as that takes."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        _wait_until_ended(self._starter, deadline,
                          lambda: None if self._submitted.is_set() else _end_fork_server())
        # the pool has no public way to stop running tasks before Python 3.14 (terminate_workers)
        with self._lock:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            manager = getattr(self._pool, "_executor_manager_thread", None)
        if not (self._starter is not None and self._starter.is_alive()):  # (else it would wait for the lock)
            self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        # the manager thread ends once it has seen its workers gone
        _wait_until_ended(manager, time.monotonic() + timeout_s)
        self._close_pipe()

    def _close_pipe(self) -> None:
        self._alive.close()
        self._watched.close()


class DaskExecutor(Executor):
    """A `distributed.Client` on `scheduler` (an address such as ``tcp://host:8786``), or on a
    `LocalCluster` of `workers` single-threaded worker processes when no address is given."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, processes: bool = True):
        try:
            import distributed
        except ImportError:
            raise MissingDependency("--executor dask needs the optional dependency 'distributed': "
                                    "pip install 'simfleet[dask]'") from None
        import logging

        self._cluster = None
        if scheduler:
            self._client = distributed.Client(scheduler)
            self.description = f"Dask scheduler {scheduler}"
        else:
            n = max(1, workers or os.cpu_count() or 1)
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                                     dashboard_address=None, silence_logs=logging.ERROR)
            self._client = distributed.Client(self._cluster)
            self.description = f"Dask LocalCluster, {n} worker{'s' if n > 1 else ''}"
        self._distributed = distributed

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[Outcome]:
        pending = {}
        for task in tasks:
            key = f"simfleet-run-{getattr(task, 'run_id', id(task))}"
            pending[self._client.submit(fn, task, key=key, pure=False)] = task
        try:
            for future in self._distributed.as_completed(list(pending)):
                task = pending.pop(future)
                try:
                    yield task, future.result(), None
                except Exception as error:  # noqa: BLE001 - recorded as a failed run
                    yield task, None, error
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._cluster = None


def make_executor(kind: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """`kind` is ``"local"`` or ``"dask"``."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    raise ValueError(f"unknown executor {kind!r} (local, dask)")
