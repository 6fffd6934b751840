"""Channel flips folded into coupling-layer weights (shared by both flows).

A flow block alternates coupling layers with channel Flips. Rather than reversing 192 channels on the
device, each coupling layer that sits behind an odd number of flips reads the *upper* half with its
input weights' columns reversed and updates the *lower* half with its output rows reversed. A block
has an even number of flips, so its output needs no correction; both directions see the same parity
per layer (layer k: k % 2).
"""

from __future__ import annotations

import torch


def flipped_pre(weight: torch.Tensor, flipped: bool) -> torch.Tensor:
    """Weight [hidden, half, 1]: reverse input columns when the layer reads the flipped upper half."""
    return torch.flip(weight, [1]) if flipped else weight


def flipped_post(tensor: torch.Tensor, flipped: bool) -> torch.Tensor:
    """Weight [half, hidden, 1] or bias [half]: reverse output rows when the layer updates the lower half."""
    return torch.flip(tensor, [0]) if flipped else tensor
