"""Typed, validated views of the two official `config.json` files, and the inference defaults.

The dataclasses mirror the JSON nesting (`data.*`, `model.*`, top-level keys) so an error can name the
exact field. Table sizes that the checkpoint also encodes (vocabulary, tones, languages, speakers) are
cross-checked against the tensor shapes by `check_table_sizes`, because a config paired with the wrong
checkpoint otherwise fails deep inside `load_state_dict` with an unhelpful message.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from openvoice_tt.errors import ConfigError

if TYPE_CHECKING:  # only for annotations: importing the configs must stay cheap (CLI --help shows defaults)
    import torch

T = TypeVar("T")

# Constants of the English MeloTTS front end and of upstream's inference entry points (spec §3.1, §4.3).
ENGLISH_TONE_START = 7
ENGLISH_LANGUAGE_ID = 2
RELATIVE_ATTENTION_WINDOW = 4
ENCODER_COND_LAYER_INDEX = 2
SDP_FLOWS = 4
SDP_NUM_BINS = 10
SDP_TAIL_BOUND = 5.0
DP_FILTER_CHANNELS = 256
FLOW_KERNEL_SIZE = 5
FLOW_COUPLING_LAYERS = 4
CONVERTER_FLOW_WN_LAYERS = 4
POSTERIOR_WN_LAYERS = 16
POSTERIOR_KERNEL_SIZE = 5
REFERENCE_ENCODER_FILTERS = (32, 32, 64, 64, 128, 128)
REFERENCE_ENCODER_GRU_SIZE = 128
TONE_COLOR_EMBEDDING_SHAPE = (1, 256, 1)


@dataclass(frozen=True)
class SynthesisDefaults:
    """The values `TTS.tts_to_file` passes upstream (not `SynthesizerTrn.infer`'s own defaults)."""

    sdp_ratio: float = 0.2
    noise_scale: float = 0.6
    noise_scale_w: float = 0.8
    speed: float = 1.0
    chunk_silence_seconds: float = 0.05
    max_chunk_chars: int = 256
    # Not upstream's: the first chunk of a text longer than `max_chunk_chars` is packed to at most this many
    # characters (about one sentence of prose), so a stream's first audio waits for one sentence, not for a
    # full chunk (text/split.py). Shorter texts stay one pass, as upstream's are.
    first_chunk_chars: int = 100


@dataclass(frozen=True)
class ConversionDefaults:
    """Upstream `ToneColorConverter.convert` defaults."""

    tau: float = 0.3


MATH_FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")


@dataclass(frozen=True)
class MathConfig:
    """How a block's matrix-unit ops (matmul, linear, conv, and the FPU parts of layer_norm, softmax and
    reductions) compute on the chip: the math fidelity and whether Dst accumulates in float32.

    The matrix unit multiplies 5 bits of SrcA by 7 bits of SrcB per fidelity phase (tt-isa-documentation,
    MVMUL/ELWMUL): LoFi is one phase, HiFi2 adds SrcA's next bits, HiFi3 SrcB's low bits, HiFi4 the
    product of both low parts. HiFi4 with fp32 accumulation is never used: on Wormhole that combination
    hits a hardware bug (tt-metal #38306: outputs occasionally off by a power of two; ttnn warns), fixed
    only on Blackhole. The default HiFi3 drops only the low x low product (under 2^-10 of each product,
    TF32's own step) and serves the blocks that decide durations; the heavy blocks run HiFi2 or LoFi, the
    lowest that holds PCC >= 0.999 (README "Precision per block"). One setting serves both chips, so the
    emulation measures exactly what either runs.
    """

    fidelity: str = "HiFi3"
    fp32_accumulation: bool = True

    def __post_init__(self) -> None:
        if self.fidelity not in MATH_FIDELITIES:
            raise ValueError(f"unknown math fidelity {self.fidelity!r} (choose from {', '.join(MATH_FIDELITIES)})")

    @property
    def wormhole_safe(self) -> bool:
        """False for HiFi4 with fp32 accumulation (tt-metal #38306)."""
        return not (self.fidelity == "HiFi4" and self.fp32_accumulation)


@dataclass(frozen=True)
class BlockPrecision:
    """Storage types of one ttnn block: activations and weights ("fp32", "bf16" or "bfp8"), and the
    math config of its matrix-unit ops.

    Chosen per block by measurement on the faithful emulation: the lowest that keeps PCC >= 0.999 against
    the torch reference (README "Precision per block", `scripts/tt_precision_report.py`).
    """

    activations: str = "fp32"
    weights: str = "bf16"
    math: MathConfig = MathConfig()


# The heavy blocks' candidates, lowest first (README "Precision per block"): bf16 activations halve the
# L1 and DRAM traffic of a HiFi-GAN's long activations, bfloat8_b weights halve the weights again, and LoFi
# is one matrix-unit phase where HiFi2 is two.
LOFI_BFP8 = BlockPrecision("bf16", "bfp8", MathConfig("LoFi"))
HIFI2_BFP8 = BlockPrecision("bf16", "bfp8", MathConfig("HiFi2"))
FP32 = BlockPrecision("fp32", "fp32")


@dataclass(frozen=True)
class ConverterPrecision:
    # The spectrogram (and the 44.1 -> 22.05 kHz resampler that shares its precision) is the exact DFT of
    # the input: 0.3 % of the FLOPs. Each other block takes the lowest candidate that holds PCC >= 0.999.
    spectrogram: BlockPrecision = FP32
    reference_encoder: BlockPrecision = HIFI2_BFP8
    posterior_encoder: BlockPrecision = HIFI2_BFP8
    flow: BlockPrecision = LOFI_BFP8
    vocoder: BlockPrecision = HIFI2_BFP8

    @classmethod
    def all_fp32(cls) -> ConverterPrecision:
        """Weights and activations in float32: the emulation then differs from torch by rounding order only."""
        return cls(FP32, FP32, FP32, FP32, FP32)


@dataclass(frozen=True)
class MeloPrecision:
    # Durations are ceil()ed: an error that moves one token across an integer shifts every later frame, so
    # the blocks that decide durations keep float32 activations and weights (README "Precision per
    # block"); the flow and the vocoder take the lowest candidate that holds PCC >= 0.999.
    text_encoder: BlockPrecision = FP32
    duration: BlockPrecision = FP32
    flow: BlockPrecision = LOFI_BFP8
    vocoder: BlockPrecision = HIFI2_BFP8

    @classmethod
    def all_fp32(cls) -> MeloPrecision:
        """Weights and activations in float32: the emulation then reproduces the reference's durations."""
        return cls(FP32, FP32, FP32, FP32)


@dataclass(frozen=True)
class TtBuckets:
    """Padded lengths on device, so programs (and prepared conv weights) are reused across utterances."""

    token_multiple: int = 64
    frame_multiple: int = 128

    @staticmethod
    def round_up(value: int, multiple: int) -> int:
        return max(multiple, -(-value // multiple) * multiple)

    def tokens(self, count: int) -> int:
        return self.round_up(count, self.token_multiple)

    def frames(self, count: int) -> int:
        return self.round_up(count, self.frame_multiple)

    def shortest_frames(self, padded: int) -> int:
        """The fewest frames that pad to `padded` (the lower end of its bucket)."""
        return padded - self.frame_multiple + 1


@dataclass(frozen=True)
class TraceSettings:
    """ttnn trace capture and replay per length bucket (`tt/traced.py`), with two command queues.

    A forward issues thousands of programs; the host time to dispatch them is most of a clone's time
    (issue 13). A trace records a forward's dispatch commands once and replays them in one call. It runs
    on a chip only: ttnn 0.81.1's mock devices abort in trace capture and in waiting on events, so
    `enabled=None` means on for a chip, off for a mock device and the emulation (whose replay of a
    recorded op list is for tests). Uploads go on `upload_queue`, compute on queue 0; `region_bytes` is
    the device DRAM reserved for traces, `max_traces` how many are kept (least recently used released).
    """

    enabled: bool | None = None
    region_bytes: int = 64 * 1024 * 1024
    max_traces: int = 8
    upload_queue: int = 1

    def active(self, kind: str) -> bool:
        """Whether traces are captured on a device of this kind ("hardware", "mock", "emulation")."""
        return kind == "hardware" if self.enabled is None else self.enabled


@dataclass(frozen=True)
class ConversionChunking:
    """Splitting long conversions so device memory suffices (a mock N150 takes 300 s in one pass, not 600 s).

    Each piece is converted with `context_seconds` of real audio on both sides (more than the converter's
    ~110-frame receptive field) and with its slice of one posterior-noise draw for the whole input, so the
    pieces' cores join without a seam; a short crossfade smooths the last float differences.
    """

    max_seconds: float = 120.0
    context_seconds: float = 3.0
    crossfade_seconds: float = 0.02


@dataclass(frozen=True)
class StreamChunking:
    """Converting a clone while it is being synthesized (`pipeline.SeamJoiner`).

    Every output sample is converted with at least `context_seconds` of real audio on each side: more than
    the converter's ~110-frame receptive field (1.28 s at 22.05 kHz, hop 256), little enough that the first
    audio comes out after the first chunk or two. A `crossfade_seconds` linear fade joins the windows.
    """

    context_seconds: float = 1.5
    crossfade_seconds: float = 0.02

    def samples(self, rate: int, hop: int) -> tuple[int, int]:
        """(context rounded up to whole frames, crossfade) in samples at `rate`."""
        context = -(-int(self.context_seconds * rate) // hop) * hop
        return context, int(self.crossfade_seconds * rate)


# --------------------------------------------------------------------------------------------------
# Generic typed parsing of JSON objects into frozen dataclasses, with field paths in every error.


def _check_value(value: Any, hint: Any, where: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: field '{where}' must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: field '{where}' must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: field '{where}' must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: field '{where}' must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{source}: field '{where}' must be a list, got {value!r}")
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(_check_value(v, item_hint, f"{where}[{i}]", source) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: field '{where}' must be an object, got {value!r}")
        key_hint, value_hint = typing.get_args(hint)
        return types.MappingProxyType(
            {
                _check_value(k, key_hint, where, source): _check_value(v, value_hint, f"{where}.{k}", source)
                for k, v in value.items()
            }
        )
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _check_value(value, args[0], where, source)
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return parse_dataclass(hint, value, source, prefix=f"{where}.")
    raise TypeError(f"unsupported config field type {hint!r}")  # a programming error, not user input


def parse_dataclass(cls: type[T], obj: Any, source: str, prefix: str = "") -> T:
    """Build dataclass `cls` from a JSON object, naming `prefix + field` in any error."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{source}: field '{prefix.rstrip('.') or '<root>'}' must be an object")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if not f.init:
            continue
        key = f.metadata.get("json", f.name)
        where = f"{prefix}{key}"
        if key not in obj:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{source}: missing field '{where}'")
            continue
        kwargs[f.name] = _check_value(obj[key], hints[f.name], where, source)
    instance = cls(**kwargs)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        validate(source, prefix)
    return instance


def _require(condition: bool, source: str, where: str, problem: str) -> None:
    if not condition:
        raise ConfigError(f"{source}: field '{where}' {problem}")


def read_json(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")
    return data


# --------------------------------------------------------------------------------------------------
# Shared sections.


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
            _require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        _require(self.win_length <= self.filter_length, source, prefix + "win_length", "must be <= filter_length")


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
        _require(self.resblock == "1", source, prefix + "resblock", f'must be "1", got {self.resblock!r}')
        _require(
            len(self.resblock_kernel_sizes) == len(self.resblock_dilation_sizes),
            source,
            prefix + "resblock_dilation_sizes",
            "must have one entry per resblock kernel size",
        )
        _require(
            len(self.upsample_rates) == len(self.upsample_kernel_sizes) > 0,
            source,
            prefix + "upsample_kernel_sizes",
            "must have one entry per upsample rate",
        )
        for i, (u, k) in enumerate(zip(self.upsample_rates, self.upsample_kernel_sizes, strict=True)):
            _require(
                u > 0 and k >= u and (k - u) % 2 == 0,
                source,
                f"{prefix}upsample_kernel_sizes[{i}]",
                f"must be >= the rate {u} and differ from it by an even number (got {k})",
            )
        _require(
            self.upsample_initial_channel % 2 ** len(self.upsample_rates) == 0,
            source,
            prefix + "upsample_initial_channel",
            "must be divisible by 2 per upsampling stage",
        )


def _generator_from(model: Mapping[str, Any], source: str) -> GeneratorConfig:
    return parse_dataclass(GeneratorConfig, dict(model), source, prefix="model.")


# --------------------------------------------------------------------------------------------------
# MeloTTS (the base-speaker text-to-speech model).


@dataclass(frozen=True)
class MeloDataConfig(AudioConfig):
    add_blank: bool
    n_speakers: int
    spk2id: Mapping[str, int]
    disable_bert: bool = False

    def validate(self, source: str, prefix: str) -> None:
        super().validate(source, prefix)
        _require(self.n_speakers > 0, source, prefix + "n_speakers", "must be positive for a MeloTTS model")
        _require(len(self.spk2id) > 0, source, prefix + "spk2id", "must name at least one speaker")
        for name, sid in self.spk2id.items():
            _require(
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
            _require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        _require(self.hidden_channels % self.n_heads == 0, source, prefix + "n_heads", "must divide hidden_channels")
        _require(self.inter_channels % 2 == 0, source, prefix + "inter_channels", "must be even (coupling halves)")
        _require(
            self.use_transformer_flow,
            source,
            prefix + "use_transformer_flow",
            "must be true (the residual-coupling MeloTTS flow is not supported)",
        )
        _require(
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
        generator = _generator_from(obj["model"], source)
        if "symbols" not in obj:
            raise ConfigError(f"{source}: missing field 'symbols'")
        symbols = _check_value(obj["symbols"], tuple[str, ...], "symbols", source)
        _require(len(symbols) > 1 and symbols[0] == "_", source, "symbols", "must start with the pad/blank symbol '_'")
        if "num_tones" not in obj:
            raise ConfigError(f"{source}: missing field 'num_tones'")
        num_tones = _check_value(obj["num_tones"], int, "num_tones", source)
        _require(num_tones > ENGLISH_TONE_START + 3, source, "num_tones", "is too small for English tones 7..10")
        num_languages = obj.get("num_languages")
        if num_languages is not None:
            num_languages = _check_value(num_languages, int, "num_languages", source)
            _require(num_languages > ENGLISH_LANGUAGE_ID, source, "num_languages", "is too small for English (id 2)")
        _require(
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


# --------------------------------------------------------------------------------------------------
# OpenVoice V2 tone-color converter.


@dataclass(frozen=True)
class ConverterDataConfig(AudioConfig):
    n_speakers: int = 0

    def validate(self, source: str, prefix: str) -> None:
        super().validate(source, prefix)
        _require(
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
            _require(getattr(self, name) > 0, source, prefix + name, "must be positive")
        _require(self.inter_channels % 2 == 0, source, prefix + "inter_channels", "must be even (coupling halves)")


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
        generator = _generator_from(obj["model"], source)
        version = _check_value(obj.get("_version_", "v1"), str, "_version_", source)
        _require(
            generator.upsample_factor == data.hop_length,
            source,
            "model.upsample_rates",
            f"must multiply to data.hop_length={data.hop_length}, got {generator.upsample_factor}",
        )
        return cls(data=data, model=model, generator=generator, version=version, source=source)

    @classmethod
    def from_file(cls, path: Path) -> ConverterConfig:
        return cls.from_dict(read_json(path), source=str(path))
