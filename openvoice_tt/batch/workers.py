"""Who computes a batch's items: the seam between the driver, which writes, and the workers, which speak.

`run_batch` (the driver) decides what runs (the list, the guard, resume's record and fingerprints) and
writes every output, record line and report itself, in one place, whoever made the audio. A `Workers`
only turns `Job`s into `Finished` audio: `LocalWorkers` on the in-process `Engine`, one item after the
other (the batch as it always ran, byte for byte); `batch.ray_workers.RayWorkers` on a Ray cluster, one
actor per device slot; `ReplicaWorkers` (`--devices`) on one engine per local chip or GPU, each an
`Engine(**engine.settings())` with its own `device_index`, a thread each. The driver does not change.

Audio is the same whoever computes it, on the same device, precision, torch thread count and CPU instruction
set (torch's sums can round otherwise; a Ray CPU worker takes the driver's thread count): every item's
noise comes from its own seed (`noise.NoiseSource(options.seed)`, made afresh per call), and nothing an
engine keeps between items (loaded models, embeddings) changes what an item sounds like.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from openvoice_tt.batch.engine import Engine
from openvoice_tt.batch.items import Item, Options
from openvoice_tt.batch.messages import reason

if TYPE_CHECKING:
    from openvoice_tt.api import BaseSpeaker, Progress, Speech


@dataclass(frozen=True)
class Job:
    """One item on its way to a worker: the item, its options with the batch's defaults applied, and who
    speaks it (the driver looked the speaker up, for the report)."""

    item: Item
    options: Options
    base: BaseSpeaker


@dataclass(frozen=True)
class Finished:
    """What a worker hands back for a job: its audio, or the one-line reason it failed; `elapsed` is the
    worker's seconds on it; `retried` says, per earlier attempt, why that attempt was lost (a worker that
    died while running it), so the report can name the items that ran twice; `attempts` is how many
    workers ran it (the lost ones included): 1 for an item run once, 0 for one no worker ran."""

    job: Job
    speech: Speech | None = None
    error: str | None = None
    elapsed: float = 0.0
    retried: tuple[str, ...] = ()
    attempts: int = 1


Dispatched = Callable[[Job], None]
"""Called as a job is handed to a worker (the driver's progress: which item is under way)."""


class Workers(Protocol):
    """An executor of a batch's jobs. `start` loads the models the pending items need (before the first
    item: a missing checkpoint or package stops the batch at once); `run` yields every job's `Finished`
    exactly once, in the order they finish (`jobs` are made as they are taken, so take them in order);
    `device_used` and `precision_used` are for the report, as `Engine`'s say them."""

    def start(self, kinds: set[str], voices: Sequence[Options], texts: Sequence[str | None]) -> None: ...

    def run(self, jobs: Iterable[Job], dispatched: Dispatched) -> Iterator[Finished]: ...

    @property
    def device_used(self) -> str | None: ...

    @property
    def precision_used(self) -> dict[str, dict[str, str] | None]: ...


class LocalWorkers:
    """The in-process engine, one item after the other in list order; `on_chunk` sees each chunk."""

    def __init__(self, engine: Engine, on_chunk: Progress | None = None) -> None:
        self.engine = engine
        self.on_chunk = on_chunk

    def start(self, kinds: set[str], voices: Sequence[Options], texts: Sequence[str | None]) -> None:
        self.engine.load(kinds, voices, texts)

    def run(self, jobs: Iterable[Job], dispatched: Dispatched) -> Iterator[Finished]:
        for job in jobs:
            dispatched(job)
            yield speak(self.engine, job, self.on_chunk)

    @property
    def device_used(self) -> str | None:
        return self.engine.device_used

    @property
    def precision_used(self) -> dict[str, dict[str, str] | None]:
        return self.engine.precision_used


class ReplicaWorkers:
    """`batch --devices`: an engine per chip (or GPU), `Engine(**engine.settings())` on each of `indices`,
    items spread over them a thread each (`api.replicas.spread`: the next item goes to the first replica
    free). Chunk progress is not shown: several items run at once."""

    def __init__(self, engine: Engine, indices: Sequence[int]) -> None:
        self.engines = [Engine(**(engine.settings() | {"device_index": index})) for index in indices]

    def start(self, kinds: set[str], voices: Sequence[Options], texts: Sequence[str | None]) -> None:
        for engine in self.engines:  # every replica's models, before the first item
            engine.load(kinds, voices, texts)

    def run(self, jobs: Iterable[Job], dispatched: Dispatched) -> Iterator[Finished]:
        from openvoice_tt.api.replicas import spread

        def run(engine: Engine, job: Job) -> Finished:
            dispatched(job)
            return speak(engine, job)

        for finished in spread(jobs, self.engines, run):
            if finished.error is not None:  # not an item's failure (`speak` reports those): a bug, raised
                raise finished.error
            assert finished.result is not None
            yield finished.result

    @property
    def device_used(self) -> str | None:
        return self.engines[0].device_used

    @property
    def precision_used(self) -> dict[str, dict[str, str] | None]:
        return self.engines[0].precision_used


def speak(engine: Engine, job: Job, on_chunk: Progress | None = None, **speak_args: Any) -> Finished:
    """One job on `engine`: its audio, or its failure as the report's one-line reason (the item alone
    fails); every worker speaks through here, so a reason reads the same whoever computed the item."""
    start = time.perf_counter()
    try:
        speech = engine.speak(job.item, job.options, job.base, on_chunk, **speak_args)
    except Exception as e:  # this item's failure, reported; the others go on
        return Finished(job, error=reason(e), elapsed=time.perf_counter() - start)
    return Finished(job, speech=speech, elapsed=time.perf_counter() - start)
