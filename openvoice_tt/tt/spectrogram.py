"""ttnn twin of `reference/spectrogram.py`: the STFT magnitude as one matmul with a windowed DFT basis.

From the waveform as a [1, 1, N, 1] column, reflect-padded by (n_fft - hop) / 2 samples at each end
and zero-padded to its frame bucket before the forward (`padded_input` on the host, `padded_on_device`
for a take already on the device: the edge samples reversed by a matmul with the anti-diagonal
permutation), so the forward's op graph depends on the bucket only, not on where the audio ends. The
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

import numpy as np
import torch

from openvoice_tt.reference.spectrogram import MAGNITUDE_EPS
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, compute_config, dtype_of, halves

TILE = 32


def padded_bins(n_fft: int) -> int:
    return math.ceil((n_fft // 2 + 1) / TILE) * TILE


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
        self.device = device
        self.ttnn = device.ttnn
        self.n_fft, self.hop = n_fft, hop
        self.bins, self.width = n_fft // 2 + 1, padded_bins(n_fft)
        self.dtype = dtype_of(device, precision.activations)
        self.basis = device.constant(
            device.weights.get(f"spectrogram.dft_basis.{n_fft}.{win_length}", lambda: dft_basis(n_fft, win_length)),
            dtype_of(device, precision.weights),
        )
        self.pad = (n_fft - hop) // 2
        self.reverse = device.constant(torch.eye(self.pad).flip(0), device.ttnn.float32)  # anti-diagonal
        self.compute = compute_config(device, precision)
        self.eps = device.constant(torch.full((1, 1, 1, self.width), MAGNITUDE_EPS), self.dtype)  # a power row

    def frames(self, samples: int) -> int:
        return samples // self.hop

    def input_samples(self, frames: int) -> int:
        """Samples of the padded column that `frames` frames (a bucket) read: frames * hop + n_fft - hop."""
        return frames * self.hop + 2 * self.pad

    def padded_input(self, audio: np.ndarray, frames: int) -> torch.Tensor:
        """Host samples -> the [1, 1, input_samples(frames), 1] column: reflect-padded at both ends (as
        upstream's STFT pads), then zeros (or cut: samples no frame reads) to the bucket's length."""
        padded = np.pad(np.asarray(audio, dtype=np.float32), (self.pad, self.pad), mode="reflect")
        column = torch.zeros(self.input_samples(frames))
        kept = min(padded.size, column.numel())
        column[:kept] = torch.from_numpy(padded[:kept])
        return column.reshape(1, 1, -1, 1)

    def _reversed(self, column: Any) -> Any:
        ttnn = self.ttnn
        return ttnn.matmul(self.reverse, column, dtype=ttnn.float32, compute_kernel_config=self.compute)

    def padded_on_device(self, wave: Any, samples: int, frames: int) -> Any:
        """`padded_input` of the first `samples` samples of a [1, 1, N, 1] waveform on the device (a clone's
        take). Its ops depend on `samples`, so it runs eagerly, before the traced forward that reads it."""
        ttnn, pad, total = self.ttnn, self.pad, self.input_samples(frames)
        head = ttnn.slice(wave, [0, 0, 1, 0], [1, 1, pad + 1, 1])
        tail = ttnn.slice(wave, [0, 0, samples - pad - 1, 0], [1, 1, samples - 1, 1])
        if wave.shape[2] > samples:
            wave = ttnn.slice(wave, [0, 0, 0, 0], [1, 1, samples, 1])
        pieces = [self._reversed(head), wave, self._reversed(tail)]
        if samples + 2 * pad < total:
            pieces.append(self.device.resident.zero_rows(total - samples - 2 * pad, ttnn.float32))
        padded = ttnn.concat(pieces, dim=2)
        return padded if samples + 2 * pad == total else ttnn.slice(padded, [0, 0, 0, 0], [1, 1, total, 1])

    def __call__(self, wave: Any, frames: int) -> Any:
        """padded column [1, 1, input_samples(frames), 1] -> magnitude [1, 1, frames, n_fft / 2 + 1]."""
        ttnn, width = self.ttnn, self.width
        shifts = self.n_fft // self.hop
        rows = ttnn.reshape(wave, (1, frames + shifts - 1, 1, self.hop))
        windows = [ttnn.slice(rows, [0, j, 0, 0], [1, j + frames, 1, self.hop]) for j in range(shifts)]
        framed = ttnn.reshape(ttnn.concat(windows, dim=3), (1, 1, frames, self.n_fft))
        spectrum = ttnn.matmul(framed, self.basis, dtype=self.dtype, compute_kernel_config=self.compute)
        real, imag = halves(ttnn, spectrum, frames, width)
        power = ttnn.addcmul(ttnn.addcmul(self.eps, real, real, value=1.0), imag, imag, value=1.0)
        return ttnn.slice(ttnn.sqrt(power), [0, 0, 0, 0], [1, 1, frames, self.bins])
