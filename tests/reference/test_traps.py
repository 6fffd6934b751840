"""Each network-side parity trap of spec §9 has a test that fails when the trap is fallen into."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import load_converter_model
from openvoice_tt.reference.reference_encoder import ReferenceEncoder
from openvoice_tt.reference.spectrogram import linear_spectrogram
from openvoice_tt.reference.synthesizer import SynthesisParams, load_melo_synthesizer


@pytest.fixture(scope="module")
def converter(tiny_checkpoints: Path):
    folder = tiny_checkpoints / "converter"
    return load_converter_model(folder / "config.json", folder / "checkpoint.pth")


@pytest.fixture(scope="module")
def melo(tiny_checkpoints: Path):
    folder = tiny_checkpoints / "melotts-english"
    return load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")


def _convert(model, spec, src, tgt):
    return model.convert(spec, src, tgt, NoiseSource(0), tau=0.3)


@pytest.mark.parametrize("bias", ["enc_q.enc.cond_layer.bias", "dec.cond.bias"])
def test_zero_g_keeps_the_conditioning_biases(converter, bias: str) -> None:
    """Trap 11: zero_g means a zero speaker vector, whose cond layers still add their biases."""
    assert converter.zero_g
    spec = converter.spectrogram(torch.randn(1, 8000) * 0.3)
    src, tgt = torch.randn(1, 256, 1), torch.randn(1, 256, 1)
    before = _convert(converter, spec, src, tgt)
    parameter = dict(converter.named_parameters())[bias]
    saved = parameter.detach().clone()
    with torch.no_grad():
        parameter.add_(0.5)
    try:
        assert not torch.allclose(_convert(converter, spec, src, tgt), before, atol=1e-4)
    finally:
        with torch.no_grad():
            parameter.copy_(saved)


def test_zero_g_feeds_speaker_only_through_the_flow(converter) -> None:
    spec = converter.spectrogram(torch.randn(1, 8000) * 0.3)
    se = torch.randn(1, 256, 1)
    same = _convert(converter, spec, se, se)
    # with the same source and target, the flow's forward and reverse cancel: output independent of se
    torch.testing.assert_close(_convert(converter, spec, se * 3, se * 3), same, atol=1e-4, rtol=0)


def test_generator_uses_slope_point_zero_one_before_conv_post_and_averages_resblocks(converter) -> None:
    """Traps 14: slope 0.1 inside, 0.01 before conv_post, resblock outputs divided by 3, no conv_post bias."""
    dec = converter.dec
    assert dec.conv_post.bias is None
    z, g = torch.randn(1, dec.conv_pre.in_channels, 6), torch.zeros(1, 256, 1)
    captured = {}
    dec.conv_post.register_forward_hook(lambda _m, inputs, _o: captured.__setitem__("in", inputs[0].clone()))
    with torch.no_grad():
        dec(z, g)
        x = dec.conv_pre(z) + dec.cond(g)
        for i, up in enumerate(dec.ups):
            x = up(F.leaky_relu(x, 0.1))
            x = sum(dec.resblocks[3 * i + j](x) for j in range(3)) / 3
    torch.testing.assert_close(captured["in"], F.leaky_relu(x, 0.01))
    assert not torch.allclose(captured["in"], F.leaky_relu(x, 0.1))


def test_sdp_flow_one_is_not_used(tiny_checkpoints: Path, tmp_path: Path) -> None:
    """Trap 7: upstream's reverse pass skips sdp.flows.1; its weights must not affect the output."""
    folder = tmp_path / "melo"
    shutil.copytree(tiny_checkpoints / "melotts-english", folder)
    inputs = _melo_inputs(31)

    def synthesize(edit) -> torch.Tensor:
        raw = torch.load(tiny_checkpoints / "melotts-english" / "checkpoint.pth", weights_only=True)
        edit(raw["model"])
        torch.save(raw, folder / "checkpoint.pth")
        model = load_melo_synthesizer(folder / "config.json", folder / "checkpoint.pth")
        return model.infer(*inputs, NoiseSource(1), SynthesisParams(sdp_ratio=1.0)).audio

    def scale(prefix: str):
        return lambda sd: [v.mul_(3.0) for k, v in sd.items() if k.startswith(prefix)]

    baseline = synthesize(lambda sd: None)
    assert torch.equal(synthesize(scale("sdp.flows.1.")), baseline)
    changed = synthesize(scale("sdp.flows.3."))
    assert changed.shape != baseline.shape or not torch.equal(changed, baseline)


def _melo_inputs(t: int):
    g = torch.Generator().manual_seed(t)
    phones = torch.randint(1, 219, (1, t), generator=g)
    phones[:, ::2] = 0
    tones = torch.randint(7, 11, (1, t), generator=g)
    tones[:, ::2] = 0
    languages = torch.full((1, t), 2)
    languages[:, ::2] = 0
    return phones, tones, languages, torch.zeros(1, 1024, t), torch.randn(1, 768, t, generator=g), 0


def test_duration_mix_is_sdp_ratio_weighted(melo) -> None:
    """Trap 8: logw = ratio * SDP + (1 - ratio) * DP."""
    phones, tones, languages, bert, ja_bert, sid = _melo_inputs(21)
    g = melo.speaker(sid)
    h, _, _, mask = melo.encode_text(phones, tones, languages, bert, ja_bert, g)
    noise = torch.randn(1, 2, 21)
    with torch.no_grad():
        sdp, dp = melo.sdp(h, mask, g, noise), melo.dp(h, mask, g)
        mixed = melo.log_durations(h, mask, g, noise, 0.2)
    assert not torch.allclose(sdp, dp)
    torch.testing.assert_close(mixed, 0.2 * sdp + 0.8 * dp)


def test_reference_encoder_layer_norm_is_over_frequency() -> None:
    """Trap 13: scaling one frame leaves a per-frame (frequency) LayerNorm's output unchanged."""
    torch.manual_seed(0)
    encoder = ReferenceEncoder(513, 256).eval()
    frames = torch.rand(1, 80, 513) + 0.1
    scaled = frames.clone()
    scaled[:, 17] *= 20.0
    with torch.no_grad():
        torch.testing.assert_close(encoder(scaled), encoder(frames), atol=1e-5, rtol=0)
        tilted = frames * torch.linspace(0.5, 3, 80).view(1, 80, 1)  # same in every bin, varies over time
        assert torch.allclose(encoder(tilted), encoder(frames), atol=1e-4)


def test_spectrogram_is_linear_reflect_padded_periodic_hann() -> None:
    """Trap 12, against a direct numpy DFT of one frame."""
    rng = np.random.default_rng(0)
    audio = rng.uniform(-0.5, 0.5, 5000).astype(np.float32)
    spec = linear_spectrogram(torch.from_numpy(audio)[None], 1024, 256, 1024)[0].numpy()
    assert spec.shape == (513, 5000 // 256)
    padded = np.pad(audio.astype(np.float64), 384, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * math.pi * np.arange(1024) / 1024)  # periodic Hann
    for frame in (0, 7, spec.shape[1] - 1):
        segment = padded[frame * 256 : frame * 256 + 1024] * window
        expected = np.sqrt(np.abs(np.fft.rfft(segment)) ** 2 + 1e-6)
        np.testing.assert_allclose(spec[:, frame], expected, rtol=1e-4, atol=1e-5)
