"""ttnn twin of `reference/residual_flow.py`: the converter's WaveNet coupling flow, both directions.

Each layer works on the full [T, 2*half] tensor (`coupling.full_width_pre/post`): pre reads it whole,
the post projection is folded into the WaveNet's skip sum (`WN.head`), and the mean shift with its
mask is one `addcmul`: x +- mask * m, which leaves the source half (m = 0 there) untouched.
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.residual_flow import ResidualCouplingBlock as ReferenceBlock
from openvoice_tt.reference.residual_flow import ResidualCouplingLayer as ReferenceLayer
from openvoice_tt.tt.coupling import full_width_post, full_width_pre
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Linear, Precision
from openvoice_tt.tt.wavenet import WN


class ResidualCouplingLayer:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        w, tag = device.weights, ".flipped" if flipped else ""
        self.pre = Linear(
            device,
            w.get(f"{name}.pre.weight.full{tag}", lambda: full_width_pre(ref.pre.weight, flipped)),
            w.get(f"{name}.pre.bias", lambda: ref.pre.bias),
            precision,
        )
        self.enc = WN(device, ref.enc, f"{name}.enc", precision, zero_condition=False)
        post_weight, post_bias = full_width_post(ref.post.weight, ref.post.bias, flipped)
        self.post = self.enc.head(f"post.full{tag}", post_weight, post_bias)

    def __call__(self, x: Any, length: int, cond: list[Any], reverse: bool, mask: Any | None = None) -> Any:
        ttnn = self.ttnn
        m = self.post(self.enc.features(self.pre(x), length, mask, cond))  # the WN masks pre's output
        sign = -1.0 if reverse else 1.0
        if mask is None:
            return ttnn.subtract(x, m) if reverse else ttnn.add(x, m)
        return ttnn.addcmul(x, m, mask, value=sign)


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
