"""Trace capture and replay of a forward, per length bucket.

Dispatching a forward's thousands of programs is most of its host time; a ttnn trace records the
dispatch commands once and replays them with one call. A forward can be replayed only if it is
traceable: it reads its inputs from preallocated buffers (`slots.py`), makes no host tensor, moves
nothing between host and device and compiles nothing. So each (forward, scalars, inputs) key runs:

1. eagerly the first time in an epoch (`TtDevice.epoch`): compiles its programs and makes the resident
   constants and prepared conv weights it needs;
2. captured the second time, then executed: the outputs are tensors that every later replay refills;
3. replayed from then on (`execute_trace`, non-blocking: reads of an output wait for it).

`scalars` are the Python values a forward bakes into its programs (valid lengths, sampling parameters):
a different value is a different trace. `inputs` are the device tensors it reads; a replay returns the
same output objects as the capture, so a caller that keeps an output past the next replay of the same
key copies it. The epoch changes when the program cache is cleared or a buffer a trace may read moves;
traces of an older epoch are released and the key starts again at step 1.

On a chip (`TraceSettings.enabled` None or True) capture uses ttnn's trace. The emulation, when asked,
records the op calls (`OpTrace.start_tape`) and replays them with `host_ttnn.execute_tape`, which reads
exactly what a chip replay reads, so a test can prove that a replay with new inputs computes what an
eager run computes. A capture that moves data to or from the host, or compiles a conv's weights,
fails (a chip would fail or replay stale data).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from openvoice_tt.tt.device import TtDevice

T = TypeVar("T")
COMPUTE_QUEUE = 0


@dataclass
class Captured:
    """One captured forward: its trace (a chip's id, or the emulation's op list), what it reads and returns."""

    trace: Any
    inputs: tuple[Any, ...]  # held, so their buffers (and the ids in the key) stay theirs
    outputs: Any
    epoch: tuple[int, ...]


@dataclass
class Traces:
    device: TtDevice
    enabled: bool
    capacity: int = 8
    captured: OrderedDict[Hashable, Captured] = field(default_factory=OrderedDict)
    captures: int = 0  # traces captured so far
    replays: int = 0  # runs served by replaying a trace captured before them
    _warm: dict[Hashable, tuple[int, ...]] = field(default_factory=dict)  # key -> epoch of its eager run

    def run(self, name: str, scalars: Hashable, inputs: Sequence[Any], forward: Callable[..., T]) -> T:
        """`forward(*inputs)`, eagerly, captured or replayed (module docstring)."""
        if not self.enabled:
            return forward(*inputs)
        inputs = tuple(inputs)
        key = (name, scalars, tuple((id(t), tuple(t.shape)) for t in inputs))
        epoch = self.device.epoch()
        entry = self.captured.get(key)
        if entry is not None and entry.epoch != epoch:
            self._release(key)
            entry = None
        if entry is None:
            if self._warm.get(key) != epoch:
                self._warm[key] = epoch
                return forward(*inputs)
            entry = self._capture(key, inputs, forward, epoch)
        else:
            self.replays += 1
        self.captured.move_to_end(key)
        self._execute(entry)
        return entry.outputs

    def _capture(self, key: Hashable, inputs: tuple[Any, ...], forward: Callable[..., T], epoch: tuple) -> Captured:
        while len(self.captured) >= self.capacity:
            self._release(next(iter(self.captured)))
        device, ttnn = self.device, self.device.ttnn
        moved = device.transfers.summary()
        if device.is_emulation:
            ttnn.start_tape()
            try:
                outputs = forward(*inputs)
            finally:
                trace = ttnn.stop_tape()
        else:
            trace = ttnn.begin_trace_capture(device.handle, cq_id=COMPUTE_QUEUE)
            outputs = forward(*inputs)
            ttnn.end_trace_capture(device.handle, trace, cq_id=COMPUTE_QUEUE)
        if device.transfers.summary() != moved or device.epoch() != epoch:
            raise RuntimeError(f"{key[0]}: a captured forward moved data between host and device")
        entry = Captured(trace, inputs, outputs, epoch)
        self.captured[key] = entry
        self.captures += 1
        return entry

    def _execute(self, entry: Captured) -> None:
        device = self.device
        if device.is_emulation:
            device.ttnn.execute_tape(entry.trace)
        else:
            device.ttnn.execute_trace(device.handle, entry.trace, cq_id=COMPUTE_QUEUE, blocking=False)

    def _release(self, key: Hashable) -> None:
        entry = self.captured.pop(key)
        if not self.device.is_emulation:
            self.device.ttnn.release_trace(self.device.handle, entry.trace)

    def release_all(self) -> None:
        """Release every trace (before the program cache they replay is cleared, or the device closes)."""
        for key in list(self.captured):
            self._release(key)
        self._warm.clear()
