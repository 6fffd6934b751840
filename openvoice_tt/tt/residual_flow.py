"""ttnn twin of `reference/residual_flow.py`: the converter's WaveNet coupling flow, both directions."""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.residual_flow import ResidualCouplingBlock as ReferenceBlock
from openvoice_tt.reference.residual_flow import ResidualCouplingLayer as ReferenceLayer
from openvoice_tt.tt.coupling import flipped_post, flipped_pre
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Linear, Precision
from openvoice_tt.tt.wavenet import WN


class ResidualCouplingLayer:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        self.half = ref.half_channels
        self.flipped = flipped
        w = device.weights
        tag = ".flipped" if flipped else ""
        self.pre = Linear(
            device,
            w.get(f"{name}.pre.weight{tag}", lambda: flipped_pre(ref.pre.weight, flipped)),
            w.get(f"{name}.pre.bias", lambda: ref.pre.bias),
            precision,
        )
        self.enc = WN(device, ref.enc, f"{name}.enc", precision, zero_condition=False)
        self.post = Linear(
            device,
            w.get(f"{name}.post.weight{tag}", lambda: flipped_post(ref.post.weight, flipped)),
            w.get(f"{name}.post.bias{tag}", lambda: flipped_post(ref.post.bias, flipped)),
            precision,
        )

    def __call__(self, x: Any, length: int, cond: list[Any], reverse: bool) -> Any:
        ttnn, half = self.ttnn, self.half
        lower = ttnn.slice(x, [0, 0, 0, 0], [1, 1, length, half])
        upper = ttnn.slice(x, [0, 0, 0, half], [1, 1, length, 2 * half])
        source, target = (upper, lower) if self.flipped else (lower, upper)
        m = self.post(self.enc(self.pre(source), length, None, cond))
        target = ttnn.subtract(target, m) if reverse else ttnn.add(target, m)
        return ttnn.concat([target, upper] if self.flipped else [lower, target], dim=3)


class ResidualCouplingBlock:
    def __init__(self, device: TtDevice, ref: ReferenceBlock, name: str, precision: Precision) -> None:
        self.layers = [
            ResidualCouplingLayer(device, layer, f"{name}.flows.{key}", precision, flipped=k % 2 == 1)
            for k, (key, layer) in enumerate(ref.flows.items())
        ]

    def condition(self, g: Any) -> list[list[Any]]:
        return [layer.enc.condition(g) for layer in self.layers]

    def __call__(self, x: Any, length: int, cond: list[list[Any]], reverse: bool) -> Any:
        order = range(len(self.layers) - 1, -1, -1) if reverse else range(len(self.layers))
        for k in order:
            x = self.layers[k](x, length, cond[k], reverse)
        return x
