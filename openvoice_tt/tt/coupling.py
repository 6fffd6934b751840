"""Mean-only coupling layers with channel flips folded into their weights (shared by both flows).

A flow block alternates coupling layers with channel Flips. Rather than reversing the channels on the
device, each coupling layer that sits behind an odd number of flips reads the *upper* half with its
input weights' columns reversed and updates the *lower* half with its output rows reversed. A block
has an even number of flips, so its output needs no correction; both directions see the same parity
per layer (layer k: k % 2).

`full_width_pre` / `full_width_post` express the same layer on the whole [T, 2*half] tensor: the pre
projection reads all channels with zero weights on the target half, the post projection writes all
channels with zero weights and bias on the source half, so a layer needs no split and no concat
(x + 0 leaves the source half exactly as it was).
"""

from __future__ import annotations

from typing import Any

import torch

from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Linear, halves
from openvoice_tt.tt.settings import BlockPrecision as Precision


def flipped_pre(weight: torch.Tensor, flipped: bool) -> torch.Tensor:
    """Weight [hidden, half, 1]: reverse input columns when the layer reads the flipped upper half."""
    return torch.flip(weight, [1]) if flipped else weight


def flipped_post(tensor: torch.Tensor, flipped: bool) -> torch.Tensor:
    """Weight [half, hidden, 1] or bias [half]: reverse output rows when the layer updates the lower half."""
    return torch.flip(tensor, [0]) if flipped else tensor


def full_width_pre(weight: torch.Tensor, flipped: bool) -> torch.Tensor:
    """pre weight [hidden, half, 1] -> [hidden, 2*half]: reads the source half (flip-folded), zeros elsewhere."""
    hidden, half = weight.shape[0], weight.shape[1]
    full = torch.zeros(hidden, 2 * half)
    full[:, slice(half, None) if flipped else slice(0, half)] = flipped_pre(weight, flipped)[:, :, 0]
    return full


def full_width_post(weight: torch.Tensor, bias: torch.Tensor, flipped: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """post weight [half, hidden, 1], bias [half] -> [2*half, hidden], [2*half]: writes the target half only."""
    half, hidden = weight.shape[0], weight.shape[1]
    rows = slice(0, half) if flipped else slice(half, None)
    full_weight, full_bias = torch.zeros(2 * half, hidden), torch.zeros(2 * half)
    full_weight[rows] = flipped_post(weight, flipped)[:, :, 0]
    full_bias[rows] = flipped_post(bias, flipped)
    return full_weight, full_bias


class Coupling:
    """The `pre`/`post` projections of a reference coupling layer and the half-split around them."""

    def __init__(self, device: TtDevice, ref: torch.nn.Module, name: str, precision: Precision, flipped: bool) -> None:
        self.ttnn = device.ttnn
        self.half = ref.half_channels
        self.flipped = flipped
        w, tag = device.weights, ".flipped" if flipped else ""
        self.pre = Linear(
            device,
            w.get(f"{name}.pre.weight{tag}", lambda: flipped_pre(ref.pre.weight, flipped)),
            w.get(f"{name}.pre.bias", lambda: ref.pre.bias),
            precision,
        )
        self.post = Linear(
            device,
            w.get(f"{name}.post.weight{tag}", lambda: flipped_post(ref.post.weight, flipped)),
            w.get(f"{name}.post.bias{tag}", lambda: flipped_post(ref.post.bias, flipped)),
            precision,
        )

    def split(self, x: Any, length: int) -> tuple[Any, Any]:
        """-> (source half that conditions, target half that is shifted)."""
        lower, upper = halves(self.ttnn, x, length, self.half)
        return (upper, lower) if self.flipped else (lower, upper)

    def join(self, source: Any, target: Any) -> Any:
        return self.ttnn.concat([target, source] if self.flipped else [source, target], dim=3)
