"""OpenVoice V2 tone-color converter (spec §3.2–3.3): embedding extraction and voice conversion.

With `zero_g` (true in V2) the posterior encoder and the decoder get an all-zero speaker vector, so
their conditioning layers still add their biases; speaker identity enters only through the flow
(forward with the source embedding, reverse with the target's).
"""

from __future__ import annotations

import torch
from torch import nn

from openvoice_tt.config import ConverterConfig
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.hifigan import Generator
from openvoice_tt.reference.posterior_encoder import PosteriorEncoder
from openvoice_tt.reference.precision import ConverterTorchPrecision, cast, dtype_of
from openvoice_tt.reference.reference_encoder import ReferenceEncoder
from openvoice_tt.reference.residual_flow import ResidualCouplingBlock
from openvoice_tt.reference.spectrogram import linear_spectrogram
from openvoice_tt.timing import NULL_TIMER, StageTimer


class ToneColorConverterModel(nn.Module):
    def __init__(self, config: ConverterConfig) -> None:
        super().__init__()
        m, spec_channels = config.model, config.data.spec_channels
        self.config = config
        self.dec = Generator(m.inter_channels, config.generator, m.gin_channels)
        self.enc_q = PosteriorEncoder(spec_channels, m.inter_channels, m.hidden_channels, m.gin_channels)
        self.flow = ResidualCouplingBlock(m.inter_channels, m.hidden_channels, m.gin_channels)
        self.ref_enc = ReferenceEncoder(spec_channels, m.gin_channels)
        self.zero_g = m.zero_g
        self.precision = ConverterTorchPrecision.all_fp32()

    def set_precision(self, precision: ConverterTorchPrecision) -> ToneColorConverterModel:
        """Run each block in `precision`'s dtype (weights converted here, once; only from float32). The
        spectrogram and the reference encoder are float32 in every precision."""
        if precision != self.precision and self.precision != ConverterTorchPrecision.all_fp32():
            raise ValueError(f"precision already set to {self.precision}; load the model again to change it")
        self.precision = precision
        self.enc_q.to(dtype_of(precision.posterior_encoder))
        self.flow.to(dtype_of(precision.flow))
        self.dec.to(dtype_of(precision.vocoder))
        return self

    def spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """Waveform [1, N] at the converter rate -> linear spectrogram [1, F, N // hop]."""
        d = self.config.data
        return linear_spectrogram(audio, d.filter_length, d.hop_length, d.win_length)

    @torch.no_grad()
    def tone_color(self, spec: torch.Tensor) -> torch.Tensor:
        """Spectrogram [1, F, T] -> tone-color embedding [1, gin, 1]."""
        return self.ref_enc(spec.transpose(1, 2)).unsqueeze(-1)

    def _speaker_or_zero(self, se: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(se) if self.zero_g else se

    @torch.no_grad()
    def convert(
        self,
        spec: torch.Tensor,
        src_se: torch.Tensor,
        tgt_se: torch.Tensor,
        noise: NoiseSource,
        tau: float,
        timer: StageTimer = NULL_TIMER,
    ) -> torch.Tensor:
        """Spectrogram [1, F, T] + embeddings [1, gin, 1] -> waveform [1, 1, T * hop]."""
        y_mask = torch.ones(1, 1, spec.shape[-1], device=spec.device)
        with timer("posterior_encoder"):
            posterior_noise = noise.normal(1, self.enc_q.out_channels, spec.shape[-1]).to(spec.device)
            z = self.posterior(spec, y_mask, self._speaker_or_zero(src_se), posterior_noise, tau)
        with timer("flow"):
            z_p = self.run_flow(z, y_mask, src_se, reverse=False)
            z_hat = self.run_flow(z_p, y_mask, tgt_se, reverse=True)
        with timer("vocoder"):
            return self.decode(z_hat * y_mask, self._speaker_or_zero(tgt_se))

    # Each block in its precision: inputs cast at its edge, output float32.

    def posterior(self, spec, y_mask, g, noise, tau: float) -> torch.Tensor:
        dtype = dtype_of(self.precision.posterior_encoder)
        return self.enc_q(*cast(dtype, spec, y_mask, g, noise), tau).float()

    def run_flow(self, z, y_mask, g, reverse: bool) -> torch.Tensor:
        return self.flow(*cast(dtype_of(self.precision.flow), z, y_mask, g), reverse=reverse).float()

    def decode(self, z, g) -> torch.Tensor:
        return self.dec(*cast(dtype_of(self.precision.vocoder), z, g)).float()


def load_converter_model(config_path, checkpoint_path) -> ToneColorConverterModel:
    """Build the converter from the official config + checkpoint (weight norm folded, keys checked)."""
    from openvoice_tt.checkpoints import load_weights

    model = ToneColorConverterModel(ConverterConfig.from_file(config_path))
    load_weights(model, checkpoint_path)
    return model.eval()
