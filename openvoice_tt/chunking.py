"""Converting audio too long for one pass in overlapping pieces that join without a seam.

Each piece is converted with `context_seconds` of real audio on both sides, more than the converter's
receptive field (~110 frames: spectrogram window, 16-layer posterior WaveNet, flow, vocoder), and with
its own slice of ONE posterior-noise draw for the whole input, so the cores of neighbouring pieces see
the same data they would in a single pass. Only float rounding differs at the joins; a 20 ms linear
crossfade absorbs it. Every piece has the same length (the first and last windows are shifted inwards
rather than cut short), so a device compiles one set of programs for all of them: on ttnn each new
length keeps its conv halo tables in the small L1 region, and three lengths exhausted it on a P150.

The policies live here with the code they steer: `ConversionChunking` (pieces of one long conversion, read
by the backends, which say how long an input their converter takes in one pass) and `StreamChunking` (the
windows of a streamed clone, `pipeline.SeamJoiner`). Both rest on the same fact, the converter's receptive
field, and this module needs nothing above `config` and `noise`, so the backends can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the policies are imported by the pipeline, which must stay cheap to import (no torch)
    from openvoice_tt.config import ConverterConfig
    from openvoice_tt.noise import NoiseSource


@dataclass(frozen=True)
class ConversionChunking:
    """Splitting long conversions so device memory suffices (a mock N150 takes 300 s in one pass, not 600 s).

    Each piece is converted with `context_seconds` of real audio on both sides (more than the converter's
    ~110-frame receptive field) and with its slice of one posterior-noise draw for the whole input, so the
    pieces' cores join without a seam; a short crossfade smooths the last float differences.
    """

    max_seconds: float = 120.0
    context_seconds: float = 3.0
    crossfade_seconds: float = 0.02


@dataclass(frozen=True)
class StreamChunking:
    """Converting a clone while it is being synthesized (`pipeline.SeamJoiner`).

    Every output sample is converted with at least `context_seconds` of real audio on each side: more than
    the converter's ~110-frame receptive field (1.28 s at 22.05 kHz, hop 256), little enough that the first
    audio comes out after the first chunk or two. A `crossfade_seconds` linear fade joins the windows.
    """

    context_seconds: float = 1.5
    crossfade_seconds: float = 0.02

    def samples(self, rate: int, hop: int) -> tuple[int, int]:
        """(context rounded up to whole frames, crossfade) in samples at `rate`."""
        context = -(-int(self.context_seconds * rate) // hop) * hop
        return context, int(self.crossfade_seconds * rate)


def convert_in_pieces(
    convert: Callable[[np.ndarray, NoiseSource], np.ndarray],
    audio: np.ndarray,
    config: ConverterConfig,
    noise: NoiseSource,
    chunking: ConversionChunking,
) -> np.ndarray:
    """`convert(piece, piece_noise)` over pieces of at most `chunking.max_seconds` (plus context)."""
    from openvoice_tt.noise import ReplayNoise

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
