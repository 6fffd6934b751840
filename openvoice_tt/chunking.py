"""Converting audio too long for one pass in overlapping pieces that join without a seam.

Each piece is converted with `context_seconds` of real audio on both sides, more than the converter's
receptive field (~110 frames: spectrogram window, 16-layer posterior WaveNet, flow, vocoder), and with
its own slice of ONE posterior-noise draw for the whole input, so the cores of neighbouring pieces see
the same data they would in a single pass. Only float rounding differs at the joins; a 20 ms linear
crossfade absorbs it. Every piece has the same length (the first and last windows are shifted inwards
rather than cut short), so a device compiles one set of programs for all of them: on ttnn each new
length keeps its conv halo tables in the small L1 region, and three lengths exhausted it on a P150.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openvoice_tt.config import ConversionChunking, ConverterConfig
from openvoice_tt.noise import NoiseSource, ReplayNoise


def convert_in_pieces(
    convert: Callable[[np.ndarray, NoiseSource], np.ndarray],
    audio: np.ndarray,
    config: ConverterConfig,
    noise: NoiseSource,
    chunking: ConversionChunking,
) -> np.ndarray:
    """`convert(piece, piece_noise)` over pieces of at most `chunking.max_seconds` (plus context)."""
    rate, hop = config.data.sampling_rate, config.data.hop_length
    frames = len(audio) // hop
    posterior = noise.normal(1, config.model.inter_channels, frames)
    core = int(chunking.max_seconds * rate) // hop * hop
    context = int(chunking.context_seconds * rate) // hop * hop
    window = min(core + 2 * context, frames * hop)
    fade = int(chunking.crossfade_seconds * rate)
    out = np.zeros(frames * hop, dtype=np.float32)
    for start in range(0, frames * hop, core):
        left = min(max(0, start - context), frames * hop - window)  # the same frame count for every piece
        piece_noise = ReplayNoise([posterior[:, :, left // hop : (left + window) // hop]])
        right = left + window
        if right == frames * hop:
            right = len(audio)  # the trailing partial frame shapes upstream's reflect padding at the end
        piece = convert(audio[left:right], piece_noise)
        overlap = fade if start else 0  # the first `fade` samples overlap the previous core
        segment = piece[start - left - overlap : min(start + core, frames * hop) - left]
        if overlap:
            ramp = np.linspace(0.0, 1.0, overlap, dtype=np.float32)
            out[start - overlap : start] = out[start - overlap : start] * (1 - ramp) + segment[:overlap] * ramp
            segment = segment[overlap:]
        out[start : start + len(segment)] = segment
    return out
