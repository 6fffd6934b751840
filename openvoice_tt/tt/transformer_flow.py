"""ttnn twin of `reference/transformer_flow.py`: MeloTTS's transformer coupling flow, reverse direction.

Channel flips are folded into the coupling layers' weights (`tt/coupling.py`).
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.transformer_flow import TransformerCouplingBlock as ReferenceBlock
from openvoice_tt.reference.transformer_flow import TransformerCouplingLayer as ReferenceLayer
from openvoice_tt.tt.attention import RelativeAttentionEncoder, RelativeBands
from openvoice_tt.tt.coupling import flipped_post, flipped_pre
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Linear, Precision, masked


class TransformerCouplingLayer:
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
        self.enc = RelativeAttentionEncoder(device, ref.enc, f"{name}.enc", precision)
        self.post = Linear(
            device,
            w.get(f"{name}.post.weight{tag}", lambda: flipped_post(ref.post.weight, flipped)),
            w.get(f"{name}.post.bias{tag}", lambda: flipped_post(ref.post.bias, flipped)),
            precision,
        )

    def reverse(self, x: Any, length: int, bands: RelativeBands, g: Any) -> Any:
        ttnn, half, mask = self.ttnn, self.half, bands.mask
        lower = ttnn.slice(x, [0, 0, 0, 0], [1, 1, length, half])
        upper = ttnn.slice(x, [0, 0, 0, half], [1, 1, length, 2 * half])
        source, target = (upper, lower) if self.flipped else (lower, upper)
        h = self.enc(masked(ttnn, self.pre(source), mask), length, bands, g)
        m = masked(ttnn, self.post(h), mask)
        target = masked(ttnn, ttnn.subtract(target, m), mask)
        return ttnn.concat([target, upper] if self.flipped else [lower, target], dim=3)


class TransformerCouplingBlock:
    def __init__(self, device: TtDevice, ref: ReferenceBlock, name: str, precision: Precision) -> None:
        self.layers = [
            TransformerCouplingLayer(device, layer, f"{name}.flows.{key}", precision, flipped=k % 2 == 1)
            for k, (key, layer) in enumerate(ref.flows.items())
        ]

    def reverse(self, x: Any, length: int, bands: RelativeBands, g: Any) -> Any:
        for layer in reversed(self.layers):
            x = layer.reverse(x, length, bands, g)
        return x
