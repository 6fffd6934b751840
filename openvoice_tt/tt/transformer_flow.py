"""ttnn twin of `reference/transformer_flow.py`: MeloTTS's transformer coupling flow, reverse direction.

Channel flips are folded into the coupling layers' weights (`tt/coupling.py`).
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.transformer_flow import TransformerCouplingBlock as ReferenceBlock
from openvoice_tt.reference.transformer_flow import TransformerCouplingLayer as ReferenceLayer
from openvoice_tt.tt.attention import RelativeAttentionEncoder, RelativeBands
from openvoice_tt.tt.coupling import Coupling
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, masked


class TransformerCouplingLayer:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        self.coupling = Coupling(device, ref, name, precision, flipped)
        self.enc = RelativeAttentionEncoder(device, ref.enc, f"{name}.enc", precision)

    def reverse(self, x: Any, length: int, bands: RelativeBands, g: Any) -> Any:
        ttnn, coupling, mask = self.ttnn, self.coupling, bands.mask
        source, target = coupling.split(x, length)
        # upstream masks pre(x0) and post(h) too; the encoder masks its input first and the shifted half
        # is masked after the subtraction, so those two multiplies would change nothing
        h = self.enc(coupling.pre(source), length, bands, g)
        return coupling.join(source, masked(ttnn, ttnn.subtract(target, coupling.post(h)), mask))


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
