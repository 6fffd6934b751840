"""ttnn twin of `reference/resample.py`: 2:1 polyphase FIR decimation on device.

The [N, 1] waveform is viewed as N/2 rows of (even, odd) sample pairs: a 2-channel signal at the
output rate. One conv1d with 2 input channels and the filter's even/odd taps as its two kernel rows
then computes every output sample, with no zero-stuffing and no wasted outputs.
"""

from __future__ import annotations

from typing import Any

import torch

from openvoice_tt.reference.resample import decimation_filter
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d
from openvoice_tt.tt.settings import BlockPrecision


def polyphase_decimation_weight(h: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Filter [L] (centred) -> conv1d weight [1, 2, K] over (even, odd) pairs and its (left, right) padding."""
    center = (h.numel() - 1) // 2
    taps = {}  # (channel, pair offset j) -> coefficient; input sample 2m + offset, offset = n - center
    for n in range(h.numel()):
        j, channel = divmod(center - n, 2)  # y[m] = sum_n h[n] x[2m + center - n]
        taps[(channel, j)] = float(h[n])
    js = [j for _, j in taps]
    j_min, j_max = min(js), max(js)
    weight = torch.zeros(1, 2, j_max - j_min + 1)
    for (channel, j), value in taps.items():
        weight[0, channel, j - j_min] = value
    return weight, -j_min, j_max


class DecimateByTwo:
    def __init__(self, device: TtDevice, precision: BlockPrecision) -> None:
        self.ttnn = device.ttnn
        weight, left, right = polyphase_decimation_weight(
            device.weights.get("resample.decimation_filter", decimation_filter)
        )
        self.conv = Conv1d(device, weight, None, precision, padding=(left, right))

    def __call__(self, wave: Any, samples: int) -> tuple[Any, int]:
        """[1, 1, N, 1] (N even) -> [1, 1, N / 2, 1]."""
        half = samples // 2
        pairs = self.ttnn.reshape(wave, (1, 1, half, 2))
        return self.conv(pairs, half), half
