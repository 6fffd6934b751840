"""ttnn twin of `reference/residual_flow.py`: the converter's WaveNet coupling flow, both directions.

Each layer works on the full [T, 2*half] tensor (`coupling.full_width_pre/post`): pre reads it whole,
the post projection is folded into the WaveNet's skip sum (`WN.head`), and the mean shift with its
mask is one `addcmul`: x +- mask * m, which leaves the source half (m = 0 there) untouched.

The speaker conditions every WaveNet through input channels of its convs (`wavenet` module docstring):
pre writes zeros in those columns and the forward passes the uploaded `speaker_row` to every layer.
"""

from __future__ import annotations

from typing import Any

import torch

from openvoice_tt.reference.residual_flow import ResidualCouplingBlock as ReferenceBlock
from openvoice_tt.reference.residual_flow import ResidualCouplingLayer as ReferenceLayer
from openvoice_tt.tt.coupling import full_width_post, full_width_pre
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision
from openvoice_tt.tt.wavenet import WN


class ResidualCouplingLayer:
    def __init__(self, device: TtDevice, ref: ReferenceLayer, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        tag = ".flipped" if flipped else ""
        self.enc = WN(device, ref.enc, f"{name}.enc", precision, zero_condition=False)
        self.pre = self.enc.projection(f"pre.full{tag}", full_width_pre(ref.pre.weight, flipped), ref.pre.bias)
        post_weight, post_bias = full_width_post(ref.post.weight, ref.post.bias, flipped)
        self.post = self.enc.head(f"post.full{tag}", post_weight, post_bias)

    def __call__(self, x: Any, length: int, speaker: Any, reverse: bool, mask: Any | None = None) -> Any:
        ttnn = self.ttnn
        m = self.post(self.enc.features(self.pre(x), length, mask, speaker))  # the WN masks pre's output
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

    def speaker_row(self, embedding: torch.Tensor) -> torch.Tensor:
        """The host row [1, 1, 1, H + gin] a forward takes as `speaker` (`WN.speaker_row`; one layout for all)."""
        return self.layers[0].enc.speaker_row(embedding)

    def __call__(self, x: Any, length: int, speaker: Any, reverse: bool, mask: Any | None = None) -> Any:
        """`speaker`: the uploaded `speaker_row` of the direction's embedding (source forward, target reverse)."""
        order = range(len(self.layers) - 1, -1, -1) if reverse else range(len(self.layers))
        for k in order:
            x = self.layers[k](x, length, speaker, reverse, mask)
        return x
