"""ttnn twin of `reference/wavenet.py`: the gated WaveNet stack on [1, 1, T, C] tensors."""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.wavenet import WN as ReferenceWN
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Conv1d, Linear, Precision


class WN:
    """With `zero_condition` (V2's zero_g) the conditioning is the cond layer's bias, folded into the convs."""

    def __init__(
        self, device: TtDevice, ref: ReferenceWN, name: str, precision: Precision, zero_condition: bool
    ) -> None:
        self.ttnn = device.ttnn
        self.hidden = ref.hidden_channels
        self.n_layers = ref.n_layers
        self.zero_condition = zero_condition
        w = device.weights
        self.in_layers = []
        for i, layer in enumerate(ref.in_layers):
            if zero_condition:  # cond_layer(0) is its bias: fold each layer's slice into that layer's conv bias
                rows = slice(2 * self.hidden * i, 2 * self.hidden * (i + 1))
                folded = w.get(
                    f"{name}.in_layers.{i}.bias+cond",
                    lambda layer=layer, rows=rows: layer.bias + ref.cond_layer.bias[rows],
                )
                weight = w.get(f"{name}.in_layers.{i}.weight", lambda layer=layer: layer.weight)
                self.in_layers.append(Conv1d(device, weight, folded, precision, dilation=layer.dilation[0]))
            else:
                self.in_layers.append(Conv1d.of(device, layer, f"{name}.in_layers.{i}", precision))
        self.res_skip_layers = [
            Linear.of(device, layer, f"{name}.res_skip_layers.{i}", precision)
            for i, layer in enumerate(ref.res_skip_layers)
        ]
        self.cond_layer = None if zero_condition else Linear.of(device, ref.cond_layer, f"{name}.cond_layer", precision)

    def condition(self, g: Any) -> list[Any] | None:
        """Per-layer conditioning rows [1, 1, 1, 2H] from g [1, 1, 1, gin] (None when folded)."""
        if self.cond_layer is None:
            return None
        ttnn, width = self.ttnn, 2 * self.hidden
        cond = self.cond_layer(g)
        return [ttnn.slice(cond, [0, 0, 0, width * i], [1, 1, 1, width * (i + 1)]) for i in range(self.n_layers)]

    def __call__(self, x: Any, length: int, mask: Any | None, cond: list[Any] | None) -> Any:
        ttnn, hidden = self.ttnn, self.hidden
        output = None
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers, strict=True)):
            gates = in_layer(x, length)
            if cond is not None:
                gates = ttnn.add(gates, cond[i])
            acts = ttnn.multiply(
                ttnn.tanh(ttnn.slice(gates, [0, 0, 0, 0], [1, 1, length, hidden])),
                ttnn.sigmoid(ttnn.slice(gates, [0, 0, 0, hidden], [1, 1, length, 2 * hidden])),
            )
            rs = res_skip(acts)
            if i < self.n_layers - 1:
                x = ttnn.add(x, ttnn.slice(rs, [0, 0, 0, 0], [1, 1, length, hidden]))
                if mask is not None:
                    x = ttnn.multiply(x, mask)
                skip = ttnn.slice(rs, [0, 0, 0, hidden], [1, 1, length, 2 * hidden])
            else:
                skip = rs
            output = skip if output is None else ttnn.add(output, skip)
        return output if mask is None else ttnn.multiply(output, mask)
