"""Executors: run a batch of sweep runs and yield each outcome as it arrives.

An executor is ``execute(fn, tasks, *, workers, scheduler)`` yielding ``(task, row, error)``:
``row`` is what ``fn(task)`` returned, or ``error`` what it raised. A run whose worker process
died (killed, out of memory) yields :class:`WorkerDiedError`; the driver
(:func:`optiprobe.sweep.runner.run_sweep`) retries or records it. Registered executors:

``processes``
    A :class:`concurrent.futures.ProcessPoolExecutor` with ``spawn`` start (JAX must not be
    forked). When a worker dies the pool breaks and every unfinished run of the batch yields
    :class:`WorkerDiedError`; the driver starts a new pool for those.
``dask``
    A ``distributed`` cluster: ``scheduler="local"`` starts a ``LocalCluster`` of ``workers``
    single-threaded processes (no dashboard); ``tcp://host:port`` connects to a running
    scheduler. A run whose worker dies yields :class:`WorkerDiedError` (``KilledWorker``); the
    local cluster's scheduler does not retry on its own (``allowed-failures: 0``), the driver
    does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from optiprobe.errors import OptiprobeError
from optiprobe.sweep.spec import RunTask
from optiprobe.sweep.task import attempt

__all__ = ["EXECUTORS", "WorkerDiedError"]

Outcome = tuple[RunTask, dict | None, BaseException | None]


class WorkerDiedError(Exception):
    """The process running a task ended before returning (killed, crashed, out of memory)."""


def _processes(
    fn: Callable[[RunTask], dict], tasks: list[RunTask], *, workers: int, scheduler=None
) -> Iterator[Outcome]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(attempt, fn, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield task, future.result(), None
            except BrokenProcessPool as error:
                yield task, None, WorkerDiedError(str(error) or "a worker process died")
            except Exception as error:  # the run's own failure, recorded by the driver
                yield task, None, error


def _client(scheduler: str, workers: int):
    from distributed import Client, LocalCluster

    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="15s"), None
    except (OSError, TimeoutError, ValueError) as error:
        raise OptiprobeError(
            f"cannot connect to the Dask scheduler {scheduler}: {error}",
            location="--scheduler",
            allowed="tcp://host:port of a running `dask scheduler`, or local",
        ) from None


def _dask(
    fn: Callable[[RunTask], dict], tasks: list[RunTask], *, workers: int, scheduler: str
) -> Iterator[Outcome]:
    import dask
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        client, cluster = _client(scheduler, workers)
        try:
            run = functools.partial(attempt, fn)
            futures = {client.submit(run, task, pure=False): task for task in tasks}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield task, future.result(), None
                except KilledWorker as error:
                    yield task, None, WorkerDiedError(f"the Dask worker died: {error}")
                except Exception as error:
                    yield task, None, error
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


EXECUTORS: dict[str, Callable[..., Iterator[Outcome]]] = {"processes": _processes, "dask": _dask}
"""Registry: executor name → ``execute(fn, tasks, *, workers, scheduler)``."""


def executor_for(scheduler: str | None) -> tuple[str, Any]:
    """``processes`` without a scheduler, ``dask`` with ``local`` or ``tcp://…``."""
    if scheduler is None:
        return "processes", None
    if scheduler != "local" and "://" not in scheduler:
        raise OptiprobeError(
            f"unknown scheduler {scheduler!r}",
            location="--scheduler",
            allowed="local (a Dask LocalCluster) or tcp://host:port",
        )
    return "dask", scheduler
