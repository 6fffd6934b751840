"""A MeloTTS (base-speaker text-to-speech) `config.json` as a typed, validated view (spec §1.3).

The dataclasses mirror the JSON nesting (`data.*`, `model.*`, top-level keys) so an error can name the
exact field. Table sizes that the checkpoint also encodes (vocabulary, tones, languages, speakers) are
cross-checked against the tensor shapes by `MeloConfig.with_table_sizes`, because a config paired with the
wrong checkpoint otherwise fails deep inside `load_state_dict` with an unhelpful message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openvoice_tt.config.architecture import ENCODER_COND_LAYER_INDEX, ENGLISH_LANGUAGE_ID, ENGLISH_TONE_START
from openvoice_tt.config.parsing import check_value, parse_dataclass, read_json, require
from openvoice_tt.config.sections import AudioConfig, GeneratorConfig, generator_from
from openvoice_tt.errors import ConfigError, name_problem, shown_name

if TYPE_CHECKING:  # only for annotations: importing the configs must stay cheap (CLI --help shows defaults)
    import torch


@dataclass(frozen=True)
class MeloDataConfig(AudioConfig):
    add_blank: bool
    n_speakers: int
    spk2id: Mapping[str, int]
    disable_bert: bool = False

    def validate(self, source: str, prefix: str) -> None:
        super().validate(source, prefix)
        require(self.n_speakers > 0, source, prefix + "n_speakers", "must be positive for a MeloTTS model")
        require(len(self.spk2id) > 0, source, prefix + "spk2id", "must name at least one speaker")
        for name, sid in self.spk2id.items():
            problem = name_problem(name)
            require(
                problem is None,
                source,
                prefix + "spk2id",
                f"has speaker name {shown_name(name)} that is not a plain name ({problem})",
            )
            require(
                0 <= sid < self.n_speakers,
                source,
                f"{prefix}spk2id.{name}",
                f"must be in [0, n_speakers={self.n_speakers}), got {sid}",
            )


@dataclass(frozen=True)
class MeloModelConfig:
    inter_channels: int
    hidden_channels: int
    filter_channels: int
    n_heads: int
    n_layers: int
    n_layers_trans_flow: int
    kernel_size: int
    p_dropout: float
    gin_channels: int
    use_spk_conditioned_encoder: bool = True
    use_transformer_flow: bool = True

    def validate(self, source: str, prefix: str) -> None:
        for name in (
            "inter_channels",
            "hidden_channels",
            "filter_channels",
            "n_heads",
            "n_layers",
            "n_layers_trans_flow",
            "kernel_size",
            "gin_channels",
        ):
            require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        require(self.hidden_channels % self.n_heads == 0, source, prefix + "n_heads", "must divide hidden_channels")
        require(self.inter_channels % 2 == 0, source, prefix + "inter_channels", "must be even (coupling halves)")
        require(
            self.use_transformer_flow,
            source,
            prefix + "use_transformer_flow",
            "must be true (the residual-coupling MeloTTS flow is not supported)",
        )
        require(
            self.n_layers > ENCODER_COND_LAYER_INDEX and self.n_layers_trans_flow > ENCODER_COND_LAYER_INDEX,
            source,
            prefix + "n_layers",
            f"must exceed the speaker-conditioning layer {ENCODER_COND_LAYER_INDEX}",
        )


@dataclass(frozen=True)
class MeloConfig:
    """A MeloTTS `config.json` (spec §1.3)."""

    data: MeloDataConfig
    model: MeloModelConfig
    generator: GeneratorConfig
    symbols: tuple[str, ...]
    num_tones: int
    num_languages: int | None = None
    source: str = "config.json"

    @classmethod
    def from_dict(cls, obj: dict[str, Any], source: str = "config.json") -> MeloConfig:
        for section in ("data", "model"):
            if not isinstance(obj.get(section), dict):
                raise ConfigError(f"{source}: missing field '{section}'")
        data = parse_dataclass(MeloDataConfig, obj["data"], source, prefix="data.")
        model = parse_dataclass(MeloModelConfig, obj["model"], source, prefix="model.")
        generator = generator_from(obj["model"], source)
        if "symbols" not in obj:
            raise ConfigError(f"{source}: missing field 'symbols'")
        symbols = check_value(obj["symbols"], tuple[str, ...], "symbols", source)
        require(len(symbols) > 1 and symbols[0] == "_", source, "symbols", "must start with the pad/blank symbol '_'")
        if "num_tones" not in obj:
            raise ConfigError(f"{source}: missing field 'num_tones'")
        num_tones = check_value(obj["num_tones"], int, "num_tones", source)
        require(num_tones > ENGLISH_TONE_START + 3, source, "num_tones", "is too small for English tones 7..10")
        num_languages = obj.get("num_languages")
        if num_languages is not None:
            num_languages = check_value(num_languages, int, "num_languages", source)
            require(num_languages > ENGLISH_LANGUAGE_ID, source, "num_languages", "is too small for English (id 2)")
        require(
            generator.upsample_factor == data.hop_length,
            source,
            "model.upsample_rates",
            f"must multiply to data.hop_length={data.hop_length}, got {generator.upsample_factor}",
        )
        return cls(
            data=data,
            model=model,
            generator=generator,
            symbols=symbols,
            num_tones=num_tones,
            num_languages=num_languages,
            source=source,
        )

    @classmethod
    def from_file(cls, path: Path) -> MeloConfig:
        return cls.from_dict(read_json(path), source=str(path))

    @property
    def n_vocab(self) -> int:
        return len(self.symbols)

    @property
    def speakers(self) -> Mapping[str, int]:
        return self.data.spk2id

    def with_table_sizes(self, state_dict: Mapping[str, torch.Tensor]) -> MeloConfig:
        """Cross-check table sizes with the checkpoint; fill `num_languages` from it when absent."""
        checks = {
            "symbols": ("enc_p.emb.weight", self.n_vocab, "entries"),
            "num_tones": ("enc_p.tone_emb.weight", self.num_tones, ""),
            "data.n_speakers": ("emb_g.weight", self.data.n_speakers, ""),
        }
        if self.num_languages is not None:
            checks["num_languages"] = ("enc_p.language_emb.weight", self.num_languages, "")
        for where, (key, expected, unit) in checks.items():
            tensor = state_dict.get(key)
            if tensor is None:
                continue  # reported by the key check with every other missing key
            if tensor.shape[0] != expected:
                raise ConfigError(
                    f"{self.source}: field '{where}' gives {expected}{' ' + unit if unit else ''} but the "
                    f"checkpoint's {key} has {tensor.shape[0]} rows (config and checkpoint do not belong together)"
                )
        if self.num_languages is None and "enc_p.language_emb.weight" in state_dict:
            languages = int(state_dict["enc_p.language_emb.weight"].shape[0])
            return replace(self, num_languages=languages)
        return self

    @property
    def languages(self) -> int:
        """Language-table size; only valid after `with_table_sizes` when the config omits it."""
        if self.num_languages is None:
            raise ConfigError(f"{self.source}: 'num_languages' is not set and no checkpoint was given to infer it")
        return self.num_languages
