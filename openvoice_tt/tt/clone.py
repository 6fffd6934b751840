"""Text + reference voice -> cloned speech without the audio leaving the device.

Upstream's V2 flow synthesizes every chunk, appends silence, resamples the whole take to the
converter's rate and converts it once. Here chunks and silences are concatenated on the device, the
44.1 -> 22.05 kHz step is the on-device 2:1 FIR (`tt/resample.py`), and only the converted waveform is
downloaded: per chunk the token inputs and noise go up and one frame count comes back. A take longer
than `ConversionChunking.max_seconds` (more than a mock N150 fits in one pass) is downloaded after
resampling and converted in overlapping pieces (`chunking.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from openvoice_tt.chunking import convert_in_pieces
from openvoice_tt.config import ConversionChunking
from openvoice_tt.errors import DeviceError
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.tt.converter import ToneColorConverter
from openvoice_tt.tt.synthesizer import MeloSynthesizer


def clone_on_device(
    synthesizer: MeloSynthesizer,
    converter: ToneColorConverter,
    chunks: Sequence,
    speaker_id: int,
    params: SynthesisParams,
    noise: NoiseSource,
    silence_samples: int,
    source_se: torch.Tensor,
    target_se: torch.Tensor,
    tau: float,
    timer: StageTimer = NULL_TIMER,
    chunking: ConversionChunking = ConversionChunking(),
    progress: Callable[[int, int], None] | None = None,
    durations: Sequence[torch.Tensor] | None = None,
) -> np.ndarray:
    """Synthesis, 2:1 resampling and conversion on the device; `durations` (per chunk, comparisons only)
    as in `MeloSynthesizer.synthesize_on_device`."""
    report = progress or (lambda done, total: None)
    device = synthesizer.device
    ttnn = device.ttnn
    rate_in, rate_out = synthesizer.config.data.sampling_rate, converter.config.data.sampling_rate
    if rate_in != 2 * rate_out:
        raise DeviceError(f"on-device resampling supports 2:1 only ({rate_in} -> {rate_out} Hz)")
    pieces, total = [], 0
    silence = device.resident.filled((1, 1, silence_samples, 1), 0.0, ttnn.float32)
    for done, inputs in enumerate(chunks, start=1):
        given = durations[done - 1] if durations is not None else None
        wave, samples, _ = synthesizer.synthesize_on_device(inputs, speaker_id, params, noise, timer, given)
        pieces += [ttnn.typecast(wave, ttnn.float32), silence]
        total += samples + silence_samples
        report(done, len(chunks) + 1)
    with timer("resample"):
        speech = ttnn.concat(pieces, dim=2)
        if total % 2:  # soxr gives ceil(N / 2) samples: decimate one trailing zero too
            pad = device.resident.filled((1, 1, 1, 1), 0.0, ttnn.float32)
            speech, total = ttnn.concat([speech, pad], dim=2), total + 1
        speech, samples = converter.decimate(speech, total)
    timer = timer.prefixed("converter.")
    if samples > chunking.max_seconds * rate_out:  # too long for one pass: convert in pieces via the host
        audio = device.download(speech, "speech").reshape(-1).numpy()
        out = convert_in_pieces(
            lambda piece, piece_noise: converter.convert(piece, source_se, target_se, tau, piece_noise, timer),
            audio,
            converter.config,
            noise,
            chunking,
        )
    else:
        out = converter.convert_on_device(speech, samples, source_se, target_se, tau, noise, timer)
    report(len(chunks) + 1, len(chunks) + 1)
    return out
