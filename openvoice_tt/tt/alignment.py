"""ttnn twin of `reference/alignment.py`: durations -> alignment path -> frame-level prior, on device.

Durations, their cumulative sums and the frame indices stay float32 (exact integers far beyond the
256 where bf16 stops being exact). The total frame count is the one scalar the host reads per chunk:
it sizes the frame axis (rounded up to a bucket so programs are reused) and the prior noise. Frame j
takes token i when start_i <= j < end_i, with end = cumsum(durations) (prefix sums) and
start = end - duration; the path is a 0/1 matrix and the expansion one float32 matmul.
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import compute_config
from openvoice_tt.tt.settings import MathConfig


class Alignment:
    def __init__(self, device: TtDevice, math: MathConfig) -> None:
        self.device = device
        self.ttnn = device.ttnn
        self.compute = compute_config(device, math)

    def durations(self, logw: Any, mask: Any | None, length_scale: float) -> Any:
        """[1, 1, T, 1] log-durations -> ceil(exp(logw) * length_scale) frames (0 on padding), float32."""
        ttnn = self.ttnn
        w = ttnn.multiply(ttnn.typecast(ttnn.exp(logw), ttnn.float32), length_scale)
        if mask is not None:
            w = ttnn.multiply(w, ttnn.typecast(mask, ttnn.float32))
        return ttnn.ceil(w)

    def total(self, durations: Any) -> Any:
        """Sum of the durations: a [1]-element device tensor (read once by the host)."""
        return self.ttnn.sum(durations, compute_kernel_config=self.compute)

    def path(self, durations: Any, frames: int) -> Any:
        """[1, 1, T_x, 1] durations -> path [1, 1, T_y, T_x]: 1 where frame j belongs to token i."""
        ttnn = self.ttnn
        ends = ttnn.transpose(ttnn.cumsum(durations, dim=2), -2, -1)  # [1, 1, 1, T_x]
        starts = ttnn.subtract(ends, ttnn.transpose(durations, -2, -1))
        positions = self.device.resident.positions(frames)  # [1, 1, T_y, 1]
        return ttnn.multiply(ttnn.ge(positions, starts), ttnn.lt(positions, ends))

    def expand(self, stats: Any, path: Any) -> Any:
        """Token stats [1, 1, T_x, C] -> frame stats [1, 1, T_y, C] (float32, exact selection)."""
        ttnn = self.ttnn
        return ttnn.matmul(
            path, ttnn.typecast(stats, ttnn.float32), dtype=ttnn.float32, compute_kernel_config=self.compute
        )
