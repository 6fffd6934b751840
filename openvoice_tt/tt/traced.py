"""Trace capture and replay of a forward, per length bucket.

Dispatching a forward's thousands of programs is most of its host time; a ttnn trace records the
dispatch commands once and replays them with one call. A forward can be replayed only if it is
traceable: it reads its inputs from preallocated buffers (`slots.py`), makes no host tensor, moves
nothing between host and device and compiles nothing. One trace serves a whole length bucket: the valid
lengths inside it are inputs too (`TtDevice.upload_count`, the counts the padding masks are built from on
the device), so a forward's op graph depends on its bucket only. So each (forward, scalars, inputs) key
runs:

1. eagerly the first time its (forward, scalars, input shapes) runs since the program cache was last
   cleared: compiles its programs and makes the resident constants and prepared conv weights it needs;
2. captured the next time, if every input is pinned (an input slot, or an output of a captured trace:
   a buffer that stays put), then executed: the outputs are tensors that every replay refills;
3. replayed from then on (`execute_trace`, non-blocking: reads of an output wait for it).

`scalars` are the Python values a forward bakes into its programs (bucket lengths, sampling parameters):
a different value is a different trace; a valid length never is one. `inputs` are the device tensors it
reads; a replay returns the same output objects as the capture, so a caller that keeps an output past the
next replay of the same key copies it. A trace is valid while the device's epoch (`TtDevice.epoch`) is
the one it was captured in: a program cache clear, a resident constant that moved or a dropped input
slot release it.

On a chip (`TraceSettings.enabled` None or True) capture uses ttnn's trace. The emulation, when asked,
records the op calls (`OpTrace.start_tape`) and replays them with `host_ttnn.execute_tape`, which reads
exactly what a chip replay reads, so a test can prove that a replay with new inputs computes what an
eager run computes. A capture that moves data to or from the host, or compiles a conv's weights,
fails (a chip would fail or replay stale data).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from openvoice_tt.tt.slots import InputSlots

T = TypeVar("T")
COMPUTE_QUEUE = 0


class TracingDevice(Protocol):
    """What `Traces` reads of its device (`tt.device.TtDevice` is one). A protocol rather than an import of
    device.py, which builds each device's `Traces`: the dependency points one way, device -> traced."""

    ttnn: Any  # the op namespace: trace capture and replay (emulation: tape recording)
    handle: Any  # the ttnn device a chip's trace calls name
    generation: int  # program cache clears so far
    transfers: Any  # a `TransferLog`: its `summary()` must not change while a forward is captured
    slots: InputSlots

    @property
    def is_emulation(self) -> bool: ...

    def epoch(self) -> tuple[int, ...]: ...


@dataclass
class Captured:
    """One captured forward: its trace (a chip's id, or the emulation's op list), what it reads and returns."""

    trace: Any
    inputs: tuple[Any, ...]  # held, so their buffers (and the ids in the key) stay theirs
    outputs: Any
    epoch: tuple[int, ...]


@dataclass
class Traces:
    device: TracingDevice
    enabled: bool
    capacity: int = 8
    captured: OrderedDict[Hashable, Captured] = field(default_factory=OrderedDict)
    captures: int = 0  # traces captured so far
    replays: int = 0  # runs served by replaying a trace captured before them
    _warm: dict[Hashable, int] = field(default_factory=dict)  # (name, scalars, shapes) -> generation of its eager run

    def run(self, name: str, scalars: Hashable, inputs: Sequence[Any], forward: Callable[..., T]) -> T:
        """`forward(*inputs)`, eagerly, captured or replayed (module docstring)."""
        if not self.enabled:
            return forward(*inputs)
        inputs = tuple(inputs)
        shapes = tuple(tuple(t.shape) for t in inputs)
        key, warm = (name, scalars, shapes, tuple(id(t) for t in inputs)), (name, scalars, shapes)
        epoch = self.device.epoch()
        entry = self.captured.get(key)
        if entry is not None and entry.epoch != epoch:
            self._release(key)
            entry = None
        if entry is not None:
            self.replays += 1
        elif self._warm.get(warm) == self.device.generation and all(self._pinned(t) for t in inputs):
            entry = self._capture(key, inputs, forward, epoch)
        else:
            self._warm[warm] = self.device.generation
            return forward(*inputs)
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

    def _pinned(self, tensor: Any) -> bool:
        """Whether `tensor` keeps its buffer from run to run: an input slot or a captured trace's output."""
        if self.device.slots.holds(tensor):
            return True
        return any(tensor is out for entry in self.captured.values() for out in _tensors(entry.outputs))

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


def _tensors(outputs: Any) -> list[Any]:
    """The device tensors in a forward's outputs (a tensor, or tuples and dataclasses of them and ints)."""
    if isinstance(outputs, tuple | list):
        return [t for item in outputs for t in _tensors(item)]
    if is_dataclass(outputs):
        return [t for f in fields(outputs) for t in _tensors(getattr(outputs, f.name))]
    return [outputs] if hasattr(outputs, "shape") else []
