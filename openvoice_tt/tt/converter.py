"""ttnn twin of `reference/converter.py`: tone-color extraction and voice conversion on device.

`embed` and `forward` are pure ttnn. `tone_color` and `convert` are the host boundary: they upload the
framed waveform, the embeddings and the posterior noise, and download one embedding or one waveform.
Both forwards run through `device.traces` (`traced.py`): captured and replayed on a chip, eager elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import torch

from openvoice_tt.config import ConverterPrecision, TtBuckets
from openvoice_tt.noise import NoiseSource
from openvoice_tt.reference.converter import ToneColorConverterModel
from openvoice_tt.timing import NULL_TIMER, StageTimer
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.hifigan import Generator
from openvoice_tt.tt.layers import dtype_of, in_dtype, length_mask
from openvoice_tt.tt.posterior_encoder import PosteriorEncoder
from openvoice_tt.tt.reference_encoder import ReferenceEncoder
from openvoice_tt.tt.resample import DecimateByTwo
from openvoice_tt.tt.residual_flow import ResidualCouplingBlock
from openvoice_tt.tt.spectrogram import Spectrogram

NAME = "converter"  # prefix of this model's prepared-weight names (models may share a device and cache)


class ToneColorConverter:
    """Frames are padded to `buckets` (and masked) so programs are reused across input lengths."""

    def __init__(
        self,
        device: TtDevice,
        ref: ToneColorConverterModel,
        precision: ConverterPrecision,
        buckets: TtBuckets = TtBuckets(),
    ) -> None:
        self.device = device
        self.buckets = buckets
        self.ttnn = device.ttnn
        self.config = ref.config
        self.precision = precision
        self.zero_g = ref.zero_g
        d = ref.config.data
        self.spectrogram = Spectrogram(device, d.filter_length, d.hop_length, d.win_length, precision.spectrogram)
        self.ref_enc = ReferenceEncoder(device, ref.ref_enc, f"{NAME}.ref_enc", precision.reference_encoder)
        self.enc_q = PosteriorEncoder(device, ref.enc_q, f"{NAME}.enc_q", precision.posterior_encoder, self.zero_g)
        self.flow = ResidualCouplingBlock(device, ref.flow, f"{NAME}.flow", precision.flow)
        self.dec = Generator(device, ref.dec, f"{NAME}.dec", precision.vocoder, self.zero_g)
        self.decimate = DecimateByTwo(device, precision.spectrogram)  # MeloTTS 44.1 kHz -> 22.05 kHz for clone
        self.inter_channels = ref.enc_q.out_channels
        self.hop = d.hop_length
        self.activations = {  # each block's activations dtype: its masks and inputs are made in it
            name: dtype_of(device, getattr(precision, name).activations) for name in ("posterior_encoder", "flow")
        }
        device.weights.save()

    # Pure ttnn ---------------------------------------------------------------------------------------

    def _padded_rows(self, spec: Any, frames: int, padded: int) -> Any:
        """Spectrogram [1, 1, T, F] -> [1, 1, padded, F] with zero rows (masked downstream): a slice of one
        resident zero block of the bucket's size, so no length within the bucket uploads anything."""
        if padded == frames:
            return spec
        ttnn, width = self.ttnn, spec.shape[-1]
        zeros = self.device.resident.filled((1, 1, padded, width), 0.0, spec.dtype)
        return ttnn.concat([spec, ttnn.slice(zeros, [0, 0, 0, 0], [1, 1, padded - frames, width])], dim=2)

    def embed(self, wave: Any, samples: int) -> Any:
        """Waveform [1, 1, N, 1] -> tone-color embedding [1, 1, 1, gin]."""
        frames = self.spectrogram.frames(samples)
        padded = self.buckets.frames(frames)
        spec = self._padded_rows(self.spectrogram(wave, samples), frames, padded)
        return self.ref_enc(spec, frames, padded)

    def forward(
        self, wave: Any, samples: int, src: Any, tgt: Any, noise: Any, tau: float, timer: StageTimer = NULL_TIMER
    ) -> tuple[Any, int]:
        """Waveform [1, 1, N, 1] at the converter rate -> converted waveform [1, 1, (N // hop) * hop, 1]."""
        ttnn = self.ttnn
        frames = self.spectrogram.frames(samples)
        padded = self.buckets.frames(frames)
        mask = length_mask(self.device, frames, padded, self.activations["posterior_encoder"])
        with timer("spectrogram"):
            spec = self._padded_rows(self.spectrogram(wave, samples), frames, padded)
        with timer("posterior_encoder"):
            z = self.enc_q(spec, padded, None if self.zero_g else src, noise, tau, mask)
        with timer("flow"):
            z, mask = (in_dtype(ttnn, t, self.activations["flow"]) for t in (z, mask))
            z_p = self.flow(z, padded, self.flow.condition(src), reverse=False, mask=mask)
            z_hat = self.flow(z_p, padded, self.flow.condition(tgt), reverse=True, mask=mask)
        with timer("vocoder"):
            wave_out, _ = self.dec(z_hat, padded, None if self.zero_g else tgt, valid=frames)
            if frames < padded:
                wave_out = ttnn.slice(wave_out, [0, 0, 0, 0], [1, 1, frames * self.hop, 1])
            return wave_out, frames * self.hop

    # Host boundary -----------------------------------------------------------------------------------

    def _upload_audio(self, audio: np.ndarray) -> tuple[Any, int]:
        column = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).reshape(1, 1, -1, 1)
        dtype = dtype_of(self.device, self.precision.spectrogram.activations)
        return self.device.upload(column, dtype, "waveform"), len(audio)

    def _upload_embedding(self, se: torch.Tensor, name: str) -> Any:
        dtype = dtype_of(self.device, self.precision.flow.activations)
        return self.device.upload(se.reshape(1, 1, 1, -1), dtype, name)

    def _upload_noise(self, noise: NoiseSource, samples: int) -> Any:
        frames = self.spectrogram.frames(samples)
        padded = self.buckets.frames(frames)
        posterior_noise = torch.zeros(1, 1, padded, self.inter_channels)
        posterior_noise[0, 0, :frames] = noise.normal(1, self.inter_channels, frames)[0].t()
        dtype = dtype_of(self.device, self.precision.posterior_encoder.activations)
        return self.device.upload(posterior_noise, dtype, "posterior_noise")

    def tone_color(self, clips: Sequence[np.ndarray], timer: StageTimer = NULL_TIMER) -> torch.Tensor:
        """Mean of the clips' embeddings, averaged on device -> [1, gin, 1]."""
        ttnn, total = self.ttnn, None
        for clip in clips:
            wave, samples = self._upload_audio(clip)
            self.device.use_shape(
                ("converter.reference_encoder", self.buckets.frames(self.spectrogram.frames(samples)))
            )
            with timer("reference_encoder"):
                embed = partial(self.embed, samples=samples)
                embedding = self.device.traces.run("converter.embed", samples, (wave,), embed)
            if total is None:  # a replayed trace's output is overwritten by its next replay: keep a copy
                total = ttnn.clone(embedding) if self.device.traces.enabled else embedding
            else:
                total = ttnn.add(total, embedding)
        mean = ttnn.multiply(total, 1.0 / len(clips))
        return self.device.download(mean, "embedding").reshape(1, -1, 1)

    def convert(
        self,
        audio: np.ndarray,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray:
        wave, samples = self._upload_audio(audio)
        return self._convert(wave, samples, source_se, target_se, tau, noise, timer)

    def convert_on_device(
        self,
        wave: Any,
        samples: int,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray:
        """Convert a waveform already on the device (e.g. MeloTTS's): embeddings and noise up, audio down."""
        if self.device.traces.enabled:  # a traced forward reads its input from a fixed buffer
            wave = self.device.stage(wave, "take")
        return self._convert(wave, samples, source_se, target_se, tau, noise, timer)

    def _convert(
        self,
        wave: Any,
        samples: int,
        source_se: torch.Tensor,
        target_se: torch.Tensor,
        tau: float,
        noise: NoiseSource,
        timer: StageTimer = NULL_TIMER,
    ) -> np.ndarray:
        self.device.use_shape(("converter", self.buckets.frames(self.spectrogram.frames(samples))))
        src = self._upload_embedding(source_se, "source_se")
        tgt = self._upload_embedding(target_se, "target_se")
        noise_tt = self._upload_noise(noise, samples)

        def forward(wave: Any, src: Any, tgt: Any, noise: Any) -> tuple[Any, int]:
            return self.forward(wave, samples, src, tgt, noise, tau, timer)

        out, length = self.device.traces.run("converter.forward", (samples, tau), (wave, src, tgt, noise_tt), forward)
        return self.device.download(out, "waveform").reshape(-1)[:length].numpy()
