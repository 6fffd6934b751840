"""Converter posterior encoder `enc_q` (spec §2.8): linear spectrogram -> latent z (tau-scaled sampling)."""

from __future__ import annotations

import torch
from torch import nn

from openvoice_tt.config import POSTERIOR_KERNEL_SIZE, POSTERIOR_WN_LAYERS
from openvoice_tt.reference.wavenet import WN


class PosteriorEncoder(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int,
        gin_channels: int,
        kernel_size: int = POSTERIOR_KERNEL_SIZE,
        n_layers: int = POSTERIOR_WN_LAYERS,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, 1, n_layers, gin_channels)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self, spec: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, noise: torch.Tensor, tau: float
    ) -> torch.Tensor:
        """spec [B, F, T], mask [B, 1, T], noise [B, C, T] -> z [B, C, T]."""
        x = self.pre(spec) * x_mask
        x = self.enc(x, x_mask, g)
        stats = self.proj(x) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return (m + noise * tau * torch.exp(logs)) * x_mask
