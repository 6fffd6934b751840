"""Preallocated device tensors for the per-utterance inputs: one buffer per input name and shape.

A captured trace (`traced.py`) replays device commands whose buffer addresses were fixed at capture,
so each tensor a forward reads from the host must arrive in the same buffer every time. Inputs are
padded to length buckets and the valid lengths are [1, 1, 1, 1] counts (`TtDevice.upload_count`), so
(name, shape, dtype, layout) names one slot per bucket: the first upload allocates it, later uploads copy
into it (`TtDevice.upload`).

Slots live as long as the device, like compiled programs, but a name keeps at most `per_name` shapes
(the least recently used one is dropped beyond that), so a session that meets many lengths (an
unpadded waveform, say) does not fill the DRAM with stale inputs. Each drop counts in `evictions`,
which invalidates the traces that might read the dropped buffer (`TtDevice.epoch`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

Key = tuple[str, tuple[int, ...], str, str]  # name, shape, dtype, layout


class InputSlots:
    def __init__(self, per_name: int = 4) -> None:
        self.per_name = per_name
        self._slots: OrderedDict[Key, Any] = OrderedDict()
        self.evictions = 0

    def get(self, key: Key) -> Any | None:
        """The slot of `key` (most recently used from now on), or None before its first upload."""
        slot = self._slots.get(key)
        if slot is not None:
            self._slots.move_to_end(key)
        return slot

    def add(self, key: Key, tensor: Any) -> Any:
        """Keep `tensor` (freshly uploaded) as the slot of `key`; drop the name's oldest shape if over budget."""
        self._slots[key] = tensor
        same_name = [k for k in self._slots if k[0] == key[0]]
        for stale in same_name[: max(0, len(same_name) - self.per_name)]:
            del self._slots[stale]
            self.evictions += 1
        return tensor

    def holds(self, tensor: Any) -> bool:
        return any(slot is tensor for slot in self._slots.values())

    def __len__(self) -> int:
        return len(self._slots)
