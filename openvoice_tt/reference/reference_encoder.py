"""Converter reference (tone-color) encoder `ref_enc` (spec §2.10): spectrogram -> 256-d embedding.

LayerNorm over the frequency bins of each frame, six stride-2 3x3 Conv2d + ReLU, a GRU over the
remaining ~T/64 frames whose final hidden state is projected to the embedding (no activation after).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openvoice_tt.config import REFERENCE_ENCODER_FILTERS, REFERENCE_ENCODER_GRU_SIZE


def conv_output_size(size: int, n_convs: int, kernel_size: int = 3, stride: int = 2, pad: int = 1) -> int:
    for _ in range(n_convs):
        size = (size - kernel_size + 2 * pad) // stride + 1
    return size


class ReferenceEncoder(nn.Module):
    def __init__(self, spec_channels: int, gin_channels: int) -> None:
        super().__init__()
        self.spec_channels = spec_channels
        filters = (1, *REFERENCE_ENCODER_FILTERS)
        self.convs = nn.ModuleList(
            nn.Conv2d(filters[i], filters[i + 1], kernel_size=3, stride=2, padding=1)
            for i in range(len(REFERENCE_ENCODER_FILTERS))
        )
        freq = conv_output_size(spec_channels, len(REFERENCE_ENCODER_FILTERS))
        self.gru = nn.GRU(REFERENCE_ENCODER_FILTERS[-1] * freq, REFERENCE_ENCODER_GRU_SIZE, batch_first=True)
        self.proj = nn.Linear(REFERENCE_ENCODER_GRU_SIZE, gin_channels)
        self.layernorm = nn.LayerNorm(spec_channels)

    def forward(self, spec_frames: torch.Tensor) -> torch.Tensor:
        """Linear spectrogram frames [N, T, F] -> embedding [N, gin]."""
        batch = spec_frames.size(0)
        out = self.layernorm(spec_frames.reshape(batch, 1, -1, self.spec_channels))
        for conv in self.convs:
            out = F.relu(conv(out))
        out = out.transpose(1, 2)
        out = out.reshape(batch, out.size(1), -1)
        _, hidden = self.gru(out)
        return self.proj(hidden.squeeze(0))
