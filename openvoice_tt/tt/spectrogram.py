"""ttnn twin of `reference/spectrogram.py`: the STFT magnitude as one matmul with a windowed DFT basis.

The forward reads the frame matrix [1, 1, T, n_fft]: frame t is samples t * hop ... t * hop + n_fft - 1
of the waveform reflect-padded by (n_fft - hop) / 2 samples at each end and zero-padded to its frame
bucket, so the forward's op graph depends on the bucket only, not on where the audio ends. Host audio is
framed on the host (`padded_input`: one upload of T x n_fft samples, 4 per sample, where a [N, 1] column
in tile layout would carry 32); a take already on the device is padded and framed there, eagerly, before
the traced forward (`padded_on_device`: the edge samples reversed by a matmul with the anti-diagonal
permutation, the column viewed as rows of `hop` samples so that each of the n_fft / hop shifted row
windows is one tile-aligned slice, concatenated). One matmul with the periodic-Hann windowed cos | sin
basis turns the frames into the spectrum; real and imaginary halves are padded to a tile multiple so they
split in one program; magnitude = sqrt(re^2 + im^2 + 1e-6) is one add (each operand squared by its input
activation, + eps and sqrt as output activations, in float32 on the vector unit; binary_ng's fused
activations, as tt-metal's models fuse activations into eltwise ops); the padding bins are dropped at the end.
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
        unary, kind = device.ttnn.UnaryWithParam, device.ttnn.UnaryOpType
        self.magnitude = {  # sqrt(re^2 + im^2 + eps) as one add's fused activations
            "input_tensor_a_activations": [unary(kind.SQUARE)],
            "input_tensor_b_activations": [unary(kind.SQUARE)],
            "activations": [unary(kind.ADD_UNARY_SFPU, MAGNITUDE_EPS), unary(kind.SQRT)],
        }

    def frames(self, samples: int) -> int:
        return samples // self.hop

    def input_samples(self, frames: int) -> int:
        """Samples of the padded column that `frames` frames (a bucket) read: frames * hop + n_fft - hop."""
        return frames * self.hop + 2 * self.pad

    def padded_input(self, audio: np.ndarray, frames: int) -> torch.Tensor:
        """Host samples -> the [1, 1, frames, n_fft] frame matrix of the signal reflect-padded at both ends
        (as upstream's STFT pads), then zero-padded (or cut: samples no frame reads) to the bucket's length."""
        padded = np.pad(np.asarray(audio, dtype=np.float32), (self.pad, self.pad), mode="reflect")
        column = np.zeros(self.input_samples(frames), dtype=np.float32)  # numpy: no wait on torch's threads
        kept = min(padded.size, column.size)
        column[:kept] = padded[:kept]
        framed = np.lib.stride_tricks.sliding_window_view(column, self.n_fft)[:: self.hop][:frames]
        return torch.from_numpy(np.array(framed)).reshape(1, 1, frames, self.n_fft)  # a copy: the view is read-only

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
        padded = padded if samples + 2 * pad == total else ttnn.slice(padded, [0, 0, 0, 0], [1, 1, total, 1])
        return self._framed(padded, frames)

    def _framed(self, column: Any, frames: int) -> Any:
        """[1, 1, input_samples(frames), 1] column -> [1, 1, frames, n_fft] frames: the column viewed as rows of
        `hop` samples along dim 1, so each shifted row window is a tile-aligned slice (one program; a row
        range of a [rows, hop] matrix costs three), concatenated along the samples."""
        ttnn, shifts = self.ttnn, self.n_fft // self.hop
        rows = ttnn.reshape(column, (1, frames + shifts - 1, 1, self.hop))
        windows = [ttnn.slice(rows, [0, j, 0, 0], [1, j + frames, 1, self.hop]) for j in range(shifts)]
        return ttnn.reshape(ttnn.concat(windows, dim=3), (1, 1, frames, self.n_fft))

    def __call__(self, framed: Any, frames: int) -> Any:
        """frame matrix [1, 1, frames, n_fft] -> magnitude [1, 1, frames, n_fft / 2 + 1]."""
        ttnn = self.ttnn
        spectrum = ttnn.matmul(framed, self.basis, dtype=self.dtype, compute_kernel_config=self.compute)
        real, imag = halves(ttnn, spectrum, frames, self.width)
        magnitude = ttnn.add(real, imag, **self.magnitude)
        return ttnn.slice(magnitude, [0, 0, 0, 0], [1, 1, frames, self.bins])
