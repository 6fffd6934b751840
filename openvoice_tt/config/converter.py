"""The OpenVoice V2 tone-color converter's `config.json` as a typed, validated view (spec §1.1).

Same parsing and shared sections as the MeloTTS config (`melo.py`); the checks here catch the one mix-up
that loads but is wrong: a TTS config given as the converter's (`data.n_speakers` must be 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openvoice_tt.config.parsing import check_value, parse_dataclass, read_json, require
from openvoice_tt.config.sections import AudioConfig, GeneratorConfig, generator_from
from openvoice_tt.errors import ConfigError


@dataclass(frozen=True)
class ConverterDataConfig(AudioConfig):
    n_speakers: int = 0

    def validate(self, source: str, prefix: str) -> None:
        super().validate(source, prefix)
        require(
            self.n_speakers == 0,
            source,
            prefix + "n_speakers",
            f"must be 0 for a tone-color converter (got {self.n_speakers}: is this a TTS config?)",
        )


@dataclass(frozen=True)
class ConverterModelConfig:
    inter_channels: int
    hidden_channels: int
    gin_channels: int
    zero_g: bool = False

    def validate(self, source: str, prefix: str) -> None:
        for name in ("inter_channels", "hidden_channels", "gin_channels"):
            require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        require(self.inter_channels % 2 == 0, source, prefix + "inter_channels", "must be even (coupling halves)")


@dataclass(frozen=True)
class ConverterConfig:
    """The OpenVoice V2 converter `config.json` (spec §1.1)."""

    data: ConverterDataConfig
    model: ConverterModelConfig
    generator: GeneratorConfig
    version: str = "v1"
    source: str = "config.json"

    @classmethod
    def from_dict(cls, obj: dict[str, Any], source: str = "config.json") -> ConverterConfig:
        for section in ("data", "model"):
            if not isinstance(obj.get(section), dict):
                raise ConfigError(f"{source}: missing field '{section}'")
        data = parse_dataclass(ConverterDataConfig, obj["data"], source, prefix="data.")
        model = parse_dataclass(ConverterModelConfig, obj["model"], source, prefix="model.")
        generator = generator_from(obj["model"], source)
        version = check_value(obj.get("_version_", "v1"), str, "_version_", source)
        require(
            generator.upsample_factor == data.hop_length,
            source,
            "model.upsample_rates",
            f"must multiply to data.hop_length={data.hop_length}, got {generator.upsample_factor}",
        )
        return cls(data=data, model=model, generator=generator, version=version, source=source)

    @classmethod
    def from_file(cls, path: Path) -> ConverterConfig:
        return cls.from_dict(read_json(path), source=str(path))
