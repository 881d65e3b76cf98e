"""Where tasks run: a local thread pool (FFmpeg subprocesses give process-level parallelism) or Dask.

This module is the only place that makes pools or counts cores: the pipeline, the optimizers'
probes, compare and batch all take an executor from here.

``--scheduler`` picks the place: unset for the local pool, ``local:N`` for a loopback Dask
``LocalCluster`` of N single-threaded worker processes, or the address of a running scheduler
(``tcp://host:8786``). Dask is imported only when asked for.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import ShotencError

# Tasks are never deduplicated (``pure=False``): two identical submissions are two encodes, and
# the chunk receipts, not Dask, decide what is reused. Failures raised by a task (a bad file, an
# FFmpeg error) are deterministic, so they are not retried. A worker that dies is the scheduler's
# business: its tasks are rescheduled until ``distributed.scheduler.allowed-failures`` deaths,
# after which the title fails with ``KilledWorker``.


def cores() -> int:
    """The cores this process may use (its CPU affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def thread_pool(workers: int | None = None, name: str = "shotenc-task") -> ThreadPoolExecutor:
    """A local pool: ``workers`` threads (default: one per core), each driving one FFmpeg process."""
    return ThreadPoolExecutor(max_workers=max(1, workers or cores()), thread_name_prefix=name)


@contextmanager
def borrowed(executor: Executor | None, workers: int | None = None) -> Iterator[Executor]:
    """``executor`` when the caller has one, else a local pool for the duration of the block."""
    if executor is not None:
        yield executor
        return
    pool = thread_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class Runner(AbstractContextManager):
    """An executor for tasks plus what owns it (closed on exit)."""

    scheduler: str | None = None
    jobs: int | None = None
    executor: Executor | None = None
    workers: int = 0  # how many tasks run at once
    client: Any = None
    connect_timeout_s: float = 20.0
    _owned: list = field(default_factory=list)

    def __enter__(self) -> Runner:
        if not self.scheduler:
            self.workers = self.jobs or cores()
            self.executor = thread_pool(self.workers)
            self._owned.append(lambda: self.executor.shutdown(wait=True, cancel_futures=True))
            return self
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ShotencError("--scheduler needs Dask: pip install 'dask[distributed]'") from exc
        m = re.fullmatch(r"local(?::(\d+))?", self.scheduler)
        try:
            if m:
                n = int(m.group(1) or self.jobs or cores())
                if n < 1:
                    raise ShotencError("--scheduler local:N needs N >= 1")
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                    silence_logs=logging.ERROR,
                )
                self._owned.append(cluster.close)
                self.client = Client(cluster)
            else:
                self.client = Client(self.scheduler, timeout=f"{self.connect_timeout_s}s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise ShotencError(f"cannot reach Dask scheduler {self.scheduler}: {exc}") from None
        self._owned.append(self.client.close)
        self.workers = max(1, sum(self.client.nthreads().values()))
        self.executor = self.client.get_executor(pure=False)
        return self

    @property
    def chunk_threads(self) -> int:
        """Threads per chunk encode: the cores shared among the local pool's tasks; one per task on Dask."""
        return max(1, cores() // self.workers) if self.client is None else 1

    def close(self) -> None:
        while self._owned:
            try:
                self._owned.pop()()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def __exit__(self, *exc: object) -> None:
        self.close()


class TaskGroup(Executor):
    """The tasks of one title on a shared executor, so a failure can wait for all of them to stop.

    A title that fails must not clean up while its other tasks still write (a stitch still
    filling the staging folder would leave it behind): :meth:`settle` cancels what has not
    started and waits for what has.
    """

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.futures: list[Future] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        fut = self.executor.submit(fn, *args, **kwargs)
        self.futures.append(fut)
        return fut

    def settle(self) -> None:
        for fut in self.futures:
            fut.cancel()
        wait([f for f in self.futures if not f.cancelled()])
