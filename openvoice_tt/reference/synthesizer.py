"""MeloTTS `SynthesizerTrn` inference path (spec §3.1 step 4), split into the stages the backends share.

text encoder -> duration predictors (SDP reverse mixed with DP) -> alignment path -> prior sampling
-> transformer flow (reverse) -> HiFi-GAN. All randomness comes from the caller's `NoiseSource` in a
fixed order (SDP noise [1, 2, T_text], then prior noise [1, C, T_frames]).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from openvoice_tt.config import DP_FILTER_CHANNELS, MeloConfig, SynthesisDefaults
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.alignment import (
    checked_frame_count,
    expand_to_frames,
    frame_durations,
    generate_path,
    output_lengths,
)
from openvoice_tt.reference.commons import sequence_mask
from openvoice_tt.reference.duration_predictor import DurationPredictor
from openvoice_tt.reference.hifigan import Generator
from openvoice_tt.reference.precision import MeloTorchPrecision, cast, dtype_of
from openvoice_tt.reference.stochastic_duration_predictor import StochasticDurationPredictor
from openvoice_tt.reference.text_encoder import TextEncoder
from openvoice_tt.reference.transformer_flow import TransformerCouplingBlock
from openvoice_tt.timing import NULL_TIMER, StageTimer

DP_KERNEL_SIZE = 3


_DEFAULTS = SynthesisDefaults()  # upstream's tts_to_file values: one place for the CLI, the API and this


@dataclass(frozen=True)
class SynthesisParams:
    sdp_ratio: float = _DEFAULTS.sdp_ratio
    noise_scale: float = _DEFAULTS.noise_scale
    noise_scale_w: float = _DEFAULTS.noise_scale_w
    length_scale: float = 1.0


@dataclass
class SynthesisOutput:
    audio: torch.Tensor  # [1, 1, frames * hop]
    durations: torch.Tensor  # [1, 1, T_text] integer-valued frames per token

    @property
    def frames(self) -> int:
        return int(self.durations.sum().clamp_min(1))


class MeloSynthesizer(nn.Module):
    def __init__(self, config: MeloConfig) -> None:
        super().__init__()
        m = config.model
        self.config = config
        self.enc_p = TextEncoder(
            config.n_vocab,
            config.num_tones,
            config.languages,
            m.inter_channels,
            m.hidden_channels,
            m.filter_channels,
            m.n_heads,
            m.n_layers,
            m.kernel_size,
            gin_channels=m.gin_channels if m.use_spk_conditioned_encoder else 0,
        )
        self.dec = Generator(m.inter_channels, config.generator, m.gin_channels)
        self.flow = TransformerCouplingBlock(
            m.inter_channels, m.hidden_channels, m.filter_channels, m.n_heads, m.n_layers_trans_flow, m.gin_channels
        )
        self.sdp = StochasticDurationPredictor(m.hidden_channels, m.gin_channels)
        self.dp = DurationPredictor(m.hidden_channels, DP_FILTER_CHANNELS, DP_KERNEL_SIZE, m.gin_channels)
        self.emb_g = nn.Embedding(config.data.n_speakers, m.gin_channels)
        self.use_spk_conditioned_encoder = m.use_spk_conditioned_encoder
        self.precision = MeloTorchPrecision.all_fp32()

    def set_precision(self, precision: MeloTorchPrecision) -> MeloSynthesizer:
        """Run each block in `precision`'s dtype (its weights converted here, once). Only from float32:
        weights rounded to bf16 are not the reference's any more."""
        if precision != self.precision and self.precision != MeloTorchPrecision.all_fp32():
            raise ValueError(f"precision already set to {self.precision}; load the model again to change it")
        self.precision = precision
        self.flow.to(dtype_of(precision.flow))
        self.dec.to(dtype_of(precision.vocoder))
        return self

    # Stages ---------------------------------------------------------------------------------------

    def speaker(self, speaker_id: int) -> torch.Tensor:
        return self.emb_g(torch.tensor([speaker_id], device=self.emb_g.weight.device)).unsqueeze(-1)

    def encode_text(self, phones, tones, languages, bert, ja_bert, g):
        x_mask = torch.ones(1, 1, phones.shape[1], device=phones.device)
        h, m_p, logs_p = self.enc_p(
            phones, tones, languages, bert, ja_bert, x_mask, g if self.use_spk_conditioned_encoder else None
        )
        return h, m_p, logs_p, x_mask

    def log_durations(self, h, x_mask, g, sdp_noise: torch.Tensor, sdp_ratio: float) -> torch.Tensor:
        return self.sdp(h, x_mask, g, sdp_noise) * sdp_ratio + self.dp(h, x_mask, g) * (1 - sdp_ratio)

    def align(self, m_p, logs_p, x_mask, durations):
        checked_frame_count(float(durations.sum(dim=[1, 2]).max()), int(x_mask.sum(dim=[1, 2]).max()))
        y_lengths = output_lengths(durations)
        y_mask = sequence_mask(y_lengths, int(y_lengths.max())).unsqueeze(1).to(x_mask.dtype)
        path = generate_path(durations, x_mask.unsqueeze(2) * y_mask.unsqueeze(-1))
        return expand_to_frames(m_p, path), expand_to_frames(logs_p, path), y_mask

    def reverse_flow(self, z_p, y_mask, g) -> torch.Tensor:
        """The flow in reverse, in its block's precision (inputs cast at its edge, output float32)."""
        return self.flow(*cast(dtype_of(self.precision.flow), z_p, y_mask, g), reverse=True).float()

    def decode(self, z, y_mask, g) -> torch.Tensor:
        """HiFi-GAN, in its block's precision (inputs cast at its edge, waveform float32)."""
        return self.dec(*cast(dtype_of(self.precision.vocoder), z * y_mask, g)).float()

    # Whole utterance ------------------------------------------------------------------------------

    @torch.no_grad()
    def infer(
        self,
        phones: torch.Tensor,
        tones: torch.Tensor,
        languages: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        speaker_id: int,
        noise: NoiseSource,
        params: SynthesisParams = SynthesisParams(),
        timer: StageTimer = NULL_TIMER,
    ) -> SynthesisOutput:
        """Ids [1, T], bert [1, 1024, T], ja_bert [1, 768, T] -> waveform and per-token frame counts."""
        device = phones.device
        with timer("text_encoder"):
            g = self.speaker(speaker_id)
            h, m_p, logs_p, x_mask = self.encode_text(phones, tones, languages, bert, ja_bert, g)
        with timer("duration"):
            sdp_noise = noise.normal(1, 2, phones.shape[1]).to(device) * params.noise_scale_w
            logw = self.log_durations(h, x_mask, g, sdp_noise, params.sdp_ratio)
            durations = frame_durations(logw, x_mask, params.length_scale)
        with timer("alignment"):
            m_p, logs_p, y_mask = self.align(m_p, logs_p, x_mask, durations)
        with timer("flow"):
            prior_noise = noise.normal(*m_p.shape).to(device)
            z_p = m_p + prior_noise * torch.exp(logs_p) * params.noise_scale
            z = self.reverse_flow(z_p, y_mask, g)
        with timer("vocoder"):
            audio = self.decode(z, y_mask, g)
        return SynthesisOutput(audio=audio, durations=durations)


def load_melo_synthesizer(config_path, checkpoint_path) -> MeloSynthesizer:
    """Build the synthesizer from an official config + checkpoint (weight norm folded, keys checked)."""
    from openvoice_tt.checkpoints import MELO_TRAINING_ONLY_PREFIXES, fold_weight_norm, load_state, read_state_dict

    folded = fold_weight_norm(read_state_dict(checkpoint_path), source=str(checkpoint_path))
    config = MeloConfig.from_file(config_path).with_table_sizes(folded)
    model = MeloSynthesizer(config)
    load_state(model, folded, str(checkpoint_path), MELO_TRAINING_ONLY_PREFIXES)
    return model.eval()
