"""MeloTTS flow `flow` (spec §2.6): four transformer coupling layers, run in reverse at inference.

Each coupling layer shifts the second half of the channels by a mean predicted from the first half by a
3-layer relative-attention encoder (FFN kernel 5, speaker conditioning before layer 2). Coupling layers
sit at checkpoint indices 0, 2, 4, 6; the odd indices are channel Flips with no parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from openvoice_tt.config import FLOW_COUPLING_LAYERS, FLOW_KERNEL_SIZE
from openvoice_tt.reference.attention import RelativeAttentionEncoder
from openvoice_tt.reference.commons import run_coupling_flow


class TransformerCouplingLayer(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        gin_channels: int,
    ) -> None:
        super().__init__()
        self.half_channels = channels // 2
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = RelativeAttentionEncoder(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size, gin_channels=gin_channels
        )
        self.post = nn.Conv1d(hidden_channels, self.half_channels, 1)  # mean only

    def mean(self, x0: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        h = self.pre(x0) * x_mask
        h = self.enc(h, x_mask, g=g)
        return self.post(h) * x_mask

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, reverse: bool) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half_channels] * 2, dim=1)
        m = self.mean(x0, x_mask, g)
        x1 = (x1 - m) * x_mask if reverse else m + x1 * x_mask
        return torch.cat([x0, x1], dim=1)


class TransformerCouplingBlock(nn.Module):
    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        gin_channels: int,
        n_flows: int = FLOW_COUPLING_LAYERS,
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleDict(
            {
                str(2 * i): TransformerCouplingLayer(
                    channels, hidden_channels, filter_channels, n_heads, n_layers, FLOW_KERNEL_SIZE, gin_channels
                )
                for i in range(n_flows)
            }
        )

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        return run_coupling_flow(list(self.flows.values()), x, x_mask, g, reverse)
