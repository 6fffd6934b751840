"""ttnn twin of `reference/converter.py`: tone-color extraction and voice conversion on device.

`embed` and `forward` are pure ttnn. `tone_color` and `convert` are the host boundary: they upload the
waveform's frames (reflect- and zero-padded to its frame bucket, framed on the host), the embeddings,
the posterior noise and the valid frame count, and download one embedding or one waveform (cut to the
valid samples on the host). Both forwards run through `device.traces` (`traced.py`): their op graph
depends on the frame bucket only, so on a chip one trace per bucket is captured and replayed at every
length in it; eager elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import torch

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
from openvoice_tt.tt.settings import ConverterPrecision, TtBuckets
from openvoice_tt.tt.spectrogram import Spectrogram

NAME = "converter"  # prefix of this model's prepared-weight names (models may share a device and cache)


class ToneColorConverter:
    """Frames are padded to `buckets` (and masked) so programs and traces are reused across input lengths."""

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
        self.gin = ref.config.model.gin_channels
        self.hop = d.hop_length
        self.activations = {  # each block's activations dtype: its masks and inputs are made in it
            name: dtype_of(device, getattr(precision, name).activations) for name in ("posterior_encoder", "flow")
        }
        device.weights.save()

    # Pure ttnn ---------------------------------------------------------------------------------------

    def embed(self, wave: Any, valid: Any, padded: int) -> Any:
        """Frame matrix (`Spectrogram.padded_input`) of `padded` frames, `valid` of them real (a device count)
        -> tone-color embedding [1, 1, 1, gin]."""
        spec = self.spectrogram(wave, padded)
        return self.ref_enc(spec, padded, valid, self.buckets.shortest_frames(padded))

    def forward(
        self, wave: Any, valid: Any, src: Any, tgt: Any, noise: Any, padded: int, tau: float,
        timer: StageTimer = NULL_TIMER,
    ) -> Any:  # fmt: skip
        """Frame matrix of `padded` frames, `valid` of them real (a device count), the source and target
        embeddings as speaker rows (`_upload_embedding`) -> converted waveform [1, 1, padded * hop, 1] (the
        host keeps the first valid * hop samples)."""
        ttnn = self.ttnn
        mask = length_mask(self.device, valid, padded, self.activations["posterior_encoder"])
        with timer("spectrogram"):
            spec = self.spectrogram(wave, padded)
        with timer("posterior_encoder"):
            speaker = None if self.zero_g else in_dtype(ttnn, src, self.activations["posterior_encoder"])
            z = self.enc_q(spec, padded, speaker, noise, tau, mask)
        with timer("flow"):
            z, mask = (in_dtype(ttnn, t, self.activations["flow"]) for t in (z, mask))
            z_p = self.flow(z, padded, src, reverse=False, mask=mask)
            z_hat = self.flow(z_p, padded, tgt, reverse=True, mask=mask)
        with timer("vocoder"):
            wave_out, _ = self.dec(z_hat, padded, None if self.zero_g else self._embedding_of(tgt), valid=valid)
        # one untilize program, so the download reads N samples, not N tile rows of 32 (a [N, 1] tile
        # tensor: ~20 ms of host per 10 s on the mock P150, ~0.2 ms row-major)
        return ttnn.to_layout(wave_out, ttnn.ROW_MAJOR_LAYOUT)

    def _embedding_of(self, row: Any) -> Any:
        """The embedding [1, 1, 1, gin] in a speaker row's last columns (`WN.speaker_row`), for the vocoder's
        conditioning (V1 only: V2's zero_g vocoder takes none). One slice, tile-aligned as H = 192 is."""
        width = row.shape[-1]
        return self.ttnn.slice(row, [0, 0, 0, width - self.gin], [1, 1, 1, width])

    # Host boundary -----------------------------------------------------------------------------------

    def _padded_frames(self, samples: int) -> int:
        return self.buckets.frames(self.spectrogram.frames(samples))

    def take_samples(self, samples: int) -> int:
        """Rows of a padded take on the device (`clone.join_on_device`): the frame bucket's samples plus the
        last partial frame's, so every take of a bucket has one shape."""
        return (self._padded_frames(samples) + 1) * self.hop

    def _upload_audio(self, audio: np.ndarray) -> tuple[Any, int]:
        """Host samples -> (the frame matrix of their frame bucket in its input slot, samples)."""
        framed = self.spectrogram.padded_input(audio, self._padded_frames(len(audio)))
        dtype = dtype_of(self.device, self.precision.spectrogram.activations)
        return self.device.upload(framed, dtype, "waveform"), len(audio)

    def _upload_frames(self, samples: int) -> Any:
        return self.device.upload_count(self.spectrogram.frames(samples), "valid_frames")

    def _upload_embedding(self, se: torch.Tensor, name: str) -> Any:
        """A speaker embedding as the row the WaveNets add to their inputs (`WN.speaker_row`: [0..0 | g])."""
        dtype = dtype_of(self.device, self.precision.flow.activations)
        return self.device.upload(self.flow.speaker_row(se), dtype, name)

    def _upload_noise(self, noise: NoiseSource, samples: int) -> Any:
        frames = self.spectrogram.frames(samples)
        padded = self._padded_frames(samples)
        posterior_noise = torch.zeros(1, 1, padded, self.inter_channels)
        posterior_noise[0, 0, :frames] = noise.normal(1, self.inter_channels, frames)[0].t()
        dtype = dtype_of(self.device, self.precision.posterior_encoder.activations)
        return self.device.upload(posterior_noise, dtype, "posterior_noise")

    def tone_color(self, clips: Sequence[np.ndarray], timer: StageTimer = NULL_TIMER) -> torch.Tensor:
        """Mean of the clips' embeddings, averaged on device -> [1, gin, 1]."""
        ttnn, total = self.ttnn, None
        for clip in clips:
            wave, samples = self._upload_audio(clip)
            valid, padded = self._upload_frames(samples), self._padded_frames(samples)
            self.device.use_shape(("converter.reference_encoder", padded))
            with timer("reference_encoder"):
                embed = partial(self.embed, padded=padded)
                embedding = self.device.traces.run("converter.embed", padded, (wave, valid), embed)
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
        """Convert a waveform already on the device (e.g. MeloTTS's): embeddings and noise up, audio down.
        Its padding and framing (eager: they depend on `samples`) count in the spectrogram stage."""
        with timer("spectrogram"):
            wave = self.spectrogram.padded_on_device(wave, samples, self._padded_frames(samples))
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
        padded = self._padded_frames(samples)
        self.device.use_shape(("converter", padded))
        src = self._upload_embedding(source_se, "source_se")
        tgt = self._upload_embedding(target_se, "target_se")
        noise_tt = self._upload_noise(noise, samples)
        valid = self._upload_frames(samples)

        def forward(wave: Any, valid: Any, src: Any, tgt: Any, noise: Any) -> Any:
            return self.forward(wave, valid, src, tgt, noise, padded, tau, timer)

        inputs = (wave, valid, src, tgt, noise_tt)
        out = self.device.traces.run("converter.forward", (padded, tau), inputs, forward)
        length = self.spectrogram.frames(samples) * self.hop  # the valid samples, kept after the read
        return self.device.download(out, "waveform").reshape(-1)[:length].numpy()
