"""Comparing ttnn blocks with their torch twins: the numerics tier of the verification (a test and
measurement harness, kept out of the package).

Shared by the parity tests and `scripts/tt_precision_report.py`. Every block is fed the reference's
own inputs, so each PCC measures that block alone; the waveform PCC measures the whole chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from openvoice_tt.config import RELATIVE_ATTENTION_WINDOW
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.alignment import frame_durations
from openvoice_tt.reference.synthesizer import SynthesisParams
from openvoice_tt.tt.attention import RelativeBands
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import dtype_of

# Which precision field (`tt.settings.ConverterPrecision`, `tt.settings.MeloPrecision`) each reported block runs in.
CONVERTER_FIELDS = {  # reported block -> its ConverterPrecision field
    "spectrogram": "spectrogram",
    "reference_encoder": "reference_encoder",
    "posterior_encoder": "posterior_encoder",
    "flow_forward": "flow",
    "flow_reverse": "flow",
    "vocoder": "vocoder",
}
MELO_FIELDS = {  # reported block -> its MeloPrecision field
    "text_encoder.h": "text_encoder",
    "text_encoder.m_p": "text_encoder",
    "text_encoder.logs_p": "text_encoder",
    "sdp": "duration",
    "dp": "duration",
    "flow": "flow",
    "vocoder": "vocoder",
}


@dataclass(frozen=True)
class Agreement:
    """How closely an output follows its reference: Pearson correlation (the tt-metal convention for
    parity) and the largest absolute error. PCC alone misses a wrong gain and max error alone misses a
    wrong shape of the signal, so gates use both."""

    pcc: float
    max_abs: float

    def within(self, min_pcc: float, max_abs: float) -> bool:
        """Written as "passes when", so NaN (a constant or non-finite output) fails every gate."""
        return self.pcc >= min_pcc and self.max_abs <= max_abs

    def __str__(self) -> str:
        return f"PCC {self.pcc:.10f}, max abs error {self.max_abs:.3g}"


def _flat(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    return np.squeeze(np.asarray(x, dtype=np.float64))


def compare(expected, actual) -> Agreement:
    """PCC and max abs error of two arrays of the same shape (size-1 axes ignored).

    NaN/inf anywhere gives NaN for both numbers; a constant array (PCC undefined) gives PCC NaN, so an
    all-zero output can never pass. A shape mismatch is an error, not a number.
    """
    a, b = _flat(expected), _flat(actual)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: expected {a.shape}, got {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return Agreement(math.nan, math.nan)
    max_abs = float(np.abs(a - b).max()) if a.size else 0.0
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return Agreement(math.nan, max_abs)
    return Agreement(float(np.corrcoef(a.ravel(), b.ravel())[0, 1]), max_abs)


def to_tt(device: TtDevice, x_bct: torch.Tensor, dtype: str = "fp32"):
    """Reference layout [1, C, T] -> ttnn channels-last [1, 1, T, C]."""
    return device.constant(x_bct[0].t().unsqueeze(0).unsqueeze(0), dtype_of(device, dtype))


def from_tt(device: TtDevice, x) -> torch.Tensor:
    """ttnn [1, 1, T, C] -> reference layout [1, C, T]."""
    return device.ttnn.to_torch(x).float()[0, 0].t().unsqueeze(0)


def speechlike_audio(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like test signal: a gliding harmonic tone with noise bursts, in [-1, 1]."""
    rate = 22050
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    pitch = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    return (0.3 * voiced + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def converter_blocks(ref, tt, device: TtDevice, audio: np.ndarray) -> dict[str, Agreement]:
    """Agreement of every converter block fed the reference's own inputs, and of the whole waveform.
    Each input is stored in the type the pipeline gives it (ttnn refuses some mixed-type operands)."""
    ttnn, p = device.ttnn, tt.precision
    results: dict[str, Agreement] = {}
    spec = ref.spectrogram(torch.from_numpy(audio)[None])
    frames = spec.shape[-1]
    wave = device.constant(tt.spectrogram.padded_input(audio, frames), ttnn.float32)
    results["spectrogram"] = compare(spec, from_tt(device, tt.spectrogram(wave, frames)))

    se = ref.tone_color(spec)
    results["reference_encoder"] = compare(se, ttnn.to_torch(tt.ref_enc(to_tt(device, spec), frames)))

    noise = NoiseSource(3).normal(1, ref.enc_q.out_channels, frames)
    zeros = torch.zeros(1, 256, 1)
    with torch.no_grad():
        z = ref.enc_q(spec, torch.ones(1, 1, frames), zeros, noise, 0.3)
    z_tt = tt.enc_q(to_tt(device, spec), frames, None, to_tt(device, noise, p.posterior_encoder.activations), 0.3)
    results["posterior_encoder"] = compare(z, from_tt(device, z_tt))

    src, tgt = se, torch.randn(1, 256, 1, generator=torch.Generator().manual_seed(1))
    flow_dtype = dtype_of(device, p.flow.activations)
    g_src, g_tgt = (device.constant(tt.flow.speaker_row(e), flow_dtype) for e in (src, tgt))
    with torch.no_grad():
        z_p = ref.flow(z, torch.ones(1, 1, frames), src, reverse=False)
        z_hat = ref.flow(z_p, torch.ones(1, 1, frames), tgt, reverse=True)
    results["flow_forward"] = compare(
        z_p, from_tt(device, tt.flow(to_tt(device, z, p.flow.activations), frames, g_src, False))
    )
    results["flow_reverse"] = compare(
        z_hat,
        from_tt(device, tt.flow(to_tt(device, z_p, p.flow.activations), frames, g_tgt, True)),
    )
    with torch.no_grad():
        wave = ref.dec(z_hat, zeros)
    wave_tt, length = tt.dec(to_tt(device, z_hat, p.flow.activations), frames, None)
    results["vocoder"] = compare(wave.flatten(), ttnn.to_torch(wave_tt).flatten()[:length])

    expected = ref.convert(spec, src, tgt, NoiseSource(5), 0.3).flatten()
    results["waveform"] = compare(expected, tt.convert(audio, src, tgt, 0.3, NoiseSource(5)))
    return results


@dataclass
class MeloInputs:
    phone_ids: torch.Tensor
    tone_ids: torch.Tensor
    language_ids: torch.Tensor
    bert: torch.Tensor
    ja_bert: torch.Tensor


def melo_inputs(front_end, text: str, seed: int = 0) -> MeloInputs:
    """The front end's ids with realistic non-zero ja_bert features, as a real BERT would give."""
    front = front_end(text)
    features = torch.randn(768, front.phone_ids.numel(), generator=torch.Generator().manual_seed(seed)) * 0.3
    return MeloInputs(front.phone_ids, front.tone_ids, front.language_ids, front.bert, features)


def melo_reference_stages(
    ref, inputs: MeloInputs, noise: NoiseSource, params: SynthesisParams, speaker: int = 1
) -> dict:
    phones, tones, languages = (t.unsqueeze(0) for t in (inputs.phone_ids, inputs.tone_ids, inputs.language_ids))
    with torch.no_grad():
        g = ref.speaker(speaker)
        h, m_p, logs_p, x_mask = ref.encode_text(phones, tones, languages, inputs.bert[None], inputs.ja_bert[None], g)
        sdp_noise = noise.normal(1, 2, phones.shape[1])
        logw_sdp = ref.sdp(h, x_mask, g, sdp_noise * params.noise_scale_w)
        logw_dp = ref.dp(h, x_mask, g)
        logw = logw_sdp * params.sdp_ratio + logw_dp * (1 - params.sdp_ratio)
        durations = frame_durations(logw, x_mask, params.length_scale)
        m_f, logs_f, y_mask = ref.align(m_p, logs_p, x_mask, durations)
        prior = noise.normal(*m_f.shape)
        z_p = m_f + prior * torch.exp(logs_f) * params.noise_scale
        z = ref.flow(z_p, y_mask, g, reverse=True)
        wave = ref.decode(z, y_mask, g)
    return locals()


def free_running_durations(ref, tt, inputs, seed: int, speaker: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(reference, ttnn) frames per token for the same inputs and noise, the ttnn side computed on the
    device from the token ids on (downloaded here for the comparison; the pipeline never does)."""
    params = SynthesisParams()
    expected = melo_reference_stages(ref, inputs, NoiseSource(seed), params, speaker)["durations"].flatten()
    uploaded, tokens, padded = tt.upload_text(inputs, speaker, NoiseSource(seed))
    state = tt.encode(*uploaded, padded, params)
    return expected, tt.device.ttnn.to_torch(state.durations).float().flatten()[:tokens]


def melo_blocks(
    ref, tt, device: TtDevice, inputs: MeloInputs, waveform: bool = False
) -> tuple[dict[str, Agreement], int]:
    """Agreement per block with the reference's own inputs, plus the number of token durations that differ
    when the ttnn text encoder and duration predictors run free (from the token ids on). With `waveform`,
    also the whole synthesis' agreement on the reference's durations (so a one-frame duration difference
    cannot misalign it)."""
    ttnn, params, p = device.ttnn, SynthesisParams(), tt.precision
    ja_bert = inputs.ja_bert
    r = melo_reference_stages(ref, inputs, NoiseSource(7), params)
    t = inputs.phone_ids.numel()
    ids = [  # each its own name: an upload overwrites the last one of the same name and shape
        device.upload(getattr(inputs, name).float().reshape(1, 1, t, 1), ttnn.float32, name)
        for name in ("phone_ids", "tone_ids", "language_ids")
    ]
    g = tt.emb_g(device.upload(torch.tensor([[[[1.0]]]]), ttnn.float32, "sid"))
    bands = RelativeBands(device, t, RELATIVE_ATTENTION_WINDOW, None, dtype_of(device, p.text_encoder.activations))
    h, m_p, logs_p = tt.enc_p(*ids, to_tt(device, ja_bert[None], p.text_encoder.activations), t, bands, g)
    out = {
        "text_encoder.h": compare(r["h"], from_tt(device, h)),
        "text_encoder.m_p": compare(r["m_p"], from_tt(device, m_p)),
        "text_encoder.logs_p": compare(r["logs_p"], from_tt(device, logs_p)),
    }
    h_ref = to_tt(device, r["h"], p.text_encoder.activations)
    sdp_noise = to_tt(device, r["sdp_noise"] * params.noise_scale_w, p.duration.activations)
    out["sdp"] = compare(r["logw_sdp"], from_tt(device, tt.sdp(h_ref, t, None, g, sdp_noise)))
    out["dp"] = compare(r["logw_dp"], from_tt(device, tt.dp(h_ref, t, None, g)))
    logw = ttnn.add(
        ttnn.multiply(tt.sdp(h, t, None, g, sdp_noise), params.sdp_ratio),
        ttnn.multiply(tt.dp(h, t, None, g), 1 - params.sdp_ratio),
    )
    durations = tt.alignment.durations(logw, None, params.length_scale)
    differing = int((from_tt(device, durations) != r["durations"]).sum())
    frames = r["z"].shape[-1]
    flow_bands = RelativeBands(device, frames, RELATIVE_ATTENTION_WINDOW, None, dtype_of(device, p.flow.activations))
    z = tt.flow.reverse(to_tt(device, r["z_p"], p.flow.activations), frames, flow_bands, g)
    out["flow"] = compare(r["z"], from_tt(device, z))
    wave, length = tt.dec(to_tt(device, r["z"], p.vocoder.activations), frames, g)
    out["vocoder"] = compare(r["wave"].flatten(), ttnn.to_torch(wave).flatten()[:length])
    if waveform:
        phones, tones, languages = (x[None] for x in (inputs.phone_ids, inputs.tone_ids, inputs.language_ids))
        expected = ref.infer(phones, tones, languages, inputs.bert[None], ja_bert[None], 1, NoiseSource(7))
        from scripts.tt_given_durations import synthesize_on_durations

        wave, _ = synthesize_on_durations(tt, inputs, 1, params, NoiseSource(7), expected.durations.flatten())
        out["waveform"] = compare(expected.audio.flatten(), wave)
    return out, differing
