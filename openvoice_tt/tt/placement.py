"""Where each stage runs: the ttnn ops and the host<->device transfers inside every timed stage.

Used by `openvoice-tt placement` and the acceptance script. A stage that runs on the device shows
ttnn ops and no transfers; the host's part (uploading inputs and noise, the one length read,
downloading audio) shows up as transfers between stages ("host boundary").
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from openvoice_tt.timing import StageTimer
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.trace import OpTrace


@dataclass
class StagePlacement:
    stage: str
    seconds: float = 0.0
    ops: Counter = field(default_factory=Counter)
    transfers: int = 0
    flops: int = 0

    @property
    def where(self) -> str:
        if self.transfers and not self.ops:
            return "host"
        return "device" if not self.transfers else "device + transfers"


class PlacementTimer(StageTimer):
    """A StageTimer that also records each stage's ttnn ops and the transfers it made."""

    def __init__(self, device: TtDevice) -> None:
        super().__init__()
        self.device = device
        self.trace: OpTrace = device.ttnn
        self.stages: dict[str, StagePlacement] = {}
        self._depth = 0

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record ttnn ops for the duration of the block only; the ops recorded are dropped afterwards
        (the stages keep their counts) unless recording was already on, so the trace does not grow for the
        life of the process."""
        before, start = self.trace.recording, len(self.trace.calls)
        self.trace.recording = True
        try:
            yield
        finally:
            self.trace.recording = before
            if not before:  # an outer recorder keeps what it asked for
                del self.trace.calls[start:]

    def _transfer_count(self) -> int:
        t = self.device.transfers
        return len(t.uploads) + len(t.downloads) + len(t.scalar_reads)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        if self._depth:  # nested stage: counted by the outer one
            yield
            return
        self._depth += 1
        ops_before, transfers_before, start = len(self.trace.calls), self._transfer_count(), time.perf_counter()
        flops_before = self.trace.flops
        try:
            yield
        finally:
            self._depth -= 1
            record = self.stages.setdefault(stage, StagePlacement(stage))
            record.seconds += time.perf_counter() - start
            record.ops.update(name for name, _ in self.trace.calls[ops_before:])
            record.transfers += self._transfer_count() - transfers_before
            record.flops += self.trace.flops - flops_before
            self.seconds[stage] = record.seconds

    def rows(self) -> list[StagePlacement]:
        inside = sum(r.transfers for r in self.stages.values())
        boundary = StagePlacement("host boundary (inputs, noise, length, audio)")
        boundary.transfers = self._transfer_count() - inside
        return [*self.stages.values(), boundary]
