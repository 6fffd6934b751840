"""The ttnn MeloTTS synthesizer run on given durations (the torch reference's), for comparisons only.

Durations are `ceil`ed, so a chip's (or the faithful emulation's) arithmetic can move a token's duration
by one frame and every later frame with it (`tt/synthesizer.py`). A block-by-block or waveform comparison
with torch therefore runs the tt model's public stages with the reference's durations uploaded in place
of the one length read: `encode_chunk`, then these durations, then `decode_chunk`. The product never does
this; it lives here, beside the scripts and tests that compare (`tt_parity.py`, `tt_acceptance.py
--compare`, tests/tt/).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.tt.synthesizer import MeloSynthesizer, zero_padded


def synthesize_on_device_on_durations(
    model: MeloSynthesizer,
    inputs: Any,
    speaker_id: int,
    params: SynthesisParams,
    noise: NoiseSource,
    durations: torch.Tensor,
    timer: StageTimer = NULL_TIMER,
) -> tuple[Any, int, int]:
    """`model.synthesize_on_device` with `durations` (frames per token) in place of the predicted ones:
    (waveform [1, 1, samples, 1] on the device, samples, frames). Noise is drawn as in the product path."""
    chunk = model.encode_chunk(inputs, speaker_id, params, noise, timer)
    padded = chunk.state.padded_tokens
    given = zero_padded(durations.float().reshape(-1, 1), padded).reshape(1, 1, padded, 1)
    uploaded = model.device.upload(given, model.ttnn.float32, "reference_durations")
    chunk = replace(chunk, state=replace(chunk.state, durations=uploaded))
    return model.decode_chunk(chunk, max(1, int(durations.sum())), params, noise, timer)


def synthesize_on_durations(
    model: MeloSynthesizer,
    inputs: Any,
    speaker_id: int,
    params: SynthesisParams,
    noise: NoiseSource,
    durations: torch.Tensor,
    timer: StageTimer = NULL_TIMER,
) -> tuple[torch.Tensor, int]:
    """`model.synthesize` with `durations` in place of the predicted ones: (waveform on the host, frames)."""
    wave, samples, frames = synthesize_on_device_on_durations(
        model, inputs, speaker_id, params, noise, durations, timer
    )
    return model.device.download(wave, "waveform").reshape(-1)[:samples], frames
