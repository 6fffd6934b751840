"""ttnn twin of `reference/posterior_encoder.py`: spectrogram frames -> latent z.

The projection to (m, logs) is folded into the WaveNet's skip sum (`WN.head`), and the sample
m + noise * tau * exp(logs) is one `addcmul`, masked once: the noise is zero on padded frames.
"""

from __future__ import annotations

from typing import Any

from openvoice_tt.reference.posterior_encoder import PosteriorEncoder as ReferencePosteriorEncoder
from openvoice_tt.tt.device import TtDevice
from openvoice_tt.tt.layers import Precision, halves, masked
from openvoice_tt.tt.wavenet import WN


class PosteriorEncoder:
    def __init__(
        self, device: TtDevice, ref: ReferencePosteriorEncoder, name: str, precision: Precision, zero_condition: bool
    ) -> None:
        self.ttnn = device.ttnn
        self.out_channels = ref.out_channels
        self.enc = WN(device, ref.enc, f"{name}.enc", precision, zero_condition)
        self.pre = self.enc.projection("pre", ref.pre.weight, ref.pre.bias)  # zeros for any speaker channels
        self.proj = self.enc.head("proj", ref.proj.weight, ref.proj.bias)

    def __call__(
        self, spec: Any, length: int, speaker: Any | None, noise: Any, tau: float, mask: Any | None = None
    ) -> Any:
        """spec [1, 1, T, F], noise [1, 1, T, C] -> z [1, 1, T, C]; `mask` marks the valid frames of a padded T;
        `speaker` the uploaded `WN.speaker_row` (None with zero_condition)."""
        ttnn, c = self.ttnn, self.out_channels
        stats = self.proj(self.enc.features(self.pre(spec), length, mask, speaker))  # the WN masks pre's output
        m, logs = halves(ttnn, stats, length, c)
        return masked(ttnn, ttnn.addcmul(m, noise, ttnn.exp(logs), value=float(tau)), mask)
