"""Constant tensors that live on the device and are reused: positions, fills, masks of a fixed pattern.

ttnn's creation ops (`arange`, `zeros`, `full`) build their tensor on the host and copy it to the device
on every call: for a 30 s vocoder mask that is a 169 MB copy per utterance. Here each constant is made
once, on first use of its (what, shape), uploaded through the device's counted path (`TransferLog.constants`)
and kept for the life of the device; a later utterance in the same bucket uploads none.

Positions are one tensor 0, 1, ..., N-1 of the longest length asked for so far; shorter lengths are a
slice of it on the device (so there is one copy, not one per bucket length). Fills are keyed by shape,
value and dtype; `pattern` takes any host-built tensor under a caller-chosen key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import torch

Upload = Callable[[torch.Tensor, Any, str], Any]  # (host tensor, dtype, name) -> device tensor, counted


class ResidentConstants:
    """A per-device cache of constant device tensors (owned by `TtDevice.resident`)."""

    def __init__(self, ttnn: Any, upload: Upload) -> None:
        self.ttnn = ttnn
        self._upload = upload
        self._positions: Any = None
        self._capacity = 0
        self._cache: dict[Hashable, Any] = {}
        self.moves = 0  # times a kept tensor was replaced (positions grown): captured traces read the old one

    def positions(self, length: int) -> Any:
        """[1, 1, length, 1] float32 0, 1, ..., length - 1 (exact: float32 counts to 2**24)."""
        if length > self._capacity:
            self.moves += self._positions is not None
            values = torch.arange(length, dtype=torch.float32).reshape(1, 1, length, 1)
            self._positions = self._upload(values, self.ttnn.float32, f"positions[{length}]")
            self._capacity = length
        if length == self._capacity:
            return self._positions
        return self.ttnn.slice(self._positions, [0, 0, 0, 0], [1, 1, length, 1])

    def filled(self, shape: tuple[int, ...], value: float, dtype: Any) -> Any:
        """A tensor of `shape` holding `value` everywhere (ttnn.full / ttnn.zeros, made once)."""
        return self.pattern(
            ("filled", tuple(shape), float(value), str(dtype)), lambda: torch.full(tuple(shape), float(value)), dtype
        )

    def zero_rows(self, rows: int, dtype: Any) -> Any:
        """[1, 1, rows, 1] zeros (padding a waveform column to its bucket): a slice of one resident block per
        power of two, so every length shares a few small blocks instead of keeping one per length."""
        block = self.filled((1, 1, 1 << (rows - 1).bit_length(), 1), 0.0, dtype)
        return block if block.shape[2] == rows else self.ttnn.slice(block, [0, 0, 0, 0], [1, 1, rows, 1])

    def pattern(self, key: Hashable, build: Callable[[], torch.Tensor], dtype: Any) -> Any:
        """The device copy of `build()` (a host tensor), built and uploaded on the first request for `key`."""
        if key not in self._cache:
            self._cache[key] = self._upload(build(), dtype, str(key[0]) if isinstance(key, tuple) else str(key))
        return self._cache[key]

    def __len__(self) -> int:
        return len(self._cache) + (self._positions is not None)
