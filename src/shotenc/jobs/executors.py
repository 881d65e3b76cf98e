"""Where tasks run: a local thread pool (FFmpeg subprocesses give process-level parallelism) or Dask.

``--scheduler`` picks the place: unset for the local pool, ``local:N`` for a loopback Dask
``LocalCluster`` of N single-threaded worker processes, or the address of a running scheduler
(``tcp://host:8786``). Dask is imported only when asked for.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from ..errors import ShotencError

# Tasks are never deduplicated (``pure=False``): two identical submissions are two encodes, and
# the chunk receipts, not Dask, decide what is reused. Failures raised by a task (a bad file, an
# FFmpeg error) are deterministic, so they are not retried. A worker that dies is the scheduler's
# business: its tasks are rescheduled until ``distributed.scheduler.allowed-failures`` deaths,
# after which the title fails with ``KilledWorker``.


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
        from ..pipeline import default_jobs

        if not self.scheduler:
            self.workers = self.jobs or default_jobs()
            self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="shotenc-task")
            self._owned.append(lambda: self.executor.shutdown(wait=True, cancel_futures=True))
            return self
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ShotencError("--scheduler needs Dask: pip install 'dask[distributed]'") from exc
        m = re.fullmatch(r"local(?::(\d+))?", self.scheduler)
        try:
            if m:
                n = int(m.group(1) or self.jobs or default_jobs())
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
    def encode_jobs(self) -> int:
        """``EncodeOptions.jobs`` to use: on Dask one chunk is one single-threaded task per worker thread."""
        from ..pipeline import default_jobs

        return self.workers if self.client is None else max(self.workers, default_jobs())

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
