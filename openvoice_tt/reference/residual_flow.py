"""Converter flow `flow` (spec §2.7): four WaveNet coupling layers, used forward and in reverse.

Forward with the source speaker's embedding removes its timbre; reverse with the target's adds the new
one. Coupling layers sit at checkpoint indices 0, 2, 4, 6; odd indices are parameter-free Flips.
"""

from __future__ import annotations

import torch
from torch import nn

from openvoice_tt.config import CONVERTER_FLOW_WN_LAYERS, FLOW_COUPLING_LAYERS, FLOW_KERNEL_SIZE
from openvoice_tt.reference.commons import run_coupling_flow
from openvoice_tt.reference.wavenet import WN


class ResidualCouplingLayer(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int,
    ) -> None:
        super().__init__()
        self.half_channels = channels // 2
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels)
        self.post = nn.Conv1d(hidden_channels, self.half_channels, 1)  # mean only: logs = 0

    def mean(self, x0: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        h = self.pre(x0) * x_mask
        h = self.enc(h, x_mask, g)
        return self.post(h) * x_mask

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, reverse: bool) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half_channels] * 2, dim=1)
        m = self.mean(x0, x_mask, g)
        x1 = (x1 - m) * x_mask if reverse else m + x1 * x_mask
        return torch.cat([x0, x1], dim=1)


class ResidualCouplingBlock(nn.Module):
    def __init__(
        self, channels: int, hidden_channels: int, gin_channels: int, n_flows: int = FLOW_COUPLING_LAYERS
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleDict(
            {
                str(2 * i): ResidualCouplingLayer(
                    channels, hidden_channels, FLOW_KERNEL_SIZE, 1, CONVERTER_FLOW_WN_LAYERS, gin_channels
                )
                for i in range(n_flows)
            }
        )

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        return run_coupling_flow(list(self.flows.values()), x, x_mask, g, reverse)
