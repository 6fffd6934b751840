"""HiFi-GAN generator `dec` (spec §2.9), the same class in MeloTTS (44.1 kHz) and the converter (22.05 kHz).

Every ConvTranspose1d upsamples by exactly its rate (kernel - rate = 2 * padding), so the output has
frames x hop samples. Leaky ReLUs use slope 0.1 except the last one before `conv_post`, which uses
PyTorch's default 0.01; `conv_pre`/`conv_post` are plain convs and `conv_post` has no bias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from openvoice_tt.config import GeneratorConfig
from openvoice_tt.reference.commons import LRELU_SLOPE, LRELU_SLOPE_POST, get_padding


class ResBlock1(nn.Module):
    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=get_padding(kernel_size, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=get_padding(kernel_size, 1)) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            xt = conv1(F.leaky_relu(x, LRELU_SLOPE))
            xt = conv2(F.leaky_relu(xt, LRELU_SLOPE))
            x = x + xt
        return x


class Generator(nn.Module):
    def __init__(self, in_channels: int, config: GeneratorConfig, gin_channels: int) -> None:
        super().__init__()
        self.num_kernels = len(config.resblock_kernel_sizes)
        initial = config.upsample_initial_channel
        self.conv_pre = nn.Conv1d(in_channels, initial, 7, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(initial // 2**i, initial // 2 ** (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(config.upsample_rates, config.upsample_kernel_sizes, strict=True))
        )
        self.resblocks = nn.ModuleList(
            ResBlock1(config.stage_channels(i), k, tuple(d))
            for i in range(len(self.ups))
            for k, d in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes, strict=True)
        )
        self.conv_post = nn.Conv1d(config.stage_channels(len(self.ups) - 1), 1, 7, padding=3, bias=False)
        self.cond = nn.Conv1d(gin_channels, initial, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Latent [B, C, T] and speaker g [B, gin, 1] -> waveform [B, 1, T * prod(upsample_rates)]."""
        x = self.conv_pre(x) + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs = xs + block(x)
            x = xs / self.num_kernels
        x = self.conv_post(F.leaky_relu(x, LRELU_SLOPE_POST))
        return torch.tanh(x)
