"""ttnn twin of `reference/duration_predictor.py`."""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.duration_predictor import DurationPredictor as ReferenceDurationPredictor
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, compute_config, layer_norm_params, masked


class DurationPredictor:
    def __init__(self, device: TtDevice, ref: ReferenceDurationPredictor, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.cond = Linear.of(device, ref.cond, f"{name}.cond", precision)
        self.conv_1 = Conv1d.of(device, ref.conv_1, f"{name}.conv_1", precision)
        self.conv_2 = Conv1d.of(device, ref.conv_2, f"{name}.conv_2", precision)
        self.norms = [
            layer_norm_params(device, getattr(ref, n), f"{name}.{n}", precision) for n in ("norm_1", "norm_2")
        ]
        self.proj = Linear.of(device, ref.proj, f"{name}.proj", precision)
        self.compute = compute_config(device, precision)

    def __call__(self, x: Any, length: int, mask: Any | None, g: Any) -> Any:
        """h [1, 1, T, C] -> log-durations [1, 1, T, 1]."""
        ttnn = self.ttnn
        x = ttnn.add(x, self.cond(g))
        # each conv in L1 (whole, no DRAM slicing) where the bucket fits its output (the ReLU moves it back
        # to DRAM): both write filter channels, conv_2's input, so one rule holds for both
        l1 = self.conv_2.runs_in_l1(length, "convs")
        for conv, (gamma, beta) in zip((self.conv_1, self.conv_2), self.norms, strict=True):
            y = conv(masked(ttnn, x, mask), length, l1=l1, keep_input=mask is None)
            x = ttnn.relu(y, memory_config=ttnn.DRAM_MEMORY_CONFIG)
            x = ttnn.layer_norm(x, weight=gamma, bias=beta, epsilon=1e-5, compute_kernel_config=self.compute)
        return masked(ttnn, self.proj(masked(ttnn, x, mask)), mask)
