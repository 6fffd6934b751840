"""MeloTTS stochastic duration predictor `sdp`, inference (reverse) direction only (spec §2.4).

A conditioning trunk (pre + cond -> DDSConv -> proj) feeds a normalizing flow that maps Gaussian noise
to log-durations. Upstream's reverse pass drops the first ConvFlow (`sdp.flows.1`, "useless vflow"), so
that module is not built here and its checkpoint keys are ignored. The surviving flows keep their
checkpoint indices (0 = ElementwiseAffine, 3/5/7 = ConvFlow; even indices are parameter-free Flips).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from openvoice_tt.config import SDP_FLOWS, SDP_NUM_BINS, SDP_TAIL_BOUND
from openvoice_tt.reference.layer_norm import ChannelLayerNorm
from openvoice_tt.reference.spline import rational_quadratic_spline

SDP_KERNEL_SIZE = 3
DDS_LAYERS = 3


class DDSConv(nn.Module):
    """Dilated depth-separable conv stack: dilation 3**i, LayerNorm + exact GELU after each conv."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int) -> None:
        super().__init__()
        self.convs_sep = nn.ModuleList()
        self.convs_1x1 = nn.ModuleList()
        self.norms_1 = nn.ModuleList()
        self.norms_2 = nn.ModuleList()
        for i in range(n_layers):
            dilation = kernel_size**i
            padding = (kernel_size * dilation - dilation) // 2
            self.convs_sep.append(
                nn.Conv1d(channels, channels, kernel_size, groups=channels, dilation=dilation, padding=padding)
            )
            self.convs_1x1.append(nn.Conv1d(channels, channels, 1))
            self.norms_1.append(ChannelLayerNorm(channels))
            self.norms_2.append(ChannelLayerNorm(channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        if g is not None:
            x = x + g
        for conv_sep, conv_1x1, norm_1, norm_2 in zip(
            self.convs_sep, self.convs_1x1, self.norms_1, self.norms_2, strict=True
        ):
            y = F.gelu(norm_1(conv_sep(x * x_mask)))
            y = F.gelu(norm_2(conv_1x1(y)))
            x = x + y
        return x * x_mask


class ElementwiseAffine(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.zeros(channels, 1))
        self.logs = nn.Parameter(torch.zeros(channels, 1))

    def reverse(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        return (x - self.m) * torch.exp(-self.logs) * x_mask


class ConvFlow(nn.Module):
    """Coupling flow over 2 channels: channel 0 parameterizes a spline applied to channel 1."""

    def __init__(
        self,
        filter_channels: int,
        kernel_size: int,
        n_layers: int,
        num_bins: int = SDP_NUM_BINS,
        tail_bound: float = SDP_TAIL_BOUND,
    ) -> None:
        super().__init__()
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.pre = nn.Conv1d(1, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers)
        self.proj = nn.Conv1d(filter_channels, 3 * num_bins - 1, 1)

    def spline_params(self, x0: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """[B, 1, T] -> [B, 1, T, 3K-1] unnormalized widths | heights | derivatives."""
        h = self.convs(self.pre(x0), x_mask, g=g)
        h = self.proj(h) * x_mask
        batch, _, length = x0.shape
        return h.reshape(batch, 1, -1, length).permute(0, 1, 3, 2)

    def reverse(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        x0, x1 = x[:, :1], x[:, 1:]
        params = self.spline_params(x0, x_mask, g)
        k, scale = self.num_bins, math.sqrt(self.filter_channels)
        x1 = rational_quadratic_spline(
            x1,
            params[..., :k] / scale,
            params[..., k : 2 * k] / scale,
            params[..., 2 * k :],
            inverse=True,
            tail_bound=self.tail_bound,
        )
        return torch.cat([x0, x1], dim=1) * x_mask


class StochasticDurationPredictor(nn.Module):
    def __init__(self, in_channels: int, gin_channels: int, n_flows: int = SDP_FLOWS) -> None:
        super().__init__()
        filter_channels = in_channels  # upstream forces filter_channels = in_channels
        self.pre = nn.Conv1d(in_channels, filter_channels, 1)
        self.convs = DDSConv(filter_channels, SDP_KERNEL_SIZE, DDS_LAYERS)
        self.proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.cond = nn.Conv1d(gin_channels, filter_channels, 1)
        flows: dict[str, nn.Module] = {"0": ElementwiseAffine(2)}
        for i in range(1, n_flows):  # ConvFlow 0 (checkpoint index 1) is dropped by upstream's reverse pass
            flows[str(2 * i + 1)] = ConvFlow(filter_channels, SDP_KERNEL_SIZE, DDS_LAYERS)
        self.flows = nn.ModuleDict(flows)
        # ConvFlows in reverse order by checkpoint index: flows.7, flows.5, flows.3.
        self.reverse_order = tuple(str(2 * i + 1) for i in range(n_flows - 1, 0, -1))

    def condition(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        x = self.pre(x) + self.cond(g)
        x = self.convs(x, x_mask)
        return self.proj(x) * x_mask

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Encoder output [B, C, T] and scaled noise [B, 2, T] -> log-durations [B, 1, T]."""
        c = self.condition(x, x_mask, g)
        z = noise
        for index in self.reverse_order:
            z = torch.flip(z, [1])
            z = self.flows[index].reverse(z, x_mask, g=c)
        z = torch.flip(z, [1])
        z = self.flows["0"].reverse(z, x_mask)
        return z[:, :1]
