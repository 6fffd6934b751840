"""The `config.json` sections both networks share: the audio settings and the HiFi-GAN generator.

MeloTTS and the tone-color converter use the same generator class and the same spectrogram fields, so the
same dataclasses (and the same checks) serve both `melo.py` and `converter.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openvoice_tt.config.parsing import parse_dataclass, require


@dataclass(frozen=True)
class AudioConfig:
    """The `data` fields that define the waveform and spectrogram."""

    sampling_rate: int
    filter_length: int
    hop_length: int
    win_length: int

    @property
    def spec_channels(self) -> int:
        return self.filter_length // 2 + 1

    def validate(self, source: str, prefix: str) -> None:
        for name in ("sampling_rate", "filter_length", "hop_length", "win_length"):
            require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        require(self.win_length <= self.filter_length, source, prefix + "win_length", "must be <= filter_length")


@dataclass(frozen=True)
class GeneratorConfig:
    """HiFi-GAN fields of `model` (the same generator class in both networks)."""

    resblock: str
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    upsample_rates: tuple[int, ...]
    upsample_initial_channel: int
    upsample_kernel_sizes: tuple[int, ...]

    @property
    def upsample_factor(self) -> int:
        return math.prod(self.upsample_rates)

    def stage_channels(self, stage: int) -> int:
        """Channels after upsampling stage `stage` (0-based)."""
        return self.upsample_initial_channel // 2 ** (stage + 1)

    def validate(self, source: str, prefix: str) -> None:
        require(self.resblock == "1", source, prefix + "resblock", f'must be "1", got {self.resblock!r}')
        require(
            len(self.resblock_kernel_sizes) == len(self.resblock_dilation_sizes),
            source,
            prefix + "resblock_dilation_sizes",
            "must have one entry per resblock kernel size",
        )
        require(
            len(self.upsample_rates) == len(self.upsample_kernel_sizes) > 0,
            source,
            prefix + "upsample_kernel_sizes",
            "must have one entry per upsample rate",
        )
        for i, (u, k) in enumerate(zip(self.upsample_rates, self.upsample_kernel_sizes, strict=True)):
            require(
                u > 0 and k >= u and (k - u) % 2 == 0,
                source,
                f"{prefix}upsample_kernel_sizes[{i}]",
                f"must be >= the rate {u} and differ from it by an even number (got {k})",
            )
        require(
            self.upsample_initial_channel % 2 ** len(self.upsample_rates) == 0,
            source,
            prefix + "upsample_initial_channel",
            "must be divisible by 2 per upsampling stage",
        )


def generator_from(model: Mapping[str, Any], source: str) -> GeneratorConfig:
    """The generator's fields, which upstream keeps flat inside `model` next to the other model fields."""
    return parse_dataclass(GeneratorConfig, dict(model), source, prefix="model.")
