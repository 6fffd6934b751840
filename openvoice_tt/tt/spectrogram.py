"""ttnn twin of `reference/spectrogram.py`: the STFT magnitude as one matmul with a windowed DFT basis.

All on device, from the waveform as a [1, 1, N, 1] column: the reflect padding of (n_fft - hop) / 2
samples at each end is the edge samples reversed, each a matmul with a 0/1 selection matrix over a
slice of the waveform's ends (the head's slice starts at 0, tile aligned: one program, where a slice
at the exact edge offset costs three; the tail's start depends on the length); the
padded signal is viewed as rows of `hop` samples, one per index of dim 1 ([1, rows, 1, hop]), so that
each of the n_fft / hop shifted row windows is a tile-aligned slice (one program; a row range of a
[rows, hop] matrix costs three); they concatenate into the [T, n_fft] frame matrix, which one
matmul with the periodic-Hann windowed cos | sin basis turns into the spectrum; magnitude =
sqrt(re^2 + im^2 + 1e-6), the sum as two `addcmul`s onto the eps row. Real and imaginary halves are
padded to a tile multiple so they split in one program; the padding bins are dropped at the end.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from openvoice_tt.reference.spectrogram import MAGNITUDE_EPS
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, compute_config, dtype_of, halves

TILE = 32


def padded_bins(n_fft: int) -> int:
    return math.ceil((n_fft // 2 + 1) / TILE) * TILE


def reflection(pad: int, start: int, columns: int) -> torch.Tensor:
    """[pad, columns] 0/1: row i picks column start - i, so (this @ wave[offset : offset + columns]) is
    wave[offset + start - i] for i < pad: a reflect padding's samples, read from a slice of the wave."""
    select = torch.zeros(pad, columns)
    select[torch.arange(pad), start - torch.arange(pad)] = 1.0
    return select


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
        self.device = device
        self.pad = (n_fft - hop) // 2
        self.head_rows = math.ceil((self.pad + 1) / TILE) * TILE  # wave[0 : head_rows] holds wave[1 .. pad]
        self.compute = compute_config(device, precision)
        self.eps = device.constant(torch.full((1, 1, 1, self.width), MAGNITUDE_EPS), self.dtype)  # a power row

    def frames(self, samples: int) -> int:
        return samples // self.hop

    def _reflected(self, wave: Any, offset: int, end: int, start: int) -> Any:
        """wave[offset + start - i] for i < pad, from the slice wave[offset : end]."""
        ttnn, pad, columns = self.ttnn, self.pad, end - offset
        select = self.device.resident.pattern(
            ("reflection", pad, start, columns), lambda: reflection(pad, start, columns), ttnn.float32
        )
        part = ttnn.slice(wave, [0, 0, offset, 0], [1, 1, end, 1])
        return ttnn.matmul(select, part, dtype=ttnn.float32, compute_kernel_config=self.compute)

    def rows(self, wave: Any, samples: int) -> Any:
        """[1, 1, N, 1] -> reflect-padded waveform as [1, T + n_fft/hop - 1, 1, hop] rows."""
        ttnn, pad = self.ttnn, self.pad
        head = self._reflected(wave, 0, min(self.head_rows, samples), pad)  # wave[pad], ..., wave[1]
        # the tail's slice starts where the length puts it (not tile aligned: three programs), so that its
        # selection matrix (the anti-diagonal) is the same for every length: no constant per length
        tail = self._reflected(wave, samples - pad - 1, samples - 1, pad - 1)  # wave[N - 2], ..., wave[N - pad - 1]
        padded = ttnn.concat([head, wave, tail], dim=2)
        rows = self.frames(samples) + self.n_fft // self.hop - 1
        padded = ttnn.slice(padded, [0, 0, 0, 0], [1, 1, rows * self.hop, 1])
        return ttnn.reshape(padded, (1, rows, 1, self.hop))

    def __call__(self, wave: Any, samples: int) -> Any:
        """waveform [1, 1, N, 1] -> magnitude [1, 1, N // hop, n_fft / 2 + 1]."""
        ttnn, width, frames = self.ttnn, self.width, self.frames(samples)
        rows = self.rows(wave, samples)
        shifts = self.n_fft // self.hop
        windows = [ttnn.slice(rows, [0, j, 0, 0], [1, j + frames, 1, self.hop]) for j in range(shifts)]
        framed = ttnn.reshape(ttnn.concat(windows, dim=3), (1, 1, frames, self.n_fft))
        spectrum = ttnn.matmul(framed, self.basis, dtype=self.dtype, compute_kernel_config=self.compute)
        real, imag = halves(ttnn, spectrum, frames, width)
        power = ttnn.addcmul(ttnn.addcmul(self.eps, real, real, value=1.0), imag, imag, value=1.0)
        return ttnn.slice(ttnn.sqrt(power), [0, 0, 0, 0], [1, 1, frames, self.bins])
