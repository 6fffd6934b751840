"""ttnn twin of `reference/residual_flow.py`: the converter's WaveNet coupling flow, both directions."""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.residual_flow import ResidualCouplingBlock as ReferenceBlock
from openvoice_tt.reference.residual_flow import ResidualCouplingLayer as ReferenceLayer
from openvoice_tt.tt.coupling import Coupling
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, masked
from openvoice_tt.tt.wavenet import WN


class ResidualCouplingLayer:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        self.coupling = Coupling(device, ref, name, precision, flipped)
        self.enc = WN(device, ref.enc, f"{name}.enc", precision, zero_condition=False)

    def __call__(self, x: Any, length: int, cond: list[Any], reverse: bool, mask: Any | None = None) -> Any:
        ttnn, coupling = self.ttnn, self.coupling
        source, target = coupling.split(x, length)
        h = self.enc(masked(ttnn, coupling.pre(source), mask), length, mask, cond)
        m = masked(ttnn, coupling.post(h), mask)
        return coupling.join(source, masked(ttnn, ttnn.subtract(target, m) if reverse else ttnn.add(target, m), mask))


class ResidualCouplingBlock:
    def __init__(self, device: TtDevice, ref: ReferenceBlock, name: str, precision: Precision) -> None:
        self.layers = [
            ResidualCouplingLayer(device, layer, f"{name}.flows.{key}", precision, flipped=k % 2 == 1)
            for k, (key, layer) in enumerate(ref.flows.items())
        ]

    def condition(self, g: Any) -> list[list[Any]]:
        return [layer.enc.condition(g) for layer in self.layers]

    def __call__(self, x: Any, length: int, cond: list[list[Any]], reverse: bool, mask: Any | None = None) -> Any:
        order = range(len(self.layers) - 1, -1, -1) if reverse else range(len(self.layers))
        for k in order:
            x = self.layers[k](x, length, cond[k], reverse, mask)
        return x
