"""ttnn twin of `reference/duration_predictor.py`."""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.duration_predictor import DurationPredictor as ReferenceDurationPredictor
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision, dtype_of, masked


class DurationPredictor:
    def __init__(self, device: TtDevice, ref: ReferenceDurationPredictor, name: str, precision: Precision) -> None:
        self.ttnn = device.ttnn
        w = device.weights
        dtype = dtype_of(device, precision.weights)
        self.cond = Linear(
            device,
            w.get(f"{name}.cond.weight", lambda: ref.cond.weight),
            w.get(f"{name}.cond.bias", lambda: ref.cond.bias),
            precision,
        )
        self.conv_1 = Conv1d(
            device,
            w.get(f"{name}.conv_1.weight", lambda: ref.conv_1.weight),
            w.get(f"{name}.conv_1.bias", lambda: ref.conv_1.bias),
            precision,
        )
        self.conv_2 = Conv1d(
            device,
            w.get(f"{name}.conv_2.weight", lambda: ref.conv_2.weight),
            w.get(f"{name}.conv_2.bias", lambda: ref.conv_2.bias),
            precision,
        )
        self.norms = [
            (
                device.constant(w.get(f"{name}.{n}.gamma", lambda n=n: getattr(ref, n).gamma).reshape(1, -1), dtype),
                device.constant(w.get(f"{name}.{n}.beta", lambda n=n: getattr(ref, n).beta).reshape(1, -1), dtype),
            )
            for n in ("norm_1", "norm_2")
        ]
        self.proj = Linear(
            device,
            w.get(f"{name}.proj.weight", lambda: ref.proj.weight),
            w.get(f"{name}.proj.bias", lambda: ref.proj.bias),
            precision,
        )

    def __call__(self, x: Any, length: int, mask: Any | None, g: Any) -> Any:
        """h [1, 1, T, C] -> log-durations [1, 1, T, 1]."""
        ttnn = self.ttnn
        x = ttnn.add(x, self.cond(g))
        for conv, (gamma, beta) in zip((self.conv_1, self.conv_2), self.norms, strict=True):
            x = ttnn.relu(conv(masked(ttnn, x, mask), length))
            x = ttnn.layer_norm(x, weight=gamma, bias=beta, epsilon=1e-5)
        return masked(ttnn, self.proj(masked(ttnn, x, mask)), mask)
