"""Where sweep runs execute: a local process pool, or a Dask cluster.

Both take the same task function and the same small tasks (`execute.RunTask`) and yield each
outcome as it completes, in whatever order; the results do not depend on the executor because a
task carries everything its run depends on. An exception raised outside the task function (a
worker process that died, a lost Dask worker) is yielded in place of the result, so the caller
records that run as failed and goes on.

An executor left by an exception (Ctrl-C, SIGTERM, a full disk) is aborted, not closed: its
workers are stopped at once instead of finishing their runs (`abort`). Local workers ignore
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
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.connection import Connection
from typing import Callable, Iterable, Iterator

from simfleet.outputs.directory import signals_held

__all__ = ["Executor", "LocalExecutor", "DaskExecutor", "MissingDependency", "make_executor"]

Outcome = tuple[object, object, BaseException | None]  # (task, result, error)


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


def _exit_with_parent(parent: Connection) -> None:
    """Wait until the parent's end of the pipe closes (nothing is ever sent), then end this process
    at once: a worker whose parent is gone has no one to hand its result to."""
    try:
        parent.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


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

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator[Outcome]:
        # a submission may start a worker process; cut short, the half-started worker would be left
        # behind, unknown to the pool: signals wait until every task is submitted
        with signals_held():
            pending: dict[Future, object] = {self._pool.submit(fn, task): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    error = future.exception()
                    yield (task, None, error) if error is not None else (task, future.result(), None)
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._close_pipe()

    def abort(self, timeout_s: float = 5.0) -> None:
        """Terminate the worker processes (SIGTERM, then SIGKILL after `timeout_s`) and wait for them."""
        if self._stopped:
            return
        self._stopped = True
        # the pool has no public way to stop running tasks before Python 3.14 (terminate_workers)
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout_s)
            if process.is_alive():
                process.kill()
                process.join()
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
