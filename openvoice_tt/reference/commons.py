"""Small helpers shared by the reference blocks (upstream `commons.py`)."""

from __future__ import annotations

import torch

LRELU_SLOPE = 0.1  # every leaky ReLU of the generator except the one before conv_post (PyTorch's 0.01)
LRELU_SLOPE_POST = 0.01


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """ "Same" padding for an odd kernel."""
    return (kernel_size * dilation - dilation) // 2


def sequence_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """[B] lengths -> [B, max_length] bool, True on valid positions."""
    if max_length is None:
        max_length = int(lengths.max())
    positions = torch.arange(max_length, dtype=lengths.dtype, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def run_coupling_flow(
    layers: list, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, reverse: bool
) -> torch.Tensor:
    """Coupling layers alternating with channel Flips (upstream's [layer, Flip] * n): forward runs each
    layer then flips; reverse runs the list backwards, flipping before each layer."""
    if reverse:
        for layer in reversed(layers):
            x = layer(torch.flip(x, [1]), x_mask, g, reverse=True)
    else:
        for layer in layers:
            x = torch.flip(layer(x, x_mask, g, reverse=False), [1])
    return x
