"""The converter's input: a linear magnitude spectrogram (spec §3.2, upstream `spectrogram_torch`).

Reflect-pad (n_fft - hop) / 2 on each side, STFT with a periodic Hann window, center=False, then
sqrt(re^2 + im^2 + 1e-6). No log, no mel. T = floor(N / hop) frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MAGNITUDE_EPS = 1e-6


def linear_spectrogram(audio: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """audio [B, N] in [-1, 1] -> magnitude [B, n_fft // 2 + 1, T]."""
    pad = (n_fft - hop_length) // 2
    padded = F.pad(audio.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win_length, dtype=audio.dtype, device=audio.device)
    stft = torch.stft(
        padded,
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(stft.real.pow(2) + stft.imag.pow(2) + MAGNITUDE_EPS)
