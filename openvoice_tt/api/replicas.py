"""`spread`: items run on several pipeline replicas at once, one thread per replica.

Why: `--devices` gives a process one replica per chip (or GPU), each with its own models on its own device.
A thread per replica takes the next item as soon as its last one is done, so a long item on one chip never
holds the others up; the caller gets each result as it finishes and writes it (one writer, in the calling
thread). Each replica's thread runs one item at a time: no chip is driven by two threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

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
    """Run every item of `items` (taken in order, as replicas come free) with `run(replica, item)`, one
    thread per replica, yielding each `Finished` as it ends. An item's exception is its own (`error`); the
    others go on. Closing the iterator early (or an exception in the caller, Ctrl-C included) lets each
    replica finish the item it is running and take no other; the threads have ended when it returns."""
    if len(replicas) == 1:  # no thread: the caller's own, as a single-replica run always was
        for item in items:
            try:
                yield Finished(item, 0, result=run(replicas[0], item))
            except Exception as e:  # the item's failure, the caller's to report
                yield Finished(item, 0, error=e)
        return
    source = iter(items)
    take = threading.Lock()
    stop = threading.Event()
    done: queue.Queue[Finished[J, T] | object] = queue.Queue()

    def work(place: int, replica: R) -> None:
        try:
            while not stop.is_set():
                with take:
                    item = next(source, _END)
                if item is _END:
                    return
                try:
                    done.put(Finished(item, place, result=run(replica, item)))
                except Exception as e:  # the item's failure, handed to the caller
                    done.put(Finished(item, place, error=e))
        finally:
            done.put(_END)

    threads = [
        threading.Thread(target=work, args=(place, replica), name=f"openvoice-tt-replica-{place}", daemon=True)
        for place, replica in enumerate(replicas)
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            finished = done.get()
            if finished is _END:
                running -= 1
            else:
                yield finished  # type: ignore[misc]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
