"""Whole-model behaviour: determinism, output lengths, full-size runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import load_converter_model
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer

from .test_traps import _melo_inputs


def _load(folder: Path):
    melo = load_melo_synthesizer(
        folder / "melotts-english" / "config.json", folder / "melotts-english" / "checkpoint.pth"
    )
    converter = load_converter_model(folder / "converter" / "config.json", folder / "converter" / "checkpoint.pth")
    return melo, converter


def test_same_seed_gives_bit_identical_audio_and_samples_equal_frames_times_hop(tiny_checkpoints: Path) -> None:
    melo, converter = _load(tiny_checkpoints)
    inputs = _melo_inputs(41)
    first = melo.infer(*inputs, NoiseSource(7))
    second = melo.infer(*inputs, NoiseSource(7))
    other = melo.infer(*inputs, NoiseSource(8))
    assert torch.equal(first.audio, second.audio)
    assert not torch.equal(first.audio[..., :1000], other.audio[..., :1000])
    assert first.audio.shape == (1, 1, first.frames * 512)
    assert first.frames == int(first.durations.sum())

    spec = converter.spectrogram(torch.randn(1, 22050) * 0.3)
    se, target = converter.tone_color(spec), torch.randn(1, 256, 1)
    a = converter.convert(spec, se, target, NoiseSource(3), 0.3)
    assert a.shape == (1, 1, spec.shape[-1] * 256)
    assert torch.equal(a, converter.convert(spec, se, target, NoiseSource(3), 0.3))
    assert not torch.equal(a, converter.convert(spec, se, target, NoiseSource(4), 0.3))
    assert not torch.equal(a, converter.convert(spec, se, target * 2, NoiseSource(3), 0.3))


def test_speed_and_noise_scales(tiny_checkpoints: Path) -> None:
    melo, _ = _load(tiny_checkpoints)
    inputs = _melo_inputs(41)
    normal = melo.infer(*inputs, NoiseSource(1), SynthesisParams(length_scale=1.0))
    slow = melo.infer(*inputs, NoiseSource(1), SynthesisParams(length_scale=2.0))
    assert slow.frames > 1.8 * normal.frames
    silent = melo.infer(*inputs, NoiseSource(1), SynthesisParams(noise_scale=0, noise_scale_w=0))
    again = melo.infer(*inputs, NoiseSource(99), SynthesisParams(noise_scale=0, noise_scale_w=0))
    assert torch.equal(silent.audio, again.audio)  # zero noise scales: the seed no longer matters


@pytest.mark.slow
def test_full_size_five_seconds(full_checkpoints: Path) -> None:
    melo, converter = _load(full_checkpoints)
    out = melo.infer(*_melo_inputs(121), NoiseSource(0))
    seconds = out.audio.shape[-1] / 44100
    assert 3.5 < seconds < 7.0, seconds  # about 3 frames per token
    assert out.audio.shape[-1] == out.frames * 512
    assert torch.isfinite(out.audio).all() and out.audio.std() > 0.01  # (in [-1, 1] by the vocoder's tanh)

    audio = torch.randn(1, 5 * 22050) * 0.3
    spec = converter.spectrogram(audio)
    se = converter.tone_color(spec)
    assert se.shape == (1, 256, 1)
    converted = converter.convert(spec, se, torch.randn(1, 256, 1), NoiseSource(0), 0.3)
    assert converted.shape == (1, 1, (5 * 22050 // 256) * 256)
    assert torch.isfinite(converted).all() and converted.std() > 0.01
