"""When to clear ttnn's program cache: a budget in bytes of the L1_SMALL that cached conv programs pin.

What fills L1_SMALL: every conv (conv1d, conv2d and the halo step in front of it) keeps small config
tensors there (the halo's padding/gather tables, the conv's reader indices) for as long as its compiled
program sits in the program cache: one set per conv and input shape. Nothing else in this pipeline
allocates L1_SMALL. ttnn never evicts single programs, so the only way to free them is to clear the
whole cache (which also drops the prepared conv weights: they are re-prepared on the next call).
Measured on the mock devices with full-size checkpoints, one (model, length bucket) key pins about
16-25 KiB per bank for the converter and 20-32 KiB for a MeloTTS bucket (README, "Output length").

ttnn's `Conv2dConfig.config_tensors_in_dram` would move these tables to DRAM, but it has open
correctness bugs for the kinds of conv used here (depthwise convs, 1-D convs: tt-metal #47799, #35207,
tt-mlir #9276), so the tables stay in L1_SMALL, the path proven on hardware, and this budget decides.

Each key's footprint is measured on its first run (the allocator's per-bank total, before and after).
Before a new key the cache is cleared only if the free L1_SMALL is below the largest footprint seen so
far (times `margin`), or below `first_reserve` before anything was measured. Keys already compiled
cost nothing. Without a meter (the emulation has no L1_SMALL) nothing is ever cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Meter = Callable[[], tuple[int, int]]  # -> (bytes allocated, bytes in total) of L1_SMALL per bank


@dataclass
class ProgramBudget:
    meter: Meter | None = None
    first_reserve: int = 48 * 1024
    margin: float = 1.25
    shapes: list[tuple] = field(default_factory=list)  # keys whose programs are cached, in first-use order
    footprints: dict[tuple, int] = field(default_factory=dict)  # measured L1_SMALL bytes per bank per key
    _measuring: tuple | None = None
    _before: int = 0

    def reserve(self) -> int:
        """Free bytes per bank a new key must find, or the cache is cleared first."""
        if not self.footprints:
            return self.first_reserve
        return int(max(self.footprints.values()) * self.margin)

    def admit(self, key: tuple, clear: Callable[[], None]) -> None:
        """Declare that `key` runs next: clears the cache (through `clear`) if a new key may not fit."""
        self.settle()
        if key in self.shapes:
            return
        if self.meter is not None and self.shapes:
            allocated, total = self.meter()
            if total - allocated < self.reserve():
                clear()
                self.shapes.clear()
        self.shapes.append(key)
        if self.meter is not None:
            self._measuring, self._before = key, self.meter()[0]

    def settle(self) -> None:
        """Record the footprint of the key being measured (called by `admit`, or at the end of a run)."""
        if self._measuring is not None and self.meter is not None:
            grown = self.meter()[0] - self._before
            self.footprints[self._measuring] = max(grown, self.footprints.get(self._measuring, 0))
        self._measuring = None
