"""The device workers: every request that computes runs on a replica's thread, one at a time per replica.

Why: a device (a Tenstorrent chip, a GPU) and the models loaded on it are not to be shared between
requests, and a server that queues without bound only answers later and later. `DeviceQueue` runs `Job`s
in order, each on the first free replica (one thread per replica: one per chip with `serve --devices`, else
one), and refuses (503 at once) a request when `limit` are already running or waiting. A job hands its
pieces over through a small queue, so a client that reads slowly holds its replica and one that leaves
releases it at the next piece.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from openvoice_tt.server.errors import ApiError
from openvoice_tt.server.warnings import ROUTER

DONE = object()  # the end of a job's pieces


class Job:
    """One request's work: `produce(replica)` yields pieces, computed with the models of the replica that
    runs it, which the worker hands over through a small queue
    (so a client that reads slowly holds the device, and one that leaves releases it at the next piece).
    `warnings` collects what the work warned about, in order, once each; whatever came before a piece is
    there when the reader gets that piece."""

    def __init__(self, produce: Callable[[Any], Iterator[Any]], timeout: float) -> None:
        self.produce = produce
        self.timeout = timeout  # a reader that takes nothing for this long is taken to have gone
        self.out: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.cancelled = threading.Event()
        self.warnings: list[str] = []

    def hand_over(self, item: Any) -> bool:
        """Put `item` for the reader; False once the reader has gone."""
        deadline = time.monotonic() + self.timeout
        while not self.cancelled.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Full):
                self.out.put(item, timeout=0.1)
                return True
        self.cancelled.set()
        return False

    def wake(self) -> None:
        """Let a reader still waiting see the end (the worker is done with this job)."""
        with contextlib.suppress(queue.Full):
            self.out.put_nowait(DONE)

    def next(self, timeout: float) -> Any:
        """The next piece, DONE, or the exception the work raised (blocking; run it in a thread)."""
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            return ApiError(504, "timed out waiting for audio", kind="server_error")


class DeviceQueue:
    """Runs jobs on one worker thread per replica, each replica one job at a time; refuses a job when
    `limit` are running or waiting."""

    def __init__(self, limit: int, replicas: Sequence[Any] = (None,)) -> None:
        self.limit = limit
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.pending = 0
        self.lock = threading.Lock()
        self.warnings = ROUTER
        self.workers = [
            threading.Thread(target=self._work, args=(replica,), name=f"openvoice-tt-device-{n}", daemon=True)
            for n, replica in enumerate(replicas)
        ]
        for worker in self.workers:
            worker.start()

    def submit(self, job: Job) -> None:
        with self.lock:
            if self.pending >= self.limit:
                raise ApiError(
                    503,
                    f"server busy: {self.pending} requests running or queued (limit {self.limit})",
                    code="server_busy",
                )
            self.pending += 1
        self.jobs.put(job)

    def stop(self) -> None:
        """Let every worker end after the jobs already queued (stopping twice is harmless)."""
        for _ in self.workers:
            self.jobs.put(None)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds in all for the workers to end (after `stop`): True if all have."""
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in self.workers)

    def _work(self, replica: Any) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                if not job.cancelled.is_set() and self._run(job, replica):
                    job.hand_over(DONE)
            except Exception as e:  # handed to the request, which answers it as JSON
                job.hand_over(e)
            finally:
                job.wake()
                with self.lock:
                    self.pending -= 1

    def _run(self, job: Job, replica: Any) -> bool:
        """Hand over every piece of `job`; False if its reader left. Warnings are collected only while the
        work runs, so the end (or the error) reaches the reader after the collecting has stopped."""
        with self.warnings.collecting(job.warnings), contextlib.closing(job.produce(replica)) as pieces:
            return all(job.hand_over(piece) for piece in pieces)
