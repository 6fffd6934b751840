"""Pipeline replicas, one per chip (or GPU), and `spread`: items run on several replicas at once.

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from openvoice_tt.api.cloner import VoiceCloner
    from openvoice_tt.api.pool import TTSPool
    from openvoice_tt.languages import Language

R = TypeVar("R")  # a replica: whatever holds one chip's models
J = TypeVar("J")  # an item of work
T = TypeVar("T")  # what running an item on a replica gives

_END = object()


@dataclass
class Replica:
    """One chip's (or GPU's) models: `pool` (a TTS per language, loaded on first use) and `cloner` (the
    converter and the TTS of the first installed language), both on chip or GPU `index`."""

    pool: TTSPool
    cloner: VoiceCloner
    index: int = 0

    def cloner_for(self, language: Language) -> VoiceCloner:
        """A cloner over `language`'s TTS on this replica (loaded now if it is its first use) and its converter."""
        from openvoice_tt.api.cloner import VoiceCloner

        if language is self.cloner.tts.language:
            return self.cloner
        return VoiceCloner(tts=self.pool.get(language), converter=self.cloner.converter)


def load_replicas(checkpoints: Path | None, device: str, precision: str, indices: Sequence[int]) -> list[Replica]:
    """A replica on each chip or GPU of `indices` (opened already: `resolve_replicas`), each with the first
    installed language and the converter loaded now (a broken model fails at start, not at first use)."""
    from openvoice_tt.api.cloner import VoiceCloner
    from openvoice_tt.api.converter import ToneColorConverter
    from openvoice_tt.api.pool import TTSPool
    from openvoice_tt.api.voices import find_base_speaker

    first = find_base_speaker(checkpoints, None)
    replicas = []
    for index in indices:
        pool = TTSPool(checkpoints, device, precision=precision, device_index=index)
        converter = ToneColorConverter(checkpoints, device, precision=precision, device_index=index)
        replicas.append(Replica(pool, VoiceCloner(tts=pool.get(first.language), converter=converter), index))
    return replicas


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
    if not replicas:
        raise ValueError("spread needs at least one replica")
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
    failure: BaseException | None = None  # the source's own exception: raised once the running items are in
    running = 0

    def feed() -> None:
        nonlocal failure, running
        if failure is not None:
            return
        try:
            item = next(source, _END)
        except Exception as e:  # the caller's (the source's) error, not an item's: raised after the others
            failure = e
            return
        if item is not _END:
            tasks.put(item)
            running += 1

    try:
        for _ in threads:  # an item for each replica; then the next one each time a replica comes free
            feed()
        while running:
            finished = done.get()
            running -= 1
            feed()
            yield finished
        if failure is not None:
            raise failure
    finally:
        with contextlib.suppress(queue.Empty):  # items not yet taken are not run
            while True:
                tasks.get_nowait()
        for _ in threads:
            tasks.put(_END)
        for thread in threads:
            thread.join()
