"""`spread`: items run on several pipeline replicas at once, one thread per replica.

Why: `--devices` gives a process one replica per chip (or GPU), each with its own models on its own device.
A thread per replica takes the next item as soon as its last one is done, so a long item on one chip never
holds the others up; the caller gets each result as it finishes and writes it (one writer, in the calling
thread, which also takes the items from their source). Each replica's thread runs one item at a time: no
chip is driven by two threads.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

R = TypeVar("R")  # a replica: whatever holds one chip's models
J = TypeVar("J")  # an item of work
T = TypeVar("T")  # what running an item on a replica gives

_END = object()


class Finished(Generic[J, T]):
    """One item's end: its `result`, or the `error` it raised (the item's own failure), and the replica's
    place in the list (`replica`) that ran it."""

    def __init__(self, item: J, replica: int, result: T | None = None, error: BaseException | None = None) -> None:
        self.item, self.replica, self.result, self.error = item, replica, result, error


def spread(items: Iterable[J], replicas: Sequence[R], run: Callable[[R, J], T]) -> Iterator[Finished[J, T]]:
    """Run every item of `items` with `run(replica, item)`, one thread per replica, yielding each `Finished`
    as it ends. `items` is advanced in the calling thread only, one item ahead per replica as replicas come
    free (so a lazy source, such as a batch's jobs made as they are taken, never runs in two threads). An
    item's exception is its own (`error`); the others go on. Closing the iterator early (or an exception in
    the caller, Ctrl-C included) lets each replica finish the item it is running and take no other; the
    threads have ended when it returns."""
    if len(replicas) == 1:  # no thread: the caller's own, as a single-replica run always was
        for item in items:
            try:
                yield Finished(item, 0, result=run(replicas[0], item))
            except Exception as e:  # the item's failure, the caller's to report
                yield Finished(item, 0, error=e)
        return
    tasks: queue.Queue[Any] = queue.Queue()
    done: queue.Queue[Finished[J, T]] = queue.Queue()

    def work(place: int, replica: R) -> None:
        while (item := tasks.get()) is not _END:
            try:
                done.put(Finished(item, place, result=run(replica, item)))
            except Exception as e:  # the item's failure, handed to the caller
                done.put(Finished(item, place, error=e))

    threads = [
        threading.Thread(target=work, args=(place, replica), name=f"openvoice-tt-replica-{place}", daemon=True)
        for place, replica in enumerate(replicas)
    ]
    for thread in threads:
        thread.start()
    source = iter(items)
    running = 0
    try:
        for _ in threads:  # an item for each replica; then the next one each time a replica comes free
            item = next(source, _END)
            if item is _END:
                break
            tasks.put(item)
            running += 1
        while running:
            finished = done.get()
            running -= 1
            item = next(source, _END)
            if item is not _END:
                tasks.put(item)
                running += 1
            yield finished
    finally:
        with contextlib.suppress(queue.Empty):  # items not yet taken are not run
            while True:
                tasks.get_nowait()
        for _ in threads:
            tasks.put(_END)
        for thread in threads:
            thread.join()
