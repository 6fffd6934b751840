"""A clone's take joined and resampled without the audio leaving the device.

Upstream's V2 flow synthesizes every chunk, appends silence, resamples the whole take to the
converter's rate and converts it once. On ttnn the chunks' waveforms stay on the device
(`pipeline.synthesized(..., on_device=True)`): here they and the silences are concatenated there and
the 44.1 -> 22.05 kHz step is the on-device 2:1 FIR (`tt/resample.py`), so per chunk only the token
inputs and noise go up and one frame count comes back; `pipeline.convert` then converts the take on
the device, or (longer than `ConversionChunking.max_seconds`) downloads it and converts it in pieces.
The ttnn converter backend (`backends.TtConverter.join_on_device`) calls it; like all of `tt/`, this module
imports neither the backends nor the pipeline (the layers in pyproject.toml's `[tool.importlinter]`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openvoice_tt.errors import DeviceError
from openvoice_tt.tt.converter import ToneColorConverter


def join_on_device(
    converter: ToneColorConverter, pieces: Iterable[tuple[Any, int]], silence_samples: int, rate_in: int
) -> tuple[Any, int]:
    """(waveform on the device, samples) per chunk, each followed by `silence_samples` zeros at `rate_in`
    -> (the take decimated to the converter's rate and zero-padded past its end, its samples)."""
    device = converter.device
    ttnn = device.ttnn
    rate_out = converter.config.data.sampling_rate
    if rate_in != 2 * rate_out:
        raise DeviceError(f"on-device resampling supports 2:1 only ({rate_in} -> {rate_out} Hz)")
    silence = device.resident.filled((1, 1, silence_samples, 1), 0.0, ttnn.float32)
    waves, total = [], 0
    for wave, samples in pieces:
        waves += [ttnn.typecast(wave, ttnn.float32), silence]
        total += samples + silence_samples
    speech = ttnn.concat(waves, dim=2)
    # soxr gives ceil(N / 2) samples. Zeros up to the converter's frame bucket (the decimation reads zeros
    # past the end either way), so the decimation's conv runs at the bucket's length: its programs and
    # prepared weights serve every take of the bucket.
    samples = -(-total // 2)
    padded = 2 * converter.take_samples(samples)
    speech = ttnn.concat([speech, device.resident.zero_rows(padded - total, ttnn.float32)], dim=2)
    take, _ = converter.decimate(speech, padded)
    return take, samples
