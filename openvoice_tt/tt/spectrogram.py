"""ttnn twin of `reference/spectrogram.py`: the STFT magnitude as one matmul with a windowed DFT basis.

The host's only part is arranging the upload (`frame_rows`): the waveform, reflect-padded by
(n_fft - hop) / 2 as upstream pads it, cut into rows of `hop` samples. On device, n_fft / hop shifted
row windows are concatenated into the [T, n_fft] frame matrix and multiplied by the periodic-Hann
windowed cos | sin basis; magnitude = sqrt(re^2 + im^2 + 1e-6). Real and imaginary halves are padded
to a tile multiple so every slice is tile aligned; the padding bins are dropped at the end.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from openvoice_tt.reference.spectrogram import MAGNITUDE_EPS
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, compute_config, dtype_of

TILE = 32


def padded_bins(n_fft: int) -> int:
    return math.ceil((n_fft // 2 + 1) / TILE) * TILE


def frame_rows(audio: np.ndarray, n_fft: int, hop: int) -> tuple[torch.Tensor, int]:
    """Upload layout: reflect-padded waveform as [1, 1, T + n_fft/hop - 1, hop] rows, and T = N // hop."""
    frames = len(audio) // hop
    pad = (n_fft - hop) // 2
    padded = np.pad(np.asarray(audio, dtype=np.float32), (pad, pad), mode="reflect")
    rows = frames + n_fft // hop - 1
    return torch.from_numpy(padded[: rows * hop].copy()).reshape(1, 1, rows, hop), frames


def dft_basis(n_fft: int, win_length: int) -> torch.Tensor:
    """[n_fft, 2 * padded_bins]: windowed cos | -sin columns (zeros in the tile padding)."""
    bins, width = n_fft // 2 + 1, padded_bins(n_fft)
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(bins, dtype=torch.float64)
    window = torch.zeros(n_fft, dtype=torch.float64)
    offset = (n_fft - win_length) // 2
    window[offset : offset + win_length] = torch.hann_window(win_length, periodic=True, dtype=torch.float64)
    angle = 2 * math.pi * n[:, None] * k[None, :] / n_fft
    basis = torch.zeros(n_fft, 2 * width, dtype=torch.float64)
    basis[:, :bins] = window[:, None] * torch.cos(angle)
    basis[:, width : width + bins] = -window[:, None] * torch.sin(angle)
    return basis.float()


class Spectrogram:
    def __init__(self, device: TtDevice, n_fft: int, hop: int, win_length: int, precision: Precision) -> None:
        self.ttnn = device.ttnn
        self.n_fft, self.hop = n_fft, hop
        self.bins, self.width = n_fft // 2 + 1, padded_bins(n_fft)
        self.dtype = dtype_of(device, precision.activations)
        self.basis = device.constant(
            device.weights.get(f"spectrogram.dft_basis.{n_fft}.{win_length}", lambda: dft_basis(n_fft, win_length)),
            dtype_of(device, precision.weights),
        )
        self.compute = compute_config(device)

    def __call__(self, rows: Any, frames: int) -> Any:
        """rows [1, 1, T + 3, hop] -> magnitude [1, 1, T, n_fft / 2 + 1]."""
        ttnn, width = self.ttnn, self.width
        shifts = self.n_fft // self.hop
        windows = [ttnn.slice(rows, [0, 0, j, 0], [1, 1, j + frames, self.hop]) for j in range(shifts)]
        spectrum = ttnn.matmul(
            ttnn.concat(windows, dim=3), self.basis, dtype=self.dtype, compute_kernel_config=self.compute
        )
        real = ttnn.slice(spectrum, [0, 0, 0, 0], [1, 1, frames, width])
        imag = ttnn.slice(spectrum, [0, 0, 0, width], [1, 1, frames, 2 * width])
        power = ttnn.add(ttnn.add(ttnn.multiply(real, real), ttnn.multiply(imag, imag)), MAGNITUDE_EPS)
        return ttnn.slice(ttnn.sqrt(power), [0, 0, 0, 0], [1, 1, frames, self.bins])
