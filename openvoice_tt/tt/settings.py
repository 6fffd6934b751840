"""How the ttnn path runs: per-block precision and math fidelity, padded length buckets, trace capture.

One frozen-dataclass source of truth for every ttnn setting, next to the code that reads it (as tt-metal's
own model ports keep their model configs inside `tt/`): the tt modules take these objects, the scripts that
measure them (`scripts/tt_precision_report.py`, `scripts/tt_parity_gates.py`) build variants of them, and
nothing below `tt/` needs them (`openvoice_tt.config` holds only what both backends share). Importing this
module is cheap: no ttnn, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """The tone-color converter's blocks on ttnn, each with its own storage types and math config."""

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
    """The MeloTTS synthesizer's blocks on ttnn, each with its own storage types and math config."""

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
class BertPrecision:
    """The prosody BERT's blocks on ttnn (`tt/bert.py`), each with its own storage types and math config.

    The word table is stored bfloat16 whatever `embeddings.weights` says: ttnn.embedding takes only
    bfloat16 tables (TT_FATAL otherwise, seen on the mock N150); the position + token-type table and the
    LayerNorm follow `embeddings`. `expansion` is the word2ph one-hot matmul (tokens -> phones): exact in
    float32 but for the matrix unit's 19-bit operands. Defaults measured on the faithful emulation against
    the host BERT's hidden_states[-3] (README "BERT on the device"): the encoder layers keep float32
    activations with bfloat16 weights at HiFi3 (PCC 0.99999 on a 10-layer BERT-base). bfloat8_b weights at
    HiFi2 measured 0.9998, above the 0.999 floor, but the features feed the text encoder, whose outputs
    decide the ceil()ed durations: with them 1 of 186 tokens got another duration (by one frame), with the
    shipped choice none (full-size checkpoints, a random BERT-base, two sentences)."""

    embeddings: BlockPrecision = FP32
    encoder: BlockPrecision = BlockPrecision("fp32", "bf16")
    expansion: BlockPrecision = FP32

    @classmethod
    def all_fp32(cls) -> BertPrecision:
        return cls(FP32, FP32, FP32)


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
