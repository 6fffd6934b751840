"""Per-stage wall-clock timing, for `openvoice-tt bench` and the API's optional timing report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates seconds per named stage; `sync` (e.g. torch.cuda.synchronize) runs at stage edges."""

    def __init__(self, sync: Callable[[], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.sync = sync

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if self.sync is not None:
            self.sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.sync is not None:
                self.sync()
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

    def total(self) -> float:
        return sum(self.seconds.values())

    def prefixed(self, prefix: str) -> PrefixedTimer:
        """The same timer with every stage name prefixed (e.g. the converter's stages inside a clone)."""
        return PrefixedTimer(self, prefix)


class PrefixedTimer:
    def __init__(self, parent: StageTimer, prefix: str) -> None:
        self.parent = parent
        self.prefix = prefix

    def __call__(self, stage: str):
        return self.parent(self.prefix + stage)


class NullTimer(StageTimer):
    """Times nothing; the default so model code can always write `with timer("stage"):`."""

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        yield


NULL_TIMER = NullTimer()
